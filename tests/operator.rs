//! The operator service end to end on a local anvil: two models (public input; hashed input),
//! requests watched from the chain into the SQLite job store, a client's private input checked
//! against the request's hash over HTTP (a wrong one refused), proofs made and fulfilled by the
//! service, `/health` and `/metrics`; then a restart on the same store resumes from its cursor,
//! fulfils the request made while it was down and sends nothing twice.
mod common;
use alloy::primitives::U256;
use alloy::transports::http::reqwest;
use std::time::{Duration, Instant};
use zkinfer::{RunArgs, Visibility};
use zkinfer_market::service::{self, Config};
use zkinfer_market::{layout_for, Connection, MarketParams};
use zkinfer_verifier::evm::{verifier_file, CompiledVerifier};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Anvil's second development account (a public test key, funded by every fresh anvil).
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

async fn job_state(http: &reqwest::Client, base: &str, id: u64) -> String {
    let r = http.get(format!("{base}/requests/{id}")).send().await.unwrap();
    if r.status() == 404 {
        return "unknown".into();
    }
    let j = r.json::<serde_json::Value>().await.unwrap();
    assert_ne!(j["state"], "failed", "request {id} failed: {j}");
    j["state"].as_str().unwrap().to_string()
}

async fn wait_for(http: &reqwest::Client, base: &str, id: u64, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let s = job_state(http, base, id).await;
        if s == state {
            return;
        }
        assert!(Instant::now() < deadline, "request {id} stuck in {s}, expected {state}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn operator_service_fulfils_watched_requests_and_resumes_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = Anvil::start(&Anvil::bundled_binary().expect("npm ci --prefix solidity"), true).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let (operator, client, d, models_toml, inputs) = market_with_models(&node, dir, &[(1, Visibility::Public), (2, Visibility::Hashed)]).await;
        std::fs::write(dir.join("operator.toml"), config_toml(&node.url, "sqlite://operator.db", &models_toml)).unwrap();
        let config = Config::load(&dir.join("operator.toml")).unwrap();
        let running = service::start(config.clone()).await.unwrap();
        let base = format!("http://{}", running.local_addr);
        let http = reqwest::Client::new();
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

        // A public-input request is watched, proven and fulfilled without any help.
        let sample = first_sample();
        let req1 = zkinfer_market::operator::request_inputs(&inputs[0].0, &sample.clone()).unwrap();
        let (r1, _) = client.request(&d, U256::from(1), req1, ether(10), ts + 3600).await.unwrap();
        wait_for(&http, &base, 1, "fulfilled").await;
        assert_eq!(client.request_state(&d, r1).await.unwrap().status, 2);

        // A hashed-input request waits for the client's input; a wrong one is refused.
        let hashed = zkinfer_market::operator::request_inputs(&inputs[1].0, &sample.clone()).unwrap();
        assert_eq!(hashed.len(), 1, "one Poseidon hash");
        client.request(&d, U256::from(2), hashed, ether(10), ts + 3600).await.unwrap();
        wait_for(&http, &base, 2, "waiting_input").await;
        let mut wrong = sample.clone();
        wrong.input_data[0][0] += 1.0;
        let r = http.post(format!("{base}/requests/2/input")).body(serde_json::to_string(&wrong).unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("does not hash"));
        let r = http.post(format!("{base}/requests/2/input")).body(serde_json::to_string(&sample.clone()).unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        wait_for(&http, &base, 2, "fulfilled").await;
        let r = http.post(format!("{base}/requests/9/input")).body("{}").send().await.unwrap();
        assert_eq!(r.status(), 404);

        let health: serde_json::Value = http.get(format!("{base}/health")).send().await.unwrap().json().await.unwrap();
        assert_eq!(health["status"], "ok");
        let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("zkinfer_proofs_total 2") && metrics.contains("zkinfer_jobs{state=\"fulfilled\"} 2"), "{metrics}");
        running.stop().await;

        // Down: a request arrives. Restarted on the same store: it resumes and fulfils it.
        let req3 = zkinfer_market::operator::request_inputs(&inputs[0].0, &sample.clone()).unwrap();
        let before = client.balance(&d, operator.address).await.unwrap();
        let (r3, _) = client.request(&d, U256::from(1), req3, ether(10), ts + 3600).await.unwrap();
        let running = service::start(config).await.unwrap();
        let base = format!("http://{}", running.local_addr);
        wait_for(&http, &base, 3, "fulfilled").await;
        assert_eq!(client.request_state(&d, r3).await.unwrap().status, 2);
        let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("zkinfer_proofs_total 1"), "requests 1 and 2 must not be proven again: {metrics}");
        assert_eq!(client.balance(&d, operator.address).await.unwrap(), before + ether(10));
        running.stop().await;
    });
}

type Models = Vec<(zkinfer::CompiledModel, zkinfer::Witness)>;

/// A market on `node` with the digits MLP registered and staked once per visibility of its
/// input, the model files written to `dir`; returns the operator, a funded client, the
/// deployment, the `[[models]]` TOML and the compiled models.
async fn market_with_models(node: &Anvil, dir: &std::path::Path, which: &[(u64, Visibility)]) -> (Connection, Connection, zkinfer_market::Deployment, String, Models) {
        let operator = Connection::connect(&node.url, ANVIL_DEV_KEY).await.unwrap();
        let client = Connection::connect(&node.url, CLIENT_KEY).await.unwrap();
        let d = operator.deploy_market(MarketParams::default()).await.unwrap();
        d.save(&dir.join("market.json")).unwrap();
        operator.mint(&d, operator.address, ether(1000)).await.unwrap();
        operator.mint(&d, client.address, ether(100)).await.unwrap();
        // Model 1: public input; model 2: hashed input (the client sends it to the operator).
        let mut models_toml = String::new();
        let mut inputs = vec![];
        for &(n, input) in which {
            let (c, w) = common::compiled_with_witness("digits_mlp", RunArgs { input_visibility: input, ..RunArgs::default() });
            let srs = common::srs(c.settings.run_args.logrows);
            let (pk, vk) = zkinfer::setup(&c, &srs).unwrap();
            c.save(dir.join(format!("m{n}.compiled"))).unwrap();
            pk.save(&dir.join(format!("m{n}.pk"))).unwrap();
            zkinfer::prover::save_srs(&srs, &dir.join(format!("m{n}.srs"))).unwrap();
            let verifier = operator.deploy_verifier(&CompiledVerifier::new(&verifier_file(&srs, &vk)).unwrap()).await.unwrap();
            let (id, _) = operator.register(&d, verifier, layout_for(vk.statement(), Default::default()).unwrap(), "").await.unwrap();
            assert_eq!(id, U256::from(n));
            operator.stake(&d, id, ether(200)).await.unwrap();
            models_toml += &format!("[[models]]\nid = {n}\ncompiled = \"m{n}.compiled\"\npk = \"m{n}.pk\"\nsrs = \"m{n}.srs\"\n\n");
            inputs.push((c, w));
        }
    (operator, client, d, models_toml, inputs)
}

fn config_toml(url: &str, database: &str, models_toml: &str) -> String {
    format!("rpc_url = \"{url}\"\nprivate_key = \"{ANVIL_DEV_KEY}\"\ndeployment = \"market.json\"\ndatabase = \"{database}\"\nlisten = \"127.0.0.1:0\"\nconfirmations = 0\npoll_ms = 200\n\n{models_toml}")
}

/// The first committed digits sample, as EZKL input JSON.
fn first_sample() -> zkinfer::InputData {
    let all = zkinfer::InputData::load(common::models().join("digits_mlp").join("input.json")).unwrap();
    zkinfer::InputData { input_data: vec![all.input_data[0][..64].to_vec()] }
}

/// Scale-out: two operator machines (two service instances) share one PostgreSQL job store and
/// race for the same requests; every request is proven and fulfilled exactly once.
#[test]
fn two_operator_instances_share_one_postgres_queue() {
    let pg = common::postgres::Postgres::start();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let node = Anvil::start(&Anvil::bundled_binary().expect("npm ci --prefix solidity"), true).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let (operator, client, d, models_toml, inputs) = market_with_models(&node, dir, &[(1, Visibility::Public)]).await;
        std::fs::write(dir.join("operator.toml"), config_toml(&node.url, &pg.url, &models_toml)).unwrap();
        let config = Config::load(&dir.join("operator.toml")).unwrap();
        let (mut ca, mut cb) = (config.clone(), config);
        (ca.instance, cb.instance) = ("machine-a".into(), "machine-b".into());
        let a = service::start(ca).await.unwrap();
        let b = service::start(cb).await.unwrap();
        let (base_a, base_b) = (format!("http://{}", a.local_addr), format!("http://{}", b.local_addr));
        let http = reqwest::Client::new();
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let before = client.balance(&d, operator.address).await.unwrap();
        let req = zkinfer_market::operator::request_inputs(&inputs[0].0, &first_sample()).unwrap();
        let mut ids = vec![];
        for _ in 0..4 {
            ids.push(client.request(&d, U256::from(1), req.clone(), ether(10), ts + 3600).await.unwrap().0);
        }
        for id in 1..=4 {
            wait_for(&http, &base_a, id, "fulfilled").await;
        }
        for id in &ids {
            assert_eq!(client.request_state(&d, *id).await.unwrap().status, 2);
        }
        assert_eq!(client.balance(&d, operator.address).await.unwrap(), before + ether(40), "paid once per request");
        let proofs = |m: String| -> u64 { m.lines().find_map(|l| l.strip_prefix("zkinfer_proofs_total ")).unwrap().parse().unwrap() };
        let pa = proofs(http.get(format!("{base_a}/metrics")).send().await.unwrap().text().await.unwrap());
        let pb = proofs(http.get(format!("{base_b}/metrics")).send().await.unwrap().text().await.unwrap());
        assert_eq!(pa + pb, 4, "each request proven exactly once across both instances ({pa} + {pb})");
        a.stop().await;
        b.stop().await;
    });
}
