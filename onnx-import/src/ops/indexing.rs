//! Indexing with indices known only at run time (computed by the model, e.g. by ArgMax), and
//! GatherElements:
//!
//! * **Gather, runtime indices** (embedding lookups, dynamic selection): a one-hot selection.
//!   With `d` the gathered axis' length, `oh[n, j] = [i_n = j] ∨ [i_n = j − d]` (negative
//!   indices count from the end; two `Equal` and an `Or` per entry, from the comparison family),
//!   and the output is `data' · ohᵀ` where `data'` is the data with the gathered axis moved last
//!   (`[P, Q, d]`, a `Transpose`/`Reshape`), one `MatMul` — by constants for an embedding table,
//!   a product of two activations otherwise — then `Reshape`/`Transpose` to
//!   `data.shape[..axis] + indices.shape + data.shape[axis+1..]`. Every output is exactly one
//!   selected element because exactly one `oh` entry per index is 1 for an index in range; an
//!   index out of range (which ONNX leaves undefined) selects nothing and gives 0.
//! * **GatherElements**: constant indices become a `Gather` of the flattened data (wiring only);
//!   runtime indices use the same one-hot selection along the axis (`Mul` and `ReduceSum`).
//!
//! * **GatherND**: the leading axes after `batch_dims` flattened; constant index tuples become
//!   row offsets of one `Gather` (wiring); runtime ones (`batch_dims = 0`) a linear index
//!   `Σ (i_j + d_j·[i_j < 0])·stride_j` (`Less`, products, `ReduceSum`) fed to the runtime Gather.
//!
//! Cost of a runtime Gather: `2·|indices|·d` comparisons plus a `[P·Q, d] × [d, |indices|]` product.

use crate::error::Result;
use crate::import::lower::{Ctx, KnownIn, Lowered, Nodes, Src};
use crate::ir::Op;
use crate::ops::compare::CompareOp;
use crate::tensor::{DType, Tensor};
use ndarray::{ArrayD, IxDyn};

/// `[i = j] ∨ [i = j − d]` with `j` running over the last axis of length `d` (`i` has a
/// trailing axis of 1), as floats 0/1.
pub(crate) fn one_hot(n: &mut Nodes, i: Src, rank: usize, d: usize) -> Src {
    let mut shape = vec![1; rank];
    shape[rank - 1] = d;
    let r = |off: i64| Src::Const(Tensor::I64(ArrayD::from_shape_vec(IxDyn(&shape), (0..d as i64).map(|j| j + off).collect()).expect("d values")));
    let pos = n.push(Op::Compare(CompareOp::Equal), vec![i.clone(), r(0)]);
    let neg = n.push(Op::Compare(CompareOp::Equal), vec![i, r(-(d as i64))]);
    let hit = n.push(Op::Compare(CompareOp::Or), vec![pos, neg]);
    n.push(Op::Cast { to: DType::F32 }, vec![hit])
}

/// The permutation moving `axis` of a rank-`r` tensor last, and its inverse.
pub(crate) fn axis_last(r: usize, axis: usize) -> (Vec<usize>, Vec<usize>) {
    let mut perm: Vec<usize> = (0..r).filter(|&k| k != axis).collect();
    perm.push(axis);
    let mut inv = vec![0; r];
    for (k, &p) in perm.iter().enumerate() {
        inv[p] = k;
    }
    (perm, inv)
}

fn runtime(ctx: &Ctx, i: usize) -> bool {
    matches!(ctx.ins.get(i).and_then(|o| o.as_ref()), Some(KnownIn::Value(_)))
}

/// Lower a node of the family (`None`: not one of its ops, or a form lowered elsewhere).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    match ctx.op {
        "Gather" if runtime(ctx, 1) => gather(ctx).map(Some),
        "Gather" => {
            // Constant indices: wiring only (copies of the selected cells).
            let r = ctx.rank(0)?;
            let axis = ctx.axis(ctx.attrs.int_or("axis", 0)?, r)?;
            let idx = ctx.const_input(1, "indices")?.ok_or_else(|| ctx.err("missing indices"))?;
            let idx = idx.to_i64().ok_or_else(|| ctx.err("indices must be integers"))?;
            Ok(Some(Lowered::Op { op: Op::Gather { axis, indices: idx }, data: vec![0] }))
        }
        "GatherElements" => gather_elements(ctx).map(Some),
        "GatherND" => gather_nd(ctx).map(Some),
        _ => Ok(None),
    }
}

fn gather(ctx: &Ctx) -> Result<Lowered> {
    let ds = ctx.shape(0)?;
    let is = ctx.shape(1)?;
    let axis = ctx.axis(ctx.attrs.int_or("axis", 0)?, ds.len())?;
    let mut n = Nodes::default();
    let y = gather_runtime(&mut n, Src::In(0), &ds, axis, Src::In(1), &is);
    Ok(n.done(vec![y]))
}

/// `Gather(data, idx)` along `axis` with runtime indices (module docs).
fn gather_runtime(n: &mut Nodes, data: Src, ds: &[usize], axis: usize, idx: Src, is: &[usize]) -> Src {
    let d = ds[axis];
    let (p, q): (usize, usize) = (ds[..axis].iter().product(), ds[axis + 1..].iter().product());
    let ni: usize = is.iter().product();
    // data' = [P, Q, d]
    let mut perm: Vec<usize> = (0..ds.len()).filter(|&k| k != axis).collect();
    perm.push(axis);
    let dt = n.transpose(data, perm);
    let dt = n.reshape(dt, vec![p, q, d]);
    // ohᵀ = [d, Ni]
    let i = n.reshape(idx, vec![ni, 1]);
    let oh = one_hot(n, i, 2, d);
    let oht = n.transpose(oh, vec![1, 0]);
    let y = n.push(Op::MatMul, vec![dt, oht]); // [P, Q, Ni]
    let y = n.transpose(y, vec![0, 2, 1]); // [P, Ni, Q]
    let mut out = ds[..axis].to_vec();
    out.extend_from_slice(is);
    out.extend_from_slice(&ds[axis + 1..]);
    n.reshape(y, out)
}

/// Row index into `data` reshaped to `[Π dims, ..]` of runtime `[.., k]` index tuples over
/// `dims` (negative entries count from the end): `Σ_j (i_j + d_j·[i_j < 0])·stride_j`, as a
/// float tensor of shape `is[..len−1]`.
pub(crate) fn linear_index(n: &mut Nodes, idx: Src, is: &[usize], dims: &[usize]) -> Src {
    let k = dims.len();
    let vec1 = |v: Vec<f32>| Src::Const(Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[k]), v).expect("k values")));
    let strides: Vec<f32> = (0..k).map(|j| dims[j + 1..].iter().product::<usize>() as f32).collect();
    let f = n.push(Op::Cast { to: DType::F32 }, vec![idx]);
    let neg = n.push(Op::Compare(CompareOp::Less), vec![f.clone(), Src::Const(Tensor::F32(ndarray::arr0(0.0).into_dyn()))]);
    let neg = n.push(Op::Cast { to: DType::F32 }, vec![neg]);
    let wrap = n.push(Op::Mul, vec![neg, vec1(dims.iter().map(|&d| d as f32).collect())]);
    let f = n.push(Op::Add, vec![f, wrap]);
    let f = n.push(Op::Mul, vec![f, vec1(strides)]);
    n.push(Op::ReduceSum { axes: vec![is.len() - 1], keepdims: false }, vec![f])
}

/// Flat row offsets of constant `[.., k]` index tuples over `dims` (negative ones wrapped),
/// each offset by `base(t)` for the tuple's position `t`.
pub(crate) fn const_rows(ctx: &Ctx, idx: &[i64], k: usize, dims: &[usize], base: impl Fn(usize) -> usize) -> Result<Vec<i64>> {
    let mut rows = Vec::with_capacity(idx.len() / k.max(1));
    for (t, tuple) in idx.chunks(k).enumerate() {
        let mut off = 0usize;
        for (j, &v) in tuple.iter().enumerate() {
            let d = dims[j] as i64;
            let w = if v < 0 { v + d } else { v };
            if w < 0 || w >= d {
                return Err(ctx.err(format!("index {v} out of range for an axis of length {d}")));
            }
            off = off * dims[j] + w as usize;
        }
        rows.push((base(t) + off) as i64);
    }
    Ok(rows)
}

/// GatherND: `out[t] = data[b(t), idx[t]]`, the index tuples addressing the leading `k` axes
/// after `batch_dims`. Constant indices: one `Gather` of the data with those axes flattened
/// (wiring only); runtime indices (`batch_dims = 0`): the linear index, then the runtime Gather.
fn gather_nd(ctx: &Ctx) -> Result<Lowered> {
    let ds = ctx.shape(0)?;
    let is = ctx.shape(1)?;
    let b = usize::try_from(ctx.attrs.int_or("batch_dims", 0)?).map_err(|_| ctx.err("negative batch_dims"))?;
    let k = *is.last().ok_or_else(|| ctx.err("indices must have rank ≥ 1"))?;
    if is.len() < b + 1 || ds.len() < b + k || is[..b] != ds[..b] {
        return Err(ctx.err(format!("indices of shape {is:?} do not fit data of shape {ds:?} with batch_dims {b}")));
    }
    let dims = ds[b..b + k].to_vec();
    let rows: usize = ds[..b + k].iter().product();
    let mut rest = ds[b + k..].to_vec();
    let mut n = Nodes::default();
    let mut flat_shape = vec![rows];
    flat_shape.extend_from_slice(&rest);
    let data = n.reshape(Src::In(0), flat_shape.clone());
    let mut out = is[..is.len() - 1].to_vec();
    out.append(&mut rest);
    let y = if runtime(ctx, 1) {
        if b != 0 {
            return Err(ctx.unsupported("runtime indices with batch_dims > 0"));
        }
        let lin = linear_index(&mut n, Src::In(1), &is, &dims);
        let y = gather_runtime(&mut n, data, &flat_shape, 0, lin, &is[..is.len() - 1]);
        n.reshape(y, out)
    } else {
        let idx: Vec<i64> = ctx.const_ints(1, "indices")?.ok_or_else(|| ctx.err("missing indices"))?;
        let per_batch: usize = is[b..is.len() - 1].iter().product();
        let block: usize = dims.iter().product();
        let rows = const_rows(ctx, &idx, k, &dims, |t| (t / per_batch.max(1)) * block)?;
        let indices = ArrayD::from_shape_vec(IxDyn(&is[..is.len() - 1]), rows).expect("one per tuple");
        let y = n.push(Op::Gather { axis: 0, indices }, vec![data]);
        n.reshape(y, out)
    };
    Ok(n.done(vec![y]))
}

fn gather_elements(ctx: &Ctx) -> Result<Lowered> {
    let ds = ctx.shape(0)?;
    let is = ctx.shape(1)?;
    let r = ds.len();
    let axis = ctx.axis(ctx.attrs.int_or("axis", 0)?, r)?;
    if is.len() != r || is.iter().zip(&ds).enumerate().any(|(k, (&i, &d))| k != axis && i > d) {
        return Err(ctx.err(format!("indices of shape {is:?} do not fit data of shape {ds:?} along axis {axis}")));
    }
    let d = ds[axis];
    let mut n = Nodes::default();
    if !runtime(ctx, 1) {
        // out[p] = data[p with p[axis] = idx[p]]: one Gather of the flattened data.
        let idx = ctx.const_ints(1, "indices")?.ok_or_else(|| ctx.err("missing input 1 (indices)"))?;
        let strides: Vec<usize> = (0..r).map(|k| ds[k + 1..].iter().product()).collect();
        let mut flat = Vec::with_capacity(idx.len());
        for (lin, &v) in idx.iter().enumerate() {
            let j = if v < 0 { v + d as i64 } else { v };
            if j < 0 || j >= d as i64 {
                return Err(ctx.err(format!("index {v} out of range for axis {axis} of length {d}")));
            }
            let mut rem = lin;
            let mut off = 0;
            for k in 0..r {
                let inner: usize = is[k + 1..].iter().product();
                let c = rem / inner;
                rem %= inner;
                off += strides[k] * if k == axis { j as usize } else { c };
            }
            flat.push(off as i64);
        }
        let total: usize = ds.iter().product();
        let f = n.reshape(Src::In(0), vec![total]);
        let indices = ArrayD::from_shape_vec(IxDyn(&is), flat).expect("one per index");
        let y = n.push(Op::Gather { axis: 0, indices }, vec![f]);
        return Ok(n.done(vec![y]));
    }
    // Runtime indices: move the axis last in both, oh[.., m, j] = [idx[.., m] = j] over the
    // data's axis, out = Σ_j oh · data (data broadcast over the indices' axis).
    if is.iter().zip(&ds).enumerate().any(|(k, (&i, &dd))| k != axis && i != dd) {
        return Err(ctx.unsupported("runtime indices with a shape other than the data's along the other axes"));
    }
    let (perm, inv) = axis_last(r, axis);
    let dt = n.transpose(Src::In(0), perm.clone());
    let it = n.transpose(Src::In(1), perm.clone());
    let mut ishape: Vec<usize> = perm.iter().map(|&k| is[k]).collect();
    let mut dshape: Vec<usize> = perm.iter().map(|&k| ds[k]).collect();
    // i: [.., m, 1]; data: [.., 1, d]
    ishape.push(1);
    let i = n.reshape(it, ishape);
    let oh = one_hot(&mut n, i, r + 1, d);
    dshape.insert(r - 1, 1);
    let dd = n.reshape(dt, dshape);
    let prod = n.push(Op::Mul, vec![oh, dd]);
    let y = n.push(Op::ReduceSum { axes: vec![r], keepdims: false }, vec![prod]);
    let y = n.transpose(y, inv);
    Ok(n.done(vec![y]))
}
