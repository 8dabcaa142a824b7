//! Gas and size report of the EVM verifier for every committed model (target `resources`,
//! default visibilities): deploy gas, verify gas (raw and through `verifyProof`), runtime bytecode
//! size, calldata size, all in the embedded EVM. Run with
//! `npm ci --prefix solidity && cargo run --release --example evm_report`.
use zkinfer::{Binding, InputData, RunArgs, Target};

fn main() -> zkinfer::Result<()> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/models");
    let mut names: Vec<String> = std::fs::read_dir(root)
        .expect("models directory")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("expected.json").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lenet" || std::env::var("ZKINFER_REPORT_LENET").is_ok())
        .collect();
    names.sort();
    println!("| model | logrows | instances | deploy gas | verify gas | via verifyProof | runtime bytes | calldata bytes |");
    println!("|---|---|---|---|---|---|---|---|");
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
        let sol = zkinfer::verifier::evm::verifier_file(&srs, &vk.key, &vk.header.packing);
        match zkinfer::verifier::evm::verify_in_evm(&sol, &p.instances()?, &p.proof_bytes()?) {
            Ok(r) => println!(
                "| {name} | {} | {} | {} | {} | {} | {}{} | {} |",
                c.settings.run_args.logrows,
                vk.header.num_instances,
                r.deploy_gas,
                r.verify_gas,
                r.verify_abi_gas,
                r.runtime_bytes,
                if r.fits_size_limit { "" } else { " (over limit)" },
                r.calldata_bytes
            ),
            Err(e) => println!("| {name} | {} | EVM error: {e} |", c.settings.run_args.logrows),
        }
        assert!(zkinfer::verify(&p, &vk, &srs)?.valid);
    }
    Ok(())
}
