//! End-to-end demo on the bundled digits MLP: import → calibrate → compile → witness (with the
//! quantized model's accuracy on the whole digits test split) → keys → proof → native
//! verification, a forged output being rejected, and verification by the generated Solidity
//! verifier in the embedded EVM (revm) and on a local anvil node (when npm installed it), with gas.
//!
//! Run with `npm ci --prefix solidity && cargo run --release --example demo` (npm installs solcjs,
//! which compiles the verifier offline).

use zkinfer::{InputData, RunArgs, Target};

fn main() -> zkinfer::Result<()> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits_mlp");
    let model = zkinfer::load_model(format!("{dir}/model.onnx"))?;
    print!("{}", zkinfer::inspect::summarize(&model));

    let calib = InputData::load(format!("{dir}/input.json"))?;
    let settings = zkinfer::gen_settings(&model, RunArgs::default())?;
    let settings = zkinfer::calibrate_settings(&model, &calib, &settings, Target::Resources)?;
    let ra = &settings.run_args;
    println!(
        "\ncalibrated (resources): input_scale {} param_scale {} lookup_range [{}, {}] logrows {}",
        ra.input_scale, ra.param_scale, ra.lookup_range.0, ra.lookup_range.1, ra.logrows
    );
    let compiled = zkinfer::compile(&model, &settings)?;

    #[derive(serde::Deserialize)]
    struct Split {
        input_data: Vec<Vec<f64>>,
        labels: Vec<usize>,
    }
    let text = std::fs::read_to_string(format!("{dir}/test_split.json")).expect("bundled test split");
    let split: Split = serde_json::from_str(&text).expect("bundled test split is JSON");
    let mut correct = 0;
    let n = split.labels.len();
    for (i, &label) in split.labels.iter().enumerate() {
        let one = InputData { input_data: vec![split.input_data[0][i * 64..(i + 1) * 64].to_vec()] };
        match zkinfer::gen_witness(&compiled, &one) {
            Ok(w) if zkinfer::onnx::quant::calibrate::argmax(&w.rescaled_outputs[0]) == label => correct += 1,
            Ok(_) => {}
            Err(e) => println!("sample {i}: {e}"),
        }
    }
    println!("quantized digits MLP: {correct}/{n} test digits correct ({:.2}%)", 100.0 * correct as f64 / n as f64);

    let first = InputData { input_data: vec![split.input_data[0][..64].to_vec()] };
    let w = zkinfer::gen_witness(&compiled, &first)?;
    println!("first test digit (label {}): logits {:?}", split.labels[0], w.rescaled_outputs[0]);

    let k = compiled.settings.run_args.logrows;
    println!("\ngenerating an INSECURE development SRS for 2^{k} rows (use a ceremony SRS in production)");
    let srs = zkinfer::prover::gen_srs(k);
    let t = std::time::Instant::now();
    let (pk, vk) = zkinfer::setup(&compiled, &srs)?;
    println!("setup: {:.2} s; model commitment {}", t.elapsed().as_secs_f64(), zkinfer::prover::commitment_hex(&vk.commitment()));
    let t = std::time::Instant::now();
    let proof = zkinfer::prove(&compiled, &w, &pk, &srs, zkinfer::Binding::zero())?;
    println!("prove: {:.2} s, {} proof bytes, public outputs {:?}", t.elapsed().as_secs_f64(), proof.proof_bytes()?.len(), proof.rescaled_outputs[0]);
    let t = std::time::Instant::now();
    let verdict = zkinfer::verify(&proof, &vk, &srs)?;
    println!("verify (native): {} in {:.1} ms", if verdict.valid { "VALID" } else { "INVALID" }, t.elapsed().as_secs_f64() * 1e3);
    let mut forged = proof.clone();
    forged.instances[64] = zkinfer::prover::artifacts::fr_to_hex(&(zkinfer::prover::artifacts::fr_from_hex(&forged.instances[64])? + zkinfer::Binding::one()));
    println!("verify with a forged output logit: {}", if zkinfer::verify(&forged, &vk, &srs)?.valid { "VALID (bug!)" } else { "rejected" });
    assert!(verdict.valid);

    let sol = zkinfer::verifier::evm::verifier_file(&srs, &vk);
    match zkinfer::verifier::evm::verify_in_evm(&sol, &proof.instances()?, &proof.proof_bytes()?) {
        Ok(r) => println!(
            "verify (embedded EVM): {} with {} gas ({} through verifyProof); deploy {} gas; runtime {} bytes{}",
            if r.valid { "VALID" } else { "INVALID" },
            r.verify_gas,
            r.verify_abi_gas,
            r.deploy_gas,
            r.runtime_bytes,
            if r.fits_size_limit { "" } else { " (over the 24,576-byte mainnet limit)" }
        ),
        Err(e) => println!("EVM verification skipped: {e}"),
    }
    // The same contracts on a local anvil node (JSON-RPC through alloy), when npm installed it.
    if let Some(bin) = zkinfer::verifier::rpc::Anvil::bundled_binary() {
        use zkinfer::verifier::evm::{deploy_verifier, verify_deployed, CompiledVerifier};
        let run = || -> Result<_, String> {
            let node = zkinfer::verifier::rpc::Anvil::start(&bin, true)?;
            let mut chain = zkinfer::verifier::rpc::RpcChain::connect(&node.url, Some(zkinfer::verifier::rpc::ANVIL_DEV_KEY))?;
            let d = deploy_verifier(&mut chain, &CompiledVerifier::new(&sol)?)?;
            verify_deployed(&mut chain, &d, &proof.instances().map_err(|e| e.to_string())?, &proof.proof_bytes().map_err(|e| e.to_string())?)
        };
        match run() {
            Ok(r) => println!("verify (local anvil, JSON-RPC): {} with {} gas ({} through verifyProof)", if r.valid { "VALID" } else { "INVALID" }, r.verify_gas, r.verify_abi_gas),
            Err(e) => println!("anvil verification skipped: {e}"),
        }
    }
    Ok(())
}
