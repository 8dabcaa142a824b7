//! `zkinfer market …` end to end on a local anvil: deploy a market, register and stake the
//! digits MLP from its CLI artifacts, mint test tokens, request an inference as a client (signing
//! with an encrypted keystore), fulfil it as the operator (witness rebuilt from the request,
//! proof bound to it), read its status; then every kind of bad request fails on one line with
//! the contract's error named — someone else's fulfilment, a second one, an unknown model, a bond
//! above the free stake, a payment above the balance, a zero payment, a deadline in the past, a
//! fulfilment after the deadline (refused before proving) — as do a wrong keystore password, a
//! deployment file of another chain and an unreachable node. One anvil, one proof.
mod common;
use alloy::providers::Provider;
use common::{fails, fails_env, models, ok, ok_env};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Anvil's second development account (a public test key, funded by every fresh anvil).
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Move anvil's clock `secs` forward and mine a block at the new time.
fn advance_time(url: &str, secs: u64) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let p = alloy::providers::ProviderBuilder::new().connect_http(url.parse().unwrap());
        let _: serde_json::Value = p.raw_request("evm_increaseTime".into(), (secs,)).await.unwrap();
        let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
    });
}

/// A contract error shown by name (decoded), never as raw revert data.
fn named(err: &str, name: &str) {
    eprintln!("{}", err.trim_end());
    assert!(err.contains(name), "expected {name}: {err}");
    assert!(!err.contains("reverted: 0x"), "undecoded revert: {err}");
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

    // The client signs with an encrypted keystore (password from the environment).
    let client_address = zkinfer_market::signer::write_keystore(&dir.join("client.json"), CLIENT_KEY, "s3cret").unwrap().address();
    let ks = |args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).chain(["--rpc-url", url, "--keystore", "client.json", "--json"].map(String::from)).collect() };
    let pw = [("ZKINFER_KEYSTORE_PASSWORD", Some("s3cret")), ("ZKINFER_PRIVATE_KEY", None)];
    let run_ks = |v: Vec<String>| ok_env(&v.iter().map(String::as_str).collect::<Vec<_>>(), dir, &pw);

    let d = json(&run(op(&["market", "deploy"])));
    assert!(d["inference"].as_str().unwrap().starts_with("0x"));
    run(op(&["market", "mint", "--amount", "1000"]));
    let reg = json(&run(op(&["market", "register", "--uri", "ipfs://digits-mlp", "--stake", "100"])));
    assert_eq!(reg["model"], "1");
    assert!(reg["register_gas"].as_u64().unwrap() > 0 && reg["stake_gas"].as_u64().unwrap() > 0);
    run_ks(ks(&["market", "mint", "--amount", "50"]));
    // A wrong password, or none and no terminal to ask on: one line, nothing sent.
    let args = ks(&["market", "mint", "--amount", "1"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = fails_env(&args, dir, &[("ZKINFER_KEYSTORE_PASSWORD", Some("guess")), ("ZKINFER_PRIVATE_KEY", None)]);
    assert!(err.contains("cannot decrypt the keystore") && err.contains("wrong password"), "{err}");
    let err = fails_env(&args, dir, &[("ZKINFER_KEYSTORE_PASSWORD", None), ("ZKINFER_PRIVATE_KEY", None)]);
    assert!(err.contains("set ZKINFER_KEYSTORE_PASSWORD"), "{err}");
    let req = json(&run_ks(ks(&["market", "request", "--model", "1", "-D", "one.json", "--payment", "10"])));
    assert_eq!(req["request"], "1");
    let s = json(&run(op(&["market", "status", "--request", "1"])));
    assert_eq!(s["client"], client_address.to_string(), "the request is the keystore account's");
    // The client cannot answer its own request: refused before proving, on one line.
    let err = fail(client(&["market", "fulfil", "--request", "1"]));
    named(&err, "NotOperator");
    let f = json(&run(op(&["market", "fulfil", "--request", "1"])));
    assert!(f["gas"].as_u64().unwrap() > 300_000, "{f}");
    assert_eq!(f["outputs"][0].as_array().unwrap().len(), 10);
    let s = json(&run(op(&["market", "status", "--request", "1"])));
    assert_eq!(s["status"], "fulfilled");
    let err = fail(op(&["market", "fulfil", "--request", "1"]));
    named(&err, "NotOpen");
    let err = fail(op(&["market", "reclaim", "--request", "1"]));
    named(&err, "NotOpen");
    let err = fail(op(&["market", "stake", "--model", "1", "--amount", "1.2.3"]));
    assert!(err.contains("invalid amount"), "{err}");

    // Bad requests, each refused by the contracts with the error decoded (the client holds 40
    // tokens; the model's free stake is 100 and the bond is 2x the payment).
    let request = |model: &str, payment: &str, secs: &str| fail(client(&["market", "request", "--model", model, "-D", "one.json", "--payment", payment, "--deadline-secs", secs]));
    named(&request("99", "1", "3600"), "UnknownModel");
    named(&request("1", "60", "3600"), "ModelRegistry.InsufficientFreeStake");
    named(&request("1", "45", "3600"), "ERC20InsufficientBalance");
    named(&request("1", "0", "3600"), "ZeroPayment");
    // Past its deadline a request cannot be fulfilled (refused before proving), and reclaimed it is closed.
    let late = json(&run(client(&["market", "request", "--model", "1", "-D", "one.json", "--payment", "1", "--deadline-secs", "60"])));
    assert_eq!(late["request"], "2");
    let err = fail(client(&["market", "reclaim", "--request", "2"]));
    named(&err, "NotExpired");
    advance_time(url, 120);
    let err = fail(op(&["market", "fulfil", "--request", "2"]));
    named(&err, "Expired");
    // The chain's clock is now 2 minutes ahead of ours: a 30 s deadline is already past.
    named(&request("1", "1", "30"), "DeadlineInPast");
    run(client(&["market", "reclaim", "--request", "2"]));
    let err = fail(op(&["market", "fulfil", "--request", "2"]));
    assert!(err.contains("was reclaimed") && err.contains("NotOpen"), "{err}");
    let err = fail(op(&["market", "fulfil", "--request", "7"]));
    assert!(err.contains("does not exist"), "{err}");

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
