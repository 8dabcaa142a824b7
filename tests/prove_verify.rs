//! Real proofs (KZG/SHPLONK) for the committed models the circuit supports: setup, prove and
//! verify succeed; the proof's outputs equal the reference executor's; a tampered proof byte, a
//! tampered instance and a changed binding are rejected; an instance >= the field modulus is an
//! input error. SRS files are cached per k under the test target directory.
mod common;
use common::srs;
use zkinfer::prover::artifacts::fr_to_hex;
use zkinfer::{Binding, RunArgs, Srs, Visibility};

struct Run {
    compiled: zkinfer::CompiledModel,
    witness: zkinfer::Witness,
    pk: zkinfer::ProvingKeyFile,
    vk: zkinfer::VerifyingKeyFile,
    srs: Srs,
}

fn setup(name: &str, ra: RunArgs) -> Run {
    let (compiled, witness) = common::compiled_with_witness(name, ra);
    let srs = srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs).unwrap();
    Run { compiled, witness, pk, vk, srs }
}

fn prove_and_tamper(name: &str, r: &Run) {
    let binding = Binding::from(7);
    let proof = zkinfer::prove(&r.compiled, &r.witness, &r.pk, &r.srs, binding).unwrap();
    let v = zkinfer::verify(&proof, &r.vk, &r.srs).unwrap();
    assert!(v.valid, "{name}: {v:?}");
    if r.compiled.settings.run_args.output_visibility == Visibility::Public {
        assert_eq!(proof.outputs, r.witness.outputs, "{name}: proof outputs differ from the reference executor");
    }
    assert_eq!(proof.binding, fr_to_hex(&binding));
    // A flipped proof byte.
    let mut bad = proof.clone();
    let mut bytes = bad.proof_bytes().unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    bad.proof = format!("0x{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
    assert!(!zkinfer::verify(&bad, &r.vk, &r.srs).map(|v| v.valid).unwrap_or(false), "{name}: tampered proof accepted");
    // The verifier artifact (reusable-verifier data) agrees, through a file round trip.
    let vka = zkinfer::verifier::vka::VerifierArtifact::new(&r.vk, &r.srs);
    let dir = tempfile::tempdir().unwrap();
    vka.save(&dir.path().join("vka.json")).unwrap();
    let vka = zkinfer::verifier::vka::VerifierArtifact::load(&dir.path().join("vka.json")).unwrap();
    assert!(vka.verify(&proof).unwrap().valid, "{name}: artifact rejects the valid proof");
    assert!(!vka.verify(&bad).unwrap().valid, "{name}: artifact accepts a tampered proof");
    // Each public value changed by one: the first (input or output) and the binding (last).
    for i in [0, proof.instances.len() - 1] {
        let mut bad = proof.clone();
        let x = zkinfer::prover::artifacts::fr_from_hex(&bad.instances[i]).unwrap() + Binding::one();
        bad.instances[i] = fr_to_hex(&x);
        assert!(!zkinfer::verify(&bad, &r.vk, &r.srs).unwrap().valid, "{name}: tampered instance {i} accepted");
        assert!(!vka.verify(&bad).unwrap().valid, "{name}: artifact accepts tampered instance {i}");
    }
    // An instance at or above the field modulus is an input error, not a verdict.
    let mut bad = proof.clone();
    bad.instances[0] = "0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001".into();
    let err = zkinfer::verify(&bad, &r.vk, &r.srs).unwrap_err();
    assert!(err.to_string().contains("modulus"), "{err}");
    eprintln!("{name}: logrows {} proof {} bytes ok", r.compiled.settings.run_args.logrows, proof.proof_bytes().unwrap().len());
}

#[test]
fn committed_models_prove_and_verify() {
    for name in [
        "digits_mlp", "digits_cnn", "logreg_sigmoid", "convnet_bn", "ops_activations", "ops_conv", "ops_pool", "ops_norm", "ops_shape",
        "ops_linear", "ops_softmax", "ops_softmax_legacy", "ops_reduce", "ops_elementwise", "ops_legacy",
    ] {
        let r = setup(name, RunArgs::default());
        prove_and_tamper(name, &r);
    }
}

/// The comparison model and the tabular (`ai.onnx.ml`) models whose calibrated circuits are
/// small, and the unary lookup family: every ai.onnx.ml kind the importer takes (Scaler,
/// Normalizer, Binarizer, LinearClassifier, LinearRegressor, ArrayFeatureExtractor, SVMRegressor
/// (RBF kernel), TreeEnsembleClassifier and TreeEnsembleRegressor, laid out by
/// `zkinfer_circuits::ops::tree`).
/// The diabetes and breast-cancer models need lookup ranges of 2^21 rows and more (features and
/// targets in the thousands) and are left to `quantized_fidelity`.
#[test]
fn tabular_models_prove_and_verify() {
    let names = [
        "ops_compare", "ops_unary", "ml_logreg_iris", "ml_tree_iris", "ml_forest_iris", "ml_gbm_iris", "ml_xgboost_iris",
        "ml_linreg_iris", "ml_forest_reg_iris", "ml_binarizer_iris", "ml_linear_svc_iris", "ml_svr_rbf",
        "ml_svc_poly_binary", "ml_tree_modes", "ml_tree_ensemble5",
    ];
    for name in names {
        let name = format!("breadth/{name}");
        let r = setup(&name, RunArgs::default());
        prove_and_tamper(&name, &r);
    }
}

/// Tabular models with features and targets in the thousands (breast cancer, diabetes): their
/// calibrated circuits range-check over limbs and stay at 2^9 rows, so they prove for real too.
/// (`ml_logreg_pipeline` calibrates to 2^21 rows — its Sigmoid table spans the range — and is
/// left to MockProver: ~10 min to prove here.)
#[test]
fn large_range_tabular_models_prove_and_verify() {
    for name in ["breadth/ml_lightgbm_binary", "breadth/ml_forest_reg"] {
        let r = setup(name, RunArgs::default());
        prove_and_tamper(name, &r);
    }
}

/// Recurrent layers, unrolled at import: an LSTM sequence classifier (the form PyTorch exports,
/// initial states omitted), and the GRU forms (PyTorch's `linear_before_reset`, reverse with an
/// initial state, bidirectional) prove and verify for real.
#[test]
fn recurrent_models_prove_and_verify() {
    for name in ["breadth/rnn_lstm_classifier", "breadth/rnn_gru"] {
        let r = setup(name, RunArgs::default());
        prove_and_tamper(name, &r);
    }
}

/// Ops lowered at import to the proved ones (TopK, Hardmax, OneHot, the reductions; an opset 6
/// model's legacy broadcasts; attention's activation products, Einsum, runtime-index Gather)
/// prove and verify for real.
#[test]
fn import_lowered_models_prove_and_verify() {
    for name in ["breadth/ops_select", "breadth/ops_opset6", "breadth/ops_attention", "breadth/ops_int_inputs", "breadth/ops_scatter"] {
        let r = setup(name, RunArgs::default());
        prove_and_tamper(name, &r);
    }
}

#[test]
fn digits_mlp_visibilities_prove_and_verify() {
    use Visibility::*;
    for (input, param, output) in [(Private, Fixed, Public), (Public, Private, Public), (Public, Public, Public), (Private, Private, Public)] {
        let ra = RunArgs { input_visibility: input, param_visibility: param, output_visibility: output, ..RunArgs::default() };
        let r = setup("digits_mlp", ra);
        prove_and_tamper(&format!("digits_mlp {input:?}/{param:?}/{output:?}"), &r);
    }
}

#[test]
fn keys_and_witnesses_of_other_models_are_refused() {
    let a = setup("digits_mlp", RunArgs::default());
    let b = setup("logreg_sigmoid", RunArgs::default());
    let err = zkinfer::prove(&a.compiled, &a.witness, &b.pk, &a.srs, Binding::zero()).unwrap_err();
    assert!(err.to_string().contains("different compiled model"), "{err}");
    let mut w = a.witness.clone();
    w.outputs[0][0] += 1;
    let err = zkinfer::prove(&a.compiled, &w, &a.pk, &a.srs, Binding::zero()).unwrap_err();
    assert!(err.to_string().contains("do not follow from its inputs"), "{err}");
    // A proof checked against another model's verifying key is rejected or refused.
    let proof = zkinfer::prove(&a.compiled, &a.witness, &a.pk, &a.srs, Binding::zero()).unwrap();
    assert!(!zkinfer::verify(&proof, &b.vk, &b.srs).map(|v| v.valid).unwrap_or(false));
    let other = zkinfer::verifier::vka::VerifierArtifact::new(&b.vk, &b.srs);
    assert!(!matches!(other.verify(&proof), Ok(v) if v.valid), "another model's artifact accepted the proof");
    let own = zkinfer::verifier::vka::VerifierArtifact::new(&a.vk, &a.srs);
    assert_ne!(own.digest(), other.digest());
    assert_eq!(own.digest(), zkinfer::verifier::vka::VerifierArtifact::new(&a.vk, &a.srs).digest(), "digest must be deterministic");
}

/// Hashed params: the proof carries the params' Poseidon hash, the statement (and so the model
/// commitment) records it, and a proof whose params hash is changed is rejected.
#[test]
fn hashed_visibilities_prove_and_verify() {
    use Visibility::*;
    for (input, param, output) in [(Public, Hashed, Public), (Hashed, Hashed, Hashed)] {
        let ra = RunArgs { input_visibility: input, param_visibility: param, output_visibility: output, ..RunArgs::default() };
        let r = setup("digits_mlp", ra);
        prove_and_tamper(&format!("digits_mlp {input:?}/{param:?}/{output:?}"), &r);
        let proof = zkinfer::prove(&r.compiled, &r.witness, &r.pk, &r.srs, Binding::zero()).unwrap();
        let ph = zkinfer::prover::params_hash(&r.compiled).expect("hashed params");
        let i = r.vk.statement().packing.params_hash_value().expect("params hash value");
        assert_eq!(proof.instances[i], fr_to_hex(&ph));
        assert_eq!(r.vk.statement().params_hash.as_deref(), Some(fr_to_hex(&ph).as_str()));
        assert_eq!(proof.model_commitment, zkinfer::prover::commitment_hex(&r.vk.commitment()));
        let v = zkinfer::verify(&proof, &r.vk, &r.srs).unwrap();
        assert_eq!(v.claims.unwrap().params_hash, Some(fr_to_hex(&ph)));
    }
}

/// Calibration picks one lane for every small committed model; two and three lanes (dot rows
/// packing several products, elementwise chips on lane 0) must prove, verify and reject tampering.
#[test]
fn multi_lane_circuits_prove_and_verify() {
    for (name, lanes) in [("digits_cnn", 2), ("ops_elementwise", 2), ("ops_pool", 3)] {
        let (compiled, witness) = common::compiled_with_lanes(name, lanes);
        let srs = srs(compiled.settings.run_args.logrows);
        let (pk, vk) = zkinfer::setup(&compiled, &srs).unwrap();
        prove_and_tamper(&format!("{name} ({lanes} lanes)"), &Run { compiled, witness, pk, vk, srs });
    }
}

/// Dot groups (gate `mdot`, 3 accumulators on 4 lanes) with the second limb slot: a real proof
/// of the digits CNN verifies and tampering is rejected.
#[test]
fn dot_groups_prove_and_verify() {
    let (compiled, witness) = common::compiled_with_layout("digits_cnn", 4, 3);
    assert!(compiled.settings.run_args.range_bits > 0, "limbs expected");
    let srs = srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs).unwrap();
    prove_and_tamper("digits_cnn (4 lanes, dot groups of 3)", &Run { compiled, witness, pk, vk, srs });
}

/// The EVM verifier pays one ecMul (6,000 gas) and 64 calldata bytes per commitment: pin the digits
/// MLP's counts (README, "Circuit") so a new column is a deliberate choice, not a silent cost.
#[test]
fn digits_mlp_commitment_counts() {
    let r = setup("digits_mlp", RunArgs::default());
    let a = zkinfer::verifier::vka::VerifierArtifact::new(&r.vk, &r.srs);
    let p = &a.protocol;
    let witness: usize = p.num_witness.iter().sum();
    let quotient = p.quotient.num_chunk();
    // Verifying key: cl, cr, ck, the lookup tag, 3 table columns, 2 compressed selector
    // columns, 3 permutation σ. Proof: 3 advice, 2 permuted lookup columns, the lookup and
    // permutation products, the random polynomial; 4 quotient pieces (degree 5).
    assert_eq!((p.preprocessed.len(), witness, quotient), (12, 8, 4), "preprocessed, witness, quotient pieces");
}
