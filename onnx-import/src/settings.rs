//! `settings.json`: everything needed to rebuild the same circuit from the same model.
//!
//! ```json
//! {
//!   "version": 1,
//!   "run_args": {
//!     "input_scale": 7, "param_scale": 7, "lookup_range": [-32768, 32767],
//!     "logrows": 17, "num_inner_cols": 2,
//!     "input_visibility": "public", "param_visibility": "fixed", "output_visibility": "public"
//!   },
//!   "model_inputs":  [{"name": "input", "shape": [1, 64]}],
//!   "model_outputs": [{"name": "logits", "shape": [1, 10]}],
//!   "num_rows": 1234,
//!   "calibration": { ... }   // present after calibrate-settings
//! }
//! ```
//! * `input_scale` / `param_scale`: bits after the binary point of activations / weights;
//! * `lookup_range`: inclusive integer range of every lookup input, comparison input and
//!   rescale or division result;
//! * `logrows`: the circuit has `2^logrows` rows; `num_inner_cols`: products packed per row;
//! * visibilities: `public` (instance column), `private` (advice), `hashed` (Poseidon hash is
//!   public), `fixed` (params only: baked into fixed columns, committed by the verifying key).

use crate::error::{Error, Result};
use crate::ir::Graph;
use crate::quant::calibrate::CalibrationReport;
use crate::quant::QuantParams;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Current settings format version.
pub const SETTINGS_VERSION: u32 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Public,
    Private,
    Hashed,
    Fixed,
}

impl std::str::FromStr for Visibility {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "public" => Ok(Visibility::Public),
            "private" => Ok(Visibility::Private),
            "hashed" => Ok(Visibility::Hashed),
            "fixed" => Ok(Visibility::Fixed),
            o => Err(format!("unknown visibility `{o}` (public, private, hashed, fixed)")),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunArgs {
    pub input_scale: u32,
    pub param_scale: u32,
    pub lookup_range: (i64, i64),
    pub logrows: u32,
    pub num_inner_cols: usize,
    pub input_visibility: Visibility,
    pub param_visibility: Visibility,
    pub output_visibility: Visibility,
    /// Limb width of range checks: 0 checks values against one table as large as the lookup
    /// range; `k` in 6..=20 decomposes them into `k`-bit limbs against tables of `2^k` rows, so
    /// precision no longer sets the table size (the calibrator picks it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub range_bits: u32,
    /// Largest function table (sigmoid, exp, …) as `2^table_bits` rows: 0 lets tables span the
    /// lookup range; `T` in 6..=24 reduces the input of a wider lookup (rescaled by `j` bits,
    /// clamped where the function is saturated; `quant::rules::reduction`). The calibrator picks
    /// it where it pays, with limbs (`range_bits`) so that no table grows with precision.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub table_bits: u32,
    /// Dot products with fixed weights that read the same inputs (a matrix product's output
    /// columns, a convolution's output channels) laid out `dot_groups` at a time, each input
    /// copied once per group (gate `mdot`): 0 or 1 lays them one at a time; 2..=16 trades `G − 1`
    /// advice and `(G − 1)·(num_inner_cols + 1)` fixed columns for `G` times fewer product rows.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub dot_groups: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Default for RunArgs {
    /// EZKL's Python defaults: scales 7, input public, params fixed, output public.
    fn default() -> Self {
        RunArgs {
            input_scale: 7,
            param_scale: 7,
            lookup_range: (-32768, 32767),
            logrows: 17,
            num_inner_cols: 2,
            input_visibility: Visibility::Public,
            param_visibility: Visibility::Fixed,
            output_visibility: Visibility::Public,
            range_bits: 0,
            table_bits: 0,
            dot_groups: 0,
        }
    }
}

impl RunArgs {
    pub fn quant_params(&self) -> QuantParams {
        QuantParams { input_scale: self.input_scale, param_scale: self.param_scale, lookup_range: self.lookup_range, table_bits: self.table_bits }
    }

    /// Reject combinations that cannot make a circuit.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Format(format!("invalid settings: {m}")));
        if self.input_scale > 24 || self.param_scale > 24 {
            return bad(format!("scales must be at most 24 (input_scale {}, param_scale {})", self.input_scale, self.param_scale));
        }
        let (lo, hi) = self.lookup_range;
        if lo >= hi || lo < -(1 << 40) || hi > (1 << 40) {
            return bad(format!("lookup_range [{lo}, {hi}] must satisfy -2^40 <= lo < hi <= 2^40"));
        }
        if !(4..=28).contains(&self.logrows) {
            return bad(format!("logrows {} must be between 4 and 28", self.logrows));
        }
        if self.range_bits != 0 && !(6..=20).contains(&self.range_bits) {
            return bad(format!("range_bits {} must be 0 (no limbs) or between 6 and 20", self.range_bits));
        }
        if self.dot_groups > 16 {
            return bad(format!("dot_groups {} must be at most 16 (0 or 1: no groups)", self.dot_groups));
        }
        if self.table_bits != 0 && !(6..=24).contains(&self.table_bits) {
            return bad(format!("table_bits {} must be 0 (tables span the lookup range) or between 6 and 24", self.table_bits));
        }
        if self.num_inner_cols == 0 || self.num_inner_cols > 64 {
            return bad(format!("num_inner_cols {} must be between 1 and 64", self.num_inner_cols));
        }
        if self.input_visibility == Visibility::Fixed || self.output_visibility == Visibility::Fixed {
            return bad("only params can be `fixed`; inputs and outputs are public, private or hashed".into());
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub version: u32,
    pub run_args: RunArgs,
    pub model_inputs: Vec<TensorSpec>,
    pub model_outputs: Vec<TensorSpec>,
    /// Estimated circuit rows (cost model of `quant::calibrate::estimate_rows`).
    pub num_rows: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationReport>,
}

impl Settings {
    /// Settings for a graph with the given run arguments.
    pub fn for_graph(g: &Graph, run_args: RunArgs) -> Result<Settings> {
        run_args.validate()?;
        let spec = |ids: &[usize]| ids.iter().map(|&i| TensorSpec { name: g.values[i].name.clone(), shape: g.values[i].shape.clone() }).collect();
        let q = crate::quant::quantize(g, &run_args.quant_params())?;
        Ok(Settings {
            version: SETTINGS_VERSION,
            num_rows: crate::quant::calibrate::estimate_rows(&q, run_args.num_inner_cols),
            run_args,
            model_inputs: spec(&g.inputs),
            model_outputs: spec(&g.outputs),
            calibration: None,
        })
    }

    pub fn load(path: impl AsRef<Path>) -> Result<Settings> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Format(format!("{}: not JSON: {e}", path.display())))?;
        match v.get("version").and_then(|v| v.as_u64()) {
            Some(x) if x == SETTINGS_VERSION as u64 => {}
            Some(x) => return Err(Error::Format(format!("{}: settings version {x}, this zkinfer reads version {SETTINGS_VERSION}", path.display()))),
            None => return Err(Error::Format(format!("{}: not a zkinfer settings file (no version)", path.display()))),
        }
        let s: Settings = serde_json::from_value(v).map_err(|e| Error::Format(format!("{}: invalid settings: {e}", path.display())))?;
        s.run_args.validate()?;
        Ok(s)
    }

    /// Check that the settings describe this graph (same input and output shapes).
    pub fn check_graph(&self, g: &Graph) -> Result<()> {
        let shapes = |ids: &[usize]| ids.iter().map(|&i| g.values[i].shape.clone()).collect::<Vec<_>>();
        let mine = |v: &[TensorSpec]| v.iter().map(|t| t.shape.clone()).collect::<Vec<_>>();
        if shapes(&g.inputs) != mine(&self.model_inputs) || shapes(&g.outputs) != mine(&self.model_outputs) {
            return Err(Error::Format(format!(
                "settings were made for a model with inputs {:?} and outputs {:?}, this model has {:?} and {:?}",
                mine(&self.model_inputs),
                mine(&self.model_outputs),
                shapes(&g.inputs),
                shapes(&g.outputs)
            )));
        }
        Ok(())
    }

    /// Write atomically (temporary file, then rename), so a failure never leaves half a file.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_json_atomic(path.as_ref(), self)
    }
}

/// Serialize `v` as pretty JSON into `path` through a temporary file and a rename.
pub fn write_json_atomic<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::Format(format!("cannot serialize: {e}")))?;
    write_atomic(path, text.as_bytes())
}

/// Write bytes into `path` through a temporary file in the same directory and a rename. The
/// temporary name is unique per process and call, so concurrent writers never share it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp{}-{n}", path.file_name().and_then(|n| n.to_str()).unwrap_or("out"), std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many threads replacing the same file never collide on the temporary name.
    #[test]
    fn concurrent_atomic_writes() {
        let dir = std::env::temp_dir().join(format!("zkinfer-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shared.bin");
        std::thread::scope(|s| {
            for i in 0..8u8 {
                let p = path.clone();
                s.spawn(move || write_atomic(&p, &[i; 1000]).unwrap());
            }
        });
        assert_eq!(std::fs::read(&path).unwrap().len(), 1000);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
