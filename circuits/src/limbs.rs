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
//! The gate adds `ck_0` on any row, so one decomposition can also expose a prefix of its limbs as
//! a number: the running sum after them, minus an offset added on their last row.
//!
//! * signed range check over the lookup range: `c = 2^(W-1)` with `W` the bits of the smallest
//!   signed range `[-2^(W-1), 2^(W-1))` holding `[lo, hi]`, limbs of `k` bits (the top one
//!   narrower): `x ∈ [-2^(W-1), 2^(W-1))`. The top limb is looked up in a top-limb table, which
//!   pairs it with its top bit: bit `W−1` of `x + 2^(W-1)`, i.e. the sign bit `s = [x ≥ 0]`
//!   ([`crate::tables::Table::TopLimb`]);
//! * ReLU: `relu(x) = s·x`, one product row (`dot` with `cr = 0`); max-pooling's
//!   `max(m, x) = m + s·(x − m)` one `dot` row too ([`Layout::max_limbs`]);
//! * rescale by `2^j` ([`Layout::rescale_limbs`]): one decomposition of
//!   `n + 2^(j-1) + 2^j·2^(W-1)` whose first `W` bits are the signed quotient (the running sum
//!   there, after adding `-2^(W-1)`, is `q`) and whose last `j` bits are the remainder; no `div`
//!   row;
//! * unsigned check `0 ≤ r < 2^m` (remainders, slacks): `c = 0`.
//!
//! A power-of-two range check of `[lo, hi]` accepts the values of `[-2^(W-1), lo)` and
//! `(hi, 2^(W-1))` too: still no wrap-around, so quotients and signs stay unique, and the
//! reference executor (which checks `[lo, hi]`) refuses every witness outside it first. The
//! calibrator chooses symmetric power-of-two lookup ranges, where the two coincide.

use crate::layout::{exact, synthesis_error, ArithOp, Elem, Layout, Wire};
use halo2_proofs::plonk::Error;

/// Limb widths covering `bits` bits with limbs of `k` bits, most significant (narrowest) first.
pub fn widths(bits: u32, k: u32) -> Vec<u32> {
    let mut w = vec![k; (bits / k) as usize];
    if bits % k != 0 {
        w.insert(0, bits % k);
    }
    w
}

/// One row of the `limb` gate: a limb of `width` bits looked up in table `tag`, and the constant
/// `add` the gate adds to the running sum on this row (`ck_0`).
struct LimbRow {
    width: u32,
    tag: u64,
    limb: Option<i64>,
    add: i64,
}

/// What one row of a decomposition gives back: the limb (`a_0`), its table pair (`o`: the limb,
/// or its top bit in a top-limb table) and the running sum (`b_0`).
struct LimbCells {
    pair: Wire,
    sum: Wire,
}

/// The limbs of `u ∈ [0, 2^Σw)` over `widths`, most significant first (`None` if `u` is unknown).
fn split(u: Option<i64>, widths: &[u32]) -> Vec<Option<i64>> {
    let mut below: u32 = widths.iter().sum();
    widths
        .iter()
        .map(|&w| {
            below -= w;
            u.map(|u| (u >> below) & ((1i64 << w) - 1))
        })
        .collect()
}

impl Layout<'_, '_> {
    /// Rows of the `limb` gate for the limbs `rows` (most significant first). A limb whose running
    /// sum is not read (no constant added after it, not the last) shares its row with the next
    /// limb when the circuit has a second slot and that limb is in an identity table: `a_0` the
    /// higher limb `h` (with its table pair in `o`), `a_1` the lower `l` of `w_l` bits, and
    /// `z = 2^(w_h + w_l)·z_prev + 2^(w_l)·h + l + add` (`cr = 2^(w_l)`, `ck_1 = 1`); a limb alone
    /// has `z = 2^(w)·z_prev + l + add` (`cr = 1`, `ck_1 = 0`). The first row has `cl = 0`
    /// (`z_{-1} = 0`). Returns per limb its pair and the running sum of its row (the sum after
    /// the limb when it ends its row, as every limb whose sum is read does).
    fn limb_rows(&mut self, rows: &[LimbRow]) -> Result<Vec<LimbCells>, Error> {
        let cfg = self.cfg;
        let q_limb = cfg.q_limb.ok_or_else(|| synthesis_error("a limb decomposition in a circuit without limbs".into()))?;
        let pairs = cfg.t1.is_some();
        let mut z: Option<i128> = Some(0);
        let mut out = Vec::with_capacity(rows.len());
        let mut j = 0;
        while j < rows.len() {
            let r = &rows[j];
            let low = rows.get(j + 1).filter(|n| pairs && r.add == 0 && self.tables.is_identity(n.tag));
            let row = self.take_row();
            self.enable(q_limb, row)?;
            let (_, pair) = self.table_row(row, r.tag, r.limb);
            let (width, add) = match low {
                Some(n) => (r.width + n.width, n.add),
                None => (r.width, r.add),
            };
            if j > 0 {
                self.fixed(cfg.cl, row, 1i64 << width);
            }
            self.fixed(cfg.ck[0], row, add);
            let low_wire = match low {
                Some(n) => {
                    self.fixed(cfg.cr, row, 1i64 << n.width);
                    self.fixed(cfg.ck[1], row, 1);
                    Some(self.table_row1(row, n.tag, n.limb)?)
                }
                None => {
                    self.fixed(cfg.cr, row, 1);
                    None
                }
            };
            z = match (z, r.limb, low.map(|n| n.limb)) {
                (Some(z), Some(h), None) => Some((z << width) + h as i128 + add as i128),
                (Some(z), Some(h), Some(Some(l))) => Some((z << width) + ((h as i128) << low.expect("paired").width) + l as i128 + add as i128),
                _ => None,
            };
            let zv = match z {
                Some(v) => Some(exact(Some(v), "a limb running sum")?),
                None => None,
            };
            let sum = self.advice(cfg.b[0], row, zv);
            out.push(LimbCells { pair, sum: sum.clone() });
            if let Some(l) = low_wire {
                out.push(LimbCells { pair: l, sum });
                j += 1;
            }
            j += 1;
        }
        Ok(out)
    }

    /// `x + offset` in `[0, 2^Σw)` with its value, or a synthesis error naming the value.
    fn offset_value(x: Option<i64>, offset: i64, bits: u32) -> Result<Option<i64>, Error> {
        match x {
            Some(v) => {
                let u = exact((v as i128).checked_add(offset as i128), "a decomposed value")?;
                if u < 0 || (u as i128) >= 1i128 << bits {
                    return Err(synthesis_error(format!("value {v} is outside the range checked by {bits} bits at offset {offset}; re-calibrate (zkinfer calibrate-settings) or widen lookup_range")));
                }
                Ok(Some(u))
            }
            None => Ok(None),
        }
    }

    /// Decompose `x + offset` over `widths` into identity-table limbs (module docs); the last
    /// running sum (`x`, after adding `-offset`) is copy-constrained to `x`. A witness outside
    /// the range fails synthesis with the value named.
    pub fn decompose(&mut self, x: &Wire, offset: i64, widths: &[u32]) -> Result<(), Error> {
        let u = Self::offset_value(x.value, offset, widths.iter().sum())?;
        let last = widths.len() - 1;
        let rows: Vec<LimbRow> = widths
            .iter()
            .zip(split(u, widths))
            .enumerate()
            .map(|(j, (&width, limb))| LimbRow { width, tag: self.tables.limb_tag(width), limb, add: if j == last { -offset } else { 0 } })
            .collect();
        let cells = self.limb_rows(&rows)?;
        self.eq(&cells[last].sum, x);
        Ok(())
    }

    /// The signed rows of `x` over the lookup range's `W` bits: limbs of `x + 2^(W-1)` (`k`-bit,
    /// the top one narrower and looked up in its top-limb table) followed by `tail` (more limbs
    /// of a longer number, see [`Layout::rescale_limbs`]); the running sum after the signed limbs
    /// is `x` (`-2^(W-1)` added on the last of them). Returns the cells and the index of `x`'s
    /// last row.
    fn signed_rows(&mut self, x: Option<i64>, tail: Vec<LimbRow>) -> Result<(Vec<LimbCells>, usize), Error> {
        let w = self.tables.signed_bits();
        let c = 1i64 << (w - 1);
        let ws = widths(w, self.tables.limb_bits);
        let u = Self::offset_value(x, c, w)?;
        let last = ws.len() - 1;
        let mut rows: Vec<LimbRow> = Vec::with_capacity(ws.len() + tail.len());
        for (j, (&width, limb)) in ws.iter().zip(split(u, &ws)).enumerate() {
            let tag = if j == 0 { self.tables.top_limb_tag(width) } else { self.tables.limb_tag(width) };
            rows.push(LimbRow { width, tag, limb, add: if j == last { -c } else { 0 } });
        }
        rows.extend(tail);
        Ok((self.limb_rows(&rows)?, last))
    }

    /// Range-check `x` over the signed range of the lookup range by limbs and return its sign bit
    /// `s = [x ≥ 0]` (the top bit of `x + 2^(W-1)`, paired with the top limb by its table);
    /// records `x` as a lookup-range value.
    pub fn signed_limbs(&mut self, x: &Wire) -> Result<Wire, Error> {
        self.record_looked_up(x.value);
        let (cells, last) = self.signed_rows(x.value, Vec::new())?;
        self.eq(&cells[last].sum, x);
        Ok(cells[0].pair.clone())
    }

    /// Range-check `x` over the signed range of the lookup range by limbs; records `x` as a
    /// lookup-range value.
    pub fn range_check_limbs(&mut self, x: &Wire) -> Result<(), Error> {
        self.signed_limbs(x)?;
        Ok(())
    }

    /// `relu(x) = s·x` with the sign bit `s` of a signed decomposition (which range-checks `x`):
    /// one product row (`dot`, `cr = 0`).
    pub fn relu_limbs(&mut self, x: &Wire) -> Result<Wire, Error> {
        let s = self.signed_limbs(x)?;
        self.product(&ArithOp { a: Some(s), b: Some(x.clone()), cm: 1, ..Default::default() })
    }

    /// `q = rescale(n, shift) = floor((n + 2^(shift-1)) / 2^shift)` (`shift ≥ 1`) as **one**
    /// decomposition of `n + 2^(shift-1) + 2^shift·2^(W-1)`: the signed limbs of `q` over the
    /// lookup range's `W` bits, whose running sum is `q`, then `shift` bits of remainder `ρ`,
    /// after which the sum is `2^shift·q + ρ − 2^(shift-1)`, copy-constrained to `n`. So
    /// `n + 2^(shift-1) = 2^shift·q + ρ` with `0 ≤ ρ < 2^shift` and `q` in the signed range:
    /// exactly the rounded quotient, with no `div` row and no separate remainder row (every
    /// quantity is below `2^(W+shift)`, far from the field modulus). Returns `q`'s wire (the
    /// running sum after its limbs) and, with `relu`, `relu(q) = s·q` from its sign bit.
    pub fn rescale_limbs(&mut self, n: &Wire, shift: u32, relu: bool) -> Result<(Wire, Option<Wire>), Error> {
        let half = 1i64 << (shift - 1);
        let (q, rho) = match n.value {
            Some(v) => {
                let t = exact((v as i128).checked_add(half as i128), "a rescaled value")?;
                (Some(t >> shift), Some(t & ((1i64 << shift) - 1)))
            }
            None => (None, None),
        };
        self.record_looked_up(q);
        let rw = widths(shift, self.tables.limb_bits);
        let last = rw.len() - 1;
        let tail: Vec<LimbRow> = rw
            .iter()
            .zip(split(rho, &rw))
            .enumerate()
            .map(|(j, (&width, limb))| LimbRow { width, tag: self.tables.limb_tag(width), limb, add: if j == last { -half } else { 0 } })
            .collect();
        let (cells, qi) = self.signed_rows(q, tail)?;
        self.eq(&cells.last().expect("rows").sum, n);
        let qw = cells[qi].sum.clone();
        let r = if relu {
            let s = cells[0].pair.clone();
            Some(self.product(&ArithOp { a: Some(s), b: Some(qw.clone()), cm: 1, ..Default::default() })?)
        } else {
            None
        };
        Ok((qw, r))
    }

    /// `max(m, x) = m + s·d` with `d = x − m` (an `arith` row) and `s = [d ≥ 0]` the sign bit of
    /// `d`'s signed decomposition, in one `dot` row: `s·d` on lane 0 (`d` in `b_0`), `m·1` on
    /// lane 1 (`ck_1 = 1`). Needs two lanes; `d` is range-checked over the lookup range, as the
    /// ReLU of the two-row form `m + relu(d)` does.
    pub fn max_limbs(&mut self, m: &Wire, x: &Wire) -> Result<Wire, Error> {
        let d = self.arith(&[ArithOp { a: Some(m.clone()), b: Some(x.clone()), cl: -1, cr: 1, ..Default::default() }])?.remove(0);
        let s = self.signed_limbs(&d)?;
        self.mac_row(&[(s, Elem::W(d)), (m.clone(), Elem::K(1))], 0)
    }

    /// Check `0 ≤ r < 2^bits` by limbs.
    pub fn unsigned_limbs(&mut self, r: &Wire, bits: u32) -> Result<(), Error> {
        self.decompose(r, 0, &widths(bits.max(1), self.tables.limb_bits))
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

#[cfg(test)]
mod row_counts {
    use crate::config::ModelConfig;
    use crate::layout::{Elem, Layout};
    use crate::tables::{FnKind, Tables};
    use halo2_proofs::halo2curves::bn256::Fr;
    use halo2_proofs::plonk::ConstraintSystem;

    /// Rows each layout takes with a 17-bit signed range and 9-bit limbs (LeNet at scale 13), 8
    /// lanes, so two limbs share a row (the second slot): the cost model the calibrator's
    /// estimate follows.
    #[test]
    fn rows_per_element() {
        let mut meta = ConstraintSystem::<Fr>::default();
        let cfg = ModelConfig::configure_lanes(&mut meta, 8, 1, false, true);
        let mut lay = Layout::new(None, &cfg, Tables::with_limbs(-65536, 65535, 9));
        lay.constant_wire(0).unwrap();
        let x = lay.witnesses(&[Some(123_456_789), Some(-5), Some(7)]);
        let mut rows = |f: &mut dyn FnMut(&mut Layout)| {
            let start = lay.row;
            f(&mut lay);
            lay.row - start
        };
        // Signed range check: limbs [8, 9] on one row.
        assert_eq!(rows(&mut |l| l.range_check(&x[1]).unwrap()), 1);
        // ReLU: the range check and one product row.
        assert_eq!(rows(&mut |l| drop(l.lookup(&x[1], &FnKind::Relu).unwrap())), 2);
        // Rescale by 2^13 with its ReLU: q's limbs [8, 9] on one row, the remainder's [4, 9] on
        // the next, the product.
        assert_eq!(rows(&mut |l| drop(l.div_relu(&x[0], 1 << 13).unwrap())), 3);
        assert_eq!(rows(&mut |l| drop(l.div(&x[0], 1 << 13).unwrap())), 2);
        // Max: the difference, its limbs, the select row.
        assert_eq!(rows(&mut |l| drop(l.max_limbs(&x[1], &x[2]).unwrap())), 3);
        // A dot product of 25 fixed terms from a constant start: ceil(25 / 8) rows.
        let terms: Vec<_> = (0..25).map(|i| (x[i % 3].clone(), Elem::K(i as i64 - 12))).collect();
        assert_eq!(rows(&mut |l| drop(l.dot(&terms, &Elem::K(3)).unwrap())), 4);
    }
}
