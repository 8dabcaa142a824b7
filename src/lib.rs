//! # zkinfer
//!
//! Zero-knowledge proofs of ML inference: ONNX model → quantized fixed-point graph → Halo2 circuit
//! (KZG on BN254) → proof → native and EVM verifiers. This crate is the facade over the pipeline
//! crates and the home of the `zkinfer` CLI; every CLI command is one call here.
//!
//! Pipeline: [`load_model`] → [`gen_settings`] / [`calibrate_settings`] → [`compile`] →
//! [`gen_witness`] → [`setup`] (keys) → [`prove`] → [`verify`] (native). EVM verification comes
//! next.
//!
//! ```
//! use zkinfer::{InputData, RunArgs, Target};
//! # fn main() -> zkinfer::Result<()> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits_mlp");
//! let model = zkinfer::load_model(format!("{dir}/model.onnx"))?;
//! let data = InputData::load(format!("{dir}/input.json"))?;          // 16 samples
//! let settings = zkinfer::gen_settings(&model, RunArgs::default())?;
//! let settings = zkinfer::calibrate_settings(&model, &data, &settings, Target::Resources)?;
//! let compiled = zkinfer::compile(&model, &settings)?;
//! let one = InputData { input_data: vec![data.input_data[0][..64].to_vec()] };
//! let witness = zkinfer::gen_witness(&compiled, &one)?;
//! assert_eq!(witness.rescaled_outputs[0].len(), 10);                 // ten digit logits
//!
//! let srs = zkinfer::prover::gen_srs(compiled.settings.run_args.logrows); // insecure, dev only
//! let (pk, vk) = zkinfer::setup(&compiled, &srs)?;
//! let proof = zkinfer::prove(&compiled, &witness, &pk, &srs, zkinfer::Binding::zero())?;
//! assert!(zkinfer::verify(&proof, &vk, &srs)?.valid);
//! assert_eq!(proof.outputs, witness.outputs);                         // outputs are public
//! # Ok(()) }
//! ```

pub mod inspect;

pub use zkinfer_onnx as onnx;
pub use zkinfer_onnx::artifacts::{CompiledModel, Witness};
pub use zkinfer_onnx::data::InputData;
pub use zkinfer_onnx::ir::Graph;
pub use zkinfer_onnx::quant::calibrate::{CalibrationReport, Target};
pub use zkinfer_onnx::settings::{RunArgs, Settings, Visibility};
pub use zkinfer_prover as prover;
pub use zkinfer_verifier as verifier;
pub use zkinfer_prover::{ProofArtifact, ProvingKeyFile, Srs, VerifyingKeyFile};
pub use zkinfer_verifier::Verdict;

/// The binding public input (a BN254 scalar field element).
pub type Binding = halo2_proofs::halo2curves::bn256::Fr;

use std::path::Path;
use zkinfer_onnx::quant::calibrate;

/// Everything that can go wrong in the pipeline; each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Model(#[from] zkinfer_onnx::Error),
    #[error(transparent)]
    Proof(#[from] zkinfer_prover::ProverError),
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::CircuitError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Import an ONNX model (shapes inferred, constants and BatchNorm folded).
pub fn load_model(path: impl AsRef<Path>) -> Result<Graph> {
    Ok(zkinfer_onnx::load(path)?)
}

/// Settings for a model: `run_args` as given, with `logrows` raised to what the circuit needs
/// (counted exactly when the model can be proven, estimated otherwise).
pub fn gen_settings(model: &Graph, run_args: RunArgs) -> Result<Settings> {
    run_args.validate()?;
    let floor = run_args.logrows;
    let mut s = Settings::for_graph(model, run_args)?;
    fit_logrows(model, &mut s, floor)?;
    Ok(s)
}

/// Set `logrows` to `max(floor, rows needed)`: the exact circuit size when the model can be
/// proven, the cost-model estimate otherwise.
fn fit_logrows(model: &Graph, s: &mut Settings, floor: u32) -> Result<()> {
    let q = zkinfer_onnx::quant::quantize(model, &s.run_args.quant_params())?;
    let (lo, hi) = s.run_args.lookup_range;
    let estimate = calibrate::logrows_for(calibrate::estimate_rows(&q, s.run_args.num_inner_cols), calibrate::range_bits(lo, hi));
    let compiled = CompiledModel { version: zkinfer_onnx::artifacts::COMPILED_VERSION, settings: s.clone(), graph: q };
    let need = match zkinfer_prover::circuit_for(&compiled) {
        Ok(circuit) => {
            let halo = |e: halo2_proofs::plonk::Error| zkinfer_prover::ProverError::Halo2(e.to_string());
            let (k, rows) = zkinfer_circuits::required_logrows(&circuit).map_err(halo)?;
            s.num_rows = rows;
            k
        }
        Err(_) => estimate,
    };
    s.run_args.logrows = floor.max(need);
    Ok(())
}

pub use calibrate::ONE_LANE_LOGROWS;

/// Choose scales, lookup range, logrows and layout from sample inputs (visibilities are kept;
/// lanes, limbs and table sizes are chosen by estimated proving cost, then refined on the real
/// circuit; `num_inner_cols` is lowered to 1 when one lane needs no larger `logrows`, or at most
/// [`ONE_LANE_LOGROWS`]).
pub fn calibrate_settings(model: &Graph, data: &InputData, settings: &Settings, target: Target) -> Result<Settings> {
    calibrate_settings_with(model, data, settings, target, calibrate::DEFAULT_TOLERANCE, calibrate::MAX_SCALE)
}

/// Replace `s` by the candidate `t` when `t`'s exact circuit ([`fit_logrows`]) is cheaper by
/// [`layout_cost`], then has fewer rows.
fn keep_cheaper(model: &Graph, s: &mut Settings, mut t: Settings) -> Result<()> {
    fit_logrows(model, &mut t, 4)?;
    if (layout_cost(&t), t.num_rows) < (layout_cost(s), s.num_rows) {
        *s = t;
    }
    Ok(())
}

/// Estimated proving cost of settings ([`calibrate::prove_cost`]) on their exact logrows.
fn layout_cost(s: &Settings) -> f64 {
    let ra = &s.run_args;
    let poseidon = [ra.input_visibility, ra.param_visibility, ra.output_visibility].contains(&Visibility::Hashed);
    calibrate::prove_cost(ra.logrows, &calibrate::layout_columns(ra.num_inner_cols, ra.param_visibility == Visibility::Fixed, poseidon, ra.range_bits > 0, ra.dot_groups))
}

/// [`calibrate_settings`] keeping every output within `tolerance` (a fraction of its largest
/// magnitude) for `resources`, over scales `1..=max_scale`. The calibrator's layout is refined
/// on the real circuit: neighbouring limb widths (`k ± 2`; 8, 10 and 12 bits when it has none)
/// and every lane count of [`calibrate::LANES`], the
/// cheapest by [`calibrate::prove_cost`] at the exact logrows, then fewest rows.
pub fn calibrate_settings_with(model: &Graph, data: &InputData, settings: &Settings, target: Target, tolerance: f64, max_scale: u32) -> Result<Settings> {
    settings.check_graph(model)?;
    let samples = data.samples(model)?;
    let (run_args, report) = calibrate::calibrate_with(model, &samples, target, &settings.run_args, tolerance, max_scale)?;
    let mut s = Settings::for_graph(model, run_args)?;
    s.calibration = Some(report);
    fit_logrows(model, &mut s, 4)?;
    let (k, lanes) = (s.run_args.range_bits, s.run_args.num_inner_cols);
    // Without limbs, limbs are tried too: the estimate can miss that they pay once lanes shrink
    // the rows (function tables, if any, still span the range, which the real count includes).
    let widths: Vec<u32> = if k == 0 { vec![0, 8, 10, 12] } else { (k.saturating_sub(2)..=k + 2).filter(|j| calibrate::LIMB_BITS.contains(j)).collect() };
    let lane_counts = calibrate::LANES;
    for l in lane_counts {
        for &j in &widths {
            if (l, j) == (lanes, k) {
                continue;
            }
            let mut t = s.clone();
            t.run_args.range_bits = j;
            t.run_args.num_inner_cols = l;
            keep_cheaper(model, &mut s, t)?;
        }
    }
    // Dot groups (gate `mdot`) for layers whose outputs share their inputs, at the chosen limbs.
    if s.run_args.param_visibility == Visibility::Fixed {
        let base = s.clone();
        for l in lane_counts {
            for g in calibrate::DOT_GROUPS {
                let mut t = base.clone();
                t.run_args.num_inner_cols = l;
                t.run_args.dot_groups = g;
                keep_cheaper(model, &mut s, t)?;
            }
        }
    }
    // One lane when it needs no more rows (log2), or when the circuit stays small anyway: fewer
    // columns make a smaller proof and a cheaper verifier (fewer commitments, ~6,500 EVM gas
    // each), and a prover no slower at the same circuit size.
    if s.run_args.num_inner_cols > 1 {
        let mut one = s.clone();
        one.run_args.num_inner_cols = 1;
        one.run_args.dot_groups = 0;
        fit_logrows(model, &mut one, 4)?;
        if one.run_args.logrows <= s.run_args.logrows.max(ONE_LANE_LOGROWS) {
            tracing::info!("one lane fits in 2^{} rows: using num_inner_cols 1", one.run_args.logrows);
            s = one;
        }
    }
    Ok(s)
}

/// Quantize the model under the settings and check the circuit can prove it: an op or
/// visibility the circuit does not support is an error here, and `logrows` is raised if the
/// circuit needs more rows than the settings give.
pub fn compile(model: &Graph, settings: &Settings) -> Result<CompiledModel> {
    let mut c = CompiledModel::compile(model, settings)?;
    let circuit = zkinfer_prover::circuit_for(&c)?;
    let (k, _) = zkinfer_circuits::required_logrows(&circuit).map_err(|e| zkinfer_prover::ProverError::Halo2(e.to_string()))?;
    if k > c.settings.run_args.logrows {
        tracing::warn!("the circuit needs logrows {k} (settings had {}); using {k}", c.settings.run_args.logrows);
        c.settings.run_args.logrows = k;
    }
    Ok(c)
}

/// Run the integer reference executor on one input and return the witness.
pub fn gen_witness(compiled: &CompiledModel, data: &InputData) -> Result<Witness> {
    Ok(compiled.witness(data)?)
}

/// Check a witness against the circuit with halo2's MockProver.
pub fn mock(compiled: &CompiledModel, witness: &Witness) -> Result<()> {
    Ok(zkinfer_prover::mock(compiled, witness)?)
}

/// Proving and verifying keys for a compiled model.
pub fn setup(compiled: &CompiledModel, srs: &Srs) -> Result<(ProvingKeyFile, VerifyingKeyFile)> {
    Ok(zkinfer_prover::setup(compiled, srs)?)
}

/// Prove one inference (the witness's inputs, with `binding` as the binding public input).
pub fn prove(compiled: &CompiledModel, witness: &Witness, pk: &ProvingKeyFile, srs: &Srs, binding: Binding) -> Result<ProofArtifact> {
    Ok(zkinfer_prover::prove(compiled, witness, pk, srs, binding)?)
}

/// Verify a proof natively.
pub fn verify(proof: &ProofArtifact, vk: &VerifyingKeyFile, srs: &Srs) -> Result<Verdict> {
    Ok(zkinfer_verifier::verify(proof, vk, srs)?)
}
