//! Key generation and key files. A key file is
//! `b"ZKINFER\0"`, a kind byte (`b'v'` / `b'p'`), a `u32` format version, a `u32` header length,
//! a JSON [`KeyHeader`], then halo2's own serialization of the key. The header's
//! `circuit_digest` binds the key to one compiled model (graph, scales, visibilities, lanes), so a
//! key for another model is refused before any cryptography runs.

use crate::error::{ProverError, Result};
use crate::{ProvingKey, Srs, VerifyingKey};
use halo2_proofs::plonk::{keygen_pk, keygen_vk_custom};
use halo2_proofs::SerdeFormat;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Keccak256};
use std::path::Path;
use std::sync::Arc;
use zkinfer_circuits::{CircuitParams, InstancePacking, ModelCircuit, Visibilities};
use halo2_proofs::halo2curves::bn256::Fr;
use zkinfer_onnx::settings::Visibility;
use zkinfer_onnx::artifacts::CompiledModel;

const MAGIC: &[u8; 8] = b"ZKINFER\0";
/// Bumped whenever the circuit's layout changes (3: session 3's single lookup argument, `public`
/// gate and one output column): a key of another layout is refused by version, not by a failure
/// deep in proving.
const KEY_VERSION: u32 = 3;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyHeader {
    /// keccak256 of the compiled graph and the circuit options, hex.
    pub circuit_digest: String,
    pub logrows: u32,
    /// halo2 configuration parameters of the circuit.
    pub params: CircuitParams,
    /// Length of the instance column (public values after packing).
    pub num_instances: usize,
    /// How public values are packed into the instance column.
    pub packing: InstancePacking,
    /// Index, among the public values, of the params' Poseidon hash (hashed params only).
    #[serde(default)]
    pub params_hash_instance: Option<usize>,
}

/// The circuit (without witness) for a compiled model, under its settings.
pub fn circuit_for(c: &CompiledModel) -> Result<ModelCircuit> {
    let ra = &c.settings.run_args;
    let vis = Visibilities { input: ra.input_visibility, param: ra.param_visibility, output: ra.output_visibility };
    Ok(ModelCircuit::new(Arc::new(c.graph.clone()), vis, ra.num_inner_cols)?)
}

/// keccak256 over the compiled graph and circuit options.
pub fn circuit_digest(c: &CompiledModel) -> String {
    let mut h = Keccak256::new();
    h.update(serde_json::to_vec(&c.graph).expect("serializable"));
    h.update(serde_json::to_vec(&c.settings.run_args).expect("serializable"));
    hex::encode(h.finalize())
}

/// The model commitment: keccak256 of the serialized verifying key, followed (hashed params only)
/// by the params' Poseidon hash as 32 big-endian bytes. The verifying key fixes the architecture
/// and, with `fixed` params, the weights themselves; with `hashed` params the hash does.
pub fn model_commitment(vk: &VerifyingKey, params_hash: Option<&Fr>) -> [u8; 32] {
    let mut h = Keccak256::new();
    h.update(vk.to_bytes(SerdeFormat::RawBytes));
    if let Some(p) = params_hash {
        h.update(hex::decode(&crate::artifacts::fr_to_hex(p)[2..]).expect("hex"));
    }
    h.finalize().into()
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
    let il = circuit.instance_layout();
    let packing = InstancePacking::new(&c.graph, &circuit.vis);
    let header = KeyHeader {
        circuit_digest: circuit_digest(c),
        logrows: c.settings.run_args.logrows,
        params: circuit.circuit_params(),
        num_instances: il.len,
        params_hash_instance: if c.settings.run_args.param_visibility == Visibility::Hashed { packing.value_index(il.params[0]) } else { None },
        packing,
    };
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
        let key = VerifyingKey::from_bytes::<ModelCircuit>(&body, SerdeFormat::RawBytes, header.params)
            .map_err(|e| ProverError::Format(format!("{}: corrupt verifying key: {e}", path.display())))?;
        Ok(VerifyingKeyFile { header, key })
    }
    /// The model commitment; with hashed params it needs the params hash from a proof's instances.
    pub fn commitment(&self, params_hash: Option<&Fr>) -> [u8; 32] {
        model_commitment(&self.key, params_hash)
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
        let key = ProvingKey::from_bytes::<ModelCircuit>(&body, SerdeFormat::RawBytes, header.params)
            .map_err(|e| ProverError::Format(format!("{}: corrupt proving key: {e}", path.display())))?;
        Ok(ProvingKeyFile { header, key })
    }
    /// Refuse a key made for another compiled model.
    pub fn check_model(&self, c: &CompiledModel) -> Result<()> {
        if self.header.circuit_digest != circuit_digest(c) {
            return Err(ProverError::Format("the proving key was made for a different compiled model or settings; re-run setup".into()));
        }
        Ok(())
    }
}
