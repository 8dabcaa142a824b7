//! `zkinfer operator`: the operator service. It watches the inference market for requests to
//! its models (`eth_getLogs` behind a confirmation depth, resuming from the last recorded block),
//! records them in a durable job store ([`store`]), takes clients' private inputs over HTTP
//! ([`http`]), proves with a bounded pool of workers (proving key loaded once per model) and
//! fulfils before the deadline; requests that cannot meet their deadline are marked and counted,
//! not dropped silently. Configuration is one TOML file ([`Config`]).

pub mod http;
pub mod store;
mod worker;

use crate::bindings::InferenceMarket;
use crate::{Connection, Deployment, MarketError, Result};
use alloy::primitives::U256;
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use store::{NewJob, Store};
use tokio::sync::watch;
use zkinfer_onnx::artifacts::CompiledModel;
use zkinfer_onnx::settings::Visibility;
use zkinfer_prover::{ProvingKeyFile, Srs};

/// `operator.toml`. Paths are relative to the file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub rpc_url: String,
    /// The operator's key: exactly one of `private_key` (hex), `private_key_env` (the name of a
    /// variable holding it) and `keystore` (an encrypted JSON keystore file).
    #[serde(default)]
    pub private_key: Option<String>,
    #[serde(default)]
    pub private_key_env: Option<String>,
    #[serde(default)]
    pub keystore: Option<PathBuf>,
    /// The variable holding the keystore's password (default `ZKINFER_KEYSTORE_PASSWORD`).
    #[serde(default)]
    pub keystore_password_env: Option<String>,
    /// The market deployment file (`zkinfer market deploy`).
    pub deployment: PathBuf,
    /// `sqlite://operator.db` (default) or `postgres://user@host/db` (shared by several machines).
    #[serde(default = "default_database")]
    pub database: String,
    /// HTTP API address (keep it on 127.0.0.1 behind a proxy you trust).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Concurrent provers.
    #[serde(default = "one")]
    pub workers: usize,
    /// Jobs waiting to be proven beyond which private inputs are refused (HTTP 503).
    #[serde(default = "default_queue")]
    pub queue_limit: i64,
    /// Blocks a request must be buried under before it is acted on.
    #[serde(default = "one_u64")]
    pub confirmations: u64,
    /// Seconds between polls of the chain and of the queue.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
    /// Seconds a worker holds a claimed job before another may take it over.
    #[serde(default = "default_lease")]
    pub lease_seconds: i64,
    /// This machine's name in a shared store (default: the host name): on start-up it takes back
    /// at once the jobs it held when it stopped. Give every machine its own.
    #[serde(default = "default_instance")]
    pub instance: String,
    pub models: Vec<ModelConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The model's id in the registry.
    pub id: u64,
    pub compiled: PathBuf,
    pub pk: PathBuf,
    pub srs: PathBuf,
}

fn default_database() -> String {
    "sqlite://operator.db".into()
}
fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn one() -> usize {
    1
}
fn one_u64() -> u64 {
    1
}
fn default_queue() -> i64 {
    64
}
fn default_poll() -> u64 {
    1000
}
fn default_lease() -> i64 {
    600
}
fn default_instance() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "operator".into())
}

impl Config {
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| MarketError::Format(format!("cannot read {}: {e}", path.display())))?;
        let mut c: Config = toml::from_str(&text).map_err(|e| MarketError::Format(format!("{}: {e}", path.display())))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &PathBuf| if p.is_absolute() { p.clone() } else { base.join(p) };
        c.deployment = rel(&c.deployment);
        c.keystore = c.keystore.as_ref().map(rel);
        for m in &mut c.models {
            (m.compiled, m.pk, m.srs) = (rel(&m.compiled), rel(&m.pk), rel(&m.srs));
        }
        if let Some(rest) = c.database.strip_prefix("sqlite://") {
            if !Path::new(rest).is_absolute() {
                c.database = format!("sqlite://{}", base.join(rest).display());
            }
        }
        if c.models.is_empty() || c.workers == 0 {
            return Err(MarketError::Format(format!("{}: needs at least one [[models]] entry and one worker", path.display())));
        }
        Ok(c)
    }

    /// The operator's signer, from the one key source the file names.
    fn signer(&self) -> Result<alloy::signers::local::PrivateKeySigner> {
        match (&self.private_key, &self.private_key_env, &self.keystore) {
            (Some(k), None, None) => crate::signer::from_private_key(k),
            (None, Some(var), None) => {
                let k = std::env::var(var).map_err(|_| MarketError::Format(format!("the environment variable {var} (private_key_env) is not set")))?;
                crate::signer::from_private_key(&k)
            }
            (None, None, Some(path)) => {
                let var = self.keystore_password_env.as_deref().unwrap_or("ZKINFER_KEYSTORE_PASSWORD");
                let password = std::env::var(var).map_err(|_| MarketError::Format(format!("the environment variable {var} (keystore_password_env) holding the keystore's password is not set")))?;
                crate::signer::from_keystore(path, &password)
            }
            (None, None, None) => Err(MarketError::Format("the config needs one of private_key, private_key_env or keystore".into())),
            _ => Err(MarketError::Format("the config names more than one key: keep one of private_key, private_key_env and keystore".into())),
        }
    }
}

/// A served model, loaded once: compiled circuit, proving key, SRS.
pub struct LoadedModel {
    pub compiled: CompiledModel,
    pub pk: ProvingKeyFile,
    pub srs: Srs,
}

impl LoadedModel {
    fn load(m: &ModelConfig) -> Result<LoadedModel> {
        let fmt = |e: &dyn std::fmt::Display| MarketError::Format(format!("model {}: {e}", m.id));
        let compiled = CompiledModel::load(&m.compiled).map_err(|e| fmt(&e))?;
        let pk = ProvingKeyFile::load(&m.pk).map_err(|e| fmt(&e))?;
        pk.check_model(&compiled).map_err(|e| fmt(&e))?;
        let srs = zkinfer_prover::load_srs(&m.srs, compiled.settings.run_args.logrows).map_err(|e| fmt(&e))?;
        Ok(LoadedModel { compiled, pk, srs })
    }
    pub fn hashed_input(&self) -> bool {
        self.compiled.settings.run_args.input_visibility == Visibility::Hashed
    }
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub proofs: AtomicU64,
    pub failures: AtomicU64,
    pub deadline_missed: AtomicU64,
    pub prove_millis: AtomicU64,
    pub last_block: AtomicU64,
}

/// What the watcher, the workers and the HTTP API share.
pub struct Shared {
    pub config: Config,
    pub conn: Connection,
    pub deployment: Deployment,
    pub store: Store,
    pub models: HashMap<String, Arc<LoadedModel>>,
    pub metrics: Metrics,
}

/// A running service; [`Running::stop`] shuts it down gracefully (the same as SIGINT/SIGTERM
/// for `zkinfer operator`).
pub struct Running {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub local_addr: std::net::SocketAddr,
}

impl Running {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Load the models, open the store, bind the HTTP API and start the watcher and the workers.
pub async fn start(config: Config) -> Result<Running> {
    let conn = Connection::connect_signer(&config.rpc_url, config.signer()?).await?;
    let deployment = Deployment::load(&config.deployment)?;
    conn.check_chain(&deployment).await?;
    let store = Store::open(&config.database).await?;
    let resumed = store.release_leases_of(&config.instance).await?;
    if resumed > 0 {
        tracing::info!("taking back {resumed} job(s) this instance held when it stopped");
    }
    let mut models = HashMap::new();
    for m in &config.models {
        let (operator, _, _) = conn.registry(&deployment).serving(U256::from(m.id)).call().await.map(|r| (r.operator, r.verifier, r.retired)).map_err(|e| MarketError::Format(format!("model {}: {e}", m.id)))?;
        if operator != conn.address {
            return Err(MarketError::Format(format!("model {} is operated by {operator}, not this service's key {}", m.id, conn.address)));
        }
        models.insert(m.id.to_string(), Arc::new(LoadedModel::load(m)?));
    }
    let listener = tokio::net::TcpListener::bind(&config.listen).await.map_err(|e| MarketError::Format(format!("cannot listen on {}: {e}", config.listen)))?;
    let local_addr = listener.local_addr().map_err(|e| MarketError::Format(e.to_string()))?;
    let shared = Arc::new(Shared { config, conn, deployment, store, models, metrics: Metrics::default() });
    let (stop, stopped) = watch::channel(false);
    let mut tasks = vec![tokio::spawn(watch_requests(shared.clone(), stopped.clone()))];
    for _ in 0..shared.config.workers {
        tasks.push(tokio::spawn(worker::run(shared.clone(), stopped.clone())));
    }
    tasks.push(tokio::spawn(http::serve(shared.clone(), listener, stopped)));
    tracing::info!("operator service on {local_addr}, {} model(s), {} worker(s)", shared.models.len(), shared.config.workers);
    Ok(Running { stop, tasks, local_addr })
}

/// Poll `Requested` events for our models up to `head − confirmations`, record them with the
/// cursor, repeat until stopped.
async fn watch_requests(s: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    loop {
        if let Err(e) = poll_once(&s).await {
            tracing::warn!("watching requests: {e}");
        }
        tokio::select! {
            _ = stopped.changed() => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(s.config.poll_ms)) => {}
        }
    }
    async fn poll_once(s: &Shared) -> Result<()> {
        let head = s.conn.provider.get_block_number().await.map_err(|e| MarketError::Rpc { what: "eth_blockNumber".into(), reason: e.to_string() })?;
        let Some(to) = head.checked_sub(s.config.confirmations) else { return Ok(()) };
        let from = s.store.cursor().await?.map_or(0, |c| c + 1);
        if from > to {
            return Ok(());
        }
        let filter = alloy::rpc::types::Filter::new().address(s.deployment.inference).event_signature(InferenceMarket::Requested::SIGNATURE_HASH).from_block(from).to_block(to);
        let logs = s.conn.provider.get_logs(&filter).await.map_err(|e| MarketError::Rpc { what: "eth_getLogs".into(), reason: e.to_string() })?;
        let mut jobs = vec![];
        for log in &logs {
            let Ok(ev) = log.log_decode::<InferenceMarket::Requested>() else { continue };
            let e = ev.inner.data;
            let Some(m) = s.models.get(&e.modelId.to_string()) else { continue };
            let inputs: Vec<String> = e.inputs.iter().map(|v| v.to_string()).collect();
            jobs.push(NewJob {
                request_id: e.id.to_string(),
                model_id: e.modelId.to_string(),
                inputs: serde_json::to_string(&inputs).expect("serializable"),
                deadline: e.deadline as i64,
                needs_input: m.hashed_input(),
            });
        }
        let added = s.store.record(&jobs, to).await?;
        s.metrics.last_block.store(to, Ordering::Relaxed);
        if added > 0 {
            tracing::info!("recorded {added} new request(s) up to block {to}");
        }
        Ok(())
    }
}
