//! Criterion benches of the proving pipeline on committed models, calibrated with `resources`
//! (so at the calibrator's accuracy, stated in each model's settings): for the digits MLP witness
//! generation, key generation, proving and native verification; for the digits CNN and the
//! logistic regression (sigmoid, reduced lookups) proving. LeNet (a 61,706-parameter CNN) is
//! behind `ZKINFER_BENCH_LENET=1`. Run with `cargo bench --bench pipeline`; `benches/measure.sh`
//! reports peak RSS through the CLI, `benches/compare_ezkl.py` the side-by-side figures. Not run
//! in CI.
use criterion::{criterion_group, criterion_main, Criterion};
use zkinfer::{Binding, InputData, RunArgs, Target};

struct Prepared {
    compiled: zkinfer::CompiledModel,
    witness: zkinfer::Witness,
    one: InputData,
    srs: zkinfer::Srs,
    pk: zkinfer::ProvingKeyFile,
    vk: zkinfer::VerifyingKeyFile,
}

/// Calibrate, compile and set up a committed model; the witness is of its first sample.
fn prepare(name: &str) -> Prepared {
    let dir = format!("{}/models/{name}", env!("CARGO_MANIFEST_DIR"));
    let model = zkinfer::load_model(format!("{dir}/model.onnx")).unwrap();
    let data = InputData::load(format!("{dir}/input.json")).unwrap();
    let settings = zkinfer::gen_settings(&model, RunArgs::default()).unwrap();
    let settings = zkinfer::calibrate_settings(&model, &data, &settings, Target::Resources).unwrap();
    let compiled = zkinfer::compile(&model, &settings).unwrap();
    let sample = &data.samples(&model).unwrap()[0];
    let one = InputData { input_data: sample.iter().map(|a| a.iter().map(|&v| v as f64).collect()).collect() };
    let witness = zkinfer::gen_witness(&compiled, &one).unwrap();
    let srs = zkinfer::prover::gen_srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs).unwrap();
    let ra = &compiled.settings.run_args;
    eprintln!("{name}: scale {} logrows {} lanes {} range_bits {} table_bits {}", ra.input_scale, ra.logrows, ra.num_inner_cols, ra.range_bits, ra.table_bits);
    Prepared { compiled, witness, one, srs, pk, vk }
}

fn bench(c: &mut Criterion) {
    let p = prepare("digits_mlp");
    let proof = zkinfer::prove(&p.compiled, &p.witness, &p.pk, &p.srs, Binding::zero()).unwrap();
    let mut g = c.benchmark_group("digits_mlp");
    g.sample_size(10);
    g.bench_function("gen_witness", |b| b.iter(|| zkinfer::gen_witness(&p.compiled, &p.one).unwrap()));
    g.bench_function("setup", |b| b.iter(|| zkinfer::setup(&p.compiled, &p.srs).unwrap()));
    g.bench_function("prove", |b| b.iter(|| zkinfer::prove(&p.compiled, &p.witness, &p.pk, &p.srs, Binding::zero()).unwrap()));
    g.bench_function("verify", |b| b.iter(|| assert!(zkinfer::verify(&proof, &p.vk, &p.srs).unwrap().valid)));
    g.finish();

    let mut models = vec!["digits_cnn", "logreg_sigmoid"];
    if std::env::var_os("ZKINFER_BENCH_LENET").is_some() {
        models.push("lenet");
    }
    for name in models {
        let p = prepare(name);
        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        g.bench_function("prove", |b| b.iter(|| zkinfer::prove(&p.compiled, &p.witness, &p.pk, &p.srs, Binding::zero()).unwrap()));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
