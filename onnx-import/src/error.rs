//! One error type for import, quantization and execution. Every message is a single line that
//! names what is wrong and where (op type, node name, input name), so the CLI can print it as is.

use std::path::PathBuf;

/// Everything that can go wrong between an ONNX file and a witness.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The bytes are not a well-formed ONNX model (protobuf decode failure, dangling names, ...).
    #[error("malformed ONNX model: {0}")]
    Malformed(String),
    /// An op, attribute or attribute value that zkinfer does not support.
    #[error("unsupported op `{op}` at node `{node}`: {reason}")]
    Unsupported {
        op: String,
        node: String,
        reason: String,
    },
    /// A supported op whose inputs or attributes are inconsistent.
    #[error("invalid node `{node}` ({op}): {reason}")]
    InvalidNode {
        op: String,
        node: String,
        reason: String,
    },
    /// User data does not match the model's declared inputs.
    #[error("input `{name}`: {reason}")]
    InputShape { name: String, reason: String },
    /// A value that must go through a lookup or comparison left the calibrated range.
    #[error(
        "node `{node}` ({op}): value {value} is outside the lookup range [{lo}, {hi}]; \
         re-calibrate (zkinfer calibrate-settings) with representative inputs or widen lookup_range"
    )]
    LookupRange {
        node: String,
        op: String,
        value: i64,
        lo: i64,
        hi: i64,
    },
    /// Integer arithmetic left i64 (or a division by zero), at the named node.
    #[error("node `{node}` ({op}): {reason}")]
    Arithmetic {
        node: String,
        op: String,
        reason: String,
    },
    /// settings.json / model.compiled / witness.json problems.
    #[error("{0}")]
    Format(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn unsupported(op: &str, node: &str, reason: impl Into<String>) -> Self {
        Error::Unsupported { op: op.into(), node: node.into(), reason: reason.into() }
    }
    pub fn invalid(op: &str, node: &str, reason: impl Into<String>) -> Self {
        Error::InvalidNode { op: op.into(), node: node.into(), reason: reason.into() }
    }
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
