//! Windowed ops: Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool and
//! GlobalMaxPool. Kernel, strides, pads, dilations and `auto_pad` are resolved here against the
//! static spatial input shape into a [`Window`], so the later stages see explicit pads only.

use crate::error::Result;
use crate::import::lower::{op, usizes, Ctx, Lowered};
use crate::ir::{Op, Window};

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let all: Vec<usize> = (0..ctx.ins.len()).filter(|&i| ctx.has_input(i)).collect();
    let lowered = match ctx.op {
        "Conv" => {
            let x = ctx.shape(0)?;
            let w = ctx.shape(1)?;
            if x.len() < 3 || w.len() != x.len() {
                return Err(ctx.err(format!("Conv needs input [N, C, ..] and weight of the same rank, got {x:?} and {w:?}")));
            }
            let kernel = match a.ints("kernel_shape")? {
                Some(k) => usizes(ctx, &k, "kernel_shape")?,
                None => w[2..].to_vec(),
            };
            if kernel != w[2..] {
                return Err(ctx.err(format!("kernel_shape {kernel:?} differs from the weight's {:?}", &w[2..])));
            }
            let group = a.int_or("group", 1)? as usize;
            op(Op::Conv { window: window(ctx, &x[2..], kernel, false)?, group }, all.clone())
        }
        "ConvTranspose" => {
            let x = ctx.shape(0)?;
            let w = ctx.shape(1)?;
            if x.len() < 3 || w.len() != x.len() {
                return Err(ctx.err(format!("ConvTranspose needs input [N, C, ..] and weight of the same rank, got {x:?} and {w:?}")));
            }
            if let Some(k) = a.ints("kernel_shape")? {
                if usizes(ctx, &k, "kernel_shape")? != w[2..] {
                    return Err(ctx.err("kernel_shape differs from the weight"));
                }
            }
            let group = a.int_or("group", 1)? as usize;
            op(Op::ConvTranspose { window: conv_transpose_window(ctx, &x[2..], w[2..].to_vec())?, group }, all.clone())
        }
        "MaxPool" | "AveragePool" => {
            let x = ctx.shape(0)?;
            if x.len() < 3 {
                return Err(ctx.err(format!("pooling needs [N, C, ..], got {x:?}")));
            }
            let kernel = usizes(ctx, &a.ints("kernel_shape")?.ok_or_else(|| ctx.err("missing kernel_shape"))?, "kernel_shape")?;
            let ceil = a.int_or("ceil_mode", 0)? != 0;
            let win = window(ctx, &x[2..], kernel, ceil)?;
            if ctx.op == "MaxPool" {
                if a.int_or("storage_order", 0)? != 0 {
                    return Err(ctx.unsupported("storage_order = 1"));
                }
                ctx.no_extra_outputs("Indices")?;
                op(Op::MaxPool { window: win }, vec![0])
            } else {
                let cip = a.int_or("count_include_pad", 0)? != 0;
                op(Op::AveragePool { window: win, count_include_pad: cip }, vec![0])
            }
        }
        "GlobalAveragePool" => op(Op::GlobalAveragePool, vec![0]),
        "GlobalMaxPool" => op(Op::GlobalMaxPool, vec![0]),
        _ => return Ok(None),
    };
    Ok(Some(lowered))
}

/// Resolve kernel/strides/pads/dilations/auto_pad of Conv and pooling against the spatial input.
fn window(ctx: &Ctx, in_sp: &[usize], kernel: Vec<usize>, ceil_mode: bool) -> Result<Window> {
    let r = in_sp.len();
    let a = &ctx.attrs;
    let strides = usizes(ctx, &a.ints("strides")?.unwrap_or(vec![1; r]), "strides")?;
    let dilations = usizes(ctx, &a.ints("dilations")?.unwrap_or(vec![1; r]), "dilations")?;
    let mut pads = usizes(ctx, &a.ints("pads")?.unwrap_or(vec![0; 2 * r]), "pads")?;
    let auto_pad = a.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
    if kernel.len() != r || strides.len() != r || dilations.len() != r || pads.len() != 2 * r {
        return Err(ctx.err(format!(
            "kernel {kernel:?}, strides {strides:?}, dilations {dilations:?}, pads {pads:?} do not match {r} spatial axes"
        )));
    }
    if strides.contains(&0) || dilations.contains(&0) || kernel.contains(&0) {
        return Err(ctx.err("kernel, strides and dilations must be positive"));
    }
    let mut out = vec![0; r];
    for d in 0..r {
        let span = (kernel[d] - 1) * dilations[d] + 1;
        match auto_pad.as_str() {
            "SAME_UPPER" | "SAME_LOWER" => {
                out[d] = in_sp[d].div_ceil(strides[d]);
                let total = ((out[d] - 1) * strides[d] + span).saturating_sub(in_sp[d]);
                let small = total / 2;
                (pads[d], pads[r + d]) = if auto_pad == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
            }
            "VALID" | "NOTSET" => {
                if auto_pad == "VALID" {
                    pads[d] = 0;
                    pads[r + d] = 0;
                }
                let padded = in_sp[d] + pads[d] + pads[r + d];
                if padded < span {
                    return Err(ctx.err(format!("kernel span {span} exceeds padded input {padded} on spatial axis {d}")));
                }
                out[d] = if ceil_mode { (padded - span).div_ceil(strides[d]) + 1 } else { (padded - span) / strides[d] + 1 };
                if ceil_mode && (out[d] - 1) * strides[d] >= in_sp[d] + pads[d] {
                    out[d] -= 1;
                }
            }
            other => return Err(ctx.unsupported(format!("auto_pad `{other}`"))),
        }
    }
    Ok(Window { kernel, strides, pads, dilations, out_dims: out })
}

fn conv_transpose_window(ctx: &Ctx, in_sp: &[usize], kernel: Vec<usize>) -> Result<Window> {
    let r = in_sp.len();
    let a = &ctx.attrs;
    let strides = usizes(ctx, &a.ints("strides")?.unwrap_or(vec![1; r]), "strides")?;
    let dilations = usizes(ctx, &a.ints("dilations")?.unwrap_or(vec![1; r]), "dilations")?;
    let mut pads = usizes(ctx, &a.ints("pads")?.unwrap_or(vec![0; 2 * r]), "pads")?;
    let out_pad = usizes(ctx, &a.ints("output_padding")?.unwrap_or(vec![0; r]), "output_padding")?;
    let out_shape = a.ints("output_shape")?;
    let auto_pad = a.string("auto_pad")?.unwrap_or_else(|| "NOTSET".into());
    if strides.len() != r || dilations.len() != r || pads.len() != 2 * r || out_pad.len() != r {
        return Err(ctx.err("strides, dilations, pads and output_padding must match the spatial rank"));
    }
    let mut out = vec![0; r];
    for d in 0..r {
        let full = strides[d] * (in_sp[d] - 1) + out_pad[d] + (kernel[d] - 1) * dilations[d] + 1;
        let target = match (&out_shape, auto_pad.as_str()) {
            (Some(s), _) => {
                let s = usizes(ctx, s, "output_shape")?;
                Some(*s.get(s.len().wrapping_sub(r) + d).ok_or_else(|| ctx.err("output_shape rank"))?)
            }
            (None, "SAME_UPPER" | "SAME_LOWER") => Some(in_sp[d] * strides[d]),
            (None, "NOTSET" | "VALID") => None,
            (None, other) => return Err(ctx.unsupported(format!("auto_pad `{other}`"))),
        };
        match target {
            Some(o) => {
                let total = full.checked_sub(o).ok_or_else(|| ctx.err("output_shape larger than the full output"))?;
                let small = total / 2;
                (pads[d], pads[r + d]) = if auto_pad == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
                out[d] = o;
            }
            None => {
                out[d] = full.checked_sub(pads[d] + pads[r + d]).ok_or_else(|| ctx.err("pads exceed the output"))?;
            }
        }
    }
    Ok(Window { kernel, strides, pads, dilations, out_dims: out })
}
