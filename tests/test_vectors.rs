//! Test vectors for the definitions other implementations must reproduce (README, "Model
//! commitment"): the Poseidon sponge, and the digits MLP's model commitment under the seeded
//! development SRS.
mod common;
use zkinfer::prover::artifacts::fr_to_hex;
use zkinfer::RunArgs;
use zkinfer_circuits::field::fr;
use zkinfer_circuits::poseidon::hash;

fn h(v: &[i64]) -> String {
    fr_to_hex(&hash(&v.iter().map(|&x| fr(x)).collect::<Vec<_>>()))
}

#[test]
fn poseidon_sponge_vectors() {
    let got = [h(&[]), h(&[1]), h(&[1, 2]), h(&[-1, 0, 7])];
    eprintln!("{got:#?}");
    assert_eq!(got, VECTORS);
}

#[test]
fn digits_mlp_commitment_vector() {
    let (c, _) = common::compiled_with_witness("digits_mlp", RunArgs::default());
    assert_eq!((c.settings.run_args.logrows, c.settings.run_args.num_inner_cols), (12, 1));
    let srs = zkinfer::prover::gen_srs_seeded(12, 0);
    let (_, vk) = zkinfer::setup(&c, &srs).unwrap();
    let commitment = zkinfer::prover::commitment_hex(&vk.commitment());
    eprintln!("commitment {commitment}\nstatement bytes 0x{}", hex::encode(vk.statement().encode()));
    assert_eq!(hex::encode(vk.statement().encode()), DIGITS_MLP_STATEMENT);
    assert_eq!(commitment, DIGITS_MLP_COMMITMENT);
}

const VECTORS: [&str; 4] = [
    "0x2098f5fb9e239eab3ceac3f27b81e481dc3124d55ffed523a839ee8446b64864",
    "0x1ddfca5881373ccc05b1e7c9cb0a22531be2d5d66747a6e3f277655241ee8be6",
    "0x090e96890a48999bf3a7be9f6ad0d759dd8345e52cb8e818c21e51b869d578ae",
    "0x247a0c996c85d3f77b550f6a4c028994c75c97736bac32b5b0ed2772322a7d65",
];
const DIGITS_MLP_STATEMENT: &str = "000000010000030000000001000000040000000100000004fffffffffffffe0000000000000001ff0000000a00000019000000030000000000000000400104000000000000000a010600000000000000010000";
const DIGITS_MLP_COMMITMENT: &str = "0x94c3fb26d50a1213966e53a3d0710bdfa614e074a8756c7695318f19f0ab4baf";
