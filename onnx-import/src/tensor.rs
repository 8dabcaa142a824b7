//! Tensors as they flow through the float executor and constant folding: `f32` data or `i64`
//! data (shapes, indices, ArgMax results), both n-dimensional ndarray arrays.

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

/// A static shape. zkinfer fixes every dimension at import time (symbolic dims become 1).
pub type Shape = Vec<usize>;

/// Element type of a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DType {
    F32,
    I64,
}

/// A float or integer tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Tensor {
    F32(ArrayD<f32>),
    I64(ArrayD<i64>),
}

impl Tensor {
    pub fn shape(&self) -> &[usize] {
        match self {
            Tensor::F32(a) => a.shape(),
            Tensor::I64(a) => a.shape(),
        }
    }
    pub fn dtype(&self) -> DType {
        match self {
            Tensor::F32(_) => DType::F32,
            Tensor::I64(_) => DType::I64,
        }
    }
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn zeros(dtype: DType, shape: &[usize]) -> Tensor {
        match dtype {
            DType::F32 => Tensor::F32(ArrayD::zeros(IxDyn(shape))),
            DType::I64 => Tensor::I64(ArrayD::zeros(IxDyn(shape))),
        }
    }
    /// The tensor as floats (integers converted).
    pub fn to_f32(&self) -> ArrayD<f32> {
        match self {
            Tensor::F32(a) => a.clone(),
            Tensor::I64(a) => a.mapv(|v| v as f32),
        }
    }
    /// The tensor as integers; floats must be integral (used for shape-like inputs).
    pub fn to_i64(&self) -> Option<ArrayD<i64>> {
        match self {
            Tensor::I64(a) => Some(a.clone()),
            Tensor::F32(a) => {
                if a.iter().all(|v| v.fract() == 0.0 && v.is_finite()) {
                    Some(a.mapv(|v| v as i64))
                } else {
                    None
                }
            }
        }
    }
    /// Flat values as f64, in row-major order.
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Tensor::F32(a) => a.iter().map(|&v| v as f64).collect(),
            Tensor::I64(a) => a.iter().map(|&v| v as f64).collect(),
        }
    }
}

/// Build a row-major array from a shape and flat data (lengths must agree).
pub fn array_from<T>(shape: &[usize], data: Vec<T>) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("shape and data length agree")
}
