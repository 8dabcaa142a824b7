//! A real JSON-RPC node as a [`Chain`](crate::evm::Chain) (alloy), and a local anvil started and
//! stopped by PID for tests and reports.
//!
//! Transactions are signed locally with the given private key and sent with an explicit gas limit
//! of 16M (so a reverting call is mined, and its gas is measured, instead of failing estimation).
//! Only `http://` URLs are supported (no TLS stack is built in).

use crate::evm::{verify_proof_calldata, Call, Chain, TX_GAS_LIMIT};
use halo2_proofs::halo2curves::bn256::Fr;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A JSON-RPC node reached over HTTP; sends signed transactions when built with a private key.
pub struct RpcChain {
    rt: tokio::runtime::Runtime,
    provider: DynProvider,
    url: String,
    can_send: bool,
}

fn parse_url(url: &str) -> Result<alloy::transports::http::reqwest::Url, String> {
    if url.starts_with("https://") {
        return Err(format!("{url}: https RPC endpoints are not supported by this build (plain http only, e.g. a local node or a tunnel)"));
    }
    url.parse().map_err(|e| format!("invalid RPC URL {url:?}: {e}"))
}

impl RpcChain {
    /// Connect to `url`; with `private_key` (hex, with or without 0x) transactions are signed and
    /// sent, without it only calls (`eth_call`, `eth_estimateGas`) are possible.
    pub fn connect(url: &str, private_key: Option<&str>) -> Result<RpcChain, String> {
        let parsed = parse_url(url)?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| format!("tokio runtime: {e}"))?;
        let provider = match private_key {
            Some(key) => {
                let signer: PrivateKeySigner = key.trim().trim_start_matches("0x").parse().map_err(|e| format!("invalid private key: {e}"))?;
                ProviderBuilder::new().wallet(EthereumWallet::from(signer)).connect_http(parsed).erased()
            }
            None => ProviderBuilder::new().connect_http(parsed).erased(),
        };
        let chain = RpcChain { rt, provider, url: url.to_string(), can_send: private_key.is_some() };
        chain.rt.block_on(chain.provider.get_chain_id()).map_err(|e| format!("cannot reach the node at {url}: {e}"))?;
        Ok(chain)
    }

    fn send(&self, tx: TransactionRequest) -> Result<(bool, u64, Option<Address>), String> {
        if !self.can_send {
            return Err("sending a transaction needs --private-key (the sender's key)".into());
        }
        let tx = tx.with_gas_limit(TX_GAS_LIMIT);
        let receipt = self.rt.block_on(async {
            let pending = self.provider.send_transaction(tx).await.map_err(|e| e.to_string())?;
            pending.get_receipt().await.map_err(|e| e.to_string())
        });
        let receipt = receipt.map_err(|e| format!("transaction failed at {}: {e}", self.url))?;
        Ok((receipt.status(), receipt.gas_used, receipt.contract_address))
    }

    /// `eth_call`: success and return data (revert data when it reverts, if the node returns it).
    pub fn view(&self, to: Address, data: Vec<u8>) -> Result<(bool, Vec<u8>), String> {
        let tx = TransactionRequest::default().with_to(to).with_input(Bytes::from(data)).with_gas_limit(TX_GAS_LIMIT);
        match self.rt.block_on(async { self.provider.call(tx).await }) {
            Ok(out) => Ok((true, out.to_vec())),
            Err(alloy::transports::RpcError::ErrorResp(e)) => Ok((false, e.as_revert_data().map(|d| d.to_vec()).unwrap_or_default())),
            Err(e) => Err(format!("eth_call failed at {}: {e}", self.url)),
        }
    }

    /// `eth_estimateGas` of calling `to` with `data` (an upper bound of the gas a transaction uses).
    pub fn estimate_gas(&self, to: Address, data: Vec<u8>) -> Result<u64, String> {
        let tx = TransactionRequest::default().with_to(to).with_input(Bytes::from(data));
        self.rt.block_on(async { self.provider.estimate_gas(tx).await }).map_err(|e| format!("eth_estimateGas failed at {}: {e}", self.url))
    }
}

impl Chain for RpcChain {
    fn deploy(&mut self, code: Vec<u8>) -> Result<(Address, u64), String> {
        let tx = TransactionRequest::default().with_deploy_code(Bytes::from(code));
        match self.send(tx)? {
            (true, gas, Some(addr)) => Ok((addr, gas)),
            (_, gas, _) => Err(format!("deployment failed after {gas} gas (contract too large for the node's size limit, or out of gas)")),
        }
    }

    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Call, String> {
        let (ok, output) = self.view(to, data.clone())?;
        let tx = TransactionRequest::default().with_to(to).with_input(Bytes::from(data));
        let (success, gas_used, _) = self.send(tx)?;
        if success != ok {
            return Err("eth_call and the mined transaction disagree".into());
        }
        Ok(Call { success, gas_used, output: if success { output } else { vec![] } })
    }
}

/// Verdict of `verifyProof` at a deployed `ZkinferVerifier` on a node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RpcVerdict {
    pub valid: bool,
    pub address: String,
    /// Gas used by the transaction, when the check was sent as one (with a private key).
    pub gas_used: Option<u64>,
    /// `eth_estimateGas` of the check, when no transaction was sent and the proof is valid.
    pub gas_estimate: Option<u64>,
}

/// Call `verifyProof(proof, instances)` at the `ZkinferVerifier` deployed at `address`: the
/// verdict comes from `eth_call`; with `private_key` the check is also sent as a transaction
/// and its exact gas reported, otherwise the node's gas estimate.
pub fn verify_at(url: &str, address: &str, private_key: Option<&str>, instances: &[Fr], proof: &[u8]) -> Result<RpcVerdict, String> {
    let to: Address = address.trim().parse().map_err(|e| format!("invalid verifier address {address:?}: {e}"))?;
    let mut chain = RpcChain::connect(url, private_key)?;
    let code = chain.rt.block_on(async { chain.provider.get_code_at(to).await }).map_err(|e| format!("eth_getCode failed at {url}: {e}"))?;
    if code.is_empty() {
        return Err(format!("no contract at {to} on {url}"));
    }
    let data = verify_proof_calldata(proof, instances);
    let (ok, out) = chain.view(to, data.clone())?;
    if !ok {
        return Err(format!("verifyProof reverted at {to} (an instance >= the field modulus, or not a ZkinferVerifier)"));
    }
    let valid = out.len() == 32 && out[31] == 1 && out[..31].iter().all(|&b| b == 0);
    let (gas_used, gas_estimate) = if private_key.is_some() {
        (Some(chain.call(to, data)?.gas_used), None)
    } else if valid {
        (None, Some(chain.estimate_gas(to, data)?))
    } else {
        (None, None)
    };
    Ok(RpcVerdict { valid, address: to.to_string(), gas_used, gas_estimate })
}

/// Anvil's first development account (public test key, funded by every fresh anvil).
pub const ANVIL_DEV_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

/// A local anvil bound to 127.0.0.1 on a free port, with the same rules as the embedded EVM
/// (hardfork Osaka); stopped by PID when dropped.
pub struct Anvil {
    child: Child,
    pub url: String,
}

impl Anvil {
    /// Start `bin` (e.g. `solidity/node_modules/.bin/anvil`). `size_limit: false` lifts the
    /// 24,576-byte contract size limit, like [`EmbeddedEvm::without_size_limit`](crate::evm::EmbeddedEvm::without_size_limit).
    pub fn start(bin: &Path, size_limit: bool) -> Result<Anvil, String> {
        let mut cmd = Command::new(bin);
        cmd.args(["--host", "127.0.0.1", "--port", "0", "--hardfork", "osaka", "--gas-limit", "100000000"]);
        if !size_limit {
            cmd.arg("--disable-code-size-limit");
        }
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Anvil prints `Listening on 127.0.0.1:PORT`; keep draining its output afterwards.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.trim().strip_prefix("Listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut anvil = Anvil { child, url: String::new() };
        loop {
            if let Ok(addr) = rx.recv_timeout(Duration::from_millis(100)) {
                anvil.url = format!("http://{addr}");
                return Ok(anvil);
            }
            if let Ok(Some(status)) = anvil.child.try_wait() {
                return Err(format!("anvil exited before listening: {status}"));
            }
            if Instant::now() > deadline {
                return Err("anvil did not start listening within 30 s".into());
            }
        }
    }

    /// The anvil installed by `npm ci --prefix solidity` next to this workspace, if present.
    pub fn bundled_binary() -> Option<std::path::PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../solidity/node_modules/.bin/anvil");
        p.exists().then_some(p)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
