//! KZG structured reference strings. Production use loads a params file from a trusted setup
//! ceremony; [`gen_srs`] makes an insecure one whose toxic waste is known to this process.

use crate::error::{ProverError, Result};
use crate::Srs;
use halo2_proofs::poly::commitment::Params;
use rand::SeedableRng;
use std::path::Path;

/// Generate an **insecure** SRS for `2^k` rows (development and tests only).
pub fn gen_srs(k: u32) -> Srs {
    tracing::warn!("generating an INSECURE development SRS for k = {k}; use a ceremony SRS in production");
    Srs::setup(k, rand_chacha::ChaCha20Rng::from_entropy())
}

/// An **insecure**, deterministic SRS from a seed: for reproducible test vectors only.
pub fn gen_srs_seeded(k: u32, seed: u64) -> Srs {
    tracing::warn!("generating an INSECURE deterministic SRS (seed {seed}) for k = {k}; for test vectors only");
    Srs::setup(k, rand_chacha::ChaCha20Rng::seed_from_u64(seed))
}

pub fn save_srs(srs: &Srs, path: &Path) -> Result<()> {
    let mut buf = Vec::new();
    srs.write(&mut buf).map_err(|e| ProverError::io(path, e))?;
    zkinfer_onnx::settings::write_atomic(path, &buf)?;
    Ok(())
}

/// Load an SRS and downsize it to `2^k` rows (error if it is smaller).
pub fn load_srs(path: &Path, k: u32) -> Result<Srs> {
    let f = std::fs::File::open(path).map_err(|e| ProverError::io(path, e))?;
    let mut r = std::io::BufReader::new(f);
    let mut srs = Srs::read(&mut r).map_err(|e| ProverError::Format(format!("{}: not a KZG SRS file: {e}", path.display())))?;
    if srs.k() < k {
        return Err(ProverError::Format(format!(
            "{}: SRS has 2^{} rows but the circuit needs 2^{k}; generate one with gen-srs --logrows {k}",
            path.display(),
            srs.k()
        )));
    }
    if srs.k() > k {
        srs.downsize(k);
    }
    Ok(srs)
}
