//! Reductions and selections built from the proved ops at import:
//!
//! | ONNX | lowered to |
//! |------|------------|
//! | ReduceMin | `−ReduceMax(−x)` |
//! | ArgMin | `ArgMax(−x)` (first or last index as `select_last_index` says) |
//! | ReduceL1 | `ReduceSum(|x|)` |
//! | ReduceSumSquare | `ReduceSum(x·x)` |
//! | ReduceL2 | `Sqrt(ReduceSum(x·x))` |
//! | ReduceLogSumExp | `m + ln(ReduceSum(exp(x − m)))`, `m = ReduceMax(x)` (the sum is ≥ 1, so `ln` stays in its domain) |
//! | ReduceProd | a chain of `Mul` over the reduced elements (`Split` per axis) |
//! | ReduceLogSum | `ln(ReduceSum(x))` |
//! | CumSum (constant axis) | a product by a constant 0/1 triangle along the axis (exclusive, reverse) |
//! | Hardmax | `Cast(Equal(ArgMax(x), [0, 1, …]))` along the axis |
//! | TopK (constant `K`) | `K` rounds of `ReduceMax` + `ArgMax`; each picked element is replaced by the row minimum minus one (`Where`) before the next round, so ties go to the lower index as ONNX requires; `largest = 0` negates first |
//! | OneHot (constant depth and values) | `off + (on − off)·Cast(Equal(i, r) ∨ Equal(i, r − depth))`, `r = [0, …, depth)` (negative indices count from the end) |
//!
//! Every step is an op with its own layout and soundness tests (the max / argmax chains, the
//! is-zero and sign tables of the comparisons, `Where`'s one-row selection), so the family needs
//! no layout of its own. Costs: ReduceMin/ArgMin add one negation per element; TopK costs `K`
//! max/argmax passes over the axis plus `K − 1` masks.

use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Nodes, Src};
use crate::ops::reduce::reduce_axes;
use crate::ir::Op;
use crate::ops::compare::CompareOp;
use crate::tensor::{DType, Tensor};
use ndarray::{ArrayD, IxDyn};

fn scalar(v: f32) -> Src {
    Src::Const(Tensor::F32(ndarray::arr0(v).into_dyn()))
}

/// `[0, 1, …, n)` laid along `axis` of a rank-`rank` tensor (ones elsewhere), as integers.
fn arange_along(n: usize, axis: usize, rank: usize, offset: i64) -> Src {
    let mut shape = vec![1; rank];
    shape[axis] = n;
    let v: Vec<i64> = (0..n as i64).map(|i| i + offset).collect();
    Src::Const(Tensor::I64(ArrayD::from_shape_vec(IxDyn(&shape), v).expect("length n")))
}

/// The shape after reducing `axes` without keeping them.
fn reduced_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
}

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let opset = ctx.opset;
    let mut n = Nodes::default();
    let x = Src::In(0);
    let lowered = match ctx.op {
        "ReduceMin" | "ReduceL1" | "ReduceL2" | "ReduceSumSquare" | "ReduceLogSumExp" | "ReduceLogSum" | "ReduceProd" => {
            let (axes, keepdims) = reduce_axes(ctx, opset >= 18)?;
            if axes.is_empty() {
                // `noop_with_empty_axes` without axes: the input unchanged.
                return Ok(Some(Lowered::Alias(0)));
            }
            let shape = ctx.shape(0)?;
            let sum = |n: &mut Nodes, v: Src| n.push(Op::ReduceSum { axes: axes.clone(), keepdims }, vec![v]);
            let y = match ctx.op {
                "ReduceMin" => {
                    let neg = n.push(Op::Neg, vec![x]);
                    let m = n.push(Op::ReduceMax { axes: axes.clone(), keepdims }, vec![neg]);
                    n.push(Op::Neg, vec![m])
                }
                "ReduceL1" => {
                    let ab = n.push(Op::Abs, vec![x]);
                    sum(&mut n, ab)
                }
                "ReduceSumSquare" | "ReduceL2" => {
                    let sq = n.push(Op::Mul, vec![x.clone(), x]);
                    let s = sum(&mut n, sq);
                    if ctx.op == "ReduceL2" { n.push(Op::Sqrt, vec![s]) } else { s }
                }
                "ReduceLogSum" => {
                    let s = sum(&mut n, x);
                    n.push(Op::Unary(crate::activation::Activation::Ln), vec![s])
                }
                "ReduceLogSumExp" => {
                    let m = n.push(Op::ReduceMax { axes: axes.clone(), keepdims: true }, vec![x.clone()]);
                    let d = n.push(Op::Sub, vec![x, m.clone()]);
                    let e = n.push(Op::Exp, vec![d]);
                    let s = n.push(Op::ReduceSum { axes: axes.clone(), keepdims: true }, vec![e]);
                    let l = n.push(Op::Unary(crate::activation::Activation::Ln), vec![s]);
                    let y = n.push(Op::Add, vec![m, l]);
                    if keepdims { y } else { n.push(Op::Reshape { shape: reduced_shape(&shape, &axes) }, vec![y]) }
                }
                _ => {
                    // ReduceProd: per reduced axis, split into its elements and multiply them.
                    let mut cur = x;
                    for &ax in &axes {
                        let len = shape[ax];
                        if len > 1 {
                            n.push(Op::Split { axis: ax, sizes: vec![1; len] }, vec![cur]);
                            let j = n.0.len() - 1;
                            cur = Src::Node(j, 0);
                            for k in 1..len {
                                cur = n.push(Op::Mul, vec![cur, Src::Node(j, k)]);
                            }
                        }
                    }
                    if keepdims { cur } else { n.push(Op::Reshape { shape: reduced_shape(&shape, &axes) }, vec![cur]) }
                }
            };
            n.done(vec![y])
        }
        "ArgMin" => {
            let axis = ctx.axis(a.int_or("axis", 0)?, ctx.rank(0)?)?;
            let neg = n.push(Op::Neg, vec![x]);
            let keepdims = a.int_or("keepdims", 1)? != 0;
            let select_last_index = a.int_or("select_last_index", 0)? != 0;
            let y = n.push(Op::ArgMax { axis, keepdims, select_last_index }, vec![neg]);
            n.done(vec![y])
        }
        "CumSum" => {
            // A product by a constant 0/1 triangle along the axis (moved last): `y_i = Σ_j T[j, i] x_j`,
            // `T[j, i] = [j ≤ i]` (`< i` exclusive; reversed: `≥`, `>`).
            let shape = ctx.shape(0)?;
            let r = shape.len();
            let ax = ctx.const_ints(1, "axis")?.and_then(|v| v.first().copied()).ok_or_else(|| ctx.err("missing axis"))?;
            let ax = ctx.axis(ax, r)?;
            let (excl, rev) = (a.int_or("exclusive", 0)? != 0, a.int_or("reverse", 0)? != 0);
            let d = shape[ax];
            let t: Vec<f32> = (0..d * d)
                .map(|k| {
                    let (j, i) = (k / d, k % d);
                    let hit = match (rev, excl) {
                        (false, false) => j <= i,
                        (false, true) => j < i,
                        (true, false) => j >= i,
                        (true, true) => j > i,
                    };
                    hit as u8 as f32
                })
                .collect();
            let (perm, inv) = crate::ops::indexing::axis_last(r, ax);
            let xt = n.transpose(x, perm);
            let f = n.push(Op::Cast { to: DType::F32 }, vec![xt]);
            let tri = Src::Const(Tensor::F32(ArrayD::from_shape_vec(IxDyn(&[d, d]), t).expect("d × d")));
            let y = n.push(Op::MatMul, vec![f, tri]);
            let y = n.transpose(y, inv);
            n.done(vec![y])
        }
        "Hardmax" => {
            let shape = ctx.shape(0)?;
            let rank = shape.len();
            let axis = ctx.axis(a.int_or("axis", if opset < 13 { 1 } else { -1 })?, rank)?;
            // Before opset 13 the input is seen as 2-D [prod(..axis), prod(axis..)].
            let (v, axis2, rank2) = if opset < 13 && axis + 1 != rank {
                let inner: usize = shape[axis..].iter().product();
                let outer: usize = shape[..axis].iter().product();
                (n.push(Op::Reshape { shape: vec![outer, inner] }, vec![x]), 1, 2)
            } else {
                (x, axis, rank)
            };
            let len = if rank2 == rank { shape[axis2] } else { shape[axis..].iter().product() };
            let idx = n.push(Op::ArgMax { axis: axis2, keepdims: true, select_last_index: false }, vec![v]);
            let eq = n.push(Op::Compare(CompareOp::Equal), vec![idx, arange_along(len, axis2, rank2, 0)]);
            let mut y = n.push(Op::Cast { to: DType::F32 }, vec![eq]);
            if rank2 != rank {
                y = n.push(Op::Reshape { shape }, vec![y]);
            }
            n.done(vec![y])
        }
        "TopK" => {
            let shape = ctx.shape(0)?;
            let rank = shape.len();
            let axis = ctx.axis(a.int_or("axis", -1)?, rank)?;
            let k = if opset < 10 {
                a.int("k")?.ok_or_else(|| ctx.err("missing `k`"))?
            } else {
                let k = ctx.const_ints(1, "K")?.ok_or_else(|| ctx.err("missing input 1 (K)"))?;
                *k.first().ok_or_else(|| ctx.err("K is empty"))?
            };
            if k < 1 || k as usize > shape[axis] {
                return Err(ctx.err(format!("K = {k} for an axis of {} elements", shape[axis])));
            }
            let k = k as usize;
            let largest = a.int_or("largest", 1)? != 0;
            a.int_or("sorted", 1)?; // results are always sorted, which `sorted = 0` allows
            let mut cur = if largest { x } else { n.push(Op::Neg, vec![x]) };
            let low = if k > 1 {
                let m = n.push(Op::Neg, vec![cur.clone()]);
                let m = n.push(Op::ReduceMax { axes: vec![axis], keepdims: true }, vec![m]);
                // −max(−v) − 1 = min(v) − 1: below every remaining element.
                let m = n.push(Op::Neg, vec![m]);
                Some(n.push(Op::Sub, vec![m, scalar(1.0)]))
            } else {
                None
            };
            let (mut vals, mut idxs) = (Vec::with_capacity(k), Vec::with_capacity(k));
            for j in 0..k {
                vals.push(n.push(Op::ReduceMax { axes: vec![axis], keepdims: true }, vec![cur.clone()]));
                let i = n.push(Op::ArgMax { axis, keepdims: true, select_last_index: false }, vec![cur.clone()]);
                idxs.push(i.clone());
                if j + 1 < k {
                    let hit = n.push(Op::Compare(CompareOp::Equal), vec![i, arange_along(shape[axis], axis, rank, 0)]);
                    let low = low.clone().expect("k > 1");
                    cur = n.push(Op::Compare(CompareOp::Where), vec![hit, low, cur]);
                }
            }
            let cat = |n: &mut Nodes, v: Vec<Src>| if v.len() == 1 { v.into_iter().next().expect("one") } else { n.push(Op::Concat { axis }, v) };
            let mut values = cat(&mut n, vals);
            if !largest {
                values = n.push(Op::Neg, vec![values]);
            }
            let indices = cat(&mut n, idxs);
            n.done(vec![values, indices])
        }
        "OneHot" => {
            let depth = ctx.const_scalar(1, "depth")?.ok_or_else(|| ctx.err("missing input 1 (depth)"))?;
            if depth < 1.0 || depth.fract() != 0.0 {
                return Err(ctx.err(format!("depth {depth} must be a positive integer")));
            }
            let depth = depth as usize;
            let values = ctx.const_input(2, "values")?.ok_or_else(|| ctx.err("missing input 2 (values)"))?.to_f32();
            let vals: Vec<f32> = values.iter().copied().collect();
            let [off, on] = vals[..] else { return Err(ctx.err(format!("values must hold [off, on], got {} values", vals.len()))) };
            let ishape = ctx.shape(0)?;
            let rank = ishape.len() + 1;
            let axis = ctx.axis(a.int_or("axis", -1)?, rank)?;
            let mut unsq = ishape.clone();
            unsq.insert(axis, 1);
            let i = n.push(Op::Reshape { shape: unsq }, vec![x]);
            let pos = n.push(Op::Compare(CompareOp::Equal), vec![i.clone(), arange_along(depth, axis, rank, 0)]);
            let neg = n.push(Op::Compare(CompareOp::Equal), vec![i, arange_along(depth, axis, rank, -(depth as i64))]);
            let hit = n.push(Op::Compare(CompareOp::Or), vec![pos, neg]);
            let f = n.push(Op::Cast { to: DType::F32 }, vec![hit]);
            let scaled = n.push(Op::Mul, vec![f, scalar(on - off)]);
            let y = n.push(Op::Add, vec![scaled, scalar(off)]);
            n.done(vec![y])
        }
        _ => return Ok(None),
    };
    Ok(Some(lowered))
}
