//! ScatterElements and ScatterND (and the deprecated Scatter, opsets 9–10, = ScatterElements):
//! the data with some elements (rows) replaced by, or with `reduction = add` increased by, the
//! updates. Lowered to proved ops:
//!
//! * **constant indices**: with `reduction = none` every output element is a copy of a data or
//!   an update element — one `Gather` from `Concat(data, updates)` (wiring only; for repeated
//!   indices, which ONNX leaves undefined, the last update wins); with `add`, the data plus a
//!   `MatMul` of the updates by the constant 0/1 incidence matrix.
//! * **runtime indices**: a one-hot of the indices (as in [`super::indexing`]): per target
//!   `hit = max_m oh[m]` and `contribution = Σ_m oh[m]·update[m]`; `none` gives
//!   `data − data·hit + contribution` (exact for distinct indices; repeated ones add up),
//!   `add` gives `data + contribution`. ScatterElements with runtime indices needs indices of the
//!   data's shape on the other axes; ScatterND's index tuples become a linear row index.
//!
//! Reductions `mul`, `max` and `min` are refused by name.

use crate::error::Result;
use crate::import::lower::{Ctx, KnownIn, Lowered, Nodes, Src};
use crate::ir::Op;
use crate::ops::indexing::{axis_last, const_rows, linear_index, one_hot};
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

fn runtime(ctx: &Ctx, i: usize) -> bool {
    matches!(ctx.ins.get(i).and_then(|o| o.as_ref()), Some(KnownIn::Value(_)))
}

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    match ctx.op {
        "ScatterElements" | "Scatter" => scatter_elements(ctx).map(Some),
        "ScatterND" => scatter_nd(ctx).map(Some),
        _ => Ok(None),
    }
}

fn reduction(ctx: &Ctx) -> Result<bool> {
    match ctx.attrs.string("reduction")?.as_deref().unwrap_or("none") {
        "none" => Ok(false),
        "add" => Ok(true),
        other => Err(ctx.unsupported(format!("reduction `{other}` (none and add are supported)"))),
    }
}

/// `rows` of `data` ([R, C]) replaced by / increased by the rows of `upd` ([U, C]) at the
/// constant targets (module docs).
fn scatter_const(n: &mut Nodes, data: Src, upd: Src, r: usize, targets: &[i64], add: bool) -> Src {
    let u = targets.len();
    if add {
        let mut s = vec![0f32; r * u];
        for (k, &t) in targets.iter().enumerate() {
            s[t as usize * u + k] += 1.0;
        }
        let s = Src::Const(Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[r, u]), s).expect("r × u")));
        let inc = n.push(Op::MatMul, vec![s, upd]);
        return n.push(Op::Add, vec![data, inc]);
    }
    let mut sel: Vec<i64> = (0..r as i64).collect();
    for (k, &t) in targets.iter().enumerate() {
        sel[t as usize] = (r + k) as i64;
    }
    let both = n.push(Op::Concat { axis: 0 }, vec![data, upd]);
    n.push(Op::Gather { axis: 0, indices: ArrayD::from_shape_vec(IxDyn(&[r]), sel).expect("r") }, vec![both])
}

/// Runtime one-hot `oh` `[U, R]` applied to `data` `[R, C]` and `upd` `[U, C]` (module docs).
fn scatter_onehot(n: &mut Nodes, data: Src, upd: Src, oh: Src, add: bool) -> Src {
    let oht = n.transpose(oh, vec![1, 0]); // [R, U]
    let contribution = n.push(Op::MatMul, vec![oht.clone(), upd]);
    if add {
        return n.push(Op::Add, vec![data, contribution]);
    }
    let hit = n.push(Op::ReduceMax { axes: vec![1], keepdims: true }, vec![oht]); // [R, 1]
    let kept = n.push(Op::Mul, vec![data.clone(), hit]);
    let d = n.push(Op::Sub, vec![data, kept]);
    n.push(Op::Add, vec![d, contribution])
}

fn scatter_elements(ctx: &Ctx) -> Result<Lowered> {
    let add = reduction(ctx)?;
    let (ds, is, us) = (ctx.shape(0)?, ctx.shape(1)?, ctx.shape(2)?);
    let r = ds.len();
    let axis = ctx.axis(ctx.attrs.int_or("axis", 0)?, r)?;
    if is != us || is.len() != r || is.iter().zip(&ds).enumerate().any(|(k, (&i, &d))| k != axis && i > d) {
        return Err(ctx.err(format!("indices {is:?} and updates {us:?} do not fit data {ds:?} along axis {axis}")));
    }
    let total: usize = ds.iter().product();
    let nu: usize = is.iter().product();
    let mut n = Nodes::default();
    if !runtime(ctx, 1) {
        let idx = ctx.const_ints(1, "indices")?.ok_or_else(|| ctx.err("missing indices"))?;
        let d = ds[axis] as i64;
        let strides: Vec<usize> = (0..r).map(|k| ds[k + 1..].iter().product()).collect();
        let mut targets = Vec::with_capacity(nu);
        for (lin, &v) in idx.iter().enumerate() {
            let j = if v < 0 { v + d } else { v };
            if j < 0 || j >= d {
                return Err(ctx.err(format!("index {v} out of range for axis {axis} of length {d}")));
            }
            let (mut rem, mut off) = (lin, 0);
            for k in 0..r {
                let inner: usize = is[k + 1..].iter().product();
                off += strides[k] * if k == axis { j as usize } else { rem / inner };
                rem %= inner;
            }
            targets.push(off as i64);
        }
        let data = n.reshape(Src::In(0), vec![total, 1]);
        let upd = n.reshape(Src::In(2), vec![nu, 1]);
        let y = scatter_const(&mut n, data, upd, total, &targets, add);
        let y = n.reshape(y, ds);
        return Ok(n.done(vec![y]));
    }
    if is.iter().zip(&ds).enumerate().any(|(k, (&i, &d))| k != axis && i != d) {
        return Err(ctx.unsupported("runtime indices with a shape other than the data's along the other axes"));
    }
    // Axis last: data [P, d], indices / updates [P, m]; per row p a [m, d] one-hot.
    let (perm, inv) = axis_last(r, axis);
    let (d, m) = (ds[axis], is[axis]);
    let p: usize = total / d;
    let dt = n.transpose(Src::In(0), perm.clone());
    let dt = n.reshape(dt, vec![p, d, 1]);
    let it = n.transpose(Src::In(1), perm.clone());
    let it = n.reshape(it, vec![p, m, 1]);
    let ut = n.transpose(Src::In(2), perm.clone());
    let ut = n.reshape(ut, vec![p, m, 1]);
    let oh = one_hot(&mut n, it, 3, d); // [P, m, d]
    let oht = n.transpose(oh, vec![0, 2, 1]); // [P, d, m]
    let contribution = n.push(Op::MatMul, vec![oht.clone(), ut]); // [P, d, 1]
    let y = if add {
        n.push(Op::Add, vec![dt, contribution])
    } else {
        let hit = n.push(Op::ReduceMax { axes: vec![2], keepdims: true }, vec![oht]);
        let kept = n.push(Op::Mul, vec![dt.clone(), hit]);
        let rest = n.push(Op::Sub, vec![dt, kept]);
        n.push(Op::Add, vec![rest, contribution])
    };
    let back: Vec<usize> = perm.iter().map(|&k| ds[k]).collect();
    let y = n.reshape(y, back);
    let y = n.transpose(y, inv);
    Ok(n.done(vec![y]))
}

fn scatter_nd(ctx: &Ctx) -> Result<Lowered> {
    let add = reduction(ctx)?;
    let (ds, is, us) = (ctx.shape(0)?, ctx.shape(1)?, ctx.shape(2)?);
    let k = *is.last().ok_or_else(|| ctx.err("indices must have rank ≥ 1"))?;
    let mut want = is[..is.len() - 1].to_vec();
    if k > ds.len() {
        return Err(ctx.err(format!("index tuples of length {k} for data of rank {}", ds.len())));
    }
    want.extend_from_slice(&ds[k..]);
    if us != want {
        return Err(ctx.err(format!("updates of shape {us:?}; indices {is:?} and data {ds:?} need {want:?}")));
    }
    let dims = ds[..k].to_vec();
    let rows: usize = dims.iter().product();
    let c: usize = ds[k..].iter().product();
    let nu: usize = is[..is.len() - 1].iter().product();
    let mut n = Nodes::default();
    let data = n.reshape(Src::In(0), vec![rows, c]);
    let upd = n.reshape(Src::In(2), vec![nu, c]);
    let y = if runtime(ctx, 1) {
        let lin = linear_index(&mut n, Src::In(1), &is, &dims);
        let lin = n.reshape(lin, vec![nu, 1]);
        let oh = one_hot(&mut n, lin, 2, rows); // [U, R]
        scatter_onehot(&mut n, data, upd, oh, add)
    } else {
        let idx = ctx.const_ints(1, "indices")?.ok_or_else(|| ctx.err("missing indices"))?;
        let targets = const_rows(ctx, &idx, k, &dims, |_| 0)?;
        scatter_const(&mut n, data, upd, rows, &targets, add)
    };
    let y = n.reshape(y, ds);
    Ok(n.done(vec![y]))
}

#[cfg(test)]
mod tests {
    use crate::import::proto::onnx::{attribute_proto::AttributeType, AttributeProto, ModelProto, NodeProto};
    use crate::import::{import_bytes, ImportOptions};
    use prost::Message;

    /// The committed scatter model with the node producing `out` changed by `edit`.
    fn import_edited(out: &str, edit: impl FnOnce(&mut NodeProto)) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/ops_scatter/model.onnx");
        let mut m = ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap();
        edit(m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.output[0] == out).unwrap());
        import_bytes(&m.encode_to_vec(), &ImportOptions::default()).unwrap_err().to_string()
    }

    fn string_attr(name: &str, v: &str) -> AttributeProto {
        AttributeProto { name: Some(name.into()), r#type: Some(AttributeType::String as i32), s: Some(v.as_bytes().to_vec()), ..Default::default() }
    }

    #[test]
    fn refusals_name_the_missing_piece() {
        let e = import_edited("se_add_rt", |n| {
            n.attribute.retain(|a| a.name.as_deref() != Some("reduction"));
            n.attribute.push(string_attr("reduction", "mul"));
        });
        assert!(e.contains("ScatterElements") && e.contains("reduction `mul`"), "{e}");
        let e = import_edited("gnd_rt", |n| {
            n.attribute.push(AttributeProto { name: Some("batch_dims".into()), r#type: Some(AttributeType::Int as i32), i: Some(1), ..Default::default() })
        });
        assert!(e.contains("GatherND"), "{e}");
        let e = import_edited("se_c", |n| n.input[1] = "cdup_bad".into());
        assert!(e.contains("cdup_bad"), "{e}");
    }
}
