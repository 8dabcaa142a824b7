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
const DIGITS_MLP_STATEMENT: &str = "0000000100000300000000010000000d000000010000000dfffffffffffc0000000000000003ffff000000130000000d000000030000000000000000400104000000000000000a0106000000000000000100006c696d627300000007";
const DIGITS_MLP_COMMITMENT: &str = "0x779316bf974063098b4e5643259f9edfe8582fd40026f9cdbf0942c928e0f6b3";
