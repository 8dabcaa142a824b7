//! Layout and wiring ops: Identity, Dropout (inference), Constant, Shape, Cast, Flatten,
//! Reshape, Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Tile, Expand and Pad.
//!
//! Shape-like inputs (Reshape's shape, Slice's starts, Pad's pads, …) must be constants and
//! become op parameters; opset 1–12 attribute forms are read here too. None of these ops does
//! arithmetic: in the circuit they are copy constraints between cells (Pad's constant fill is a
//! fixed cell), so their soundness is the permutation argument's.

use crate::error::Result;
use crate::import::lower::{op, usizes, Ctx, Lowered};
use crate::ir::{Op, PadMode, SliceRange};
use crate::tensor::{DType, Tensor};

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let opset = ctx.opset;
    let all: Vec<usize> = (0..ctx.ins.len()).filter(|&i| ctx.has_input(i)).collect();
    let lowered = match ctx.op {
        "Identity" => Lowered::Alias(0),
        "Dropout" => {
            a.has("ratio");
            a.has("seed");
            if a.int_or("is_test", 1)? == 0 && opset < 7 {
                return Err(ctx.unsupported("training-mode Dropout"));
            }
            if ctx.has_input(2) {
                let training = ctx.const_ints(2, "training_mode")?.unwrap_or_default();
                if training.iter().any(|&t| t != 0) {
                    return Err(ctx.unsupported("training-mode Dropout"));
                }
            }
            ctx.no_extra_outputs("mask")?;
            Lowered::Alias(0)
        }
        "Constant" => {
            let t = if let Some(t) = a.tensor("value")? {
                t
            } else if let Some(f) = a.float("value_float")? {
                Tensor::F32(ndarray::arr0(f).into_dyn())
            } else if let Some(v) = a.floats("value_floats")? {
                Tensor::F32(ndarray::Array1::from(v).into_dyn())
            } else if let Some(i) = a.int("value_int")? {
                Tensor::I64(ndarray::arr0(i).into_dyn())
            } else if let Some(v) = a.ints("value_ints")? {
                Tensor::I64(ndarray::Array1::from(v).into_dyn())
            } else {
                return Err(ctx.unsupported("only value, value_float(s) and value_int(s) constants are supported"));
            };
            Lowered::Const(t)
        }
        "Shape" => {
            let s: Vec<i64> = ctx.shape(0)?.iter().map(|&d| d as i64).collect();
            let r = s.len() as i64;
            let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let start = clampi(a.int_or("start", 0)?);
            let end = clampi(a.int_or("end", r)?);
            let v = s[start..end.max(start)].to_vec();
            Lowered::Const(Tensor::I64(ndarray::Array1::from(v).into_dyn()))
        }
        "Size" => Lowered::Const(Tensor::I64(ndarray::arr0(ctx.shape(0)?.iter().product::<usize>() as i64).into_dyn())),
        "CastLike" => {
            a.has("saturate");
            let to = ctx.dtypes.get(1).copied().flatten().ok_or_else(|| ctx.err("missing input 1 (target_type)"))?;
            op(Op::Cast { to }, vec![0])
        }
        "Cast" => {
            let to = if opset < 6 {
                // Opsets 1–5 name the type.
                let name = a.string("to")?.ok_or_else(|| ctx.err("missing `to`"))?;
                match name.to_ascii_uppercase().as_str() {
                    "FLOAT" => 1,
                    "UINT8" => 2,
                    "INT8" => 3,
                    "UINT16" => 4,
                    "INT16" => 5,
                    "INT32" => 6,
                    "INT64" => 7,
                    "BOOL" => 9,
                    "FLOAT16" => 10,
                    "DOUBLE" => 11,
                    "UINT32" => 12,
                    "UINT64" => 13,
                    other => return Err(ctx.unsupported(format!("cast to `{other}`"))),
                }
            } else {
                a.int("to")?.ok_or_else(|| ctx.err("missing `to`"))?
            };
            if to == 9 {
                // To bool: `x ≠ 0`, a comparison (so the result is a proved boolean).
                use crate::import::lower::{Src, SubNode};
                use crate::ops::compare::CompareOp;
                a.has("saturate");
                let zero = Src::Const(Tensor::F32(ndarray::arr0(0.0).into_dyn()));
                let nodes = vec![
                    SubNode { op: Op::Compare(CompareOp::Equal), inputs: vec![Src::In(0), zero] },
                    SubNode { op: Op::Compare(CompareOp::Not), inputs: vec![Src::Node(0, 0)] },
                ];
                return Ok(Some(Lowered::Graph { nodes, outputs: vec![Some(Src::Node(1, 0))] }));
            }
            let to = match to {
                1 | 10 | 11 | 16 => DType::F32,
                2..=7 | 12 | 13 => DType::I64,
                other => return Err(ctx.unsupported(format!("cast to ONNX data type {other}"))),
            };
            a.has("saturate");
            op(Op::Cast { to }, vec![0])
        }
        "Flatten" => {
            let s = ctx.shape(0)?;
            let r = s.len();
            let ax = a.int_or("axis", 1)?;
            let ax = if ax < 0 { ax + r as i64 } else { ax };
            if ax < 0 || ax > r as i64 {
                return Err(ctx.err(format!("axis {ax} out of range for rank {r}")));
            }
            let ax = ax as usize;
            reshape_to(vec![s[..ax].iter().product(), s[ax..].iter().product()])
        }
        "Reshape" => {
            let s = ctx.shape(0)?;
            let target = if opset < 5 {
                a.ints("shape")?.ok_or_else(|| ctx.err("missing shape"))?
            } else {
                ctx.const_ints(1, "shape")?.ok_or_else(|| ctx.err("missing shape"))?
            };
            let allowzero = a.int_or("allowzero", 0)? != 0;
            let total: usize = s.iter().product();
            let mut out = Vec::with_capacity(target.len());
            let mut infer = None;
            for (i, &d) in target.iter().enumerate() {
                match d {
                    0 if !allowzero => out.push(*s.get(i).ok_or_else(|| ctx.err("0 in shape beyond the input rank"))?),
                    -1 if infer.is_none() => {
                        infer = Some(i);
                        out.push(1);
                    }
                    d if d >= 0 => out.push(d as usize),
                    _ => return Err(ctx.err(format!("invalid target shape {target:?}"))),
                }
            }
            if let Some(i) = infer {
                let known: usize = out.iter().product();
                if known == 0 || total % known != 0 {
                    return Err(ctx.err(format!("cannot reshape {s:?} to {target:?}")));
                }
                out[i] = total / known;
            }
            if out.iter().product::<usize>() != total {
                return Err(ctx.err(format!("cannot reshape {s:?} to {target:?}")));
            }
            reshape_to(out)
        }
        "Squeeze" | "Unsqueeze" => {
            let s = ctx.shape(0)?;
            let axes = if opset < 13 { a.ints("axes")? } else { ctx.const_ints(1, "axes")? };
            if ctx.op == "Squeeze" {
                let axes = match axes {
                    Some(v) => ctx.axes(&v, s.len())?,
                    None => (0..s.len()).filter(|&d| s[d] == 1).collect(),
                };
                if let Some(&d) = axes.iter().find(|&&d| s[d] != 1) {
                    return Err(ctx.err(format!("cannot squeeze axis {d} of size {}", s[d])));
                }
                reshape_to(s.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &v)| v).collect())
            } else {
                let axes = axes.ok_or_else(|| ctx.err("missing axes"))?;
                let r = s.len() + axes.len();
                let axes = ctx.axes(&axes, r)?;
                let mut it = s.iter();
                reshape_to((0..r).map(|d| if axes.contains(&d) { 1 } else { *it.next().unwrap() }).collect())
            }
        }
        "Transpose" => {
            let r = ctx.rank(0)?;
            let perm = match a.ints("perm")? {
                Some(p) => usizes(ctx, &p, "perm")?,
                None => (0..r).rev().collect(),
            };
            op(Op::Transpose { perm }, vec![0])
        }
        "Concat" => {
            // `axis` became required in opset 4; before, it defaulted to 1.
            let axis = match a.int("axis")? {
                Some(v) => v,
                None if opset < 4 => 1,
                None => return Err(ctx.err("missing axis")),
            };
            let axis = ctx.axis(axis, ctx.rank(0)?)?;
            op(Op::Concat { axis }, all.clone())
        }
        "Split" => {
            let s = ctx.shape(0)?;
            let axis = ctx.axis(a.int_or("axis", 0)?, s.len())?;
            // Opset 1 takes `split` as an attribute or as a second input, 2–12 as an attribute.
            let given = if opset < 2 && ctx.has_input(1) {
                ctx.const_ints(1, "split")?
            } else if opset < 13 {
                a.ints("split")?
            } else {
                ctx.const_ints(1, "split")?
            };
            let n_out = a.int("num_outputs")?;
            let n = ctx.n_outputs;
            let sizes = match given {
                Some(v) => usizes(ctx, &v, "split")?,
                None => {
                    let parts = n_out.map(|v| v as usize).unwrap_or(n);
                    let chunk = s[axis].div_ceil(parts);
                    (0..parts).map(|i| chunk.min(s[axis].saturating_sub(i * chunk))).collect()
                }
            };
            op(Op::Split { axis, sizes }, vec![0])
        }
        "Slice" => {
            let s = ctx.shape(0)?;
            let r = s.len();
            let (starts, ends, axes, steps) = if opset < 10 {
                (a.ints("starts")?, a.ints("ends")?, a.ints("axes")?, None)
            } else {
                (ctx.const_ints(1, "starts")?, ctx.const_ints(2, "ends")?, ctx.const_ints(3, "axes")?, ctx.const_ints(4, "steps")?)
            };
            let starts = starts.ok_or_else(|| ctx.err("missing starts"))?;
            let ends = ends.ok_or_else(|| ctx.err("missing ends"))?;
            let axes = axes.unwrap_or_else(|| (0..starts.len() as i64).collect());
            let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
            if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
                return Err(ctx.err("starts, ends, axes and steps must have the same length"));
            }
            let mut ranges: Vec<SliceRange> = s.iter().map(|&d| SliceRange { start: 0, step: 1, len: d }).collect();
            for i in 0..starts.len() {
                let ax = ctx.axis(axes[i], r)?;
                let dim = s[ax] as i128;
                let step = steps[i] as i128;
                if step == 0 {
                    return Err(ctx.err("slice step 0"));
                }
                let (mut st, mut en) = (starts[i] as i128, ends[i] as i128);
                if st < 0 {
                    st += dim;
                }
                if en < 0 {
                    en += dim;
                }
                let len = if step > 0 {
                    st = st.clamp(0, dim);
                    en = en.clamp(0, dim);
                    ((en - st).max(0) + step - 1) / step
                } else {
                    st = st.clamp(0, dim - 1);
                    en = en.clamp(-1, dim - 1);
                    ((st - en).max(0) + (-step) - 1) / (-step)
                };
                ranges[ax] = SliceRange { start: st.max(0) as usize, step: step as isize, len: len as usize };
            }
            op(Op::Slice { ranges }, vec![0])
        }
        "Tile" if opset < 6 => return Err(ctx.unsupported("the opset 1–5 form (tiles, axis inputs); re-export with opset >= 6")),
        "Tile" => {
            let rep = ctx.const_ints(1, "repeats")?.ok_or_else(|| ctx.err("missing repeats"))?;
            op(Op::Tile { repeats: usizes(ctx, &rep, "repeats")? }, vec![0])
        }
        "Expand" => {
            let sh = ctx.const_ints(1, "shape")?.ok_or_else(|| ctx.err("missing shape"))?;
            op(Op::Expand { shape: usizes(ctx, &sh, "shape")? }, vec![0])
        }
        "Pad" => {
            let r = ctx.rank(0)?;
            let mode = a.string("mode")?.unwrap_or_else(|| "constant".into());
            let mode = match mode.as_str() {
                "constant" => PadMode::Constant,
                "reflect" => PadMode::Reflect,
                "edge" => PadMode::Edge,
                other => return Err(ctx.unsupported(format!("mode `{other}`"))),
            };
            let (pads, value, axes) = if opset < 11 {
                let p = a.ints("pads")?.or(a.ints("paddings")?).ok_or_else(|| ctx.err("missing pads"))?;
                (p, a.float_or("value", 0.0)?, None)
            } else {
                let p = ctx.const_ints(1, "pads")?.ok_or_else(|| ctx.err("missing pads"))?;
                (p, ctx.const_scalar(2, "constant_value")?.unwrap_or(0.0), ctx.const_ints(3, "axes")?)
            };
            if pads.iter().any(|&p| p < 0) {
                return Err(ctx.unsupported("negative pads (cropping)"));
            }
            let axes = match axes {
                Some(ax) => ax.iter().map(|&x| ctx.axis(x, r)).collect::<Result<Vec<_>>>()?,
                None => (0..r).collect(),
            };
            if pads.len() != 2 * axes.len() {
                return Err(ctx.err(format!("pads {pads:?} do not match {} axes", axes.len())));
            }
            let mut full = vec![0usize; 2 * r];
            let k = axes.len();
            for (i, &ax) in axes.iter().enumerate() {
                full[ax] = pads[i] as usize;
                full[r + ax] = pads[k + i] as usize;
            }
            op(Op::Pad { mode, pads: full, value }, vec![0])
        }
        _ => return Ok(None),
    };
    Ok(Some(lowered))
}

fn reshape_to(shape: Vec<usize>) -> Lowered {
    op(Op::Reshape { shape }, vec![0])
}
