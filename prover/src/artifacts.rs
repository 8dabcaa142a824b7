//! The proof file (`proof.json`), version 1:
//!
//! ```json
//! { "version": 1, "instances": ["0x…32-byte big-endian field elements…"], "proof": "0x…",
//!   "binding": "0x…", "outputs": [[…quantized…]], "rescaled_outputs": [[…]],
//!   "model_commitment": "0x…", "logrows": 11 }
//! ```
//! `instances` are the public values, in order: inputs, params, outputs (values when public, one
//! Poseidon hash per tensor when hashed — one for all params), then the binding value. The
//! circuit's instance column holds them packed (`zkinfer_circuits::instances`); verifiers pack
//! them. `outputs` and `rescaled_outputs` are filled only when outputs are public.
//!
//! `binding`, `outputs` and `rescaled_outputs` repeat what the public values say, for readers;
//! verifiers check they agree exactly (`rescaled_outputs[i] = outputs[i] / 2^scale`) and reject
//! the proof otherwise. They may be absent (then nothing is claimed beyond the public values).

use crate::error::{ProverError, Result};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const PROOF_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProofArtifact {
    pub version: u32,
    pub instances: Vec<String>,
    pub proof: String,
    #[serde(default)]
    pub binding: String,
    #[serde(default)]
    pub outputs: Vec<Vec<i64>>,
    #[serde(default)]
    pub rescaled_outputs: Vec<Vec<f64>>,
    pub model_commitment: String,
    pub logrows: u32,
}

/// A field element as 0x-prefixed 32-byte big-endian hex (the EVM word order).
pub fn fr_to_hex(f: &Fr) -> String {
    let mut b = f.to_repr();
    b.as_mut().reverse();
    format!("0x{}", hex::encode(b.as_ref()))
}

/// Parse 0x-prefixed big-endian hex; values at or above the field modulus are rejected.
pub fn fr_from_hex(s: &str) -> Result<Fr> {
    let h = s.strip_prefix("0x").unwrap_or(s);
    // An odd number of digits is a number without its leading zero (e.g. `0x2a0`).
    let h = if h.len() % 2 == 1 { format!("0{h}") } else { h.to_string() };
    let bytes = hex::decode(&h).map_err(|_| ProverError::Format(format!("instance `{s}` is not hex")))?;
    if bytes.len() > 32 {
        return Err(ProverError::Format(format!("instance `{s}` is longer than 32 bytes")));
    }
    let mut le = [0u8; 32];
    for (i, b) in bytes.iter().rev().enumerate() {
        le[i] = *b;
    }
    Option::from(Fr::from_repr(le)).ok_or_else(|| ProverError::Format(format!("instance `{s}` is not below the BN254 scalar field modulus")))
}

impl ProofArtifact {
    pub fn instances(&self) -> Result<Vec<Fr>> {
        self.instances.iter().map(|s| fr_from_hex(s)).collect()
    }
    pub fn proof_bytes(&self) -> Result<Vec<u8>> {
        hex::decode(self.proof.strip_prefix("0x").unwrap_or(&self.proof)).map_err(|_| ProverError::Format("proof is not hex".into()))
    }
    pub fn save(&self, path: &Path) -> Result<()> {
        zkinfer_onnx::settings::write_json_atomic(path, self)?;
        Ok(())
    }
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ProverError::io(path, e))?;
        let p: ProofArtifact = serde_json::from_str(&text).map_err(|e| ProverError::Format(format!("{}: not a proof file: {e}", path.display())))?;
        if p.version != PROOF_VERSION {
            return Err(ProverError::Format(format!("{}: proof version {}, this zkinfer reads {PROOF_VERSION}", path.display(), p.version)));
        }
        Ok(p)
    }
}
