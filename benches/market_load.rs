//! A bounded load run of the operator service, not part of CI: a local anvil, a market with the
//! digits MLP (public input) registered and staked, the service (`zkinfer_market::service`, two
//! workers, SQLite store) and a burst of requests with deadlines from one client. It waits until
//! every request is fulfilled, checks none was lost, none fulfilled twice and none missed its
//! deadline, and prints throughput, latency (request mined → `Fulfilled` event seen, polled
//! every 50 ms) and wall time.
//!
//! `cargo bench --bench market_load` (release; needs `npm ci --prefix solidity` for anvil and
//! solcjs). `ZKINFER_LOAD_REQUESTS` changes the burst size (default 50, at most 500),
//! `ZKINFER_LOAD_WORKERS` the service's provers (default 2, at most 8).
use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use zkinfer::{InputData, RunArgs, Target};
use zkinfer_market::bindings::InferenceMarket;
use zkinfer_market::service::{self, Config};
use zkinfer_market::{layout_for, Connection, MarketParams};
use zkinfer_verifier::evm::{verifier_file, CompiledVerifier};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Anvil's second development account (a public test key, funded by every fresh anvil).
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// Seconds every request gives the operator.
const DEADLINE_SECS: u64 = 900;
/// The run gives up (and fails) after this long.
const LIMIT: Duration = Duration::from_secs(1200);

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn main() {
    // `cargo bench` passes `--bench`; this harness has no options of its own.
    let env = |name: &str, default: usize, max: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default).clamp(1, max);
    let (n, workers) = (env("ZKINFER_LOAD_REQUESTS", 50, 500), env("ZKINFER_LOAD_WORKERS", 2, 8));
    let Some(anvil) = Anvil::bundled_binary() else {
        eprintln!("market_load: no anvil; run `npm ci --prefix solidity` first");
        std::process::exit(2);
    };
    let node = Anvil::start(&anvil, true).expect("start anvil");
    let dir = tempfile::tempdir().expect("temp dir");
    let dir = dir.path();

    // The digits MLP, calibrated and compiled as the CLI would, with its keys and SRS on disk.
    let models = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits_mlp");
    let model = zkinfer::load_model(format!("{models}/model.onnx")).unwrap();
    let data = InputData::load(format!("{models}/input.json")).unwrap();
    let settings = zkinfer::gen_settings(&model, RunArgs::default()).unwrap();
    let settings = zkinfer::calibrate_settings(&model, &data, &settings, Target::Resources).unwrap();
    let compiled = zkinfer::compile(&model, &settings).unwrap();
    let srs = zkinfer::prover::gen_srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs).unwrap();
    compiled.save(dir.join("model.compiled")).unwrap();
    pk.save(&dir.join("pk.key")).unwrap();
    zkinfer::prover::save_srs(&srs, &dir.join("kzg.srs")).unwrap();
    let samples: Vec<InputData> = data.input_data[0].chunks_exact(64).map(|s| InputData { input_data: vec![s.to_vec()] }).collect();

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let operator = Connection::connect(&node.url, ANVIL_DEV_KEY).await.unwrap();
        let client = Connection::connect(&node.url, CLIENT_KEY).await.unwrap();
        let d = operator.deploy_market(MarketParams::default()).await.unwrap();
        d.save(&dir.join("market.json")).unwrap();
        operator.mint(&d, operator.address, ether(1000)).await.unwrap();
        operator.mint(&d, client.address, ether(1000)).await.unwrap();
        let verifier = operator.deploy_verifier(&CompiledVerifier::new(&verifier_file(&srs, &vk)).unwrap()).await.unwrap();
        let (model_id, _) = operator.register(&d, verifier, layout_for(vk.statement(), Default::default()).unwrap(), "").await.unwrap();
        // Payment 1 token, bond 2 per request: the stake covers every request open at once.
        operator.stake(&d, model_id, ether(2 * n as u64 + 10)).await.unwrap();
        let inputs: Vec<Vec<U256>> = samples.iter().map(|s| zkinfer_market::operator::request_inputs(&compiled, s).unwrap()).collect();

        std::fs::write(
            dir.join("operator.toml"),
            format!(
                "rpc_url = \"{}\"\nprivate_key = \"{ANVIL_DEV_KEY}\"\ndeployment = \"market.json\"\ndatabase = \"sqlite://operator.db\"\nlisten = \"127.0.0.1:0\"\nconfirmations = 0\npoll_ms = 100\nworkers = {workers}\n\n[[models]]\nid = {model_id}\ncompiled = \"model.compiled\"\npk = \"pk.key\"\nsrs = \"kzg.srs\"\n",
                node.url
            ),
        )
        .unwrap();
        let running = service::start(Config::load(&dir.join("operator.toml")).unwrap()).await.unwrap();
        let paid_before = operator.balance(&d, operator.address).await.unwrap();
        let first_block = operator.provider.get_block_number().await.unwrap();

        // The burst: n requests back to back, each timed from its receipt.
        let started = Instant::now();
        let chain_now = operator.provider.get_block_by_number(alloy::rpc::types::BlockNumberOrTag::Latest).await.unwrap().unwrap().header.timestamp;
        let mut mined: HashMap<U256, (Instant, u64)> = HashMap::new();
        for i in 0..n {
            let deadline = chain_now.max(zkinfer_market::service::store::now() as u64) + DEADLINE_SECS;
            let (id, _) = client.request(&d, model_id, inputs[i % inputs.len()].clone(), ether(1), deadline).await.unwrap();
            mined.insert(id, (Instant::now(), deadline));
        }
        let burst = started.elapsed();

        // Wait for every Fulfilled event, noting when each is first seen.
        let filter = alloy::rpc::types::Filter::new().address(d.inference).event_signature(InferenceMarket::Fulfilled::SIGNATURE_HASH).from_block(first_block);
        let mut fulfilled: HashMap<U256, (Instant, u64)> = HashMap::new();
        let mut events = 0;
        while fulfilled.len() < n {
            assert!(started.elapsed() < LIMIT, "only {} of {n} requests fulfilled after {LIMIT:?}", fulfilled.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
            let logs = operator.provider.get_logs(&filter).await.unwrap();
            events = logs.len();
            for log in &logs {
                let ev = log.log_decode::<InferenceMarket::Fulfilled>().unwrap().inner.data;
                if !fulfilled.contains_key(&ev.id) {
                    let block = operator.provider.get_block_by_number(log.block_number.unwrap().into()).await.unwrap().unwrap();
                    fulfilled.insert(ev.id, (Instant::now(), block.header.timestamp));
                }
            }
        }
        let total = started.elapsed();

        // None lost, none twice, none late, paid once each.
        assert_eq!(events, n, "one Fulfilled event per request");
        for (id, (_, deadline)) in &mined {
            let (_, at) = fulfilled.get(id).unwrap_or_else(|| panic!("request {id} lost"));
            assert!(at <= deadline, "request {id} fulfilled at {at}, after its deadline {deadline}");
            assert_eq!(client.request_state(&d, *id).await.unwrap().status, 2);
        }
        assert_eq!(operator.balance(&d, operator.address).await.unwrap(), paid_before + ether(n as u64));
        let metrics = alloy::transports::http::reqwest::get(format!("http://{}/metrics", running.local_addr)).await.unwrap().text().await.unwrap();
        let metric = |name: &str| -> f64 { metrics.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(f64::NAN) };
        assert_eq!(metric("zkinfer_deadline_missed_total "), 0.0, "{metrics}");
        assert_eq!(metric("zkinfer_proofs_total "), n as f64, "each request proven once: {metrics}");
        running.stop().await;

        let mut latency: Vec<f64> = mined.iter().map(|(id, (t, _))| fulfilled[id].0.duration_since(*t).as_secs_f64()).collect();
        latency.sort_by(f64::total_cmp);
        let mean = latency.iter().sum::<f64>() / n as f64;
        let p95 = latency[((n as f64 * 0.95).ceil() as usize).clamp(1, n) - 1];
        let prove = metric("zkinfer_prove_seconds_total ") / n as f64;
        println!("market_load: {n} requests (digits MLP, public input, logrows {}), {workers} worker(s), one anvil, SQLite store", compiled.settings.run_args.logrows);
        println!("  burst sent in {:.2} s; all fulfilled after {:.2} s (wall time)", burst.as_secs_f64(), total.as_secs_f64());
        println!("  throughput {:.2} requests/s", n as f64 / total.as_secs_f64());
        println!("  latency request mined -> fulfilled: mean {mean:.2} s, p95 {p95:.2} s, max {:.2} s", latency[n - 1]);
        println!("  mean prove time per request {prove:.2} s; lost 0, fulfilled twice 0, deadlines missed 0");
    });
}
