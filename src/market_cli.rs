//! `zkinfer market …`: the client's, the operator's and the deployer's side of the market from the
//! command line, one library call ([`zkinfer_market`]) each. Every command takes `--rpc-url` and
//! a signer: `--private-key` (or `ZKINFER_PRIVATE_KEY`), or `--keystore` (or `ZKINFER_KEYSTORE`)
//! with its password in `ZKINFER_KEYSTORE_PASSWORD` or typed at a terminal prompt; it prints ids
//! and gas, and with `--json` one JSON object for scripts. `market dev` starts a local anvil with
//! a deployed market.

use alloy::primitives::{Address, FixedBytes, U256};
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use alloy::signers::local::PrivateKeySigner;
use zkinfer_market::{Connection, Deployment, MarketError, MarketParams};

#[derive(Args)]
pub struct Node {
    /// JSON-RPC node (plain http).
    #[arg(long = "rpc-url", default_value = "http://127.0.0.1:8545")]
    pub rpc_url: String,
    /// Hex private key of the sender (or set ZKINFER_PRIVATE_KEY).
    #[arg(long = "private-key", env = "ZKINFER_PRIVATE_KEY", hide_env_values = true)]
    pub private_key: Option<String>,
    /// Encrypted JSON keystore of the sender, instead of --private-key; its password comes from
    /// ZKINFER_KEYSTORE_PASSWORD, or is asked for when stdin is a terminal.
    #[arg(long = "keystore", env = "ZKINFER_KEYSTORE")]
    pub keystore: Option<PathBuf>,
    /// The market deployment (written by `market deploy` / `market dev`).
    #[arg(long = "deployment", default_value = "market.json")]
    pub deployment: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum MarketCmd {
    /// Start anvil on 127.0.0.1 (from solidity/node_modules), deploy a market with a test token,
    /// write the deployment file and print the funded dev accounts; runs until Ctrl-C / SIGTERM.
    Dev {
        #[arg(long = "deployment", default_value = "market.json")]
        deployment: PathBuf,
        /// The anvil binary (default: solidity/node_modules/.bin/anvil of this checkout).
        #[arg(long = "anvil-bin")]
        anvil_bin: Option<PathBuf>,
    },
    /// Deploy a market (test token, model registry, inference market) and write the deployment file.
    Deploy {
        #[command(flatten)]
        node: Node,
        /// Seconds between a withdrawal request and the withdrawal.
        #[arg(long, default_value_t = 7 * 24 * 3600)]
        unbonding_delay: u64,
        /// Bond locked per request, in basis points of the payment.
        #[arg(long, default_value_t = 20_000)]
        bond_bps: u64,
        /// Share of the bond a client of an expired request receives, in basis points.
        #[arg(long, default_value_t = 5_000)]
        slash_bps: u64,
    },
    /// Deploy a model's verifier (the file of create-evm-verifier) and register the model, its
    /// layout read from the verifying key's statement; optionally stake.
    Register {
        #[command(flatten)]
        node: Node,
        #[arg(long = "sol-code-path", default_value = "Verifier.sol")]
        sol_code_path: PathBuf,
        #[arg(long = "vk-path", default_value = "vk.key")]
        vk_path: PathBuf,
        /// Where clients find the model's compiled circuit and description.
        #[arg(long, default_value = "")]
        uri: String,
        /// The tournament's feature encoding (`market encoding` file, checked against the
        /// model; or its 0x bytes32 id), for prediction markets.
        #[arg(long)]
        encoding: Option<String>,
        /// Tokens to stake right away.
        #[arg(long)]
        stake: Option<String>,
    },
    /// Add stake to a model (tokens; 18 decimals).
    Stake {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        model: u64,
        #[arg(long)]
        amount: String,
    },
    /// Mint test tokens (development markets only).
    Mint {
        #[command(flatten)]
        node: Node,
        /// Recipient (default: the sender).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        amount: String,
    },
    /// Request an inference: the input is quantized (or hashed) with the model's compiled circuit.
    Request {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        model: u64,
        #[arg(short = 'M', long = "compiled-circuit", default_value = "model.compiled")]
        compiled_circuit: PathBuf,
        /// EZKL input JSON (`{"input_data": [[...]]}`).
        #[arg(short = 'D', long = "data")]
        data: PathBuf,
        #[arg(long)]
        payment: String,
        /// Seconds from now until the deadline.
        #[arg(long, default_value_t = 3600)]
        deadline_secs: u64,
    },
    /// Answer a request as the model's operator: rebuild the witness from the request (or from
    /// the client's private input, checked against its hash), prove with the request's binding,
    /// fulfil.
    Fulfil {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        request: u64,
        #[arg(short = 'M', long = "compiled-circuit", default_value = "model.compiled")]
        compiled_circuit: PathBuf,
        #[arg(long = "pk-path", default_value = "pk.key")]
        pk_path: PathBuf,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        /// The client's private input (hashed-input models).
        #[arg(short = 'D', long = "data")]
        data: Option<PathBuf>,
    },
    /// End an expired request: refund and bond share to its client (anyone may call it).
    Reclaim {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        request: u64,
    },
    /// Show a request's state.
    Status {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        request: u64,
    },
    #[command(flatten)]
    Tournament(crate::prediction_cli::TournamentCmd),
}

/// Whole tokens with up to 18 decimals ("10", "0.25") as base units.
pub(crate) fn amount(s: &str) -> Result<U256, MarketError> {
    let bad = || MarketError::Format(format!("invalid amount {s:?}: tokens with up to 18 decimals, e.g. 10 or 0.25"));
    let (int, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if frac.len() > 18 || (int.is_empty() && frac.is_empty()) || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let digits = format!("{int}{frac:0<18}");
    U256::from_str_radix(&digits, 10).map_err(|_| bad())
}

pub(crate) fn address(s: &str) -> Result<Address, MarketError> {
    s.trim().parse().map_err(|e| MarketError::Format(format!("invalid address {s:?}: {e}")))
}

pub(crate) fn format_err(e: impl std::fmt::Display) -> MarketError {
    MarketError::Format(e.to_string())
}

pub(crate) fn print(json_out: bool, j: serde_json::Value, line: String) {
    if json_out {
        outln!("{j}");
    } else {
        outln!("{line}");
    }
}

impl Node {
    /// The sender's key: from the keystore (password from `ZKINFER_KEYSTORE_PASSWORD` or a
    /// prompt) or the private key. When both are set, the one given on the command line wins
    /// over the one from the environment; both on the command line is an error.
    pub(crate) fn signer(&self) -> Result<PrivateKeySigner, MarketError> {
        let from_env = |var: &str, v: &str| std::env::var_os(var).is_some_and(|e| e == v);
        let keystore = match (&self.keystore, &self.private_key) {
            (Some(ks), None) => Some(ks),
            (None, Some(_)) => None,
            (Some(ks), Some(pk)) => match (from_env("ZKINFER_KEYSTORE", &ks.to_string_lossy()), from_env("ZKINFER_PRIVATE_KEY", pk)) {
                (false, true) => Some(ks),
                (true, false) => None,
                _ => return Err(MarketError::Format("both --keystore and --private-key given: pass one".into())),
            },
            (None, None) => return Err(MarketError::Format("no signer: pass --private-key (or set ZKINFER_PRIVATE_KEY) or --keystore (or set ZKINFER_KEYSTORE)".into())),
        };
        match (keystore, &self.private_key) {
            (Some(path), _) => zkinfer_market::signer::from_keystore(path, &keystore_password(path)?),
            (None, Some(key)) => zkinfer_market::signer::from_private_key(key),
            (None, None) => Err(MarketError::Format("no signer".into())),
        }
    }

    /// Connect to the node as [`Node::signer`].
    pub(crate) async fn connection(&self) -> Result<Connection, MarketError> {
        Connection::connect_signer(&self.rpc_url, self.signer()?).await
    }
}

/// The keystore's password: `ZKINFER_KEYSTORE_PASSWORD`, else typed (not echoed) when stdin is a
/// terminal; never read from a pipe, so a script without the variable fails instead of hanging.
fn keystore_password(path: &std::path::Path) -> Result<String, MarketError> {
    if let Ok(p) = std::env::var("ZKINFER_KEYSTORE_PASSWORD") {
        return Ok(p);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(MarketError::Format(format!("{}: set ZKINFER_KEYSTORE_PASSWORD to the keystore's password (no terminal to ask on)", path.display())));
    }
    rpassword::prompt_password(format!("password for {}: ", path.display())).map_err(|e| MarketError::Format(format!("cannot read the password: {e}")))
}

pub(crate) async fn connect(n: &Node) -> Result<(Connection, Deployment), MarketError> {
    let c = n.connection().await?;
    let d = Deployment::load(&n.deployment)?;
    c.check_chain(&d).await?;
    Ok((c, d))
}

/// Run a market command (errors are one line; exit code 2 as for every other command).
pub fn run(cmd: MarketCmd) -> Result<ExitCode, MarketError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(format_err)?;
    rt.block_on(run_async(cmd))
}

async fn run_async(cmd: MarketCmd) -> Result<ExitCode, MarketError> {
    match cmd {
        MarketCmd::Dev { deployment, anvil_bin } => dev(deployment, anvil_bin).await?,
        MarketCmd::Tournament(cmd) => crate::prediction_cli::run(cmd).await?,
        MarketCmd::Deploy { node, unbonding_delay, bond_bps, slash_bps } => {
            let c = node.connection().await?;
            let d = c.deploy_market(MarketParams { unbonding_delay, bond_bps, slash_bps }).await?;
            d.save(&node.deployment)?;
            print(node.json, serde_json::to_value(&d).expect("serializable"), format!("deployed on chain {}: token {}, registry {}, inference market {}; wrote {}", d.chain_id, d.token, d.registry, d.inference, node.deployment.display()));
        }
        MarketCmd::Register { node, sol_code_path, vk_path, uri, encoding, stake } => {
            let (c, d) = connect(&node).await?;
            let vk = zkinfer::VerifyingKeyFile::load(&vk_path).map_err(format_err)?;
            let sol = std::fs::read_to_string(&sol_code_path).map_err(|e| MarketError::Format(format!("cannot read {}: {e}", sol_code_path.display())))?;
            let compiled = zkinfer::verifier::evm::CompiledVerifier::new(&sol).map_err(MarketError::Format)?;
            let commitment = zkinfer::prover::commitment_hex(&vk.commitment());
            if compiled.model_commitment != commitment {
                return Err(MarketError::Format(format!("{} was generated for model {}, the verifying key is {commitment}", sol_code_path.display(), compiled.model_commitment)));
            }
            let encoding: FixedBytes<32> = match encoding {
                Some(e) if e.starts_with("0x") => e.parse().map_err(|e| MarketError::Format(format!("invalid --encoding: {e}")))?,
                Some(path) => {
                    let enc = zkinfer_market::prediction::FeatureEncoding::load(std::path::Path::new(&path))?;
                    enc.check_statement(vk.statement()).map_err(|e| MarketError::Format(format!("{}: {e}", vk_path.display())))?;
                    enc.id()
                }
                None => FixedBytes::ZERO,
            };
            let layout = zkinfer_market::layout_for(vk.statement(), encoding)?;
            let verifier = c.deploy_verifier(&compiled).await?;
            let (id, tx) = c.register(&d, verifier, layout, &uri).await?;
            let staked = match stake {
                Some(a) => Some(c.stake(&d, id, amount(&a)?).await?),
                None => None,
            };
            print(
                node.json,
                json!({ "model": id.to_string(), "verifier": verifier.to_string(), "commitment": commitment, "register_gas": tx.gas_used, "stake_gas": staked.as_ref().map(|t| t.gas_used) }),
                format!("registered model {id} (commitment {commitment}, verifier {verifier}): {} gas{}", tx.gas_used, staked.map(|t| format!("; staked: {} gas", t.gas_used)).unwrap_or_default()),
            );
        }
        MarketCmd::Stake { node, model, amount: a } => {
            let (c, d) = connect(&node).await?;
            let tx = c.stake(&d, U256::from(model), amount(&a)?).await?;
            print(node.json, json!({ "tx": tx.hash, "gas": tx.gas_used }), format!("staked {a} on model {model}: {} gas", tx.gas_used));
        }
        MarketCmd::Mint { node, to, amount: a } => {
            let (c, d) = connect(&node).await?;
            let to = match to {
                Some(t) => address(&t)?,
                None => c.address,
            };
            let tx = c.mint(&d, to, amount(&a)?).await?;
            print(node.json, json!({ "tx": tx.hash, "gas": tx.gas_used }), format!("minted {a} to {to}: {} gas", tx.gas_used));
        }
        MarketCmd::Request { node, model, compiled_circuit, data, payment, deadline_secs } => {
            let (c, d) = connect(&node).await?;
            let compiled = zkinfer::CompiledModel::load(&compiled_circuit).map_err(format_err)?;
            let data = zkinfer::InputData::load(&data).map_err(format_err)?;
            let inputs = zkinfer_market::operator::request_inputs(&compiled, &data)?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(format_err)?.as_secs();
            let (id, tx) = c.request(&d, U256::from(model), inputs, amount(&payment)?, now + deadline_secs).await?;
            print(node.json, json!({ "request": id.to_string(), "gas": tx.gas_used, "tx": tx.hash }), format!("request {id} to model {model}: {} gas", tx.gas_used));
        }
        MarketCmd::Fulfil { node, request, compiled_circuit, pk_path, srs_path, data } => {
            let (c, d) = connect(&node).await?;
            let id = U256::from(request);
            c.check_fulfillable(&d, id).await?;
            let compiled = zkinfer::CompiledModel::load(&compiled_circuit).map_err(format_err)?;
            let pk = zkinfer::ProvingKeyFile::load(&pk_path).map_err(format_err)?;
            let srs = zkinfer::prover::load_srs(&srs_path, compiled.settings.run_args.logrows).map_err(format_err)?;
            let private = data.map(|p| zkinfer::InputData::load(&p)).transpose().map_err(format_err)?;
            let onchain = c.requested_inputs(&d, id).await?;
            let w = zkinfer_market::operator::witness_for_request(&compiled, &onchain, private.as_ref())?;
            let binding = c.binding(&d, id, c.address).await?;
            let binding = zkinfer_market::layout::field(&binding)?;
            let t = std::time::Instant::now();
            let proof = zkinfer::prove(&compiled, &w, &pk, &srs, binding).map_err(format_err)?;
            let prove_s = t.elapsed().as_secs_f64();
            let (ins, outs) = zkinfer_market::split_public_values(&pk.header.statement, &proof.instances().map_err(format_err)?)?;
            let tx = c.fulfil(&d, id, ins, outs, proof.proof_bytes().map_err(format_err)?).await?;
            print(
                node.json,
                json!({ "request": request, "gas": tx.gas_used, "tx": tx.hash, "prove_seconds": prove_s, "outputs": w.rescaled_outputs }),
                format!("fulfilled request {request} (proved in {prove_s:.2} s): {} gas; outputs {:?}", tx.gas_used, w.rescaled_outputs),
            );
        }
        MarketCmd::Reclaim { node, request } => {
            let (c, d) = connect(&node).await?;
            let tx = c.reclaim(&d, U256::from(request)).await?;
            print(node.json, json!({ "tx": tx.hash, "gas": tx.gas_used }), format!("reclaimed request {request}: {} gas", tx.gas_used));
        }
        MarketCmd::Status { node, request } => {
            let (c, d) = connect(&node).await?;
            let r = c.request_state(&d, U256::from(request)).await?;
            let status = ["none", "open", "fulfilled", "reclaimed"].get(r.status as usize).copied().unwrap_or("unknown");
            print(
                node.json,
                json!({ "request": request, "status": status, "model": r.modelId.to_string(), "client": r.client.to_string(), "deadline": r.deadline, "payment": r.payment.to_string(), "bond": r.bond.to_string() }),
                format!("request {request}: {status}, model {}, client {}, payment {}, bond {}, deadline {}", r.modelId, r.client, r.payment, r.bond, r.deadline),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `zkinfer operator`: the service until SIGINT / SIGTERM.
pub fn operator(config: &std::path::Path) -> Result<ExitCode, MarketError> {
    let config = zkinfer_market::service::Config::load(config)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(format_err)?;
    rt.block_on(async {
        let running = zkinfer_market::service::start(config).await?;
        eprintln!("operator service listening on http://{} (Ctrl-C to stop)", running.local_addr);
        wait_for_shutdown().await;
        eprintln!("stopping: finishing the jobs in hand");
        running.stop().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// `market dev`: anvil + a deployed market until interrupted.
async fn dev(deployment: PathBuf, anvil_bin: Option<PathBuf>) -> Result<(), MarketError> {
    use zkinfer::verifier::rpc::{Anvil, ANVIL_DEV_KEY};
    let bin = anvil_bin.or_else(Anvil::bundled_binary).ok_or_else(|| MarketError::Format("no anvil: run `npm ci --prefix solidity` or pass --anvil-bin".into()))?;
    let node = Anvil::start(&bin, true).map_err(MarketError::Format)?;
    let c = Connection::connect(&node.url, ANVIL_DEV_KEY).await?;
    let d = c.deploy_market(MarketParams::default()).await?;
    d.save(&deployment)?;
    outln!("local market on {} (chain {}), wrote {}", node.url, d.chain_id, deployment.display());
    outln!("  token {}\n  registry {}\n  inference market {}", d.token, d.registry, d.inference);
    outln!("dev account (10,000 ETH; mint tokens with `zkinfer market mint`): {} key {ANVIL_DEV_KEY}", c.address);
    outln!("Ctrl-C to stop");
    wait_for_shutdown().await;
    drop(node);
    outln!("stopped");
    Ok(())
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
