//! The operator's and the client's side of one request: the input segment a client puts in a
//! request, and the witness an operator proves for it — from the request's public input values,
//! or from the private input a client handed over, checked against the request's input hash.

use crate::{MarketError, Result};
use alloy::primitives::U256;
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_circuits::{public_values, InstancePacking, Visibilities};
use zkinfer_onnx::artifacts::{CompiledModel, Witness};
use zkinfer_onnx::data::InputData;
use zkinfer_onnx::settings::Visibility;

fn visibilities(c: &CompiledModel) -> Visibilities {
    let ra = &c.settings.run_args;
    Visibilities { input: ra.input_visibility, param: ra.param_visibility, output: ra.output_visibility }
}

fn fmt(e: impl std::fmt::Display) -> MarketError {
    MarketError::Format(e.to_string())
}

/// The input segment of a witness's public values: the quantized input values (public input)
/// or the Poseidon hash of each input (hashed input).
pub fn input_segment(c: &CompiledModel, w: &Witness) -> Result<Vec<U256>> {
    let g = &c.graph;
    let arrays = |lists: &[Vec<i64>], ids: &[usize]| -> Vec<ndarray::ArrayD<i64>> {
        lists.iter().zip(ids).map(|(l, &id)| ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&g.values[id].shape), l.clone()).expect("witness shapes")).collect()
    };
    let vis = visibilities(c);
    let values = public_values(g, &vis, &arrays(&w.inputs, &g.inputs), &arrays(&w.outputs, &g.outputs), Fr::zero());
    let (out, _) = crate::layout::split_packed(&InstancePacking::new(g, &vis), &values)?;
    if out.is_empty() {
        return Err(MarketError::Format("the model's input is private: a market request needs a public or hashed input".into()));
    }
    Ok(out)
}

/// What a client puts in a request for `data` (EZKL input JSON): the quantized input values, or
/// their Poseidon hash for a hashed input.
pub fn request_inputs(c: &CompiledModel, data: &InputData) -> Result<Vec<U256>> {
    input_segment(c, &c.witness(data).map_err(fmt)?)
}

/// A `uint256` public value back to the integer it encodes (`p − |v|` for negatives).
fn to_i64(v: &U256) -> Result<i64> {
    let f = crate::layout::field(v)?;
    zkinfer_circuits::field::to_i64(&f).ok_or_else(|| MarketError::Format(format!("request input {v} is not a small integer")))
}

/// The witness answering a request whose input segment is `onchain`: rebuilt from the public
/// input values, or computed from `private` (the client's input, hashed input) after checking
/// that its hash is the request's — a mismatch is refused before any proving.
pub fn witness_for_request(c: &CompiledModel, onchain: &[U256], private: Option<&InputData>) -> Result<Witness> {
    let w = match (c.settings.run_args.input_visibility, private) {
        (Visibility::Public, _) => {
            let g = &c.graph;
            let mut lists = vec![];
            let mut at = 0;
            for &id in &g.inputs {
                let n: usize = g.values[id].shape.iter().product();
                let seg = onchain.get(at..at + n).ok_or_else(|| MarketError::Format(format!("the request carries {} input values, the model takes more", onchain.len())))?;
                lists.push(seg.iter().map(to_i64).collect::<Result<Vec<i64>>>()?);
                at += n;
            }
            c.witness_from_quantized(&lists).map_err(fmt)?
        }
        (Visibility::Hashed, Some(data)) => c.witness(data).map_err(fmt)?,
        (Visibility::Hashed, None) => return Err(MarketError::Format("the model's input is hashed: the client's private input is needed (-D input.json)".into())),
        (v, _) => return Err(MarketError::Format(format!("a market request cannot have a {v:?} input"))),
    };
    let mine = input_segment(c, &w)?;
    if mine != onchain {
        return Err(MarketError::Format(if c.settings.run_args.input_visibility == Visibility::Hashed {
            "the input does not hash to the request's input hash (wrong input, or another model's quantization)".to_string()
        } else {
            "the request's input values do not match the model's input".to_string()
        }));
    }
    Ok(w)
}
