//! `zkinfer market …` for the prediction game: a tournament's feature encoding, its prediction
//! market, rounds (open, trade, sign and resolve the outcome, settle, claim) and what they show
//! (a round's market and metamodel, the leaderboard). One library call
//! ([`zkinfer_market::prediction`]) each.

use crate::market_cli::{address, amount, connect, format_err, print, Node};
use alloy::primitives::{Bytes, U256};
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;
use zkinfer_market::prediction::{FeatureEncoding, TournamentParams};
use zkinfer_market::MarketError;

#[derive(Subcommand)]
pub enum TournamentCmd {
    /// Write a tournament's feature encoding (shape, scale, packing range) and print its id.
    Encoding {
        /// Feature tensor shape, e.g. 1,64.
        #[arg(long, value_delimiter = ',')]
        shape: Vec<usize>,
        /// Fixed-point scale of the features (value ≈ integer / 2^scale).
        #[arg(long, default_value_t = 7)]
        scale: u32,
        /// Packing range of the quantized features, lo,hi (the circuits' lookup_range).
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true, default_value = "-4096,4095")]
        range: Vec<i64>,
        #[arg(short = 'O', long = "output", default_value = "encoding.json")]
        output: PathBuf,
    },
    /// Deploy a tournament's prediction market on the deployment's registry (recorded in the
    /// deployment file); the sender owns it and may open rounds.
    DeployTournament {
        #[command(flatten)]
        node: Node,
        /// The feature encoding file (`market encoding`).
        #[arg(long)]
        encoding: PathBuf,
        /// K, the number of outcomes (2..16).
        #[arg(long)]
        outcomes: u64,
        /// Liquidity b in tokens: a trade's payoff lies in [-2b, 2b]; a round's subsidy covers b(1 - 1/K).
        #[arg(long)]
        liquidity: String,
        /// Committee addresses, comma-separated.
        #[arg(long, value_delimiter = ',')]
        committee: Vec<String>,
        /// Signatures needed to resolve a round.
        #[arg(long)]
        threshold: u64,
        /// Least collateral per trade, in tokens.
        #[arg(long, default_value = "0")]
        min_collateral: String,
    },
    /// Open a round on committed features (as a funder of the prediction market).
    Open {
        #[command(flatten)]
        node: Node,
        /// The features' Poseidon commitment (0x…); or give -M and -D to compute it.
        #[arg(long)]
        features_commitment: Option<String>,
        /// A model compiled for the tournament encoding, to compute the commitment of -D.
        #[arg(short = 'M', long = "compiled-circuit")]
        compiled_circuit: Option<PathBuf>,
        /// The round's features (EZKL input JSON).
        #[arg(short = 'D', long = "data")]
        data: Option<PathBuf>,
        /// Where traders find the features.
        #[arg(long, default_value = "")]
        uri: String,
        /// Subsidy in tokens (default: the least the market takes).
        #[arg(long)]
        subsidy: Option<String>,
        /// Seconds of trading from now.
        #[arg(long, default_value_t = 3600)]
        close_secs: u64,
        /// Seconds after the close during which the committee resolves.
        #[arg(long, default_value_t = 86_400)]
        resolve_secs: u64,
    },
    /// Run the operator's model on a round's features, prove the prediction bound to this trade
    /// and trade it.
    Trade {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        round: u64,
        #[arg(long)]
        model: u64,
        #[arg(short = 'M', long = "compiled-circuit", default_value = "model.compiled")]
        compiled_circuit: PathBuf,
        #[arg(long = "pk-path", default_value = "pk.key")]
        pk_path: PathBuf,
        #[arg(long = "srs-path", default_value = "kzg.srs")]
        srs_path: PathBuf,
        /// The round's features (EZKL input JSON).
        #[arg(short = 'D', long = "data")]
        data: PathBuf,
        /// Refuse to escrow more than this many tokens.
        #[arg(long)]
        max_collateral: Option<String>,
    },
    /// Sign a round's outcome as a committee member (prints the signature).
    SignOutcome {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        round: u64,
        #[arg(long)]
        outcome: u64,
    },
    /// Resolve a round with a threshold of committee signatures.
    Resolve {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        round: u64,
        #[arg(long)]
        outcome: u64,
        /// Committee signatures (0x…, from `market sign-outcome`), comma-separated.
        #[arg(long, value_delimiter = ',')]
        signatures: Vec<String>,
    },
    /// Settle a resolved round (or refund a void one); anyone may call it.
    Settle {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        round: u64,
    },
    /// Withdraw the sender's credits from the prediction market.
    Claim {
        #[command(flatten)]
        node: Node,
    },
    /// A round: phase, schedule, trades, market and metamodel.
    Round {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        round: u64,
    },
    /// Every model's score: cumulative payoff, moving average, trades.
    Leaderboard {
        #[command(flatten)]
        node: Node,
    },
}

/// 1e18 fixed point as a percentage with one decimal.
fn percent(v: &U256) -> String {
    let tenths = (*v + U256::from(5u64) * U256::from(10u64).pow(U256::from(14))) / U256::from(10u64).pow(U256::from(15));
    format!("{}.{}", tenths / U256::from(10), tenths % U256::from(10))
}

fn percents(p: &[U256]) -> String {
    p.iter().map(percent).collect::<Vec<_>>().join(" ")
}

fn now() -> Result<u64, MarketError> {
    Ok(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(format_err)?.as_secs())
}

pub async fn run(cmd: TournamentCmd) -> Result<(), MarketError> {
    match cmd {
        TournamentCmd::Encoding { shape, scale, range, output } => {
            let [lo, hi] = range[..] else { return Err(MarketError::Format("--range takes two integers lo,hi".into())) };
            let e = FeatureEncoding { shape, scale, range: (lo, hi) };
            e.save(&output)?;
            let e = FeatureEncoding::load(&output)?;
            outln!("{}", json!({ "encoding": e.id().to_string(), "description": e.describe(), "path": output.display().to_string() }));
        }
        TournamentCmd::DeployTournament { node, encoding, outcomes, liquidity, committee, threshold, min_collateral } => {
            let (c, mut d) = connect(&node).await?;
            let enc = FeatureEncoding::load(&encoding)?;
            let committee = committee.iter().map(|a| address(a)).collect::<Result<Vec<_>, _>>()?;
            let p = TournamentParams { outcomes, liquidity: amount(&liquidity)?, encoding: enc.id(), committee, threshold, min_collateral: amount(&min_collateral)? };
            let at = c.deploy_prediction(&mut d, &p).await?;
            d.save(&node.deployment)?;
            print(node.json, json!({ "prediction": at.to_string(), "encoding": enc.id().to_string() }), format!("prediction market {at} (encoding {}), recorded in {}", enc.id(), node.deployment.display()));
        }
        TournamentCmd::Open { node, features_commitment, compiled_circuit, data, uri, subsidy, close_secs, resolve_secs } => {
            let (c, d) = connect(&node).await?;
            let commitment = match (features_commitment, compiled_circuit, data) {
                (Some(h), _, _) => U256::from_str_radix(h.trim().trim_start_matches("0x"), 16).map_err(|e| MarketError::Format(format!("invalid --features-commitment: {e}")))?,
                (None, Some(m), Some(data)) => {
                    let compiled = zkinfer::CompiledModel::load(&m).map_err(format_err)?;
                    let features = zkinfer::InputData::load(&data).map_err(format_err)?;
                    match zkinfer_market::operator::request_inputs(&compiled, &features)?.as_slice() {
                        [h] => *h,
                        _ => return Err(MarketError::Format(format!("{}: the features must be hashed (compile with gen-settings --feature-encoding)", m.display()))),
                    }
                }
                _ => return Err(MarketError::Format("give --features-commitment, or -M <compiled circuit> and -D <features.json>".into())),
            };
            let subsidy = match subsidy {
                Some(s) => amount(&s)?,
                None => c.prediction(&d)?.minSubsidy().call().await.map_err(|e| MarketError::Format(format!("minSubsidy: {e}")))?,
            };
            let start = c.chain_time().await?.max(now()?);
            let (round, tx) = c.open_round(&d, commitment, &uri, subsidy, start + close_secs, start + close_secs + resolve_secs).await?;
            print(node.json, json!({ "round": round.to_string(), "features_commitment": format!("{commitment:#x}"), "gas": tx.gas_used, "tx": tx.hash }), format!("opened round {round} on features {commitment:#x}: {} gas", tx.gas_used));
        }
        TournamentCmd::Trade { node, round, model, compiled_circuit, pk_path, srs_path, data, max_collateral } => {
            let (c, d) = connect(&node).await?;
            let compiled = zkinfer::CompiledModel::load(&compiled_circuit).map_err(format_err)?;
            let pk = zkinfer::ProvingKeyFile::load(&pk_path).map_err(format_err)?;
            pk.check_model(&compiled).map_err(format_err)?;
            let srs = zkinfer::prover::load_srs(&srs_path, compiled.settings.run_args.logrows).map_err(format_err)?;
            let features = zkinfer::InputData::load(&data).map_err(format_err)?;
            let (round, model) = (U256::from(round), U256::from(model));
            let proven = c.prove_prediction(&d, round, model, &compiled, &pk, &srs, &features).await?;
            let max = max_collateral.map(|m| amount(&m)).transpose()?.unwrap_or(U256::MAX);
            let (collateral, tx) = c.trade(&d, round, model, &proven, max).await?;
            let market = c.prediction(&d)?.market(round).call().await.map_err(|e| MarketError::Format(format!("market: {e}")))?;
            print(
                node.json,
                json!({ "round": round.to_string(), "model": model.to_string(), "collateral": collateral.to_string(), "gas": tx.gas_used, "tx": tx.hash,
                        "prove_seconds": proven.prove_seconds, "prediction": proven.rescaled, "market": market.iter().map(|v| v.to_string()).collect::<Vec<_>>() }),
                format!("traded in round {round} as model {model} (proved in {:.2} s): escrowed {collateral}, {} gas; market now [{}] %", proven.prove_seconds, tx.gas_used, percents(&market)),
            );
        }
        TournamentCmd::SignOutcome { node, round, outcome } => {
            let (c, d) = connect(&node).await?;
            let sig = c.sign_outcome(&d, &node.signer()?, U256::from(round), outcome).await?;
            print(node.json, json!({ "round": round, "outcome": outcome, "signer": c.address.to_string(), "signature": sig.to_string() }), sig.to_string());
        }
        TournamentCmd::Resolve { node, round, outcome, signatures } => {
            let (c, d) = connect(&node).await?;
            let sigs = signatures
                .iter()
                .map(|s| s.trim().parse::<Bytes>().map_err(|e| MarketError::Format(format!("invalid signature {s:?}: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let tx = c.resolve(&d, U256::from(round), outcome, sigs).await?;
            print(node.json, json!({ "round": round, "outcome": outcome, "gas": tx.gas_used, "tx": tx.hash }), format!("resolved round {round} with outcome {outcome}: {} gas", tx.gas_used));
        }
        TournamentCmd::Settle { node, round } => {
            let (c, d) = connect(&node).await?;
            let tx = c.settle(&d, U256::from(round)).await?;
            print(node.json, json!({ "round": round, "gas": tx.gas_used, "tx": tx.hash }), format!("settled round {round}: {} gas", tx.gas_used));
        }
        TournamentCmd::Claim { node } => {
            let (c, d) = connect(&node).await?;
            let (amount, tx) = c.claim(&d).await?;
            print(node.json, json!({ "amount": amount.to_string(), "gas": tx.gas_used, "tx": tx.hash }), format!("claimed {amount}: {} gas", tx.gas_used));
        }
        TournamentCmd::Round { node, round } => {
            let (c, d) = connect(&node).await?;
            let r = c.round(&d, U256::from(round)).await?;
            let trades = c.trades(&d, U256::from(round)).await?;
            let mut line = format!(
                "round {round}: {}, features {:#x}, close {}, resolve by {}, {} trade(s), subsidy {}, collateral {}\n  market    [{}] %\n  metamodel [{}] % (weight {})",
                r.phase, r.features_commitment, r.close, r.resolve_by, r.trades, r.subsidy, r.collateral, percents(&r.market), percents(&r.metamodel), r.metamodel_weight
            );
            for t in &trades {
                line.push_str(&format!("\n  trade {}: model {} by {}, collateral {}, [{}] %", t.index, t.model, t.operator, t.collateral, percents(&t.probabilities)));
            }
            let dec = |p: &[U256]| p.iter().map(|v| v.to_string()).collect::<Vec<_>>();
            let j = json!({
                "round": { "round": r.round, "phase": r.phase, "features_commitment": format!("{:#x}", r.features_commitment), "sponsor": r.sponsor.to_string(),
                           "close": r.close, "resolve_by": r.resolve_by, "outcome": r.outcome, "trades": r.trades, "subsidy": r.subsidy.to_string(),
                           "collateral": r.collateral.to_string(), "market": dec(&r.market), "metamodel": dec(&r.metamodel), "metamodel_weight": r.metamodel_weight.to_string() },
                "trades": trades.iter().map(|t| json!({ "index": t.index, "operator": t.operator.to_string(), "model": t.model.to_string(),
                                                        "collateral": t.collateral.to_string(), "probabilities": dec(&t.probabilities) })).collect::<Vec<_>>(),
            });
            print(node.json, j, line);
        }
        TournamentCmd::Leaderboard { node } => {
            let (c, d) = connect(&node).await?;
            let board = c.leaderboard(&d).await?;
            let mut line = String::from("model  cumulative payoff  moving average  trades");
            for s in &board {
                line.push_str(&format!("\n{:>5}  {:>17}  {:>14}  {:>6}", s.model, s.cumulative, s.ema, s.trades));
            }
            let j = board.iter().map(|s| json!({ "model": s.model.to_string(), "cumulative": s.cumulative.to_string(), "ema": s.ema.to_string(), "trades": s.trades })).collect::<Vec<_>>();
            print(node.json, json!({ "leaderboard": j }), line);
        }
    }
    Ok(())
}
