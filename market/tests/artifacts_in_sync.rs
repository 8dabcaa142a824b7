//! The ABI and bytecode the bindings are generated from (`market/contracts/`) must be what the
//! Solidity sources compile to: a fresh export (`solidity/export_artifacts.sh`, forge offline
//! over solcjs) into a temporary directory must match them byte for byte.
use std::path::Path;
use std::process::Command;

#[test]
fn committed_artifacts_match_a_fresh_build() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = root.join("../solidity/export_artifacts.sh");
    assert!(root.join("../solidity/node_modules/.bin/forge").exists(), "run `npm ci --prefix solidity` first");
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new("bash").arg(&script).arg(tmp.path()).output().unwrap();
    assert!(out.status.success(), "export failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut stale = vec![];
    for name in ["TestToken", "ModelRegistry", "InferenceMarket", "PredictionMarket"] {
        let fresh = std::fs::read(tmp.path().join(format!("{name}.json"))).unwrap();
        let committed = std::fs::read(root.join("contracts").join(format!("{name}.json"))).unwrap();
        if fresh != committed {
            stale.push(name);
        }
    }
    assert!(stale.is_empty(), "market/contracts is stale for {stale:?}: run solidity/export_artifacts.sh");
}
