//! `mock`: check a witness against the circuit with halo2's MockProver (no keys, no SRS).

use crate::error::{ProverError, Result};
use crate::keys::circuit_for;
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use ndarray::{ArrayD, IxDyn};
use zkinfer_circuits::public_instances;
use zkinfer_onnx::artifacts::{CompiledModel, Witness};

/// Ok when every constraint holds; otherwise the first failures, one per line.
pub fn mock(c: &CompiledModel, w: &Witness) -> Result<()> {
    let g = &c.graph;
    let inputs: Vec<ArrayD<i64>> = w
        .inputs
        .iter()
        .zip(&g.inputs)
        .map(|(v, &id)| ArrayD::from_shape_vec(IxDyn(&g.values[id].shape), v.clone()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| ProverError::Format("witness inputs do not match the model's input shapes".into()))?;
    let outputs: Vec<ArrayD<i64>> = w
        .outputs
        .iter()
        .zip(&g.outputs)
        .map(|(v, &id)| ArrayD::from_shape_vec(IxDyn(&g.values[id].shape), v.clone()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| ProverError::Format("witness outputs do not match the model's output shapes".into()))?;
    let circuit = circuit_for(c)?.with_witness(inputs.clone(), Fr::zero());
    crate::prove::check_published_outputs(c, &outputs)?;
    let instances = public_instances(g, &circuit.vis, &inputs, &outputs, Fr::zero()).map_err(|e| ProverError::Format(format!("{e}; re-calibrate (calibrate-settings)")))?;
    let k = c.settings.run_args.logrows;
    let prover = MockProver::run(k, &circuit, vec![instances]).map_err(|e| ProverError::Halo2(format!("mock synthesis failed: {e}")))?;
    prover.verify().map_err(|fails| {
        let shown: Vec<String> = fails.iter().take(3).map(|f| format!("{f}")).collect();
        ProverError::Format(format!("{} constraint failure(s): {}", fails.len(), shown.join("; ").replace('\n', " ")))
    })
}
