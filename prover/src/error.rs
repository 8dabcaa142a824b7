//! Errors of setup and proving; every message is one line.

#[derive(Debug, thiserror::Error)]
pub enum ProverError {
    #[error(transparent)]
    Model(#[from] zkinfer_onnx::Error),
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::CircuitError),
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Format(String),
    #[error("halo2: {0}")]
    Halo2(String),
}

impl ProverError {
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        ProverError::Io { path: path.display().to_string(), source }
    }
}

pub type Result<T> = std::result::Result<T, ProverError>;
