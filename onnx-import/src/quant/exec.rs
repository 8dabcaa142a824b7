//! The integer reference executor: runs a [`QGraph`] on quantized inputs with exactly the
//! semantics of [`rules`](super::rules). The witness comes from here, and the circuit's outputs
//! must equal these outputs exactly.
//!
//! It range-checks exactly the values the circuit presents to a lookup-range table (see the
//! [`rules`](super::rules) module docs for the list), so it accepts an input iff the circuit's
//! lookups can be satisfied; [`run_collecting`] returns the values checked per node, which tests
//! compare with the circuit's. Sums and products are exact or reported as an overflow
//! ([`rules::accumulate`]), never saturated.

use super::rules::{self, accumulate, bounded, div_round, lookup, overflowed, rescale, scale_up, OVERFLOW};
use super::{QGraph, QOp};
use crate::activation::Activation;
use crate::data::Sample;
use crate::error::{Error, Result};
use crate::ir::Operand;
use crate::kernels::{broadcast, linear, reduce, shape, window};
use ndarray::{ArrayD, Axis, IxDyn};
use std::collections::BTreeSet;

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

const OVERFLOW_REASON: &str = "integer overflow; lower input_scale / param_scale";

/// Range checks of one execution; `node` and `op` name the node being evaluated.
pub(crate) struct Checker<'a> {
    lo: i64,
    hi: i64,
    mode: RangeMode,
    max_abs: i64,
    pub(crate) node: &'a str,
    pub(crate) op: &'a str,
    /// The distinct values checked, one set per step (see [`run_collecting`]), when collecting.
    seen: Option<Vec<BTreeSet<i64>>>,
}

impl Checker<'_> {
    /// `v` must lie in the lookup range (the circuit looks it up in a table over it). An
    /// overflowed value is an overflow error in either mode.
    pub(crate) fn check(&mut self, v: i64) -> Result<()> {
        if overflowed(v) {
            return Err(self.arith(OVERFLOW_REASON));
        }
        self.max_abs = self.max_abs.max(v.abs());
        if let Some(step) = self.seen.as_mut().and_then(|s| s.last_mut()) {
            step.insert(v);
        }
        if self.mode == RangeMode::Enforce && (v < self.lo || v > self.hi) {
            return Err(Error::LookupRange { node: self.node.into(), op: self.op.into(), value: v, lo: self.lo, hi: self.hi });
        }
        Ok(())
    }
    /// Start the next step's set of checked values (when collecting).
    fn step(&mut self) {
        if let Some(s) = &mut self.seen {
            s.push(BTreeSet::new());
        }
    }
    pub(crate) fn check_all(&mut self, a: &ArrayD<i64>) -> Result<()> {
        a.iter().try_for_each(|&v| self.check(v))
    }
    /// A kernel error (shapes), with the node named.
    pub(crate) fn invalid(&self, e: String) -> Error {
        Error::invalid(self.op, self.node, e)
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
    execute(q, inputs, mode, None).map(|(ex, _)| ex)
}

/// [`run`], also returning the distinct values it range-checked, per step: entry 0 holds the
/// model inputs, entry `i + 1` the values node `i` of `q.nodes` checks (those the circuit presents
/// to a lookup-range table while laying the node out). Published outputs, which the circuit
/// range-checks while packing them, are in [`Execution::outputs`], not in the sets.
pub fn run_collecting(q: &QGraph, inputs: &[ArrayD<i64>], mode: RangeMode) -> Result<(Execution, Vec<BTreeSet<i64>>)> {
    let (ex, seen) = execute(q, inputs, mode, Some(Vec::new()))?;
    Ok((ex, seen.expect("collecting")))
}

fn execute(q: &QGraph, inputs: &[ArrayD<i64>], mode: RangeMode, seen: Option<Vec<BTreeSet<i64>>>) -> Result<(Execution, Option<Vec<BTreeSet<i64>>>)> {
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
    let mut chk = Checker { lo, hi, mode, max_abs: 0, node: "", op: "input", seen };
    chk.step();
    // Model inputs are range-checked in the circuit, so a private input cannot be an arbitrary
    // field element.
    for (&id, x) in q.inputs.iter().zip(inputs) {
        chk.node = &q.values[id].name;
        chk.check_all(x)?;
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
        (chk.node, chk.op) = (&node.name, &node.onnx_op);
        chk.step();
        let outs = eval(&node.op, &ins, &mut chk)?;
        for (&id, t) in node.outputs.iter().zip(outs) {
            let m = t.iter().fold(0i64, |m, v| m.max(v.saturating_abs()));
            if m >= rules::VALUE_LIMIT {
                return Err(chk.arith(OVERFLOW_REASON));
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
    let max_checked = chk.max_abs.max(max_out);
    Ok((Execution { values, outputs, max_abs_checked: max_checked, max_abs_any: max_any }, chk.seen))
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

/// `a - b`, exact or [`OVERFLOW`].
fn diff(a: i64, b: i64) -> i64 {
    bounded(a as i128 - b as i128)
}

/// One step of a running maximum as the circuit proves it: `d = b - a` (range-checked: the circuit
/// looks it up in the ReLU table), `max = a + relu(d)`. The operands are not range-checked.
fn max_step(a: i64, b: i64, c: &mut Checker) -> Result<i64> {
    let d = diff(b, a);
    c.check(d)?;
    Ok(a + d.max(0))
}

/// One step of a running minimum: `d = a - b` (range-checked), `min = a - relu(d)`.
fn min_step(a: i64, b: i64, c: &mut Checker) -> Result<i64> {
    let d = diff(a, b);
    c.check(d)?;
    Ok(a - d.max(0))
}

/// Sum of `v` as the circuit's accumulator chain computes it (sticky overflow).
fn sum(v: &[i64]) -> i64 {
    v.iter().fold(0, |s, &x| accumulate(s, x as i128))
}

/// `div_round(Σ v, n)` (averages); an overflowed sum stays [`OVERFLOW`].
fn mean(v: &[i64], n: usize) -> i64 {
    let s = sum(v);
    if overflowed(s) { OVERFLOW } else { div_round(s as i128, n as i128).expect("count > 0") }
}

/// `div_round(n · 2^shift, d)` (`None` for `d = 0`); an overflowing numerator gives [`OVERFLOW`]
/// (the circuit holds it in a cell before dividing).
/// A reduced lookup of `x` (already checked against the lookup range), checking what the circuit
/// range-checks besides: the clamps' differences, `max(q, L) = L + relu(q − L)` and
/// `min(m, H) = H − relu(H − m)` ([`rules::Reduction`]).
fn reduced(c: &mut Checker, act: &Activation, x: i64, in_scale: u32, out_scale: u32, r: &rules::Reduction) -> Result<i64> {
    let (below, above) = r.clamps(c.lo, c.hi);
    let q = rescale(x, r.shift);
    if below {
        c.check(q - r.lo)?;
    }
    if above {
        c.check(r.hi - q.max(r.lo))?;
    }
    Ok(rules::reduced_lookup(act, x, in_scale, out_scale, r))
}

fn div_shifted(n: i64, shift: u32, d: i64) -> Option<i64> {
    let n = bounded((n as i128) << shift);
    if overflowed(n) { (d != 0).then_some(OVERFLOW) } else { div_round(n as i128, d as i128) }
}

/// Maximum of a window or group, folded left to right with [`max_step`].
fn running_max(v: &[i64], c: &mut Checker) -> Result<i64> {
    let mut m = v[0];
    for &x in &v[1..] {
        m = max_step(m, x, c)?;
    }
    Ok(m)
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
                // The circuit's accumulator chain starts at the bias: b + Σ x·w.
                y = c.kernel(broadcast::zip_with(&y, &b, |&s, &b| if overflowed(s) { OVERFLOW } else { accumulate(b, s as i128) }))?;
            }
            one(y)
        }
        QOp::Mul => one(c.kernel(broadcast::zip_with(x, &ins[1], |&a, &b| bounded(a as i128 * b as i128)))?),
        QOp::Add => one(c.kernel(broadcast::zip_with(x, &ins[1], |&a, &b| bounded(a as i128 + b as i128)))?),
        QOp::Sub => one(c.kernel(broadcast::zip_with(x, &ins[1], |&a, &b| diff(a, b)))?),
        QOp::Sum => {
            let mut acc = x.clone();
            for t in &ins[1..] {
                acc = c.kernel(broadcast::zip_with(&acc, t, |&a, &b| accumulate(a, b as i128)))?;
            }
            one(acc)
        }
        QOp::Max | QOp::Min => {
            let max = matches!(op, QOp::Max);
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
            // A shift of 0 is the identity: the circuit lays out no division, so no check.
            if *shift > 0 {
                c.check_all(&y)?;
            }
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
        QOp::Lookup { act, in_scale, out_scale, reduce: None } => {
            c.check_all(x)?;
            one(x.mapv(|v| lookup(act, v, *in_scale, *out_scale)))
        }
        QOp::Lookup { act, in_scale, out_scale, reduce: Some(r) } => {
            c.check_all(x)?;
            let mut y = x.clone();
            for v in y.iter_mut() {
                *v = reduced(c, act, *v, *in_scale, *out_scale, r)?;
            }
            one(y)
        }
        QOp::Div { shift } => {
            c.check_all(&ins[1])?;
            let r = c.kernel(broadcast::try_zip_with(x, &ins[1], |&a, &b| div_shifted(a, *shift, b).ok_or(())))?;
            let y = r.map_err(|_| c.arith("division by zero"))?;
            c.check_all(&y)?;
            one(y)
        }
        QOp::Softmax { axis, flatten, in_scale, out_scale, .. } | QOp::LogSoftmax { axis, flatten, in_scale, out_scale } => {
            let soft = matches!(op, QOp::Softmax { .. });
            let reduce = match op {
                QOp::Softmax { reduce, .. } => *reduce,
                _ => None,
            };
            let y = lanes(x, *axis, *flatten, |v| {
                let m = running_max(v, c)?;
                let d: Vec<i64> = v.iter().map(|&xi| diff(xi, m)).collect();
                let mut e = Vec::with_capacity(v.len());
                for &di in &d {
                    c.check(di)?;
                    e.push(match &reduce {
                        Some(r) => reduced(c, &Activation::Exp, di, *in_scale, *out_scale, r)?,
                        None => lookup(&Activation::Exp, di, *in_scale, *out_scale),
                    });
                }
                let total = sum(&e);
                c.check(total)?;
                let mut out = Vec::with_capacity(v.len());
                if soft {
                    for &ei in &e {
                        let yi = div_shifted(ei, *out_scale, total).ok_or_else(|| c.arith("softmax sum is zero"))?;
                        c.check(yi)?;
                        out.push(yi);
                    }
                } else {
                    let l = lookup(&Activation::Ln, total, *out_scale, *out_scale);
                    for &di in &d {
                        // Aligning down is a division by 2^(in - out), whose quotient is checked.
                        let aligned = if in_scale > out_scale {
                            let a = rescale(di, in_scale - out_scale);
                            c.check(a)?;
                            a
                        } else {
                            scale_up(di, out_scale - in_scale)
                        };
                        out.push(diff(aligned, l));
                    }
                }
                Ok(out)
            })?;
            one(y)
        }
        QOp::MaxPool { window } => {
            let r = window::pool(x, window, |v, _| running_max(v, c));
            let r = c.kernel(r)?;
            let dim = r.raw_dim();
            let y: Result<Vec<i64>> = r.into_iter().collect();
            one(ArrayD::from_shape_vec(dim, y?).expect("sizes agree"))
        }
        QOp::AveragePool { window, count_include_pad } => {
            let y = c.kernel(window::pool(x, window, |v, padded| mean(v, v.len() + if *count_include_pad { padded } else { 0 })))?;
            c.check_all(&y)?;
            one(y)
        }
        QOp::ReduceSum { axes, keepdims } => one(c.kernel(reduce::reduce(x, axes, *keepdims, sum))?),
        QOp::ReduceMean { axes, keepdims } => {
            let y = c.kernel(reduce::reduce(x, axes, *keepdims, |g| mean(g, g.len())))?;
            c.check_all(&y)?;
            one(y)
        }
        QOp::ReduceMax { axes, keepdims } => {
            let r = reduce::reduce(x, axes, *keepdims, |g| running_max(g, c));
            let r = c.kernel(r)?;
            let dim = r.raw_dim();
            let y: Result<Vec<i64>> = r.into_iter().collect();
            one(ArrayD::from_shape_vec(dim, y?).expect("sizes agree"))
        }
        QOp::ArgMax { axis, keepdims, select_last_index } => {
            // The circuit compares every element with the maximum m by an is-zero lookup of m - x.
            let m = reduce::reduce(x, &[*axis], true, |g| running_max(g, c));
            let m = c.kernel(m)?;
            let dim = m.raw_dim();
            let mv: Result<Vec<i64>> = m.into_iter().collect();
            let m = ArrayD::from_shape_vec(dim, mv?).expect("sizes agree");
            let diffs = c.kernel(broadcast::zip_with(&m, x, |&a, &b| diff(a, b)))?;
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
        QOp::Compare(op) => crate::ops::compare::eval_int(*op, ins, c),
        QOp::Tree(t) => crate::ops::tree::eval_int(t, x, c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{QConst, QNode, QValue, QuantParams};

    /// A graph with one input of `shape` (value 0) and a chain of single-output nodes; node `i`
    /// writes value `i + 1` of shape `outs[i]`, and the last value is the output.
    fn graph(shape: &[usize], consts: Vec<ArrayD<i64>>, nodes: Vec<(QOp, Vec<Operand>, Vec<usize>)>, lookup_range: (i64, i64)) -> QGraph {
        let mut values = vec![QValue { name: "x".into(), shape: shape.to_vec(), scale: 0 }];
        let mut qnodes = Vec::new();
        for (i, (op, inputs, out)) in nodes.into_iter().enumerate() {
            values.push(QValue { name: format!("v{}", i + 1), shape: out, scale: 0 });
            qnodes.push(QNode { name: format!("n{i}"), onnx_op: op.name().into(), op, inputs, outputs: vec![i + 1] });
        }
        QGraph {
            outputs: vec![values.len() - 1],
            values,
            consts: consts.into_iter().map(|data| QConst { data, scale: 0 }).collect(),
            nodes: qnodes,
            inputs: vec![0],
            params: QuantParams { input_scale: 0, param_scale: 0, lookup_range, table_bits: 0 },
        }
    }

    fn arr(shape: &[usize], v: &[i64]) -> ArrayD<i64> {
        ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
    }

    fn assert_overflow(r: Result<Execution>) {
        match r {
            Err(Error::Arithmetic { reason, .. }) => assert!(reason.contains("integer overflow; lower input_scale / param_scale"), "{reason}"),
            other => panic!("expected an overflow, got {other:?}"),
        }
    }

    const WIDE: (i64, i64) = (-(1 << 62) + 1, (1 << 62) - 1);

    #[test]
    fn mac_chain_that_overflows_and_comes_back_is_an_overflow() {
        // 2^61·4 + 2^61·4 + (−2^61)·4: saturating i64 gave MAX, MAX, then MAX + MIN = −1 (accepted,
        // and not the field value 2^63); the sticky partial sum reports the overflow.
        let x = arr(&[1, 3], &[1 << 61, 1 << 61, -(1 << 61)]);
        let g = graph(&[1, 3], vec![arr(&[3, 1], &[4, 4, 4])], vec![(QOp::MatMul, vec![Operand::Value(0), Operand::Const(0)], vec![1, 1])], WIDE);
        assert_overflow(run(&g, &[x.clone()], RangeMode::Enforce));
        assert_overflow(run(&g, &[x], RangeMode::Record));
        // Partial sums 2^61, 2^62 (the limit), 2^61: the true sum is small, the running value overflowed.
        let x = arr(&[1, 3], &[1 << 61, 1 << 61, -(1 << 61)]);
        let g = graph(&[1, 3], vec![arr(&[3, 1], &[1, 1, 1])], vec![(QOp::MatMul, vec![Operand::Value(0), Operand::Const(0)], vec![1, 1])], WIDE);
        assert_overflow(run(&g, &[x], RangeMode::Enforce));
    }

    #[test]
    fn sums_overflow_stickily() {
        let x = arr(&[3], &[1 << 61, 1 << 61, -(1 << 61)]);
        let reduce = graph(&[3], vec![], vec![(QOp::ReduceSum { axes: vec![0], keepdims: false }, vec![Operand::Value(0)], vec![])], WIDE);
        assert_overflow(run(&reduce, &[x.clone()], RangeMode::Enforce));
        let mean = graph(&[3], vec![], vec![(QOp::ReduceMean { axes: vec![0], keepdims: false }, vec![Operand::Value(0)], vec![])], WIDE);
        assert_overflow(run(&mean, &[x], RangeMode::Enforce));
        let (a, b) = (Operand::Const(0), Operand::Const(1));
        let sum = graph(&[1], vec![arr(&[1], &[1 << 61]), arr(&[1], &[-(1 << 61)])], vec![(QOp::Sum, vec![Operand::Value(0), a, b], vec![1])], WIDE);
        assert_overflow(run(&sum, &[arr(&[1], &[1 << 61])], RangeMode::Enforce));
        assert_eq!(run(&sum, &[arr(&[1], &[5])], RangeMode::Enforce).unwrap().outputs[0], arr(&[1], &[5]));
    }

    #[test]
    fn range_checks_follow_the_circuit() {
        // Max of an out-of-range operand (8·2 = 16 > 7) with 20: only the difference 20 − 16 = 4
        // is looked up in the circuit, so only it (and the model input) is checked.
        let g = graph(
            &[1],
            vec![arr(&[1], &[20])],
            vec![(QOp::ScaleUp { shift: 3 }, vec![Operand::Value(0)], vec![1]), (QOp::Max, vec![Operand::Value(1), Operand::Const(0)], vec![1])],
            (-8, 7),
        );
        let (ex, seen) = run_collecting(&g, &[arr(&[1], &[2])], RangeMode::Enforce).unwrap();
        assert_eq!(ex.outputs[0], arr(&[1], &[20]));
        assert_eq!(seen, [BTreeSet::from([2]), BTreeSet::new(), BTreeSet::from([4])]);
        // Rescale by 0 lays out nothing; by 1 its quotients are range-checked.
        let rescale = |shift| graph(&[2], vec![], vec![(QOp::Rescale { shift }, vec![Operand::Value(0)], vec![2])], (-8, 7));
        let x = arr(&[2], &[5, -3]);
        assert_eq!(run_collecting(&rescale(0), &[x.clone()], RangeMode::Enforce).unwrap().1, [BTreeSet::from([5, -3]), BTreeSet::new()]);
        assert_eq!(run_collecting(&rescale(1), &[x], RangeMode::Enforce).unwrap().1, [BTreeSet::from([5, -3]), BTreeSet::from([3, -1])]);
    }
}
