//! What a verifier trusts (README, "Model commitment"): each attack found on the verifiers'
//! inputs, performed as an attacker would with real proofs, and rejected — natively, from the
//! verifier artifact and in the EVM where it applies.
//!
//! 1. an edited key header (packing range shifted with the public values; the params hash moved
//!    or replaced) verifies only under another model commitment;
//! 2. a proof made with other params (hashed params) is rejected, even claiming the honest
//!    commitment, by `verify`, `verify-vka` and `ZkinferVerifier`;
//! 3. edited `outputs`, `rescaled_outputs` or `binding` in proof.json make the proof invalid;
//! 4. `ZkinferVerifier` refuses a verifier address without code and a verifier that returns
//!    success without the word 1;
//! 5. private params are flagged: their proofs verify for any weights, and say so.
mod common;
use zkinfer::prover::artifacts::fr_to_hex;
use zkinfer::prover::commitment_hex;
use zkinfer::verifier::vka::VerifierArtifact;
use zkinfer::{Binding, CompiledModel, InputData, ProofArtifact, RunArgs, Srs, Visibility, Witness};
use zkinfer_circuits::Role;
use zkinfer_verifier::evm::{deploy_verifier, deploy_wrapper, verifier_file, verify_proof_calldata, Chain, CompiledVerifier, EmbeddedEvm};

struct Model {
    compiled: CompiledModel,
    witness: Witness,
    pk: zkinfer::ProvingKeyFile,
    vk: zkinfer::VerifyingKeyFile,
    srs: Srs,
}

fn model(params: Visibility) -> Model {
    let ra = RunArgs { param_visibility: params, ..RunArgs::default() };
    let (compiled, witness) = common::compiled_with_witness("digits_mlp", ra);
    let srs = common::srs(compiled.settings.run_args.logrows);
    let (pk, vk) = zkinfer::setup(&compiled, &srs).unwrap();
    Model { compiled, witness, pk, vk, srs }
}

/// The same model with one param changed by one (staying in the lookup range), keys and witness.
fn with_other_params(m: &Model) -> Model {
    let mut compiled = m.compiled.clone();
    let (lo, hi) = compiled.graph.params.lookup_range;
    let c = compiled.graph.consts.last_mut().unwrap();
    let v = c.data.iter_mut().next().unwrap();
    *v += if *v < hi { 1 } else { -1 };
    assert!(*v >= lo);
    let dir = common::models().join("digits_mlp");
    let data = InputData::load(dir.join("input.json")).unwrap();
    let witness = zkinfer::gen_witness(&compiled, &InputData { input_data: vec![data.input_data[0][..64].to_vec()] }).unwrap();
    let (pk, vk) = zkinfer::setup(&compiled, &m.srs).unwrap();
    Model { compiled, witness, pk, vk, srs: m.srs.clone() }
}

fn prove(m: &Model) -> ProofArtifact {
    zkinfer::prove(&m.compiled, &m.witness, &m.pk, &m.srs, Binding::from(9)).unwrap()
}

fn honest(m: &Model) -> String {
    commitment_hex(&m.vk.commitment())
}

/// Attack 1: the header's packing range raised by one with every packed public value: the
/// instances (and so the pairing check) are unchanged, but the statement — and the commitment —
/// are not. The params hash moved onto the binding's position is refused outright, and the
/// params hash replaced changes the commitment.
#[test]
fn edited_key_header_verifies_only_under_another_commitment() {
    let m = model(Visibility::Hashed);
    let proof = prove(&m);
    assert!(zkinfer::verify(&proof, &m.vk, &m.srs).unwrap().valid);
    let mut vk = zkinfer::VerifyingKeyFile { header: m.vk.header.clone(), key: m.vk.key.clone() };
    let st = &mut vk.header.statement;
    st.packing.lo += 1;
    st.packing.hi += 1;
    let mut forged = proof.clone();
    let mut at = 0;
    for s in &st.packing.segments {
        if s.packed {
            for i in at..at + s.len {
                let v = zkinfer::prover::artifacts::fr_from_hex(&forged.instances[i]).unwrap() + Binding::one();
                forged.instances[i] = fr_to_hex(&v);
            }
        }
        at += s.len;
    }
    forged.outputs = vec![];
    forged.rescaled_outputs = vec![];
    // The edited key survives a file round trip (it is well formed) ...
    let dir = tempfile::tempdir().unwrap();
    vk.save(&dir.path().join("vk.key")).unwrap();
    let vk = zkinfer::VerifyingKeyFile::load(&dir.path().join("vk.key")).unwrap();
    // ... but the proof's honest commitment is not the edited key's,
    let v = zkinfer::verify(&forged, &vk, &m.srs).unwrap();
    assert!(!v.valid && v.reason.as_deref().unwrap().contains("model commitment"), "{v:?}");
    // and claiming the edited key's commitment verifies only under that other commitment.
    forged.model_commitment = commitment_hex(&vk.commitment());
    let v = zkinfer::verify(&forged, &vk, &m.srs).unwrap();
    assert!(v.valid, "the shifted statement is a consistent (other) statement: {v:?}");
    assert_ne!(v.model_commitment, honest(&m));
    assert!(!v.expecting(Some(&honest(&m))).valid);

    // The params hash placed at the binding's position: a malformed statement, refused on load.
    let mut vk2 = zkinfer::VerifyingKeyFile { header: m.vk.header.clone(), key: m.vk.key.clone() };
    let segs = &mut vk2.header.statement.packing.segments;
    let (ph, b) = (segs.iter().position(|s| s.role == Role::ParamsHash).unwrap(), segs.len() - 1);
    segs.swap(ph, b);
    vk2.save(&dir.path().join("vk2.key")).unwrap();
    let err = zkinfer::VerifyingKeyFile::load(&dir.path().join("vk2.key")).err().expect("refused");
    assert!(err.to_string().contains("binding"), "{err}");
    // Another params hash in the header: another commitment.
    let other = with_other_params(&m);
    let mut vk3 = zkinfer::VerifyingKeyFile { header: m.vk.header.clone(), key: m.vk.key.clone() };
    vk3.header.statement.params_hash = other.vk.statement().params_hash.clone();
    assert_ne!(commitment_hex(&vk3.commitment()), honest(&m));
}

/// Attack 2: hashed params swapped. The verifying key is the same for any params (they are
/// witnesses), so only the params hash in the statement tells the models apart.
#[test]
fn proof_made_with_other_params_is_rejected_natively_from_the_artifact_and_in_the_evm() {
    let m = model(Visibility::Hashed);
    let other = with_other_params(&m);
    assert_eq!(m.vk.key.transcript_repr(), other.vk.key.transcript_repr(), "hashed params do not change the key");
    let mut forged = prove(&other);
    assert_ne!(forged.model_commitment, honest(&m));
    let v = zkinfer::verify(&forged, &m.vk, &m.srs).unwrap();
    assert!(!v.valid, "{v:?}");
    // Claiming the honest commitment does not help: the params hash is not the model's.
    forged.model_commitment = honest(&m);
    let v = zkinfer::verify(&forged, &m.vk, &m.srs).unwrap();
    assert!(!v.valid && v.reason.as_deref().unwrap().contains("other params"), "{v:?}");
    let vka = VerifierArtifact::new(&m.vk, &m.srs);
    assert_eq!(vka.model_commitment, honest(&m));
    let v = vka.verify(&forged).unwrap();
    assert!(!v.valid && v.reason.as_deref().unwrap().contains("other params"), "{v:?}");
    let honest_proof = prove(&m);
    assert!(vka.verify(&honest_proof).unwrap().valid);

    // ZkinferVerifier of the honest model: true for the honest proof, false for the swap.
    let sol = CompiledVerifier::new(&verifier_file(&m.srs, &m.vk)).unwrap();
    let mut evm = EmbeddedEvm::default();
    let d = deploy_verifier(&mut evm, &sol).unwrap();
    let call = |evm: &mut EmbeddedEvm, p: &ProofArtifact| {
        let r = evm.call(d.wrapper, verify_proof_calldata(&p.proof_bytes().unwrap(), &p.instances().unwrap())).unwrap();
        assert!(r.success, "verifyProof reverted");
        r.output == word(1)
    };
    assert!(call(&mut evm, &honest_proof), "the honest proof is rejected");
    assert!(!call(&mut evm, &forged), "ZkinferVerifier accepted a proof made with other params");
}

/// Attack 3: proof.json's readable fields edited. Absent fields claim nothing and verify; a
/// valid verdict reports the proven outputs.
#[test]
fn edited_outputs_rescaled_outputs_and_binding_are_invalid() {
    let m = model(Visibility::Fixed);
    let proof = prove(&m);
    let vka = VerifierArtifact::new(&m.vk, &m.srs);
    let v = zkinfer::verify(&proof, &m.vk, &m.srs).unwrap();
    let claims = v.claims.expect("valid");
    assert_eq!(claims.outputs.as_ref(), Some(&m.witness.outputs));
    assert_eq!(claims.rescaled_outputs.as_ref(), Some(&m.witness.rescaled_outputs));
    assert_eq!(claims.binding, fr_to_hex(&Binding::from(9)));
    type Edit = fn(&mut ProofArtifact);
    let edits: [(&str, Edit); 5] = [
        ("`outputs`", |p| p.outputs[0][3] += 1),
        ("`outputs`", |p| p.outputs[0].pop().map(|_| ()).unwrap()),
        ("`rescaled_outputs`", |p| p.rescaled_outputs[0][0] += 0.5),
        ("binding", |p| p.binding = fr_to_hex(&Binding::from(10))),
        ("logrows", |p| p.logrows += 1),
    ];
    for (what, edit) in edits {
        let mut bad = proof.clone();
        edit(&mut bad);
        for v in [zkinfer::verify(&bad, &m.vk, &m.srs).unwrap(), vka.verify(&bad).unwrap()] {
            assert!(!v.valid && v.reason.as_deref().unwrap().contains(what), "{what}: {v:?}");
        }
    }
    let mut bare = proof.clone();
    (bare.outputs, bare.rescaled_outputs, bare.binding) = (vec![], vec![], String::new());
    assert!(zkinfer::verify(&bare, &m.vk, &m.srs).unwrap().valid);
    assert!(vka.verify(&bare).unwrap().valid);
}

fn word(x: u8) -> Vec<u8> {
    let mut w = vec![0u8; 32];
    w[31] = x;
    w
}

/// Attack 4: a wrapper over an address without code would pass every proof (a call to it
/// succeeds); a contract that succeeds silently likewise. Both are refused.
#[test]
fn wrapper_refuses_an_empty_address_and_a_silent_verifier() {
    let m = model(Visibility::Fixed);
    let proof = prove(&m);
    let sol = CompiledVerifier::new(&verifier_file(&m.srs, &m.vk)).unwrap();
    let mut evm = EmbeddedEvm::default();
    let empty = zkinfer_verifier::evm::Address::repeat_byte(0x42);
    let err = deploy_wrapper(&mut evm, &sol, empty).unwrap_err();
    assert!(err.contains("failed"), "{err}");
    // Init code returning one zero byte: a contract whose code is STOP (success, no return data).
    let (silent, _) = evm.deploy(vec![0x60, 0x01, 0x60, 0x00, 0xf3]).unwrap();
    let (wrapper, _) = deploy_wrapper(&mut evm, &sol, silent).unwrap();
    let data = verify_proof_calldata(&proof.proof_bytes().unwrap(), &proof.instances().unwrap());
    let r = evm.call(wrapper, data.clone()).unwrap();
    assert!(r.success && r.output == word(0), "a silent verifier passed the proof: {r:?}");
    let d = deploy_verifier(&mut evm, &sol).unwrap();
    let r = evm.call(d.wrapper, data).unwrap();
    assert!(r.success && r.output == word(1), "{r:?}");
}

/// Attack 5: with private params a proof made with other weights verifies under the same model
/// commitment; the verdict says what such a proof shows.
#[test]
fn private_params_verify_for_any_weights_and_are_flagged() {
    let m = model(Visibility::Private);
    let other = with_other_params(&m);
    assert_eq!(honest(&m), commitment_hex(&other.vk.commitment()), "private params are not part of the statement");
    let p = prove(&other);
    let v = zkinfer::verify(&p, &m.vk, &m.srs).unwrap();
    assert!(v.valid);
    assert!(v.warning.as_deref().unwrap().contains("SOME weights"), "{v:?}");
    let json = serde_json::to_value(&v).unwrap();
    assert!(json["warning"].as_str().unwrap().contains("private"));
    let f = model(Visibility::Fixed);
    assert!(zkinfer::verify(&prove(&f), &f.vk, &f.srs).unwrap().warning.is_none());
}
