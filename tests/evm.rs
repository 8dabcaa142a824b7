//! EVM verification of real proofs, in the embedded EVM (revm) and on a local anvil (JSON-RPC
//! through alloy, bound to 127.0.0.1, started and stopped by PID): the generated Solidity verifier
//! compiles offline (solc or solcjs from solidity/node_modules), deploys, accepts the valid proof,
//! rejects a tampered proof byte and a tampered instance, `verifyProof` returns true / false and
//! reverts on an instance >= the field modulus; every transaction uses the same gas on both.
mod common;
use zkinfer::{Binding, RunArgs};
use zkinfer_verifier::evm::{acceptance, deploy_verifier, verifier_file, Chain, CompiledVerifier, EmbeddedEvm};
use zkinfer_verifier::rpc::{Anvil, RpcChain, ANVIL_DEV_KEY};

struct Proven {
    sol: CompiledVerifier,
    instances: Vec<Binding>,
    proof: Vec<u8>,
}

fn proven(name: &str, ra: RunArgs) -> Proven {
    let (c, w) = common::compiled_with_witness(name, ra);
    proven_from(c, w)
}

fn proven_from(c: zkinfer::CompiledModel, w: zkinfer::Witness) -> Proven {
    let srs = common::srs(c.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&c, &srs).unwrap();
    let p = zkinfer::prove(&c, &w, &pk, &srs, Binding::from(5)).unwrap();
    Proven { sol: CompiledVerifier::new(&verifier_file(&srs, &vk)).unwrap(), instances: p.instances().unwrap(), proof: p.proof_bytes().unwrap() }
}

fn anvil() -> Anvil {
    let bin = Anvil::bundled_binary().expect("anvil from `npm ci --prefix solidity` (solidity/node_modules/.bin/anvil)");
    Anvil::start(&bin, false).unwrap()
}

#[test]
fn digits_mlp_verifies_in_revm_and_on_anvil_with_identical_gas() {
    let p = proven("digits_mlp", RunArgs::default());
    let mut evm = EmbeddedEvm::without_size_limit();
    let d = deploy_verifier(&mut evm, &p.sol).unwrap();
    // Under mainnet rules a verifier over 24,576 bytes cannot be deployed; that must be an error.
    if d.runtime_bytes > 24_576 {
        assert!(EmbeddedEvm::default().deploy(p.sol.verifier.bytecode.clone()).is_err(), "oversize verifier deployed under mainnet rules");
    }
    let in_revm = acceptance(&mut evm, &d, &p.instances, &p.proof).unwrap();

    let node = anvil();
    let mut chain = RpcChain::connect(&node.url, Some(ANVIL_DEV_KEY)).unwrap();
    let d_anvil = deploy_verifier(&mut chain, &p.sol).unwrap();
    let on_anvil = acceptance(&mut chain, &d_anvil, &p.instances, &p.proof).unwrap();
    assert_eq!(in_revm, on_anvil, "revm and anvil disagree");
    eprintln!("digits_mlp (revm = anvil): {in_revm:?}");

    // The CLI's RPC path: verifyProof at the deployed wrapper, by eth_call and by transaction.
    let r = zkinfer_verifier::rpc::verify_at(&node.url, &d_anvil.wrapper.to_string(), Some(ANVIL_DEV_KEY), &p.instances, &p.proof).unwrap();
    assert!(r.valid && r.gas_used == Some(in_revm.valid.verify_abi_gas), "{r:?}");
    let mut bad = p.proof.clone();
    bad[200] ^= 1;
    let r = zkinfer_verifier::rpc::verify_at(&node.url, &d_anvil.wrapper.to_string(), None, &p.instances, &bad).unwrap();
    assert!(!r.valid, "tampered proof accepted over RPC");
    let err = zkinfer_verifier::rpc::verify_at(&node.url, "0x000000000000000000000000000000000000dEaD", None, &p.instances, &p.proof).unwrap_err();
    assert!(err.contains("no contract"), "{err}");
}

/// Every committed model (LeNet aside: k = 18 is proven by benches/measure.sh): its verifier
/// compiles offline and deploys, accepts the valid proof and rejects tampered ones, with the same
/// gas in revm and on anvil, and fits the 24,576-byte limit (deployment under mainnet rules
/// succeeds exactly when it fits; the generated code grows ~100–170 B per instance).
#[test]
fn every_committed_model_verifies_in_revm_and_on_anvil() {
    let mut names: Vec<String> = std::fs::read_dir(common::models())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lenet")
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    let node = Anvil::start(&Anvil::bundled_binary().expect("npm ci --prefix solidity"), false).unwrap();
    let mut chain = RpcChain::connect(&node.url, Some(ANVIL_DEV_KEY)).unwrap();
    let mut failures = vec![];
    let mut over = vec![];
    for name in &names {
        let p = proven(name, RunArgs::default());
        let run = |chain: &mut dyn Chain| -> Result<_, String> {
            let d = deploy_verifier(chain, &p.sol)?;
            acceptance(chain, &d, &p.instances, &p.proof)
        };
        match (run(&mut EmbeddedEvm::without_size_limit()), run(&mut chain)) {
            (Ok(a), Ok(b)) if a == b => {
                let mainnet = deploy_verifier(&mut EmbeddedEvm::default(), &p.sol);
                assert_eq!(mainnet.is_ok(), a.valid.fits_size_limit, "{name}: mainnet deployment vs size {}", a.valid.runtime_bytes);
                if !a.valid.fits_size_limit {
                    over.push(format!("{name} ({} B)", a.valid.runtime_bytes));
                }
                eprintln!("{name}: {} B, verify {} gas ({} via verifyProof), revm = anvil", a.valid.runtime_bytes, a.valid.verify_gas, a.valid.verify_abi_gas);
            }
            (a, b) => failures.push(format!("{name}: revm {a:?} / anvil {b:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // Every committed model's verifier fits mainnet's limit (ops_conv, 66 instances, is the largest).
    assert!(over.is_empty(), "verifiers over the 24,576-byte limit: {over:?}");
}

/// A tree ensemble (gradient boosting on iris: comparisons, indicator products and leaf sums)
/// in the embedded EVM and on anvil: accepted, tampered proofs and instances rejected, same gas.
#[test]
fn tree_ensemble_verifies_in_revm_and_on_anvil() {
    let p = proven("breadth/ml_gbm_iris", RunArgs::default());
    let node = anvil();
    let mut chain = RpcChain::connect(&node.url, Some(ANVIL_DEV_KEY)).unwrap();
    let run = |chain: &mut dyn Chain| {
        let d = deploy_verifier(chain, &p.sol).unwrap();
        acceptance(chain, &d, &p.instances, &p.proof).unwrap()
    };
    let (a, b) = (run(&mut EmbeddedEvm::default()), run(&mut chain));
    assert!(a.valid.valid && a.valid.fits_size_limit, "{a:?}");
    assert_eq!(a, b, "revm and anvil disagree");
    eprintln!("ml_gbm_iris: {a:?}");
}

/// A two-lane circuit (more columns, the layout LeNet-size models get) in the embedded EVM.
#[test]
fn two_lane_verifier_accepts_and_rejects() {
    let (c, w) = common::compiled_with_lanes("digits_cnn", 2);
    let p = proven_from(c, w);
    let mut evm = EmbeddedEvm::default();
    let d = deploy_verifier(&mut evm, &p.sol).unwrap();
    let r = acceptance(&mut evm, &d, &p.instances, &p.proof).unwrap();
    assert!(r.valid.valid && r.valid.fits_size_limit, "{r:?}");
    eprintln!("digits_cnn, two lanes: {r:?}");
}

/// Dot groups (gate `mdot`) and the second limb slot (lookup `table1`) in the embedded EVM: the
/// generated verifier accepts the proof and rejects tampered proofs and instances.
#[test]
fn dot_group_verifier_accepts_and_rejects() {
    let (c, w) = common::compiled_with_layout("digits_cnn", 4, 3);
    let p = proven_from(c, w);
    let mut evm = EmbeddedEvm::default();
    let d = deploy_verifier(&mut evm, &p.sol).unwrap();
    let r = acceptance(&mut evm, &d, &p.instances, &p.proof).unwrap();
    assert!(r.valid.valid, "{r:?}");
    eprintln!("digits_cnn, 4 lanes, dot groups of 3: {r:?}");
}

#[test]
fn unreachable_node_and_bad_key_are_clear_errors() {
    let err = RpcChain::connect("http://127.0.0.1:1", None).err().unwrap();
    assert!(err.contains("cannot reach the node"), "{err}");
    let err = RpcChain::connect("https://example.org", None).err().unwrap();
    assert!(err.contains("https"), "{err}");
    let err = RpcChain::connect("http://127.0.0.1:1", Some("0xnotakey")).err().unwrap();
    assert!(err.contains("invalid private key"), "{err}");
}
