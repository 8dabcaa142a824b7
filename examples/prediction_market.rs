//! The prediction game end to end on a local anvil this example starts and stops: a tournament
//! over handwritten digits (K = 10 outcomes, features [1, 64] at scale 2^7, hashed), three
//! operators each committing a different model (an MLP, a logistic regression, a narrower MLP,
//! all with a softmax head, from `models/market/`), one round opened on the committed features
//! of a test digit, three proven trades, resolution by two of three committee signatures,
//! settlement and claims; payoffs, the leaderboard, the final market and the metamodel are
//! printed.
//!
//! Run with `npm ci --prefix solidity && cargo run --release --example prediction_market`.

use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::signers::local::PrivateKeySigner;
use zkinfer::{InputData, RunArgs};
use zkinfer_market::prediction::{FeatureEncoding, TournamentParams};
use zkinfer_market::{layout_for, Connection, MarketParams};
use zkinfer_verifier::evm::{verifier_file, CompiledVerifier};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// The three operators' models (`models/market/<name>`, written by `models/generate.py`).
const MODELS: [&str; 3] = ["digits_logreg", "digits_softmax", "digits_mlp16"];
/// The round's digit: sample 315 of the digits test split (a 4 two of the models take for a 7).
const SAMPLE: usize = 315;

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn show(x: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18));
    format!("{}.{:03}", x / unit, (x % unit) * U256::from(1000) / unit)
}

fn show_signed(x: alloy::primitives::I256) -> String {
    let sign = if x.is_negative() { "-" } else { "+" };
    format!("{sign}{}", show(x.unsigned_abs()))
}

fn probs(p: &[U256]) -> String {
    let unit = U256::from(10u64).pow(U256::from(16));
    p.iter().map(|v| format!("{:>2}", (*v + unit / U256::from(2)) / unit)).collect::<Vec<_>>().join(" ")
}

/// A compiled model for the tournament's encoding, with its keys and its verifier.
struct Operator {
    name: &'static str,
    compiled: zkinfer::CompiledModel,
    pk: zkinfer::ProvingKeyFile,
    vk: zkinfer::VerifyingKeyFile,
    srs: zkinfer::Srs,
    sol: CompiledVerifier,
}

fn prepare(name: &'static str, enc: &FeatureEncoding) -> Result<Operator, Box<dyn std::error::Error>> {
    let model = zkinfer::load_model(format!("{}/models/market/{name}/model.onnx", env!("CARGO_MANIFEST_DIR")))?;
    let mut ra = RunArgs { num_inner_cols: 1, logrows: 13, ..RunArgs::default() };
    enc.apply(&mut ra);
    let settings = zkinfer::gen_settings(&model, ra)?;
    let compiled = zkinfer::compile(&model, &settings)?;
    enc.check_compiled(&compiled)?;
    let srs = zkinfer::prover::gen_srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs)?;
    let sol = CompiledVerifier::new(&verifier_file(&srs, &vk))?;
    println!("  {name}: logrows {}, model commitment {}", compiled.settings.run_args.logrows, zkinfer::prover::commitment_hex(&vk.commitment()));
    Ok(Operator { name, compiled, pk, vk, srs, sol })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let enc = FeatureEncoding { shape: vec![1, 64], scale: 7, range: (-4096, 4095) };
    println!("tournament encoding {} = {}", enc.describe(), enc.id());
    println!("compiling and setting up the three models for it:");
    let ops = MODELS.iter().map(|m| prepare(m, &enc)).collect::<Result<Vec<_>, _>>()?;
    let split: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits_mlp/test_split.json"))?)?;
    let label = split["labels"][SAMPLE].as_u64().ok_or("test_split.json: no label")?;
    let pixels: Vec<f64> = split["input_data"][0].as_array().ok_or("test_split.json: no input")?[SAMPLE * 64..(SAMPLE + 1) * 64].iter().map(|v| v.as_f64().unwrap_or(0.0)).collect();
    let features = InputData { input_data: vec![pixels] };

    let node = Anvil::start(&Anvil::bundled_binary().ok_or("no anvil: run `npm ci --prefix solidity`")?, true)?;
    println!("anvil on {}", node.url);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        let funder = Connection::connect(&node.url, ANVIL_DEV_KEY).await?;
        let mut d = funder.deploy_market(MarketParams::default()).await?;
        let committee: Vec<PrivateKeySigner> = (0..3).map(|_| PrivateKeySigner::random()).collect();
        let params = TournamentParams {
            outcomes: 10,
            liquidity: tokens(100),
            encoding: enc.id(),
            committee: committee.iter().map(|s| s.address()).collect(),
            threshold: 2,
            min_collateral: tokens(1),
        };
        let pm = funder.deploy_prediction(&mut d, &params).await?;
        println!("market: registry {}, prediction market {pm} (K = 10, b = 100 tokens, committee 2 of 3)", d.registry);
        funder.mint(&d, funder.address, tokens(1000)).await?;

        // Three operators, each with its own key (funded by the dev chain) and model.
        let mut traders = vec![];
        for op in &ops {
            let key = PrivateKeySigner::random();
            let _: serde_json::Value = funder.provider.raw_request("anvil_setBalance".into(), (key.address(), U256::from(10u64).pow(U256::from(20)))).await?;
            let conn = Connection::connect(&node.url, &hex::encode(key.to_bytes())).await?;
            funder.mint(&d, conn.address, tokens(300)).await?;
            let verifier = conn.deploy_verifier(&op.sol).await?;
            let (id, _) = conn.register(&d, verifier, layout_for(op.vk.statement(), enc.id())?, &format!("ipfs://{}", op.name)).await?;
            println!("operator {} registered {} as model {id}", conn.address, op.name);
            traders.push((conn, id));
        }

        // The funder opens a round on the digit's committed features.
        let commitment = enc.commitment(&ops[0].compiled, &features)?;
        let now = funder.chain_time().await?;
        let subsidy = funder.prediction(&d)?.minSubsidy().call().await?;
        let (round, tx) = funder.open_round(&d, commitment, &format!("zkinfer-tests://digits/test/{SAMPLE}"), subsidy, now + 600, now + 1200).await?;
        println!("round {round} opened on features {commitment:#x} (subsidy {} tokens, {} gas)", show(subsidy), tx.gas_used);

        // Each operator proves its model's prediction on the round's features and trades it.
        println!("trades (probabilities in %, outcomes 0..9):");
        let mut before = vec![];
        for (op, (conn, id)) in ops.iter().zip(&traders) {
            let proven = conn.prove_prediction(&d, round, *id, &op.compiled, &op.pk, &op.srs, &features).await?;
            let balance = funder.balance(&d, conn.address).await?;
            before.push(balance);
            let (collateral, tx) = conn.trade(&d, round, *id, &proven, U256::MAX).await?;
            let market = funder.prediction(&d)?.market(round).call().await?;
            println!("  {:<15} proved in {:.2} s, escrowed {:>7} tokens, {} gas; market now [{}]", op.name, proven.prove_seconds, show(collateral), tx.gas_used, probs(&market));
        }

        // Trading closes; two of the three committee members sign the outcome; anyone resolves.
        funder.dev_increase_time(601).await?;
        let sigs = vec![funder.sign_outcome(&d, &committee[0], round, label).await?, funder.sign_outcome(&d, &committee[2], round, label).await?];
        let tx = funder.resolve(&d, round, label, sigs).await?;
        println!("round {round} resolved: the digit is a {label} ({} gas)", tx.gas_used);
        let tx = funder.settle(&d, round).await?;
        println!("settled ({} gas)", tx.gas_used);

        for ((op, (conn, _)), b) in ops.iter().zip(&traders).zip(&before) {
            let (amount, _) = conn.claim(&d).await?;
            let after = funder.balance(&d, conn.address).await?;
            let net = alloy::primitives::I256::from_raw(after) - alloy::primitives::I256::from_raw(*b);
            println!("  {:<15} claimed {:>7} tokens: net {} tokens", op.name, show(amount), show_signed(net));
        }
        let sponsor_credit = funder.credit(&d, funder.address).await?;
        println!("  sponsor credit {} of its {} subsidy", show(sponsor_credit), show(subsidy));

        let info = funder.round(&d, round).await?;
        println!("final market [{}]", probs(&info.market));
        println!("metamodel    [{}] (weight {} tokens of collateral)", probs(&info.metamodel), show(info.metamodel_weight));
        println!("leaderboard (cumulative payoff, moving average, trades):");
        for s in funder.leaderboard(&d).await? {
            let name = traders.iter().position(|(_, id)| *id == s.model).map(|i| ops[i].name).unwrap_or("?");
            println!("  model {} {:<15} {:>9} {:>9} {}", s.model, name, show_signed(s.cumulative), show_signed(s.ema), s.trades);
        }
        Ok::<(), Box<dyn std::error::Error>>(())
    })?;
    drop(node);
    println!("anvil stopped");
    Ok(())
}
