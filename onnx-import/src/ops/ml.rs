//! The `ai.onnx.ml` domain: the tabular models scikit-learn, XGBoost and LightGBM users bring
//! (converted by skl2onnx / onnxmltools), lowered to IR ops that are proved like any other:
//!
//! | ONNX (ai.onnx.ml)      | lowered to |
//! |------------------------|------------|
//! | LinearRegressor        | `Gemm` (+ post transform) |
//! | LinearClassifier       | `Gemm`, post transform, label `ArgMax` of the raw scores |
//! | TreeEnsembleRegressor  | [`TreeEnsemble`] (+ post transform) |
//! | TreeEnsembleClassifier | [`TreeEnsemble`], post transform, label (`ArgMax`, or `Greater` in the binary case) |
//! | TreeEnsemble (ml opset 5) | [`TreeEnsemble`] (+ post transform); structure in [`crate::ops::ml_trees`] |
//! | Scaler                 | `Sub`, `Mul` |
//! | Normalizer             | `Div` by `ReduceSum(Abs)` (L1), `Sqrt(ReduceSum(x²))` (L2) or `ReduceMax` (MAX) |
//! | Binarizer              | `Greater`, `Cast` |
//! | ArrayFeatureExtractor  | `Gather` (constant indices) |
//! | SVMRegressor           | `Gemm`s and a kernel lookup ([`crate::ops::svm`]) |
//! | SVMClassifier          | kernel values, one `Gemm` to the one-vs-one decision values, votes as a `Gemm` of `[d > 0]`, `ArgMax` ([`crate::ops::svm`]) |
//! | LabelEncoder (numeric) | `default`, then per key `Where(x = key, value, ·)` |
//! | ZipMap                 | dropped: the output stays the probability tensor |
//!
//! Post transforms: `NONE`, `LOGISTIC` (`Sigmoid`), `SOFTMAX` (`Softmax` over the classes),
//! `SOFTMAX_ZERO` (a softmax that keeps zero scores at zero: [`apply_post`]). Branch modes: the
//! four comparisons, and BRANCH_EQ / NEQ / MEMBER expanded into them ([`crate::ops::ml_trees`]).
//! The label is the index of the largest raw score (post transforms are monotone), so class
//! labels must be `0..n` (string labels are refused by name). A binary tree classifier with one
//! score column (weights for one class) follows onnxruntime: probabilities `[1 − p, p]` with
//! `p = sigmoid(score)` (LOGISTIC) or `p = score` (NONE, non-negative weights; `[−s, s]`
//! otherwise), label `[score > 0]` (`> 0.5` for NONE with non-negative weights).

use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Nodes, Src};
use crate::ir::Op;
use crate::ops::compare::CompareOp;
use crate::ops::ml_trees::{floats_or_tensor, ints_req, parse_trees};
use crate::ops::tree::{TreeEnsemble, TreeNode};
use crate::tensor::{DType, Tensor};
use ndarray::{ArrayD, IxDyn};

/// Lower an `ai.onnx.ml` node.
pub(crate) fn lower(ctx: &Ctx) -> Result<Lowered> {
    let a = &ctx.attrs;
    match ctx.op {
        "LinearRegressor" => linear(ctx, false),
        "LinearClassifier" => linear(ctx, true),
        "TreeEnsembleRegressor" => trees(ctx, false),
        "TreeEnsembleClassifier" => trees(ctx, true),
        "TreeEnsemble" => crate::ops::ml_trees::ensemble(ctx),
        "SVMRegressor" => crate::ops::svm::regressor(ctx),
        "SVMClassifier" => crate::ops::svm::classifier(ctx),
        "Scaler" => {
            let f = features(ctx)?;
            let offset = a.floats("offset")?.unwrap_or_default();
            let scale = a.floats("scale")?.unwrap_or_default();
            let vec = |v: Vec<f32>, d: f32, what: &str| -> Result<Tensor> {
                match v.len() {
                    0 => Ok(scalar(d)),
                    1 => Ok(scalar(v[0])),
                    n if n == f => Ok(Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[f]), v).expect("length checked"))),
                    n => Err(ctx.err(format!("{what} has {n} values for {f} features"))),
                }
            };
            let mut nodes = Nodes::default();
            let shifted = nodes.push(Op::Sub, vec![Src::In(0), Src::Const(vec(offset, 0.0, "offset")?)]);
            let y = nodes.push(Op::Mul, vec![shifted, Src::Const(vec(scale, 1.0, "scale")?)]);
            Ok(nodes.done(vec![y]))
        }
        "Normalizer" => {
            let axes = vec![ctx.rank(0)?.max(1) - 1];
            let norm = a.string("norm")?.unwrap_or_else(|| "MAX".into());
            let mut nodes = Nodes::default();
            let denom = match norm.as_str() {
                "MAX" => nodes.push(Op::ReduceMax { axes, keepdims: true }, vec![Src::In(0)]),
                "L1" => {
                    let abs = nodes.push(Op::Abs, vec![Src::In(0)]);
                    nodes.push(Op::ReduceSum { axes, keepdims: true }, vec![abs])
                }
                "L2" => {
                    let sq = nodes.push(Op::Mul, vec![Src::In(0), Src::In(0)]);
                    let s = nodes.push(Op::ReduceSum { axes, keepdims: true }, vec![sq]);
                    nodes.push(Op::Sqrt, vec![s])
                }
                other => return Err(ctx.unsupported(format!("norm `{other}`"))),
            };
            let y = nodes.push(Op::Div, vec![Src::In(0), denom]);
            Ok(nodes.done(vec![y]))
        }
        "Binarizer" => {
            let t = a.float_or("threshold", 0.0)?;
            let mut nodes = Nodes::default();
            let gt = nodes.push(Op::Compare(CompareOp::Greater), vec![Src::In(0), Src::Const(scalar(t))]);
            let y = nodes.push(Op::Cast { to: DType::F32 }, vec![gt]);
            Ok(nodes.done(vec![y]))
        }
        "ArrayFeatureExtractor" => {
            let idx = ctx.const_ints(1, "indices")?.ok_or_else(|| ctx.err("missing input 1 (indices)"))?;
            let axis = ctx.rank(0)?.max(1) - 1;
            let indices = ArrayD::from_shape_vec(IxDyn(&[idx.len()]), idx).expect("1-d");
            Ok(Lowered::Op { op: Op::Gather { axis, indices }, data: vec![0] })
        }
        "LabelEncoder" => label_encoder(ctx),
        "ZipMap" => {
            // Outputs stay tensors: the probabilities, in class order.
            a.has("classlabels_int64s");
            a.has("classlabels_strings");
            Ok(Lowered::Alias(0))
        }
        _ => Err(ctx.unsupported("this ai.onnx.ml op is not supported by zkinfer (see the README for the supported list)")),
    }
}

fn scalar(v: f32) -> Tensor {
    Tensor::F32(ndarray::arr0(v).into_dyn())
}

/// Number of features of the `[N, F]` (or `[F]`) input.
fn features(ctx: &Ctx) -> Result<usize> {
    let s = ctx.shape(0)?;
    match s.len() {
        1 => Ok(s[0]),
        2 => Ok(s[1]),
        r => Err(ctx.err(format!("takes a [N, F] input, got rank {r}"))),
    }
}

/// The input as `[N, F]` rows (a rank-1 input reshaped to one row).
fn rows_input(ctx: &Ctx, nodes: &mut Nodes) -> Result<Src> {
    let s = ctx.shape(0)?;
    Ok(if s.len() == 1 { nodes.push(Op::Reshape { shape: vec![1, s[0]] }, vec![Src::In(0)]) } else { Src::In(0) })
}

fn post_transform(ctx: &Ctx, nodes: &mut Nodes, scores: Src) -> Result<Src> {
    let p = ctx.attrs.string("post_transform")?.unwrap_or_else(|| "NONE".into());
    apply_post(ctx, nodes, scores, &p)
}

/// A post transform over the classes (axis 1) of `[N, C]` scores. SOFTMAX_ZERO is onnxruntime's:
/// zero scores stay zero, the others are `exp(v − max) / Σ_{v ≠ 0} exp(v − max)` (max over all).
pub(crate) fn apply_post(ctx: &Ctx, nodes: &mut Nodes, scores: Src, name: &str) -> Result<Src> {
    Ok(match name {
        "NONE" => scores,
        "LOGISTIC" => nodes.push(Op::Sigmoid, vec![scores]),
        "SOFTMAX" => nodes.push(Op::Softmax { axis: 1, flatten: false }, vec![scores]),
        "SOFTMAX_ZERO" => {
            let m = nodes.push(Op::ReduceMax { axes: vec![1], keepdims: true }, vec![scores.clone()]);
            let d = nodes.push(Op::Sub, vec![scores.clone(), m]);
            let e = nodes.push(Op::Exp, vec![d]);
            let z = nodes.push(Op::Compare(CompareOp::Equal), vec![scores, Src::Const(scalar(0.0))]);
            let nz = nodes.push(Op::Compare(CompareOp::Not), vec![z]);
            let nz = nodes.push(Op::Cast { to: DType::F32 }, vec![nz]);
            let e = nodes.push(Op::Mul, vec![e, nz]);
            let s = nodes.push(Op::ReduceSum { axes: vec![1], keepdims: true }, vec![e.clone()]);
            nodes.push(Op::Div, vec![e, s])
        }
        other => return Err(ctx.unsupported(format!("post_transform `{other}` (NONE, LOGISTIC, SOFTMAX and SOFTMAX_ZERO are supported)"))),
    })
}

/// Number of classes; labels must be `0..n`.
pub(crate) fn classes(ctx: &Ctx, int_key: &str) -> Result<usize> {
    let a = &ctx.attrs;
    if a.strings("classlabels_strings")?.is_some_and(|s| !s.is_empty()) {
        return Err(ctx.unsupported("string class labels (classlabels_strings); re-export with integer labels 0..n-1"));
    }
    let labels = a.ints(int_key)?.ok_or_else(|| ctx.err(format!("missing `{int_key}`")))?;
    if labels.iter().enumerate().any(|(i, &l)| l != i as i64) {
        return Err(ctx.unsupported(format!("class labels {labels:?}: only the labels 0..n-1 are supported")));
    }
    Ok(labels.len())
}

fn argmax_label(nodes: &mut Nodes, scores: Src) -> Src {
    nodes.push(Op::ArgMax { axis: 1, keepdims: false, select_last_index: false }, vec![scores])
}

/// LinearRegressor (`Y = X·Cᵀ + b`, `targets` columns) and LinearClassifier.
fn linear(ctx: &Ctx, classifier: bool) -> Result<Lowered> {
    let a = &ctx.attrs;
    let f = features(ctx)?;
    let coef = a.floats("coefficients")?.ok_or_else(|| ctx.err("missing `coefficients`"))?;
    if f == 0 || coef.len() % f != 0 {
        return Err(ctx.err(format!("{} coefficients do not split into rows of {f} features", coef.len())));
    }
    let rows = coef.len() / f;
    let intercepts = a.floats("intercepts")?.unwrap_or_default();
    let b = match intercepts.len() {
        0 => vec![0.0; rows],
        n if n == rows => intercepts,
        n => return Err(ctx.err(format!("{n} intercepts for {rows} coefficient rows"))),
    };
    if classifier {
        a.has("multi_class");
        let c = classes(ctx, "classlabels_ints")?;
        if c != rows {
            return Err(ctx.unsupported(format!("{rows} coefficient rows for {c} classes (a binary classifier with one row is not supported)")));
        }
    } else {
        let t = a.int_or("targets", 1)? as usize;
        if t != rows {
            return Err(ctx.err(format!("targets = {t} but the coefficients hold {rows} rows")));
        }
    }
    let mut nodes = Nodes::default();
    let x = rows_input(ctx, &mut nodes)?;
    let w = Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[rows, f]), coef).expect("length checked"));
    let bias = Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[rows]), b).expect("length checked"));
    let gemm = Op::Gemm { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: true };
    let raw = nodes.push(gemm, vec![x, Src::Const(w), Src::Const(bias)]);
    let scores = post_transform(ctx, &mut nodes, raw.clone())?;
    if classifier {
        let label = argmax_label(&mut nodes, raw);
        Ok(nodes.done(vec![label, scores]))
    } else {
        Ok(nodes.done(vec![scores]))
    }
}

/// TreeEnsembleRegressor and TreeEnsembleClassifier.
fn trees(ctx: &Ctx, classifier: bool) -> Result<Lowered> {
    let a = &ctx.attrs;
    let f = features(ctx)?;
    let base = floats_or_tensor(ctx, "base_values")?.unwrap_or_default();
    let mut nodes = Nodes::default();
    let x = rows_input(ctx, &mut nodes)?;
    if !classifier {
        let targets = a.int_or("n_targets", 1)? as usize;
        let mut trees = parse_trees(ctx, "target", f, targets, &|id| usize::try_from(id).ok())?;
        match a.string("aggregate_function")?.as_deref().unwrap_or("SUM") {
            "SUM" => {}
            "AVERAGE" => {
                let n = trees.len() as f32;
                for t in &mut trees {
                    for node in t {
                        if let TreeNode::Leaf { weights } = node {
                            weights.iter_mut().for_each(|(_, w)| *w /= n);
                        }
                    }
                }
            }
            other => return Err(ctx.unsupported(format!("aggregate_function `{other}` (SUM and AVERAGE are supported)"))),
        }
        let base = base_vec(ctx, base, targets)?;
        let raw = nodes.push(Op::Tree(TreeEnsemble { features: f, targets, base, trees }), vec![x]);
        let y = post_transform(ctx, &mut nodes, raw)?;
        return Ok(nodes.done(vec![y]));
    }
    let c = classes(ctx, "classlabels_int64s")?;
    let ids = ints_req(ctx, "class_ids")?;
    let binary = c == 2 && !ids.is_empty() && ids.iter().all(|&i| i == ids[0]);
    if !binary {
        let trees = parse_trees(ctx, "class", f, c, &|id| usize::try_from(id).ok())?;
        let base = base_vec(ctx, base, c)?;
        let raw = nodes.push(Op::Tree(TreeEnsemble { features: f, targets: c, base, trees }), vec![x]);
        let probs = post_transform(ctx, &mut nodes, raw.clone())?;
        let label = argmax_label(&mut nodes, raw);
        return Ok(nodes.done(vec![label, probs]));
    }
    // Binary with one score column (module docs).
    let positive = floats_or_tensor(ctx, "class_weights")?.unwrap_or_default().iter().all(|&w| w >= 0.0);
    let trees = parse_trees(ctx, "class", f, 1, &|_| Some(0))?;
    let base = base_vec(ctx, base, 1)?;
    let raw = nodes.push(Op::Tree(TreeEnsemble { features: f, targets: 1, base, trees }), vec![x]);
    let post = a.string("post_transform")?.unwrap_or_else(|| "NONE".into());
    let (p, low, cut) = match post.as_str() {
        "LOGISTIC" => {
            let p = nodes.push(Op::Sigmoid, vec![raw.clone()]);
            let q = nodes.push(Op::Sub, vec![Src::Const(scalar(1.0)), p.clone()]);
            (p, q, 0.0)
        }
        "NONE" if positive => {
            let q = nodes.push(Op::Sub, vec![Src::Const(scalar(1.0)), raw.clone()]);
            (raw.clone(), q, 0.5)
        }
        "NONE" => {
            let q = nodes.push(Op::Neg, vec![raw.clone()]);
            (raw.clone(), q, 0.0)
        }
        other => return Err(ctx.unsupported(format!("post_transform `{other}` for a binary tree classifier (NONE and LOGISTIC are supported)"))),
    };
    let probs = nodes.push(Op::Concat { axis: 1 }, vec![low, p]);
    let gt = nodes.push(Op::Compare(CompareOp::Greater), vec![raw, Src::Const(scalar(cut))]);
    let n = if ctx.shape(0)?.len() == 1 { 1 } else { ctx.shape(0)?[0] };
    let label = nodes.push(Op::Reshape { shape: vec![n] }, vec![gt]);
    Ok(nodes.done(vec![label, probs]))
}

fn base_vec(ctx: &Ctx, base: Vec<f32>, n: usize) -> Result<Vec<f32>> {
    match base.len() {
        0 => Ok(vec![0.0; n]),
        l if l == n => Ok(base),
        l => Err(ctx.err(format!("{l} base values for {n} outputs"))),
    }
}

/// LabelEncoder with numeric keys and values (ml opsets 2–4): `y = value_i` where `x = key_i`,
/// else the default. Lowered to a chain over the keys, `acc ← Where(Equal(x, key_i), value_i,
/// acc)` from `acc = default`, so each key costs one equality test and one selection per element.
/// Integer keys compare exactly (integer inputs are at scale 0); float keys compare the quantized
/// input with the key quantized at the input's scale.
fn label_encoder(ctx: &Ctx) -> Result<Lowered> {
    let a = &ctx.attrs;
    for key in ["keys_strings", "values_strings", "classes_strings"] {
        if a.strings(key)?.is_some_and(|v| !v.is_empty()) {
            return Err(ctx.unsupported(format!("string labels (`{key}`): only numeric keys and values are supported")));
        }
    }
    a.has("default_string");
    // Keys and values as integers (`true`) or floats.
    let read = |ints: &str, floats: &str, tensor: &str| -> Result<Option<(bool, Vec<f64>)>> {
        if let Some(v) = a.ints(ints)?.filter(|v| !v.is_empty()) {
            return Ok(Some((true, v.iter().map(|&x| x as f64).collect())));
        }
        if let Some(v) = a.floats(floats)?.filter(|v| !v.is_empty()) {
            return Ok(Some((false, v.iter().map(|&x| x as f64).collect())));
        }
        Ok(match a.tensor(tensor)? {
            Some(Tensor::I64(t)) => Some((true, t.iter().map(|&x| x as f64).collect())),
            Some(Tensor::F32(t)) => Some((false, t.iter().map(|&x| x as f64).collect())),
            None => None,
        })
    };
    let (_, keys) = read("keys_int64s", "keys_floats", "keys_tensor")?.ok_or_else(|| ctx.unsupported("no numeric keys (keys_int64s, keys_floats or keys_tensor)"))?;
    let (int_values, values) = read("values_int64s", "values_floats", "values_tensor")?.ok_or_else(|| ctx.unsupported("no numeric values (values_int64s, values_floats or values_tensor)"))?;
    if keys.len() != values.len() {
        return Err(ctx.err(format!("{} keys for {} values", keys.len(), values.len())));
    }
    let default = match a.tensor("default_tensor")? {
        Some(t) => t.to_f32().iter().next().copied().unwrap_or(0.0) as f64,
        None if int_values => a.int_or("default_int64", -1)? as f64,
        None => {
            let d = a.float("default_float")?;
            a.has("default_int64");
            d.unwrap_or(-0.0) as f64
        }
    };
    if int_values {
        a.has("default_float");
    }
    let num = |v: f64| if int_values { Tensor::I64(ndarray::arr0(v as i64).into_dyn()) } else { scalar(v as f32) };
    let mut nodes = Nodes::default();
    let mut acc = None;
    for (k, v) in keys.iter().zip(&values) {
        let eq = nodes.push(Op::Compare(CompareOp::Equal), vec![Src::In(0), Src::Const(scalar(*k as f32))]);
        let prev = acc.take().unwrap_or(Src::Const(num(default)));
        acc = Some(nodes.push(Op::Compare(CompareOp::Where), vec![eq, Src::Const(num(*v)), prev]));
    }
    let y = acc.ok_or_else(|| ctx.err("no keys"))?;
    Ok(nodes.done(vec![y]))
}
