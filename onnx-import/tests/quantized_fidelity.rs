//! The integer reference executor, dequantized, stays close to onnxruntime after calibration.
//!
//! Tolerances (per output, over every committed sample), `M = max(1, max |ort| over all samples)`:
//! * target `accuracy`: max |dequantized - ort| <= 0.01 · M;
//! * target `resources`: max |dequantized - ort| <= 0.06 · M (the calibration bar is 5% against the
//!   float executor, which itself matches onnxruntime to 1e-4).
mod common;
use zkinfer_onnx::data::InputData;
use zkinfer_onnx::quant::calibrate::{self, Target};
use zkinfer_onnx::quant::exec::{self, RangeMode};
use zkinfer_onnx::settings::RunArgs;

fn check_model(name: &str, target: Target, tol: f64) {
    let dir = common::models_dir().join(name);
    let g = zkinfer_onnx::load(dir.join("model.onnx")).unwrap();
    let samples = InputData::load(dir.join("input.json")).unwrap().samples(&g).unwrap();
    let (ra, report) = calibrate::calibrate(&g, &samples, target, &RunArgs::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(report.samples, samples.len());
    let q = zkinfer_onnx::quant::quantize(&g, &ra.quant_params()).unwrap();
    let exp = common::expected(name);
    for (s, sample) in samples.iter().enumerate() {
        let qi = exec::quantize_inputs(&q, sample).unwrap();
        // Enforce: every sample used for calibration must fit the chosen lookup range.
        let ex = exec::run(&q, &qi, RangeMode::Enforce).unwrap_or_else(|e| panic!("{name} {target:?}: {e}"));
        for (o, out) in exec::dequantize_outputs(&q, &ex.outputs).iter().enumerate() {
            let want = common::expected_sample(&exp, o, s);
            let m = exp.outputs[o].iter().fold(1.0f64, |m, v| m.max(v.abs()));
            let err = out.iter().zip(want).fold(0.0f64, |e, (a, b)| e.max((a - b).abs()));
            assert!(err <= tol * m, "{name} {target:?} (scale {}) output {o} sample {s}: error {err} > {}", ra.input_scale, tol * m);
        }
    }
}

#[test]
fn every_model_within_tolerance_after_calibration() {
    for name in common::model_names().into_iter().chain(common::breadth_names()) {
        check_model(&name, Target::Accuracy, 0.01);
        check_model(&name, Target::Resources, 0.06);
    }
}

#[derive(serde::Deserialize)]
struct Split {
    input_data: Vec<Vec<f64>>,
    labels: Vec<usize>,
}

/// Digits MLP: argmax accuracy of the quantized model on the whole digits test split is at least
/// 99% of the float model's, for both calibration targets.
#[test]
fn digits_mlp_test_split_accuracy() {
    let dir = common::models_dir().join("digits_mlp");
    let g = zkinfer_onnx::load(dir.join("model.onnx")).unwrap();
    let calib = InputData::load(dir.join("input.json")).unwrap().samples(&g).unwrap();
    let split: Split = serde_json::from_str(&std::fs::read_to_string(dir.join("test_split.json")).unwrap()).unwrap();
    let test = InputData { input_data: split.input_data }.samples(&g).unwrap();
    assert_eq!(test.len(), split.labels.len());
    let float_correct = test
        .iter()
        .zip(&split.labels)
        .filter(|(s, &l)| calibrate::argmax(&zkinfer_onnx::float_exec::run(&g, s).unwrap()[0].to_f64_vec()) == l)
        .count();
    for target in [Target::Resources, Target::Accuracy] {
        let (ra, _) = calibrate::calibrate(&g, &calib, target, &RunArgs::default()).unwrap();
        let q = zkinfer_onnx::quant::quantize(&g, &ra.quant_params()).unwrap();
        let mut correct = 0;
        for (s, &l) in test.iter().zip(&split.labels) {
            // Record mode: held-out samples may exceed the calibrated range; accuracy is what we measure.
            let ex = exec::run(&q, &exec::quantize_inputs(&q, s).unwrap(), RangeMode::Record).unwrap();
            let out: Vec<f64> = ex.outputs[0].iter().map(|&v| v as f64).collect();
            if calibrate::argmax(&out) == l {
                correct += 1;
            }
        }
        let (fa, qa) = (float_correct as f64 / test.len() as f64, correct as f64 / test.len() as f64);
        eprintln!("digits_mlp {target:?}: scale {} float accuracy {fa:.4}, quantized {qa:.4}", ra.input_scale);
        assert!(qa >= 0.99 * fa, "{target:?}: quantized accuracy {qa} < 99% of float {fa}");
    }
}

/// A value outside the lookup range stops execution with an error that says to re-calibrate.
#[test]
fn out_of_range_value_asks_to_recalibrate() {
    let dir = common::models_dir().join("digits_mlp");
    let g = zkinfer_onnx::load(dir.join("model.onnx")).unwrap();
    let samples = InputData::load(dir.join("input.json")).unwrap().samples(&g).unwrap();
    let params = zkinfer_onnx::quant::QuantParams { input_scale: 7, param_scale: 7, lookup_range: (-8, 7), table_bits: 0 };
    let q = zkinfer_onnx::quant::quantize(&g, &params).unwrap();
    let err = exec::run(&q, &exec::quantize_inputs(&q, &samples[0]).unwrap(), RangeMode::Enforce).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("re-calibrate") && msg.contains("lookup range"), "{msg}");
}
