//! Range checks whose tables do not grow with precision: a value is decomposed into limbs, each
//! looked up in a small identity table, and recomposed by the `limb` gate (see
//! [`crate::config`]). Used when the circuit has limbs (settings `range_bits = k > 0`); with
//! `k = 0` every range check is one row of the lookup-range table instead.
//!
//! **Decomposition** of `x` with offset `c` over widths `w_0, …, w_{n-1}` (most significant
//! first), on `n` rows of lane 0: row `j` holds the limb `l_j` in `a_0`, looked up in the table
//! `[0, 2^(w_j))`, and the running sum `z_j = 2^(w_j)·z_{j-1} + l_j` in `b_0` (`z_{-1} = 0`); the
//! last row adds `-c`, and its `b_0` is copy-constrained to `x`. So
//! `x + c = Σ_j l_j·2^(w_{j+1} + … + w_{n-1})` with every `l_j < 2^(w_j)`: the integer `x + c`
//! lies in `[0, 2^W)`, `W = Σ w_j` (no wrap-around: `2^W` is far below the field modulus), and
//! its limbs are unique.
//!
//! * signed range check over the lookup range: `c = 2^(W-1)` with `W` the bits of the smallest
//!   signed range `[-2^(W-1), 2^(W-1))` holding `[lo, hi]`, limbs of `k` bits (the top one
//!   narrower): `x ∈ [-2^(W-1), 2^(W-1))`;
//! * ReLU: the same with a 1-bit top limb `s` (table `[0, 2)`): `s = 1` exactly when `x ≥ 0`, and
//!   `relu(x) = s·x` (a one-term `dot` chain);
//! * unsigned check `0 ≤ r < 2^m` (remainders, slacks): `c = 0`.
//!
//! A power-of-two range check of `[lo, hi]` accepts the values of `[-2^(W-1), lo)` and
//! `(hi, 2^(W-1))` too: still no wrap-around, so quotients and signs stay unique, and the
//! reference executor (which checks `[lo, hi]`) refuses every witness outside it first. The
//! calibrator chooses symmetric power-of-two lookup ranges, where the two coincide.

use crate::layout::{exact, synthesis_error, ArithOp, Layout, Wire};
use halo2_proofs::plonk::Error;

/// Limb widths covering `bits` bits with limbs of `k` bits, most significant (narrowest) first.
pub fn widths(bits: u32, k: u32) -> Vec<u32> {
    let mut w = vec![k; (bits / k) as usize];
    if bits % k != 0 {
        w.insert(0, bits % k);
    }
    w
}

impl Layout<'_, '_> {
    /// Decompose `x + offset` over `widths` (module docs). Returns the limbs' `a_0` wires, most
    /// significant first. A witness outside the range fails synthesis with the value named.
    pub fn decompose(&mut self, x: &Wire, offset: i64, widths: &[u32]) -> Result<Vec<Wire>, Error> {
        let cfg = self.cfg;
        let q_limb = cfg.q_limb.ok_or_else(|| synthesis_error("a limb decomposition in a circuit without limbs".into()))?;
        let bits: u32 = widths.iter().sum();
        let u = match x.value {
            Some(v) => {
                let u = exact((v as i128).checked_add(offset as i128), "a decomposed value")?;
                if u < 0 || (u as i128) >= 1i128 << bits {
                    return Err(synthesis_error(format!("value {v} is outside the range checked by {bits} bits at offset {offset}; re-calibrate (zkinfer calibrate-settings) or widen lookup_range")));
                }
                Some(u)
            }
            None => None,
        };
        let mut below = bits;
        let mut z: Option<i64> = Some(0);
        let mut limbs = Vec::with_capacity(widths.len());
        let last = widths.len() - 1;
        for (j, &w) in widths.iter().enumerate() {
            below -= w;
            let l = u.map(|u| (u >> below) & ((1i64 << w) - 1));
            let tag = self.tables.limb_tag(w);
            let row = self.take_row();
            self.enable(q_limb, row)?;
            let (limb, _) = self.table_row(row, tag, l);
            if j > 0 {
                self.fixed(cfg.cl, row, 1i64 << w);
            }
            z = match (z, l) {
                (Some(z), Some(l)) => Some((z << w) + l),
                _ => None,
            };
            let zv = if j == last {
                self.fixed(cfg.ck[0], row, -offset);
                z.map(|z| z - offset)
            } else {
                z
            };
            let zw = self.advice(cfg.b[0], row, zv);
            if j == last {
                self.eq(&zw, x);
            }
            limbs.push(limb);
        }
        Ok(limbs)
    }

    /// Range-check `x` over the signed range of the lookup range by limbs; records `x` as a
    /// lookup-range value.
    pub fn range_check_limbs(&mut self, x: &Wire) -> Result<(), Error> {
        self.record_looked_up(x.value);
        let w = self.tables.signed_bits();
        self.decompose(x, 1i64 << (w - 1), &widths(w, self.tables.limb_bits))?;
        Ok(())
    }

    /// `relu(x) = s·x` with the sign bit `s` of a signed decomposition (which range-checks `x`).
    pub fn relu_limbs(&mut self, x: &Wire) -> Result<Wire, Error> {
        self.record_looked_up(x.value);
        let w = self.tables.signed_bits();
        let mut ws = vec![1];
        ws.extend(widths(w - 1, self.tables.limb_bits));
        let limbs = self.decompose(x, 1i64 << (w - 1), &ws)?;
        self.product(&ArithOp { a: Some(limbs[0].clone()), b: Some(x.clone()), cm: 1, ..Default::default() })
    }

    /// Check `0 ≤ r < 2^bits` by limbs.
    pub fn unsigned_limbs(&mut self, r: &Wire, bits: u32) -> Result<(), Error> {
        self.decompose(r, 0, &widths(bits.max(1), self.tables.limb_bits))?;
        Ok(())
    }

    /// Check `0 ≤ r < bound` (`bound ≥ 2`, as for every remainder bound `2d`): by limbs over `log2(bound)` bits for a power of two,
    /// by the table `[0, bound)` when it is no larger than a limb table, else by limbs of `r`
    /// and of the slack `bound − 1 − r`.
    pub fn below(&mut self, r: &Wire, bound: i64) -> Result<(), Error> {
        if bound < 2 {
            return Err(synthesis_error(format!("a range [0, {bound}) check needs a bound of at least 2")));
        }
        let bits = 64 - (bound - 1).max(1).leading_zeros();
        if bound.count_ones() == 1 {
            return self.unsigned_limbs(r, bound.trailing_zeros());
        }
        if bound <= 1i64 << self.tables.limb_bits {
            let tag = self.tables.below_tag(bound);
            self.check_in(r, tag);
            return Ok(());
        }
        self.unsigned_limbs(r, bits)?;
        let slack = self.arith(&[ArithOp { a: Some(r.clone()), cl: -1, ck: bound - 1, ..Default::default() }])?.remove(0);
        self.unsigned_limbs(&slack, bits)
    }

    /// A plain row holding `v` in `a_0` (the row after a division's, which its gate reads).
    pub fn a0_row(&mut self, v: Option<i64>) -> Wire {
        let row = self.take_row();
        self.advice(self.cfg.a[0], row, v)
    }

    fn record_looked_up(&mut self, v: Option<i64>) {
        if let (Some(section), Some(x)) = (self.looked_up.as_mut().and_then(|s| s.last_mut()), v) {
            section.insert(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_cover_the_bits_narrowest_first() {
        assert_eq!(widths(18, 8), vec![2, 8, 8]);
        assert_eq!(widths(16, 8), vec![8, 8]);
        assert_eq!(widths(5, 8), vec![5]);
    }
}
