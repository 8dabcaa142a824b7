//! Normalisations: Softmax and LogSoftmax (opset < 13 flattens from `axis`), BatchNormalization
//! (inference only; `spatial = 0` becomes a per-activation affine), InstanceNormalization and
//! LayerNormalization, LpNormalization (`x / ‖x‖_p`, p = 1 or 2, a runtime division).

use crate::error::Result;
use crate::import::lower::{op, Ctx, Lowered, Nodes, Src, SubNode};
use crate::ir::Op;
use crate::tensor::Tensor;

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let opset = ctx.opset;
    let all: Vec<usize> = (0..ctx.ins.len()).filter(|&i| ctx.has_input(i)).collect();
    let lowered = match ctx.op {
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
                return Ok(Some(Lowered::Graph { nodes, outputs: vec![Some(Src::Node(1, 0))] }));
            }
            op(Op::BatchNorm { eps: a.float_or("epsilon", 1e-5)? }, vec![0, 1, 2, 3, 4])
        }
        "LpNormalization" => {
            // x / ‖x‖_p along the axis (p = 1: Σ|x|; p = 2: sqrt(Σx²)), a runtime division.
            let axis = ctx.axis(a.int_or("axis", -1)?, ctx.rank(0)?)?;
            let p = a.int_or("p", 2)?;
            let mut n = Nodes::default();
            let norm = match p {
                1 => {
                    let ab = n.push(Op::Abs, vec![Src::In(0)]);
                    n.push(Op::ReduceSum { axes: vec![axis], keepdims: true }, vec![ab])
                }
                2 => {
                    let sq = n.push(Op::Mul, vec![Src::In(0), Src::In(0)]);
                    let s = n.push(Op::ReduceSum { axes: vec![axis], keepdims: true }, vec![sq]);
                    n.push(Op::Sqrt, vec![s])
                }
                other => return Err(ctx.unsupported(format!("p = {other} (1 and 2 are supported)"))),
            };
            let y = n.push(Op::Div, vec![Src::In(0), norm]);
            n.done(vec![y])
        }
        "InstanceNormalization" => op(Op::InstanceNorm { eps: a.float_or("epsilon", 1e-5)? }, vec![0, 1, 2]),
        "LayerNormalization" => {
            a.has("stash_type");
            ctx.no_extra_outputs("Mean / InvStdDev")?;
            let axis = ctx.axis(a.int_or("axis", -1)?, ctx.rank(0)?)?;
            op(Op::LayerNorm { axis, eps: a.float_or("epsilon", 1e-5)? }, all.clone())
        }
        _ => return Ok(None),
    };
    Ok(Some(lowered))
}
