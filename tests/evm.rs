//! EVM verification of a real proof in the embedded EVM (revm): the generated Solidity verifier
//! compiles offline (solc or solcjs from solidity/node_modules), deploys, accepts the valid proof
//! and rejects a tampered proof byte and a tampered instance; the ABI wrapper `verifyProof`
//! returns true / false and reverts on an instance >= the field modulus.
mod common;
use zkinfer::{Binding, RunArgs};
use zkinfer_verifier::evm::{encode_calldata, solidity_verifier, verify_proof_calldata, EmbeddedEvm, WRAPPER_SOL};

fn word(x: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&(x as u64).to_be_bytes());
    w
}

#[test]
fn digits_mlp_verifies_in_the_embedded_evm() {
    let (c, w) = common::compiled_with_witness("digits_mlp", RunArgs::default());
    let srs = zkinfer::prover::gen_srs(c.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&c, &srs).unwrap();
    let proof = zkinfer::prove(&c, &w, &pk, &srs, Binding::from(5)).unwrap();
    let instances: Vec<Binding> = proof.instances().unwrap();
    let bytes = proof.proof_bytes().unwrap();

    let sol = solidity_verifier(&srs, &vk.key, instances.len());
    let verifier = zkinfer_verifier::solc::compile("Verifier.sol", &sol, "Halo2Verifier").unwrap();
    // Under mainnet rules a verifier over 24,576 bytes cannot be deployed; that must be an error.
    if verifier.runtime.len() > 24_576 {
        let err = EmbeddedEvm::default().deploy(verifier.bytecode.clone()).unwrap_err();
        eprintln!("runtime {} bytes > 24,576: mainnet deployment refused ({err:.60})", verifier.runtime.len());
    }
    let mut evm = EmbeddedEvm::without_size_limit();
    let (addr, deploy_gas) = evm.deploy(verifier.bytecode.clone()).unwrap();

    let ok = evm.call(addr, encode_calldata(&instances, &bytes)).unwrap();
    assert!(ok.success, "valid proof rejected by the EVM verifier");
    let mut bad = bytes.clone();
    bad[100] ^= 1;
    assert!(!evm.call(addr, encode_calldata(&instances, &bad)).unwrap().success, "tampered proof accepted");
    let mut bad_inst = instances.clone();
    bad_inst[70] += Binding::one();
    assert!(!evm.call(addr, encode_calldata(&bad_inst, &bytes)).unwrap().success, "tampered instance accepted");
    eprintln!(
        "digits_mlp EVM: deploy gas {deploy_gas}, verify gas {}, runtime {} bytes, calldata {} bytes",
        ok.gas_used,
        verifier.runtime.len(),
        encode_calldata(&instances, &bytes).len()
    );

    // ABI wrapper.
    let wrapper = zkinfer_verifier::solc::compile("ZkinferVerifier.sol", WRAPPER_SOL, "ZkinferVerifier").unwrap();
    let mut code = wrapper.bytecode.clone();
    let mut a = [0u8; 32];
    a[12..].copy_from_slice(addr.as_slice());
    code.extend(a);
    let (waddr, _) = evm.deploy(code).unwrap();
    let r = evm.call(waddr, verify_proof_calldata(&bytes, &instances)).unwrap();
    assert!(r.success && r.output == word(1), "verifyProof(valid) = {:?}", r);
    let r = evm.call(waddr, verify_proof_calldata(&bad, &instances)).unwrap();
    assert!(r.success && r.output == word(0), "verifyProof(tampered) = {:?}", r);
    // An instance >= the modulus cannot be an Fr, so patch the encoded word directly: the first
    // instance word follows selector, two offsets, the proof length and the padded proof.
    let mut over = verify_proof_calldata(&bytes, &instances);
    let at = 4 + 32 * 3 + bytes.len().div_ceil(32) * 32 + 32;
    over[at..at + 32].copy_from_slice(&hex::decode("30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001").unwrap());
    let r = evm.call(waddr, over).unwrap();
    assert!(!r.success, "instance >= modulus must revert");

    // The library's report agrees, through the file create-evm-verifier writes.
    let file = zkinfer_verifier::evm::verifier_file(&srs, &vk.key, instances.len());
    let rep = zkinfer_verifier::evm::verify_in_evm(&file, &instances, &bytes).unwrap();
    assert!(rep.valid && rep.verify_gas == ok.gas_used, "{rep:?}");
    assert!(!zkinfer_verifier::evm::verify_in_evm(&file, &bad_inst, &bytes).unwrap().valid);
    eprintln!("{rep:?}");
}
