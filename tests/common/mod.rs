//! Shared set-up of the root crate's integration tests: a bundled model calibrated (target
//! `resources`), compiled, with the witness of its first committed sample.
#![allow(dead_code)]

use std::path::PathBuf;
use zkinfer::{CompiledModel, InputData, RunArgs, Target, Witness};

pub fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Calibrate and compile `models/<name>` under `ra`, and generate the witness of sample 0.
pub fn compiled_with_witness(name: &str, ra: RunArgs) -> (CompiledModel, Witness) {
    let dir = models().join(name);
    let model = zkinfer::load_model(dir.join("model.onnx")).unwrap();
    let data = InputData::load(dir.join("input.json")).unwrap();
    let settings = zkinfer::gen_settings(&model, ra).unwrap();
    let settings = zkinfer::calibrate_settings(&model, &data, &settings, Target::Resources).unwrap();
    let compiled = zkinfer::compile(&model, &settings).unwrap();
    let first: Vec<Vec<f64>> = data.samples(&model).unwrap()[0].iter().map(|a| a.iter().map(|&v| v as f64).collect()).collect();
    let witness = zkinfer::gen_witness(&compiled, &InputData { input_data: first }).unwrap();
    (compiled, witness)
}
