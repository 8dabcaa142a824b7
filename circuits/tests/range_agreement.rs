//! The reference executor range-checks exactly the values the circuit presents to lookup-range
//! tables (function tables over the lookup range, table 1's range check included), node by node,
//! plus the published outputs, which the circuit range-checks while packing them (the rule is in
//! `zkinfer_onnx::quant::rules`). Checked on every committed model and sample with public and with
//! private inputs, and on small hand-built graphs for the cases no committed model exercises.
use ndarray::{ArrayD, IxDyn};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use zkinfer_circuits::{looked_up_values, ModelCircuit, Visibilities};
use zkinfer_onnx::data::InputData;
use zkinfer_onnx::ir::Operand;
use zkinfer_onnx::quant::calibrate::{self, Target};
use zkinfer_onnx::quant::exec::{self, RangeMode};
use zkinfer_onnx::quant::{QConst, QGraph, QNode, QOp, QValue, QuantParams};
use zkinfer_onnx::settings::{RunArgs, Visibility};

/// The first few values of `a` not in `b`.
fn only(a: &BTreeSet<i64>, b: &BTreeSet<i64>) -> Vec<i64> {
    a.difference(b).take(8).copied().collect()
}

/// Executor and circuit check the same values at every step (model inputs, each node, the
/// published outputs), with public and with private inputs.
fn agree(label: &str, q: &Arc<QGraph>, qi: &[ArrayD<i64>]) {
    for range_bits in [0, 6] {
        agree_with(&format!("{label} (range_bits {range_bits})"), q, qi, range_bits);
    }
}

fn agree_with(label: &str, q: &Arc<QGraph>, qi: &[ArrayD<i64>], range_bits: u32) {
    for input in [Visibility::Public, Visibility::Private] {
        let vis = Visibilities { input, param: Visibility::Fixed, output: Visibility::Public };
        let (ex, mut checked) = exec::run_collecting(q, qi, RangeMode::Enforce).unwrap_or_else(|e| panic!("{label}: {e}"));
        checked.push(ex.outputs.iter().flat_map(|o| o.iter().copied()).collect());
        let c = ModelCircuit::new(q.clone(), vis, 2).unwrap().with_range_bits(range_bits).with_witness(qi.to_vec(), Default::default());
        let looked_up = looked_up_values(&c).unwrap();
        assert_eq!(checked.len(), looked_up.len(), "{label}: steps");
        for (step, (e, l)) in checked.iter().zip(&looked_up).enumerate() {
            let what = match step {
                0 => "model inputs".to_string(),
                s if s <= q.nodes.len() => format!("node {} ({})", q.nodes[s - 1].name, q.nodes[s - 1].op.name()),
                _ => "published outputs".to_string(),
            };
            assert!(e == l, "{label}, {input:?} input, {what}: executor only {:?}, circuit only {:?}", only(e, l), only(l, e));
        }
    }
}

#[test]
fn committed_models_range_check_the_same_values() {
    for name in [
        "digits_mlp", "digits_cnn", "logreg_sigmoid", "convnet_bn", "ops_activations", "ops_conv", "ops_pool", "ops_norm", "ops_shape",
        "ops_linear", "ops_softmax", "ops_softmax_legacy", "ops_reduce", "ops_elementwise", "ops_legacy", "lenet",
    ] {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models").join(name);
        let g = zkinfer_onnx::load(dir.join("model.onnx")).unwrap();
        let samples = InputData::load(dir.join("input.json")).unwrap().samples(&g).unwrap();
        let (ra, _) = calibrate::calibrate(&g, &samples, Target::Resources, &RunArgs::default()).unwrap();
        let q = Arc::new(zkinfer_onnx::quant::quantize(&g, &ra.quant_params()).unwrap());
        for (i, s) in samples.iter().enumerate() {
            agree(&format!("{name} sample {i}"), &q, &exec::quantize_inputs(&q, s).unwrap());
        }
        eprintln!("{name}: {} samples agree", samples.len());
    }
}

/// The same with reduced function lookups (tables of 2^8 rows): the clamp differences are
/// range-checked by both, the reduced tables by neither.
#[test]
fn reduced_lookups_range_check_the_same_values() {
    for name in ["logreg_sigmoid", "ops_activations", "ops_norm", "ops_softmax_legacy", "market/digits_softmax"] {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models").join(name);
        let g = zkinfer_onnx::load(dir.join("model.onnx")).unwrap();
        let samples = InputData::load(dir.join("input.json")).unwrap().samples(&g).unwrap();
        let (ra, _) = calibrate::calibrate(&g, &samples, Target::Resources, &RunArgs::default()).unwrap();
        let q = Arc::new(zkinfer_onnx::quant::quantize(&g, &RunArgs { table_bits: 8, ..ra }.quant_params()).unwrap());
        assert!(q.nodes.iter().any(|n| matches!(n.op, QOp::Lookup { reduce: Some(_), .. } | QOp::Softmax { reduce: Some(_), .. })), "{name}: nothing reduced");
        for (i, s) in samples.iter().enumerate() {
            agree(&format!("{name} sample {i} (reduced)"), &q, &exec::quantize_inputs(&q, s).unwrap());
        }
    }
}

fn arr(shape: &[usize], v: &[i64]) -> ArrayD<i64> {
    ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap()
}

/// A graph over the lookup range `[-64, 63]` with one input of `shape` (value 0) and a chain of
/// single-output nodes (node `i` writes value `i + 1` of shape `outs[i]`); the last value is the
/// output.
fn chain(shape: &[usize], consts: Vec<ArrayD<i64>>, nodes: Vec<(QOp, Vec<Operand>, Vec<usize>)>) -> Arc<QGraph> {
    let mut values = vec![QValue { name: "x".into(), shape: shape.to_vec(), scale: 0 }];
    let mut qnodes = Vec::new();
    for (i, (op, inputs, out)) in nodes.into_iter().enumerate() {
        values.push(QValue { name: format!("v{}", i + 1), shape: out, scale: 0 });
        qnodes.push(QNode { name: format!("n{i}"), onnx_op: op.name().into(), op, inputs, outputs: vec![i + 1] });
    }
    Arc::new(QGraph {
        outputs: vec![values.len() - 1],
        values,
        consts: consts.into_iter().map(|data| QConst { data, scale: 0 }).collect(),
        nodes: qnodes,
        inputs: vec![0],
        params: QuantParams { input_scale: 0, param_scale: 0, lookup_range: (-64, 63), table_bits: 0 },
    })
}

#[test]
fn small_graphs_range_check_the_same_values() {
    use Operand::{Const as K, Value as V};
    let x = arr(&[2, 4], &[-30, 3, 17, 30, 5, 5, -2, 0]);
    // Softmax and LogSoftmax aligning down (in_scale 6 > out_scale 4: a division by 4).
    for log in [false, true] {
        let op = if log {
            QOp::LogSoftmax { axis: 1, flatten: false, in_scale: 6, out_scale: 4 }
        } else {
            QOp::Softmax { axis: 1, flatten: false, in_scale: 6, out_scale: 4, reduce: None }
        };
        agree(&format!("{} 6 -> 4", op.name()), &chain(&[2, 4], vec![], vec![(op, vec![V(0)], vec![2, 4])]), &[x.clone()]);
    }
    // Rescale by 0 (the identity, no division) and by 2.
    let g = chain(&[2, 4], vec![], vec![(QOp::Rescale { shift: 0 }, vec![V(0)], vec![2, 4]), (QOp::Rescale { shift: 2 }, vec![V(1)], vec![2, 4])]);
    agree("rescale", &g, &[x.clone()]);
    // Max / Min of an operand outside the range (16·x, up to 112) with 100: only differences.
    let g = chain(
        &[4],
        vec![arr(&[1], &[100])],
        vec![
            (QOp::ScaleUp { shift: 4 }, vec![V(0)], vec![4]),
            (QOp::Max, vec![V(1), K(0)], vec![4]),
            (QOp::Min, vec![V(1), K(0)], vec![4]),
            (QOp::Sub, vec![V(2), V(3)], vec![4]),
        ],
    );
    agree("max/min", &g, &[arr(&[4], &[4, 5, 6, 7])]);
    // Running maxima over operands outside the range: ReduceMax and ArgMax (first and last index).
    for last in [false, true] {
        let g = chain(
            &[2, 4],
            vec![],
            vec![
                (QOp::ScaleUp { shift: 4 }, vec![V(0)], vec![2, 4]),
                (QOp::ReduceMax { axes: vec![1], keepdims: true }, vec![V(1)], vec![2, 1]),
                (QOp::Sub, vec![V(2), K(0)], vec![2, 1]),
            ],
        );
        let g = Arc::new(QGraph { consts: vec![QConst { data: arr(&[1], &[100]), scale: 0 }], ..(*g).clone() });
        agree("reduce max", &g, &[arr(&[2, 4], &[4, 6, 6, 5, 7, 4, 7, 5])]);
        let argmax = QOp::ArgMax { axis: 1, keepdims: false, select_last_index: last };
        let g = chain(&[2, 4], vec![], vec![(QOp::ScaleUp { shift: 4 }, vec![V(0)], vec![2, 4]), (argmax, vec![V(1)], vec![2])]);
        agree("argmax", &g, &[arr(&[2, 4], &[4, 6, 6, 5, 7, 4, 7, 5])]);
    }
    // Division by a runtime value: the divisor (|b|, sign b) and the quotient.
    let g = chain(&[4], vec![arr(&[4], &[9, -13, 20, 1])], vec![(QOp::Div { shift: 2 }, vec![K(0), V(0)], vec![4])]);
    agree("div", &g, &[arr(&[4], &[3, -5, 7, 40])]);
}
