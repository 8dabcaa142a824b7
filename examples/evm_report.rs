//! Gas and size report of the EVM verifier for every committed model (target `resources`,
//! default visibilities: inputs and outputs public, params fixed): public values and packed
//! instances, deploy gas, verify gas (raw verifier and through `verifyProof`), runtime bytecode
//! size, calldata size. Everything runs in the embedded EVM (without the size limit, which the
//! table flags) and, when `solidity/node_modules/.bin/anvil` exists, again on a local anvil,
//! checking that both charge the same gas. Run with
//! `npm ci --prefix solidity && cargo run --release --example evm_report`
//! (`ZKINFER_REPORT_LENET=1` adds LeNet, k = 18, several minutes).
use zkinfer::verifier::evm::{acceptance, deploy_verifier, verifier_file, Chain, CompiledVerifier, EmbeddedEvm};
use zkinfer::verifier::rpc::{Anvil, RpcChain, ANVIL_DEV_KEY};
use zkinfer::{Binding, InputData, RunArgs, Target};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
    let mut names: Vec<String> = std::fs::read_dir(root)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lenet" || std::env::var("ZKINFER_REPORT_LENET").is_ok())
        .collect();
    names.sort();
    let node = Anvil::bundled_binary().map(|b| Anvil::start(&b, false)).transpose()?;
    let mut rpc = node.as_ref().map(|n| RpcChain::connect(&n.url, Some(ANVIL_DEV_KEY))).transpose()?;
    println!("| model | logrows | public values | instances | deploy gas | verify gas | via verifyProof | runtime bytes | calldata bytes |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for name in names {
        let dir = format!("{root}/{name}");
        let model = zkinfer::load_model(format!("{dir}/model.onnx"))?;
        let data = InputData::load(format!("{dir}/input.json"))?;
        let s = zkinfer::gen_settings(&model, RunArgs::default())?;
        let s = zkinfer::calibrate_settings(&model, &data, &s, Target::Resources)?;
        let c = zkinfer::compile(&model, &s)?;
        let first: Vec<Vec<f64>> = data.samples(&model)?[0].iter().map(|a| a.iter().map(|&v| v as f64).collect()).collect();
        let w = zkinfer::gen_witness(&c, &InputData { input_data: first })?;
        let srs = zkinfer::prover::gen_srs(c.settings.run_args.logrows);
        let (pk, vk) = zkinfer::setup(&c, &srs)?;
        let p = zkinfer::prove(&c, &w, &pk, &srs, Binding::zero())?;
        assert!(zkinfer::verify(&p, &vk, &srs)?.valid);
        let sol = CompiledVerifier::new(&verifier_file(&srs, &vk))?;
        let (values, proof) = (p.instances()?, p.proof_bytes()?);
        let run = |chain: &mut dyn Chain| deploy_verifier(chain, &sol).and_then(|d| acceptance(chain, &d, &values, &proof));
        let a = run(&mut EmbeddedEvm::without_size_limit())?;
        if let Some(rpc) = rpc.as_mut() {
            let b = run(rpc)?;
            assert_eq!(a, b, "{name}: revm and anvil disagree");
        }
        let r = a.valid;
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {}{} | {} |",
            c.settings.run_args.logrows,
            vk.statement().packing.num_values(),
            vk.statement().packing.num_instances(),
            r.deploy_gas,
            r.verify_gas,
            r.verify_abi_gas,
            r.runtime_bytes,
            if r.fits_size_limit { "" } else { " (over limit)" },
            r.calldata_bytes
        );
    }
    Ok(())
}
