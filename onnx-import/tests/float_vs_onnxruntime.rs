//! The float executor reproduces onnxruntime on every committed model: for each output,
//! max |ours - ort| <= 1e-4 * max(1, max |ort|).
mod common;
use zkinfer_onnx::data::InputData;

#[test]
fn float_executor_matches_onnxruntime() {
    let names = common::model_names();
    assert!(names.len() >= 14, "expected the committed models, found {names:?}");
    let breadth = common::breadth_names();
    assert!(breadth.len() >= 14, "expected the breadth models, found {breadth:?}");
    for name in names.into_iter().chain(breadth) {
        let dir = common::models_dir().join(&name);
        let g = zkinfer_onnx::load(dir.join("model.onnx")).unwrap_or_else(|e| panic!("{name}: {e}"));
        let samples = InputData::load(dir.join("input.json")).unwrap().samples(&g).unwrap();
        let exp = common::expected(&name);
        assert_eq!(samples.len(), exp.samples, "{name}");
        assert_eq!(g.outputs.len(), exp.outputs.len(), "{name}: output count");
        for (s, sample) in samples.iter().enumerate() {
            let outs = zkinfer_onnx::float_exec::run(&g, sample).unwrap_or_else(|e| panic!("{name}: {e}"));
            for (o, t) in outs.iter().enumerate() {
                assert_eq!(t.shape(), exp.output_shapes[o].as_slice(), "{name} output {o} shape");
                let want = common::expected_sample(&exp, o, s);
                let got = t.to_f64_vec();
                let scale = want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                let err = got.iter().zip(want).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                assert!(err <= 1e-4 * scale, "{name} output {o} sample {s}: max error {err} (scale {scale})");
            }
        }
    }
}
