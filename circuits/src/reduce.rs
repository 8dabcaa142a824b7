//! Function lookups on a reduced input (settings `table_bits`): a lookup whose input range
//! `[lo, hi]` holds more values than the largest table looks up
//! `M = clamp(rescale(x, j), L, H)` in a table over `[L, H]` only (the rule and how `j`, `L`, `H`
//! are chosen: `zkinfer_onnx::quant::rules::Reduction`). With limbs, no table then grows with
//! precision.
//!
//! Layout of one element `x` (all on lane 0):
//! 1. `x` is range-checked over the lookup range ([`Layout::range_check`]), as any lookup input;
//! 2. the quotient `q` and remainder `r` of `rescale(x, j)`: gate `div` with `d = 2^j`,
//!    `2x + d = 2d·q + r`, and `0 ≤ r < 2d` (limbs over `j + 1` bits, or the table `[0, 2d)`);
//!    `q` gets no range check of its own;
//! 3. a clamp below when `L` cuts the rescaled range: `m = L + relu(q − L)`; a clamp above when
//!    `H` does: `m' = H − relu(H − m)` (each `relu` range-checks its input, so the executor
//!    checks these differences too);
//! 4. one row of the table of `f` over `[L, H]`: `(m', f(m'·2^(j−a)))`.
//!
//! Soundness: `x` is bounded by step 1 and `r` by step 2, and `q` is bounded by the first check
//! that follows it — the ReLU of `q − L`, of `H − q`, or the table over `[L, H]` — so the `div`
//! relation holds over the integers (`2d·|q| + r` stays far below the field modulus) and `q` is
//! the unique `floor((2x + d) / 2d) = rescale(x, j)`. The clamps are the ReLU identities
//! `max(q, L) = L + relu(q − L)` and `min(m, H) = H − relu(H − m)`, and the table row fixes the
//! output to the table's value at `m'`.

use crate::layout::{remainder, synthesis_error, ArithOp, Layout, Wire};
use crate::tables::FnKind;
use halo2_proofs::plonk::Error;
use zkinfer_onnx::quant::rules::{rescale, Reduction};

impl Layout<'_, '_> {
    /// `f(clamp(rescale(x, j), L, H))` for a reduced lookup `f` (module docs).
    pub fn reduced_lookup(&mut self, x: &Wire, f: &FnKind, r: &Reduction) -> Result<Wire, Error> {
        if r.shift == 0 || r.shift > 40 {
            return Err(synthesis_error(format!("a reduced lookup needs a shift in 1..=40, not {}", r.shift)));
        }
        self.range_check(x)?;
        let mut m = self.rescale_quotient(x, r.shift)?;
        let (below, above) = r.clamps(self.tables.lo, self.tables.hi);
        if below {
            let d = self.arith(&[ArithOp { a: Some(m), cl: 1, ck: -r.lo, ..Default::default() }])?.remove(0);
            let p = self.lookup(&d, &FnKind::Relu)?;
            m = self.arith(&[ArithOp { a: Some(p), cl: 1, ck: r.lo, ..Default::default() }])?.remove(0);
        }
        if above {
            let d = self.arith(&[ArithOp { a: Some(m), cl: -1, ck: r.hi, ..Default::default() }])?.remove(0);
            let p = self.lookup(&d, &FnKind::Relu)?;
            m = self.arith(&[ArithOp { a: Some(p), cl: -1, ck: r.hi, ..Default::default() }])?.remove(0);
        }
        if let Some(v) = m.value {
            if v < r.lo || v > r.hi {
                return Err(synthesis_error(format!("reduced lookup input {v} outside its table [{}, {}]", r.lo, r.hi)));
            }
        }
        let tag = self.tables.fn_tag(f);
        Ok(self.check_in(&m, tag))
    }

    /// The quotient `q = rescale(x, shift)` by gate `div` (`d = 2^shift`) with its remainder
    /// checked in `[0, 2d)`, and no range check on `q`: the caller bounds it. Returns `q`'s wire.
    pub fn rescale_quotient(&mut self, x: &Wire, shift: u32) -> Result<Wire, Error> {
        let cfg = self.cfg;
        let d = 1i64 << shift;
        let q = x.value.map(|v| rescale(v, shift));
        let rem = match (x.value, q) {
            (Some(v), Some(q)) => Some(remainder(v, d, q)?),
            _ => None,
        };
        let row = self.take_row();
        self.enable(cfg.q_div, row)?;
        self.fixed(cfg.ck[0], row, d);
        self.copy(cfg.b[0], row, x);
        let quot = self.advice(cfg.a[0], row, q);
        if self.tables.limb_bits > 0 {
            let rw = self.a0_row(rem);
            self.below(&rw, 2 * d)?;
        } else {
            let tag = self.tables.rem_tag(d);
            let row = self.take_row();
            self.table_row(row, tag, rem);
        }
        Ok(quot)
    }
}
