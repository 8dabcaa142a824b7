//! Lowering of one ONNX node to an IR op. Shape-like inputs (Reshape's shape, Slice's starts, ...)
//! must be constants and become op parameters; spatial attributes are resolved against the static
//! input shape. [`lower`] hands the node to its op family in `crate::ops`.

use super::attrs::Attrs;
use crate::error::{Error, Result};
use crate::ir::Op;
use crate::tensor::Tensor;

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
    /// Element type of each input (`None`: absent).
    pub dtypes: Vec<Option<crate::tensor::DType>>,
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
    /// Whether input `i` holds integers (or booleans).
    pub(crate) fn is_int(&self, i: usize) -> bool {
        self.dtypes.get(i).copied().flatten() == Some(crate::tensor::DType::I64)
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

pub(crate) fn op(op: Op, data: Vec<usize>) -> Lowered {
    Lowered::Op { op, data }
}

pub(crate) fn usizes(ctx: &Ctx, v: &[i64], what: &str) -> Result<Vec<usize>> {
    v.iter()
        .map(|&x| usize::try_from(x).map_err(|_| ctx.err(format!("{what} must be non-negative, got {v:?}"))))
        .collect()
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

/// The families, tried in order; each returns `None` for an op that is not one of its own.
const FAMILIES: [fn(&Ctx) -> Result<Option<Lowered>>; 14] = [
    crate::ops::compare::lower,
    crate::ops::unary::lower,
    crate::ops::resize::lower,
    crate::ops::indexing::lower,
    crate::ops::scatter::lower,
    crate::ops::einsum::lower,
    crate::ops::construct::lower,
    crate::ops::select::lower,
    crate::ops::recurrent::lower,
    crate::ops::layout::lower,
    crate::ops::arith::lower,
    crate::ops::spatial::lower,
    crate::ops::norm::lower,
    crate::ops::reduce::lower,
];

fn lower_modern(ctx: &Ctx) -> Result<Lowered> {
    let lowered = if ctx.ml {
        crate::ops::ml::lower(ctx)?
    } else {
        let mut found = None;
        for family in FAMILIES {
            if let Some(l) = family(ctx)? {
                found = Some(l);
                break;
            }
        }
        found.ok_or_else(|| ctx.unsupported("this op is not supported by zkinfer (see the README for the supported list)"))?
    };
    // Every attribute must have been read by the lowering: an unknown one is refused by name.
    ctx.attrs.finish()?;
    Ok(lowered)
}


