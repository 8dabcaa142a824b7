//! Tensors made from shapes and constants, and rearrangements, resolved at import:
//!
//! | ONNX | lowered to |
//! |------|------------|
//! | ConstantOfShape (constant shape) | a constant |
//! | Range (constant start, limit, delta) | a constant |
//! | EyeLike | a constant (the input's shape, diagonal `k`) |
//! | Trilu (constant `k`) | `x ⊙ M`, `M` the constant 0/1 band mask (a product by constants) |
//! | DepthToSpace (DCR, CRD), SpaceToDepth | `Reshape`, `Transpose`, `Reshape` (wiring only) |
//! | IsNaN, IsInf | constants: folded on constants; on runtime values all false, since quantized values are finite integers (a NaN or infinite model input is refused when it is quantized) |

use crate::error::Result;
use crate::import::lower::{Ctx, KnownIn, Lowered, Src, SubNode};
use crate::ir::Op;
use crate::tensor::Tensor;
use ndarray::{ArrayD, IxDyn};

fn usize_dims(ctx: &Ctx, v: &[i64], what: &str) -> Result<Vec<usize>> {
    v.iter().map(|&d| usize::try_from(d).map_err(|_| ctx.err(format!("{what} has a negative entry {d}")))).collect()
}

/// `Reshape → Transpose → Reshape` of input 0.
fn rearrange(first: Vec<usize>, perm: Vec<usize>, last: Vec<usize>) -> Lowered {
    let nodes = vec![
        SubNode { op: Op::Reshape { shape: first }, inputs: vec![Src::In(0)] },
        SubNode { op: Op::Transpose { perm }, inputs: vec![Src::Node(0, 0)] },
        SubNode { op: Op::Reshape { shape: last }, inputs: vec![Src::Node(1, 0)] },
    ];
    Lowered::Graph { nodes, outputs: vec![Some(Src::Node(2, 0))] }
}

/// `[N, C, H, W]` of input 0.
fn nchw(ctx: &Ctx) -> Result<[usize; 4]> {
    let s = ctx.shape(0)?;
    <[usize; 4]>::try_from(s.as_slice()).map_err(|_| ctx.err(format!("needs a 4-D [N, C, H, W] input, got {s:?}")))
}

/// Lower a node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let lowered = match ctx.op {
        "ConstantOfShape" => {
            let shape = ctx.const_ints(0, "shape")?.ok_or_else(|| ctx.err("missing input 0 (shape)"))?;
            let shape = usize_dims(ctx, &shape, "shape")?;
            let t = match a.tensor("value")? {
                None => Tensor::zeros(crate::tensor::DType::F32, &shape),
                Some(v) if v.len() == 1 => match v {
                    Tensor::F32(x) => Tensor::F32(ArrayD::from_elem(IxDyn(&shape), *x.iter().next().expect("one"))),
                    Tensor::I64(x) => Tensor::I64(ArrayD::from_elem(IxDyn(&shape), *x.iter().next().expect("one"))),
                },
                Some(v) => return Err(ctx.err(format!("value must hold one element, holds {}", v.len()))),
            };
            Lowered::Const(t)
        }
        "Range" => {
            let ints = (0..3).all(|i| matches!(ctx.ins.get(i).and_then(|o| o.as_ref()), Some(KnownIn::Const(Tensor::I64(_)))));
            let mut v = [0f64; 3];
            for (i, what) in ["start", "limit", "delta"].into_iter().enumerate() {
                v[i] = ctx.const_scalar(i, what)?.ok_or_else(|| ctx.err(format!("missing input {i} ({what})")))? as f64;
            }
            let [start, limit, delta] = v;
            if delta == 0.0 {
                return Err(ctx.err("delta is 0"));
            }
            let count = ((limit - start) / delta).ceil().max(0.0) as usize;
            if count > 1 << 24 {
                return Err(ctx.err(format!("Range of {count} elements")));
            }
            let vals = (0..count).map(|i| start + i as f64 * delta);
            Lowered::Const(if ints {
                Tensor::I64(ndarray::Array1::from_iter(vals.map(|x| x as i64)).into_dyn())
            } else {
                Tensor::F32(ndarray::Array1::from_iter(vals.map(|x| x as f32)).into_dyn())
            })
        }
        "EyeLike" => {
            let s = ctx.shape(0)?;
            let [r, c] = s[..] else { return Err(ctx.err(format!("needs a 2-D input, got {s:?}"))) };
            let k = a.int_or("k", 0)?;
            let dtype = a.int("dtype")?;
            let eye = ArrayD::from_shape_fn(IxDyn(&[r, c]), |ix| (ix[1] as i64 - ix[0] as i64 == k) as i64);
            let int_in = matches!(ctx.ins.first().and_then(|o| o.as_ref()), Some(KnownIn::Const(Tensor::I64(_))));
            Lowered::Const(match dtype {
                Some(1 | 10 | 11 | 16) => Tensor::F32(eye.mapv(|v| v as f32)),
                Some(_) => Tensor::I64(eye),
                None if int_in => Tensor::I64(eye),
                None => Tensor::F32(eye.mapv(|v| v as f32)),
            })
        }
        "Trilu" => {
            let s = ctx.shape(0)?;
            if s.len() < 2 {
                return Err(ctx.err(format!("needs at least 2 dims, got {s:?}")));
            }
            let k = match ctx.const_ints(1, "k")? {
                Some(v) => *v.first().ok_or_else(|| ctx.err("k is empty"))?,
                None => 0,
            };
            let upper = a.int_or("upper", 1)? != 0;
            let (r, c) = (s[s.len() - 2], s[s.len() - 1]);
            let mask = ArrayD::from_shape_fn(IxDyn(&[r, c]), |ix| {
                let d = ix[1] as i64 - ix[0] as i64;
                (if upper { d >= k } else { d <= k }) as i64 as f32
            });
            let nodes = vec![SubNode { op: Op::Mul, inputs: vec![Src::In(0), Src::Const(Tensor::F32(mask))] }];
            Lowered::Graph { nodes, outputs: vec![Some(Src::Node(0, 0))] }
        }
        "DepthToSpace" => {
            let [n, c, h, w] = nchw(ctx)?;
            let b = a.int("blocksize")?.ok_or_else(|| ctx.err("missing blocksize"))?;
            let b = usize::try_from(b).ok().filter(|&b| b > 0 && c % (b * b) == 0).ok_or_else(|| ctx.err(format!("blocksize {b} does not divide C = {c} into squares")))?;
            let c2 = c / (b * b);
            let last = vec![n, c2, h * b, w * b];
            match a.string("mode")?.as_deref().unwrap_or("DCR") {
                "DCR" => rearrange(vec![n, b, b, c2, h, w], vec![0, 3, 4, 1, 5, 2], last),
                "CRD" => rearrange(vec![n, c2, b, b, h, w], vec![0, 1, 4, 2, 5, 3], last),
                other => return Err(ctx.err(format!("mode `{other}` (DCR or CRD)"))),
            }
        }
        "SpaceToDepth" => {
            let [n, c, h, w] = nchw(ctx)?;
            let b = a.int("blocksize")?.ok_or_else(|| ctx.err("missing blocksize"))?;
            let b = usize::try_from(b).ok().filter(|&b| b > 0 && h % b == 0 && w % b == 0).ok_or_else(|| ctx.err(format!("blocksize {b} does not divide H = {h} and W = {w}")))?;
            rearrange(vec![n, c, h / b, b, w / b, b], vec![0, 3, 5, 1, 2, 4], vec![n, c * b * b, h / b, w / b])
        }
        "IsNaN" | "IsInf" => {
            let (neg, pos) = (a.int_or("detect_negative", 1)? != 0, a.int_or("detect_positive", 1)? != 0);
            let hit = |v: f32| if ctx.op == "IsNaN" { v.is_nan() } else { (v == f32::INFINITY && pos) || (v == f32::NEG_INFINITY && neg) };
            Lowered::Const(match ctx.input(0)? {
                KnownIn::Const(t) => Tensor::I64(t.to_f32().mapv(|v| hit(v) as i64)),
                KnownIn::Value(s) => Tensor::I64(ArrayD::zeros(IxDyn(s))),
            })
        }
        _ => return Ok(None),
    };
    Ok(Some(lowered))
}
