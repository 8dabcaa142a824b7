//! The prediction game through `zkinfer market …` on a local anvil: a tournament encoding, a model
//! compiled for it (`gen-settings --feature-encoding`), the tournament's prediction market, a
//! registered model, a round opened on committed features, a proven trade, committee signatures,
//! resolution, settlement, claim, round and leaderboard; a model of another encoding, features
//! that are not the round's and an early resolution are refused on one line.
mod common;
use common::{fails, models, ok};
use zkinfer_market::Connection;
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Anvil's second development account (a public test key, funded by every fresh anvil).
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// Anvil's third account's address (a committee member that never signs here).
const THIRD: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Digit sample `i` of a committed tournament model's inputs as EZKL input JSON.
fn sample(dir: &std::path::Path, name: &str, i: usize) -> std::path::PathBuf {
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(models().join("market/digits_logreg/input.json")).unwrap()).unwrap();
    let all: Vec<f64> = serde_json::from_value(data["input_data"][0].clone()).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::json!({ "input_data": [all[64 * i..64 * (i + 1)].to_vec()] }).to_string()).unwrap();
    path
}

#[test]
fn tournament_commands_on_anvil() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let model = models().join("market/digits_logreg/model.onnx");
    let model = model.to_str().unwrap();
    let enc = json(&ok(&["market", "encoding", "--shape", "1,64", "--scale", "7", "--range", "-4096,4095"], dir));
    assert!(enc["encoding"].as_str().unwrap().starts_with("0x"), "{enc}");
    ok(&["gen-settings", "-M", model, "-O", "settings.json", "--feature-encoding", "encoding.json", "--num-inner-cols", "1"], dir);
    ok(&["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], dir);
    let compiled: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("model.compiled")).unwrap()).unwrap();
    ok(&["gen-srs", "--logrows", &compiled["settings"]["run_args"]["logrows"].to_string(), "--srs-path", "kzg.srs"], dir);
    ok(&["setup", "-M", "model.compiled", "--srs-path", "kzg.srs"], dir);
    ok(&["create-evm-verifier", "--srs-path", "kzg.srs", "--sol-code-path", "Verifier.sol", "--abi-path", "Verifier.abi"], dir);
    let (features, other) = (sample(dir, "features.json", 3), sample(dir, "other.json", 4));

    let node = Anvil::start(&Anvil::bundled_binary().expect("npm ci --prefix solidity"), true).unwrap();
    let url = node.url.clone();
    let url = url.as_str();
    let with = |key: &str, args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).chain(["--rpc-url", url, "--private-key", key, "--json"].map(String::from)).collect() };
    let run = |key: &str, args: &[&str]| json(&ok(&with(key, args).iter().map(String::as_str).collect::<Vec<_>>(), dir));
    let fail = |key: &str, args: &[&str]| fails(&with(key, args).iter().map(String::as_str).collect::<Vec<_>>(), dir);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (op, member) = rt.block_on(async { (Connection::connect(url, ANVIL_DEV_KEY).await.unwrap(), Connection::connect(url, CLIENT_KEY).await.unwrap()) });
    let committee = format!("{},{},{THIRD}", op.address, member.address);

    run(ANVIL_DEV_KEY, &["market", "deploy"]);
    let t = run(ANVIL_DEV_KEY, &["market", "deploy-tournament", "--encoding", "encoding.json", "--outcomes", "10", "--liquidity", "100", "--committee", &committee, "--threshold", "2", "--min-collateral", "1"]);
    assert_eq!(t["encoding"], enc["encoding"]);
    // The sponsor (dev account) funds rounds; the operator (second account) trades.
    run(ANVIL_DEV_KEY, &["market", "mint", "--amount", "1000"]);
    run(CLIENT_KEY, &["market", "mint", "--amount", "1000"]);
    // A model registered for another encoding is refused before anything is sent.
    ok(&["market", "encoding", "--shape", "1,64", "--scale", "8", "-O", "scale8.json"], dir);
    let err = fail(CLIENT_KEY, &["market", "register", "--encoding", "scale8.json"]);
    assert!(err.contains("scale 7, the tournament at 8"), "{err}");
    let reg = run(CLIENT_KEY, &["market", "register", "--encoding", "encoding.json", "--uri", "ipfs://digits-logreg"]);
    assert_eq!(reg["model"], "1");

    let open = run(ANVIL_DEV_KEY, &["market", "open", "-M", "model.compiled", "-D", features.to_str().unwrap(), "--uri", "ipfs://round-1", "--close-secs", "600"]);
    assert_eq!(open["round"], "1");
    // Features that are not the round's are refused before proving.
    let err = fail(CLIENT_KEY, &["market", "trade", "--round", "1", "--model", "1", "-D", other.to_str().unwrap()]);
    assert!(err.contains("do not hash to round 1"), "{err}");
    // Only the model's operator trades it.
    let err = fail(ANVIL_DEV_KEY, &["market", "trade", "--round", "1", "--model", "1", "-D", features.to_str().unwrap()]);
    assert!(err.contains("only its operator trades it"), "checked before proving: {err}");
    let trade = run(CLIENT_KEY, &["market", "trade", "--round", "1", "--model", "1", "-D", features.to_str().unwrap()]);
    let collateral: u128 = trade["collateral"].as_str().unwrap().parse().unwrap();
    assert!(collateral >= 10u128.pow(18), "at least the minimum collateral: {trade}");
    assert_eq!(trade["prediction"][0].as_array().unwrap().len(), 10);

    let label = serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(models().join("market/digits_logreg/labels.json")).unwrap()).unwrap()["labels"][3].to_string();
    let s1 = run(ANVIL_DEV_KEY, &["market", "sign-outcome", "--round", "1", "--outcome", &label]);
    let s2 = run(CLIENT_KEY, &["market", "sign-outcome", "--round", "1", "--outcome", &label]);
    let sigs = format!("{},{}", s1["signature"].as_str().unwrap(), s2["signature"].as_str().unwrap());
    let err = fail(CLIENT_KEY, &["market", "resolve", "--round", "1", "--outcome", &label, "--signatures", &sigs]);
    assert!(err.contains("NotClosed"), "trading is still open: {err}");
    rt.block_on(op.dev_increase_time(601)).unwrap();
    let err = fail(CLIENT_KEY, &["market", "resolve", "--round", "1", "--outcome", &label, "--signatures", s1["signature"].as_str().unwrap()]);
    assert!(err.contains("BelowThreshold"), "one signature of a threshold of two: {err}");
    run(CLIENT_KEY, &["market", "resolve", "--round", "1", "--outcome", &label, "--signatures", &sigs]);
    run(CLIENT_KEY, &["market", "settle", "--round", "1"]);

    let round = run(ANVIL_DEV_KEY, &["market", "round", "--round", "1"]);
    assert_eq!(round["round"]["phase"], "settled", "{round}");
    assert_eq!(round["trades"].as_array().unwrap().len(), 1);
    let board = run(ANVIL_DEV_KEY, &["market", "leaderboard"]);
    let entry = &board["leaderboard"][0];
    assert_eq!((entry["model"].as_str(), entry["trades"].as_u64()), (Some("1"), Some(1)), "{board}");
    // The operator's claim is its collateral plus its payoff (the model predicted the digit).
    let claim = run(CLIENT_KEY, &["market", "claim"]);
    let claimed: u128 = claim["amount"].as_str().unwrap().parse().unwrap();
    let payoff: i128 = entry["cumulative"].as_str().unwrap().parse().unwrap();
    assert_eq!(claimed as i128, collateral as i128 + payoff, "{claim} {board}");
    assert!(payoff > 0, "a correct, confident prediction earns: {board}");
    let err = fail(CLIENT_KEY, &["market", "claim"]);
    assert!(err.contains("NothingToClaim"), "{err}");
    // The sponsor gets back its subsidy minus what the market paid out.
    let sponsor = run(ANVIL_DEV_KEY, &["market", "claim"]);
    let subsidy: u128 = round["round"]["subsidy"].as_str().unwrap().parse().unwrap();
    assert!(sponsor["amount"].as_str().unwrap().parse::<u128>().unwrap() as i128 <= subsidy as i128 - payoff + 1, "{sponsor}");
}
