//! Inference as a service end to end on a local anvil this example starts and stops: deploy the
//! market, register and stake the digits MLP (hashed input: the client's digit stays private),
//! run the operator service (SQLite job store), request an inference paying 10 tokens with the
//! input's Poseidon hash, hand the private input to the service over HTTP, and watch the service
//! prove and fulfil; balances and the proven logits are printed.
//!
//! Run with `npm ci --prefix solidity && cargo run --release --example inference_market`.

use alloy::primitives::U256;
use alloy::transports::http::reqwest;
use std::time::{Duration, Instant};
use zkinfer::{InputData, RunArgs, Target, Visibility};
use zkinfer_market::service::{self, Config};
use zkinfer_market::{layout_for, Connection, MarketParams};
use zkinfer_verifier::evm::{verifier_file, CompiledVerifier};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Anvil's second development account (a public test key).
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn show(x: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18));
    format!("{}.{:02}", x / unit, (x % unit) * U256::from(100) / unit)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let work = tempfile::tempdir()?;
    let dir = work.path();
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits_mlp");
    let model = zkinfer::load_model(format!("{models}/model.onnx"))?;
    let calib = InputData::load(format!("{models}/input.json"))?;
    let settings = zkinfer::gen_settings(&model, RunArgs { input_visibility: Visibility::Hashed, ..RunArgs::default() })?;
    let settings = zkinfer::calibrate_settings(&model, &calib, &settings, Target::Resources)?;
    let compiled = zkinfer::compile(&model, &settings)?;
    let srs = zkinfer::prover::gen_srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs)?;
    compiled.save(dir.join("model.compiled"))?;
    pk.save(&dir.join("pk.key"))?;
    zkinfer::prover::save_srs(&srs, &dir.join("kzg.srs"))?;
    let sol = CompiledVerifier::new(&verifier_file(&srs, &vk))?;
    println!("digits MLP with a hashed input, model commitment {}", zkinfer::prover::commitment_hex(&vk.commitment()));

    let node = Anvil::start(&Anvil::bundled_binary().ok_or("no anvil: run `npm ci --prefix solidity`")?, true)?;
    println!("anvil on {}", node.url);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async {
        let operator = Connection::connect(&node.url, ANVIL_DEV_KEY).await?;
        let client = Connection::connect(&node.url, CLIENT_KEY).await?;
        let d = operator.deploy_market(MarketParams::default()).await?;
        d.save(&dir.join("market.json"))?;
        println!("market: registry {}, inference market {}, token {}", d.registry, d.inference, d.token);
        operator.mint(&d, operator.address, tokens(1000)).await?;
        operator.mint(&d, client.address, tokens(100)).await?;
        let verifier = operator.deploy_verifier(&sol).await?;
        let (id, tx) = operator.register(&d, verifier, layout_for(vk.statement(), Default::default())?, "ipfs://digits-mlp").await?;
        operator.stake(&d, id, tokens(200)).await?;
        println!("registered model {id} ({} gas), staked 200", tx.gas_used);

        let toml = format!(
            "rpc_url = \"{}\"\nprivate_key = \"{ANVIL_DEV_KEY}\"\ndeployment = \"market.json\"\ndatabase = \"sqlite://operator.db\"\nlisten = \"127.0.0.1:0\"\nconfirmations = 0\npoll_ms = 200\n\n[[models]]\nid = {id}\ncompiled = \"model.compiled\"\npk = \"pk.key\"\nsrs = \"kzg.srs\"\n",
            node.url
        );
        std::fs::write(dir.join("operator.toml"), toml)?;
        let running = service::start(Config::load(&dir.join("operator.toml"))?).await?;
        let api = format!("http://{}", running.local_addr);
        println!("operator service on {api}");

        let input = InputData { input_data: vec![calib.input_data[0][..64].to_vec()] };
        let hash = zkinfer_market::operator::request_inputs(&compiled, &input)?;
        let before = (client.balance(&d, client.address).await?, client.balance(&d, operator.address).await?);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
        let (rid, tx) = client.request(&d, id, hash.clone(), tokens(10), now + 600).await?;
        println!("client requested inference {rid} with input hash {} ({} gas), paying 10", hash[0], tx.gas_used);
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let job: serde_json::Value = http.get(format!("{api}/requests/{rid}")).send().await?.json().await.unwrap_or_default();
            match job["state"].as_str() {
                Some("waiting_input") => {
                    let r = http.post(format!("{api}/requests/{rid}/input")).body(serde_json::to_string(&input)?).send().await?;
                    println!("client sent its private input to the operator: HTTP {}", r.status());
                }
                Some("fulfilled") => {
                    println!("fulfilled in {:.1} s, transaction {}", started.elapsed().as_secs_f64(), job["tx_hash"].as_str().unwrap_or("?"));
                    break;
                }
                Some("failed") | Some("expired") => return Err(format!("request {rid}: {job}").into()),
                _ => {}
            }
            if started.elapsed() > Duration::from_secs(300) {
                return Err("the request was not fulfilled within 5 minutes".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let w = compiled.witness(&input)?;
        println!("proven logits {:?}", w.rescaled_outputs[0]);
        let after = (client.balance(&d, client.address).await?, client.balance(&d, operator.address).await?);
        println!("client {} -> {}, operator {} -> {}", show(before.0), show(after.0), show(before.1), show(after.1));
        running.stop().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    drop(node);
    println!("anvil stopped");
    Ok(())
}
