//! `ai.onnx.ml` SVMRegressor and SVMClassifier (scikit-learn's SVR, NuSVR, OneClassSVM, SVC and
//! NuSVC through skl2onnx), lowered to proved ops.
//!
//! Both start from the kernel values `k_j = K(x, s_j)` against the support vectors `s_j`:
//!
//! | kernel | `K(x, s)` | lowered to |
//! |--------|-----------|------------|
//! | LINEAR | `x·s` | one `Gemm` by the support vectors (the regressor folds it into its weights) |
//! | POLY | `(γ·x·s + c0)^d` | `Gemm` by the support vectors, `d − 1` products (integer `d ≤ 4`; else `Pow`, a lookup) |
//! | RBF | `exp(−γ·‖x − s‖²)` | `‖x‖² − 2x·s + ‖s‖²` (`Mul`, `ReduceSum`, `Gemm`), `Exp` (lookup) |
//! | SIGMOID | `tanh(γ·x·s + c0)` | `Gemm`, `Tanh` (lookup) |
//!
//! **Regressor**: with dual coefficients `c_j` and offset `ρ`, `y = Σ_j c_j·k_j + ρ` (or `x·c + ρ`
//! with no support vectors), one more `Gemm`. `one_class = 1` maps the score to `+1` where it is
//! positive, else `−1` (a `Greater`).
//!
//! **Classifier** (one-vs-one, as onnxruntime evaluates it): for each pair of classes `i < j`
//! (in the order `(0,1), (0,2), …, (1,2), …`) the decision value is
//! `d_ij = Σ_{m ∈ i} C[j−1][m]·k_m + Σ_{m ∈ j} C[i][m]·k_m + ρ_ij`, where `m ∈ i` runs over the
//! support vectors of class `i` (`vectors_per_class`): a linear map of `k`, so one `Gemm` by a
//! constant `[pairs, vectors]` matrix. The pair votes for `i` where `d_ij > 0`, else for `j`;
//! with `g = [d > 0]` (a `Greater`, then `Cast`), the votes are `g·A + b` for the constant
//! `A[ij][i] = 1`, `A[ij][j] = −1`, `b[c]` = the number of pairs in which `c` is the second class
//! — one more `Gemm` of small integers, exact after quantization. The label is the first class
//! with the most votes (`ArgMax`). The scores output is `d` (`[N, pairs]`), or `[−d, d]` for two
//! classes. Refused by name: probability estimates (`prob_a`/`prob_b`: Platt scaling and
//! pairwise coupling), the liblinear form without support vectors, post transforms other than
//! NONE, and labels other than `0..n`.

use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Nodes, Src};
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

/// The attributes both SVM ops share.
struct Svm {
    /// Features per row.
    f: usize,
    /// The input as `[N, F]`.
    x: Src,
    kernel: String,
    gamma: f32,
    c0: f32,
    degree: f32,
    coef: Vec<f32>,
    /// Support vectors, `n_sv × f` values.
    sv: Vec<f32>,
    rho: Vec<f32>,
}

fn common(ctx: &Ctx, n: &mut Nodes) -> Result<Svm> {
    let a = &ctx.attrs;
    let s = ctx.shape(0)?;
    let f = match s.len() {
        1 => s[0],
        2 => s[1],
        r => return Err(ctx.err(format!("takes a [N, F] input, got rank {r}"))),
    };
    let post = a.string("post_transform")?.unwrap_or_else(|| "NONE".into());
    if post != "NONE" {
        return Err(ctx.unsupported(format!("post_transform `{post}` (NONE is supported)")));
    }
    let kp = a.floats("kernel_params")?.unwrap_or_default();
    let x = if s.len() == 1 { n.reshape(Src::In(0), vec![1, f]) } else { Src::In(0) };
    Ok(Svm {
        f,
        x,
        kernel: a.string("kernel_type")?.unwrap_or_else(|| "LINEAR".into()),
        gamma: kp.first().copied().unwrap_or(0.0),
        c0: kp.get(1).copied().unwrap_or(0.0),
        degree: kp.get(2).copied().unwrap_or(0.0),
        coef: a.floats("coefficients")?.unwrap_or_default(),
        sv: a.floats("support_vectors")?.unwrap_or_default(),
        rho: a.floats("rho")?.unwrap_or_default(),
    })
}

/// `[N, n_sv]` kernel values `K(x, s_j)` (module docs).
fn kernel_values(ctx: &Ctx, n: &mut Nodes, m: &Svm, n_sv: usize) -> Result<Src> {
    let (f, x, sv) = (m.f, m.x.clone(), &m.sv);
    Ok(match m.kernel.as_str() {
        "LINEAR" => n.push(gemm(1.0), vec![x, mat(n_sv, f, sv.clone()), vec1(vec![0.0; n_sv])]),
        "RBF" => {
            // ‖x − s‖² = ‖x‖² − 2 x·s + ‖s‖²
            let norms: Vec<f32> = sv.chunks(f).map(|r| r.iter().map(|&v| v * v).sum()).collect();
            let cross = n.push(gemm(-2.0), vec![x.clone(), mat(n_sv, f, sv.clone()), vec1(norms)]);
            let xx = n.push(Op::Mul, vec![x.clone(), x]);
            let xx = n.push(Op::ReduceSum { axes: vec![1], keepdims: true }, vec![xx]);
            let d = n.push(Op::Add, vec![cross, xx]);
            let d = n.push(Op::Mul, vec![d, scalar(-m.gamma)]);
            n.push(Op::Exp, vec![d])
        }
        "POLY" | "SIGMOID" => {
            let t = n.push(gemm(m.gamma), vec![x, mat(n_sv, f, sv.clone()), vec1(vec![m.c0; n_sv])]);
            if m.kernel == "SIGMOID" {
                n.push(Op::Tanh, vec![t])
            } else if m.degree.fract() == 0.0 && (1.0..=4.0).contains(&m.degree) {
                // An integer degree as exact products (no table's rounding).
                let mut p = t.clone();
                for _ in 1..m.degree as usize {
                    p = n.push(Op::Mul, vec![p, t.clone()]);
                }
                p
            } else {
                n.push(Op::Pow { exponent: m.degree }, vec![t])
            }
        }
        other => return Err(ctx.unsupported(format!("kernel `{other}` (LINEAR, POLY, RBF, SIGMOID)"))),
    })
}

pub(crate) fn regressor(ctx: &Ctx) -> Result<Lowered> {
    let a = &ctx.attrs;
    let mut n = Nodes::default();
    let m = common(ctx, &mut n)?;
    let n_sv = a.int_or("n_supports", 0)? as usize;
    let one_class = a.int_or("one_class", 0)? != 0;
    let f = m.f;
    let rho = match m.rho[..] {
        [] => 0.0,
        [r] => r,
        _ => return Err(ctx.err(format!("{} rho values (one target is supported)", m.rho.len()))),
    };
    let score = if n_sv == 0 {
        if m.coef.len() != f {
            return Err(ctx.err(format!("{} coefficients for {f} features (no support vectors)", m.coef.len())));
        }
        if m.kernel != "LINEAR" {
            return Err(ctx.unsupported(format!("kernel `{}` without support vectors", m.kernel)));
        }
        n.push(gemm(1.0), vec![m.x.clone(), mat(1, f, m.coef.clone()), vec1(vec![rho])])
    } else {
        if m.sv.len() != n_sv * f || m.coef.len() != n_sv {
            return Err(ctx.err(format!("{} support-vector values and {} coefficients for {n_sv} vectors of {f} features", m.sv.len(), m.coef.len())));
        }
        if m.kernel == "LINEAR" {
            // Σ_j c_j (x·s_j) = x·(Σ_j c_j s_j): one Gemm by the folded weights.
            let w: Vec<f32> = (0..f).map(|k| (0..n_sv).map(|j| m.coef[j] as f64 * m.sv[j * f + k] as f64).sum::<f64>() as f32).collect();
            n.push(gemm(1.0), vec![m.x.clone(), mat(1, f, w), vec1(vec![rho])])
        } else {
            let k = kernel_values(ctx, &mut n, &m, n_sv)?;
            n.push(gemm(1.0), vec![k, mat(1, n_sv, m.coef.clone()), vec1(vec![rho])])
        }
    };
    let y = if one_class {
        let gt = n.push(Op::Compare(CompareOp::Greater), vec![score, scalar(0.0)]);
        let gt = n.push(Op::Cast { to: DType::F32 }, vec![gt]);
        let two = n.push(Op::Mul, vec![gt, scalar(2.0)]);
        n.push(Op::Sub, vec![two, scalar(1.0)])
    } else {
        score
    };
    Ok(n.done(vec![y]))
}

pub(crate) fn classifier(ctx: &Ctx) -> Result<Lowered> {
    let a = &ctx.attrs;
    if a.floats("prob_a")?.is_some_and(|v| !v.is_empty()) || a.floats("prob_b")?.is_some_and(|v| !v.is_empty()) {
        return Err(ctx.unsupported("probability estimates (prob_a / prob_b: Platt scaling with pairwise coupling); export the SVC with probability=False"));
    }
    let c = super::ml::classes(ctx, "classlabels_ints")?;
    let per_class = a.ints("vectors_per_class")?.unwrap_or_default();
    let per_class: Vec<usize> = per_class.iter().map(|&v| usize::try_from(v)).collect::<std::result::Result<_, _>>().map_err(|_| ctx.err(format!("vectors_per_class {per_class:?} holds a negative count")))?;
    let n_sv: usize = per_class.iter().sum();
    if n_sv == 0 {
        return Err(ctx.unsupported("the liblinear form without support vectors; export LinearSVC, which skl2onnx writes as a LinearClassifier"));
    }
    if c < 2 || per_class.len() != c {
        return Err(ctx.err(format!("vectors_per_class has {} entries for {c} classes", per_class.len())));
    }
    let mut n = Nodes::default();
    let m = common(ctx, &mut n)?;
    let pairs = c * (c - 1) / 2;
    if m.sv.len() != n_sv * m.f || m.coef.len() != (c - 1) * n_sv || m.rho.len() != pairs {
        return Err(ctx.err(format!(
            "{} support-vector values, {} coefficients and {} rho values for {n_sv} vectors of {} features in {c} classes (expected {}, {} and {pairs})",
            m.sv.len(),
            m.coef.len(),
            m.rho.len(),
            m.f,
            n_sv * m.f,
            (c - 1) * n_sv
        )));
    }
    let start: Vec<usize> = per_class.iter().scan(0, |s, &v| Some(std::mem::replace(s, *s + v))).collect();
    // W[ij][m]: C[j−1][m] over class i's vectors, C[i][m] over class j's; A, b: the vote map.
    let mut w = vec![0f32; pairs * n_sv];
    let mut votes_a = vec![0f32; c * pairs];
    let mut votes_b = vec![0f32; c];
    let mut k = 0;
    for i in 0..c {
        for j in i + 1..c {
            for v in start[i]..start[i] + per_class[i] {
                w[k * n_sv + v] = m.coef[(j - 1) * n_sv + v];
            }
            for v in start[j]..start[j] + per_class[j] {
                w[k * n_sv + v] = m.coef[i * n_sv + v];
            }
            // A is stored transposed ([classes, pairs]) for the Gemm's trans_b.
            votes_a[i * pairs + k] = 1.0;
            votes_a[j * pairs + k] = -1.0;
            votes_b[j] += 1.0;
            k += 1;
        }
    }
    let kv = kernel_values(ctx, &mut n, &m, n_sv)?;
    let d = n.push(gemm(1.0), vec![kv, mat(pairs, n_sv, w), vec1(m.rho.clone())]);
    let g = n.push(Op::Compare(CompareOp::Greater), vec![d.clone(), scalar(0.0)]);
    let g = n.push(Op::Cast { to: DType::F32 }, vec![g]);
    let votes = n.push(gemm(1.0), vec![g, mat(c, pairs, votes_a), vec1(votes_b)]);
    let label = n.push(Op::ArgMax { axis: 1, keepdims: false, select_last_index: false }, vec![votes]);
    let scores = if c == 2 {
        let neg = n.push(Op::Neg, vec![d.clone()]);
        n.push(Op::Concat { axis: 1 }, vec![neg, d])
    } else {
        d
    };
    Ok(n.done(vec![label, scores]))
}

#[cfg(test)]
mod tests {
    use crate::import::proto::onnx::{attribute_proto::AttributeType, AttributeProto, ModelProto, NodeProto};
    use crate::import::{import_bytes, ImportOptions};
    use prost::Message;

    /// The committed binary SVC with its SVMClassifier node changed by `edit`; the import result.
    fn import_edited(edit: impl FnOnce(&mut NodeProto)) -> Result<(), String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/ml_svc_poly_binary/model.onnx");
        let mut m = ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap();
        let node = m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.op_type.as_deref() == Some("SVMClassifier")).unwrap();
        edit(node);
        import_bytes(&m.encode_to_vec(), &ImportOptions::default()).map(|_| ()).map_err(|e| e.to_string())
    }

    fn floats(name: &str, v: Vec<f32>) -> AttributeProto {
        AttributeProto { name: Some(name.into()), r#type: Some(AttributeType::Floats as i32), floats: v, ..Default::default() }
    }

    fn set(node: &mut NodeProto, attr: AttributeProto) {
        node.attribute.retain(|a| a.name != attr.name);
        node.attribute.push(attr);
    }

    #[test]
    fn the_committed_classifier_imports() {
        import_edited(|_| {}).unwrap();
    }

    #[test]
    fn classifier_refusals_name_the_missing_piece() {
        let e = import_edited(|n| {
            set(n, floats("prob_a", vec![-1.0]));
            set(n, floats("prob_b", vec![0.1]));
        })
        .unwrap_err();
        assert!(e.contains("SVMClassifier") && e.contains("probability estimates"), "{e}");
        let e = import_edited(|n| {
            let p = n.attribute.iter_mut().find(|a| a.name.as_deref() == Some("post_transform")).unwrap();
            p.s = Some(b"LOGISTIC".to_vec());
        })
        .unwrap_err();
        assert!(e.contains("post_transform `LOGISTIC`"), "{e}");
        let e = import_edited(|n| {
            let v = n.attribute.iter_mut().find(|a| a.name.as_deref() == Some("vectors_per_class")).unwrap();
            v.ints = vec![0, 0];
        })
        .unwrap_err();
        assert!(e.contains("liblinear"), "{e}");
        let e = import_edited(|n| {
            let r = n.attribute.iter_mut().find(|a| a.name.as_deref() == Some("rho")).unwrap();
            r.floats.push(0.0);
        })
        .unwrap_err();
        assert!(e.contains("2 rho values"), "{e}");
        let e = import_edited(|n| {
            let r = n.attribute.iter_mut().find(|a| a.name.as_deref() == Some("kernel_type")).unwrap();
            r.s = Some(b"CUBIC".to_vec());
        })
        .unwrap_err();
        assert!(e.contains("kernel `CUBIC`"), "{e}");
    }
}
