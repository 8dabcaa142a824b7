//! # zkinfer
//!
//! Zero-knowledge proofs of ML inference: ONNX model → quantized fixed-point graph → Halo2 circuit
//! (KZG on BN254) → proof → native and EVM verifiers. This crate is the facade over the pipeline
//! crates and the home of the `zkinfer` CLI; every CLI command is one call here.
//!
//! What works today: import, quantization, calibration, compilation to a quantized graph and
//! witness generation. Circuits, proving and verification land in the next stages.
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
//! # Ok(()) }
//! ```

pub mod inspect;

pub use zkinfer_onnx as onnx;
pub use zkinfer_onnx::artifacts::{CompiledModel, Witness};
pub use zkinfer_onnx::data::InputData;
pub use zkinfer_onnx::ir::Graph;
pub use zkinfer_onnx::quant::calibrate::{CalibrationReport, Target};
pub use zkinfer_onnx::settings::{RunArgs, Settings, Visibility};
pub use zkinfer_onnx::{Error, Result};

use zkinfer_onnx::quant::calibrate;
use std::path::Path;

/// Import an ONNX model (shapes inferred, constants and BatchNorm folded).
pub fn load_model(path: impl AsRef<Path>) -> Result<Graph> {
    zkinfer_onnx::load(path)
}

/// Settings for a model: `run_args` as given, except that `logrows` is raised if the estimated
/// circuit does not fit.
pub fn gen_settings(model: &Graph, mut run_args: RunArgs) -> Result<Settings> {
    run_args.validate()?;
    let q = zkinfer_onnx::quant::quantize(model, &run_args.quant_params())?;
    let rows = calibrate::estimate_rows(&q, run_args.num_inner_cols);
    let (lo, hi) = run_args.lookup_range;
    let bits = calibrate::range_bits(lo, hi);
    run_args.logrows = run_args.logrows.max(calibrate::logrows_for(rows, bits));
    Settings::for_graph(model, run_args)
}

/// Choose scales, lookup range and logrows from sample inputs (visibilities are kept).
pub fn calibrate_settings(model: &Graph, data: &InputData, settings: &Settings, target: Target) -> Result<Settings> {
    settings.check_graph(model)?;
    let samples = data.samples(model)?;
    let (run_args, report) = calibrate::calibrate(model, &samples, target, &settings.run_args)?;
    let mut s = Settings::for_graph(model, run_args)?;
    s.calibration = Some(report);
    Ok(s)
}

/// Quantize the model under the settings.
pub fn compile(model: &Graph, settings: &Settings) -> Result<CompiledModel> {
    CompiledModel::compile(model, settings)
}

/// Run the integer reference executor on one input and return the witness.
pub fn gen_witness(compiled: &CompiledModel, data: &InputData) -> Result<Witness> {
    compiled.witness(data)
}
