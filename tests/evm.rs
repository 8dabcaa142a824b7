//! EVM verification of a real proof in the embedded EVM (revm): the generated Solidity verifier
//! compiles offline (solc or solcjs from solidity/node_modules), deploys, accepts the valid proof
//! and rejects a tampered proof byte and a tampered instance; the ABI wrapper `verifyProof`
//! returns true / false and reverts on an instance >= the field modulus.
use sha3::{Digest, Keccak256};
use zkinfer::prover::artifacts::fr_from_hex;
use zkinfer::{Binding, InputData, RunArgs, Target};
use zkinfer_verifier::evm::{encode_calldata, solidity_verifier, EmbeddedEvm, WRAPPER_SOL};

fn word(x: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&(x as u64).to_be_bytes());
    w
}

/// ABI encoding of `verifyProof(bytes proof, uint256[] instances)`.
fn verify_proof_call(proof: &[u8], instances: &[[u8; 32]]) -> Vec<u8> {
    let mut out = Keccak256::digest(b"verifyProof(bytes,uint256[])")[..4].to_vec();
    let proof_words = proof.len().div_ceil(32);
    out.extend(word(64));
    out.extend(word(64 + 32 + proof_words * 32));
    out.extend(word(proof.len()));
    let mut padded = proof.to_vec();
    padded.resize(proof_words * 32, 0);
    out.extend(padded);
    out.extend(word(instances.len()));
    for i in instances {
        out.extend(i);
    }
    out
}

fn be(hex_word: &str) -> [u8; 32] {
    let mut w = [0u8; 32];
    w.copy_from_slice(&hex::decode(&hex_word[2..]).unwrap());
    w
}

#[test]
fn digits_mlp_verifies_in_the_embedded_evm() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits_mlp");
    let model = zkinfer::load_model(format!("{dir}/model.onnx")).unwrap();
    let data = InputData::load(format!("{dir}/input.json")).unwrap();
    let s = zkinfer::gen_settings(&model, RunArgs::default()).unwrap();
    let s = zkinfer::calibrate_settings(&model, &data, &s, Target::Resources).unwrap();
    let c = zkinfer::compile(&model, &s).unwrap();
    let w = zkinfer::gen_witness(&c, &InputData { input_data: vec![data.input_data[0][..64].to_vec()] }).unwrap();
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
    let words: Vec<[u8; 32]> = proof.instances.iter().map(|h| be(h)).collect();
    let r = evm.call(waddr, verify_proof_call(&bytes, &words)).unwrap();
    assert!(r.success && r.output == word(1), "verifyProof(valid) = {:?}", r);
    let r = evm.call(waddr, verify_proof_call(&bad, &words)).unwrap();
    assert!(r.success && r.output == word(0), "verifyProof(tampered) = {:?}", r);
    let mut over = words.clone();
    over[0] = be("0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001");
    let r = evm.call(waddr, verify_proof_call(&bytes, &over)).unwrap();
    assert!(!r.success, "instance >= modulus must revert");
    let _ = fr_from_hex;

    // The library's report agrees, through the file create-evm-verifier writes.
    let file = zkinfer_verifier::evm::verifier_file(&srs, &vk.key, instances.len());
    let rep = zkinfer_verifier::evm::verify_in_evm(&file, &instances, &bytes).unwrap();
    assert!(rep.valid && rep.verify_gas == ok.gas_used, "{rep:?}");
    assert!(!zkinfer_verifier::evm::verify_in_evm(&file, &bad_inst, &bytes).unwrap().valid);
    eprintln!("{rep:?}");
}
