//! The reductions with layouts of their own: ReduceSum, ReduceMean, ReduceMax and ArgMax (axes
//! from the attribute, or from the second input from opset 13 for ReduceSum and 18 for the
//! others), and [`reduce_axes`], which the derived reductions of [`super::select`] share.

use crate::error::Result;
use crate::import::lower::{op, Ctx, Lowered};
use crate::ir::Op;

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let opset = ctx.opset;
    let lowered = match ctx.op {
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
        _ => return Ok(None),
    };
    Ok(Some(lowered))
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

fn axes_is_empty(o: &Op) -> bool {
    matches!(o, Op::ReduceSum { axes, .. } | Op::ReduceMean { axes, .. } | Op::ReduceMax { axes, .. } if axes.is_empty())
}
