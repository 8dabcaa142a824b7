//! Key generation and key files. A key file is
//! `b"ZKINFER\0"`, a kind byte (`b'v'` / `b'p'`), a `u32` format version, a `u32` header length,
//! a JSON [`KeyHeader`], then halo2's own serialization of the key. The header's
//! `circuit_digest` binds a proving key to one compiled model (graph, scales, visibilities,
//! lanes), so a key for another model is refused before any cryptography runs. Everything a
//! verifier reads from the header is the [`Statement`], which the model commitment binds
//! together with the key (see [`crate::statement`]); nothing else in it is trusted.

use crate::error::{ProverError, Result};
use crate::{ProvingKey, Srs, VerifyingKey};
use halo2_proofs::plonk::{keygen_pk, keygen_vk_custom};
use halo2_proofs::SerdeFormat;
use crate::statement::{model_commitment, Statement};
use halo2_proofs::halo2curves::bn256::Fr;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use std::path::Path;
use std::sync::Arc;
use zkinfer_circuits::{ModelCircuit, Visibilities};
use zkinfer_onnx::settings::Visibility;
use zkinfer_onnx::artifacts::CompiledModel;

const MAGIC: &[u8; 8] = b"ZKINFER\0";
/// Bumped whenever the circuit's layout or the header changes (3: session 3's single lookup
/// argument, `public` gate and one output column; 4: the header is the [`Statement`] the model
/// commitment binds; 5: advice weight columns on lane 0 only for fixed weights, Rescale → Relu
/// fused, reduced function lookups; 6: `dot` rows start from `cl` or continue `cr·acc_prev`,
/// top-limb tables, rescales as one decomposition; 7: the limb gate's second slot and lookup
/// `table1`, gate `mdot`): a key of another format is refused by version, not by a failure deep in
/// proving or, worse, a verifier reading an unbound header.
const KEY_VERSION: u32 = 7;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyHeader {
    /// keccak256 of the compiled graph and the circuit options, hex (checked by the prover only).
    pub circuit_digest: String,
    /// What a verifier reads besides the key; bound by the model commitment.
    pub statement: Statement,
}

/// The circuit (without witness) for a compiled model, under its settings.
pub fn circuit_for(c: &CompiledModel) -> Result<ModelCircuit> {
    let ra = &c.settings.run_args;
    let vis = Visibilities { input: ra.input_visibility, param: ra.param_visibility, output: ra.output_visibility };
    Ok(ModelCircuit::new(Arc::new(c.graph.clone()), vis, ra.num_inner_cols)?.with_range_bits(ra.range_bits).with_dot_groups(ra.dot_groups as usize))
}

/// keccak256 over the compiled graph and circuit options.
pub fn circuit_digest(c: &CompiledModel) -> String {
    let mut h = Keccak256::new();
    h.update(serde_json::to_vec(&c.graph).expect("serializable"));
    h.update(serde_json::to_vec(&c.settings.run_args).expect("serializable"));
    hex::encode(h.finalize())
}

fn spinner(msg: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new_spinner();
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// The Poseidon hash of a compiled model's params when they are `hashed` (the value proofs carry).
pub fn params_hash(c: &CompiledModel) -> Option<Fr> {
    (c.settings.run_args.param_visibility == Visibility::Hashed).then(|| zkinfer_circuits::params_hash(&c.graph))
}

/// Generate the proving and verifying keys for a compiled model.
pub fn setup(c: &CompiledModel, srs: &Srs) -> Result<(ProvingKeyFile, VerifyingKeyFile)> {
    let circuit = circuit_for(c)?;
    let header = KeyHeader { circuit_digest: circuit_digest(c), statement: Statement::of(c, &circuit) };
    header.statement.validate()?;
    if let Some(w) = header.statement.warning() {
        tracing::warn!("{w}");
    }
    let pb = spinner("setup: generating keys");
    // Selector compression: simple selectors that are never on the same row share fixed columns
    // (within the circuit's degree bound), which saves commitments, proof bytes and EVM gas.
    let vk = keygen_vk_custom(srs, &circuit, true).map_err(|e| ProverError::Halo2(format!("verifying key generation failed: {e}")))?;
    let pk = keygen_pk(srs, vk.clone(), &circuit).map_err(|e| ProverError::Halo2(format!("proving key generation failed: {e}")))?;
    pb.finish_and_clear();
    Ok((ProvingKeyFile { header: header.clone(), key: pk }, VerifyingKeyFile { header, key: vk }))
}

fn write_key(path: &Path, kind: u8, header: &KeyHeader, body: &[u8]) -> Result<()> {
    let h = serde_json::to_vec(header).expect("serializable");
    let mut out = Vec::with_capacity(body.len() + h.len() + 20);
    out.extend_from_slice(MAGIC);
    out.push(kind);
    out.extend_from_slice(&KEY_VERSION.to_le_bytes());
    out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(body);
    zkinfer_onnx::settings::write_atomic(path, &out)?;
    Ok(())
}

fn read_key(path: &Path, kind: u8) -> Result<(KeyHeader, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| ProverError::io(path, e))?;
    let what = if kind == b'v' { "verifying key" } else { "proving key" };
    let bad = |m: &str| ProverError::Format(format!("{}: not a zkinfer {what} ({m})", path.display()));
    if bytes.len() < 17 || &bytes[..8] != MAGIC {
        return Err(bad("bad magic"));
    }
    if bytes[8] != kind {
        return Err(bad("wrong key kind"));
    }
    let version = u32::from_le_bytes(bytes[9..13].try_into().unwrap());
    if version != KEY_VERSION {
        return Err(ProverError::Format(format!("{}: key format version {version}, this zkinfer reads {KEY_VERSION}: re-run setup", path.display())));
    }
    let hl = u32::from_le_bytes(bytes[13..17].try_into().unwrap()) as usize;
    let header: KeyHeader = bytes.get(17..17 + hl).and_then(|h| serde_json::from_slice(h).ok()).ok_or_else(|| bad("corrupt header"))?;
    header.statement.validate().map_err(|e| ProverError::Format(format!("{}: {e}", path.display())))?;
    Ok((header, bytes[17 + hl..].to_vec()))
}

pub struct VerifyingKeyFile {
    pub header: KeyHeader,
    pub key: VerifyingKey,
}

impl VerifyingKeyFile {
    pub fn save(&self, path: &Path) -> Result<()> {
        write_key(path, b'v', &self.header, &self.key.to_bytes(SerdeFormat::RawBytes))
    }
    pub fn load(path: &Path) -> Result<Self> {
        let (header, body) = read_key(path, b'v')?;
        let key = VerifyingKey::from_bytes::<ModelCircuit>(&body, SerdeFormat::RawBytes, header.statement.circuit)
            .map_err(|e| ProverError::Format(format!("{}: corrupt verifying key: {e}", path.display())))?;
        Ok(VerifyingKeyFile { header, key })
    }
    /// The model commitment: the key and the statement (see [`crate::statement`]).
    pub fn commitment(&self) -> [u8; 32] {
        model_commitment(&self.key, &self.header.statement)
    }
    /// `2^logrows` rows: read from the key itself.
    pub fn logrows(&self) -> u32 {
        self.key.get_domain().k()
    }
    pub fn statement(&self) -> &Statement {
        &self.header.statement
    }
}

pub struct ProvingKeyFile {
    pub header: KeyHeader,
    pub key: ProvingKey,
}

impl ProvingKeyFile {
    pub fn save(&self, path: &Path) -> Result<()> {
        write_key(path, b'p', &self.header, &self.key.to_bytes(SerdeFormat::RawBytes))
    }
    pub fn load(path: &Path) -> Result<Self> {
        let (header, body) = read_key(path, b'p')?;
        let key = ProvingKey::from_bytes::<ModelCircuit>(&body, SerdeFormat::RawBytes, header.statement.circuit)
            .map_err(|e| ProverError::Format(format!("{}: corrupt proving key: {e}", path.display())))?;
        Ok(ProvingKeyFile { header, key })
    }
    /// The model commitment of the key's verifying key and statement.
    pub fn commitment(&self) -> [u8; 32] {
        model_commitment(self.key.get_vk(), &self.header.statement)
    }
    /// Refuse a key made for another compiled model.
    pub fn check_model(&self, c: &CompiledModel) -> Result<()> {
        if self.header.circuit_digest != circuit_digest(c) {
            return Err(ProverError::Format("the proving key was made for a different compiled model or settings; re-run setup".into()));
        }
        Ok(())
    }
}
