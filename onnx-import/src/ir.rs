//! The graph IR every later stage works on: static shapes, constants folded, shape-like inputs
//! (Reshape's shape, Slice's starts, Pad's pads, ...) turned into concrete op parameters, and
//! Identity/Dropout/Flatten/Squeeze/Unsqueeze lowered to aliases or `Reshape`.

use crate::tensor::{DType, Shape, Tensor};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

/// Index of a runtime value (a model input or a node output) in [`Graph::values`].
pub type ValueId = usize;

/// An operand of a node: a runtime value, or a constant tensor from [`Graph::consts`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operand {
    Value(ValueId),
    Const(usize),
}

/// Name, static shape and element type of a runtime value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueInfo {
    pub name: String,
    pub shape: Shape,
    pub dtype: DType,
}

/// Spatial parameters of Conv / ConvTranspose / pooling, resolved against the static input shape.
/// `pads` holds the begin pads of every spatial axis followed by the end pads (ONNX order);
/// `out_dims` is the spatial output shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub pads: Vec<usize>,
    pub dilations: Vec<usize>,
    pub out_dims: Vec<usize>,
}

impl Window {
    pub fn rank(&self) -> usize {
        self.kernel.len()
    }
    pub fn pad_begin(&self, axis: usize) -> usize {
        self.pads[axis]
    }
    pub fn pad_end(&self, axis: usize) -> usize {
        self.pads[self.rank() + axis]
    }
}

/// How Pad fills the border.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PadMode {
    Constant,
    Reflect,
    Edge,
}

/// One slice range along an axis: `start`, `step` and element count (all resolved, no clamping left).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceRange {
    pub start: usize,
    pub step: isize,
    pub len: usize,
}

/// The ops of the IR. Parameters are concrete: nothing depends on runtime shapes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// numpy-style matmul: `[.., M, K] x [.., K, N]`, batch dims broadcast, 1-D operands promoted.
    MatMul,
    /// `alpha * A' * B' + beta * C` with optional transposes; C broadcast to `[M, N]`.
    Gemm { alpha: f32, beta: f32, trans_a: bool, trans_b: bool },
    /// Grouped N-d convolution; inputs `x [N, C, ..]`, `w [M, C/group, ..]`, optional bias `[M]`.
    Conv { window: Window, group: usize },
    /// Grouped N-d transposed convolution; `w [C, M/group, ..]`, optional bias `[M]`.
    ConvTranspose { window: Window, group: usize },
    Add,
    Sub,
    Mul,
    Div,
    /// Variadic elementwise max / min / sum with broadcasting.
    Max,
    Min,
    Sum,
    Neg,
    Abs,
    Relu,
    LeakyRelu { alpha: f32 },
    /// `x >= 0 ? x : slope * x`, slope broadcast (second operand).
    PRelu,
    Elu { alpha: f32 },
    Selu { alpha: f32, gamma: f32 },
    Softplus,
    Sigmoid,
    Tanh,
    Exp,
    Sqrt,
    /// `x ^ exponent` for a constant scalar exponent.
    Pow { exponent: f32 },
    Erf,
    /// Gelu; `tanh` selects the tanh approximation.
    Gelu { tanh: bool },
    /// An elementwise function of `crate::ops::unary` (by table lookup when quantized).
    Unary(crate::activation::Activation),
    Clip { min: Option<f32>, max: Option<f32> },
    /// Softmax along `axis`; `flatten` gives the opset < 13 semantics (all axes from `axis` on).
    Softmax { axis: usize, flatten: bool },
    LogSoftmax { axis: usize, flatten: bool },
    MaxPool { window: Window },
    AveragePool { window: Window, count_include_pad: bool },
    GlobalAveragePool,
    GlobalMaxPool,
    /// Inference BatchNormalization; operands x, scale, bias, mean, var (constants).
    BatchNorm { eps: f32 },
    /// Per-instance, per-channel normalisation; operands x, scale `[C]`, bias `[C]`.
    InstanceNorm { eps: f32 },
    /// Normalisation over axes `axis..`; operands x, scale, optional bias.
    LayerNorm { axis: usize, eps: f32 },
    Reshape { shape: Shape },
    Transpose { perm: Vec<usize> },
    Concat { axis: usize },
    Split { axis: usize, sizes: Vec<usize> },
    Slice { ranges: Vec<SliceRange> },
    Gather { axis: usize, indices: ArrayD<i64> },
    Tile { repeats: Vec<usize> },
    Expand { shape: Shape },
    /// `pads`: begin pads of every axis then end pads; `value` for constant mode.
    Pad { mode: PadMode, pads: Vec<usize>, value: f32 },
    ReduceSum { axes: Vec<usize>, keepdims: bool },
    ReduceMean { axes: Vec<usize>, keepdims: bool },
    ReduceMax { axes: Vec<usize>, keepdims: bool },
    ArgMax { axis: usize, keepdims: bool, select_last_index: bool },
    /// Element type conversion (kept only for constant folding and integer plumbing).
    Cast { to: DType },
    /// Comparisons, logic and selection ([`crate::ops::compare`]).
    Compare(crate::ops::compare::CompareOp),
    /// Tree-ensemble scores ([`crate::ops::tree`]).
    Tree(crate::ops::tree::TreeEnsemble),
}

impl Op {
    /// Short name for listings.
    pub fn name(&self) -> &'static str {
        match self {
            Op::MatMul => "MatMul",
            Op::Gemm { .. } => "Gemm",
            Op::Conv { .. } => "Conv",
            Op::ConvTranspose { .. } => "ConvTranspose",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Max => "Max",
            Op::Min => "Min",
            Op::Sum => "Sum",
            Op::Neg => "Neg",
            Op::Abs => "Abs",
            Op::Relu => "Relu",
            Op::LeakyRelu { .. } => "LeakyRelu",
            Op::PRelu => "PRelu",
            Op::Elu { .. } => "Elu",
            Op::Selu { .. } => "Selu",
            Op::Softplus => "Softplus",
            Op::Sigmoid => "Sigmoid",
            Op::Tanh => "Tanh",
            Op::Exp => "Exp",
            Op::Sqrt => "Sqrt",
            Op::Pow { .. } => "Pow",
            Op::Erf => "Erf",
            Op::Gelu { .. } => "Gelu",
            Op::Clip { .. } => "Clip",
            Op::Softmax { .. } => "Softmax",
            Op::LogSoftmax { .. } => "LogSoftmax",
            Op::MaxPool { .. } => "MaxPool",
            Op::AveragePool { .. } => "AveragePool",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::GlobalMaxPool => "GlobalMaxPool",
            Op::BatchNorm { .. } => "BatchNormalization",
            Op::InstanceNorm { .. } => "InstanceNormalization",
            Op::LayerNorm { .. } => "LayerNormalization",
            Op::Reshape { .. } => "Reshape",
            Op::Transpose { .. } => "Transpose",
            Op::Concat { .. } => "Concat",
            Op::Split { .. } => "Split",
            Op::Slice { .. } => "Slice",
            Op::Gather { .. } => "Gather",
            Op::Tile { .. } => "Tile",
            Op::Expand { .. } => "Expand",
            Op::Pad { .. } => "Pad",
            Op::ReduceSum { .. } => "ReduceSum",
            Op::ReduceMean { .. } => "ReduceMean",
            Op::ReduceMax { .. } => "ReduceMax",
            Op::ArgMax { .. } => "ArgMax",
            Op::Cast { .. } => "Cast",
            Op::Compare(c) => c.name(),
            Op::Unary(a) => a.name(),
            Op::Tree(_) => "TreeEnsemble",
        }
    }
}

/// A node of the IR. `onnx_op` keeps the ONNX op type it came from (a `Flatten` lowered to
/// `Reshape` still says `Flatten`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub onnx_op: String,
    pub op: Op,
    pub inputs: Vec<Operand>,
    pub outputs: Vec<ValueId>,
}

/// A model graph in topological order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    pub values: Vec<ValueInfo>,
    pub consts: Vec<Tensor>,
    pub nodes: Vec<Node>,
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<ValueId>,
    /// Opset of the default ONNX domain the model was exported with.
    pub opset: i64,
}

impl Graph {
    pub fn value(&self, id: ValueId) -> &ValueInfo {
        &self.values[id]
    }
    /// Shape of an operand.
    pub fn operand_shape(&self, o: Operand) -> &[usize] {
        match o {
            Operand::Value(v) => &self.values[v].shape,
            Operand::Const(c) => self.consts[c].shape(),
        }
    }
    /// Number of parameters: elements of float constants that nodes consume.
    pub fn param_count(&self) -> usize {
        let mut used = vec![false; self.consts.len()];
        for n in &self.nodes {
            for o in &n.inputs {
                if let Operand::Const(c) = o {
                    used[*c] = true;
                }
            }
        }
        self.consts
            .iter()
            .zip(used)
            .filter(|(t, u)| *u && t.dtype() == DType::F32)
            .map(|(t, _)| t.len())
            .sum()
    }
    /// Number of nodes that consume each value.
    pub fn use_counts(&self) -> Vec<usize> {
        let mut uses = vec![0; self.values.len()];
        for n in &self.nodes {
            for o in &n.inputs {
                if let Operand::Value(v) = o {
                    uses[*v] += 1;
                }
            }
        }
        for &o in &self.outputs {
            uses[o] += 1;
        }
        uses
    }
}
