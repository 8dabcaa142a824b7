//! # zkinfer-verifier
//!
//! Native verification of zkinfer proofs: SHPLONK/KZG over BN254 with the Keccak transcript the
//! EVM verifier replays. The proof's public values are packed into the instance column as the
//! circuit packs them (see `zkinfer_circuits::instances`).

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
use halo2_proofs::plonk::verify_proof;
use halo2_proofs::poly::commitment::ParamsProver;
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::VerifierSHPLONK;
use halo2_proofs::poly::kzg::strategy::AccumulatorStrategy;
use halo2_proofs::poly::VerificationStrategy;
use halo2_proofs::transcript::TranscriptReadBuffer;
use serde::Serialize;
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use zkinfer_prover::{ProofArtifact, ProverError, Srs, VerifyingKeyFile};

/// The outcome of a verification that could be carried out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    pub valid: bool,
    /// Why the proof is invalid (absent when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub model_commitment: String,
    pub num_instances: usize,
}

/// Verify `proof` against `vk`. `Err` means the inputs could not be checked at all (malformed
/// files, instance ≥ field modulus, wrong instance count); `Ok(Verdict { valid: false, .. })`
/// means the proof was checked and rejected.
pub fn verify(proof: &ProofArtifact, vk: &VerifyingKeyFile, srs: &Srs) -> Result<Verdict, ProverError> {
    let values = proof.instances()?;
    let bytes = proof.proof_bytes()?;
    let packing = &vk.header.packing;
    if values.len() != packing.num_values() {
        return Err(ProverError::Format(format!("the proof carries {} public values but the verifying key expects {}", values.len(), packing.num_values())));
    }
    let commitment = format!("0x{}", hex_encode(&vk.commitment(vk.header.params_hash_instance.map(|i| &values[i]))));
    let reject = |reason: String| Verdict { valid: false, reason: Some(reason), model_commitment: commitment.clone(), num_instances: values.len() };
    if proof.model_commitment != commitment {
        return Ok(reject(format!("the proof claims model commitment {} but the verifying key's is {commitment}", proof.model_commitment)));
    }
    let instances = match packing.pack(&values) {
        Ok(i) => i,
        Err(e) => return Ok(reject(e.to_string())),
    };
    let mut transcript = EvmTranscript::<G1Affine, _, _, _>::init(bytes.as_slice());
    let vp = srs.verifier_params();
    let res = verify_proof::<KZGCommitmentScheme<Bn256>, VerifierSHPLONK<'_, Bn256>, _, _, _>(
        vp,
        &vk.key,
        AccumulatorStrategy::new(vp),
        &[&[&instances]],
        &mut transcript,
    );
    Ok(match res.map(VerificationStrategy::<_, VerifierSHPLONK<'_, Bn256>>::finalize) {
        Ok(true) => Verdict { valid: true, reason: None, model_commitment: commitment.clone(), num_instances: values.len() },
        Ok(false) => reject("the pairing check failed".into()),
        Err(e) => reject(format!("{e}")),
    })
}

fn hex_encode(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
