//! Criterion benches of the proving pipeline on the bundled digits MLP (logrows from calibration,
//! target `resources`): witness generation, key generation, proving and native verification.
//! Run with `cargo bench --bench pipeline`; `benches/measure.sh` reports peak RSS and the
//! LeNet-size figures through the CLI. Not run in CI.
use criterion::{criterion_group, criterion_main, Criterion};
use zkinfer::{Binding, InputData, RunArgs, Target};

fn bench(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/models/digits_mlp");
    let model = zkinfer::load_model(format!("{dir}/model.onnx")).unwrap();
    let data = InputData::load(format!("{dir}/input.json")).unwrap();
    let settings = zkinfer::gen_settings(&model, RunArgs::default()).unwrap();
    let settings = zkinfer::calibrate_settings(&model, &data, &settings, Target::Resources).unwrap();
    let compiled = zkinfer::compile(&model, &settings).unwrap();
    let one = InputData { input_data: vec![data.input_data[0][..64].to_vec()] };
    let witness = zkinfer::gen_witness(&compiled, &one).unwrap();
    let srs = zkinfer::prover::gen_srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs).unwrap();
    let proof = zkinfer::prove(&compiled, &witness, &pk, &srs, Binding::zero()).unwrap();

    let mut g = c.benchmark_group("digits_mlp");
    g.sample_size(10);
    g.bench_function("gen_witness", |b| b.iter(|| zkinfer::gen_witness(&compiled, &one).unwrap()));
    g.bench_function("setup", |b| b.iter(|| zkinfer::setup(&compiled, &srs).unwrap()));
    g.bench_function("prove", |b| b.iter(|| zkinfer::prove(&compiled, &witness, &pk, &srs, Binding::zero()).unwrap()));
    g.bench_function("verify", |b| b.iter(|| assert!(zkinfer::verify(&proof, &vk, &srs).unwrap().valid)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
