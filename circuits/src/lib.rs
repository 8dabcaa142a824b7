//! # zkinfer-circuits
//!
//! The Halo2 circuit (halo2-axiom, KZG on BN254) that proves one inference of a quantized graph
//! from `zkinfer-onnx`. See [`config`] for the gates and lookups and the maths they enforce,
//! [`layout`] for the chips built on them, and [`model`] for how each quantized op is laid out.
//! Chips neither prove nor verify; that is the prover's and verifier's job.

pub mod config;
pub mod field;
pub mod fuse;
pub mod groups;
pub mod instances;
pub mod layout;
pub mod limbs;
pub mod model;
pub mod ops;
pub mod poseidon;
pub mod reduce;
pub mod tables;

pub use instances::{InstancePacking, PackError, Role, Segment};
pub use model::{count_rows, looked_up_values, params_hash, params_packable, public_instances, public_values, required_logrows, CircuitParams, InstanceLayout, ModelCircuit, Visibilities};

use zkinfer_onnx::quant::{QGraph, QOp};
use zkinfer_onnx::settings::Visibility;

/// Why a compiled model cannot be turned into a circuit.
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    #[error("op `{op}` at node `{node}` ({qop}) cannot be proven yet; supported: see the README")]
    Unsupported { op: String, node: String, qop: String },
    #[error("{0} visibility `fixed` is only for params")]
    FixedNotParam(&'static str),
    #[error("node `{node}` ({op}): a tree ensemble's thresholds and leaf weights are part of the circuit (the verifying key), so its params can only be `fixed`, not `{vis:?}`")]
    TreeParamsFixed { op: String, node: String, vis: Visibility },
}

/// Reject graphs with ops or visibilities the circuit cannot prove.
pub fn check_supported(g: &QGraph, vis: &Visibilities) -> Result<(), CircuitError> {
    for (what, v) in [("input", vis.input), ("output", vis.output)] {
        if v == Visibility::Fixed {
            return Err(CircuitError::FixedNotParam(what));
        }
    }
    // Every quantized op has a layout today; this is where an op without one would be refused.
    for n in &g.nodes {
        if !supported(&n.op) {
            return Err(CircuitError::Unsupported { op: n.onnx_op.clone(), node: n.name.clone(), qop: n.op.name().into() });
        }
        if matches!(n.op, QOp::Tree(_)) && vis.param != Visibility::Fixed {
            return Err(CircuitError::TreeParamsFixed { op: n.onnx_op.clone(), node: n.name.clone(), vis: vis.param });
        }
    }
    Ok(())
}

fn supported(op: &QOp) -> bool {
    // Exhaustive on purpose: adding a QOp forces a decision here.
    match op {
        QOp::MatMul | QOp::Conv { .. } | QOp::ConvTranspose { .. } | QOp::Mul | QOp::Add | QOp::Sub | QOp::Sum | QOp::Neg => true,
        QOp::ScaleUp { .. } | QOp::Rescale { .. } | QOp::Relu | QOp::Abs | QOp::Max | QOp::Min | QOp::Clip { .. } => true,
        QOp::PRelu { .. } | QOp::Lookup { .. } | QOp::Div { .. } | QOp::Softmax { .. } | QOp::LogSoftmax { .. } => true,
        QOp::MaxPool { .. } | QOp::AveragePool { .. } | QOp::ReduceSum { .. } | QOp::ReduceMean { .. } | QOp::ReduceMax { .. } => true,
        QOp::ArgMax { .. } | QOp::Reshape { .. } | QOp::Transpose { .. } | QOp::Concat { .. } | QOp::Split { .. } => true,
        QOp::Slice { .. } | QOp::Gather { .. } | QOp::Tile { .. } | QOp::Expand { .. } | QOp::Pad { .. } => true,
        QOp::Compare(_) | QOp::Tree(_) => true,
    }
}
