//! Tree ensembles (`ai.onnx.ml` TreeEnsembleRegressor / TreeEnsembleClassifier scores): the sum
//! over trees of the weights of the leaf each sample reaches, plus base values. The ONNX
//! attributes are parsed in [`crate::ops::ml`]; post transforms and labels are separate IR ops.
//!
//! Float semantics: walk each tree from its root; a branch `x[f] (mode) θ` goes to its true
//! child when the comparison holds (`mode` ∈ `≤ < ≥ >`); `AVERAGE` aggregation is folded into the
//! leaf weights (divided by the number of trees) at import.
//!
//! Integer semantics (input `x` at scale `s`, every branch rewritten as `x_q[f] ≤ t → yes`):
//! `≤ θ`: `t = ⌊θ·2^s⌋`; `< θ`: `t = ⌈θ·2^s⌉ − 1`; `≥ θ` and `> θ` are the negations of
//! `< θ` and `≤ θ` (children swapped). So a branch decides exactly as the float comparison of
//! the quantized input `x_q / 2^s` with `θ`. Each branch's difference `d = t − x_q[f]` is
//! range-checked and its sign bit `c = [d ≥ 0]` taken (the same difference for one feature and
//! threshold is computed once per sample). Leaf indicators: the root's is 1, a branch with
//! indicator `I` gives `I·c` to its `yes` child and `I − I·c` to its `no` child, so exactly the
//! reached leaf has indicator 1. Output `y_k = base_k + Σ_leaves I_leaf · w_leaf,k`, leaf
//! weights and base values quantized at the activation scale.
//!
//! Circuit cost (`circuits/src/ops/tree.rs`) per sample: per distinct (feature, threshold) one
//! difference cell and one signed range check (its limbs; one lookup without limbs); per branch
//! two indicator cells (one at the root); per leaf and target one term of the output's dot chain.

use crate::error::{Error, Result};
use crate::kernels::KResult;
use crate::quant::exec::Checker;
use crate::quant::rules::{self, accumulate};
use crate::tensor::Tensor;
use ndarray::{Array2, ArrayD, Axis, IxDyn};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How a branch compares its feature with its threshold (the condition for the `yes` child).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    /// The two halves of an equality test `x = θ` (BRANCH_EQ / NEQ / MEMBER, expanded at import
    /// in [`crate::ops::ml_trees`]): in floats `x ≤ θ` and `x < θ`, but quantized against
    /// `round(θ·2^s)` (`x_q ≤ r` and `x_q ≤ r − 1`), so that together they hold exactly when
    /// `x_q = round(θ·2^s)` — θ is quantized like a parameter, and integer categories are exact.
    EqLeq,
    EqLt,
}

impl Mode {
    pub fn holds(&self, x: f32, t: f32) -> bool {
        match self {
            Mode::Leq | Mode::EqLeq => x <= t,
            Mode::Lt | Mode::EqLt => x < t,
            Mode::Gte => x >= t,
            Mode::Gt => x > t,
        }
    }
}

/// A node of one tree; children are indices into the tree's node list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TreeNode {
    Branch { feature: usize, mode: Mode, threshold: f32, yes: usize, no: usize },
    /// `(target, weight)` votes.
    Leaf { weights: Vec<(usize, f32)> },
}

/// Scores of a tree ensemble: input `[N, F]` (or `[F]`), output `[N, targets]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    pub features: usize,
    pub targets: usize,
    pub base: Vec<f32>,
    /// Each tree's nodes; node 0 is its root.
    pub trees: Vec<Vec<TreeNode>>,
}

/// A quantized branch: `x_q[feature] ≤ t` goes to `yes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum QTreeNode {
    Branch { feature: usize, t: i64, yes: usize, no: usize },
    Leaf { weights: Vec<(usize, i64)> },
}

/// The quantized ensemble (module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QTreeEnsemble {
    pub features: usize,
    pub targets: usize,
    pub base: Vec<i64>,
    pub trees: Vec<Vec<QTreeNode>>,
}

impl QTreeEnsemble {
    /// The distinct `(feature, t)` comparisons, in first-use order (tree by tree, node by node).
    pub fn comparisons(&self) -> Vec<(usize, i64)> {
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for tree in &self.trees {
            for n in tree {
                if let QTreeNode::Branch { feature, t, .. } = n {
                    if seen.insert((*feature, *t), ()).is_none() {
                        out.push((*feature, *t));
                    }
                }
            }
        }
        out
    }
    /// Nodes of a tree in an order where every parent precedes its children (breadth first from
    /// the root).
    pub fn order(tree: &[QTreeNode]) -> Vec<usize> {
        let mut order = vec![0];
        let mut i = 0;
        while i < order.len() {
            if let QTreeNode::Branch { yes, no, .. } = &tree[order[i]] {
                order.push(*yes);
                order.push(*no);
            }
            i += 1;
        }
        order
    }
}

/// Rows `[N, F]` of the input (a rank-1 input is one row).
fn rows<T: Clone>(x: &ArrayD<T>, features: usize) -> KResult<Array2<T>> {
    let n = match x.ndim() {
        1 => 1,
        2 => x.shape()[0],
        r => return Err(format!("a tree ensemble takes a [N, F] input, got rank {r}")),
    };
    if x.len() != n * features {
        return Err(format!("the trees read {features} features, the input has shape {:?}", x.shape()));
    }
    Ok(x.to_owned().into_shape_with_order((n, features)).map_err(|e| e.to_string())?)
}

/// The float kernel.
pub fn eval_float(t: &TreeEnsemble, ins: &[Tensor]) -> KResult<Vec<Tensor>> {
    let x = rows(&ins[0].to_f32(), t.features)?;
    let n = x.shape()[0];
    let mut y = ArrayD::<f32>::zeros(IxDyn(&[n, t.targets]));
    for (r, row) in x.axis_iter(Axis(0)).enumerate() {
        let mut acc = vec![0f64; t.targets];
        for tree in &t.trees {
            let mut i = 0;
            loop {
                match &tree[i] {
                    TreeNode::Branch { feature, mode, threshold, yes, no } => i = if mode.holds(row[*feature], *threshold) { *yes } else { *no },
                    TreeNode::Leaf { weights } => {
                        for &(k, w) in weights {
                            acc[k] += w as f64;
                        }
                        break;
                    }
                }
            }
        }
        for k in 0..t.targets {
            y[[r, k]] = (acc[k] + t.base[k] as f64) as f32;
        }
    }
    Ok(vec![Tensor::F32(y)])
}

/// `t` with `x_q ≤ t ⟺ (x_q / 2^s) mode θ` (module docs), and whether the children swap.
fn threshold(mode: Mode, theta: f32, s: u32) -> (f64, bool) {
    let v = theta as f64 * (s as f64).exp2();
    match mode {
        Mode::Leq => (v.floor(), false),
        Mode::Lt => (v.ceil() - 1.0, false),
        Mode::Gte => (v.ceil() - 1.0, true),
        Mode::Gt => (v.floor(), true),
        Mode::EqLeq => (v.round(), false),
        Mode::EqLt => (v.round() - 1.0, false),
    }
}

/// Quantize the ensemble for an input at scale `s_in`, weights at `s_out`; `err` names the node.
pub fn quantize(t: &TreeEnsemble, s_in: u32, s_out: u32, err: impl Fn(String) -> Error) -> Result<QTreeEnsemble> {
    let limit = (1i64 << 40) as f64;
    let int = |v: f64, what: &str| -> Result<i64> {
        if !v.is_finite() || v.abs() > limit {
            return Err(err(format!("{what} {v} does not fit at this scale; lower input_scale")));
        }
        Ok(v as i64)
    };
    let trees = t
        .trees
        .iter()
        .map(|tree| {
            tree.iter()
                .map(|n| match n {
                    TreeNode::Branch { feature, mode, threshold: th, yes, no } => {
                        let (v, swap) = threshold(*mode, *th, s_in);
                        let (yes, no) = if swap { (*no, *yes) } else { (*yes, *no) };
                        Ok(QTreeNode::Branch { feature: *feature, t: int(v, "a threshold")?, yes, no })
                    }
                    TreeNode::Leaf { weights } => Ok(QTreeNode::Leaf {
                        weights: weights.iter().map(|&(k, w)| Ok((k, int(rules::quantize(w as f64, s_out) as f64, "a leaf weight")?))).collect::<Result<_>>()?,
                    }),
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let base = t.base.iter().map(|&b| int(rules::quantize(b as f64, s_out) as f64, "a base value")).collect::<Result<_>>()?;
    Ok(QTreeEnsemble { features: t.features, targets: t.targets, base, trees })
}

/// The integer semantics: every branch's difference is range-checked (as the circuit does),
/// the leaf indicators computed as the circuit does, the outputs summed exactly.
pub(crate) fn eval_int(t: &QTreeEnsemble, x: &ArrayD<i64>, c: &mut Checker) -> Result<Vec<ArrayD<i64>>> {
    let xr = rows(x, t.features).map_err(|e| c.invalid(e))?;
    let n = xr.shape()[0];
    let cmps = t.comparisons();
    let mut y = ArrayD::<i64>::zeros(IxDyn(&[n, t.targets]));
    for (r, row) in xr.axis_iter(Axis(0)).enumerate() {
        let mut sign: HashMap<(usize, i64), i64> = HashMap::with_capacity(cmps.len());
        for &(f, th) in &cmps {
            let d = rules::bounded(th as i128 - row[f] as i128);
            c.check(d)?;
            sign.insert((f, th), (d >= 0) as i64);
        }
        let mut acc = t.base.clone();
        for tree in &t.trees {
            let mut ind = vec![0i64; tree.len()];
            ind[0] = 1;
            for i in QTreeEnsemble::order(tree) {
                match &tree[i] {
                    QTreeNode::Branch { feature, t: th, yes, no } => {
                        let s = sign[&(*feature, *th)];
                        ind[*yes] = ind[i] * s;
                        ind[*no] = ind[i] - ind[*yes];
                    }
                    QTreeNode::Leaf { weights } => {
                        for &(k, w) in weights {
                            acc[k] = accumulate(acc[k], ind[i] as i128 * w as i128);
                        }
                    }
                }
            }
        }
        for k in 0..t.targets {
            if rules::overflowed(acc[k]) {
                return Err(Error::Arithmetic { node: c.node.into(), op: c.op.into(), reason: "integer overflow; lower input_scale".into() });
            }
            y[[r, k]] = acc[k];
        }
    }
    Ok(vec![y])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_thresholds_decide_as_the_float_comparison_of_the_quantized_input() {
        // For every mode and a few thresholds, x_q ≤ t ⟺ (x_q / 2^s) mode θ, for x_q around θ.
        let s = 4;
        for mode in [Mode::Leq, Mode::Lt, Mode::Gte, Mode::Gt] {
            for theta in [0.5f32, 0.53, -1.25, -0.3, 3.0] {
                let (t, swap) = threshold(mode, theta, s);
                for xq in -80i64..80 {
                    let x = xq as f32 / 16.0;
                    let le = xq as f64 <= t;
                    assert_eq!(le != swap, mode.holds(x, theta), "{mode:?} θ={theta} x_q={xq}");
                }
            }
        }
    }

    #[test]
    fn the_halves_of_an_equality_test_hold_together_exactly_at_the_rounded_threshold() {
        let s = 4;
        for theta in [0.5f32, 0.53, -1.25, -0.3, 3.0, 2.0] {
            let (le, _) = threshold(Mode::EqLeq, theta, s);
            let (lt, _) = threshold(Mode::EqLt, theta, s);
            let r = (theta as f64 * 16.0).round() as i64;
            for xq in -80i64..80 {
                assert_eq!(xq as f64 <= le && !(xq as f64 <= lt), xq == r, "θ={theta} x_q={xq}");
            }
        }
    }
}
