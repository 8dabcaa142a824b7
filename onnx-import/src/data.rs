//! EZKL-compatible input data: `{"input_data": [[...], ...]}`, one flat row-major list of floats
//! per model input. A list may hold `k` times the input's element count, meaning `k` samples.

use crate::error::{Error, Result};
use crate::ir::Graph;
use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InputData {
    pub input_data: Vec<Vec<f64>>,
}

/// One model evaluation: one array per model input.
pub type Sample = Vec<ArrayD<f32>>;

impl InputData {
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Format(format!("{}: not an input file of the form {{\"input_data\": [[...]]}}: {e}", path.display()))
        })
    }

    /// Split into samples matching the graph's inputs (shape and count checked).
    pub fn samples(&self, graph: &Graph) -> Result<Vec<Sample>> {
        if self.input_data.len() != graph.inputs.len() {
            return Err(Error::InputShape {
                name: "input_data".into(),
                reason: format!("the model has {} inputs but input_data holds {} lists", graph.inputs.len(), self.input_data.len()),
            });
        }
        let mut k = None;
        for (list, &id) in self.input_data.iter().zip(&graph.inputs) {
            let v = graph.value(id);
            let n: usize = v.shape.iter().product();
            if list.is_empty() || n == 0 || list.len() % n != 0 {
                return Err(Error::InputShape {
                    name: v.name.clone(),
                    reason: format!("expected {n} values (shape {:?}) per sample, got {}", v.shape, list.len()),
                });
            }
            if let Some(x) = list.iter().find(|x| !x.is_finite()) {
                return Err(Error::InputShape { name: v.name.clone(), reason: format!("value {x} is not finite") });
            }
            if v.dtype == crate::tensor::DType::I64 {
                // Integer (or boolean) model inputs: integers that f32 holds exactly.
                if let Some(x) = list.iter().find(|x| x.fract() != 0.0 || x.abs() > (1u64 << 24) as f64) {
                    return Err(Error::InputShape {
                        name: v.name.clone(),
                        reason: format!("is an integer input; got {x} (integers of magnitude at most 2^24 are accepted)"),
                    });
                }
            }
            let ki = list.len() / n;
            match k {
                None => k = Some(ki),
                Some(k0) if k0 != ki => {
                    return Err(Error::InputShape {
                        name: v.name.clone(),
                        reason: format!("holds {ki} samples but the first input holds {k0}"),
                    })
                }
                _ => {}
            }
        }
        let k = k.unwrap_or(0);
        Ok((0..k)
            .map(|s| {
                self.input_data
                    .iter()
                    .zip(&graph.inputs)
                    .map(|(list, &id)| {
                        let shape = &graph.value(id).shape;
                        let n: usize = shape.iter().product();
                        let data = list[s * n..(s + 1) * n].iter().map(|&x| x as f32).collect();
                        ArrayD::from_shape_vec(IxDyn(shape), data).expect("sizes agree")
                    })
                    .collect()
            })
            .collect())
    }

    /// Exactly one sample (for witness generation).
    pub fn single(&self, graph: &Graph) -> Result<Sample> {
        let mut s = self.samples(graph)?;
        if s.len() != 1 {
            return Err(Error::InputShape {
                name: "input_data".into(),
                reason: format!("expected exactly one sample, got {}", s.len()),
            });
        }
        Ok(s.remove(0))
    }
}

#[cfg(test)]
mod tests {
    use super::InputData;

    #[test]
    fn an_integer_input_refuses_a_fraction() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/ops_int_inputs");
        let g = crate::load(format!("{path}/model.onnx")).unwrap();
        let mut d = InputData::load(format!("{path}/input.json")).unwrap();
        assert_eq!(d.samples(&g).unwrap().len(), 4);
        d.input_data[0][3] = 2.5;
        let e = d.samples(&g).unwrap_err().to_string();
        assert!(e.contains("ids") && e.contains("integer input") && e.contains("2.5"), "{e}");
    }
}
