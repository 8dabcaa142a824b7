//! Fused layouts: node pairs the circuit lays out together because one range check serves both.
//!
//! * **Rescale → Relu**: a Rescale (`shift > 0`) whose output is no graph output and is read only
//!   by one Relu gets its Relu from the quotient's range check ([`Layout::div_relu`]): without
//!   limbs the `o` of the quotient's table-1 row (`(q, relu(q))`), with limbs the sign bit of its
//!   decomposition. The same relation as laying the two out apart (the Relu's input is the
//!   quotient, range-checked once), one row (no limbs) or one decomposition (limbs) fewer per
//!   element. Both sections still list the quotients, as the reference executor checks them in
//!   both nodes.

use crate::layout::{Elem, Layout, Wire};
use halo2_proofs::plonk::Error;
use ndarray::ArrayD;
use zkinfer_onnx::ir::Operand;
use zkinfer_onnx::quant::{QGraph, QOp};

/// Rescales (`shift > 0`) whose output is no graph output and is read only by one Relu: node
/// index -> (shift, output value). Their Relu comes from the quotient's range check
/// ([`Layout::div_relu`]).
pub(crate) fn fused_relus(g: &QGraph) -> std::collections::HashMap<usize, (u32, usize)> {
    let mut readers = vec![0usize; g.values.len()];
    for n in &g.nodes {
        for i in &n.inputs {
            if let Operand::Value(v) = i {
                readers[*v] += 1;
            }
        }
    }
    let mut out = std::collections::HashMap::new();
    for (i, n) in g.nodes.iter().enumerate() {
        let QOp::Rescale { shift } = n.op else { continue };
        let v = n.outputs[0];
        if shift == 0 || g.outputs.contains(&v) || readers[v] != 1 {
            continue;
        }
        if g.nodes.iter().any(|m| matches!(m.op, QOp::Relu) && m.inputs.len() == 1 && m.inputs[0] == Operand::Value(v)) {
            out.insert(i, (shift, v));
        }
    }
    out
}

/// The quotients `rescale(x, shift)` and their ReLUs, one range check each.
pub(crate) fn rescale_relu(lay: &mut Layout, xs: &[Wire], shift: u32) -> Result<(Vec<Wire>, Vec<Wire>), Error> {
    let (mut q, mut r) = (Vec::with_capacity(xs.len()), Vec::with_capacity(xs.len()));
    for w in xs {
        let (qw, rw) = lay.div_relu(w, 1i64 << shift)?;
        q.push(qw);
        r.push(rw);
    }
    Ok((q, r))
}

/// List a fused Relu's inputs in its own section (their check was made with the Rescale).
pub(crate) fn record_inputs(lay: &mut Layout, xs: &ArrayD<Elem>) {
    for e in xs.iter() {
        lay.record_checked(e.value());
    }
}
