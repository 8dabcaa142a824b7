//! The `zkinfer` CLI on every committed model, and its errors on bad input.
mod common;
use common::{fails, models, ok, zk};

#[derive(serde::Deserialize)]
struct Expected {
    samples: usize,
    outputs: Vec<Vec<f64>>,
}

#[test]
fn pipeline_on_every_committed_model() {
    let tmp = tempfile::tempdir().unwrap();
    let mut names: Vec<String> = std::fs::read_dir(models())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 14);
    for name in names {
        let dir = tmp.path().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let m = models().join(&name);
        let model = m.join("model.onnx");
        let model = model.to_str().unwrap();
        let input = m.join("input.json");
        let out = ok(&["inspect", "-M", model], &dir);
        assert!(out.contains("parameters"), "{name}: {out}");
        let json: serde_json::Value = serde_json::from_str(&ok(&["inspect", "-M", model, "--json"], &dir)).unwrap();
        assert!(!json["nodes"].as_array().unwrap().is_empty());
        ok(&["gen-settings", "-M", model, "-O", "settings.json"], &dir);
        ok(&["calibrate-settings", "-M", model, "-D", input.to_str().unwrap(), "--settings-path", "settings.json", "--target", "accuracy"], &dir);
        ok(&["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], &dir);
        // The first sample of input.json.
        let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
        let exp: Expected = serde_json::from_str(&std::fs::read_to_string(m.join("expected.json")).unwrap()).unwrap();
        let first: Vec<Vec<f64>> = data["input_data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                let l: Vec<f64> = serde_json::from_value(l.clone()).unwrap();
                l[..l.len() / exp.samples].to_vec()
            })
            .collect();
        std::fs::write(dir.join("one.json"), serde_json::json!({ "input_data": first }).to_string()).unwrap();
        ok(&["gen-witness", "-D", "one.json", "-M", "model.compiled", "-O", "witness.json"], &dir);
        let w: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("witness.json")).unwrap()).unwrap();
        for (o, out) in w["rescaled_outputs"].as_array().unwrap().iter().enumerate() {
            let got: Vec<f64> = serde_json::from_value(out.clone()).unwrap();
            let n = exp.outputs[o].len() / exp.samples;
            let want = &exp.outputs[o][..n];
            let scale = exp.outputs[o].iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let err = got.iter().zip(want).fold(0.0f64, |e, (a, b)| e.max((a - b).abs()));
            assert!(err <= 0.01 * scale, "{name} output {o}: witness error {err}");
        }
    }
}

#[test]
fn malformed_model_is_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["malformed.onnx", "truncated.onnx"] {
        let p = models().join("bad").join(f);
        let err = fails(&["inspect", "-M", p.to_str().unwrap()], tmp.path());
        assert!(err.contains("malformed ONNX model"), "{err}");
        fails(&["gen-settings", "-M", p.to_str().unwrap()], tmp.path());
    }
    let err = fails(&["inspect", "-M", "does-not-exist.onnx"], tmp.path());
    assert!(err.contains("cannot read does-not-exist.onnx"), "{err}");
}

#[test]
fn unsupported_op_names_op_and_node() {
    let tmp = tempfile::tempdir().unwrap();
    let p = models().join("bad/unsupported_op.onnx");
    let err = fails(&["inspect", "-M", p.to_str().unwrap()], tmp.path());
    assert!(err.contains("`Det`") && err.contains("`my_det`"), "{err}");
}

#[test]
fn wrong_input_shape_is_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = models().join("digits_mlp");
    let model = m.join("model.onnx");
    let model = model.to_str().unwrap();
    ok(&["gen-settings", "-M", model, "-O", "settings.json"], dir);
    ok(&["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], dir);
    std::fs::write(dir.join("short.json"), r#"{"input_data": [[0.5, 0.25, 1.0]]}"#).unwrap();
    let err = fails(&["gen-witness", "-D", "short.json", "-M", "model.compiled"], dir);
    assert!(err.contains("input `input`") && err.contains("expected 64 values") && err.contains("got 3"), "{err}");
    std::fs::write(dir.join("two.json"), r#"{"input_data": [[0.5], [1.0]]}"#).unwrap();
    let err = fails(&["gen-witness", "-D", "two.json", "-M", "model.compiled"], dir);
    assert!(err.contains("1 inputs") && err.contains("2 lists"), "{err}");
    std::fs::write(dir.join("bad.json"), r#"{"inputs": []}"#).unwrap();
    let err = fails(&["gen-witness", "-D", "bad.json", "-M", "model.compiled"], dir);
    assert!(err.contains("input_data"), "{err}");
    let err = fails(&["calibrate-settings", "-M", model, "-D", "short.json", "--settings-path", "settings.json"], dir);
    assert!(err.contains("expected 64 values"), "{err}");
    // Nothing was half-written: settings.json still loads.
    ok(&["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], dir);
}

#[test]
fn corrupt_artifacts_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = models().join("digits_mlp");
    let model = m.join("model.onnx");
    let model = model.to_str().unwrap();
    std::fs::write(dir.join("settings.json"), "{\"version\": 99}").unwrap();
    let err = fails(&["compile-circuit", "-M", model, "-S", "settings.json"], dir);
    assert!(err.contains("settings version 99"), "{err}");
    std::fs::write(dir.join("model.compiled"), "garbage").unwrap();
    std::fs::write(dir.join("one.json"), r#"{"input_data": [[0.0]]}"#).unwrap();
    let err = fails(&["gen-witness", "-D", "one.json", "-M", "model.compiled"], dir);
    assert!(err.contains("not a compiled model"), "{err}");
    // Settings of another model are refused at compile time.
    let other = models().join("logreg_sigmoid/model.onnx");
    ok(&["gen-settings", "-M", other.to_str().unwrap(), "-O", "settings.json"], dir);
    let err = fails(&["compile-circuit", "-M", model, "-S", "settings.json"], dir);
    assert!(err.contains("settings were made for a model"), "{err}");
    let err = fails(&["gen-settings", "-M", model, "--input-visibility", "fixed"], dir);
    assert!(err.contains("only params can be `fixed`"), "{err}");
}

/// The proving commands end to end through the CLI, and `verify`'s exit codes: 0 valid,
/// 1 invalid, 2 input error; `--json` gives a machine-readable verdict.
#[test]
fn prove_and_verify_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = models().join("digits_mlp");
    let model = m.join("model.onnx");
    let model = model.to_str().unwrap();
    let input = m.join("input.json");
    ok(&["gen-settings", "-M", model, "-O", "settings.json"], dir);
    ok(&["calibrate-settings", "-M", model, "-D", input.to_str().unwrap(), "--settings-path", "settings.json"], dir);
    ok(&["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], dir);
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let first: Vec<f64> = serde_json::from_value::<Vec<f64>>(data["input_data"][0].clone()).unwrap()[..64].to_vec();
    std::fs::write(dir.join("one.json"), serde_json::json!({ "input_data": [first] }).to_string()).unwrap();
    ok(&["gen-witness", "-D", "one.json", "-M", "model.compiled", "-O", "witness.json"], dir);
    assert!(ok(&["mock", "-M", "model.compiled", "-W", "witness.json"], dir).contains("satisfied"));
    let compiled: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("model.compiled")).unwrap()).unwrap();
    let k = compiled["settings"]["run_args"]["logrows"].to_string();
    ok(&["gen-srs", "--logrows", &k, "--srs-path", "kzg.srs"], dir);
    let out = ok(&["setup", "-M", "model.compiled", "--srs-path", "kzg.srs", "--vk-path", "vk.key", "--pk-path", "pk.key"], dir);
    assert!(out.contains("model commitment: 0x"), "{out}");
    ok(&["prove", "-M", "model.compiled", "--witness", "witness.json", "--pk-path", "pk.key", "--proof-path", "proof.json", "--srs-path", "kzg.srs", "--binding", "0x2a"], dir);
    let verify = ["verify", "--proof-path", "proof.json", "--settings-path", "settings.json", "--vk-path", "vk.key", "--srs-path", "kzg.srs", "--json"];
    let v: serde_json::Value = serde_json::from_str(&ok(&verify, dir)).unwrap();
    assert_eq!(v["valid"], true);
    // The verdict reports the proven outputs (those of the witness) and the binding.
    let w: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("witness.json")).unwrap()).unwrap();
    assert_eq!(v["outputs"], w["outputs"]);
    assert_eq!(v["binding"], format!("0x{:064x}", 0x2a));
    let commitment = v["model_commitment"].as_str().unwrap().to_string();
    let pinned = |c: &str| zk(&["verify", "--proof-path", "proof.json", "--vk-path", "vk.key", "--srs-path", "kzg.srs", "--model-commitment", c], dir).status.code();
    assert_eq!(pinned(&commitment), Some(0));
    assert_eq!(pinned(&format!("0x{}", "11".repeat(32))), Some(1), "a proof for another model commitment passed --model-commitment");

    // The verifier artifact: verification without the verifying key or the SRS.
    let out = ok(&["create-evm-vka", "--vk-path", "vk.key", "--srs-path", "kzg.srs", "--vka-path", "vka.json"], dir);
    assert!(out.contains("digest 0x"), "{out}");
    let v: serde_json::Value = serde_json::from_str(&ok(&["verify-vka", "--proof-path", "proof.json", "--vka-path", "vka.json", "--json"], dir)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["model_commitment"], commitment.as_str());
    assert!(v["artifact_digest"].as_str().unwrap().starts_with("0x"));
    std::fs::write(dir.join("junk.json"), "{}").unwrap();
    let err = fails(&["verify-vka", "--proof-path", "proof.json", "--vka-path", "junk.json"], dir);
    assert!(err.contains("not a zkinfer verifier artifact"), "{err}");

    // EVM commands: embedded EVM, then a local anvil through --rpc-url.
    ok(&["create-evm-verifier", "--vk-path", "vk.key", "--srs-path", "kzg.srs", "--sol-code-path", "Verifier.sol", "--abi-path", "Verifier.abi"], dir);
    assert!(ok(&["encode-evm-calldata", "--proof-path", "proof.json", "--calldata-path", "calldata.bin"], dir).contains("bytes"));
    assert!(ok(&["deploy-evm", "--sol-code-path", "Verifier.sol"], dir).contains("embedded EVM"));
    let embedded: serde_json::Value = serde_json::from_str(&ok(&["verify-evm", "--proof-path", "proof.json", "--sol-code-path", "Verifier.sol", "--json"], dir)).unwrap();
    assert_eq!(embedded["valid"], true);
    let node = zkinfer::verifier::rpc::Anvil::start(&zkinfer::verifier::rpc::Anvil::bundled_binary().expect("npm ci --prefix solidity"), false).unwrap();
    let err = fails(&["deploy-evm", "--sol-code-path", "Verifier.sol", "--rpc-url", &node.url], dir);
    assert!(err.contains("--private-key"), "{err}");
    let key = zkinfer::verifier::rpc::ANVIL_DEV_KEY;
    let out = ok(&["deploy-evm", "--sol-code-path", "Verifier.sol", "--rpc-url", &node.url, "--private-key", key, "--addr-path", "addr.txt"], dir);
    assert!(out.contains("ZkinferVerifier"), "{out}");
    let addr = std::fs::read_to_string(dir.join("addr.txt")).unwrap().trim().to_string();
    let on_node = ["verify-evm", "--proof-path", "proof.json", "--rpc-url", &node.url, "--addr-verifier", &addr, "--private-key", key, "--json"];
    let v: serde_json::Value = serde_json::from_str(&ok(&on_node, dir)).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["gas_used"], embedded["verify_abi_gas"], "anvil and the embedded EVM must charge the same gas");
    let err = fails(&["verify-evm", "--proof-path", "proof.json", "--rpc-url", &node.url], dir);
    assert!(err.contains("--addr-verifier"), "{err}");

    // A tampered public value: checked and rejected, exit 1.
    let mut p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("proof.json")).unwrap()).unwrap();
    let last = p["instances"].as_array().unwrap().len() - 1;
    p["instances"][last] = serde_json::json!("0x2b");
    std::fs::write(dir.join("proof.json"), p.to_string()).unwrap();
    let o = zk(&verify, dir);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(zk(&["verify-vka", "--proof-path", "proof.json", "--vka-path", "vka.json"], dir).status.code(), Some(1), "tampered instance accepted by verify-vka");
    let on_node_view = ["verify-evm", "--proof-path", "proof.json", "--rpc-url", &node.url, "--addr-verifier", &addr, "--json"];
    let o = zk(&on_node_view, dir);
    assert_eq!(o.status.code(), Some(1), "tampered instance on anvil: {}", String::from_utf8_lossy(&o.stderr));
    drop(node);
    // An instance >= the field modulus: not checkable, exit 2.
    p["instances"][last] = serde_json::json!("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001");
    std::fs::write(dir.join("proof.json"), p.to_string()).unwrap();
    let err = fails(&verify, dir);
    assert!(err.contains("modulus"), "{err}");
    // Corrupt key file: exit 2.
    std::fs::write(dir.join("vk.key"), b"junk").unwrap();
    let err = fails(&verify, dir);
    assert!(err.contains("not a zkinfer verifying key"), "{err}");
}

/// `zkinfer inspect … | head -0`: a reader that has gone away ends the command quietly (exit 0,
/// nothing on stderr), instead of `println!`'s "failed printing to stdout: Broken pipe" panic.
#[test]
fn closed_stdout_is_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let model = models().join("digits_mlp/model.onnx");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zkinfer"))
        .args(["inspect", "-M", model.to_str().unwrap()])
        .current_dir(tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the read end closes before the command prints anything
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}, stderr: {stderr}", out.status);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}
