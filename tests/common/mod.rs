//! Shared set-up of the root crate's integration tests: a bundled model calibrated (target
//! `resources`), compiled, with the witness of its first committed sample.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use zkinfer::{CompiledModel, InputData, RunArgs, Srs, Target, Witness};

pub fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Calibrate and compile `models/<name>` under `ra`, and generate the witness of sample 0.
pub fn compiled_with_witness(name: &str, ra: RunArgs) -> (CompiledModel, Witness) {
    compiled(name, ra, None)
}

/// As [`compiled_with_witness`], then forced to `lanes` lanes (calibration prefers one lane for
/// small circuits; this keeps multi-lane layouts under test). `compile` raises logrows if needed.
pub fn compiled_with_lanes(name: &str, lanes: usize) -> (CompiledModel, Witness) {
    compiled_with_layout(name, lanes, 0)
}

/// As [`compiled_with_lanes`], with dot products in groups of `groups` (settings `dot_groups`).
#[allow(dead_code)]
pub fn compiled_with_layout(name: &str, lanes: usize, groups: u32) -> (CompiledModel, Witness) {
    let (c, w) = compiled(name, RunArgs::default(), Some((lanes, groups)));
    assert_eq!((c.settings.run_args.num_inner_cols, c.settings.run_args.dot_groups), (lanes, groups));
    (c, w)
}

fn compiled(name: &str, ra: RunArgs, layout: Option<(usize, u32)>) -> (CompiledModel, Witness) {
    let dir = models().join(name);
    let model = zkinfer::load_model(dir.join("model.onnx")).unwrap();
    let data = InputData::load(dir.join("input.json")).unwrap();
    let settings = zkinfer::gen_settings(&model, ra).unwrap();
    let mut settings = zkinfer::calibrate_settings(&model, &data, &settings, Target::Resources).unwrap();
    if let Some((l, g)) = layout {
        settings.run_args.num_inner_cols = l;
        settings.run_args.dot_groups = g;
    }
    let compiled = zkinfer::compile(&model, &settings).unwrap();
    let first: Vec<Vec<f64>> = data.samples(&model).unwrap()[0].iter().map(|a| a.iter().map(|&v| v as f64).collect()).collect();
    let witness = zkinfer::gen_witness(&compiled, &InputData { input_data: first }).unwrap();
    (compiled, witness)
}

/// Insecure test SRS for 2^k rows, cached on disk per k (shared by the test binaries).
pub fn srs(k: u32) -> Srs {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("srs");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("k{k}.srs"));
    if let Ok(s) = zkinfer::prover::load_srs(&path, k) {
        return s;
    }
    let s = zkinfer::prover::gen_srs(k);
    zkinfer::prover::save_srs(&s, &path).unwrap();
    s
}

pub mod postgres;

/// Run the `zkinfer` binary in `dir`.
pub fn zk(args: &[&str], dir: &Path) -> Output {
    zk_env(args, dir, &[])
}

/// Run the `zkinfer` binary in `dir` with environment variables set (`Some`) or removed (`None`).
pub fn zk_env(args: &[&str], dir: &Path, env: &[(&str, Option<&str>)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zkinfer"));
    cmd.args(args).current_dir(dir);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().expect("run zkinfer")
}

/// Run a command that must succeed; returns its stdout.
pub fn ok(args: &[&str], dir: &Path) -> String {
    ok_env(args, dir, &[])
}

/// [`ok`] with environment variables as in [`zk_env`].
pub fn ok_env(args: &[&str], dir: &Path, env: &[(&str, Option<&str>)]) -> String {
    let o = zk_env(args, dir, env);
    assert!(o.status.success(), "zkinfer {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs a failing command and returns its stderr, checking exit code 2 and a single line.
pub fn fails(args: &[&str], dir: &Path) -> String {
    check_fails(args, zk(args, dir))
}

/// [`fails`] with environment variables as in [`zk_env`].
pub fn fails_env(args: &[&str], dir: &Path, env: &[(&str, Option<&str>)]) -> String {
    check_fails(args, zk_env(args, dir, env))
}

fn check_fails(args: &[&str], o: Output) -> String {
    assert_eq!(o.status.code(), Some(2), "zkinfer {args:?} should fail with 2");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.trim_end().lines().count(), 1, "error must be one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}
