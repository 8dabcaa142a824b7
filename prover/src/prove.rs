//! Proving: witness → instances → SHPLONK proof over the Keccak (EVM) transcript.

use crate::artifacts::{fr_to_hex, ProofArtifact, PROOF_VERSION};
use crate::error::{ProverError, Result};
use crate::keys::{circuit_for, ProvingKeyFile};
use crate::statement::commitment_hex;
use crate::Srs;
use halo2_proofs::halo2curves::bn256::{Bn256, Fr, G1Affine};
use halo2_proofs::plonk::create_proof;
use halo2_proofs::poly::kzg::commitment::KZGCommitmentScheme;
use halo2_proofs::poly::kzg::multiopen::ProverSHPLONK;
use halo2_proofs::transcript::TranscriptWriterBuffer;
use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use zkinfer_circuits::public_values;
use zkinfer_onnx::settings::Visibility;
use zkinfer_onnx::artifacts::{CompiledModel, Witness};
use zkinfer_onnx::quant::exec::{self, RangeMode};

/// Prove one inference. The witness's outputs are re-derived from its inputs with the reference
/// executor and must match (a stale or edited witness is refused rather than proven).
pub fn prove(c: &CompiledModel, w: &Witness, pk: &ProvingKeyFile, srs: &Srs, binding: Fr) -> Result<ProofArtifact> {
    pk.check_model(c)?;
    let g = &c.graph;
    if w.inputs.len() != g.inputs.len() {
        return Err(ProverError::Format(format!("witness has {} inputs, the model {}", w.inputs.len(), g.inputs.len())));
    }
    let mut inputs = Vec::new();
    for (v, &id) in w.inputs.iter().zip(&g.inputs) {
        let shape = &g.values[id].shape;
        let n: usize = shape.iter().product();
        if v.len() != n {
            return Err(ProverError::Format(format!("witness input `{}` has {} values, expected {n}", g.values[id].name, v.len())));
        }
        inputs.push(ArrayD::from_shape_vec(IxDyn(shape), v.clone()).expect("sizes agree"));
    }
    let ex = exec::run(g, &inputs, RangeMode::Enforce)?;
    let outs: Vec<Vec<i64>> = ex.outputs.iter().map(|a| a.iter().copied().collect()).collect();
    if outs != w.outputs {
        return Err(ProverError::Format("the witness outputs do not follow from its inputs under this compiled model; re-run gen-witness".into()));
    }
    check_published_outputs(c, &ex.outputs)?;
    let circuit = circuit_for(c)?.with_witness(inputs.clone(), binding);
    let values = public_values(g, &circuit.vis, &inputs, &ex.outputs, binding);
    let instances = pk.header.statement.packing.pack(&values).map_err(|e| ProverError::Format(format!("{e}; re-calibrate (calibrate-settings)")))?;
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message("proving");
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut transcript = EvmTranscript::<G1Affine, _, _, _>::init(Vec::new());
    create_proof::<KZGCommitmentScheme<Bn256>, ProverSHPLONK<'_, Bn256>, _, _, _, _>(
        srs,
        &pk.key,
        &[circuit],
        &[&[&instances]],
        rand_chacha::ChaCha20Rng::from_entropy(),
        &mut transcript,
    )
    .map_err(|e| ProverError::Halo2(format!("proving failed: {e}")))?;
    let proof = transcript.finalize();
    pb.finish_and_clear();
    // Only public outputs travel with the proof; private and hashed ones stay with the prover.
    let public_out = c.settings.run_args.output_visibility == zkinfer_onnx::settings::Visibility::Public;
    let (outs, rescaled) = if public_out {
        (outs, exec::dequantize_outputs(g, &ex.outputs).iter().map(|a| a.iter().copied().collect()).collect())
    } else {
        (vec![], vec![])
    };
    Ok(ProofArtifact {
        version: PROOF_VERSION,
        instances: values.iter().map(fr_to_hex).collect(),
        proof: format!("0x{}", hex::encode(&proof)),
        binding: fr_to_hex(&binding),
        outputs: outs,
        rescaled_outputs: rescaled,
        model_commitment: commitment_hex(&pk.commitment()),
        logrows: c.settings.run_args.logrows,
    })
}


/// Public and hashed outputs are packed, so every value must lie in the lookup range.
pub(crate) fn check_published_outputs(c: &CompiledModel, outputs: &[ArrayD<i64>]) -> Result<()> {
    let vis = c.settings.run_args.output_visibility;
    if !matches!(vis, Visibility::Public | Visibility::Hashed) {
        return Ok(());
    }
    let (lo, hi) = c.graph.params.lookup_range;
    match outputs.iter().flat_map(|a| a.iter()).find(|&&v| v < lo || v > hi) {
        Some(v) => Err(ProverError::Format(format!(
            "output value {v} is outside the lookup range [{lo}, {hi}], which {} outputs must lie in; re-calibrate (calibrate-settings)",
            if vis == Visibility::Public { "public" } else { "hashed" }
        ))),
        None => Ok(()),
    }
}
