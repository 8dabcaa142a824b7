//! Offline Solidity compilation: a `solc` binary named by `ZKINFER_SOLC` or found on `PATH`, else
//! solcjs from `solidity/node_modules` (installed by `npm ci`), always through standard JSON with
//! the optimizer off (the generated verifier hits "stack too deep" with it on).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Deployment and runtime bytecode of one compiled contract.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub bytecode: Vec<u8>,
    pub runtime: Vec<u8>,
    pub abi: serde_json::Value,
}

enum Compiler {
    Native(PathBuf),
    SolcJs(PathBuf),
}

fn find_compiler() -> Result<Compiler, String> {
    if let Ok(p) = std::env::var("ZKINFER_SOLC") {
        return Ok(Compiler::Native(PathBuf::from(p)));
    }
    if let Ok(out) = Command::new("solc").arg("--version").output() {
        if out.status.success() {
            return Ok(Compiler::Native(PathBuf::from("solc")));
        }
    }
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("../solidity/node_modules/solc/solc.js");
    if js.exists() {
        return Ok(Compiler::SolcJs(js));
    }
    Err("no Solidity compiler: install solc, set ZKINFER_SOLC, or run `npm ci` in solidity/ (solcjs)".into())
}

/// Compile `source` (file name `name`) and return contract `contract`.
pub fn compile(name: &str, source: &str, contract: &str) -> Result<Compiled, String> {
    Ok(compile_contracts(name, source, &[contract])?.remove(0))
}

/// Compile `source` (file name `name`) once and return `contracts`, in that order.
pub fn compile_contracts(name: &str, source: &str, contracts: &[&str]) -> Result<Vec<Compiled>, String> {
    let input = serde_json::json!({
        "language": "Solidity",
        "sources": { name: { "content": source } },
        "settings": {
            "optimizer": { "enabled": false },
            "outputSelection": { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } }
        }
    });
    // solcjs's own CLI truncates piped output at 64 KiB, so it is driven through a script that
    // writes the result to a file synchronously.
    // Unique per call: test threads of one process compile concurrently.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = std::env::temp_dir().join(format!("zkinfer-solc-{}-{n}-{}.json", std::process::id(), name));
    let (mut cmd, via_file) = match find_compiler()? {
        Compiler::Native(p) => {
            let mut c = Command::new(p);
            c.arg("--standard-json");
            (c, false)
        }
        Compiler::SolcJs(js) => {
            let mut c = Command::new("node");
            c.arg("-e")
                .arg("const solc=require(process.argv[1]);const fs=require('fs');fs.writeFileSync(process.argv[2],solc.compile(fs.readFileSync(0,'utf8')));")
                .arg(js.parent().expect("solc package directory"))
                .arg(&tmp);
            (c, true)
        }
    };
    let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| format!("cannot start the Solidity compiler: {e}"))?;
    child.stdin.take().expect("stdin").write_all(input.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let text = if via_file {
        let t = std::fs::read_to_string(&tmp).map_err(|e| format!("solcjs produced no output ({e}): {}", String::from_utf8_lossy(&out.stderr).trim()));
        let _ = std::fs::remove_file(&tmp);
        t?
    } else {
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // solcjs prints a banner line before the JSON.
    let json = text.find('{').map(|i| &text[i..]).ok_or_else(|| format!("the Solidity compiler printed no JSON: {}", String::from_utf8_lossy(&out.stderr)))?;
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("unreadable compiler output: {e}"))?;
    if let Some(errs) = v["errors"].as_array() {
        let fatal: Vec<String> = errs.iter().filter(|e| e["severity"] == "error").map(|e| e["formattedMessage"].as_str().unwrap_or("").trim().replace('\n', " ")).collect();
        if !fatal.is_empty() {
            return Err(format!("Solidity compilation failed: {}", fatal.join("; ")));
        }
    }
    contracts
        .iter()
        .map(|contract| {
            let c = &v["contracts"][name][contract];
            let hexfield = |p: &str| -> Result<Vec<u8>, String> {
                let s = c["evm"][p]["object"].as_str().ok_or_else(|| format!("no {p} for contract {contract}"))?;
                hex::decode(s).map_err(|e| e.to_string())
            };
            Ok(Compiled { bytecode: hexfield("bytecode")?, runtime: hexfield("deployedBytecode")?, abi: c["abi"].clone() })
        })
        .collect()
}
