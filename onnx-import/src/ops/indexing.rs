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
//! Cost of a runtime Gather: `2·|indices|·d` comparisons plus a `[P·Q, d] × [d, |indices|]` product.

use crate::error::Result;
use crate::import::lower::{Ctx, KnownIn, Lowered, Nodes, Src};
use crate::ir::Op;
use crate::ops::compare::CompareOp;
use crate::tensor::{DType, Tensor};
use ndarray::{ArrayD, IxDyn};

/// `[i = j] ∨ [i = j − d]` with `j` running over the last axis of length `d` (`i` has a
/// trailing axis of 1), as floats 0/1.
fn one_hot(n: &mut Nodes, i: Src, rank: usize, d: usize) -> Src {
    let mut shape = vec![1; rank];
    shape[rank - 1] = d;
    let r = |off: i64| Src::Const(Tensor::I64(ArrayD::from_shape_vec(IxDyn(&shape), (0..d as i64).map(|j| j + off).collect()).expect("d values")));
    let pos = n.push(Op::Compare(CompareOp::Equal), vec![i.clone(), r(0)]);
    let neg = n.push(Op::Compare(CompareOp::Equal), vec![i, r(-(d as i64))]);
    let hit = n.push(Op::Compare(CompareOp::Or), vec![pos, neg]);
    n.push(Op::Cast { to: DType::F32 }, vec![hit])
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
        _ => Ok(None),
    }
}

fn gather(ctx: &Ctx) -> Result<Lowered> {
    let ds = ctx.shape(0)?;
    let is = ctx.shape(1)?;
    let axis = ctx.axis(ctx.attrs.int_or("axis", 0)?, ds.len())?;
    let d = ds[axis];
    let (p, q): (usize, usize) = (ds[..axis].iter().product(), ds[axis + 1..].iter().product());
    let ni: usize = is.iter().product();
    let mut n = Nodes::default();
    // data' = [P, Q, d]
    let mut perm: Vec<usize> = (0..ds.len()).filter(|&k| k != axis).collect();
    perm.push(axis);
    let dt = n.transpose(Src::In(0), perm);
    let dt = n.reshape(dt, vec![p, q, d]);
    // ohᵀ = [d, Ni]
    let i = n.reshape(Src::In(1), vec![ni, 1]);
    let oh = one_hot(&mut n, i, 2, d);
    let oht = n.transpose(oh, vec![1, 0]);
    let y = n.push(Op::MatMul, vec![dt, oht]); // [P, Q, Ni]
    let y = n.transpose(y, vec![0, 2, 1]); // [P, Ni, Q]
    let mut out = ds[..axis].to_vec();
    out.extend_from_slice(&is);
    out.extend_from_slice(&ds[axis + 1..]);
    let y = n.reshape(y, out);
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
    let mut perm: Vec<usize> = (0..r).filter(|&k| k != axis).collect();
    perm.push(axis);
    let mut inv = vec![0; r];
    for (k, &p) in perm.iter().enumerate() {
        inv[p] = k;
    }
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
