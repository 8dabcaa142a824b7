//! The whole inference flow through the `zkinfer` binary and the operator service as a separate
//! process: CLI artifacts of the digits MLP with a hashed input, a market deployed, the model
//! registered and staked and a request made with `zkinfer market …`, then `zkinfer operator`
//! started from an `operator.toml` (the operator's key in an encrypted keystore). A wrong
//! private input is refused over HTTP, the right one accepted; the service is SIGKILLed while
//! it proves, restarted on the same SQLite store, and fulfils the request exactly once: one
//! `Fulfilled` event, one payment.
//!
//! Where the kill lands is up to the scheduler; the test reads the store after the kill to see
//! which case it got (still proving, proof recorded, or already fulfilled) and checks that case
//! exactly, then the exactly-once outcome that must hold in every case.
mod common;
use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use alloy::transports::http::reqwest;
use common::{fails_env, models, ok};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use zkinfer_market::bindings::InferenceMarket;
use zkinfer_market::service::store::Store;
use zkinfer_market::{Connection, Deployment};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Anvil's second development account (a public test key, funded by every fresh anvil).
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const KEYSTORE_PASSWORD: &str = "operator-pass";
/// A bound on each wait, so a broken service fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(180);

/// A `zkinfer operator` child process, SIGKILLed when dropped (a failing test leaves none behind).
struct Service {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Service {
    /// Start `zkinfer operator --config operator.toml` in `dir` and wait for its
    /// "operator service listening on http://ADDR" line.
    fn start(dir: &Path) -> Service {
        let mut child = Command::new(env!("CARGO_BIN_EXE_zkinfer"))
            .args(["operator", "--config", "operator.toml"])
            .current_dir(dir)
            .env("ZKINFER_LOG", "info")
            .env("OPERATOR_KEYSTORE_PASSWORD", KEYSTORE_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn zkinfer operator");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(vec![]));
        let (tx, rx) = mpsc::channel();
        let lines = log.clone();
        // Keep draining stderr for the child's whole life (a full pipe would block it).
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("operator service listening on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or_default().to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let mut s = Service { child, base: String::new(), log };
        match rx.recv_timeout(PATIENCE) {
            Ok(base) => s.base = base,
            Err(_) => panic!("the operator service did not start: {}", s.log()),
        }
        assert!(s.base.starts_with("http://127.0.0.1:"), "{}", s.base);
        s
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// SIGKILL, no chance to clean up.
    fn kill(mut self) {
        self.child.kill().expect("SIGKILL the operator service");
        self.child.wait().expect("reap the operator service");
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The job's state from `GET /requests/{id}` ("unknown" before the watcher saw it).
async fn job_state(http: &reqwest::Client, s: &Service, id: u64) -> String {
    let r = http.get(format!("{}/requests/{id}", s.base)).send().await.unwrap();
    if r.status() == 404 {
        return "unknown".into();
    }
    let j: serde_json::Value = r.json().await.unwrap();
    assert_ne!(j["state"], "failed", "request {id} failed: {j}\n{}", s.log());
    j["state"].as_str().unwrap().to_string()
}

/// Poll until the job leaves every state in `passing`; returns the state it reached.
async fn wait_past(http: &reqwest::Client, s: &Service, id: u64, passing: &[&str], pause: Duration) -> String {
    let until = Instant::now() + PATIENCE;
    loop {
        let state = job_state(http, s, id).await;
        if !passing.contains(&state.as_str()) {
            return state;
        }
        assert!(Instant::now() < until, "request {id} stuck in {state}\n{}", s.log());
        tokio::time::sleep(pause).await;
    }
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

#[test]
fn operator_process_killed_while_proving_resumes_and_fulfils_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let m = models().join("digits_mlp");
    let (model, input) = (m.join("model.onnx"), m.join("input.json"));
    let model = model.to_str().unwrap();
    ok(&["gen-settings", "-M", model, "-O", "settings.json", "--input-visibility", "hashed"], dir);
    ok(&["calibrate-settings", "-M", model, "-D", input.to_str().unwrap(), "--settings-path", "settings.json"], dir);
    ok(&["compile-circuit", "-M", model, "-S", "settings.json", "--compiled-circuit", "model.compiled"], dir);
    let compiled: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("model.compiled")).unwrap()).unwrap();
    ok(&["gen-srs", "--logrows", &compiled["settings"]["run_args"]["logrows"].to_string(), "--srs-path", "kzg.srs"], dir);
    ok(&["setup", "-M", "model.compiled", "--srs-path", "kzg.srs"], dir);
    ok(&["create-evm-verifier", "--srs-path", "kzg.srs", "--sol-code-path", "Verifier.sol", "--abi-path", "Verifier.abi"], dir);
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let first: Vec<f64> = serde_json::from_value::<Vec<f64>>(data["input_data"][0].clone()).unwrap()[..64].to_vec();
    let right = serde_json::json!({ "input_data": [first] }).to_string();
    let mut other = first.clone();
    other[0] += 1.0;
    let wrong = serde_json::json!({ "input_data": [other] }).to_string();
    std::fs::write(dir.join("one.json"), &right).unwrap();

    let node = Anvil::start(&Anvil::bundled_binary().expect("npm ci --prefix solidity"), true).unwrap();
    let url = node.url.clone();
    let with = |key: &str, args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).chain(["--rpc-url", url.as_str(), "--private-key", key, "--json"].map(String::from)).collect() };
    let run = |v: Vec<String>| json(&ok(&v.iter().map(String::as_str).collect::<Vec<_>>(), dir));
    run(with(ANVIL_DEV_KEY, &["market", "deploy"]));
    run(with(ANVIL_DEV_KEY, &["market", "mint", "--amount", "1000"]));
    assert_eq!(run(with(ANVIL_DEV_KEY, &["market", "register", "--stake", "100"]))["model"], "1");
    run(with(CLIENT_KEY, &["market", "mint", "--amount", "50"]));

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let d = Deployment::load(&dir.join("market.json")).unwrap();
    let operator = rt.block_on(Connection::connect(&url, ANVIL_DEV_KEY)).unwrap();
    let paid_before = rt.block_on(operator.balance(&d, operator.address)).unwrap();

    // The request carries the Poseidon hash of the input, not the input.
    let req = run(with(CLIENT_KEY, &["market", "request", "--model", "1", "-D", "one.json", "--payment", "10"]));
    assert_eq!(req["request"], "1");
    let id = U256::from(1);
    let onchain = rt.block_on(operator.requested_inputs(&d, id)).unwrap();
    assert_eq!(onchain.len(), 1, "one hash, not 64 pixels: {onchain:?}");
    let payment = rt.block_on(operator.request_state(&d, id)).unwrap().payment;

    // The operator's key lives in an encrypted keystore; its password in an environment variable.
    zkinfer_market::signer::write_keystore(&dir.join("operator-key.json"), ANVIL_DEV_KEY, KEYSTORE_PASSWORD).unwrap();
    std::fs::write(
        dir.join("operator.toml"),
        format!(
            "rpc_url = \"{url}\"\nkeystore = \"operator-key.json\"\nkeystore_password_env = \"OPERATOR_KEYSTORE_PASSWORD\"\ndeployment = \"market.json\"\ndatabase = \"sqlite://operator.db\"\nlisten = \"127.0.0.1:0\"\nconfirmations = 0\npoll_ms = 100\n\n[[models]]\nid = 1\ncompiled = \"model.compiled\"\npk = \"pk.key\"\nsrs = \"kzg.srs\"\n"
        ),
    )
    .unwrap();

    // A wrong or missing keystore password stops the service at once, on one line.
    let err = fails_env(&["operator", "--config", "operator.toml"], dir, &[("OPERATOR_KEYSTORE_PASSWORD", Some("guess"))]);
    assert!(err.contains("cannot decrypt the keystore") && err.contains("wrong password"), "{err}");
    let err = fails_env(&["operator", "--config", "operator.toml"], dir, &[("OPERATOR_KEYSTORE_PASSWORD", None)]);
    assert!(err.contains("OPERATOR_KEYSTORE_PASSWORD (keystore_password_env)"), "{err}");

    let http = reqwest::Client::new();
    let service = Service::start(dir);
    let killed_in = rt.block_on(async {
        assert_eq!(wait_past(&http, &service, 1, &["unknown"], Duration::from_millis(100)).await, "waiting_input");
        let r = http.post(format!("{}/requests/1/input", service.base)).body(wrong).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let msg = r.text().await.unwrap();
        assert!(msg.contains("does not hash to request 1's input hash"), "{msg}");
        let r = http.post(format!("{}/requests/1/input", service.base)).body(right.clone()).send().await.unwrap();
        assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
        // Poll tightly so the kill lands while the proof is being made (it takes far longer
        // than one poll); whatever it lands on is checked below.
        wait_past(&http, &service, 1, &["waiting_input", "queued"], Duration::from_millis(2)).await
    });
    service.kill();

    // Where did it die? The store says, and the chain must agree: `sending` is recorded before
    // the fulfilment is sent, so a job still `proving` cannot have been fulfilled.
    let stored = rt.block_on(async {
        let store = Store::open(&format!("sqlite://{}", dir.join("operator.db").display())).await.unwrap();
        store.get("1").await.unwrap().expect("job 1 recorded")
    });
    let status = rt.block_on(operator.request_state(&d, id)).unwrap().status;
    eprintln!("killed when the API said {killed_in:?}; the store says {:?}, the chain status {status}", stored.state);
    match stored.state.as_str() {
        "proving" => {
            assert!(stored.proof.is_none());
            assert_eq!(status, 1, "killed while proving: the request is still open on-chain");
        }
        "sending" => assert!(stored.proof.is_some(), "the proof is recorded before sending"),
        "fulfilled" => assert_eq!(status, 2),
        other => panic!("unexpected state after the kill: {other}"),
    }

    // Restarted on the same store: it takes the job back at once (not after its lease) and
    // fulfils it, or finds it fulfilled.
    let service = Service::start(dir);
    if stored.state != "fulfilled" {
        assert!(service.log().contains("taking back 1 job"), "{}", service.log());
    }
    rt.block_on(async {
        let state = wait_past(&http, &service, 1, &["queued", "proving", "sending"], Duration::from_millis(100)).await;
        assert_eq!(state, "fulfilled", "{}", service.log());
        // A finished job takes no input any more.
        let r = http.post(format!("{}/requests/1/input", service.base)).body(right.clone()).send().await.unwrap();
        assert_eq!(r.status(), 409);
    });
    assert_eq!(rt.block_on(operator.request_state(&d, id)).unwrap().status, 2, "fulfilled on-chain");
    let filter = alloy::rpc::types::Filter::new().address(d.inference).event_signature(InferenceMarket::Fulfilled::SIGNATURE_HASH).topic1(alloy::primitives::B256::from(id)).from_block(0);
    let logs = rt.block_on(operator.provider.get_logs(&filter)).unwrap();
    assert_eq!(logs.len(), 1, "exactly one Fulfilled event for request 1");
    let ev = logs[0].log_decode::<InferenceMarket::Fulfilled>().unwrap().inner.data;
    assert_eq!((ev.id, ev.operator), (id, operator.address));
    assert_eq!(ev.outputs.len(), 10);
    let paid_after = rt.block_on(operator.balance(&d, operator.address)).unwrap();
    assert_eq!(paid_after, paid_before + payment, "paid exactly once");
    drop(service);
    drop(node);
}
