//! Tree structure of the `ai.onnx.ml` tree ensembles: the `nodes_*` lists of
//! TreeEnsembleRegressor / TreeEnsembleClassifier (ml opsets 1–3) and of TreeEnsemble (ml opset
//! 5) parsed into the [`TreeNode`] lists of [`crate::ops::tree`].
//!
//! Equality branches are expanded here into the two-sided comparisons the tree layout proves:
//! `x = θ` (BRANCH_EQ) becomes `x ≤ θ ? (x < θ ? no : yes) : no`, with the
//! [`Mode::EqLeq`] / [`Mode::EqLt`] halves (quantized against `round(θ·2^s)`, so the pair holds
//! exactly when the quantized feature equals the quantized θ); BRANCH_NEQ is the same with the
//! children swapped; BRANCH_MEMBER (`x ∈ {v₁, …, v_k}`) is a chain of `k` equality tests that
//! all lead to the true child. The expansion copies the false subtree of each equality test
//! (a tree has no shared nodes), so a tree is refused past [`MAX_EXPANDED`] nodes. Cost in the
//! circuit: an equality branch costs two branches.

use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Nodes, Src};
use crate::ir::Op;
use crate::ops::tree::{Mode, TreeEnsemble, TreeNode};
use std::collections::HashMap;

/// Nodes one tree may have after equality tests are expanded.
pub const MAX_EXPANDED: usize = 1 << 16;

/// A branch condition as the ONNX attributes state it.
#[derive(Clone)]
enum Cond {
    Cmp(Mode, f32),
    /// `x = θ` (a NEQ swaps the children).
    Eq(f32),
}

/// A node before expansion; children index the same list.
#[derive(Clone)]
enum Raw {
    Branch { feature: usize, cond: Cond, yes: usize, no: usize },
    Leaf { weights: Vec<(usize, f32)> },
}

/// The tree under `root` as basic-mode nodes, its root first.
fn expand(ctx: &Ctx, raw: &[Raw], root: usize, tid: i64) -> Result<Vec<TreeNode>> {
    let placeholder = || TreeNode::Leaf { weights: vec![] };
    let mut out = vec![placeholder()];
    let mut tasks = vec![(root, 0usize)];
    while let Some((r, slot)) = tasks.pop() {
        if out.len() > MAX_EXPANDED {
            return Err(ctx.unsupported(format!(
                "tree {tid} has more than {MAX_EXPANDED} nodes once its equality tests are expanded (or it has a cycle)"
            )));
        }
        let new = |out: &mut Vec<TreeNode>| {
            out.push(placeholder());
            out.len() - 1
        };
        match &raw[r] {
            Raw::Leaf { weights } => out[slot] = TreeNode::Leaf { weights: weights.clone() },
            Raw::Branch { feature, cond: Cond::Cmp(mode, threshold), yes, no } => {
                let (a, b) = (new(&mut out), new(&mut out));
                out[slot] = TreeNode::Branch { feature: *feature, mode: *mode, threshold: *threshold, yes: a, no: b };
                tasks.push((*yes, a));
                tasks.push((*no, b));
            }
            Raw::Branch { feature, cond: Cond::Eq(threshold), yes, no } => {
                // x ≤ θ ? (x < θ ? no : yes) : no
                let (lt, above) = (new(&mut out), new(&mut out));
                let (below, equal) = (new(&mut out), new(&mut out));
                let f = *feature;
                out[slot] = TreeNode::Branch { feature: f, mode: Mode::EqLeq, threshold: *threshold, yes: lt, no: above };
                out[lt] = TreeNode::Branch { feature: f, mode: Mode::EqLt, threshold: *threshold, yes: below, no: equal };
                tasks.push((*no, above));
                tasks.push((*no, below));
                tasks.push((*yes, equal));
            }
        }
    }
    Ok(out)
}

/// Floats of an attribute or of its `_as_tensor` form.
pub(crate) fn floats_or_tensor(ctx: &Ctx, key: &str) -> Result<Option<Vec<f32>>> {
    if let Some(v) = ctx.attrs.floats(key)? {
        if !v.is_empty() {
            ctx.attrs.has(&format!("{key}_as_tensor"));
            return Ok(Some(v));
        }
    }
    Ok(ctx.attrs.tensor(&format!("{key}_as_tensor"))?.map(|t| t.to_f32().iter().copied().collect()))
}

pub(crate) fn ints_req(ctx: &Ctx, key: &str) -> Result<Vec<i64>> {
    ctx.attrs.ints(key)?.ok_or_else(|| ctx.err(format!("missing `{key}`")))
}

/// A branch's feature index, checked against the input's `features`; `at` names the node.
fn feature_of(ctx: &Ctx, f: i64, features: usize, at: &str) -> Result<usize> {
    usize::try_from(f).ok().filter(|&v| v < features).ok_or_else(|| ctx.err(format!("{at} reads feature {f} of {features}")))
}

/// Parse the ml opset 1–3 `nodes_*` and `{prefix}_*` vote attributes into trees. `target_of`
/// maps a vote's target (class) id to an output column.
pub(crate) fn parse_trees(ctx: &Ctx, prefix: &str, features: usize, targets: usize, target_of: &dyn Fn(i64) -> Option<usize>) -> Result<Vec<Vec<TreeNode>>> {
    let a = &ctx.attrs;
    let tree_ids = ints_req(ctx, "nodes_treeids")?;
    let node_ids = ints_req(ctx, "nodes_nodeids")?;
    let feats = ints_req(ctx, "nodes_featureids")?;
    let modes = a.strings("nodes_modes")?.ok_or_else(|| ctx.err("missing `nodes_modes`"))?;
    let values = floats_or_tensor(ctx, "nodes_values")?.unwrap_or_default();
    let yes = ints_req(ctx, "nodes_truenodeids")?;
    let no = ints_req(ctx, "nodes_falsenodeids")?;
    // Hit rates only guide evaluation order; missing-value tracks matter for NaN inputs, which
    // quantization maps to 0 (documented limitation).
    floats_or_tensor(ctx, "nodes_hitrates")?;
    a.has("nodes_missing_value_tracks_true");
    let n = tree_ids.len();
    if [node_ids.len(), feats.len(), modes.len(), yes.len(), no.len()].iter().any(|&l| l != n) || (values.len() != n && !values.is_empty()) {
        return Err(ctx.err("the nodes_* attributes have different lengths"));
    }
    let v_tree = ints_req(ctx, &format!("{prefix}_treeids"))?;
    let v_node = ints_req(ctx, &format!("{prefix}_nodeids"))?;
    let v_id = ints_req(ctx, &format!("{prefix}_ids"))?;
    let v_w = floats_or_tensor(ctx, &format!("{prefix}_weights"))?.ok_or_else(|| ctx.err(format!("missing `{prefix}_weights`")))?;
    if [v_node.len(), v_id.len(), v_w.len()].iter().any(|&l| l != v_tree.len()) {
        return Err(ctx.err(format!("the {prefix}_* attributes have different lengths")));
    }
    let mut votes: HashMap<(i64, i64), Vec<(usize, f32)>> = HashMap::new();
    for i in 0..v_tree.len() {
        let t = target_of(v_id[i]).filter(|&t| t < targets).ok_or_else(|| ctx.err(format!("{prefix}_ids holds {}, outside the {targets} outputs", v_id[i])))?;
        votes.entry((v_tree[i], v_node[i])).or_default().push((t, v_w[i]));
    }
    // Trees in order of first appearance; nodes of a tree in their listed order.
    let mut tree_index: HashMap<i64, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, &t) in tree_ids.iter().enumerate() {
        let k = *tree_index.entry(t).or_insert_with(|| {
            members.push(Vec::new());
            members.len() - 1
        });
        members[k].push(i);
    }
    let mut trees = Vec::with_capacity(members.len());
    for m in &members {
        let tid = tree_ids[m[0]];
        let local: HashMap<i64, usize> = m.iter().enumerate().map(|(j, &i)| (node_ids[i], j)).collect();
        if local.len() != m.len() {
            return Err(ctx.err(format!("tree {tid} lists a node id twice")));
        }
        let child = |id: i64| local.get(&id).copied().ok_or_else(|| ctx.err(format!("tree {tid} refers to node {id}, which it does not have")));
        let mut raw = Vec::with_capacity(m.len());
        let mut is_child = vec![false; m.len()];
        for &i in m {
            let theta = || values.get(i).copied().ok_or_else(|| ctx.err("missing nodes_values"));
            let (y, nn) = if modes[i] == "LEAF" { (0, 0) } else { (child(yes[i])?, child(no[i])?) };
            let (cond, y, nn) = match modes[i].as_str() {
                "LEAF" => {
                    raw.push(Raw::Leaf { weights: votes.remove(&(tid, node_ids[i])).unwrap_or_default() });
                    continue;
                }
                "BRANCH_LEQ" => (Cond::Cmp(Mode::Leq, theta()?), y, nn),
                "BRANCH_LT" => (Cond::Cmp(Mode::Lt, theta()?), y, nn),
                "BRANCH_GTE" => (Cond::Cmp(Mode::Gte, theta()?), y, nn),
                "BRANCH_GT" => (Cond::Cmp(Mode::Gt, theta()?), y, nn),
                "BRANCH_EQ" => (Cond::Eq(theta()?), y, nn),
                "BRANCH_NEQ" => (Cond::Eq(theta()?), nn, y),
                other => return Err(ctx.unsupported(format!("branch mode `{other}` (tree {tid}, node {})", node_ids[i]))),
            };
            is_child[y] = true;
            is_child[nn] = true;
            raw.push(Raw::Branch { feature: feature_of(ctx, feats[i], features, &format!("tree {tid} node {}", node_ids[i]))?, cond, yes: y, no: nn });
        }
        let roots: Vec<usize> = (0..m.len()).filter(|&j| !is_child[j]).collect();
        if roots.len() != 1 {
            return Err(ctx.err(format!("tree {tid} has {} roots", roots.len())));
        }
        trees.push(expand(ctx, &raw, roots[0], tid)?);
    }
    if let Some(((t, n), _)) = votes.into_iter().next() {
        return Err(ctx.err(format!("a vote for tree {t} node {n}, which is not a leaf")));
    }
    Ok(trees)
}

/// `TreeEnsemble` (ml opset 5): one output `[N, n_targets]`, no base values; `aggregate_function`
/// and `post_transform` are enumerations (SUM / AVERAGE; NONE / SOFTMAX / LOGISTIC /
/// SOFTMAX_ZERO).
pub(crate) fn ensemble(ctx: &Ctx) -> Result<Lowered> {
    let a = &ctx.attrs;
    let s = ctx.shape(0)?;
    if s.len() != 2 {
        return Err(ctx.err(format!("takes a [N, F] input, got {s:?}")));
    }
    let f = s[1];
    let ints_t = |key: &str| -> Result<Vec<i64>> {
        let t = a.tensor(key)?.ok_or_else(|| ctx.err(format!("missing `{key}`")))?;
        Ok(t.to_i64().ok_or_else(|| ctx.err(format!("`{key}` must hold integers")))?.iter().copied().collect())
    };
    let floats_t = |key: &str| -> Result<Option<Vec<f32>>> { Ok(a.tensor(key)?.map(|t| t.to_f32().iter().copied().collect())) };
    let feats = ints_req(ctx, "nodes_featureids")?;
    let modes = ints_t("nodes_modes")?;
    let splits = floats_t("nodes_splits")?.ok_or_else(|| ctx.err("missing `nodes_splits`"))?;
    let (ty, fy) = (ints_req(ctx, "nodes_truenodeids")?, ints_req(ctx, "nodes_falsenodeids")?);
    let (tl, fl) = (ints_req(ctx, "nodes_trueleafs")?, ints_req(ctx, "nodes_falseleafs")?);
    let leaf_t = ints_req(ctx, "leaf_targetids")?;
    let leaf_w = floats_t("leaf_weights")?.ok_or_else(|| ctx.err("missing `leaf_weights`"))?;
    let roots = ints_req(ctx, "tree_roots")?;
    let targets = usize::try_from(a.int("n_targets")?.ok_or_else(|| ctx.err("missing `n_targets`"))?).map_err(|_| ctx.err("negative n_targets"))?;
    let members = floats_t("membership_values")?.unwrap_or_default();
    floats_t("nodes_hitrates")?;
    a.has("nodes_missing_value_tracks_true");
    let n = feats.len();
    if [modes.len(), splits.len(), ty.len(), fy.len(), tl.len(), fl.len()].iter().any(|&l| l != n) || leaf_t.len() != leaf_w.len() {
        return Err(ctx.err("the nodes_* (or leaf_*) attributes have different lengths"));
    }
    // Raw nodes: 0..n the nodes_* entries, n.. the leaves, then the chains of BRANCH_MEMBER.
    let mut raw: Vec<Raw> = Vec::with_capacity(n + leaf_t.len());
    let child = |i: usize, id: i64, leaf: i64| -> Result<usize> {
        let (len, off) = if leaf != 0 { (leaf_t.len(), n) } else { (n, 0) };
        usize::try_from(id).ok().filter(|&v| v < len).map(|v| v + off).ok_or_else(|| ctx.err(format!("node {i} points to {} {id}, which does not exist", if leaf != 0 { "leaf" } else { "node" })))
    };
    let mut sets = members.split(|v| v.is_nan());
    let mut chains: Vec<(usize, Vec<f32>)> = Vec::new();
    for i in 0..n {
        let (y, no) = (child(i, ty[i], tl[i])?, child(i, fy[i], fl[i])?);
        let feature = feature_of(ctx, feats[i], f, &format!("node {i}"))?;
        let (cond, y, no) = match modes[i] {
            0 => (Cond::Cmp(Mode::Leq, splits[i]), y, no),
            1 => (Cond::Cmp(Mode::Lt, splits[i]), y, no),
            2 => (Cond::Cmp(Mode::Gte, splits[i]), y, no),
            3 => (Cond::Cmp(Mode::Gt, splits[i]), y, no),
            4 => (Cond::Eq(splits[i]), y, no),
            5 => (Cond::Eq(splits[i]), no, y),
            6 => {
                let set = sets.next().filter(|s| !s.is_empty()).ok_or_else(|| ctx.err(format!("node {i} is BRANCH_MEMBER but membership_values has no set for it")))?;
                chains.push((i, set.to_vec()));
                (Cond::Eq(set[0]), y, no)
            }
            other => return Err(ctx.err(format!("node {i} has mode {other} (0–6 are defined)"))),
        };
        raw.push(Raw::Branch { feature, cond, yes: y, no });
    }
    for l in 0..leaf_t.len() {
        let t = usize::try_from(leaf_t[l]).ok().filter(|&t| t < targets).ok_or_else(|| ctx.err(format!("leaf {l} votes for target {} of {targets}", leaf_t[l])))?;
        raw.push(Raw::Leaf { weights: vec![(t, leaf_w[l])] });
    }
    // x ∈ {v₁, …, v_k}: x = v₁ ? yes : (x = v₂ ? yes : … (x = v_k ? yes : no)).
    for (i, set) in chains {
        let Raw::Branch { feature, yes, no, .. } = raw[i].clone() else { unreachable!("a node entry") };
        let mut next_no = no;
        for &v in set[1..].iter().rev() {
            raw.push(Raw::Branch { feature, cond: Cond::Eq(v), yes, no: next_no });
            next_no = raw.len() - 1;
        }
        raw[i] = Raw::Branch { feature, cond: Cond::Eq(set[0]), yes, no: next_no };
    }
    let mut trees = Vec::with_capacity(roots.len());
    for (k, &r) in roots.iter().enumerate() {
        let r = usize::try_from(r).ok().filter(|&v| v < n).ok_or_else(|| ctx.err(format!("tree_roots[{k}] = {r} is not a node")))?;
        // A one-leaf tree: both branches of its root reach the same leaf.
        let tree = if tl[r] != 0 && fl[r] != 0 && ty[r] == fy[r] { expand(ctx, &raw, child(r, ty[r], 1)?, k as i64)? } else { expand(ctx, &raw, r, k as i64)? };
        trees.push(tree);
    }
    match a.int_or("aggregate_function", 1)? {
        1 => {}
        0 => {
            let m = trees.len() as f32;
            for t in &mut trees {
                for node in t {
                    if let TreeNode::Leaf { weights } = node {
                        weights.iter_mut().for_each(|(_, w)| *w /= m);
                    }
                }
            }
        }
        2 | 3 => return Err(ctx.unsupported("aggregate_function MIN / MAX (SUM and AVERAGE are supported)")),
        other => return Err(ctx.err(format!("aggregate_function {other} (0–3 are defined)"))),
    }
    let post = match a.int_or("post_transform", 0)? {
        0 => "NONE",
        1 => "SOFTMAX",
        2 => "LOGISTIC",
        3 => "SOFTMAX_ZERO",
        4 => "PROBIT",
        other => return Err(ctx.err(format!("post_transform {other} (0–4 are defined)"))),
    };
    let mut nodes = Nodes::default();
    let raw = nodes.push(Op::Tree(TreeEnsemble { features: f, targets, base: vec![0.0; targets], trees }), vec![Src::In(0)]);
    let y = super::ml::apply_post(ctx, &mut nodes, raw, post)?;
    Ok(nodes.done(vec![y]))
}

#[cfg(test)]
mod tests {
    use crate::import::proto::onnx::{ModelProto, NodeProto};
    use crate::import::{import_bytes, ImportOptions};
    use crate::ir::Op;
    use crate::ops::tree::{Mode, TreeNode};
    use prost::Message;

    /// The committed opset-5 ensemble with its TreeEnsemble node changed by `edit`.
    fn import_edited(edit: impl FnOnce(&mut NodeProto)) -> Result<crate::ir::Graph, String> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/ml_tree_ensemble5/model.onnx");
        let mut m = ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap();
        edit(m.graph.as_mut().unwrap().node.iter_mut().next().unwrap());
        import_bytes(&m.encode_to_vec(), &ImportOptions::default()).map_err(|e| e.to_string())
    }

    fn attr<'a>(n: &'a mut NodeProto, name: &str) -> &'a mut crate::import::proto::onnx::AttributeProto {
        n.attribute.iter_mut().find(|a| a.name.as_deref() == Some(name)).unwrap()
    }

    #[test]
    fn equality_tests_expand_into_pairs_of_halves() {
        let g = import_edited(|_| {}).unwrap();
        let tree = g.nodes.iter().find_map(|n| if let Op::Tree(t) = &n.op { Some(t.clone()) } else { None }).unwrap();
        // The hand-written tree: EQ (2 halves) → MEMBER of 3 (3 EQs) → NEQ (an EQ): 5 equality
        // tests, each the two halves; its false subtrees copied along the way.
        let last = tree.trees.last().unwrap();
        let halves = |m: Mode| last.iter().filter(|n| matches!(n, TreeNode::Branch { mode, .. } if *mode == m)).count();
        assert!(halves(Mode::EqLeq) >= 5 && halves(Mode::EqLeq) == halves(Mode::EqLt), "{last:?}");
        assert!(last.iter().all(|n| !matches!(n, TreeNode::Branch { mode: Mode::Leq | Mode::Lt | Mode::Gt | Mode::Gte, .. })));
    }

    #[test]
    fn opset5_refusals_name_the_missing_piece() {
        let e = import_edited(|n| attr(n, "aggregate_function").i = Some(3)).unwrap_err();
        assert!(e.contains("TreeEnsemble") && e.contains("forest5") && e.contains("MIN / MAX"), "{e}");
        let e = import_edited(|n| attr(n, "post_transform").i = Some(4)).unwrap_err();
        assert!(e.contains("post_transform `PROBIT`"), "{e}");
        let e = import_edited(|n| {
            let t = attr(n, "membership_values").t.as_mut().unwrap();
            t.float_data = vec![f32::NAN];
            t.dims = vec![1];
        })
        .unwrap_err();
        assert!(e.contains("BRANCH_MEMBER") && e.contains("no set"), "{e}");
        let e = import_edited(|n| attr(n, "nodes_truenodeids").ints[0] = 999).unwrap_err();
        assert!(e.contains("999, which does not exist"), "{e}");
        // A node pointing back at the root: a cycle, stopped by the expansion bound.
        let e = import_edited(|n| {
            let roots = attr(n, "tree_roots").ints.clone();
            let r = roots[0];
            let leafs = attr(n, "nodes_trueleafs");
            leafs.ints[r as usize + 1] = 0;
            attr(n, "nodes_truenodeids").ints[r as usize + 1] = r;
        })
        .unwrap_err();
        assert!(e.contains("more than 65536 nodes"), "{e}");
    }
}
