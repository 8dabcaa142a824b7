//! # zkinfer-onnx
//!
//! The front half of the zkinfer pipeline, with no knowledge of proofs:
//!
//! * [`import`]: ONNX protobuf → [`ir::Graph`] with static shapes, folded constants and BatchNorm;
//! * [`float_exec`]: runs the graph in floating point (accuracy reference);
//! * [`quant`]: fixed-point quantization, the integer reference executor that defines exactly what
//!   the circuit constrains, and calibration with a fidelity report;
//! * [`settings`]: the versioned `settings.json`.

pub mod activation;
pub mod artifacts;
pub mod data;
pub mod error;
pub mod float_exec;
pub mod import;
pub mod ir;
pub mod kernels;
pub mod ops;
pub mod quant;
pub mod settings;
pub mod tensor;

pub use error::{Error, Result};
pub use import::load;
pub use ir::Graph;
pub use tensor::Tensor;
