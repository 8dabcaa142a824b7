//! Integers ↔ BN254 scalar field. A negative integer `-v` is the field element `p - v`.

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::halo2curves::ff::PrimeField;

/// `v` as a field element.
pub fn fr(v: i64) -> Fr {
    if v >= 0 { Fr::from(v as u64) } else { -Fr::from(v.unsigned_abs()) }
}

/// The integer a field element stands for, if it is within ±2^63.
pub fn to_i64(f: &Fr) -> Option<i64> {
    let small = |x: &Fr| -> Option<u64> {
        let r = x.to_repr();
        let b = r.as_ref();
        if b[8..].iter().any(|&x| x != 0) {
            return None;
        }
        Some(u64::from_le_bytes(b[..8].try_into().unwrap()))
    };
    if let Some(v) = small(f).filter(|&v| v <= i64::MAX as u64) {
        return Some(v as i64);
    }
    small(&-*f).filter(|&v| v <= i64::MAX as u64 + 1).map(|v| (v as i128).wrapping_neg() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roundtrip() {
        for v in [0i64, 1, -1, 12345, -98765, i64::MAX, i64::MIN + 1] {
            assert_eq!(to_i64(&fr(v)), Some(v));
        }
    }
}
