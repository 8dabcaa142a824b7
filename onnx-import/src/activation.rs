//! The real-valued elementwise nonlinear functions, defined once. The float executor evaluates
//! them directly; the integer executor evaluates them through a lookup table built from the same
//! definition (see `quant::lookup`).

use crate::ir::Op;
use serde::{Deserialize, Serialize};

/// An elementwise function `f: R -> R` applied by table lookup in the quantized model.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    LeakyRelu { alpha: f32 },
    Elu { alpha: f32 },
    Selu { alpha: f32, gamma: f32 },
    Softplus,
    Sigmoid,
    Tanh,
    Exp,
    /// `sqrt(max(x, 0))`: negative inputs (only reachable through quantization noise) map to 0.
    Sqrt,
    Pow { exponent: f32 },
    Erf,
    Gelu { tanh: bool },
    /// `1 / sqrt(max(x, 0) + eps)`, used by the normalisation layers.
    Rsqrt { eps: f32 },
    /// `ln(x)` for `x > 0`, used by LogSoftmax (never evaluated at `x <= 0` there).
    Ln,
    // The elementwise ops of `crate::ops::unary` (ONNX definitions).
    Sin,
    Cos,
    Atan,
    Sinh,
    Cosh,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `max(0, min(1, alpha·x + beta))`.
    HardSigmoid { alpha: f32, beta: f32 },
    /// `x · max(0, min(1, x/6 + 1/2))`.
    HardSwish,
    /// `max(0, x) + min(0, alpha·(exp(x/alpha) − 1))`.
    Celu { alpha: f32 },
    /// `x · tanh(softplus(x))`.
    Mish,
    /// `x` where `x > alpha`, else 0.
    ThresholdedRelu { alpha: f32 },
    /// `x + bias` where `x < −lambd`, `x − bias` where `x > lambd`, else 0.
    Shrink { bias: f32, lambd: f32 },
    Floor,
    Ceil,
    /// Round half to even.
    Round,
    /// `asin`, `acos` (NaN outside `[−1, 1]`, where the table holds 0), `asinh`, `acosh` (NaN
    /// below 1), `atanh` (±∞ at ±1, saturated in the table; finite on the quantized grid inside).
    Asin,
    Acos,
    Asinh,
    Acosh,
    Atanh,
}

impl Activation {
    /// The activation an IR op applies elementwise, if it is one of them.
    pub fn of_op(op: &Op) -> Option<Activation> {
        Some(match *op {
            Op::LeakyRelu { alpha } => Activation::LeakyRelu { alpha },
            Op::Elu { alpha } => Activation::Elu { alpha },
            Op::Selu { alpha, gamma } => Activation::Selu { alpha, gamma },
            Op::Softplus => Activation::Softplus,
            Op::Sigmoid => Activation::Sigmoid,
            Op::Tanh => Activation::Tanh,
            Op::Exp => Activation::Exp,
            Op::Sqrt => Activation::Sqrt,
            Op::Pow { exponent } => Activation::Pow { exponent },
            Op::Erf => Activation::Erf,
            Op::Gelu { tanh } => Activation::Gelu { tanh },
            Op::Unary(act) => act,
            _ => return None,
        })
    }

    /// `f(x)` in f64.
    pub fn eval(&self, x: f64) -> f64 {
        match *self {
            Activation::LeakyRelu { alpha } => {
                if x >= 0.0 { x } else { alpha as f64 * x }
            }
            Activation::Elu { alpha } => {
                if x > 0.0 { x } else { alpha as f64 * libm::expm1(x) }
            }
            Activation::Selu { alpha, gamma } => {
                gamma as f64 * if x > 0.0 { x } else { alpha as f64 * libm::expm1(x) }
            }
            Activation::Softplus => x.max(0.0) + libm::log1p((-x.abs()).exp()),
            Activation::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Activation::Tanh => x.tanh(),
            Activation::Exp => x.exp(),
            Activation::Sqrt => x.max(0.0).sqrt(),
            Activation::Pow { exponent } => x.powf(exponent as f64),
            Activation::Erf => libm::erf(x),
            Activation::Gelu { tanh: false } => 0.5 * x * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)),
            Activation::Gelu { tanh: true } => {
                let c = (2.0 / std::f64::consts::PI).sqrt();
                0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
            }
            Activation::Rsqrt { eps } => 1.0 / (x.max(0.0) + eps as f64).sqrt(),
            Activation::Ln => x.ln(),
            Activation::Sin => x.sin(),
            Activation::Cos => x.cos(),
            Activation::Atan => x.atan(),
            Activation::Sinh => x.sinh(),
            Activation::Cosh => x.cosh(),
            Activation::Softsign => x / (1.0 + x.abs()),
            Activation::HardSigmoid { alpha, beta } => (alpha as f64 * x + beta as f64).clamp(0.0, 1.0),
            Activation::HardSwish => x * (x / 6.0 + 0.5).clamp(0.0, 1.0),
            Activation::Celu { alpha } => {
                let a = alpha as f64;
                x.max(0.0) + (a * libm::expm1(x / a)).min(0.0)
            }
            Activation::Mish => x * (x.max(0.0) + libm::log1p((-x.abs()).exp())).tanh(),
            Activation::ThresholdedRelu { alpha } => {
                if x > alpha as f64 { x } else { 0.0 }
            }
            Activation::Shrink { bias, lambd } => {
                let (b, l) = (bias as f64, lambd as f64);
                if x < -l { x + b } else if x > l { x - b } else { 0.0 }
            }
            Activation::Floor => x.floor(),
            Activation::Ceil => x.ceil(),
            Activation::Round => x.round_ties_even(),
            Activation::Asin => x.asin(),
            Activation::Acos => x.acos(),
            Activation::Asinh => x.asinh(),
            Activation::Acosh => x.acosh(),
            Activation::Atanh => x.atanh(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Activation::LeakyRelu { .. } => "LeakyRelu",
            Activation::Elu { .. } => "Elu",
            Activation::Selu { .. } => "Selu",
            Activation::Softplus => "Softplus",
            Activation::Sigmoid => "Sigmoid",
            Activation::Tanh => "Tanh",
            Activation::Exp => "Exp",
            Activation::Sqrt => "Sqrt",
            Activation::Pow { .. } => "Pow",
            Activation::Erf => "Erf",
            Activation::Gelu { .. } => "Gelu",
            Activation::Rsqrt { .. } => "Rsqrt",
            Activation::Ln => "Ln",
            Activation::Sin => "Sin",
            Activation::Cos => "Cos",
            Activation::Atan => "Atan",
            Activation::Sinh => "Sinh",
            Activation::Cosh => "Cosh",
            Activation::Softsign => "Softsign",
            Activation::HardSigmoid { .. } => "HardSigmoid",
            Activation::HardSwish => "HardSwish",
            Activation::Celu { .. } => "Celu",
            Activation::Mish => "Mish",
            Activation::ThresholdedRelu { .. } => "ThresholdedRelu",
            Activation::Shrink { .. } => "Shrink",
            Activation::Floor => "Floor",
            Activation::Ceil => "Ceil",
            Activation::Round => "Round",
            Activation::Asin => "Asin",
            Activation::Acos => "Acos",
            Activation::Asinh => "Asinh",
            Activation::Acosh => "Acosh",
            Activation::Atanh => "Atanh",
        }
    }
}
