//! `ai.onnx.ml` SVMRegressor (scikit-learn's SVR, NuSVR, LinearSVR and OneClassSVM through
//! skl2onnx), lowered to proved ops. With support vectors `s_j`, dual coefficients `c_j` and
//! offset `ρ`, the score is `y = Σ_j c_j·K(x, s_j) + ρ` (or `x·c + ρ` with no support vectors):
//!
//! | kernel | `K(x, s)` | lowered to |
//! |--------|-----------|------------|
//! | LINEAR | `x·s` | one `Gemm` by the folded weights `Σ_j c_j s_j` |
//! | POLY | `(γ·x·s + c0)^d` | `Gemm` by the support vectors, `d − 1` products (integer `d ≤ 4`; else `Pow`, a lookup), `Gemm` by `c` |
//! | RBF | `exp(−γ·‖x − s‖²)` | `‖x‖² − 2x·s + ‖s‖²` (`Mul`, `ReduceSum`, `Gemm`), `Exp` (lookup), `Gemm` by `c` |
//! | SIGMOID | `tanh(γ·x·s + c0)` | `Gemm`, `Tanh` (lookup), `Gemm` by `c` |
//!
//! `one_class = 1` maps the score to `+1` where it is positive, else `−1` (a `Greater`).
//! Post transforms other than NONE are refused by name.

use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Src, SubNode};
use crate::ir::Op;
use crate::ops::compare::CompareOp;
use crate::tensor::{DType, Tensor};
use ndarray::{ArrayD, IxDyn};

fn mat(rows: usize, cols: usize, v: Vec<f32>) -> Src {
    Src::Const(Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[rows, cols]), v).expect("rows × cols values")))
}

fn vec1(v: Vec<f32>) -> Src {
    let n = v.len();
    Src::Const(Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("n values")))
}

fn scalar(v: f32) -> Src {
    Src::Const(Tensor::F32(ndarray::arr0(v).into_dyn()))
}

fn gemm(alpha: f32) -> Op {
    Op::Gemm { alpha, beta: 1.0, trans_a: false, trans_b: true }
}

pub(crate) fn regressor(ctx: &Ctx) -> Result<Lowered> {
    let a = &ctx.attrs;
    let s = ctx.shape(0)?;
    let f = match s.len() {
        1 => s[0],
        2 => s[1],
        r => return Err(ctx.err(format!("takes a [N, F] input, got rank {r}"))),
    };
    let coef = a.floats("coefficients")?.unwrap_or_default();
    let sv = a.floats("support_vectors")?.unwrap_or_default();
    let n_sv = a.int_or("n_supports", 0)? as usize;
    let rho = a.floats("rho")?.unwrap_or_default();
    let rho = match rho[..] {
        [] => 0.0,
        [r] => r,
        _ => return Err(ctx.err(format!("{} rho values (one target is supported)", rho.len()))),
    };
    let kernel = a.string("kernel_type")?.unwrap_or_else(|| "LINEAR".into());
    let kp = a.floats("kernel_params")?.unwrap_or_default();
    let (gamma, c0, degree) = (kp.first().copied().unwrap_or(0.0), kp.get(1).copied().unwrap_or(0.0), kp.get(2).copied().unwrap_or(0.0));
    let one_class = a.int_or("one_class", 0)? != 0;
    let post = a.string("post_transform")?.unwrap_or_else(|| "NONE".into());
    if post != "NONE" {
        return Err(ctx.unsupported(format!("post_transform `{post}` (NONE is supported)")));
    }
    let mut nodes: Vec<SubNode> = Vec::new();
    let push = |nodes: &mut Vec<SubNode>, op: Op, inputs: Vec<Src>| {
        nodes.push(SubNode { op, inputs });
        Src::Node(nodes.len() - 1, 0)
    };
    let x = if s.len() == 1 { push(&mut nodes, Op::Reshape { shape: vec![1, f] }, vec![Src::In(0)]) } else { Src::In(0) };
    let score = if n_sv == 0 {
        if coef.len() != f {
            return Err(ctx.err(format!("{} coefficients for {f} features (no support vectors)", coef.len())));
        }
        if kernel != "LINEAR" {
            return Err(ctx.unsupported(format!("kernel `{kernel}` without support vectors")));
        }
        push(&mut nodes, gemm(1.0), vec![x, mat(1, f, coef), vec1(vec![rho])])
    } else {
        if sv.len() != n_sv * f || coef.len() != n_sv {
            return Err(ctx.err(format!("{} support-vector values and {} coefficients for {n_sv} vectors of {f} features", sv.len(), coef.len())));
        }
        let row = |j: usize| &sv[j * f..(j + 1) * f];
        match kernel.as_str() {
            "LINEAR" => {
                let w: Vec<f32> = (0..f).map(|k| (0..n_sv).map(|j| coef[j] as f64 * row(j)[k] as f64).sum::<f64>() as f32).collect();
                push(&mut nodes, gemm(1.0), vec![x, mat(1, f, w), vec1(vec![rho])])
            }
            "POLY" | "SIGMOID" | "RBF" => {
                let k = match kernel.as_str() {
                    "RBF" => {
                        // ‖x − s‖² = ‖x‖² − 2 x·s + ‖s‖²
                        let norms: Vec<f32> = (0..n_sv).map(|j| row(j).iter().map(|&v| v * v).sum()).collect();
                        let cross = push(&mut nodes, gemm(-2.0), vec![x.clone(), mat(n_sv, f, sv.clone()), vec1(norms)]);
                        let xx = push(&mut nodes, Op::Mul, vec![x.clone(), x]);
                        let xx = push(&mut nodes, Op::ReduceSum { axes: vec![1], keepdims: true }, vec![xx]);
                        let d = push(&mut nodes, Op::Add, vec![cross, xx]);
                        let d = push(&mut nodes, Op::Mul, vec![d, scalar(-gamma)]);
                        push(&mut nodes, Op::Exp, vec![d])
                    }
                    _ => {
                        let t = push(&mut nodes, gemm(gamma), vec![x, mat(n_sv, f, sv.clone()), vec1(vec![c0; n_sv])]);
                        if kernel == "POLY" && degree.fract() == 0.0 && (1.0..=4.0).contains(&degree) {
                            // An integer degree as exact products (no table's rounding).
                            let mut p = t.clone();
                            for _ in 1..degree as usize {
                                p = push(&mut nodes, Op::Mul, vec![p, t.clone()]);
                            }
                            p
                        } else if kernel == "POLY" {
                            push(&mut nodes, Op::Pow { exponent: degree }, vec![t])
                        } else {
                            push(&mut nodes, Op::Tanh, vec![t])
                        }
                    }
                };
                push(&mut nodes, gemm(1.0), vec![k, mat(1, n_sv, coef), vec1(vec![rho])])
            }
            other => return Err(ctx.unsupported(format!("kernel `{other}` (LINEAR, POLY, RBF, SIGMOID)"))),
        }
    };
    let y = if one_class {
        let gt = push(&mut nodes, Op::Compare(CompareOp::Greater), vec![score, scalar(0.0)]);
        let gt = push(&mut nodes, Op::Cast { to: DType::F32 }, vec![gt]);
        let two = push(&mut nodes, Op::Mul, vec![gt, scalar(2.0)]);
        push(&mut nodes, Op::Sub, vec![two, scalar(1.0)])
    } else {
        score
    };
    Ok(Lowered::Graph { nodes, outputs: vec![Some(y)] })
}
