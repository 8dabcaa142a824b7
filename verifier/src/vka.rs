//! Verifier artifacts (`vka.json`, experimental format version 1): the first step toward the
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
//! * the [`Statement`] (how public values are read and packed, the expected params hash) and the
//!   model commitment of the verifying key it was made from.
//!
//! The digest registers the artifact: `keccak256` of its canonical JSON, which covers every field
//! verification reads. What `verify-vka` trusts is therefore the digest: the artifact is
//! derived deterministically from the verifying key and the SRS, so anyone holding the key can
//! regenerate it (`create-evm-vka`) and compare digests, and the commitment recorded in it is
//! the key's ([`VerifierArtifact::new`] computes it; a proof claiming another is rejected).
//! Not done yet: the binary encoding the Solidity interpreter will read, and the interpreter.

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
use zkinfer_prover::{commitment_hex, ProofArtifact, ProverError, Srs, Statement, VerifyingKeyFile};

use crate::claims::{check_claims, public_values, Verdict};

type Shplonk = KzgAs<Bn256, Bdfg21>;

/// Format version of `vka.json` (1: the statement replaces the bare packing).
pub const VKA_VERSION: u32 = 1;

/// Everything needed to verify a model's proofs, without code specific to the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VerifierArtifact {
    pub version: u32,
    /// The model commitment of the verifying key and statement this artifact was made from.
    pub model_commitment: String,
    pub logrows: u32,
    /// How public values are read and packed, and the params hash (bound by the commitment).
    pub statement: Statement,
    pub protocol: PlonkProtocol<G1Affine>,
    pub deciding_key: KzgDecidingKey<Bn256>,
}

fn format_err(msg: String) -> ProverError {
    ProverError::Format(msg)
}

impl VerifierArtifact {
    /// The artifact of a verifying key (and the SRS it was made with).
    pub fn new(vk: &VerifyingKeyFile, srs: &Srs) -> VerifierArtifact {
        let st = vk.statement();
        let protocol = compile(srs, &vk.key, Config::kzg().with_num_instance(vec![st.packing.num_instances()]));
        let deciding_key = (srs.get_g()[0], srs.g2(), srs.s_g2()).into();
        VerifierArtifact {
            version: VKA_VERSION,
            model_commitment: commitment_hex(&vk.commitment()),
            logrows: vk.logrows(),
            statement: st.clone(),
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
        a.statement.validate().map_err(|e| format_err(format!("{}: {e}", path.display())))?;
        if d.k as u32 != a.logrows || a.protocol.num_instance != vec![a.statement.packing.num_instances()] {
            return Err(format_err(format!("{}: inconsistent verifier artifact (domain, instances)", path.display())));
        }
        Ok(a)
    }

    /// Verify `proof` from this artifact alone, with the same claim checks as the native verifier
    /// ([`check_claims`]). `Err` when the proof cannot be checked (wrong number of public values,
    /// malformed proof file); an invalid verdict when it is rejected.
    pub fn verify(&self, proof: &ProofArtifact) -> Result<Verdict, ProverError> {
        let st = &self.statement;
        let values = public_values(proof, st)?;
        let n = values.len();
        let (instances, claims) = match check_claims(proof, &values, st, &self.model_commitment, self.logrows) {
            Ok(x) => x,
            Err(reason) => return Ok(Verdict::invalid(reason, &self.model_commitment, n, st)),
        };
        let bytes = proof.proof_bytes()?;
        let mut transcript = EvmTranscript::<G1Affine, snark_verifier::loader::native::NativeLoader, _, _>::new(bytes.as_slice());
        let instances = vec![instances];
        let reject = |why: String| Ok(Verdict::invalid(why, &self.model_commitment, n, st));
        let p = match PlonkVerifier::<Shplonk>::read_proof(&self.deciding_key, &self.protocol, &instances, &mut transcript) {
            Ok(p) => p,
            Err(e) => return reject(format!("malformed proof: {e:?}")),
        };
        match PlonkVerifier::<Shplonk>::verify(&self.deciding_key, &self.protocol, &instances, &p) {
            Ok(_) => Ok(Verdict::valid(claims, &self.model_commitment, n, st)),
            Err(e) => reject(format!("the proof is rejected: {e:?}")),
        }
    }
}
