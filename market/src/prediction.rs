//! The prediction game from Rust: deploy a tournament's `PredictionMarket`, open rounds on
//! committed features, trade proven predictions, resolve with committee signatures, settle,
//! claim, and read the round's market, metamodel and the models' leaderboard.
//!
//! A round's features are committed by the Poseidon hash of their packed quantized values under
//! the tournament's [`FeatureEncoding`]; every trading model is compiled for that encoding, so
//! the same features give every model the same input hash, and a trade's proof is checked
//! against the round's commitment (MARKET.md, "Feature encoding of a tournament").

use crate::bindings::PredictionMarket;
use crate::{revert, rpc, Connection, Deployment, MarketError, Result, Tx};
use alloy::primitives::{keccak256, Address, Bytes, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use serde::{Deserialize, Serialize};
use std::path::Path;
use zkinfer_onnx::artifacts::CompiledModel;
use zkinfer_onnx::data::InputData;
use zkinfer_onnx::settings::{RunArgs, Visibility};
use zkinfer_prover::Statement;

/// What every model of one tournament agrees on about its input: the feature tensor's shape,
/// its fixed-point scale (value ≈ integer / 2^scale) and the packing range of the hashed
/// features (the circuit's `lookup_range`, which decides the slot width of the packing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureEncoding {
    pub shape: Vec<usize>,
    pub scale: u32,
    pub range: (i64, i64),
}

impl FeatureEncoding {
    /// The tournament's encoding id (`ModelRegistry.Layout.encoding`, the `PredictionMarket`
    /// constructor's `encoding`): keccak256 of the canonical description
    /// `zkinfer/feature-encoding/v1 shape [1,64] scale 7 range [-4096,4095]`.
    pub fn id(&self) -> B256 {
        keccak256(self.describe().as_bytes())
    }

    pub fn describe(&self) -> String {
        let shape = self.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(",");
        format!("zkinfer/feature-encoding/v1 shape [{shape}] scale {} range [{},{}]", self.scale, self.range.0, self.range.1)
    }

    pub fn load(path: &Path) -> Result<FeatureEncoding> {
        let text = std::fs::read_to_string(path).map_err(|e| MarketError::Format(format!("cannot read {}: {e}", path.display())))?;
        let e: FeatureEncoding = serde_json::from_str(&text)
            .map_err(|e| MarketError::Format(format!("{}: not a feature encoding ({{\"shape\": [1, 64], \"scale\": 7, \"range\": [-4096, 4095]}}): {e}", path.display())))?;
        if e.range.0 >= e.range.1 || e.shape.is_empty() || e.shape.contains(&0) {
            return Err(MarketError::Format(format!("{}: an encoding needs a non-empty shape and range lo < hi", path.display())));
        }
        Ok(e)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        zkinfer_onnx::settings::write_json_atomic(path, self).map_err(|e| MarketError::Format(e.to_string()))
    }

    /// Settings that compile a model for this encoding: hashed input at the encoding's scale,
    /// the encoding's range (`gen-settings --feature-encoding`).
    pub fn apply(&self, ra: &mut RunArgs) {
        ra.input_visibility = Visibility::Hashed;
        ra.input_scale = self.scale;
        ra.lookup_range = self.range;
    }

    /// Refuse a compiled model that does not take features in this encoding, naming the
    /// difference.
    pub fn check_compiled(&self, c: &CompiledModel) -> Result<()> {
        let g = &c.graph;
        let shape = match g.inputs.as_slice() {
            [id] => g.values[*id].shape.clone(),
            ids => return Err(MarketError::Format(format!("a tournament model takes one feature tensor; this one takes {}", ids.len()))),
        };
        let ra = &c.settings.run_args;
        self.compare(&shape, ra.input_visibility, ra.input_scale, ra.lookup_range)
    }

    /// As [`FeatureEncoding::check_compiled`] from a verifying key's statement (which does not
    /// record the input's shape: a model of another shape gets another input hash, so its
    /// proofs fail against the round's commitment anyway).
    pub fn check_statement(&self, st: &Statement) -> Result<()> {
        let scale = match st.input_scales.as_slice() {
            [s] => *s,
            s => return Err(MarketError::Format(format!("a tournament model takes one feature tensor; this one takes {}", s.len()))),
        };
        self.compare(&self.shape, st.visibility.input, scale, (st.packing.lo, st.packing.hi))
    }

    fn compare(&self, shape: &[usize], vis: Visibility, scale: u32, range: (i64, i64)) -> Result<()> {
        let fix = "compile it with `zkinfer gen-settings --feature-encoding <encoding.json>` (and no calibrate-settings after it)";
        if vis != Visibility::Hashed {
            return Err(MarketError::Format(format!("the model's input is {vis:?}, a tournament needs hashed features: {fix}")));
        }
        if shape != self.shape.as_slice() {
            return Err(MarketError::Format(format!("the model takes features of shape {shape:?}, the tournament {:?}", self.shape)));
        }
        if scale != self.scale {
            return Err(MarketError::Format(format!("the model quantizes features at scale {scale}, the tournament at {}: {fix}", self.scale)));
        }
        if range != self.range {
            return Err(MarketError::Format(format!("the model packs features in [{}, {}], the tournament in [{}, {}]: {fix}", range.0, range.1, self.range.0, self.range.1)));
        }
        Ok(())
    }

    /// The round commitment of `features` (EZKL input JSON): the Poseidon hash a model compiled
    /// for this encoding computes of them.
    pub fn commitment(&self, c: &CompiledModel, features: &InputData) -> Result<U256> {
        self.check_compiled(c)?;
        match crate::operator::request_inputs(c, features)?.as_slice() {
            [h] => Ok(*h),
            v => Err(MarketError::Format(format!("expected one feature hash, the model gives {} values", v.len()))),
        }
    }
}

/// Parameters of a tournament (`PredictionMarket`'s constructor).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TournamentParams {
    /// K outcomes (2..16).
    pub outcomes: u64,
    /// Liquidity b in token base units: a trade's payoff lies in [-2b, 2b].
    pub liquidity: U256,
    pub encoding: B256,
    pub committee: Vec<Address>,
    pub threshold: u64,
    pub min_collateral: U256,
}

/// A round as the contract reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoundView {
    pub round: u64,
    pub phase: String,
    pub features_commitment: U256,
    pub sponsor: Address,
    pub close: u64,
    pub resolve_by: u64,
    /// Meaningful once resolved.
    pub outcome: u8,
    pub trades: u8,
    pub subsidy: U256,
    pub collateral: U256,
    /// The market's probabilities after the last trade (1e18 fixed point).
    pub market: Vec<U256>,
    /// The collateral-weighted mean of the trades' predictions (1e18) and its total weight.
    pub metamodel: Vec<U256>,
    pub metamodel_weight: U256,
}

/// One trade of a round.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TradeView {
    pub index: u64,
    pub operator: Address,
    pub model: U256,
    pub collateral: U256,
    pub probabilities: Vec<U256>,
}

/// A model's leaderboard entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScoreView {
    pub model: U256,
    /// Sum of settled payoffs (token base units).
    pub cumulative: alloy::primitives::I256,
    /// Moving average of the payoffs per trade.
    pub ema: alloy::primitives::I256,
    pub trades: u64,
}

/// Names of `PredictionMarket.Phase`.
pub const PHASES: [&str; 7] = ["none", "trading", "closed", "resolved", "void", "settled", "refunded"];

/// A trade's proof and the prediction it proves (the outputs segment of its public values).
pub struct ProvenPrediction {
    pub prediction: Vec<U256>,
    pub proof: Vec<u8>,
    pub prove_seconds: f64,
    /// The model's outputs as real numbers (rescaled), for display.
    pub rescaled: Vec<Vec<f64>>,
}

impl Connection {
    fn prediction_address(d: &Deployment) -> Result<Address> {
        d.prediction.ok_or_else(|| MarketError::Format("this market deployment has no prediction market: run `zkinfer market deploy-tournament`".into()))
    }

    pub fn prediction(&self, d: &Deployment) -> Result<PredictionMarket::PredictionMarketInstance<&alloy::providers::DynProvider>> {
        Ok(PredictionMarket::new(Self::prediction_address(d)?, &self.provider))
    }

    /// Deploy a tournament's prediction market on the deployment's registry and token, owned by
    /// this signer (its first funder); records its address in `d`.
    pub async fn deploy_prediction(&self, d: &mut Deployment, p: &TournamentParams) -> Result<Address> {
        let m = PredictionMarket::deploy(&self.provider, d.registry, U256::from(p.outcomes), p.liquidity, p.encoding, p.committee.clone(), U256::from(p.threshold), p.min_collateral, self.address)
            .await
            .map_err(|e| revert("deploying PredictionMarket", e))?;
        d.prediction = Some(*m.address());
        Ok(*m.address())
    }

    /// Open a round on `features_commitment` (see [`FeatureEncoding::commitment`]) published at
    /// `uri`, funding it with `subsidy`; trading until `close`, resolution until `resolve_by`
    /// (unix seconds). Returns the round id.
    pub async fn open_round(&self, d: &Deployment, features_commitment: U256, uri: &str, subsidy: U256, close: u64, resolve_by: u64) -> Result<(U256, Tx)> {
        let pm = self.prediction(d)?;
        self.approve(d, *pm.address(), subsidy).await?;
        let r = self.send("open", pm.open(features_commitment, uri.to_string(), subsidy, close, resolve_by)).await?;
        let id = crate::event::<PredictionMarket::RoundOpened>(&r, "open")?.round;
        Ok((id, Tx::from(&r)))
    }

    /// The binding a trade's proof for (`round`, `model`) by `operator` must carry.
    pub async fn trade_binding(&self, d: &Deployment, round: U256, model: U256, operator: Address) -> Result<U256> {
        self.prediction(d)?.binding(round, model, operator).call().await.map_err(|e| revert("binding", e))
    }

    /// Prove that `compiled` predicts `prediction` from the round's features, bound to this
    /// signer's trade of `model` in `round`. The features must hash to the round's commitment.
    pub async fn prove_prediction(
        &self,
        d: &Deployment,
        round: U256,
        model: U256,
        compiled: &CompiledModel,
        pk: &zkinfer_prover::ProvingKeyFile,
        srs: &zkinfer_prover::Srs,
        features: &InputData,
    ) -> Result<ProvenPrediction> {
        let serving = self.registry(d).serving(model).call().await.map_err(|e| revert("serving", e))?;
        if serving.operator != self.address {
            return Err(MarketError::Format(format!("model {model} is operated by {}, not by this key ({}): only its operator trades it", serving.operator, self.address)));
        }
        let info = self.prediction(d)?.roundInfo(round).call().await.map_err(|e| revert("roundInfo", e))?;
        let fmt = |e: &dyn std::fmt::Display| MarketError::Format(e.to_string());
        let w = compiled.witness(features).map_err(|e| fmt(&e))?;
        let mine = crate::operator::input_segment(compiled, &w)?;
        if mine != [info.featuresCommitment] {
            return Err(MarketError::Format(format!(
                "these features do not hash to round {round}'s commitment {:#x} (other features, or a model not compiled for the tournament encoding)",
                info.featuresCommitment
            )));
        }
        let binding = crate::layout::field(&self.trade_binding(d, round, model, self.address).await?)?;
        let started = std::time::Instant::now();
        let proof = zkinfer_prover::prove(compiled, &w, pk, srs, binding).map_err(|e| fmt(&e))?;
        let prove_seconds = started.elapsed().as_secs_f64();
        let (_, prediction) = crate::split_public_values(&pk.header.statement, &proof.instances().map_err(|e| fmt(&e))?)?;
        Ok(ProvenPrediction { prediction, proof: proof.proof_bytes().map_err(|e| fmt(&e))?, prove_seconds, rescaled: w.rescaled_outputs })
    }

    /// The collateral a trade of `prediction` would escrow now.
    pub async fn quote(&self, d: &Deployment, round: U256, prediction: Vec<U256>) -> Result<U256> {
        Ok(self.prediction(d)?.quote(round, prediction).call().await.map_err(|e| revert("quote", e))?.collateral)
    }

    /// Trade `prediction` (proven by `proof`) as model `model`'s operator, escrowing at most
    /// `max_collateral`; returns the collateral escrowed.
    pub async fn trade(&self, d: &Deployment, round: U256, model: U256, p: &ProvenPrediction, max_collateral: U256) -> Result<(U256, Tx)> {
        let pm = self.prediction(d)?;
        let collateral = self.quote(d, round, p.prediction.clone()).await?;
        self.approve(d, *pm.address(), collateral).await?;
        let call = pm.trade_0(round, model, p.prediction.clone(), Bytes::from(p.proof.clone()), max_collateral);
        let r = self.send("trade", call).await?;
        let escrowed = crate::event::<PredictionMarket::Traded>(&r, "trade")?.collateral;
        Ok((escrowed, Tx::from(&r)))
    }

    /// A committee member's signature of `Outcome(round, outcome)` (EIP-712, this market's
    /// domain), 65 bytes r ‖ s ‖ v.
    pub async fn sign_outcome(&self, d: &Deployment, signer: &PrivateKeySigner, round: U256, outcome: u64) -> Result<Bytes> {
        let digest = self.prediction(d)?.outcomeDigest(round, U256::from(outcome)).call().await.map_err(|e| revert("outcomeDigest", e))?;
        let sig = signer.sign_hash_sync(&digest).map_err(|e| MarketError::Format(format!("signing the outcome: {e}")))?;
        Ok(Bytes::from(sig.as_bytes().to_vec()))
    }

    /// Resolve `round` with `outcome` and a threshold of committee signatures.
    pub async fn resolve(&self, d: &Deployment, round: U256, outcome: u64, signatures: Vec<Bytes>) -> Result<Tx> {
        Ok(Tx::from(&self.send("resolve", self.prediction(d)?.resolve(round, U256::from(outcome), signatures)).await?))
    }

    /// Settle `round` (every trade; a void round refunds every deposit).
    pub async fn settle(&self, d: &Deployment, round: U256) -> Result<Tx> {
        Ok(Tx::from(&self.send("settle", self.prediction(d)?.settle_0(round)).await?))
    }

    /// This signer's claimable credit in the prediction market.
    pub async fn credit(&self, d: &Deployment, who: Address) -> Result<U256> {
        self.prediction(d)?.credits(who).call().await.map_err(|e| revert("credits", e))
    }

    /// Withdraw this signer's credits; returns the amount.
    pub async fn claim(&self, d: &Deployment) -> Result<(U256, Tx)> {
        let amount = self.credit(d, self.address).await?;
        Ok((amount, Tx::from(&self.send("claim", self.prediction(d)?.claim()).await?)))
    }

    /// Round `round`: schedule, phase, market and metamodel.
    pub async fn round(&self, d: &Deployment, round: U256) -> Result<RoundView> {
        let pm = self.prediction(d)?;
        let r = pm.roundInfo(round).call().await.map_err(|e| revert("roundInfo", e))?;
        let phase = pm.phase(round).call().await.map_err(|e| revert("phase", e))?;
        let market = pm.market(round).call().await.map_err(|e| revert("market", e))?;
        let meta = pm.metamodel(round).call().await.map_err(|e| revert("metamodel", e))?;
        Ok(RoundView {
            round: round.to::<u64>(),
            phase: PHASES.get(phase as usize).copied().unwrap_or("unknown").to_string(),
            features_commitment: r.featuresCommitment,
            sponsor: r.sponsor,
            close: r.close,
            resolve_by: r.resolveBy,
            outcome: r.outcome,
            trades: r.tradeCount,
            subsidy: r.subsidy,
            collateral: r.collateral,
            market,
            metamodel: meta.probabilities,
            metamodel_weight: meta.weight,
        })
    }

    /// The trades of `round`, in order.
    pub async fn trades(&self, d: &Deployment, round: U256) -> Result<Vec<TradeView>> {
        let pm = self.prediction(d)?;
        let n = pm.roundInfo(round).call().await.map_err(|e| revert("roundInfo", e))?.tradeCount;
        let mut out = vec![];
        for i in 0..n as u64 {
            let t = pm.tradeOf(round, U256::from(i)).call().await.map_err(|e| revert("tradeOf", e))?;
            out.push(TradeView { index: i, operator: t.operator, model: t.modelId, collateral: t.collateral, probabilities: t.probabilities });
        }
        Ok(out)
    }

    /// Every registered model's score, best cumulative payoff first (models that never traded
    /// are left out).
    pub async fn leaderboard(&self, d: &Deployment) -> Result<Vec<ScoreView>> {
        let pm = self.prediction(d)?;
        let count = self.registry(d).modelCount().call().await.map_err(|e| revert("modelCount", e))?;
        let mut out = vec![];
        for id in 1..=count.to::<u64>() {
            let s = pm.score(U256::from(id)).call().await.map_err(|e| revert("score", e))?;
            if s.tradeCount > 0 {
                out.push(ScoreView { model: U256::from(id), cumulative: s.cumulative, ema: s.ema, trades: s.tradeCount });
            }
        }
        out.sort_by(|a, b| b.cumulative.cmp(&a.cumulative));
        Ok(out)
    }

    /// Advance a development chain's clock by `seconds` and mine a block (anvil / hardhat only).
    pub async fn dev_increase_time(&self, seconds: u64) -> Result<()> {
        use alloy::providers::Provider;
        let _: serde_json::Value = self.provider.raw_request("evm_increaseTime".into(), (seconds,)).await.map_err(|e| rpc("evm_increaseTime", e))?;
        let _: serde_json::Value = self.provider.raw_request("evm_mine".into(), ()).await.map_err(|e| rpc("evm_mine", e))?;
        Ok(())
    }

    /// The latest block's timestamp (the contracts' clock; a dev chain's may run ahead of ours).
    pub async fn chain_time(&self) -> Result<u64> {
        use alloy::providers::Provider;
        let b = self.provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await.map_err(|e| rpc("eth_getBlockByNumber", e))?;
        Ok(b.ok_or_else(|| MarketError::Format("the node has no latest block".into()))?.header.timestamp)
    }
}

/// Parse a private key (hex, with or without 0x) into a signer.
pub fn signer(key: &str) -> Result<PrivateKeySigner> {
    key.trim().trim_start_matches("0x").parse().map_err(|e| MarketError::Format(format!("invalid private key: {e}")))
}
