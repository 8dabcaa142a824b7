//! Helpers for tests over the committed models in `models/`.
#![allow(dead_code)]

use serde::Deserialize;
use std::path::PathBuf;

pub fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models")
}

/// Every committed model directory (those with an expected.json).
pub fn model_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(models_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The ONNX-breadth models in `models/breadth/` (comparisons, ai.onnx.ml tabular models), as
/// `breadth/<name>`. They live apart so the whole-pipeline tests over `models/*` (CLI, EVM) do
/// not take them in yet.
pub fn breadth_names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(models_dir().join("breadth"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").exists())
        .map(|e| format!("breadth/{}", e.file_name().to_string_lossy()))
        .collect();
    v.sort();
    v
}

#[derive(Deserialize)]
pub struct Expected {
    pub samples: usize,
    /// One flat list per output, samples back to back.
    pub outputs: Vec<Vec<f64>>,
    pub output_shapes: Vec<Vec<usize>>,
}

pub fn expected(name: &str) -> Expected {
    let p = models_dir().join(name).join("expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// The expected values of output `o` for sample `s`.
pub fn expected_sample(e: &Expected, o: usize, s: usize) -> &[f64] {
    let n = e.outputs[o].len() / e.samples;
    &e.outputs[o][s * n..(s + 1) * n]
}
