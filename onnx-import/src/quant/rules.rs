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
//! * inputs of Relu, Abs, Clip, PRelu and every [`lookup`] activation;
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
}
