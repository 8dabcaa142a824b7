//! The integer semantics of zkinfer, written once. The reference executor applies exactly these
//! functions and the circuit constrains exactly these relations.
//!
//! * A tensor with scale `s` holds integers `X` standing for reals `x ≈ X / 2^s`.
//! * **Quantize** a real `x` at scale `s`: `round(x · 2^s)`, half away from zero.
//! * **Rescale** by `k` bits (after a product of scales `a + b`): `floor((X + 2^(k-1)) / 2^k)`,
//!   i.e. round half up; in the circuit `X + 2^(k-1) = Y · 2^k + R` with `0 <= R < 2^k`.
//! * **Scale up** by `k` bits (aligning operands of an addition): `X · 2^k`, exact.
//! * **Divide** by a positive integer `d` (averages, softmax normalisation, variable division):
//!   `floor((2N + d) / (2d))`, round half up; a negative divisor negates both sides; zero is an error.
//! * **Lookup** of a function `f` from scale `a` to scale `b`:
//!   `clamp(round(f(X / 2^a) · 2^b), -2^40, 2^40)`; a NaN maps to 0. The input must lie in the
//!   calibrated lookup range `[lo, hi]`, else execution stops with an error asking to re-calibrate.
//! * **Reduced lookup** (settings `table_bits = T`, when `[lo, hi]` holds more than `2^T` values;
//!   see [`Reduction`]): `M = clamp(rescale(X, j), L, H)`, then
//!   `clamp(round(f(M · 2^(j-a)) · 2^b), ±2^40)`: the table holds `[L, H]`, at most `2^T` rows.
//!   `[L, H]` is the rescaled range with the constant runs at its ends cut off, so the clamp
//!   changes no value; the rescale does: the error is at most `max|f'| · 2^(j-a-1)` in real
//!   terms (the input moves by at most half a step of `2^(j-a)`), plus the output rounding.
//! * Comparisons (relu, max, pooling max, argmax, clip, abs) are exact on integers. A maximum is a
//!   running fold `m ← m + relu(v − m)` (a minimum `m ← m − relu(m − v)`); argmax then finds the
//!   index where `m − v = 0`.
//! * **Overflow**: every value, and every partial sum of a sum of products, must stay below
//!   [`VALUE_LIMIT`] in magnitude (products are computed in i128). A running value that reaches it
//!   becomes [`OVERFLOW`] and stays there ([`accumulate`]), so an i64 sum that would come back
//!   below the limit is never mistaken for the field sum the circuit computes; the executor
//!   reports "integer overflow; lower input_scale / param_scale".
//!
//! **Which values are range-checked** (must lie in the lookup range `[lo, hi]`): exactly the values
//! the circuit presents to a lookup-range table, i.e. a function table over `[lo, hi]` (table 1,
//! ReLU, doubles as the plain range check), plus the values it packs. The reference executor
//! checks exactly these, so the executor accepts an input iff the circuit's lookups can hold:
//!
//! * model inputs (packed when public or hashed, range-checked when private) and published
//!   (public or hashed) outputs, which are packed; params when packed (public or hashed params,
//!   only when all of them lie in the range, so they hold by construction);
//! * inputs of Relu, Abs, Clip, PRelu and every [`lookup`] activation, reduced or not; for a
//!   reduced lookup also the clamp differences `rescale(X, j) − L` (when it clamps below) and
//!   `H − max(rescale(X, j), L)` (when it clamps above), which the circuit's ReLUs check;
//! * quotients of divisions: Rescale with `shift > 0` (`shift = 0` is the identity and lays out
//!   nothing), AveragePool, ReduceMean, Div, Softmax normalisation, and LogSoftmax's aligned
//!   difference when `in_scale > out_scale` (a division by `2^(in_scale − out_scale)`);
//! * divisors of Div (its `|b|` and `sign(b)` lookups) and softmax sums (their `ln` lookup);
//! * each running-max difference `v − m` (Max, Min, MaxPool, ReduceMax, ArgMax and the softmax
//!   maximum), the softmax differences `x − max` (their `exp` lookup) and ArgMax's `m − v` (its
//!   is-zero lookup). The operands of a maximum themselves are not range-checked.
//!
//! Remainders (`[0, 2d)`) and the non-negative slacks of divisions are checked against range
//! tables of their own, implied by the division itself: they are not lookup-range checks.

use crate::activation::Activation;
use serde::{Deserialize, Serialize};

/// Largest magnitude a lookup table returns.
pub const LOOKUP_SATURATION: i64 = 1 << 40;

/// Largest magnitude any value may reach before the executor reports an overflow.
pub const VALUE_LIMIT: i64 = 1 << 62;

/// The value an overflowed computation holds (its magnitude is at least [`VALUE_LIMIT`]).
pub const OVERFLOW: i64 = i64::MAX;

/// Whether `v` has reached [`VALUE_LIMIT`] in magnitude ([`OVERFLOW`] included).
pub fn overflowed(v: i64) -> bool {
    v.unsigned_abs() >= VALUE_LIMIT as u64
}

/// The exact `v` when its magnitude is below [`VALUE_LIMIT`], else [`OVERFLOW`].
pub fn bounded(v: i128) -> i64 {
    if v.unsigned_abs() >= VALUE_LIMIT as u128 { OVERFLOW } else { v as i64 }
}

/// `acc + t` for a running value `acc` (a partial sum), with sticky overflow: once `acc` has
/// overflowed it stays [`OVERFLOW`], whatever later terms would bring the true sum back to.
pub fn accumulate(acc: i64, t: i128) -> i64 {
    if overflowed(acc) { OVERFLOW } else { bounded(acc as i128 + t) }
}

/// `round(x · 2^s)`, half away from zero, as i64 (saturating at the i64 limits).
pub fn quantize(x: f64, scale: u32) -> i64 {
    let v = (x * (scale as f64).exp2()).round();
    if v.is_nan() { 0 } else { v.clamp(i64::MIN as f64, i64::MAX as f64) as i64 }
}

/// `X / 2^s` as a real.
pub fn dequantize(x: i64, scale: u32) -> f64 {
    x as f64 / (scale as f64).exp2()
}

/// `floor((x + 2^(k-1)) / 2^k)`: division by `2^k`, rounding half up. Identity for `k = 0`.
pub fn rescale(x: i64, k: u32) -> i64 {
    if k == 0 {
        return x;
    }
    ((x as i128 + (1i128 << (k - 1))) >> k) as i64
}

/// `x · 2^k`, saturating.
pub fn scale_up(x: i64, k: u32) -> i64 {
    x.saturating_mul(1i64 << k)
}

/// `floor((2n + d) / (2d))` for `d > 0` (round half up); negative `d` negates both; `None` for 0.
pub fn div_round(n: i128, d: i128) -> Option<i64> {
    if d == 0 {
        return None;
    }
    let (n, d) = if d < 0 { (-n, -d) } else { (n, d) };
    let q = (2 * n + d).div_euclid(2 * d);
    Some(q.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// The lookup table entry for input `x`: `clamp(round(f(x / 2^a) · 2^b), ±2^40)`, NaN -> 0.
pub fn lookup(f: &Activation, x: i64, in_scale: u32, out_scale: u32) -> i64 {
    let y = f.eval(dequantize(x, in_scale)) * (out_scale as f64).exp2();
    if y.is_nan() {
        return 0;
    }
    (y.round().clamp(-(LOOKUP_SATURATION as f64), LOOKUP_SATURATION as f64)) as i64
}

/// The reduction of a lookup's input to a table of at most `2^T` rows: `M = clamp(rescale(X,
/// shift), lo, hi)`. `[lo, hi]` lies within the rescaled lookup range; each end where it is
/// narrower is a clamp, exact because the table value is constant beyond it ([`reduction`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reduction {
    pub shift: u32,
    pub lo: i64,
    pub hi: i64,
}

impl Reduction {
    /// Whether the input is clamped below and above, for the lookup range `[lo, hi]`.
    pub fn clamps(&self, lo: i64, hi: i64) -> (bool, bool) {
        (self.lo > rescale(lo, self.shift), self.hi < rescale(hi, self.shift))
    }
    /// The reduced input `clamp(rescale(x, shift), lo, hi)`.
    pub fn reduce(&self, x: i64) -> i64 {
        rescale(x, self.shift).clamp(self.lo, self.hi)
    }
}

/// Longest constant run a reduction scans for at one end of the range (per shift); longer runs
/// are cut there, which keeps the clamp exact and only leaves the table larger.
const MAX_RUN_SCAN: i64 = 1 << 21;

/// The table entry of a reduced input `m` (the input rescaled by `shift` bits):
/// `clamp(round(f(m · 2^(shift − a)) · 2^b), ±2^40)`, NaN -> 0; [`lookup`] at `shift = 0`.
pub fn lookup_at(f: &Activation, m: i64, in_scale: u32, shift: u32, out_scale: u32) -> i64 {
    let x = m as f64 * (shift as f64 - in_scale as f64).exp2();
    let y = f.eval(x) * (out_scale as f64).exp2();
    if y.is_nan() {
        return 0;
    }
    (y.round().clamp(-(LOOKUP_SATURATION as f64), LOOKUP_SATURATION as f64)) as i64
}

/// A reduced lookup's output for input `x` (in the lookup range).
pub fn reduced_lookup(f: &Activation, x: i64, in_scale: u32, out_scale: u32, r: &Reduction) -> i64 {
    lookup_at(f, r.reduce(x), in_scale, r.shift, out_scale)
}

/// How to look `f` up in a table of at most `2^table_bits` rows for inputs in `range`: `None`
/// when `table_bits` is 0 or the range fits (a plain [`lookup`]); else the smallest shift `j` at
/// which the rescaled range, with the constant runs of table values at both ends cut off (a
/// saturating function such as sigmoid, tanh or exp needs only the inputs where its rounded
/// value still changes), holds at most `2^table_bits` values.
pub fn reduction(f: &Activation, in_scale: u32, out_scale: u32, range: (i64, i64), table_bits: u32) -> Option<Reduction> {
    let (lo, hi) = range;
    if table_bits == 0 || lo > hi || ((hi as i128 - lo as i128 + 1) as u128) <= 1u128 << table_bits {
        return None;
    }
    let size = 1i128 << table_bits;
    for shift in 1..63 {
        let (a, b) = (rescale(lo, shift), rescale(hi, shift));
        let v = |m: i64| lookup_at(f, m, in_scale, shift, out_scale);
        let (va, vb) = (v(a), v(b));
        let mut dlo = a;
        while dlo < b && dlo - a < MAX_RUN_SCAN && v(dlo + 1) == va {
            dlo += 1;
        }
        let mut dhi = b;
        while dhi > dlo && b - dhi < MAX_RUN_SCAN && v(dhi - 1) == vb {
            dhi -= 1;
        }
        if (dhi as i128 - dlo as i128 + 1) <= size {
            return Some(Reduction { shift, lo: dlo, hi: dhi });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_half_up() {
        assert_eq!(rescale(5, 1), 3); // 2.5 -> 3
        assert_eq!(rescale(-5, 1), -2); // -2.5 -> -2
        assert_eq!(rescale(-6, 1), -3);
        assert_eq!(rescale(383, 7), 3); // 2.99 -> 3
        assert_eq!(rescale(-191, 7), -1); // -1.49 -> -1
        assert_eq!(rescale(7, 0), 7);
    }

    #[test]
    fn div_round_matches_rescale_for_powers_of_two() {
        for x in -300i64..300 {
            assert_eq!(div_round(x as i128, 8), Some(rescale(x, 3)), "x = {x}");
        }
        assert_eq!(div_round(7, -2), Some(-3)); // -3.5 -> -3
        assert_eq!(div_round(1, 0), None);
    }

    #[test]
    fn overflow_is_sticky() {
        let big = 1i128 << 61;
        assert_eq!(accumulate(0, big), 1 << 61);
        // 2^61 + 2^61 reaches the limit; subtracting again does not bring it back.
        let s = accumulate(1 << 61, big);
        assert_eq!(s, OVERFLOW);
        assert_eq!(accumulate(s, -big), OVERFLOW);
        assert_eq!(accumulate(-(1 << 61), -big), OVERFLOW);
        assert_eq!(bounded(-(VALUE_LIMIT as i128) + 1), -VALUE_LIMIT + 1);
        assert!(overflowed(i64::MIN) && overflowed(OVERFLOW) && !overflowed(VALUE_LIMIT - 1));
    }

    #[test]
    fn quantize_and_lookup() {
        assert_eq!(quantize(0.5, 7), 64);
        assert_eq!(quantize(-0.00390625, 7), -1); // -0.5 ulp rounds away from zero
        assert_eq!(lookup(&Activation::Sigmoid, 0, 7, 7), 64);
        assert_eq!(lookup(&Activation::Exp, 1 << 20, 0, 0), LOOKUP_SATURATION);
        assert_eq!(lookup(&Activation::Ln, 0, 7, 7), -LOOKUP_SATURATION); // ln 0 = -inf saturates
        assert_eq!(lookup(&Activation::Ln, -5, 7, 7), 0); // NaN maps to 0
    }

    #[test]
    fn reduction_cuts_saturated_ends_and_keeps_their_values() {
        // sigmoid from scale 11 to 11 over [-2^17, 2^17): saturates beyond |x| ≈ 8.3.
        let range = (-(1i64 << 17), (1 << 17) - 1);
        assert_eq!(reduction(&Activation::Sigmoid, 11, 11, range, 0), None);
        assert_eq!(reduction(&Activation::Sigmoid, 11, 11, range, 18), None);
        let r = reduction(&Activation::Sigmoid, 11, 11, range, 12).unwrap();
        assert!(r.hi - r.lo < 1 << 12 && r.shift >= 1);
        assert_eq!(r.clamps(range.0, range.1), (true, true));
        // The clamp changes no value: every input of the range gives the rescaled lookup.
        for x in (range.0..=range.1).step_by(7) {
            assert_eq!(reduced_lookup(&Activation::Sigmoid, x, 11, 11, &r), lookup_at(&Activation::Sigmoid, rescale(x, r.shift), 11, r.shift, 11), "x = {x}");
        }
        // Shift 0 is the plain lookup; the error of a shift is at most max|f'| · 2^(j-a-1) + ulp.
        assert_eq!(lookup_at(&Activation::Tanh, 77, 5, 0, 9), lookup(&Activation::Tanh, 77, 5, 9));
        let bound = 0.25 * (r.shift as f64 - 12.0).exp2() * 2048.0 + 1.0;
        for x in (range.0..=range.1).step_by(13) {
            let e = (reduced_lookup(&Activation::Sigmoid, x, 11, 11, &r) - lookup(&Activation::Sigmoid, x, 11, 11)).abs();
            assert!(e as f64 <= bound, "x = {x}: error {e} > {bound}");
        }
        // A function without saturation keeps the whole rescaled range, clamping nothing.
        let r = reduction(&Activation::Sqrt, 8, 8, (-(1 << 13), (1 << 13) - 1), 10).unwrap();
        assert_eq!(r.shift, 4);
        assert_eq!(r.clamps(-(1 << 13), (1 << 13) - 1), (true, false)); // sqrt is 0 below 0
        assert_eq!((r.lo, r.hi), (0, 512));
    }
}
