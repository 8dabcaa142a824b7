//! # zkinfer-market
//!
//! The zkinfer market from Rust, on any JSON-RPC chain (plain `http://`): bindings of the
//! contracts in `solidity/` ([`bindings`]), deployment of a market (registry, inference market,
//! a test token on development chains), and every flow of inference as a service — register and
//! stake a model from its verifying key, request an inference, fulfil it with a proof bound to
//! the request and the operator, reclaim an expired request — and the prediction game
//! ([`prediction`]): open a round, trade proven predictions, resolve, settle, leaderboard.
//!
//! Every transaction is simulated first (`eth_call`), so a call that would revert fails with
//! the contract's custom error decoded ([`MarketError::Reverted`]) instead of a mined failure.

pub mod bindings;
pub mod layout;
pub mod operator;
pub mod prediction;
pub mod service;
pub mod signer;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{TransactionReceipt, TransactionRequest};
use bindings::{InferenceMarket, ModelRegistry, TestToken};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub use layout::{layout_for, split_public_values};

/// What can go wrong talking to the market; every message is one line.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    #[error("cannot reach the node at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{what} reverted: {reason}")]
    Reverted { what: String, reason: String },
    #[error("{what} failed: {reason}")]
    Rpc { what: String, reason: String },
    #[error("{0}")]
    Format(String),
}

pub type Result<T, E = MarketError> = std::result::Result<T, E>;

/// The addresses of one market deployment (`market.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub chain_id: u64,
    pub token: Address,
    pub registry: Address,
    pub inference: Address,
    /// The tournament's prediction market (`zkinfer market deploy-tournament`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction: Option<Address>,
}

impl Deployment {
    pub fn save(&self, path: &Path) -> Result<()> {
        zkinfer_onnx::settings::write_json_atomic(path, self).map_err(|e| MarketError::Format(e.to_string()))
    }
    pub fn load(path: &Path) -> Result<Deployment> {
        let text = std::fs::read_to_string(path).map_err(|e| MarketError::Format(format!("cannot read {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| MarketError::Format(format!("{}: not a market deployment file: {e}", path.display())))
    }
}

/// Parameters of a new market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketParams {
    /// Seconds between a withdrawal request and the withdrawal.
    pub unbonding_delay: u64,
    /// Bond locked per request, in basis points of the payment.
    pub bond_bps: u64,
    /// Share of the bond paid to the client of an expired request, in basis points.
    pub slash_bps: u64,
}

impl Default for MarketParams {
    fn default() -> Self {
        MarketParams { unbonding_delay: 7 * 24 * 3600, bond_bps: 20_000, slash_bps: 5_000 }
    }
}

/// A mined transaction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Tx {
    pub hash: String,
    pub gas_used: u64,
}

impl From<&TransactionReceipt> for Tx {
    fn from(r: &TransactionReceipt) -> Tx {
        Tx { hash: r.transaction_hash.to_string(), gas_used: r.gas_used }
    }
}

/// A signer on a node.
#[derive(Clone)]
pub struct Connection {
    pub provider: DynProvider,
    pub address: Address,
    pub url: String,
}

fn rpc(what: &str, e: impl std::fmt::Display) -> MarketError {
    MarketError::Rpc { what: what.into(), reason: e.to_string() }
}

/// The first event `E` a receipt carries (`what` names the call in the error).
pub(crate) fn event<E: alloy::sol_types::SolEvent>(r: &TransactionReceipt, what: &str) -> Result<E> {
    r.inner
        .logs()
        .iter()
        .find_map(|l| l.log_decode::<E>().ok())
        .map(|e| e.inner.data)
        .ok_or_else(|| MarketError::Format(format!("{what}: no {} event in the receipt", E::SIGNATURE.split('(').next().unwrap_or("expected"))))
}

/// The contract error behind a failed call, decoded when it is one of the market's.
fn revert(what: &str, e: alloy::contract::Error) -> MarketError {
    let data = match &e {
        alloy::contract::Error::TransportError(t) => t.as_error_resp().and_then(|r| r.as_revert_data()),
        _ => None,
    };
    match data {
        Some(d) => MarketError::Reverted { what: what.into(), reason: bindings::decode_revert(&d).unwrap_or_else(|| format!("0x{}", hex::encode(&d))) },
        None => rpc(what, e),
    }
}

impl Connection {
    /// Connect to `url` signing with `private_key` (hex, with or without 0x); see
    /// [`Connection::connect_signer`] and [`Connection::connect_keystore`] for other signers.
    pub async fn connect(url: &str, private_key: &str) -> Result<Connection> {
        Connection::connect_signer(url, signer::from_private_key(private_key)?).await
    }

    /// Refuse a deployment made on another chain (a market file pointed at the wrong node).
    pub async fn check_chain(&self, d: &Deployment) -> Result<()> {
        let id = self.provider.get_chain_id().await.map_err(|e| rpc("eth_chainId", e))?;
        if id != d.chain_id {
            return Err(MarketError::Format(format!("the market deployment is on chain {}, but {} is chain {id}", d.chain_id, self.url)));
        }
        Ok(())
    }

    /// Simulate, then send a contract call and wait for its receipt.
    async fn send<P: Provider, D: alloy::contract::CallDecoder>(&self, what: &str, call: alloy::contract::CallBuilder<P, D>) -> Result<TransactionReceipt> {
        call.call_raw().await.map_err(|e| revert(what, e))?;
        let pending = call.send().await.map_err(|e| revert(what, e))?;
        let receipt = pending.get_receipt().await.map_err(|e| rpc(what, e))?;
        if !receipt.status() {
            return Err(MarketError::Reverted { what: what.into(), reason: format!("mined but reverted (state changed since the simulation), tx {}", receipt.transaction_hash) });
        }
        Ok(receipt)
    }

    async fn deploy_code(&self, what: &str, code: Vec<u8>) -> Result<Address> {
        let tx = TransactionRequest::default().with_deploy_code(Bytes::from(code));
        let pending = self.provider.send_transaction(tx).await.map_err(|e| rpc(what, e))?;
        let r = pending.get_receipt().await.map_err(|e| rpc(what, e))?;
        match (r.status(), r.contract_address) {
            (true, Some(a)) => Ok(a),
            _ => Err(MarketError::Reverted { what: what.into(), reason: format!("deployment failed after {} gas", r.gas_used) }),
        }
    }

    /// Deploy a market: a test token (development chains), the registry (owned by this signer)
    /// and the inference market, which the registry allows to lock and slash stake.
    pub async fn deploy_market(&self, p: MarketParams) -> Result<Deployment> {
        let token = TestToken::deploy(&self.provider).await.map_err(|e| revert("deploying TestToken", e))?;
        let registry = ModelRegistry::deploy(&self.provider, *token.address(), p.unbonding_delay, self.address).await.map_err(|e| revert("deploying ModelRegistry", e))?;
        let inference = InferenceMarket::deploy(&self.provider, *registry.address(), U256::from(p.bond_bps), U256::from(p.slash_bps))
            .await
            .map_err(|e| revert("deploying InferenceMarket", e))?;
        self.send("setMarket", registry.setMarket(*inference.address(), true)).await?;
        let chain_id = self.provider.get_chain_id().await.map_err(|e| rpc("eth_chainId", e))?;
        Ok(Deployment { chain_id, token: *token.address(), registry: *registry.address(), inference: *inference.address(), prediction: None })
    }

    /// Deploy a compiled verifier file's `Halo2Verifier` and `ZkinferVerifier`; returns the
    /// wrapper's address (the one the registry takes).
    pub async fn deploy_verifier(&self, c: &zkinfer_verifier::evm::CompiledVerifier) -> Result<Address> {
        let halo2 = self.deploy_code("deploying Halo2Verifier", c.verifier.bytecode.clone()).await?;
        let mut code = c.wrapper.bytecode.clone();
        code.extend(zkinfer_verifier::evm::address_word(halo2));
        self.deploy_code("deploying ZkinferVerifier", code).await
    }

    pub fn registry(&self, d: &Deployment) -> ModelRegistry::ModelRegistryInstance<&DynProvider> {
        ModelRegistry::new(d.registry, &self.provider)
    }
    pub fn inference(&self, d: &Deployment) -> InferenceMarket::InferenceMarketInstance<&DynProvider> {
        InferenceMarket::new(d.inference, &self.provider)
    }
    pub fn token(&self, d: &Deployment) -> TestToken::TestTokenInstance<&DynProvider> {
        TestToken::new(d.token, &self.provider)
    }

    /// Mint test tokens (development chains only: `TestToken` lets anyone mint).
    pub async fn mint(&self, d: &Deployment, to: Address, amount: U256) -> Result<Tx> {
        Ok(Tx::from(&self.send("mint", self.token(d).mint(to, amount)).await?))
    }

    /// Token balance of `who`.
    pub async fn balance(&self, d: &Deployment, who: Address) -> Result<U256> {
        self.token(d).balanceOf(who).call().await.map_err(|e| revert("balanceOf", e))
    }

    async fn approve(&self, d: &Deployment, spender: Address, amount: U256) -> Result<()> {
        let allowance = self.token(d).allowance(self.address, spender).call().await.map_err(|e| revert("allowance", e))?;
        if allowance < amount {
            self.send("approve", self.token(d).approve(spender, U256::MAX)).await?;
        }
        Ok(())
    }

    /// Register a model served by this signer; returns its id.
    pub async fn register(&self, d: &Deployment, verifier: Address, layout: ModelRegistry::Layout, uri: &str) -> Result<(U256, Tx)> {
        let r = self.send("register", self.registry(d).register(verifier, layout, uri.to_string())).await?;
        let id = event::<ModelRegistry::ModelRegistered>(&r, "register")?.id;
        Ok((id, Tx::from(&r)))
    }

    /// Stake `amount` on model `id` (approving the registry first if needed).
    pub async fn stake(&self, d: &Deployment, id: U256, amount: U256) -> Result<Tx> {
        self.approve(d, d.registry, amount).await?;
        Ok(Tx::from(&self.send("stake", self.registry(d).stake(id, amount)).await?))
    }

    /// Request an inference of `model` on `inputs` (the input segment of the public values),
    /// paying `payment` for an answer before `deadline` (unix seconds); returns the request id.
    pub async fn request(&self, d: &Deployment, model: U256, inputs: Vec<U256>, payment: U256, deadline: u64) -> Result<(U256, Tx)> {
        self.approve(d, d.inference, payment).await?;
        let r = self.send("request", self.inference(d).request(model, inputs, payment, deadline)).await?;
        let id = event::<InferenceMarket::Requested>(&r, "request")?.id;
        Ok((id, Tx::from(&r)))
    }

    /// The binding a proof answering request `id` by `operator` must carry.
    pub async fn binding(&self, d: &Deployment, id: U256, operator: Address) -> Result<U256> {
        self.inference(d).binding(id, operator).call().await.map_err(|e| revert("binding", e))
    }

    /// Fulfil request `id` with `outputs` and `proof` (made with [`Connection::binding`]).
    pub async fn fulfil(&self, d: &Deployment, id: U256, inputs: Vec<U256>, outputs: Vec<U256>, proof: Vec<u8>) -> Result<Tx> {
        Ok(Tx::from(&self.send("fulfil", self.inference(d).fulfil(id, inputs, outputs, Bytes::from(proof))).await?))
    }

    /// Refuse, before any proving, a fulfilment of request `id` by this signer that the market
    /// would revert: a request that is not open (`NotOpen`), whose model this signer does not
    /// operate (`NotOperator`) or whose deadline is behind the chain's latest block (`Expired`).
    pub async fn check_fulfillable(&self, d: &Deployment, id: U256) -> Result<InferenceMarket::Request> {
        let refused = |why: String| MarketError::Format(format!("fulfil refused before proving: {why}"));
        let r = self.request_state(d, id).await?;
        if r.status != 1 {
            let state = ["does not exist", "is open", "is already fulfilled", "was reclaimed"].get(r.status as usize).copied().unwrap_or("is not open");
            return Err(refused(format!("request {id} {state} (InferenceMarket.NotOpen)")));
        }
        let serving = self.registry(d).serving(r.modelId).call().await.map_err(|e| revert("serving", e))?;
        if serving.operator != self.address {
            return Err(refused(format!("model {} is operated by {}, not {} (InferenceMarket.NotOperator)", r.modelId, serving.operator, self.address)));
        }
        let time = self.chain_time().await?;
        if time > r.deadline {
            return Err(refused(format!("request {id} expired at {} (the chain's time is {time}; InferenceMarket.Expired): the client may reclaim it", r.deadline)));
        }
        Ok(r)
    }

    /// End an expired request: refund and bond share to its client.
    pub async fn reclaim(&self, d: &Deployment, id: U256) -> Result<Tx> {
        Ok(Tx::from(&self.send("reclaim", self.inference(d).reclaim(id)).await?))
    }

    /// The input segment request `id` was made with, from its `Requested` event.
    pub async fn requested_inputs(&self, d: &Deployment, id: U256) -> Result<Vec<U256>> {
        use alloy::sol_types::SolEvent;
        let filter = alloy::rpc::types::Filter::new()
            .address(d.inference)
            .event_signature(InferenceMarket::Requested::SIGNATURE_HASH)
            .topic1(alloy::primitives::B256::from(id))
            .from_block(0);
        let logs = self.provider.get_logs(&filter).await.map_err(|e| rpc("eth_getLogs", e))?;
        let log = logs.first().ok_or_else(|| MarketError::Format(format!("no request {id} on the market at {}", d.inference)))?;
        let ev = log.log_decode::<InferenceMarket::Requested>().map_err(|e| MarketError::Format(format!("malformed Requested event: {e}")))?;
        Ok(ev.inner.data.inputs)
    }

    /// The on-chain state of request `id`.
    pub async fn request_state(&self, d: &Deployment, id: U256) -> Result<InferenceMarket::Request> {
        self.inference(d).requestOf(id).call().await.map_err(|e| revert("requestOf", e))
    }
}
