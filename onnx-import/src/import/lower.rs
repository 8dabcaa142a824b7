//! Lowering of one ONNX node to an IR op. Shape-like inputs (Reshape's shape, Slice's starts, ...)
//! must be constants and become op parameters; spatial attributes are resolved against the static
//! input shape. Every op in the supported list lives in [`lower`].

use super::attrs::Attrs;
use crate::error::{Error, Result};
use crate::ir::{Op, PadMode, SliceRange, Window};
use crate::tensor::{DType, Tensor};

/// What an input is known to be at import time.
pub enum KnownIn<'a> {
    Const(&'a Tensor),
    Value(&'a [usize]),
}

impl KnownIn<'_> {
    pub fn shape(&self) -> &[usize] {
        match self {
            KnownIn::Const(t) => t.shape(),
            KnownIn::Value(s) => s,
        }
    }
}

/// The result of lowering a node.
pub enum Lowered {
    /// An IR op fed by the listed ONNX input positions.
    Op { op: Op, data: Vec<usize> },
    /// The node's (first) output is its input at this position.
    Alias(usize),
    /// The node's output is this constant.
    Const(Tensor),
    /// Several IR nodes, in order; `outputs` says where each ONNX output comes from (`None`:
    /// not produced, which is an error only if it is used).
    Graph { nodes: Vec<SubNode>, outputs: Vec<Option<Src>> },
}

/// Where an operand of a [`Lowered::Graph`] node comes from.
#[derive(Clone)]
pub enum Src {
    /// The ONNX node's input at this position.
    In(usize),
    Const(Tensor),
    /// Output `.1` of sub-node `.0` (an earlier one).
    Node(usize, usize),
}

/// One IR node of a [`Lowered::Graph`].
pub struct SubNode {
    pub op: Op,
    pub inputs: Vec<Src>,
}

/// Builder of a [`Lowered::Graph`]: the op families that lower to several IR nodes append them
/// here and refer to earlier outputs by the returned [`Src`].
#[derive(Default)]
pub(crate) struct Nodes(pub(crate) Vec<SubNode>);

impl Nodes {
    /// Append a node; its first output.
    pub(crate) fn push(&mut self, op: Op, inputs: Vec<Src>) -> Src {
        self.0.push(SubNode { op, inputs });
        Src::Node(self.0.len() - 1, 0)
    }
    pub(crate) fn reshape(&mut self, x: Src, shape: Vec<usize>) -> Src {
        self.push(Op::Reshape { shape }, vec![x])
    }
    /// `Transpose`, or `x` itself for the identity permutation.
    pub(crate) fn transpose(&mut self, x: Src, perm: Vec<usize>) -> Src {
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return x;
        }
        self.push(Op::Transpose { perm }, vec![x])
    }
    /// The graph with these outputs.
    pub(crate) fn done(self, outputs: Vec<Src>) -> Lowered {
        Lowered::Graph { nodes: self.0, outputs: outputs.into_iter().map(Some).collect() }
    }
}

pub struct Ctx<'a> {
    pub op: &'a str,
    pub name: &'a str,
    /// Opset of the node's domain.
    pub opset: i64,
    /// Whether the node is in the `ai.onnx.ml` domain.
    pub ml: bool,
    pub attrs: Attrs<'a>,
    pub ins: Vec<Option<KnownIn<'a>>>,
    /// Whether each ONNX output after the first is consumed or a graph output.
    pub extra_outputs_used: bool,
    /// Number of outputs the node declares.
    pub n_outputs: usize,
}

impl<'a> Ctx<'a> {
    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::invalid(self.op, self.name, reason)
    }
    pub(crate) fn unsupported(&self, reason: impl Into<String>) -> Error {
        Error::unsupported(self.op, self.name, reason)
    }
    pub(crate) fn input(&self, i: usize) -> Result<&KnownIn<'a>> {
        self.ins.get(i).and_then(|o| o.as_ref()).ok_or_else(|| self.err(format!("missing input {i}")))
    }
    pub(crate) fn has_input(&self, i: usize) -> bool {
        self.ins.get(i).is_some_and(|o| o.is_some())
    }
    pub(crate) fn shape(&self, i: usize) -> Result<Vec<usize>> {
        Ok(self.input(i)?.shape().to_vec())
    }
    pub(crate) fn rank(&self, i: usize) -> Result<usize> {
        Ok(self.input(i)?.shape().len())
    }
    /// A shape-like input that must be a constant.
    pub(crate) fn const_input(&self, i: usize, what: &str) -> Result<Option<&'a Tensor>> {
        match self.ins.get(i).and_then(|o| o.as_ref()) {
            None => Ok(None),
            Some(KnownIn::Const(t)) => Ok(Some(t)),
            Some(KnownIn::Value(_)) => Err(self.unsupported(format!(
                "input {i} ({what}) must be a constant; data-dependent {what} is not supported"
            ))),
        }
    }
    pub(crate) fn const_ints(&self, i: usize, what: &str) -> Result<Option<Vec<i64>>> {
        match self.const_input(i, what)? {
            None => Ok(None),
            Some(t) => t
                .to_i64()
                .map(|a| Some(a.iter().copied().collect()))
                .ok_or_else(|| self.err(format!("{what} must hold integers"))),
        }
    }
    pub(crate) fn const_scalar(&self, i: usize, what: &str) -> Result<Option<f32>> {
        match self.const_input(i, what)? {
            None => Ok(None),
            Some(t) => {
                let v = t.to_f32();
                let first = *v.iter().next().ok_or_else(|| self.err(format!("{what} is empty")))?;
                if v.iter().any(|&x| x != first) {
                    return Err(self.unsupported(format!("{what} must be a single value")));
                }
                Ok(Some(first))
            }
        }
    }
    /// Normalise a possibly negative axis against `rank`.
    pub(crate) fn axis(&self, a: i64, rank: usize) -> Result<usize> {
        let r = rank as i64;
        let v = if a < 0 { a + r } else { a };
        if v < 0 || v >= r {
            return Err(self.err(format!("axis {a} out of range for rank {rank}")));
        }
        Ok(v as usize)
    }
    pub(crate) fn axes(&self, a: &[i64], rank: usize) -> Result<Vec<usize>> {
        let mut v: Vec<usize> = a.iter().map(|&x| self.axis(x, rank)).collect::<Result<_>>()?;
        v.sort_unstable();
        v.dedup();
        if v.len() != a.len() {
            return Err(self.err(format!("repeated axes {a:?}")));
        }
        Ok(v)
    }
    pub(crate) fn no_extra_outputs(&self, what: &str) -> Result<()> {
        if self.extra_outputs_used {
            return Err(self.unsupported(format!("the {what} output is not supported")));
        }
        Ok(())
    }
}

fn op(op: Op, data: Vec<usize>) -> Lowered {
    Lowered::Op { op, data }
}

fn usizes(ctx: &Ctx, v: &[i64], what: &str) -> Result<Vec<usize>> {
    v.iter()
        .map(|&x| usize::try_from(x).map_err(|_| ctx.err(format!("{what} must be non-negative, got {v:?}"))))
        .collect()
}

/// Resolve kernel/strides/pads/dilations/auto_pad of Conv and pooling against the spatial input.
fn window(ctx: &Ctx, in_sp: &[usize], kernel: Vec<usize>, ceil_mode: bool) -> Result<Window> {
    let r = in_sp.len();
    let a = &ctx.attrs;
    let strides = usizes(ctx, &a.ints("strides")?.unwrap_or(vec![1; r]), "strides")?;
    let dilations = usizes(ctx, &a.ints("dilations")?.unwrap_or(vec![1; r]), "dilations")?;
    let mut pads = usizes(ctx, &a.ints("pads")?.unwrap_or(vec![0; 2 * r]), "pads")?;
    let auto_pad = a.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
    if kernel.len() != r || strides.len() != r || dilations.len() != r || pads.len() != 2 * r {
        return Err(ctx.err(format!(
            "kernel {kernel:?}, strides {strides:?}, dilations {dilations:?}, pads {pads:?} do not match {r} spatial axes"
        )));
    }
    if strides.contains(&0) || dilations.contains(&0) || kernel.contains(&0) {
        return Err(ctx.err("kernel, strides and dilations must be positive"));
    }
    let mut out = vec![0; r];
    for d in 0..r {
        let span = (kernel[d] - 1) * dilations[d] + 1;
        match auto_pad.as_str() {
            "SAME_UPPER" | "SAME_LOWER" => {
                out[d] = in_sp[d].div_ceil(strides[d]);
                let total = ((out[d] - 1) * strides[d] + span).saturating_sub(in_sp[d]);
                let small = total / 2;
                (pads[d], pads[r + d]) = if auto_pad == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
            }
            "VALID" | "NOTSET" => {
                if auto_pad == "VALID" {
                    pads[d] = 0;
                    pads[r + d] = 0;
                }
                let padded = in_sp[d] + pads[d] + pads[r + d];
                if padded < span {
                    return Err(ctx.err(format!("kernel span {span} exceeds padded input {padded} on spatial axis {d}")));
                }
                out[d] = if ceil_mode { (padded - span).div_ceil(strides[d]) + 1 } else { (padded - span) / strides[d] + 1 };
                if ceil_mode && (out[d] - 1) * strides[d] >= in_sp[d] + pads[d] {
                    out[d] -= 1;
                }
            }
            other => return Err(ctx.unsupported(format!("auto_pad `{other}`"))),
        }
    }
    Ok(Window { kernel, strides, pads, dilations, out_dims: out })
}

fn conv_transpose_window(ctx: &Ctx, in_sp: &[usize], kernel: Vec<usize>) -> Result<Window> {
    let r = in_sp.len();
    let a = &ctx.attrs;
    let strides = usizes(ctx, &a.ints("strides")?.unwrap_or(vec![1; r]), "strides")?;
    let dilations = usizes(ctx, &a.ints("dilations")?.unwrap_or(vec![1; r]), "dilations")?;
    let mut pads = usizes(ctx, &a.ints("pads")?.unwrap_or(vec![0; 2 * r]), "pads")?;
    let out_pad = usizes(ctx, &a.ints("output_padding")?.unwrap_or(vec![0; r]), "output_padding")?;
    let out_shape = a.ints("output_shape")?;
    let auto_pad = a.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
    if strides.len() != r || dilations.len() != r || pads.len() != 2 * r || out_pad.len() != r {
        return Err(ctx.err("strides, dilations, pads and output_padding must match the spatial rank"));
    }
    let mut out = vec![0; r];
    for d in 0..r {
        let full = strides[d] * (in_sp[d] - 1) + out_pad[d] + (kernel[d] - 1) * dilations[d] + 1;
        let target = match (&out_shape, auto_pad.as_str()) {
            (Some(s), _) => {
                let s = usizes(ctx, s, "output_shape")?;
                Some(*s.get(s.len().wrapping_sub(r) + d).ok_or_else(|| ctx.err("output_shape rank"))?)
            }
            (None, "SAME_UPPER" | "SAME_LOWER") => Some(in_sp[d] * strides[d]),
            (None, "NOTSET" | "VALID") => None,
            (None, other) => return Err(ctx.unsupported(format!("auto_pad `{other}`"))),
        };
        match target {
            Some(o) => {
                let total = full.checked_sub(o).ok_or_else(|| ctx.err("output_shape larger than the full output"))?;
                let small = total / 2;
                (pads[d], pads[r + d]) = if auto_pad == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
                out[d] = o;
            }
            None => {
                out[d] = full.checked_sub(pads[d] + pads[r + d]).ok_or_else(|| ctx.err("pads exceed the output"))?;
            }
        }
    }
    Ok(Window { kernel, strides, pads, dilations, out_dims: out })
}

pub(crate) fn reduce_axes(ctx: &Ctx, axes_from_input: bool) -> Result<(Vec<usize>, bool)> {
    let rank = ctx.rank(0)?;
    let keepdims = ctx.attrs.int_or("keepdims", 1)? != 0;
    let noop = ctx.attrs.int_or("noop_with_empty_axes", 0)? != 0;
    let axes = if axes_from_input { ctx.const_ints(1, "axes")? } else { ctx.attrs.ints("axes")? };
    let axes = match axes {
        Some(a) if !a.is_empty() => ctx.axes(&a, rank)?,
        _ if noop => vec![],
        _ => (0..rank).collect(),
    };
    Ok((axes, keepdims))
}

fn reshape_to(shape: Vec<usize>) -> Lowered {
    op(Op::Reshape { shape }, vec![0])
}

/// Lower one node. Unknown ops are reported by name; opset 1–6 forms are resolved first
/// ([`super::legacy`]).
pub fn lower(ctx: &Ctx) -> Result<Lowered> {
    let reshape = super::legacy::prepare(ctx)?;
    let lowered = lower_modern(ctx)?;
    Ok(match reshape {
        Some(shape) => super::legacy::reshape_second(lowered, shape),
        None => lowered,
    })
}

fn lower_modern(ctx: &Ctx) -> Result<Lowered> {
    let a = &ctx.attrs;
    let opset = ctx.opset;
    let all: Vec<usize> = (0..ctx.ins.len()).filter(|&i| ctx.has_input(i)).collect();
    if ctx.ml {
        let lowered = crate::ops::ml::lower(ctx)?;
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::compare::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::unary::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::resize::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::indexing::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::einsum::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::construct::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::select::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    if let Some(lowered) = crate::ops::recurrent::lower(ctx)? {
        a.finish()?;
        return Ok(lowered);
    }
    let lowered = match ctx.op {
        "Identity" => Lowered::Alias(0),
        "Dropout" => {
            a.has("ratio");
            a.has("seed");
            if a.int_or("is_test", 1)? == 0 && opset < 7 {
                return Err(ctx.unsupported("training-mode Dropout"));
            }
            if ctx.has_input(2) {
                let training = ctx.const_ints(2, "training_mode")?.unwrap_or_default();
                if training.iter().any(|&t| t != 0) {
                    return Err(ctx.unsupported("training-mode Dropout"));
                }
            }
            ctx.no_extra_outputs("mask")?;
            Lowered::Alias(0)
        }
        "Constant" => {
            let t = if let Some(t) = a.tensor("value")? {
                t
            } else if let Some(f) = a.float("value_float")? {
                Tensor::F32(ndarray::arr0(f).into_dyn())
            } else if let Some(v) = a.floats("value_floats")? {
                Tensor::F32(ndarray::Array1::from(v).into_dyn())
            } else if let Some(i) = a.int("value_int")? {
                Tensor::I64(ndarray::arr0(i).into_dyn())
            } else if let Some(v) = a.ints("value_ints")? {
                Tensor::I64(ndarray::Array1::from(v).into_dyn())
            } else {
                return Err(ctx.unsupported("only value, value_float(s) and value_int(s) constants are supported"));
            };
            Lowered::Const(t)
        }
        "Shape" => {
            let s: Vec<i64> = ctx.shape(0)?.iter().map(|&d| d as i64).collect();
            let r = s.len() as i64;
            let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let start = clampi(a.int_or("start", 0)?);
            let end = clampi(a.int_or("end", r)?);
            let v = s[start..end.max(start)].to_vec();
            Lowered::Const(Tensor::I64(ndarray::Array1::from(v).into_dyn()))
        }
        "Cast" => {
            let to = if opset < 6 {
                // Opsets 1–5 name the type.
                let name = a.string("to")?.ok_or_else(|| ctx.err("missing `to`"))?;
                match name.to_ascii_uppercase().as_str() {
                    "FLOAT" => 1,
                    "UINT8" => 2,
                    "INT8" => 3,
                    "UINT16" => 4,
                    "INT16" => 5,
                    "INT32" => 6,
                    "INT64" => 7,
                    "BOOL" => 9,
                    "FLOAT16" => 10,
                    "DOUBLE" => 11,
                    "UINT32" => 12,
                    "UINT64" => 13,
                    other => return Err(ctx.unsupported(format!("cast to `{other}`"))),
                }
            } else {
                a.int("to")?.ok_or_else(|| ctx.err("missing `to`"))?
            };
            let to = match to {
                1 | 10 | 11 | 16 => DType::F32,
                2..=7 | 12 | 13 => DType::I64,
                other => return Err(ctx.unsupported(format!("cast to ONNX data type {other}"))),
            };
            a.has("saturate");
            op(Op::Cast { to }, vec![0])
        }
        "MatMul" => op(Op::MatMul, vec![0, 1]),
        "Gemm" => {
            a.has("broadcast");
            let g = Op::Gemm {
                alpha: a.float_or("alpha", 1.0)?,
                beta: a.float_or("beta", 1.0)?,
                trans_a: a.int_or("transA", 0)? != 0,
                trans_b: a.int_or("transB", 0)? != 0,
            };
            op(g, all.clone())
        }
        "Conv" => {
            let x = ctx.shape(0)?;
            let w = ctx.shape(1)?;
            if x.len() < 3 || w.len() != x.len() {
                return Err(ctx.err(format!("Conv needs input [N, C, ..] and weight of the same rank, got {x:?} and {w:?}")));
            }
            let kernel = match a.ints("kernel_shape")? {
                Some(k) => usizes(ctx, &k, "kernel_shape")?,
                None => w[2..].to_vec(),
            };
            if kernel != w[2..] {
                return Err(ctx.err(format!("kernel_shape {kernel:?} differs from the weight's {:?}", &w[2..])));
            }
            let group = a.int_or("group", 1)? as usize;
            op(Op::Conv { window: window(ctx, &x[2..], kernel, false)?, group }, all.clone())
        }
        "ConvTranspose" => {
            let x = ctx.shape(0)?;
            let w = ctx.shape(1)?;
            if x.len() < 3 || w.len() != x.len() {
                return Err(ctx.err(format!("ConvTranspose needs input [N, C, ..] and weight of the same rank, got {x:?} and {w:?}")));
            }
            if let Some(k) = a.ints("kernel_shape")? {
                if usizes(ctx, &k, "kernel_shape")? != w[2..] {
                    return Err(ctx.err("kernel_shape differs from the weight"));
                }
            }
            let group = a.int_or("group", 1)? as usize;
            op(Op::ConvTranspose { window: conv_transpose_window(ctx, &x[2..], w[2..].to_vec())?, group }, all.clone())
        }
        "Add" | "Sub" | "Mul" | "Div" => {
            let o = match ctx.op {
                "Add" => Op::Add,
                "Sub" => Op::Sub,
                "Mul" => Op::Mul,
                _ => Op::Div,
            };
            op(o, vec![0, 1])
        }
        "Sum" | "Max" | "Min" => {
            if all.is_empty() {
                return Err(ctx.err("needs at least one input"));
            }
            let o = match ctx.op {
                "Sum" => Op::Sum,
                "Max" => Op::Max,
                _ => Op::Min,
            };
            op(o, all.clone())
        }
        "Neg" | "Abs" | "Relu" | "Sigmoid" | "Tanh" | "Exp" | "Sqrt" | "Softplus" | "Erf" => {
            a.has("consumed_inputs");
            let o = match ctx.op {
                "Neg" => Op::Neg,
                "Abs" => Op::Abs,
                "Relu" => Op::Relu,
                "Sigmoid" => Op::Sigmoid,
                "Tanh" => Op::Tanh,
                "Exp" => Op::Exp,
                "Sqrt" => Op::Sqrt,
                "Softplus" => Op::Softplus,
                _ => Op::Erf,
            };
            op(o, vec![0])
        }
        "LeakyRelu" => op(Op::LeakyRelu { alpha: a.float_or("alpha", 0.01)? }, vec![0]),
        "Elu" => op(Op::Elu { alpha: a.float_or("alpha", 1.0)? }, vec![0]),
        "Selu" => op(
            Op::Selu { alpha: a.float_or("alpha", 1.673_263_2)?, gamma: a.float_or("gamma", 1.050_701)? },
            vec![0],
        ),
        "PRelu" => op(Op::PRelu, vec![0, 1]),
        "Gelu" => {
            let approx = a.string("approximate")?.unwrap_or_else(|| "none".into());
            let tanh = match approx.as_str() {
                "none" => false,
                "tanh" => true,
                other => return Err(ctx.unsupported(format!("approximate = `{other}`"))),
            };
            op(Op::Gelu { tanh }, vec![0])
        }
        "Pow" => {
            let e = ctx.const_scalar(1, "exponent")?.ok_or_else(|| ctx.err("missing exponent"))?;
            op(Op::Pow { exponent: e }, vec![0])
        }
        "Clip" => {
            let (min, max) = if opset < 11 {
                (a.float("min")?, a.float("max")?)
            } else {
                (ctx.const_scalar(1, "min")?, ctx.const_scalar(2, "max")?)
            };
            op(Op::Clip { min, max }, vec![0])
        }
        "Softmax" | "LogSoftmax" => {
            let rank = ctx.rank(0)?;
            let (axis, flatten) = if opset < 13 {
                (ctx.axis(a.int_or("axis", 1)?, rank)?, true)
            } else {
                (ctx.axis(a.int_or("axis", -1)?, rank)?, false)
            };
            let o = if ctx.op == "Softmax" { Op::Softmax { axis, flatten } } else { Op::LogSoftmax { axis, flatten } };
            op(o, vec![0])
        }
        "MaxPool" | "AveragePool" => {
            let x = ctx.shape(0)?;
            if x.len() < 3 {
                return Err(ctx.err(format!("pooling needs [N, C, ..], got {x:?}")));
            }
            let kernel = usizes(ctx, &a.ints("kernel_shape")?.ok_or_else(|| ctx.err("missing kernel_shape"))?, "kernel_shape")?;
            let ceil = a.int_or("ceil_mode", 0)? != 0;
            let win = window(ctx, &x[2..], kernel, ceil)?;
            if ctx.op == "MaxPool" {
                if a.int_or("storage_order", 0)? != 0 {
                    return Err(ctx.unsupported("storage_order = 1"));
                }
                ctx.no_extra_outputs("Indices")?;
                op(Op::MaxPool { window: win }, vec![0])
            } else {
                let cip = a.int_or("count_include_pad", 0)? != 0;
                op(Op::AveragePool { window: win, count_include_pad: cip }, vec![0])
            }
        }
        "GlobalAveragePool" => op(Op::GlobalAveragePool, vec![0]),
        "GlobalMaxPool" => op(Op::GlobalMaxPool, vec![0]),
        "BatchNormalization" => {
            a.has("momentum");
            a.has("consumed_inputs");
            let spatial = a.int_or("spatial", 1)? != 0;
            // Opsets 1–6 mark inference with is_test = 1; an explicit 0 (training) is refused, an
            // absent one is read as inference, as the opset 7 converter does.
            if a.int_or("training_mode", 0)? != 0 || a.int_or("is_test", 1)? == 0 {
                return Err(ctx.unsupported("training mode"));
            }
            ctx.no_extra_outputs("running mean / variance")?;
            let mut params = Vec::with_capacity(4);
            for (i, what) in [(1, "scale"), (2, "bias"), (3, "mean"), (4, "var")] {
                params.push(ctx.const_input(i, what)?.ok_or_else(|| ctx.err(format!("missing {what}")))?.to_f32());
            }
            if !spatial {
                // Per-activation statistics (opsets 1–8, `spatial = 0`): `[C, D1, ..]` each, an
                // affine `x·k + b` with `k = scale / sqrt(var + eps)`, `b = bias − mean·k`.
                let eps = a.float_or("epsilon", 1e-5)?;
                let x = ctx.shape(0)?;
                if params.iter().any(|p| p.shape() != &x[1..]) {
                    return Err(ctx.err(format!("spatial = 0 needs scale, bias, mean and var of shape {:?}", &x[1..])));
                }
                let k = &params[0] / &params[3].mapv(|v| (v + eps).sqrt());
                let b = &params[1] - &(&params[2] * &k);
                let nodes = vec![
                    SubNode { op: Op::Mul, inputs: vec![Src::In(0), Src::Const(Tensor::F32(k))] },
                    SubNode { op: Op::Add, inputs: vec![Src::Node(0, 0), Src::Const(Tensor::F32(b))] },
                ];
                a.finish()?;
                return Ok(Lowered::Graph { nodes, outputs: vec![Some(Src::Node(1, 0))] });
            }
            op(Op::BatchNorm { eps: a.float_or("epsilon", 1e-5)? }, vec![0, 1, 2, 3, 4])
        }
        "InstanceNormalization" => op(Op::InstanceNorm { eps: a.float_or("epsilon", 1e-5)? }, vec![0, 1, 2]),
        "LayerNormalization" => {
            a.has("stash_type");
            ctx.no_extra_outputs("Mean / InvStdDev")?;
            let axis = ctx.axis(a.int_or("axis", -1)?, ctx.rank(0)?)?;
            op(Op::LayerNorm { axis, eps: a.float_or("epsilon", 1e-5)? }, all.clone())
        }
        "Flatten" => {
            let s = ctx.shape(0)?;
            let r = s.len();
            let ax = a.int_or("axis", 1)?;
            let ax = if ax < 0 { ax + r as i64 } else { ax };
            if ax < 0 || ax > r as i64 {
                return Err(ctx.err(format!("axis {ax} out of range for rank {r}")));
            }
            let ax = ax as usize;
            reshape_to(vec![s[..ax].iter().product(), s[ax..].iter().product()])
        }
        "Reshape" => {
            let s = ctx.shape(0)?;
            let target = if opset < 5 {
                a.ints("shape")?.ok_or_else(|| ctx.err("missing shape"))?
            } else {
                ctx.const_ints(1, "shape")?.ok_or_else(|| ctx.err("missing shape"))?
            };
            let allowzero = a.int_or("allowzero", 0)? != 0;
            let total: usize = s.iter().product();
            let mut out = Vec::with_capacity(target.len());
            let mut infer = None;
            for (i, &d) in target.iter().enumerate() {
                match d {
                    0 if !allowzero => out.push(*s.get(i).ok_or_else(|| ctx.err("0 in shape beyond the input rank"))?),
                    -1 if infer.is_none() => {
                        infer = Some(i);
                        out.push(1);
                    }
                    d if d >= 0 => out.push(d as usize),
                    _ => return Err(ctx.err(format!("invalid target shape {target:?}"))),
                }
            }
            if let Some(i) = infer {
                let known: usize = out.iter().product();
                if known == 0 || total % known != 0 {
                    return Err(ctx.err(format!("cannot reshape {s:?} to {target:?}")));
                }
                out[i] = total / known;
            }
            if out.iter().product::<usize>() != total {
                return Err(ctx.err(format!("cannot reshape {s:?} to {target:?}")));
            }
            reshape_to(out)
        }
        "Squeeze" | "Unsqueeze" => {
            let s = ctx.shape(0)?;
            let axes = if opset < 13 { a.ints("axes")? } else { ctx.const_ints(1, "axes")? };
            if ctx.op == "Squeeze" {
                let axes = match axes {
                    Some(v) => ctx.axes(&v, s.len())?,
                    None => (0..s.len()).filter(|&d| s[d] == 1).collect(),
                };
                if let Some(&d) = axes.iter().find(|&&d| s[d] != 1) {
                    return Err(ctx.err(format!("cannot squeeze axis {d} of size {}", s[d])));
                }
                reshape_to(s.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &v)| v).collect())
            } else {
                let axes = axes.ok_or_else(|| ctx.err("missing axes"))?;
                let r = s.len() + axes.len();
                let axes = ctx.axes(&axes, r)?;
                let mut it = s.iter();
                reshape_to((0..r).map(|d| if axes.contains(&d) { 1 } else { *it.next().unwrap() }).collect())
            }
        }
        "Transpose" => {
            let r = ctx.rank(0)?;
            let perm = match a.ints("perm")? {
                Some(p) => usizes(ctx, &p, "perm")?,
                None => (0..r).rev().collect(),
            };
            op(Op::Transpose { perm }, vec![0])
        }
        "Concat" => {
            // `axis` became required in opset 4; before, it defaulted to 1.
            let axis = match a.int("axis")? {
                Some(v) => v,
                None if opset < 4 => 1,
                None => return Err(ctx.err("missing axis")),
            };
            let axis = ctx.axis(axis, ctx.rank(0)?)?;
            op(Op::Concat { axis }, all.clone())
        }
        "Split" => {
            let s = ctx.shape(0)?;
            let axis = ctx.axis(a.int_or("axis", 0)?, s.len())?;
            // Opset 1 takes `split` as an attribute or as a second input, 2–12 as an attribute.
            let given = if opset < 2 && ctx.has_input(1) {
                ctx.const_ints(1, "split")?
            } else if opset < 13 {
                a.ints("split")?
            } else {
                ctx.const_ints(1, "split")?
            };
            let n_out = a.int("num_outputs")?;
            let n = ctx.n_outputs;
            let sizes = match given {
                Some(v) => usizes(ctx, &v, "split")?,
                None => {
                    let parts = n_out.map(|v| v as usize).unwrap_or(n);
                    let chunk = s[axis].div_ceil(parts);
                    (0..parts).map(|i| chunk.min(s[axis].saturating_sub(i * chunk))).collect()
                }
            };
            op(Op::Split { axis, sizes }, vec![0])
        }
        "Slice" => {
            let s = ctx.shape(0)?;
            let r = s.len();
            let (starts, ends, axes, steps) = if opset < 10 {
                (a.ints("starts")?, a.ints("ends")?, a.ints("axes")?, None)
            } else {
                (ctx.const_ints(1, "starts")?, ctx.const_ints(2, "ends")?, ctx.const_ints(3, "axes")?, ctx.const_ints(4, "steps")?)
            };
            let starts = starts.ok_or_else(|| ctx.err("missing starts"))?;
            let ends = ends.ok_or_else(|| ctx.err("missing ends"))?;
            let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
            let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
            if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
                return Err(ctx.err("starts, ends, axes and steps must have the same length"));
            }
            let mut ranges: Vec<SliceRange> = s.iter().map(|&d| SliceRange { start: 0, step: 1, len: d }).collect();
            for i in 0..starts.len() {
                let ax = ctx.axis(axes[i], r)?;
                let dim = s[ax] as i128;
                let step = steps[i] as i128;
                if step == 0 {
                    return Err(ctx.err("slice step 0"));
                }
                let (mut st, mut en) = (starts[i] as i128, ends[i] as i128);
                if st < 0 {
                    st += dim;
                }
                if en < 0 {
                    en += dim;
                }
                let len = if step > 0 {
                    st = st.clamp(0, dim);
                    en = en.clamp(0, dim);
                    ((en - st).max(0) + step - 1) / step
                } else {
                    st = st.clamp(0, dim - 1);
                    en = en.clamp(-1, dim - 1);
                    ((st - en).max(0) + (-step) - 1) / (-step)
                };
                ranges[ax] = SliceRange { start: st.max(0) as usize, step: step as isize, len: len as usize };
            }
            op(Op::Slice { ranges }, vec![0])
        }
        "Gather" => {
            let r = ctx.rank(0)?;
            let axis = ctx.axis(a.int_or("axis", 0)?, r)?;
            let idx = ctx.const_input(1, "indices")?.ok_or_else(|| ctx.err("missing indices"))?;
            let idx = idx.to_i64().ok_or_else(|| ctx.err("indices must be integers"))?;
            op(Op::Gather { axis, indices: idx }, vec![0])
        }
        "Tile" if opset < 6 => return Err(ctx.unsupported("the opset 1–5 form (tiles, axis inputs); re-export with opset >= 6")),
        "Tile" => {
            let rep = ctx.const_ints(1, "repeats")?.ok_or_else(|| ctx.err("missing repeats"))?;
            op(Op::Tile { repeats: usizes(ctx, &rep, "repeats")? }, vec![0])
        }
        "Expand" => {
            let sh = ctx.const_ints(1, "shape")?.ok_or_else(|| ctx.err("missing shape"))?;
            op(Op::Expand { shape: usizes(ctx, &sh, "shape")? }, vec![0])
        }
        "Pad" => {
            let r = ctx.rank(0)?;
            let mode = a.string("mode")?.unwrap_or_else(|| "constant".into());
            let mode = match mode.as_str() {
                "constant" => PadMode::Constant,
                "reflect" => PadMode::Reflect,
                "edge" => PadMode::Edge,
                other => return Err(ctx.unsupported(format!("mode `{other}`"))),
            };
            let (pads, value, axes) = if opset < 11 {
                let p = a.ints("pads")?.or(a.ints("paddings")?).ok_or_else(|| ctx.err("missing pads"))?;
                (p, a.float_or("value", 0.0)?, None)
            } else {
                let p = ctx.const_ints(1, "pads")?.ok_or_else(|| ctx.err("missing pads"))?;
                (p, ctx.const_scalar(2, "constant_value")?.unwrap_or(0.0), ctx.const_ints(3, "axes")?)
            };
            if pads.iter().any(|&p| p < 0) {
                return Err(ctx.unsupported("negative pads (cropping)"));
            }
            let axes = match axes {
                Some(ax) => ax.iter().map(|&x| ctx.axis(x, r)).collect::<Result<Vec<_>>>()?,
                None => (0..r).collect(),
            };
            if pads.len() != 2 * axes.len() {
                return Err(ctx.err(format!("pads {pads:?} do not match {} axes", axes.len())));
            }
            let mut full = vec![0usize; 2 * r];
            let k = axes.len();
            for (i, &ax) in axes.iter().enumerate() {
                full[ax] = pads[i] as usize;
                full[r + ax] = pads[k + i] as usize;
            }
            op(Op::Pad { mode, pads: full, value }, vec![0])
        }
        "ReduceSum" | "ReduceMean" | "ReduceMax" => {
            let from_input = match ctx.op {
                "ReduceSum" => opset >= 13,
                _ => opset >= 18,
            };
            let (axes, keepdims) = reduce_axes(ctx, from_input)?;
            let o = match ctx.op {
                "ReduceSum" => Op::ReduceSum { axes, keepdims },
                "ReduceMean" => Op::ReduceMean { axes, keepdims },
                _ => Op::ReduceMax { axes, keepdims },
            };
            if axes_is_empty(&o) {
                Lowered::Alias(0)
            } else {
                op(o, vec![0])
            }
        }
        "ArgMax" => {
            let axis = ctx.axis(a.int_or("axis", 0)?, ctx.rank(0)?)?;
            op(
                Op::ArgMax {
                    axis,
                    keepdims: a.int_or("keepdims", 1)? != 0,
                    select_last_index: a.int_or("select_last_index", 0)? != 0,
                },
                vec![0],
            )
        }
        _ => return Err(ctx.unsupported("this op is not supported by zkinfer (see the README for the supported list)")),
    };
    a.finish()?;
    Ok(lowered)
}

fn axes_is_empty(o: &Op) -> bool {
    matches!(o, Op::ReduceSum { axes, .. } | Op::ReduceMean { axes, .. } | Op::ReduceMax { axes, .. } if axes.is_empty())
}

