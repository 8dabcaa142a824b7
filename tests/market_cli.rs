//! `zkinfer market …` end to end on a local anvil: deploy a market, register and stake the
//! digits MLP from its CLI artifacts, mint test tokens, request an inference as a client, fulfil
//! it as the operator (witness rebuilt from the request, proof bound to it), read its status;
//! a fulfilment by someone else and a second one fail with the contract's error on one line.
mod common;
use common::{fails, models, ok};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Anvil's second development account (a public test key, funded by every fresh anvil).
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn market_commands_on_anvil() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = models().join("digits_mlp");
    let (model, input) = (m.join("model.onnx"), m.join("input.json"));
    let model = model.to_str().unwrap();
    ok(&["gen-settings", "-M", model, "-O", "settings.json"], dir);
    ok(&["calibrate-settings", "-M", model, "-D", input.to_str().unwrap(), "--settings-path", "settings.json"], dir);
    ok(&["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], dir);
    let compiled: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("model.compiled")).unwrap()).unwrap();
    ok(&["gen-srs", "--logrows", &compiled["settings"]["run_args"]["logrows"].to_string(), "--srs-path", "kzg.srs"], dir);
    ok(&["setup", "-M", "model.compiled", "--srs-path", "kzg.srs"], dir);
    ok(&["create-evm-verifier", "--srs-path", "kzg.srs", "--sol-code-path", "Verifier.sol", "--abi-path", "Verifier.abi"], dir);
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let first: Vec<f64> = serde_json::from_value::<Vec<f64>>(data["input_data"][0].clone()).unwrap()[..64].to_vec();
    std::fs::write(dir.join("one.json"), serde_json::json!({ "input_data": [first] }).to_string()).unwrap();

    let node = Anvil::start(&Anvil::bundled_binary().expect("npm ci --prefix solidity"), true).unwrap();
    let url = node.url.clone();
    let url = url.as_str();
    let op = |args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).chain(["--rpc-url", url, "--private-key", ANVIL_DEV_KEY, "--json"].map(String::from)).collect() };
    let client = |args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).chain(["--rpc-url", url, "--private-key", CLIENT_KEY, "--json"].map(String::from)).collect() };
    let run = |v: Vec<String>| ok(&v.iter().map(String::as_str).collect::<Vec<_>>(), dir);
    let fail = |v: Vec<String>| fails(&v.iter().map(String::as_str).collect::<Vec<_>>(), dir);

    let d = json(&run(op(&["market", "deploy"])));
    assert!(d["inference"].as_str().unwrap().starts_with("0x"));
    run(op(&["market", "mint", "--amount", "1000"]));
    let reg = json(&run(op(&["market", "register", "--uri", "ipfs://digits-mlp", "--stake", "100"])));
    assert_eq!(reg["model"], "1");
    assert!(reg["register_gas"].as_u64().unwrap() > 0 && reg["stake_gas"].as_u64().unwrap() > 0);
    run(client(&["market", "mint", "--amount", "50"]));
    let req = json(&run(client(&["market", "request", "--model", "1", "-D", "one.json", "--payment", "10"])));
    assert_eq!(req["request"], "1");
    // The client cannot answer its own request: the contract's error, on one line.
    let err = fail(client(&["market", "fulfil", "--request", "1"]));
    assert!(err.contains("NotOperator"), "{err}");
    let f = json(&run(op(&["market", "fulfil", "--request", "1"])));
    assert!(f["gas"].as_u64().unwrap() > 300_000, "{f}");
    assert_eq!(f["outputs"][0].as_array().unwrap().len(), 10);
    let s = json(&run(op(&["market", "status", "--request", "1"])));
    assert_eq!(s["status"], "fulfilled");
    let err = fail(op(&["market", "fulfil", "--request", "1"]));
    assert!(err.contains("NotOpen"), "{err}");
    let err = fail(op(&["market", "reclaim", "--request", "1"]));
    assert!(err.contains("NotOpen"), "{err}");
    let err = fail(op(&["market", "stake", "--model", "1", "--amount", "1.2.3"]));
    assert!(err.contains("invalid amount"), "{err}");
    // A deployment file from another chain is refused before anything is sent.
    let mut other: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("market.json")).unwrap()).unwrap();
    other["chain_id"] = 1.into();
    std::fs::write(dir.join("mainnet.json"), other.to_string()).unwrap();
    let err = fail(op(&["market", "status", "--request", "1", "--deployment", "mainnet.json"]));
    assert!(err.contains("is on chain 1"), "{err}");
    drop(node);
    let err = fail(op(&["market", "status", "--request", "1"]));
    assert!(err.contains("cannot reach the node"), "{err}");
}
