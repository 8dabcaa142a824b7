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
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use zkinfer_prover::{commitment_hex, ProofArtifact, ProverError, Srs, VerifyingKeyFile};

use crate::claims::{check_claims, public_values, Verdict};

/// Verify `proof` against `vk`. `Err` means the inputs could not be checked at all (malformed
/// files, instance ≥ field modulus, wrong number of public values); `Ok(Verdict { valid: false,
/// .. })` means the proof was checked and rejected: by its claims against the statement the model
/// commitment binds ([`check_claims`]) or by the pairing check.
pub fn verify(proof: &ProofArtifact, vk: &VerifyingKeyFile, srs: &Srs) -> Result<Verdict, ProverError> {
    let st = vk.statement();
    let values = public_values(proof, st)?;
    let bytes = proof.proof_bytes()?;
    let commitment = commitment_hex(&vk.commitment());
    let n = values.len();
    let (instances, claims) = match check_claims(proof, &values, st, &commitment, vk.logrows()) {
        Ok(x) => x,
        Err(reason) => return Ok(Verdict::invalid(reason, &commitment, n, st)),
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
        Ok(true) => Verdict::valid(claims, &commitment, n, st),
        Ok(false) => Verdict::invalid("the pairing check failed".into(), &commitment, n, st),
        Err(e) => Verdict::invalid(format!("{e}"), &commitment, n, st),
    })
}
