//! Arithmetic: MatMul and Gemm (dot products), Add, Sub, Mul, Div, Sum, Max, Min, the
//! activations with an IR op of their own (Neg, Abs, Relu, Sigmoid, Tanh, Exp, Sqrt, Softplus,
//! Erf, LeakyRelu, Elu, Selu, PRelu, Gelu), Mean (`Sum / n`), Pow, Mod and Clip.
//!
//! * `Pow(a, e)` with one constant `e` is a table of `x^e`; with a runtime or per-element
//!   exponent it is `exp(b · ln a)` (the `Ln` and `Exp` tables and a product), defined for a
//!   positive base: a constant base `c ≤ 0` is refused, a runtime base must stay positive (the
//!   `Ln` table holds 0 at and below 0).
//! * `Mod(a, b)`: `a − b · ⌊a / b⌋` (`fmod = 0`, the sign of the divisor) or `a − b · trunc(a / b)`
//!   (`fmod = 1`, the sign of the dividend; `trunc q = sign(q) · ⌊|q|⌋`), from a float division
//!   and the Floor table, so the output is a float even for integer operands (same values). For
//!   integer operands the floor is taken of `q + 1/(2|b|)`, exact with a margin of `1/(2|b|)`;
//!   for floats a quotient within a quantum of an integer may floor to the neighbouring one.

use crate::activation::Activation;
use crate::error::Result;
use crate::import::lower::{op, Ctx, KnownIn, Lowered, Nodes, Src};
use crate::ir::Op;
use crate::tensor::{DType, Tensor};

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
        "Mean" => {
            // Sum / n.
            if all.is_empty() {
                return Err(ctx.err("needs at least one input"));
            }
            let mut n = Nodes::default();
            let s = n.push(Op::Sum, all.iter().map(|&i| Src::In(i)).collect());
            let y = n.push(Op::Mul, vec![s, Src::Const(Tensor::F32(ndarray::arr0(1.0 / all.len() as f32).into_dyn()))]);
            n.done(vec![y])
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
        "Pow" => match ctx.input(1)? {
            // One constant exponent: a table of x^e.
            KnownIn::Const(t) if is_uniform(t) => {
                let e = ctx.const_scalar(1, "exponent")?.ok_or_else(|| ctx.err("missing exponent"))?;
                op(Op::Pow { exponent: e }, vec![0])
            }
            // A runtime (or per-element) exponent: exp(b · ln a), for a positive base.
            _ => pow_by_exp(ctx)?,
        },
        "Mod" => modulo(ctx, a.int_or("fmod", 0)? != 0)?,
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

/// Whether a constant holds one value (however many times).
fn is_uniform(t: &Tensor) -> bool {
    let v = t.to_f32();
    v.iter().next().is_none_or(|first| v.iter().all(|x| x == first))
}

/// `exp(b · ln a)` (module docs).
fn pow_by_exp(ctx: &Ctx) -> Result<Lowered> {
    let mut n = Nodes::default();
    let ln_a = match ctx.input(0)? {
        KnownIn::Const(t) => {
            let c = t.to_f32();
            if c.iter().any(|&v| v <= 0.0) {
                return Err(ctx.unsupported("a runtime exponent with a base ≤ 0 (exp(e·ln a) needs a positive base)"));
            }
            Src::Const(Tensor::F32(c.mapv(f32::ln)))
        }
        KnownIn::Value(_) => n.push(Op::Unary(Activation::Ln), vec![Src::In(0)]),
    };
    let p = n.push(Op::Mul, vec![Src::In(1), ln_a]);
    let y = n.push(Op::Exp, vec![p]);
    Ok(n.done(vec![y]))
}

/// `Mod` (module docs).
fn modulo(ctx: &Ctx, fmod: bool) -> Result<Lowered> {
    let mut n = Nodes::default();
    ctx.input(1)?;
    let ints = ctx.is_int(0) && ctx.is_int(1);
    // Float operands (a no-op cast for float values), so the division is not integer division.
    let float = |n: &mut Nodes, i: usize| -> Src {
        match ctx.ins.get(i).and_then(|o| o.as_ref()) {
            Some(KnownIn::Const(t)) if t.dtype() == DType::F32 => Src::In(i),
            _ => n.push(Op::Cast { to: DType::F32 }, vec![Src::In(i)]),
        }
    };
    let (a, b) = (float(&mut n, 0), float(&mut n, 1));
    let q = n.push(Op::Div, vec![a.clone(), b.clone()]);
    // For integers the quotient's fraction is a multiple of 1/|b|: flooring `q + 1/(2|b|)` gives
    // the same integer with a margin of 1/(2|b|) against the quantization error of `q` (an exact
    // quotient such as 6/3 is otherwise computed just below 2).
    let margin = |n: &mut Nodes, v: Src| -> Result<Src> {
        if !ints {
            return Ok(v);
        }
        let half_inv = match ctx.input(1)? {
            KnownIn::Const(t) => {
                let d = t.to_f32();
                if d.iter().any(|&x| x == 0.0) {
                    return Err(ctx.err("Mod by a constant zero"));
                }
                Src::Const(Tensor::F32(d.mapv(|x| 0.5 / x.abs())))
            }
            KnownIn::Value(_) => {
                let ab = n.push(Op::Abs, vec![b.clone()]);
                n.push(Op::Div, vec![Src::Const(Tensor::F32(ndarray::arr0(0.5f32).into_dyn())), ab])
            }
        };
        Ok(n.push(Op::Add, vec![v, half_inv]))
    };
    let t = if fmod {
        let s = n.push(Op::Compare(crate::ops::compare::CompareOp::Sign), vec![q.clone()]);
        let m = n.push(Op::Abs, vec![q]);
        let m = margin(&mut n, m)?;
        let f = n.push(Op::Unary(Activation::Floor), vec![m]);
        n.push(Op::Mul, vec![s, f])
    } else {
        let q = margin(&mut n, q)?;
        n.push(Op::Unary(Activation::Floor), vec![q])
    };
    let bt = n.push(Op::Mul, vec![b, t]);
    let y = n.push(Op::Sub, vec![a, bt]);
    Ok(n.done(vec![y]))
}
