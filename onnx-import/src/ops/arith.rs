//! Arithmetic: MatMul and Gemm (dot products), Add, Sub, Mul, Div, Sum, Max, Min, the
//! activations with an IR op of their own (Neg, Abs, Relu, Sigmoid, Tanh, Exp, Sqrt, Softplus,
//! Erf, LeakyRelu, Elu, Selu, PRelu, Gelu), Pow with a constant exponent, and Clip.

use crate::error::Result;
use crate::import::lower::{op, Ctx, Lowered};
use crate::ir::Op;

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let opset = ctx.opset;
    let all: Vec<usize> = (0..ctx.ins.len()).filter(|&i| ctx.has_input(i)).collect();
    let lowered = match ctx.op {
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
        _ => return Ok(None),
    };
    Ok(Some(lowered))
}
