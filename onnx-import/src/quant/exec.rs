//! The integer reference executor: runs a [`QGraph`] on quantized inputs with exactly the
//! semantics of [`rules`](super::rules). The witness comes from here, and the circuit's outputs
//! must equal these outputs exactly.

use super::rules::{self, div_round, lookup, rescale, scale_up, VALUE_LIMIT};
use super::{QGraph, QOp};
use crate::activation::Activation;
use crate::data::Sample;
use crate::error::{Error, Result};
use crate::ir::Operand;
use crate::kernels::{broadcast, linear, reduce, shape, window};
use ndarray::{ArrayD, Axis, IxDyn};

/// What to do when a range-checked value leaves the lookup range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeMode {
    /// Stop with [`Error::LookupRange`] (proving, witness generation).
    Enforce,
    /// Only record the largest magnitude seen (calibration).
    Record,
}

/// The result of one execution: every value of the graph (the witness) and range statistics.
#[derive(Clone, Debug)]
pub struct Execution {
    pub values: Vec<ArrayD<i64>>,
    pub outputs: Vec<ArrayD<i64>>,
    /// Largest |v| over values that must lie in the lookup range.
    pub max_abs_checked: i64,
    /// Largest |v| over all values.
    pub max_abs_any: i64,
}

struct Checker<'a> {
    lo: i64,
    hi: i64,
    mode: RangeMode,
    max_abs: i64,
    node: &'a str,
    op: &'a str,
}

impl Checker<'_> {
    fn check(&mut self, v: i64) -> Result<()> {
        self.max_abs = self.max_abs.max(v.saturating_abs());
        if self.mode == RangeMode::Enforce && (v < self.lo || v > self.hi) {
            return Err(Error::LookupRange { node: self.node.into(), op: self.op.into(), value: v, lo: self.lo, hi: self.hi });
        }
        Ok(())
    }
    fn check_all(&mut self, a: &ArrayD<i64>) -> Result<()> {
        a.iter().try_for_each(|&v| self.check(v))
    }
    fn kernel<T>(&self, r: Result<T, String>) -> Result<T> {
        r.map_err(|e| Error::invalid(self.op, self.node, e))
    }
    fn arith(&self, reason: impl Into<String>) -> Error {
        Error::Arithmetic { node: self.node.into(), op: self.op.into(), reason: reason.into() }
    }
}

/// Quantize float inputs at the graph's input scales.
pub fn quantize_inputs(q: &QGraph, sample: &Sample) -> Result<Vec<ArrayD<i64>>> {
    if sample.len() != q.inputs.len() {
        return Err(Error::InputShape { name: "<model>".into(), reason: format!("expected {} inputs, got {}", q.inputs.len(), sample.len()) });
    }
    sample
        .iter()
        .zip(&q.inputs)
        .map(|(x, &id)| {
            let v = &q.values[id];
            if x.shape() != v.shape.as_slice() {
                return Err(Error::InputShape { name: v.name.clone(), reason: format!("expected shape {:?}, got {:?}", v.shape, x.shape()) });
            }
            Ok(x.mapv(|f| rules::quantize(f as f64, v.scale)))
        })
        .collect()
}

/// Dequantize the outputs of an execution.
pub fn dequantize_outputs(q: &QGraph, outs: &[ArrayD<i64>]) -> Vec<ArrayD<f64>> {
    outs.iter().zip(q.output_scales()).map(|(o, s)| o.mapv(|v| rules::dequantize(v, s))).collect()
}

/// Run the quantized graph on quantized inputs.
pub fn run(q: &QGraph, inputs: &[ArrayD<i64>], mode: RangeMode) -> Result<Execution> {
    let mut vals: Vec<Option<ArrayD<i64>>> = vec![None; q.values.len()];
    for (&id, x) in q.inputs.iter().zip(inputs) {
        if x.shape() != q.values[id].shape.as_slice() {
            return Err(Error::InputShape {
                name: q.values[id].name.clone(),
                reason: format!("expected shape {:?}, got {:?}", q.values[id].shape, x.shape()),
            });
        }
        vals[id] = Some(x.clone());
    }
    if inputs.len() != q.inputs.len() {
        return Err(Error::InputShape { name: "<model>".into(), reason: format!("expected {} inputs, got {}", q.inputs.len(), inputs.len()) });
    }
    let (lo, hi) = q.params.lookup_range;
    let mut max_checked = 0i64;
    // Model inputs are range-checked in the circuit, so a private input cannot be an arbitrary
    // field element.
    for (&id, x) in q.inputs.iter().zip(inputs) {
        let name = &q.values[id].name;
        let mut chk = Checker { lo, hi, mode, max_abs: 0, node: name, op: "input" };
        chk.check_all(x)?;
        max_checked = max_checked.max(chk.max_abs);
    }
    let mut max_any = inputs.iter().flat_map(|a| a.iter()).fold(0i64, |m, v| m.max(v.saturating_abs()));
    for node in &q.nodes {
        let ins: Vec<ArrayD<i64>> = node
            .inputs
            .iter()
            .map(|o| match *o {
                Operand::Value(v) => vals[v].clone().expect("topological order"),
                Operand::Const(c) => q.consts[c].data.clone(),
            })
            .collect();
        let mut chk = Checker { lo, hi, mode, max_abs: 0, node: &node.name, op: &node.onnx_op };
        let outs = eval(&node.op, &ins, &mut chk)?;
        max_checked = max_checked.max(chk.max_abs);
        for (&id, t) in node.outputs.iter().zip(outs) {
            let m = t.iter().fold(0i64, |m, v| m.max(v.saturating_abs()));
            if m >= VALUE_LIMIT {
                return Err(chk.arith("integer overflow; lower input_scale / param_scale"));
            }
            if t.shape() != q.values[id].shape.as_slice() {
                return Err(Error::invalid(&node.onnx_op, &node.name, format!("produced shape {:?}, expected {:?}", t.shape(), q.values[id].shape)));
            }
            max_any = max_any.max(m);
            vals[id] = Some(t);
        }
    }
    let values: Vec<ArrayD<i64>> = vals.into_iter().map(|v| v.unwrap_or_else(|| ArrayD::zeros(IxDyn(&[0])))).collect();
    let outputs: Vec<ArrayD<i64>> = q.outputs.iter().map(|&o| values[o].clone()).collect();
    // Public and hashed outputs are packed, which range-checks them in the circuit: calibration
    // sizes the lookup range to cover them (the prover refuses out-of-range published outputs;
    // private outputs may exceed the range, so they are not an error here).
    let max_out = outputs.iter().flat_map(|a| a.iter()).fold(0i64, |m, v| m.max(v.saturating_abs()));
    let max_checked = max_checked.max(max_out);
    Ok(Execution { values, outputs, max_abs_checked: max_checked, max_abs_any: max_any })
}

/// Softmax-family lanes: apply `g` to every lane along `axis` (or the flattened trailing axes).
fn lanes(x: &ArrayD<i64>, axis: usize, flatten: bool, mut g: impl FnMut(&[i64]) -> Result<Vec<i64>>) -> Result<ArrayD<i64>> {
    let mut out = x.clone();
    if flatten {
        let outer: usize = x.shape()[..axis].iter().product();
        let inner = x.len() / outer.max(1);
        let mut flat = out.into_shape_with_order((outer, inner)).expect("contiguous");
        for mut lane in flat.lanes_mut(Axis(1)) {
            let v: Vec<i64> = lane.iter().copied().collect();
            for (d, s) in lane.iter_mut().zip(g(&v)?) {
                *d = s;
            }
        }
        return Ok(flat.into_shape_with_order(IxDyn(x.shape())).expect("contiguous"));
    }
    for mut lane in out.lanes_mut(Axis(axis)) {
        let v: Vec<i64> = lane.iter().copied().collect();
        for (d, s) in lane.iter_mut().zip(g(&v)?) {
            *d = s;
        }
    }
    Ok(out)
}

/// One step of a running maximum as the circuit proves it: `d = b - a` (range-checked),
/// `max = a + relu(d)`.
fn max_step(a: i64, b: i64, c: &mut Checker) -> Result<i64> {
    let d = b - a;
    c.check(d)?;
    Ok(a + d.max(0))
}

/// One step of a running minimum: `d = a - b` (range-checked), `min = a - relu(d)`.
fn min_step(a: i64, b: i64, c: &mut Checker) -> Result<i64> {
    let d = a - b;
    c.check(d)?;
    Ok(a - d.max(0))
}

/// Maximum of a window or group, folded left to right with [`max_step`].
fn running_max(v: &[i64], c: &mut Checker) -> Result<i64> {
    let mut m = v[0];
    for &x in &v[1..] {
        m = max_step(m, x, c)?;
    }
    Ok(m)
}

/// `x` aligned from scale `from` to scale `to`.
fn align(x: i64, from: u32, to: u32) -> i64 {
    if from > to { rescale(x, from - to) } else { scale_up(x, to - from) }
}

fn eval(op: &QOp, ins: &[ArrayD<i64>], c: &mut Checker) -> Result<Vec<ArrayD<i64>>> {
    let x = &ins[0];
    let one = |a: ArrayD<i64>| Ok(vec![a]);
    match op {
        QOp::MatMul => one(c.kernel(linear::matmul(x, &ins[1]))?),
        QOp::Conv { window, group } | QOp::ConvTranspose { window, group } => {
            let mut y = if matches!(op, QOp::Conv { .. }) {
                c.kernel(linear::conv(x, &ins[1], window, *group))?
            } else {
                c.kernel(linear::conv_transpose(x, &ins[1], window, *group))?
            };
            if let Some(b) = ins.get(2) {
                let mut bs = vec![1; y.ndim()];
                bs[1] = b.len();
                let b = c.kernel(shape::reshape(b, &bs))?;
                y = c.kernel(broadcast::zip_with(&y, &b, |&a, &b| a.saturating_add(b)))?;
            }
            one(y)
        }
        QOp::Mul => one(c.kernel(broadcast::zip_with(x, &ins[1], |&a, &b| a.saturating_mul(b)))?),
        QOp::Add => one(c.kernel(broadcast::zip_with(x, &ins[1], |&a, &b| a.saturating_add(b)))?),
        QOp::Sub => one(c.kernel(broadcast::zip_with(x, &ins[1], |&a, &b| a.saturating_sub(b)))?),
        QOp::Sum => {
            let mut acc = x.clone();
            for t in &ins[1..] {
                acc = c.kernel(broadcast::zip_with(&acc, t, |&a, &b| a.saturating_add(b)))?;
            }
            one(acc)
        }
        QOp::Max | QOp::Min => {
            let max = matches!(op, QOp::Max);
            ins.iter().try_for_each(|a| c.check_all(a))?;
            let mut acc = x.clone();
            for t in &ins[1..] {
                let r = broadcast::try_zip_with(&acc, t, |&a, &b| if max { max_step(a, b, c) } else { min_step(a, b, c) });
                acc = c.kernel(r)??;
            }
            one(acc)
        }
        QOp::Neg => one(x.mapv(|v| v.saturating_neg())),
        QOp::ScaleUp { shift } => one(x.mapv(|v| scale_up(v, *shift))),
        QOp::Rescale { shift } => {
            let y = x.mapv(|v| rescale(v, *shift));
            c.check_all(&y)?;
            one(y)
        }
        QOp::Relu | QOp::Abs => {
            c.check_all(x)?;
            one(if matches!(op, QOp::Relu) { x.mapv(|v| v.max(0)) } else { x.mapv(|v| v.saturating_abs()) })
        }
        QOp::Clip { lo, hi } => {
            c.check_all(x)?;
            let (lo, hi) = (lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX));
            one(x.mapv(|v| v.max(lo).min(hi)))
        }
        QOp::PRelu { slope_scale } => {
            c.check_all(x)?;
            one(c.kernel(broadcast::zip_with(x, &ins[1], |&v, &s| if v >= 0 { scale_up(v, *slope_scale) } else { v.saturating_mul(s) }))?)
        }
        QOp::Lookup { act, in_scale, out_scale } => {
            c.check_all(x)?;
            one(x.mapv(|v| lookup(act, v, *in_scale, *out_scale)))
        }
        QOp::Div { shift } => {
            c.check_all(&ins[1])?;
            let r = c.kernel(broadcast::try_zip_with(x, &ins[1], |&a, &b| div_round((a as i128) << shift, b as i128).ok_or(())))?;
            let y = r.map_err(|_| c.arith("division by zero"))?;
            c.check_all(&y)?;
            one(y)
        }
        QOp::Softmax { axis, flatten, in_scale, out_scale } | QOp::LogSoftmax { axis, flatten, in_scale, out_scale } => {
            let soft = matches!(op, QOp::Softmax { .. });
            let y = lanes(x, *axis, *flatten, |v| {
                let m = running_max(v, c)?;
                let mut e = Vec::with_capacity(v.len());
                for &xi in v {
                    let d = xi - m;
                    c.check(d)?;
                    e.push(lookup(&Activation::Exp, d, *in_scale, *out_scale));
                }
                let sum = i64::try_from(e.iter().map(|&v| v as i128).sum::<i128>()).map_err(|_| c.arith("softmax sum overflow"))?;
                c.check(sum)?;
                if soft {
                    let mut out = Vec::with_capacity(v.len());
                    for &ei in &e {
                        let yi = div_round((ei as i128) << out_scale, sum as i128).ok_or_else(|| c.arith("softmax sum is zero"))?;
                        c.check(yi)?;
                        out.push(yi);
                    }
                    Ok(out)
                } else {
                    let l = lookup(&Activation::Ln, sum, *out_scale, *out_scale);
                    Ok(v.iter().map(|&xi| align(xi - m, *in_scale, *out_scale) - l).collect())
                }
            })?;
            one(y)
        }
        QOp::MaxPool { window } => {
            c.check_all(x)?;
            let r = window::pool(x, window, |v, _| running_max(v, c));
            let r = c.kernel(r)?;
            let dim = r.raw_dim();
            let y: Result<Vec<i64>> = r.into_iter().collect();
            one(ArrayD::from_shape_vec(dim, y?).expect("sizes agree"))
        }
        QOp::AveragePool { window, count_include_pad } => {
            let y = c.kernel(window::pool(x, window, |v, padded| {
                let n = v.len() + if *count_include_pad { padded } else { 0 };
                div_round(v.iter().map(|&a| a as i128).sum(), n as i128).expect("window count > 0")
            }))?;
            c.check_all(&y)?;
            one(y)
        }
        QOp::ReduceSum { axes, keepdims } => one(c.kernel(reduce::reduce(x, axes, *keepdims, |g| g.iter().fold(0i64, |a, &b| a.saturating_add(b))))?),
        QOp::ReduceMean { axes, keepdims } => {
            let y = c.kernel(reduce::reduce(x, axes, *keepdims, |g| {
                div_round(g.iter().map(|&a| a as i128).sum(), g.len() as i128).expect("group size > 0")
            }))?;
            c.check_all(&y)?;
            one(y)
        }
        QOp::ReduceMax { axes, keepdims } => {
            c.check_all(x)?;
            let r = reduce::reduce(x, axes, *keepdims, |g| running_max(g, c));
            let r = c.kernel(r)?;
            let dim = r.raw_dim();
            let y: Result<Vec<i64>> = r.into_iter().collect();
            one(ArrayD::from_shape_vec(dim, y?).expect("sizes agree"))
        }
        QOp::ArgMax { axis, keepdims, select_last_index } => {
            c.check_all(x)?;
            // The circuit compares every element with the running maximum m: m - x must be in range.
            let m = reduce::reduce(x, &[*axis], true, |g| running_max(g, c));
            let m = c.kernel(m)?;
            let dim = m.raw_dim();
            let mv: Result<Vec<i64>> = m.into_iter().collect();
            let m = ArrayD::from_shape_vec(dim, mv?).expect("sizes agree");
            let diffs = c.kernel(broadcast::zip_with(&m, x, |&a, &b| a - b))?;
            c.check_all(&diffs)?;
            one(c.kernel(reduce::argmax(x, *axis, *keepdims, *select_last_index))?)
        }
        QOp::Reshape { shape: s } => one(c.kernel(shape::reshape(x, s))?),
        QOp::Transpose { perm } => one(c.kernel(shape::transpose(x, perm))?),
        QOp::Concat { axis } => one(c.kernel(shape::concat(&ins.iter().collect::<Vec<_>>(), *axis))?),
        QOp::Split { axis, sizes } => c.kernel(shape::split(x, *axis, sizes)),
        QOp::Slice { ranges } => one(c.kernel(shape::slice(x, ranges))?),
        QOp::Gather { axis, indices } => one(c.kernel(shape::gather(x, *axis, indices))?),
        QOp::Tile { repeats } => one(c.kernel(shape::tile(x, repeats))?),
        QOp::Expand { shape: s } => one(c.kernel(shape::expand(x, s))?),
        QOp::Pad { mode, pads, value } => one(c.kernel(shape::pad(x, *mode, pads, *value))?),
    }
}
