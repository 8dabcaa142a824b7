//! Float executor: runs the IR as the ONNX model defines it, in f32 (statistics in f64). It is the
//! accuracy reference for quantization, and the evaluator used by constant folding and shape
//! inference at import.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::ir::{Graph, Op, Operand};
use crate::kernels::{broadcast, linear, reduce, shape, window, KResult};
use crate::tensor::{DType, Tensor};
use ndarray::{ArrayD, Axis, IxDyn};

/// Run the graph on float inputs (in `graph.inputs` order); returns the outputs.
pub fn run(graph: &Graph, inputs: &[ArrayD<f32>]) -> Result<Vec<Tensor>> {
    if inputs.len() != graph.inputs.len() {
        return Err(Error::InputShape {
            name: "<model>".into(),
            reason: format!("model has {} inputs, got {}", graph.inputs.len(), inputs.len()),
        });
    }
    let mut vals: Vec<Option<Tensor>> = vec![None; graph.values.len()];
    for (&id, x) in graph.inputs.iter().zip(inputs) {
        let info = graph.value(id);
        if x.shape() != info.shape.as_slice() {
            return Err(Error::InputShape {
                name: info.name.clone(),
                reason: format!("expected shape {:?}, got {:?}", info.shape, x.shape()),
            });
        }
        vals[id] = Some(match info.dtype {
            DType::F32 => Tensor::F32(x.clone()),
            // Integer and boolean inputs (integral values, checked when the data is read).
            DType::I64 => Tensor::I64(x.mapv(|v| v as i64)),
        });
    }
    for node in &graph.nodes {
        let ins: Vec<Tensor> = node
            .inputs
            .iter()
            .map(|o| match *o {
                Operand::Value(v) => vals[v].clone().expect("topological order"),
                Operand::Const(c) => graph.consts[c].clone(),
            })
            .collect();
        let outs = eval_op(&node.op, &ins).map_err(|e| Error::invalid(&node.onnx_op, &node.name, e))?;
        for (&o, t) in node.outputs.iter().zip(outs) {
            vals[o] = Some(t);
        }
    }
    Ok(graph.outputs.iter().map(|&o| vals[o].clone().expect("outputs computed")).collect())
}

fn f(t: &Tensor) -> ArrayD<f32> {
    t.to_f32()
}

fn both_int(ins: &[Tensor]) -> bool {
    ins.iter().all(|t| t.dtype() == DType::I64)
}

fn unary(ins: &[Tensor], g: impl Fn(f64) -> f64) -> KResult<Vec<Tensor>> {
    Ok(vec![Tensor::F32(f(&ins[0]).mapv(|v| g(v as f64) as f32))])
}

fn binary_f(ins: &[Tensor], g: impl Fn(f32, f32) -> f32) -> KResult<Vec<Tensor>> {
    Ok(vec![Tensor::F32(broadcast::zip_with(&f(&ins[0]), &f(&ins[1]), |&a, &b| g(a, b))?)])
}

fn variadic(ins: &[Tensor], gf: impl Fn(f32, f32) -> f32, gi: impl Fn(i64, i64) -> i64) -> KResult<Vec<Tensor>> {
    if both_int(ins) {
        let mut acc = ins[0].to_i64().unwrap();
        for t in &ins[1..] {
            acc = broadcast::zip_with(&acc, &t.to_i64().unwrap(), |&a, &b| gi(a, b))?;
        }
        return Ok(vec![Tensor::I64(acc)]);
    }
    let mut acc = f(&ins[0]);
    for t in &ins[1..] {
        acc = broadcast::zip_with(&acc, &f(t), |&a, &b| gf(a, b))?;
    }
    Ok(vec![Tensor::F32(acc)])
}

/// Apply a data-movement kernel to either element type.
macro_rules! movement {
    ($t:expr, |$a:ident| $body:expr) => {
        match $t {
            Tensor::F32($a) => Tensor::F32($body?),
            Tensor::I64($a) => Tensor::I64($body?),
        }
    };
}

/// `x` viewed as `[outer, inner]` lanes for softmax: one lane per position of the other axes.
fn softmax_lanes(x: &ArrayD<f32>, axis: usize, flatten: bool, g: impl Fn(&mut [f64])) -> KResult<ArrayD<f32>> {
    if axis >= x.ndim() {
        return Err(format!("softmax axis {axis} out of range for rank {}", x.ndim()));
    }
    let mut out = x.clone();
    let apply = |mut lane: ndarray::ArrayViewMut1<f32>| {
        let mut v: Vec<f64> = lane.iter().map(|&a| a as f64).collect();
        g(&mut v);
        for (d, s) in lane.iter_mut().zip(v) {
            *d = s as f32;
        }
    };
    if flatten {
        let outer: usize = x.shape()[..axis].iter().product();
        let mut flat = out.into_shape_with_order((outer, x.len() / outer.max(1))).map_err(|e| e.to_string())?;
        for lane in flat.lanes_mut(Axis(1)) {
            apply(lane);
        }
        return flat.into_shape_with_order(IxDyn(x.shape())).map_err(|e| e.to_string());
    }
    for lane in out.lanes_mut(Axis(axis)) {
        apply(lane);
    }
    Ok(out)
}

pub(crate) fn softmax_f64(v: &mut [f64]) {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut s = 0.0;
    for x in v.iter_mut() {
        *x = (*x - m).exp();
        s += *x;
    }
    for x in v.iter_mut() {
        *x /= s;
    }
}

fn log_softmax_f64(v: &mut [f64]) {
    let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = v.iter().map(|x| (x - m).exp()).sum();
    let l = s.ln();
    for x in v.iter_mut() {
        *x = *x - m - l;
    }
}

fn add_bias(y: ArrayD<f32>, bias: Option<&Tensor>) -> KResult<ArrayD<f32>> {
    match bias {
        None => Ok(y),
        Some(b) => {
            let b = f(b);
            let mut shape = vec![1; y.ndim()];
            shape[1] = b.len();
            let b = shape::reshape(&b, &shape)?;
            broadcast::zip_with(&y, &b, |&a, &c| a + c)
        }
    }
}

/// Normalise `x` over the groups defined by `axes` (population variance), in f64.
fn normalize(x: &ArrayD<f32>, axes: &[usize], eps: f32) -> KResult<ArrayD<f32>> {
    let mean = reduce::reduce(x, axes, true, |g| g.iter().map(|&v| v as f64).sum::<f64>() / g.len() as f64)?;
    let var = reduce::reduce(x, axes, true, |g| {
        let m = g.iter().map(|&v| v as f64).sum::<f64>() / g.len() as f64;
        g.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / g.len() as f64
    })?;
    let xd = x.mapv(|v| v as f64);
    let c = broadcast::zip_with(&xd, &mean, |&a, &m| a - m)?;
    let r = var.mapv(|v| 1.0 / (v + eps as f64).sqrt());
    Ok(broadcast::zip_with(&c, &r, |&a, &b| (a * b) as f32)?)
}

/// Evaluate one op on concrete tensors.
pub fn eval_op(op: &Op, ins: &[Tensor]) -> KResult<Vec<Tensor>> {
    let need = |n: usize| -> KResult<()> {
        if ins.len() < n { Err(format!("expects at least {n} inputs, got {}", ins.len())) } else { Ok(()) }
    };
    Ok(match op {
        Op::MatMul => {
            need(2)?;
            vec![Tensor::F32(linear::matmul(&f(&ins[0]), &f(&ins[1]))?)]
        }
        Op::Gemm { alpha, beta, trans_a, trans_b } => {
            need(2)?;
            let mut a = f(&ins[0]);
            let mut b = f(&ins[1]);
            if a.ndim() != 2 || b.ndim() != 2 {
                return Err(format!("Gemm needs 2-D operands, got {:?} and {:?}", a.shape(), b.shape()));
            }
            if *trans_a {
                a = shape::transpose(&a, &[1, 0])?;
            }
            if *trans_b {
                b = shape::transpose(&b, &[1, 0])?;
            }
            let mut y = linear::matmul(&a, &b)?.mapv(|v| v * alpha);
            if let Some(c) = ins.get(2) {
                y = broadcast::zip_with(&y, &f(c), |&a, &c| a + beta * c)?;
                if y.ndim() != 2 {
                    return Err("Gemm bias broadcast changed the output rank".into());
                }
            }
            vec![Tensor::F32(y)]
        }
        Op::Conv { window, group } => {
            need(2)?;
            let y = linear::conv(&f(&ins[0]), &f(&ins[1]), window, *group)?;
            vec![Tensor::F32(add_bias(y, ins.get(2))?)]
        }
        Op::ConvTranspose { window, group } => {
            need(2)?;
            let y = linear::conv_transpose(&f(&ins[0]), &f(&ins[1]), window, *group)?;
            vec![Tensor::F32(add_bias(y, ins.get(2))?)]
        }
        Op::Add | Op::Sub | Op::Mul | Op::Div if both_int(ins) => {
            need(2)?;
            let (a, b) = (ins[0].to_i64().unwrap(), ins[1].to_i64().unwrap());
            let r = broadcast::try_zip_with(&a, &b, |&x, &y| -> Result<i64, String> {
                Ok(match op {
                    Op::Add => x.wrapping_add(y),
                    Op::Sub => x.wrapping_sub(y),
                    Op::Mul => x.wrapping_mul(y),
                    _ => x.checked_div(y).ok_or("integer division by zero")?,
                })
            })??;
            vec![Tensor::I64(r)]
        }
        Op::Add => binary_f(ins, |a, b| a + b)?,
        Op::Sub => binary_f(ins, |a, b| a - b)?,
        Op::Mul => binary_f(ins, |a, b| a * b)?,
        Op::Div => binary_f(ins, |a, b| a / b)?,
        Op::Max => variadic(ins, f32::max, i64::max)?,
        Op::Min => variadic(ins, f32::min, i64::min)?,
        Op::Sum => variadic(ins, |a, b| a + b, |a, b| a.wrapping_add(b))?,
        Op::Neg if both_int(ins) => vec![Tensor::I64(ins[0].to_i64().unwrap().mapv(|v| -v))],
        Op::Neg => unary(ins, |x| -x)?,
        Op::Abs => unary(ins, f64::abs)?,
        Op::Relu => unary(ins, |x| x.max(0.0))?,
        Op::PRelu => binary_f(ins, |x, s| if x >= 0.0 { x } else { s * x })?,
        Op::Clip { min, max } => {
            let (lo, hi) = (min.unwrap_or(f32::NEG_INFINITY), max.unwrap_or(f32::INFINITY));
            vec![Tensor::F32(f(&ins[0]).mapv(|v| v.max(lo).min(hi)))]
        }
        Op::Softmax { axis, flatten } => vec![Tensor::F32(softmax_lanes(&f(&ins[0]), *axis, *flatten, softmax_f64)?)],
        Op::LogSoftmax { axis, flatten } => {
            vec![Tensor::F32(softmax_lanes(&f(&ins[0]), *axis, *flatten, log_softmax_f64)?)]
        }
        Op::MaxPool { window } => {
            vec![Tensor::F32(window::pool(&f(&ins[0]), window, |v, _| v.iter().cloned().fold(f32::NEG_INFINITY, f32::max))?)]
        }
        Op::AveragePool { window, count_include_pad } => {
            vec![Tensor::F32(window::pool(&f(&ins[0]), window, |v, padded| {
                let n = v.len() + if *count_include_pad { padded } else { 0 };
                (v.iter().map(|&x| x as f64).sum::<f64>() / n as f64) as f32
            })?)]
        }
        Op::GlobalAveragePool | Op::GlobalMaxPool => {
            let x = f(&ins[0]);
            if x.ndim() < 3 {
                return Err(format!("global pooling needs [N, C, ..], got {:?}", x.shape()));
            }
            let axes: Vec<usize> = (2..x.ndim()).collect();
            let y = if matches!(op, Op::GlobalAveragePool) {
                reduce::reduce(&x, &axes, true, |g| (g.iter().map(|&v| v as f64).sum::<f64>() / g.len() as f64) as f32)?
            } else {
                reduce::reduce(&x, &axes, true, |g| g.iter().cloned().fold(f32::NEG_INFINITY, f32::max))?
            };
            vec![Tensor::F32(y)]
        }
        Op::BatchNorm { eps } => {
            need(5)?;
            let x = f(&ins[0]);
            let c = if x.ndim() > 1 { x.shape()[1] } else { 1 };
            let (s, b, m, v) = (f(&ins[1]), f(&ins[2]), f(&ins[3]), f(&ins[4]));
            if [&s, &b, &m, &v].iter().any(|t| t.len() != c) {
                return Err(format!("BatchNormalization parameters must have {c} elements"));
            }
            let mut shape = vec![1; x.ndim()];
            if x.ndim() > 1 {
                shape[1] = c;
            }
            let a: Vec<f32> = (0..c).map(|i| s[[i]] / (v[[i]] + eps).sqrt()).collect();
            let sh: Vec<f32> = (0..c).map(|i| b[[i]] - m[[i]] * a[i]).collect();
            let a = shape::reshape(&ArrayD::from_shape_vec(IxDyn(&[c]), a).unwrap(), &shape)?;
            let sh = shape::reshape(&ArrayD::from_shape_vec(IxDyn(&[c]), sh).unwrap(), &shape)?;
            let y = broadcast::zip_with(&x, &a, |&x, &a| x * a)?;
            vec![Tensor::F32(broadcast::zip_with(&y, &sh, |&y, &b| y + b)?)]
        }
        Op::InstanceNorm { eps } => {
            need(3)?;
            let x = f(&ins[0]);
            let axes: Vec<usize> = (2..x.ndim()).collect();
            let n = normalize(&x, &axes, *eps)?;
            let mut shape = vec![1; x.ndim()];
            shape[1] = x.shape()[1];
            let s = shape::reshape(&f(&ins[1]), &shape)?;
            let b = shape::reshape(&f(&ins[2]), &shape)?;
            let y = broadcast::zip_with(&n, &s, |&a, &b| a * b)?;
            vec![Tensor::F32(broadcast::zip_with(&y, &b, |&a, &b| a + b)?)]
        }
        Op::LayerNorm { axis, eps } => {
            need(2)?;
            let x = f(&ins[0]);
            let axes: Vec<usize> = (*axis..x.ndim()).collect();
            let n = normalize(&x, &axes, *eps)?;
            let mut y = broadcast::zip_with(&n, &f(&ins[1]), |&a, &b| a * b)?;
            if let Some(b) = ins.get(2) {
                y = broadcast::zip_with(&y, &f(b), |&a, &b| a + b)?;
            }
            vec![Tensor::F32(y)]
        }
        Op::Reshape { shape: s } => vec![movement!(&ins[0], |a| shape::reshape(a, s))],
        Op::Transpose { perm } => vec![movement!(&ins[0], |a| shape::transpose(a, perm))],
        Op::Concat { axis } => {
            if both_int(ins) {
                let v: Vec<ArrayD<i64>> = ins.iter().map(|t| t.to_i64().unwrap()).collect();
                vec![Tensor::I64(shape::concat(&v.iter().collect::<Vec<_>>(), *axis)?)]
            } else {
                let v: Vec<ArrayD<f32>> = ins.iter().map(f).collect();
                vec![Tensor::F32(shape::concat(&v.iter().collect::<Vec<_>>(), *axis)?)]
            }
        }
        Op::Split { axis, sizes } => match &ins[0] {
            Tensor::F32(a) => shape::split(a, *axis, sizes)?.into_iter().map(Tensor::F32).collect(),
            Tensor::I64(a) => shape::split(a, *axis, sizes)?.into_iter().map(Tensor::I64).collect(),
        },
        Op::Slice { ranges } => vec![movement!(&ins[0], |a| shape::slice(a, ranges))],
        Op::Gather { axis, indices } => vec![movement!(&ins[0], |a| shape::gather(a, *axis, indices))],
        Op::Tile { repeats } => vec![movement!(&ins[0], |a| shape::tile(a, repeats))],
        Op::Expand { shape: s } => vec![movement!(&ins[0], |a| shape::expand(a, s))],
        Op::Pad { mode, pads, value } => match &ins[0] {
            Tensor::F32(a) => vec![Tensor::F32(shape::pad(a, *mode, pads, *value)?)],
            Tensor::I64(a) => vec![Tensor::I64(shape::pad(a, *mode, pads, *value as i64)?)],
        },
        Op::ReduceSum { axes, keepdims } if both_int(ins) => {
            vec![Tensor::I64(reduce::reduce(&ins[0].to_i64().unwrap(), axes, *keepdims, |g| g.iter().sum::<i64>())?)]
        }
        Op::ReduceSum { axes, keepdims } => {
            vec![Tensor::F32(reduce::reduce(&f(&ins[0]), axes, *keepdims, |g| g.iter().map(|&v| v as f64).sum::<f64>() as f32)?)]
        }
        Op::ReduceMean { axes, keepdims } => vec![Tensor::F32(reduce::reduce(&f(&ins[0]), axes, *keepdims, |g| {
            (g.iter().map(|&v| v as f64).sum::<f64>() / g.len() as f64) as f32
        })?)],
        Op::ReduceMax { axes, keepdims } => vec![Tensor::F32(reduce::reduce(&f(&ins[0]), axes, *keepdims, |g| {
            g.iter().cloned().fold(f32::NEG_INFINITY, f32::max)
        })?)],
        Op::ArgMax { axis, keepdims, select_last_index } => {
            vec![Tensor::I64(reduce::argmax(&f(&ins[0]), *axis, *keepdims, *select_last_index)?)]
        }
        Op::Compare(c) => crate::ops::compare::eval_float(*c, ins)?,
        Op::Tree(t) => crate::ops::tree::eval_float(t, ins)?,
        Op::Cast { to } => vec![match to {
            DType::F32 => Tensor::F32(f(&ins[0])),
            DType::I64 => Tensor::I64(f(&ins[0]).mapv(|v| v as i64)),
        }],
        other => match Activation::of_op(other) {
            Some(a) => unary(ins, |x| a.eval(x))?,
            None => return Err(format!("no float kernel for {}", other.name())),
        },
    })
}
