//! Print calibration results for every committed model (development aid).
use zkinfer_onnx::{data::InputData, quant::calibrate, settings::RunArgs};
fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.path().join("expected.json").exists()).map(|e| e.path()).collect();
    names.sort();
    for d in names {
        let g = zkinfer_onnx::load(d.join("model.onnx")).unwrap();
        let s = InputData::load(d.join("input.json")).unwrap().samples(&g).unwrap();
        for t in [calibrate::Target::Resources, calibrate::Target::Accuracy] {
            let t0 = std::time::Instant::now();
            match calibrate::calibrate(&g, &s, t, &RunArgs::default()) {
                Ok((ra, rep)) => {
                    let f: Vec<String> = rep.fidelity.iter().map(|o| format!("{}:{:.4}/{:.2}{}", o.name, o.max_abs_error, o.max_abs_float, o.argmax_agreement.map(|a| format!(" am{a:.2}")).unwrap_or_default())).collect();
                    println!("{:?} {:?}: scale {} range {:?} logrows {} ({:?}) {}", d.file_name().unwrap(), t, ra.input_scale, ra.lookup_range, ra.logrows, t0.elapsed(), f.join(", "));
                }
                Err(e) => println!("{:?} {:?}: ERROR {e}", d.file_name().unwrap(), t),
            }
        }
    }
}
