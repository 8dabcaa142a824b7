//! Poseidon over the BN254 scalar field, natively and as a circuit gadget, with one definition:
//! width 3, rate 2, S-box `x^5`, 8 full and 57 partial rounds (the usual 128-bit parameters for
//! this field), round constants and MDS matrix from the reference Grain LFSR generator (via the
//! `poseidon-primitives` crate's `Spec::constants`).
//!
//! Permutation: 4 full rounds, 57 partial rounds, 4 full rounds; a round adds its constants, applies
//! the S-box (to every element in full rounds, to element 0 in partial rounds) and multiplies by
//! the MDS matrix.
//!
//! Packing for hashed visibility: integers known to lie in `[lo, hi]` are shifted to
//! `u = v − lo ∈ [0, 2^w)` with `w` the bit width of `hi − lo`, and `⌊252 / w⌋` of them are packed
//! per field element, big-endian: `e = (…(u_0·2^w + u_1)·2^w + …)·2^w + u_k` (the last element may
//! hold fewer). The circuit range-checks every packed value, so packing is injective.
//!
//! Sponge used for hashed visibility: state `[0, 0, n]` for a message of `n` field elements
//! (the capacity element carries the length); absorb two elements at a time by adding them to
//! state elements 0 and 1, permuting after each pair (and once for an empty message); the hash is
//! state element 0.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::Field;
use poseidon_primitives::poseidon::primitives::Spec;
use std::sync::OnceLock;

pub const FULL_ROUNDS: usize = 8;
pub const PARTIAL_ROUNDS: usize = 57;
pub const ROUNDS: usize = FULL_ROUNDS + PARTIAL_ROUNDS;

/// The parameter set, as a `poseidon-primitives` spec.
#[derive(Debug)]
pub struct Bn254Width3;

impl Spec<Fr, 3, 2> for Bn254Width3 {
    fn full_rounds() -> usize {
        FULL_ROUNDS
    }
    fn partial_rounds() -> usize {
        PARTIAL_ROUNDS
    }
    fn sbox(val: Fr) -> Fr {
        val.pow_vartime([5])
    }
    fn secure_mds() -> usize {
        0
    }
}

pub struct Constants {
    /// One row of three constants per round.
    pub rc: Vec<[Fr; 3]>,
    pub mds: [[Fr; 3]; 3],
}

pub fn constants() -> &'static Constants {
    static C: OnceLock<Constants> = OnceLock::new();
    C.get_or_init(|| {
        let (rc, mds, _) = Bn254Width3::constants();
        Constants { rc, mds }
    })
}

/// Whether round `r` is a full round.
pub fn is_full(r: usize) -> bool {
    r < FULL_ROUNDS / 2 || r >= FULL_ROUNDS / 2 + PARTIAL_ROUNDS
}

fn pow5(x: Fr) -> Fr {
    let x2 = x.square();
    x2.square() * x
}

/// One round.
pub fn round(state: &[Fr; 3], r: usize) -> [Fr; 3] {
    let c = constants();
    let mut t = [Fr::zero(); 3];
    for i in 0..3 {
        t[i] = state[i] + c.rc[r][i];
        if i == 0 || is_full(r) {
            t[i] = pow5(t[i]);
        }
    }
    let mut out = [Fr::zero(); 3];
    for (i, o) in out.iter_mut().enumerate() {
        for (j, tj) in t.iter().enumerate() {
            *o += c.mds[i][j] * tj;
        }
    }
    out
}

pub fn permute(state: &mut [Fr; 3]) {
    for r in 0..ROUNDS {
        *state = round(state, r);
    }
}

/// The sponge hash of a message of field elements.
pub fn hash(msg: &[Fr]) -> Fr {
    let mut s = [Fr::zero(), Fr::zero(), Fr::from(msg.len() as u64)];
    if msg.is_empty() {
        permute(&mut s);
    }
    for chunk in msg.chunks(2) {
        s[0] += chunk[0];
        if let Some(m) = chunk.get(1) {
            s[1] += m;
        }
        permute(&mut s);
    }
    s[0]
}

/// Bit width of a slot holding `v − lo` for `v ∈ [lo, hi]`.
pub fn pack_width(lo: i64, hi: i64) -> u32 {
    (64 - ((hi - lo) as u64).leading_zeros()).max(1)
}

/// Values per packed field element for slot width `w`.
pub fn per_element(w: u32) -> usize {
    (252 / w) as usize
}

/// Pack integers in `[lo, hi]` into field elements (see the module docs).
pub fn pack(values: &[i64], lo: i64, hi: i64) -> Vec<Fr> {
    let w = pack_width(lo, hi);
    let shift = Fr::from(1u64 << w);
    values
        .chunks(per_element(w))
        .map(|c| c.iter().fold(Fr::zero(), |acc, &v| acc * shift + Fr::from((v - lo) as u64)))
        .collect()
}

/// The hash of integers in `[lo, hi]`: the sponge over their packing.
pub fn hash_packed(values: &[i64], lo: i64, hi: i64) -> Fr {
    hash(&pack(values, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;
    use poseidon_primitives::poseidon::primitives::{ConstantLength, Hash};

    /// Our round function agrees with the `poseidon-primitives` reference permutation.
    #[test]
    fn permutation_matches_reference_implementation() {
        let reference = Hash::<Fr, Bn254Width3, ConstantLength<2>, 3, 2>::init();
        for seed in [[0u64, 0, 0], [1, 2, 3], [u64::MAX, 7, 1 << 40]] {
            let mut ours = seed.map(Fr::from);
            let mut theirs = ours;
            permute(&mut ours);
            reference.permute(&mut theirs);
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn packing_is_positional() {
        assert_eq!(pack_width(-512, 511), 10);
        assert_eq!(per_element(10), 25);
        let a = pack(&[-512, 511, 0], -512, 511);
        assert_eq!(a, vec![Fr::from(1023u64 * 1024 + 512)]); // u = [0, 1023, 512]
        assert_ne!(pack(&[1, 2], -512, 511), pack(&[2, 1], -512, 511));
        assert_eq!(pack(&vec![3; 30], -512, 511).len(), 2);
    }

    #[test]
    fn hash_is_deterministic_and_length_separated() {
        let a = hash(&[Fr::from(1), Fr::from(2)]);
        assert_eq!(a, hash(&[Fr::from(1), Fr::from(2)]));
        assert_ne!(a, hash(&[Fr::from(1), Fr::from(2), Fr::zero()]));
        assert_ne!(a, hash(&[Fr::from(2), Fr::from(1)]));
        assert_ne!(hash(&[]), hash(&[Fr::zero()]));
    }
}
