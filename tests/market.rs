//! The inference market end to end on a local anvil (127.0.0.1, stopped by PID), driven from
//! Rust through `zkinfer-market`: deploy the market and the digits MLP's generated verifier,
//! register and stake the model from its statement, request an inference, prove with the binding
//! the market computes for (request, operator), fulfil and get paid; a copy of the fulfilment
//! sent by someone else, a second fulfilment and a reclaim before the deadline revert with the
//! contract's decoded error; an expired request is reclaimed with the bond share.
mod common;
use alloy::primitives::U256;
use alloy::providers::Provider;
use zkinfer::RunArgs;
use zkinfer_market::{layout_for, split_public_values, Connection, MarketError, MarketParams};
use zkinfer_verifier::evm::{verifier_file, CompiledVerifier};
use zkinfer_verifier::rpc::{Anvil, ANVIL_DEV_KEY};

/// Test keys (public); their accounts get ether from `anvil_setBalance`.
const CLIENT_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const ATTACKER_KEY: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fa9abc0ff6b7082";

fn ether(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18))
}

fn reason(e: MarketError) -> String {
    match e {
        MarketError::Reverted { reason, .. } => reason,
        other => panic!("expected a revert, got {other}"),
    }
}

#[test]
fn inference_request_fulfilled_with_a_real_proof_on_anvil() {
    let (c, w) = common::compiled_with_witness("digits_mlp", RunArgs::default());
    let srs = common::srs(c.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&c, &srs).unwrap();
    let sol = CompiledVerifier::new(&verifier_file(&srs, &vk)).unwrap();
    let node = Anvil::start(&Anvil::bundled_binary().expect("npm ci --prefix solidity"), true).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let operator = Connection::connect(&node.url, ANVIL_DEV_KEY).await.unwrap();
        let client = Connection::connect(&node.url, CLIENT_KEY).await.unwrap();
        let attacker = Connection::connect(&node.url, ATTACKER_KEY).await.unwrap();
        for who in [client.address, attacker.address] {
            let _: serde_json::Value = operator.provider.raw_request("anvil_setBalance".into(), (who, "0x3635c9adc5dea00000")).await.unwrap();
        }
        let d = operator.deploy_market(MarketParams::default()).await.unwrap();
        let verifier = operator.deploy_verifier(&sol).await.unwrap();
        let layout = layout_for(vk.statement(), Default::default()).unwrap();
        let (model, _) = operator.register(&d, verifier, layout, "ipfs://digits-mlp").await.unwrap();
        let m = operator.registry(&d).model(model).call().await.unwrap();
        assert_eq!(format!("{:#x}", m.commitment), zkinfer::prover::commitment_hex(&vk.commitment()), "the registry reads the commitment from the verifier");
        operator.mint(&d, operator.address, ether(1000)).await.unwrap();
        operator.stake(&d, model, ether(500)).await.unwrap();
        operator.mint(&d, client.address, ether(100)).await.unwrap();

        // The request carries the quantized input as public values.
        let inputs: Vec<U256> = w.inputs[0].iter().map(|&v| zkinfer_market::layout::word(&zkinfer_circuits::field::fr(v))).collect();
        let now = operator.provider.get_block_number().await.unwrap();
        let ts = operator.provider.get_block_by_number(now.into()).await.unwrap().unwrap().header.timestamp;
        let (rid, tx) = client.request(&d, model, inputs.clone(), ether(10), ts + 3600).await.unwrap();
        eprintln!("request {rid}: {} gas", tx.gas_used);

        // Prove with the binding the market computes for (request, operator).
        let binding = operator.binding(&d, rid, operator.address).await.unwrap();
        let proof = zkinfer::prove(&c, &w, &pk, &srs, zkinfer_market::layout::field(&binding).unwrap()).unwrap();
        let (ins, outs) = split_public_values(vk.statement(), &proof.instances().unwrap()).unwrap();
        assert_eq!(ins, inputs);
        let bytes = proof.proof_bytes().unwrap();

        // A copy sent by someone else: refused, and the error names why.
        let err = attacker.fulfil(&d, rid, ins.clone(), outs.clone(), bytes.clone()).await.unwrap_err();
        assert!(reason(err).contains("NotOperator"));
        let err = client.reclaim(&d, rid).await.unwrap_err();
        assert!(reason(err).contains("NotExpired"));

        let before = operator.balance(&d, operator.address).await.unwrap();
        let tx = operator.fulfil(&d, rid, ins.clone(), outs.clone(), bytes.clone()).await.unwrap();
        eprintln!("fulfil (incl. verification): {} gas", tx.gas_used);
        assert_eq!(operator.balance(&d, operator.address).await.unwrap(), before + ether(10), "operator paid");
        let state = operator.request_state(&d, rid).await.unwrap();
        assert_eq!(state.status, 2, "fulfilled");
        let err = operator.fulfil(&d, rid, ins.clone(), outs.clone(), bytes.clone()).await.unwrap_err();
        assert!(reason(err).contains("NotOpen"));

        // An expired request: the client gets the payment and half of the 2x bond.
        let (late, _) = client.request(&d, model, inputs.clone(), ether(10), ts + 7200).await.unwrap();
        let _: serde_json::Value = operator.provider.raw_request("evm_increaseTime".into(), (10_000u64,)).await.unwrap();
        let _: serde_json::Value = operator.provider.raw_request("evm_mine".into(), ()).await.unwrap();
        let before = client.balance(&d, client.address).await.unwrap();
        attacker.reclaim(&d, late).await.unwrap();
        assert_eq!(client.balance(&d, client.address).await.unwrap(), before + ether(20));
        assert_eq!(operator.registry(&d).freeStake(model).call().await.unwrap(), ether(490));
    });
}

#[test]
fn unreachable_node_is_a_clear_error() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let err = rt.block_on(Connection::connect("http://127.0.0.1:1", ANVIL_DEV_KEY)).err().unwrap();
    assert!(err.to_string().contains("cannot reach the node"), "{err}");
    let err = rt.block_on(Connection::connect("http://127.0.0.1:1", "0xzz")).err().unwrap();
    assert!(err.to_string().contains("invalid private key"), "{err}");
}
