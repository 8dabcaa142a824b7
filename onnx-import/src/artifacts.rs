//! Versioned files shared by the CLI, the prover and the verifier that involve no proof system:
//! the compiled model (`model.compiled`) and the witness (`witness.json`).

use crate::data::InputData;
use crate::error::{Error, Result};
use crate::ir::Graph;
use crate::quant::exec::{self, RangeMode};
use crate::quant::{quantize, QGraph};
use crate::settings::{write_json_atomic, Settings};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Current version of `model.compiled`.
pub const COMPILED_VERSION: u32 = 1;
/// Current version of `witness.json`.
pub const WITNESS_VERSION: u32 = 1;

/// A quantized model with the settings it was compiled under.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompiledModel {
    pub version: u32,
    pub settings: Settings,
    pub graph: QGraph,
}

impl CompiledModel {
    /// Quantize `g` under `settings` (whose shapes must match the graph).
    pub fn compile(g: &Graph, settings: &Settings) -> Result<CompiledModel> {
        settings.check_graph(g)?;
        settings.run_args.validate()?;
        let graph = quantize(g, &settings.run_args.quant_params())?;
        Ok(CompiledModel { version: COMPILED_VERSION, settings: settings.clone(), graph })
    }

    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_json_atomic(path.as_ref(), self)
    }

    pub fn load(path: impl AsRef<Path>) -> Result<CompiledModel> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::Format(format!("{}: not a compiled model (not JSON: {e})", path.display())))?;
        match v.get("version").and_then(|v| v.as_u64()) {
            Some(x) if x == COMPILED_VERSION as u64 => {}
            Some(x) => return Err(Error::Format(format!("{}: compiled model version {x}, this zkinfer reads {COMPILED_VERSION}; re-run compile-circuit", path.display()))),
            None => return Err(Error::Format(format!("{}: not a compiled model (no version)", path.display()))),
        }
        serde_json::from_value(v).map_err(|e| Error::Format(format!("{}: corrupt compiled model: {e}", path.display())))
    }

    /// Run the integer reference executor on one sample and package the witness.
    pub fn witness(&self, data: &InputData) -> Result<Witness> {
        let q = &self.graph;
        // Validate the data against the compiled shapes (no float graph needed).
        if data.input_data.len() != q.inputs.len() {
            return Err(Error::InputShape {
                name: "input_data".into(),
                reason: format!("the model has {} inputs but input_data holds {} lists", q.inputs.len(), data.input_data.len()),
            });
        }
        let mut sample = Vec::new();
        for (list, &id) in data.input_data.iter().zip(&q.inputs) {
            let v = &q.values[id];
            let n: usize = v.shape.iter().product();
            if list.len() != n {
                return Err(Error::InputShape {
                    name: v.name.clone(),
                    reason: format!("expected {n} values (shape {:?}), got {}", v.shape, list.len()),
                });
            }
            if let Some(x) = list.iter().find(|x| !x.is_finite()) {
                return Err(Error::InputShape { name: v.name.clone(), reason: format!("value {x} is not finite") });
            }
            sample.push(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&v.shape), list.iter().map(|&x| x as f32).collect()).expect("sizes agree"));
        }
        let qi = exec::quantize_inputs(q, &sample)?;
        self.witness_of(qi)
    }

    /// The witness of already quantized inputs (one flat row-major list per model input), e.g.
    /// the public input values of a market request.
    pub fn witness_from_quantized(&self, inputs: &[Vec<i64>]) -> Result<Witness> {
        let q = &self.graph;
        if inputs.len() != q.inputs.len() {
            return Err(Error::InputShape { name: "inputs".into(), reason: format!("the model has {} inputs, {} given", q.inputs.len(), inputs.len()) });
        }
        let mut qi = Vec::new();
        for (list, &id) in inputs.iter().zip(&q.inputs) {
            let v = &q.values[id];
            let n: usize = v.shape.iter().product();
            if list.len() != n {
                return Err(Error::InputShape { name: v.name.clone(), reason: format!("expected {n} values (shape {:?}), got {}", v.shape, list.len()) });
            }
            qi.push(ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&v.shape), list.clone()).expect("sizes agree"));
        }
        self.witness_of(qi)
    }

    fn witness_of(&self, qi: Vec<ndarray::ArrayD<i64>>) -> Result<Witness> {
        let q = &self.graph;
        let ex = exec::run(q, &qi, RangeMode::Enforce)?;
        let flat = |a: &ndarray::ArrayD<i64>| a.iter().copied().collect::<Vec<_>>();
        Ok(Witness {
            version: WITNESS_VERSION,
            inputs: qi.iter().map(flat).collect(),
            outputs: ex.outputs.iter().map(flat).collect(),
            rescaled_outputs: exec::dequantize_outputs(q, &ex.outputs).iter().map(|a| a.iter().copied().collect()).collect(),
            input_scales: q.input_scales(),
            output_scales: q.output_scales(),
            max_abs_range_checked: ex.max_abs_checked,
        })
    }
}

/// Quantized inputs and outputs of one inference, as the circuit will see them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Witness {
    pub version: u32,
    /// Quantized inputs, one flat row-major list per model input.
    pub inputs: Vec<Vec<i64>>,
    /// Quantized outputs, one flat list per model output.
    pub outputs: Vec<Vec<i64>>,
    /// Outputs dequantized to floats (`output / 2^scale`).
    pub rescaled_outputs: Vec<Vec<f64>>,
    pub input_scales: Vec<u32>,
    pub output_scales: Vec<u32>,
    /// Largest |value| among range-checked values (must be within the lookup range).
    pub max_abs_range_checked: i64,
}

impl Witness {
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_json_atomic(path.as_ref(), self)
    }
    pub fn load(path: impl AsRef<Path>) -> Result<Witness> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let w: Witness = serde_json::from_str(&text).map_err(|e| Error::Format(format!("{}: not a witness file: {e}", path.display())))?;
        if w.version != WITNESS_VERSION {
            return Err(Error::Format(format!("{}: witness version {}, this zkinfer reads {WITNESS_VERSION}", path.display(), w.version)));
        }
        Ok(w)
    }
}
