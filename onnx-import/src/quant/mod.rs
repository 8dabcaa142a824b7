//! Fixed-point quantization. [`quantize`] turns a float [`Graph`](crate::ir::Graph) into a
//! [`QGraph`] of integer ops with one power-of-two scale per tensor; [`exec`] is the integer
//! reference executor (the single source of truth for the circuit); [`calibrate`] chooses scales,
//! the lookup range and logrows from sample inputs and reports fidelity.
//!
//! Scale rules (see [`rules`] for the arithmetic):
//! * model inputs are quantized at `input_scale`; constants feeding products (weights, slopes,
//!   reciprocals of divisors) at `param_scale`; constants added to a value (biases) at that value's
//!   scale, so additions never need re-alignment;
//! * a product's scale is the sum of its operands' scales; it is then rescaled back to the
//!   activation scale `input_scale` (one [`QOp::Rescale`] node);
//! * additions, maxima and concatenations align their operands to the largest scale
//!   ([`QOp::ScaleUp`], exact);
//! * lookups map their input scale to `input_scale`; softmax outputs are at `input_scale`;
//! * data movement keeps scales.

pub mod calibrate;
pub mod exec;
pub(crate) mod quantize;
pub mod rules;

pub use quantize::quantize;

use crate::activation::Activation;
use crate::ir::{Operand, PadMode, SliceRange, ValueId, Window};
use crate::tensor::Shape;
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

/// Scales and ranges the quantizer and executor need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantParams {
    /// Scale (bits after the binary point) of model inputs and of every activation.
    pub input_scale: u32,
    /// Scale of weights and other multiplicative constants.
    pub param_scale: u32,
    /// Inclusive range every lookup input, comparison input and rescale / division result must
    /// lie in.
    pub lookup_range: (i64, i64),
    /// Largest function table, as `2^table_bits` rows (0: tables span the lookup range). Lookups
    /// over a wider range are reduced ([`rules::reduction`]).
    #[serde(default)]
    pub table_bits: u32,
}

/// Integer ops. Comments give the relation each op computes on integers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QOp {
    /// `Y = A · B` (numpy matmul); scale `sa + sb`.
    MatMul,
    /// `Y = conv(X, W) (+ B)`; bias at scale `sx + sw`; output scale `sx + sw`.
    Conv { window: Window, group: usize },
    ConvTranspose { window: Window, group: usize },
    /// Elementwise `A · B` with broadcasting; scale `sa + sb`.
    Mul,
    /// Elementwise `A + B` / `A - B`; operands share a scale.
    Add,
    Sub,
    /// Variadic sum; operands share a scale.
    Sum,
    Neg,
    /// `X · 2^shift`.
    ScaleUp { shift: u32 },
    /// `floor((X + 2^(shift-1)) / 2^shift)`.
    Rescale { shift: u32 },
    /// `max(X, 0)`.
    Relu,
    Abs,
    /// Variadic elementwise max / min; operands share a scale.
    Max,
    Min,
    /// `min(max(X, lo), hi)`.
    Clip { lo: Option<i64>, hi: Option<i64> },
    /// `X >= 0 ? X · 2^ps : X · S` with slope `S` at scale `ps`; output scale `sx + ps`.
    PRelu { slope_scale: u32 },
    /// Table lookup of `act` (see [`rules::lookup`]); with `reduce`, of the reduced input
    /// ([`rules::reduced_lookup`]).
    Lookup {
        act: Activation,
        in_scale: u32,
        out_scale: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reduce: Option<rules::Reduction>,
    },
    /// `Y = div_round(A · 2^shift, B)`.
    Div { shift: u32 },
    /// Softmax along an axis: `d = X - max`, `e = exp-lookup(d)`, `Y = div_round(e · 2^out, Σe)`;
    /// with `reduce`, `e` is the reduced lookup of `d` (as [`QOp::Lookup`]).
    Softmax {
        axis: usize,
        flatten: bool,
        in_scale: u32,
        out_scale: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reduce: Option<rules::Reduction>,
    },
    /// `Y = align(d) - ln-lookup(Σe)` with `d`, `e` as in Softmax.
    LogSoftmax { axis: usize, flatten: bool, in_scale: u32, out_scale: u32 },
    MaxPool { window: Window },
    /// `div_round(Σ window, count)`.
    AveragePool { window: Window, count_include_pad: bool },
    ReduceSum { axes: Vec<usize>, keepdims: bool },
    /// `div_round(Σ, n)`.
    ReduceMean { axes: Vec<usize>, keepdims: bool },
    ReduceMax { axes: Vec<usize>, keepdims: bool },
    /// Index of the maximum; scale 0.
    ArgMax { axis: usize, keepdims: bool, select_last_index: bool },
    Reshape { shape: Shape },
    Transpose { perm: Vec<usize> },
    Concat { axis: usize },
    Split { axis: usize, sizes: Vec<usize> },
    Slice { ranges: Vec<SliceRange> },
    Gather { axis: usize, indices: ArrayD<i64> },
    Tile { repeats: Vec<usize> },
    Expand { shape: Shape },
    Pad { mode: PadMode, pads: Vec<usize>, value: i64 },
    /// Comparisons, logic and selection ([`crate::ops::compare`]).
    Compare(crate::ops::compare::CompareOp),
    /// Tree-ensemble scores ([`crate::ops::tree`]).
    Tree(crate::ops::tree::QTreeEnsemble),
}

impl QOp {
    pub fn name(&self) -> &'static str {
        match self {
            QOp::MatMul => "MatMul",
            QOp::Conv { .. } => "Conv",
            QOp::ConvTranspose { .. } => "ConvTranspose",
            QOp::Mul => "Mul",
            QOp::Add => "Add",
            QOp::Sub => "Sub",
            QOp::Sum => "Sum",
            QOp::Neg => "Neg",
            QOp::ScaleUp { .. } => "ScaleUp",
            QOp::Rescale { .. } => "Rescale",
            QOp::Relu => "Relu",
            QOp::Abs => "Abs",
            QOp::Max => "Max",
            QOp::Min => "Min",
            QOp::Clip { .. } => "Clip",
            QOp::PRelu { .. } => "PRelu",
            QOp::Lookup { .. } => "Lookup",
            QOp::Div { .. } => "Div",
            QOp::Softmax { .. } => "Softmax",
            QOp::LogSoftmax { .. } => "LogSoftmax",
            QOp::MaxPool { .. } => "MaxPool",
            QOp::AveragePool { .. } => "AveragePool",
            QOp::ReduceSum { .. } => "ReduceSum",
            QOp::ReduceMean { .. } => "ReduceMean",
            QOp::ReduceMax { .. } => "ReduceMax",
            QOp::ArgMax { .. } => "ArgMax",
            QOp::Reshape { .. } => "Reshape",
            QOp::Transpose { .. } => "Transpose",
            QOp::Concat { .. } => "Concat",
            QOp::Split { .. } => "Split",
            QOp::Slice { .. } => "Slice",
            QOp::Gather { .. } => "Gather",
            QOp::Tile { .. } => "Tile",
            QOp::Expand { .. } => "Expand",
            QOp::Pad { .. } => "Pad",
            QOp::Compare(c) => c.name(),
            QOp::Tree(_) => "TreeEnsemble",
        }
    }
}

/// A runtime value of the quantized graph.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QValue {
    pub name: String,
    pub shape: Shape,
    pub scale: u32,
}

/// A quantized constant (a model parameter).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QConst {
    pub data: ArrayD<i64>,
    pub scale: u32,
}

/// A node of the quantized graph; `name` and `onnx_op` point back at the ONNX node it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QNode {
    pub name: String,
    pub onnx_op: String,
    pub op: QOp,
    pub inputs: Vec<Operand>,
    pub outputs: Vec<ValueId>,
}

/// The quantized model: integer ops over scaled tensors, in topological order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QGraph {
    pub values: Vec<QValue>,
    pub consts: Vec<QConst>,
    pub nodes: Vec<QNode>,
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<ValueId>,
    pub params: QuantParams,
}

impl QGraph {
    /// Number of quantized parameter elements.
    pub fn param_count(&self) -> usize {
        self.consts.iter().map(|c| c.data.len()).sum()
    }
    pub fn input_scales(&self) -> Vec<u32> {
        self.inputs.iter().map(|&i| self.values[i].scale).collect()
    }
    pub fn output_scales(&self) -> Vec<u32> {
        self.outputs.iter().map(|&i| self.values[i].scale).collect()
    }
}
