//! Verifier artifacts (`vka.json`, experimental format version 0): the first step toward the
//! reusable verifier.
//!
//! Today every model gets its own generated Solidity verifier with the verifying key compiled into
//! its code. The reusable design deploys **one** verifier contract that interprets a per-model
//! artifact registered by its digest, so a new model needs no new contract and big circuits are not
//! stopped by the 24,576-byte code limit. This module defines that artifact and a native verifier
//! that works from the artifact alone (no halo2 verifying key, no SRS file), which pins down what
//! the on-chain interpreter will need:
//!
//! * the verification protocol of the circuit (snark-verifier's `PlonkProtocol`: domain, fixed and
//!   permutation commitments, the query set, the quotient numerator as one expression over queried
//!   evaluations, challenges and Lagrange polynomials, the transcript's initial state);
//! * the KZG deciding key (`[1]₁`, `[1]₂`, `[s]₂` of the SRS);
//! * how public values are packed into instances, and the model commitment it belongs to.
//!
//! The digest registers the artifact: `keccak256` of its canonical JSON. Not done yet: the binary
//! encoding the Solidity interpreter will read, and the interpreter itself.

use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::poly::commitment::ParamsProver;
use serde::{Deserialize, Serialize};
use snark_verifier::pcs::kzg::{Bdfg21, KzgAs, KzgDecidingKey};
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier::system::halo2::{compile, Config};
use snark_verifier::util::arithmetic::Domain;
use snark_verifier::verifier::plonk::{PlonkProtocol, PlonkVerifier};
use snark_verifier::verifier::SnarkVerifier;
use std::path::Path;
use zkinfer_circuits::InstancePacking;
use zkinfer_prover::{ProofArtifact, ProverError, Srs, VerifyingKeyFile};

type Shplonk = KzgAs<Bn256, Bdfg21>;

/// Format version of `vka.json`.
pub const VKA_VERSION: u32 = 0;

/// Everything needed to verify a model's proofs, without code specific to the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifierArtifact {
    pub version: u32,
    /// The model commitment of the verifying key this artifact was made from.
    pub model_commitment: String,
    pub logrows: u32,
    /// Public values → instances (see `zkinfer_circuits::instances`).
    pub packing: InstancePacking,
    /// Index, among the public values, of the params' Poseidon hash (hashed params only).
    pub params_hash_instance: Option<usize>,
    pub protocol: PlonkProtocol<G1Affine>,
    pub deciding_key: KzgDecidingKey<Bn256>,
}

fn format_err(msg: String) -> ProverError {
    ProverError::Format(msg)
}

impl VerifierArtifact {
    /// The artifact of a verifying key (and the SRS it was made with).
    pub fn new(vk: &VerifyingKeyFile, srs: &Srs) -> VerifierArtifact {
        let protocol = compile(srs, &vk.key, Config::kzg().with_num_instance(vec![vk.header.num_instances]));
        let deciding_key = (srs.get_g()[0], srs.g2(), srs.s_g2()).into();
        let commitment = vk.commitment(None);
        VerifierArtifact {
            version: VKA_VERSION,
            // With hashed params the full commitment also needs a proof's params hash; the
            // artifact records the verifying-key part.
            model_commitment: format!("0x{}", hex::encode(commitment)),
            logrows: vk.header.logrows,
            packing: vk.header.packing.clone(),
            params_hash_instance: vk.header.params_hash_instance,
            protocol,
            deciding_key,
        }
    }

    /// `keccak256` of the artifact's canonical JSON, the key it is registered under.
    pub fn digest(&self) -> [u8; 32] {
        use sha3::Digest;
        sha3::Keccak256::digest(serde_json::to_vec(self).expect("serializable")).into()
    }

    pub fn save(&self, path: &Path) -> Result<(), ProverError> {
        zkinfer_onnx::settings::write_json_atomic(path, self)?;
        Ok(())
    }

    pub fn load(path: &Path) -> Result<VerifierArtifact, ProverError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProverError::io(path, e))?;
        let a: VerifierArtifact = serde_json::from_str(&text).map_err(|e| format_err(format!("{}: not a zkinfer verifier artifact: {e}", path.display())))?;
        if a.version != VKA_VERSION {
            return Err(format_err(format!("{}: verifier artifact version {}, this zkinfer reads {VKA_VERSION}", path.display(), a.version)));
        }
        let d: &Domain<Fr> = &a.protocol.domain;
        if d.k as u32 != a.logrows || a.protocol.num_instance != vec![a.packing.num_instances()] {
            return Err(format_err(format!("{}: inconsistent verifier artifact (domain, instances)", path.display())));
        }
        Ok(a)
    }

    /// Verify `proof` from this artifact alone. `Err` when the proof cannot be checked (wrong
    /// number of public values, malformed proof file); `Ok(false)` when it is rejected.
    pub fn verify(&self, proof: &ProofArtifact) -> Result<bool, ProverError> {
        let values = proof.instances()?;
        if values.len() != self.packing.num_values() {
            return Err(format_err(format!("the proof carries {} public values but the artifact expects {}", values.len(), self.packing.num_values())));
        }
        if self.params_hash_instance.is_none() && proof.model_commitment != self.model_commitment {
            return Ok(false);
        }
        let Ok(instances) = self.packing.pack(&values) else { return Ok(false) };
        let bytes = proof.proof_bytes()?;
        let mut transcript = EvmTranscript::<G1Affine, snark_verifier::loader::native::NativeLoader, _, _>::new(bytes.as_slice());
        let instances = vec![instances];
        let Ok(p) = PlonkVerifier::<Shplonk>::read_proof(&self.deciding_key, &self.protocol, &instances, &mut transcript) else { return Ok(false) };
        Ok(PlonkVerifier::<Shplonk>::verify(&self.deciding_key, &self.protocol, &instances, &p).is_ok())
    }
}
