//! Resize and Upsample with static shapes, lowered at import per resized axis:
//!
//! * **nearest**: a `Gather` with constant indices (wiring only, no constraint rows);
//! * **linear** (bilinear, trilinear, …, one axis at a time): the axis moved last, then a
//!   `MatMul` by the constant `[in, out]` interpolation matrix `M` (column `o` holds `1 − w` at
//!   `⌊x⌋` and `w` at `⌊x⌋ + 1`, `x` the source coordinate of `o`, clamped to the input), then the
//!   axis moved back — a product by constants, the same `dot` rows as a dense layer.
//!
//! Source coordinates follow `coordinate_transformation_mode`: `half_pixel` (default),
//! `pytorch_half_pixel`, `align_corners`, `asymmetric`, `tf_half_pixel_for_nn`; nearest rounding
//! follows `nearest_mode`. Upsample (opsets 7–9) is `asymmetric` with `floor` rounding.
//! Refused by name: cubic mode, `tf_crop_and_resize`, antialiasing, `keep_aspect_ratio_policy`
//! other than `stretch`.

use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Src, SubNode};
use crate::ir::Op;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

#[derive(Clone, Copy, PartialEq)]
enum Coord {
    HalfPixel,
    PytorchHalfPixel,
    AlignCorners,
    Asymmetric,
    TfHalfPixelForNn,
}

#[derive(Clone, Copy, PartialEq)]
enum Round {
    PreferFloor,
    PreferCeil,
    Floor,
    Ceil,
}

/// Source coordinate of output index `o` along an axis of `inp` → `out` elements at `scale`.
fn source(c: Coord, o: usize, inp: usize, out: usize, scale: f64) -> f64 {
    let o = o as f64;
    match c {
        Coord::HalfPixel => (o + 0.5) / scale - 0.5,
        Coord::PytorchHalfPixel => {
            if out > 1 { (o + 0.5) / scale - 0.5 } else { 0.0 }
        }
        Coord::AlignCorners => {
            if out == 1 { 0.0 } else { o * (inp as f64 - 1.0) / (out as f64 - 1.0) }
        }
        Coord::Asymmetric => o / scale,
        Coord::TfHalfPixelForNn => (o + 0.5) / scale,
    }
}

fn round(r: Round, x: f64) -> f64 {
    let frac = x - x.floor();
    match r {
        Round::PreferFloor => if frac <= 0.5 { x.floor() } else { x.ceil() },
        Round::PreferCeil => if frac < 0.5 { x.floor() } else { x.ceil() },
        Round::Floor => x.floor(),
        Round::Ceil => x.ceil(),
    }
}

pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let upsample = match ctx.op {
        "Resize" => false,
        "Upsample" => true,
        _ => return Ok(None),
    };
    let a = &ctx.attrs;
    let shape = ctx.shape(0)?;
    let rank = shape.len();
    let mode = a.string("mode")?.unwrap_or_else(|| "nearest".into());
    let linear = match mode.as_str() {
        "nearest" => false,
        "linear" | "bilinear" | "trilinear" => true,
        other => return Err(ctx.unsupported(format!("mode `{other}` (nearest and linear are supported)"))),
    };
    let (coord, rounding, scales, sizes) = if upsample {
        let scales = if ctx.opset < 9 { a.floats("scales")? } else { ctx.const_input(1, "scales")?.map(|t| t.to_f32().iter().copied().collect()) };
        (Coord::Asymmetric, Round::Floor, scales.ok_or_else(|| ctx.err("missing scales"))?, None)
    } else {
        let coord = match a.string("coordinate_transformation_mode")?.as_deref().unwrap_or(if ctx.opset < 11 { "asymmetric" } else { "half_pixel" }) {
            "half_pixel" => Coord::HalfPixel,
            "pytorch_half_pixel" => Coord::PytorchHalfPixel,
            "align_corners" => Coord::AlignCorners,
            "asymmetric" => Coord::Asymmetric,
            "tf_half_pixel_for_nn" => Coord::TfHalfPixelForNn,
            other => return Err(ctx.unsupported(format!("coordinate_transformation_mode `{other}`"))),
        };
        let rounding = match a.string("nearest_mode")?.as_deref().unwrap_or(if ctx.opset < 11 { "floor" } else { "round_prefer_floor" }) {
            "round_prefer_floor" => Round::PreferFloor,
            "round_prefer_ceil" => Round::PreferCeil,
            "floor" => Round::Floor,
            "ceil" => Round::Ceil,
            other => return Err(ctx.err(format!("nearest_mode `{other}`"))),
        };
        if a.int_or("antialias", 0)? != 0 {
            return Err(ctx.unsupported("antialias = 1"));
        }
        if a.string("keep_aspect_ratio_policy")?.is_some_and(|p| p != "stretch") {
            return Err(ctx.unsupported("keep_aspect_ratio_policy other than `stretch`"));
        }
        if a.ints("axes")?.is_some() {
            return Err(ctx.unsupported("the `axes` attribute"));
        }
        a.has("cubic_coeff_a");
        a.has("exclude_outside");
        a.has("extrapolation_value");
        let (si, zi) = if ctx.opset < 11 { (1, usize::MAX) } else { (2, 3) };
        let scales: Vec<f32> = ctx.const_input(si, "scales")?.map(|t| t.to_f32().iter().copied().collect()).unwrap_or_default();
        let sizes = if zi != usize::MAX { ctx.const_ints(zi, "sizes")? } else { None };
        (coord, rounding, scales, sizes.filter(|s| !s.is_empty()))
    };
    let (outs, scales): (Vec<usize>, Vec<f64>) = match sizes {
        Some(sz) => {
            if sz.len() != rank {
                return Err(ctx.err(format!("{} sizes for rank {rank}", sz.len())));
            }
            let o: Vec<usize> = sz.iter().map(|&v| v.max(0) as usize).collect();
            let s = o.iter().zip(&shape).map(|(&o, &i)| o as f64 / i as f64).collect();
            (o, s)
        }
        None => {
            if scales.len() != rank {
                return Err(ctx.err(format!("{} scales for rank {rank} (and no sizes)", scales.len())));
            }
            let o = scales.iter().zip(&shape).map(|(&s, &i)| (i as f64 * s as f64).floor() as usize).collect();
            (o, scales.iter().map(|&s| s as f64).collect())
        }
    };
    if outs.iter().any(|&o| o == 0) {
        return Err(ctx.err(format!("an empty output shape {outs:?}")));
    }
    let mut nodes: Vec<SubNode> = Vec::new();
    let mut cur = Src::In(0);
    for axis in 0..rank {
        let (inp, out, scale) = (shape[axis], outs[axis], scales[axis]);
        if inp == out && (scale - 1.0).abs() < 1e-12 {
            continue;
        }
        if !linear {
            let idx: Vec<i64> = (0..out)
                .map(|o| {
                    let x = source(coord, o, inp, out, scale);
                    round(rounding, x).clamp(0.0, inp as f64 - 1.0) as i64
                })
                .collect();
            let indices = ArrayD::from_shape_vec(IxDyn(&[out]), idx).expect("out indices");
            nodes.push(SubNode { op: Op::Gather { axis, indices }, inputs: vec![cur] });
        } else {
            let mut m = ArrayD::<f32>::zeros(IxDyn(&[inp, out]));
            for o in 0..out {
                let x = source(coord, o, inp, out, scale).clamp(0.0, inp as f64 - 1.0);
                let i0 = x.floor() as usize;
                let i1 = (i0 + 1).min(inp - 1);
                let w = x - i0 as f64;
                m[[i0, o]] += (1.0 - w) as f32;
                m[[i1, o]] += w as f32;
            }
            let mut perm: Vec<usize> = (0..rank).filter(|&k| k != axis).collect();
            perm.push(axis);
            let mut inv = vec![0; rank];
            for (k, &p) in perm.iter().enumerate() {
                inv[p] = k;
            }
            let last = axis + 1 == rank;
            if !last {
                nodes.push(SubNode { op: Op::Transpose { perm }, inputs: vec![cur] });
                cur = Src::Node(nodes.len() - 1, 0);
            }
            nodes.push(SubNode { op: Op::MatMul, inputs: vec![cur, Src::Const(Tensor::F32(m))] });
            if !last {
                let j = nodes.len() - 1;
                nodes.push(SubNode { op: Op::Transpose { perm: inv }, inputs: vec![Src::Node(j, 0)] });
            }
        }
        cur = Src::Node(nodes.len() - 1, 0);
    }
    if nodes.is_empty() {
        return Ok(Some(Lowered::Alias(0)));
    }
    Ok(Some(Lowered::Graph { nodes, outputs: vec![Some(cur)] }))
}
