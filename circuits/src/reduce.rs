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

use crate::layout::{synthesis_error, ArithOp, Layout, Wire};
use crate::tables::FnKind;
use halo2_proofs::plonk::Error;
use zkinfer_onnx::quant::rules::Reduction;

impl Layout<'_, '_> {
    /// `f(clamp(rescale(x, j), L, H))` for a reduced lookup `f` (module docs).
    pub fn reduced_lookup(&mut self, x: &Wire, f: &FnKind, r: &Reduction) -> Result<Wire, Error> {
        if r.shift == 0 || r.shift > 40 {
            return Err(synthesis_error(format!("a reduced lookup needs a shift in 1..=40, not {}", r.shift)));
        }
        self.range_check(x)?;
        let mut m = self.div_unchecked(x, 1i64 << r.shift)?;
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
}
