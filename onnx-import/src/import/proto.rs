//! Decoding of ONNX protobuf messages (prost types generated from the vendored `onnx.proto`) and
//! conversion of `TensorProto` into [`Tensor`].

#[allow(clippy::all, missing_docs)]
pub mod onnx {
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}

use crate::error::{Error, Result};
use crate::tensor::{array_from, Tensor};
use onnx::tensor_proto::DataType;

fn le_chunks<const N: usize>(raw: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    raw.chunks_exact(N).map(|c| c.try_into().expect("chunk size"))
}

/// Convert an ONNX tensor (inline data only) into a [`Tensor`]. Floating types become f32,
/// integer and boolean types become i64.
pub fn tensor_from_proto(t: &onnx::TensorProto) -> Result<Tensor> {
    let name = t.name.clone().unwrap_or_default();
    if t.data_location == Some(onnx::tensor_proto::DataLocation::External as i32) {
        return Err(Error::Malformed(format!(
            "tensor `{name}` stores its data in an external file; re-export the model with the weights embedded"
        )));
    }
    let shape: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| Error::Malformed(format!("tensor `{name}` has negative dim {d}"))))
        .collect::<Result<_>>()?;
    let n: usize = shape.iter().product();
    let raw = t.raw_data.as_deref().unwrap_or(&[]);
    let dt = t.data_type.unwrap_or(0);
    let dtype = DataType::try_from(dt).map_err(|_| Error::Malformed(format!("tensor `{name}` has unknown data type {dt}")))?;
    let bad_len = |got: usize| Error::Malformed(format!("tensor `{name}` of shape {shape:?} holds {got} values"));
    let tensor = match dtype {
        DataType::Float => {
            let v: Vec<f32> = if !raw.is_empty() { le_chunks::<4>(raw).map(f32::from_le_bytes).collect() } else { t.float_data.clone() };
            if v.len() != n {
                return Err(bad_len(v.len()));
            }
            Tensor::F32(array_from(&shape, v))
        }
        DataType::Double => {
            let v: Vec<f32> = if !raw.is_empty() {
                le_chunks::<8>(raw).map(|b| f64::from_le_bytes(b) as f32).collect()
            } else {
                t.double_data.iter().map(|&d| d as f32).collect()
            };
            if v.len() != n {
                return Err(bad_len(v.len()));
            }
            Tensor::F32(array_from(&shape, v))
        }
        DataType::Int64 => {
            let v: Vec<i64> = if !raw.is_empty() { le_chunks::<8>(raw).map(i64::from_le_bytes).collect() } else { t.int64_data.clone() };
            if v.len() != n {
                return Err(bad_len(v.len()));
            }
            Tensor::I64(array_from(&shape, v))
        }
        DataType::Int32 | DataType::Int16 | DataType::Int8 | DataType::Uint8 | DataType::Uint16 | DataType::Bool => {
            let v: Vec<i64> = if !raw.is_empty() {
                match dtype {
                    DataType::Int32 => le_chunks::<4>(raw).map(|b| i32::from_le_bytes(b) as i64).collect(),
                    DataType::Int16 => le_chunks::<2>(raw).map(|b| i16::from_le_bytes(b) as i64).collect(),
                    DataType::Uint16 => le_chunks::<2>(raw).map(|b| u16::from_le_bytes(b) as i64).collect(),
                    DataType::Int8 => raw.iter().map(|&b| b as i8 as i64).collect(),
                    _ => raw.iter().map(|&b| b as i64).collect(),
                }
            } else {
                t.int32_data.iter().map(|&d| d as i64).collect()
            };
            if v.len() != n {
                return Err(bad_len(v.len()));
            }
            Tensor::I64(array_from(&shape, v))
        }
        other => {
            return Err(Error::Malformed(format!(
                "tensor `{name}` has data type {} which zkinfer does not support (use float32)",
                other.as_str_name()
            )))
        }
    };
    Ok(tensor)
}
