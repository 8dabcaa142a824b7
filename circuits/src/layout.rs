//! Cell assignment primitives over one region with absolute rows. The same code runs against a
//! real halo2 region (keygen, proving, MockProver) or in counting mode (to size the circuit
//! before any keys exist). Values are `Option<i64>`: known when a witness is present.
//!
//! Witness values are computed exactly: in i128 with checked operations, converted back with
//! `i64::try_from`. A value that does not fit an i64 fails synthesis (it would otherwise wrap
//! and differ from the field arithmetic the gates check); the reference executor reports such
//! models as an integer overflow first.

use crate::config::ModelConfig;
use crate::field::fr;
use crate::tables::{FnKind, Table, Tables, RANGE_TAG};
use halo2_proofs::circuit::{Cell, Region, Value};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, Error, Fixed, Selector};
use std::collections::BTreeSet;
use zkinfer_onnx::quant::rules::div_round;

/// An assigned advice cell and the integer it holds (when known).
#[derive(Clone, Debug)]
pub struct Wire {
    pub cell: Cell,
    pub value: Option<i64>,
}

/// An operand element: a wire, or a constant that lives in the verifying key.
#[derive(Clone, Debug)]
pub enum Elem {
    W(Wire),
    K(i64),
}

impl Elem {
    pub fn value(&self) -> Option<i64> {
        match self {
            Elem::W(w) => w.value,
            Elem::K(k) => Some(*k),
        }
    }
}

/// `o = cl·a + cr·b + cm·a·b + ck` on lane 0. A product (`cm ≠ 0`) takes no other term: the
/// layout makes it a one-term `dot` chain, then scales it by `cm` when `cm ≠ 1`.
#[derive(Clone, Debug, Default)]
pub struct ArithOp {
    pub a: Option<Wire>,
    pub b: Option<Wire>,
    pub cl: i64,
    pub cr: i64,
    pub cm: i64,
    pub ck: i64,
}

impl ArithOp {
    /// The output's value (`None` without a witness), or an error when it does not fit an i64.
    fn value(&self) -> Result<Option<i64>, Error> {
        let (Some(a), Some(b)) = (self.a.as_ref().map_or(Some(0), |w| w.value), self.b.as_ref().map_or(Some(0), |w| w.value)) else {
            return Ok(None);
        };
        let (a, b) = (a as i128, b as i128);
        let v = (self.cl as i128 * a)
            .checked_add(self.cr as i128 * b)
            .and_then(|s| s.checked_add((self.cm as i128 * a).checked_mul(b)?))
            .and_then(|s| s.checked_add(self.ck as i128));
        exact(v, "an arith row").map(Some)
    }
}

/// `v` as an i64, or a synthesis error naming `what` overflowed.
pub(crate) fn exact(v: Option<i128>, what: &str) -> Result<i64, Error> {
    v.and_then(|v| i64::try_from(v).ok())
        .ok_or_else(|| synthesis_error(format!("{what} overflows i64; lower input_scale / param_scale")))
}

/// The remainder `2n + d − 2d·q` of `floor((2n + d) / 2d) = q`, checked.
pub(crate) fn remainder(n: i64, d: i64, q: i64) -> Result<i64, Error> {
    let (n, d, q) = (n as i128, d as i128, q as i128);
    exact((2 * d).checked_mul(q).and_then(|p| (2 * n + d).checked_sub(p)), "a division remainder")
}

/// What a constant division checks of its quotient besides the `div` gate.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quotient {
    /// Range-checked over the lookup range.
    RangeChecked,
    /// Range-checked, with `relu(q)` from that check.
    WithRelu,
    /// Not checked: the caller bounds it.
    Unchecked,
}

pub struct Layout<'r, 'c> {
    pub region: Option<&'c mut Region<'r, Fr>>,
    pub cfg: &'c ModelConfig,
    pub tables: Tables,
    pub row: usize,
    /// Rows `0..public.len()` are reserved for the `public` gate (`o = instance`), see
    /// [`Layout::reserve_public`]; `public[i]` says whether instance row `i` is bound yet.
    public: Vec<bool>,
    /// One cell per constant in use, constrained to it by an `arith` row (see [`Layout::const_cell`]).
    consts: std::collections::HashMap<[u8; 32], Cell>,
    /// When set, collects every known value presented to a function table (table 1, the range
    /// check, included): the values the circuit checks against the lookup range, one set per
    /// section the caller starts ([`Layout::start_section`]). Remainder and non-negative range
    /// tables are not recorded.
    pub looked_up: Option<Vec<BTreeSet<i64>>>,
    /// When set, records every advice cell assigned (with its value) and every copy constraint:
    /// what a test needs to move a wire, all its copies together, and see which gate or lookup
    /// catches it (`circuits/tests/wires.rs`).
    pub trace: Option<Trace>,
}

/// The advice cells a layout assigned and the copies it constrained ([`Layout::trace`]).
#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub cells: Vec<(Cell, Option<Fr>)>,
    pub copies: Vec<(Cell, Cell)>,
}

fn val(v: Option<i64>) -> Value<Fr> {
    match v {
        Some(x) => Value::known(fr(x)),
        None => Value::unknown(),
    }
}

impl<'r, 'c> Layout<'r, 'c> {
    pub fn new(region: Option<&'c mut Region<'r, Fr>>, cfg: &'c ModelConfig, tables: Tables) -> Self {
        Layout { region, cfg, tables, row: 0, public: vec![], consts: Default::default(), looked_up: None, trace: None }
    }

    pub fn advice(&mut self, col: Column<Advice>, row: usize, v: Option<i64>) -> Wire {
        let cell = match self.region.as_deref_mut() {
            Some(r) => r.assign_advice(col, row, val(v)).cell(),
            None => Cell { row_offset: row, column: col.into() },
        };
        if let Some(t) = self.trace.as_mut() {
            t.cells.push((cell, v.map(fr)));
        }
        Wire { cell, value: v }
    }
    pub fn fixed(&mut self, col: Column<Fixed>, row: usize, v: i64) {
        if v != 0 {
            if let Some(r) = self.region.as_deref_mut() {
                r.assign_fixed(col, row, fr(v));
            }
        }
    }
    pub fn enable(&mut self, s: Selector, row: usize) -> Result<(), Error> {
        if let Some(r) = self.region.as_deref_mut() {
            s.enable(r, row)?;
        }
        Ok(())
    }
    pub fn eq(&mut self, a: &Wire, b: &Wire) {
        if let Some(t) = self.trace.as_mut() {
            t.copies.push((a.cell, b.cell));
        }
        if let Some(r) = self.region.as_deref_mut() {
            r.constrain_equal(a.cell, b.cell);
        }
    }
    /// Constrain `w` to the constant `v`.
    pub fn constant(&mut self, w: &Wire, v: i64) -> Result<(), Error> {
        self.constant_cell(w.cell, fr(v))
    }

    /// The cell holding constant `v`: an `arith` row whose only non-zero coefficient is `ck_0 = v`,
    /// so the gate forces `o = v` (no constants column, which would cost a fixed and a
    /// permutation column). One row per distinct constant; later uses copy it.
    pub fn const_cell(&mut self, v: Fr) -> Result<Cell, Error> {
        use halo2_proofs::halo2curves::ff::PrimeField;
        let key: [u8; 32] = v.to_repr().as_ref().try_into().expect("32 bytes");
        if let Some(c) = self.consts.get(&key) {
            return Ok(*c);
        }
        let cfg = self.cfg;
        let row = self.take_row();
        self.enable(cfg.q_arith, row)?;
        if let Some(r) = self.region.as_deref_mut() {
            r.assign_fixed(cfg.ck[0], row, v);
        }
        let c = self.advice_fr(cfg.o, row, Some(v));
        self.consts.insert(key, c);
        Ok(c)
    }
    pub(crate) fn take_row(&mut self) -> usize {
        self.row += 1;
        self.row - 1
    }
    /// Copy `w` into `col` at `row`.
    pub(crate) fn copy(&mut self, col: Column<Advice>, row: usize, w: &Wire) -> Wire {
        let c = self.advice(col, row, w.value);
        self.eq(&c, w);
        c
    }

    /// Free witness cells (model inputs, private parameters), `lanes` per row.
    pub fn witnesses(&mut self, vals: &[Option<i64>]) -> Vec<Wire> {
        let mut out = Vec::with_capacity(vals.len());
        for chunk in vals.chunks(self.cfg.lanes) {
            let row = self.take_row();
            for (i, &v) in chunk.iter().enumerate() {
                out.push(self.advice(self.cfg.a[i], row, v));
            }
        }
        out
    }

    /// A cell constrained to a constant.
    pub fn constant_wire(&mut self, v: i64) -> Result<Wire, Error> {
        Ok(Wire { cell: self.const_cell(fr(v))?, value: Some(v) })
    }

    /// Elementwise arithmetic, one op per row on lane 0 (gate `arith`).
    pub fn arith(&mut self, ops: &[ArithOp]) -> Result<Vec<Wire>, Error> {
        let cfg = self.cfg;
        let mut out = Vec::with_capacity(ops.len());
        for op in ops {
            if op.cm != 0 {
                out.push(self.product(op)?);
                continue;
            }
            let row = self.take_row();
            self.enable(cfg.q_arith, row)?;
            if let Some(a) = &op.a {
                self.copy(cfg.a[0], row, a);
            }
            if let Some(b) = &op.b {
                self.copy(cfg.b[0], row, b);
            }
            self.fixed(cfg.cl, row, op.cl);
            self.fixed(cfg.cr, row, op.cr);
            self.fixed(cfg.ck[0], row, op.ck);
            let v = op.value()?;
            out.push(self.advice(cfg.o, row, v));
        }
        Ok(out)
    }

    /// `cm·a·b` for an op whose only term is the product: `0 + a·b` as a one-term `dot` chain, then
    /// `cm·p` by an `arith` row when `cm ≠ 1`.
    pub(crate) fn product(&mut self, op: &ArithOp) -> Result<Wire, Error> {
        let (Some(a), Some(b), 0, 0, 0) = (&op.a, &op.b, op.cl, op.cr, op.ck) else {
            return Err(synthesis_error(format!("a product takes two wires and no other term: {op:?}")));
        };
        let p = self.dot(&[(a.clone(), Elem::W(b.clone()))], &Elem::K(0))?;
        if op.cm == 1 {
            return Ok(p);
        }
        Ok(self.arith(&[ArithOp { a: Some(p), cl: op.cm, ..Default::default() }])?.remove(0))
    }

    /// `init + Σ x_j·w_j` with an accumulator chain (gate `dot`). All weights are constants
    /// (in `ck`, every `b` lane copy-constrained to 0; all lanes) or all are wires (in `b`,
    /// `ck = 0`, on the lanes with a `b` column; unused lanes have their weight constrained to 0,
    /// lanes without `b` have `ck = 0`). A constant `init` is the first row's `cl` (`cr = 0`); a
    /// wire `init` takes a row of its own, which the first product row continues.
    pub fn dot(&mut self, terms: &[(Wire, Elem)], init: &Elem) -> Result<Wire, Error> {
        let cfg = self.cfg;
        let fixed_w = terms.iter().all(|(_, w)| matches!(w, Elem::K(_)));
        if terms.is_empty() {
            return match init {
                Elem::K(k) => self.constant_wire(*k),
                Elem::W(w) => Ok(w.clone()),
            };
        }
        // The constant 0 (for unused `b` lanes) takes a row of its own: before the chain.
        let zero = self.const_cell(Fr::zero())?;
        let mut start = match init {
            Elem::K(k) => Some(*k),
            Elem::W(w) => {
                let row0 = self.take_row();
                self.copy(cfg.o, row0, w);
                None
            }
        };
        // Advice weights use the lanes with a `b` column; fixed weights every lane.
        let width = if fixed_w { cfg.lanes } else { cfg.b.len() };
        let mut acc: Option<Wire> = None;
        for chunk in terms.chunks(width) {
            let prev = acc.as_ref().map_or(init.value(), |w| w.value);
            acc = Some(self.dot_row(chunk, start.take(), prev, zero)?);
        }
        Ok(acc.expect("at least one term"))
    }

    /// One `dot` row computing `k + Σ_i x_i·w_i` from nothing before it (`cr = 0`, `cl = k`):
    /// term `i` on lane `i`, a wire weight in `b_i` (so only on lanes with a `b` column) and a
    /// constant weight in `ck_i` (with `b_i = 0`). Weights of both kinds may be mixed, e.g.
    /// `max(m, x) = m·1 + s·(x − m)` in one row.
    pub fn mac_row(&mut self, terms: &[(Wire, Elem)], k: i64) -> Result<Wire, Error> {
        if terms.len() > self.cfg.lanes {
            return Err(synthesis_error(format!("a {}-term product row needs as many lanes ({})", terms.len(), self.cfg.lanes)));
        }
        let zero = self.const_cell(Fr::zero())?;
        self.dot_row(terms, Some(k), Some(k), zero)
    }

    /// A `dot` row: with `start = Some(k)` it begins a sum at `k` (`cl = k`, `cr = 0`), with
    /// `None` it continues the previous row's `o` (`cr = 1`), whose value is `prev`. Term `i` sits
    /// on lane `i`: `x` in `a_i`, a constant weight in `ck_i` (with `b_i = 0` where the lane has a
    /// `b` column) or a wire weight in `b_i`; unused `b` lanes are 0 (copies of `zero`).
    fn dot_row(&mut self, terms: &[(Wire, Elem)], start: Option<i64>, prev: Option<i64>, zero: Cell) -> Result<Wire, Error> {
        let cfg = self.cfg;
        let row = self.take_row();
        self.enable(cfg.q_dot, row)?;
        match start {
            Some(k) => self.fixed(cfg.cl, row, k),
            None => self.fixed(cfg.cr, row, 1),
        }
        let mut acc_v = prev;
        for (i, (x, w)) in terms.iter().enumerate() {
            self.copy(cfg.a[i], row, x);
            match w {
                Elem::K(k) => {
                    self.fixed(cfg.ck[i], row, *k);
                    if i < cfg.b.len() {
                        self.zero_weight(row, i, zero);
                    }
                }
                Elem::W(wire) if i < cfg.b.len() => {
                    self.copy(cfg.b[i], row, wire);
                }
                Elem::W(_) => return Err(synthesis_error(format!("a wire weight on lane {i}, which has no b column ({} of {} lanes have one)", cfg.b.len(), cfg.lanes))),
            }
            acc_v = match (acc_v, x.value, w.value()) {
                (Some(s), Some(a), Some(b)) => Some(exact((s as i128).checked_add(a as i128 * b as i128), "a dot-product accumulator")?),
                _ => None,
            };
        }
        for i in terms.len()..cfg.b.len() {
            self.zero_weight(row, i, zero);
        }
        Ok(self.advice(cfg.o, row, acc_v))
    }

    /// `b_i = 0` on `row`, copy-constrained to the cell `zero` of the constant 0.
    fn zero_weight(&mut self, row: usize, i: usize, zero: Cell) {
        let z = self.advice(self.cfg.b[i], row, Some(0));
        self.eq_cell(z.cell, zero);
    }

    /// `round(n / d)` for a constant `d > 0` as `floor((2n + d) / 2d)` (gate `div`) on two rows:
    /// `(a_0, b_0, o) = (q, n, relu(q))` tagged with table 1 (the range check of `q`), then
    /// `(r, ·, r)` tagged with the remainder table `[0, 2d)`. Returns the `a_0` wire `q`.
    pub fn div(&mut self, n: &Wire, d: i64) -> Result<Wire, Error> {
        Ok(self.div_inner(n, d, Quotient::RangeChecked)?.0)
    }

    /// [`Layout::div`] and `relu(q)` from the same range check: without limbs the `o` of the
    /// quotient row (table 1 pairs `q` with `relu(q)`), with limbs the sign bit of `q`'s
    /// decomposition ([`Layout::relu_limbs`], which is its range check). A Rescale followed by a
    /// Relu costs no more rows than the Rescale.
    pub fn div_relu(&mut self, n: &Wire, d: i64) -> Result<(Wire, Wire), Error> {
        let (q, r) = self.div_inner(n, d, Quotient::WithRelu)?;
        Ok((q, r.expect("asked for relu")))
    }

    /// The quotient `q` of a bounded `div` (`d = 2^shift`, i.e. `rescale(n, shift)`) with its
    /// remainder checked in `[0, 2d)` and no range check on `q`: the caller bounds it
    /// ([`crate::reduce`]). Returns `q`'s wire.
    pub fn div_unchecked(&mut self, n: &Wire, d: i64) -> Result<Wire, Error> {
        Ok(self.div_inner(n, d, Quotient::Unchecked)?.0)
    }

    fn div_inner(&mut self, n: &Wire, d: i64, check: Quotient) -> Result<(Wire, Option<Wire>), Error> {
        let cfg = self.cfg;
        if self.tables.limb_bits > 0 && check != Quotient::Unchecked && d > 1 && d.count_ones() == 1 {
            // A rescale: quotient and remainder in one decomposition, no `div` row.
            return self.rescale_limbs(n, d.trailing_zeros(), check == Quotient::WithRelu);
        }
        let q = n.value.map(|x| div_round(x as i128, d as i128).expect("d > 0"));
        let r = match (n.value, q) {
            (Some(x), Some(q)) => Some(remainder(x, d, q)?),
            _ => None,
        };
        let row = self.take_row();
        self.enable(cfg.q_div, row)?;
        self.fixed(cfg.ck[0], row, d);
        self.copy(cfg.b[0], row, n);
        if self.tables.limb_bits > 0 {
            // Limbs: q and r sit on plain rows, then are decomposed (crate::limbs).
            let quot = self.advice(cfg.a[0], row, q);
            let rem = self.a0_row(r);
            let rq = match check {
                Quotient::WithRelu => Some(self.relu_limbs(&quot)?),
                Quotient::RangeChecked => {
                    self.range_check_limbs(&quot)?;
                    None
                }
                Quotient::Unchecked => None,
            };
            self.below(&rem, 2 * d)?;
            return Ok((quot, rq));
        }
        let rem_tag = self.tables.rem_tag(d);
        let (quot, rq) = match check {
            Quotient::Unchecked => (self.advice(cfg.a[0], row, q), None),
            _ => {
                let (quot, o) = self.table_row(row, RANGE_TAG, q);
                (quot, (check == Quotient::WithRelu).then_some(o))
            }
        };
        let row = self.take_row();
        self.table_row(row, rem_tag, r);
        Ok((quot, rq))
    }

    /// Record `v` as presented to a lookup-range table in the current section (when recording):
    /// for a check another section's layout already made (a fused Rescale → Relu).
    pub(crate) fn record_checked(&mut self, v: Option<i64>) {
        if let (Some(section), Some(x)) = (self.looked_up.as_mut().and_then(|s| s.last_mut()), v) {
            section.insert(x);
        }
    }

    /// `round(n / d)` for a runtime divisor `d >= 1` (gate `vdiv`): the divisor row (`o = d`),
    /// the quotient row `(q, n, relu(q))` (range-checked by table 1), the remainder row `(r, ·, r)`
    /// and the slack `2d − 1 − r`, both in the non-negative range. Returns the `a_0` wire `q`.
    pub fn vdiv(&mut self, n: &Wire, d: &Wire) -> Result<Wire, Error> {
        let cfg = self.cfg;
        let q = match (n.value, d.value) {
            (Some(x), Some(dv)) if dv != 0 => Some(div_round(x as i128, dv as i128).expect("d != 0")),
            (Some(_), Some(_)) => Some(0),
            _ => None,
        };
        let r = match (n.value, d.value, q) {
            (Some(x), Some(dv), Some(q)) => Some(remainder(x, dv, q)?),
            _ => None,
        };
        // Divisor row (must precede the quotient row: the gate reads its `o`): o = 1·d.
        let row = self.take_row();
        self.enable(cfg.q_arith, row)?;
        self.copy(cfg.a[0], row, d);
        self.fixed(cfg.cl, row, 1);
        self.advice(cfg.o, row, d.value);
        let row = self.take_row();
        self.enable(cfg.q_vdiv, row)?;
        self.copy(cfg.b[0], row, n);
        if self.tables.limb_bits > 0 {
            // Limbs: r and the slack 2d − 1 − r in [0, 2^W) (W the signed bits of the range).
            let quot = self.advice(cfg.a[0], row, q);
            let rem = self.a0_row(r);
            self.range_check_limbs(&quot)?;
            let w = self.tables.signed_bits();
            self.unsigned_limbs(&rem, w)?;
            let slack = self.arith(&[ArithOp { a: Some(d.clone()), b: Some(rem), cl: 2, cr: -1, ck: -1, ..Default::default() }])?.remove(0);
            self.unsigned_limbs(&slack, w)?;
            return Ok(quot);
        }
        let (quot, _) = self.table_row(row, RANGE_TAG, q);
        let row = self.take_row();
        let nonneg = self.tables.nonneg_tag();
        let (rem, _) = self.table_row(row, nonneg, r);
        // Slack 2·d − 1 − r, range-checked non-negative.
        let slack = self.arith(&[ArithOp { a: Some(d.clone()), b: Some(rem), cl: 2, cr: -1, ck: -1, ..Default::default() }])?.remove(0);
        self.check_in(&slack, nonneg);
        Ok(quot)
    }

    /// A lookup row: `v` in `a_0` checked against table `tag`, its pair in `o`. Returns the `a_0`
    /// and `o` wires (the caller constrains `a_0` when `v` comes from elsewhere).
    pub(crate) fn table_row(&mut self, row: usize, tag: u64, v: Option<i64>) -> (Wire, Wire) {
        let cfg = self.cfg;
        // Record values presented to tables over the lookup range (not reduced domains).
        if let (Some(section), Some(x), Table::Fn(f)) = (self.looked_up.as_mut().and_then(|s| s.last_mut()), v, &self.tables.tables[tag as usize - 1]) {
            if f.domain().is_none() {
                section.insert(x);
            }
        }
        self.fixed(cfg.t, row, tag as i64);
        let o = self.advice(cfg.o, row, v.map(|x| self.tables.eval(tag, x)));
        (self.advice(cfg.a[0], row, v), o)
    }

    /// `v` in lane 1's `a_1`, looked up in identity table `tag` by the second lookup argument
    /// (circuits with limbs and two lanes or more).
    pub(crate) fn table_row1(&mut self, row: usize, tag: u64, v: Option<i64>) -> Result<Wire, Error> {
        let cfg = self.cfg;
        let t1 = cfg.t1.ok_or_else(|| synthesis_error("a second limb slot in a circuit without one".into()))?;
        self.fixed(t1, row, tag as i64);
        Ok(self.advice(cfg.a[1], row, v))
    }

    /// Start a new set of recorded lookup-range values (no-op unless recording, see
    /// [`Layout::looked_up`]).
    pub fn start_section(&mut self) {
        if let Some(s) = &mut self.looked_up {
            s.push(BTreeSet::new());
        }
    }

    /// A row checking the wire `x` against table `tag`; returns its pair (`o`).
    pub(crate) fn check_in(&mut self, x: &Wire, tag: u64) -> Wire {
        let row = self.take_row();
        let (a, o) = self.table_row(row, tag, x.value);
        self.eq(&a, x);
        o
    }

    /// Range-check `x` over the lookup range (a row of table 1, ReLU, whose inputs are the range).
    /// With limbs: a signed decomposition ([`crate::limbs`]).
    pub fn range_check(&mut self, x: &Wire) -> Result<(), Error> {
        if self.tables.limb_bits > 0 {
            return self.range_check_limbs(x);
        }
        self.check_in(x, RANGE_TAG);
        Ok(())
    }

    /// `f(x)` by table lookup (x must lie in the lookup range). With limbs, ReLU comes from the
    /// sign bit of a decomposition instead ([`Layout::relu_limbs`]).
    pub fn lookup(&mut self, x: &Wire, f: &FnKind) -> Result<Wire, Error> {
        if self.tables.limb_bits > 0 && *f == FnKind::Relu {
            return self.relu_limbs(x);
        }
        if let FnKind::Act { reduce: Some(r), .. } = f {
            return self.reduced_lookup(x, f, r);
        }
        let tag = self.tables.fn_tag(f);
        Ok(self.check_in(x, tag))
    }

    /// Range-check `values` over `[lo, hi]` (the lookup range) and pack them into field elements
    /// (see [`crate::poseidon::pack`]) with one `arith` row per value:
    /// `acc' = acc·2^w + v − lo`.
    pub fn pack(&mut self, values: &[Wire]) -> Result<Vec<(Cell, Option<Fr>)>, Error> {
        let cfg = self.cfg;
        let (lo, hi) = (self.tables.lo, self.tables.hi);
        let w = crate::poseidon::pack_width(lo, hi);
        let mut out = Vec::new();
        for chunk in values.chunks(crate::poseidon::per_element(w)) {
            let mut acc: Option<(Cell, Option<Fr>)> = None;
            for v in chunk {
                self.range_check(v)?;
                let row = self.take_row();
                self.enable(cfg.q_arith, row)?;
                let b = self.advice_fr(cfg.b[0], row, v.value.map(fr));
                self.eq_cell(b, v.cell);
                self.fixed(cfg.cr, row, 1);
                self.fixed(cfg.ck[0], row, -lo);
                let val = match &acc {
                    Some((c, av)) => {
                        let a = self.advice_fr(cfg.a[0], row, *av);
                        self.eq_cell(a, *c);
                        self.fixed(cfg.cl, row, 1i64 << w);
                        match (av, v.value) {
                            (Some(x), Some(y)) => Some(*x * Fr::from(1u64 << w) + fr(slot(y, lo)?)),
                            _ => None,
                        }
                    }
                    None => v.value.map(|y| slot(y, lo)).transpose()?.map(fr),
                };
                acc = Some((self.advice_fr(cfg.o, row, val), val));
            }
            out.push(acc.expect("non-empty chunk"));
        }
        Ok(out)
    }

    /// Poseidon sponge hash of wires' integer values (unpacked: one field element each).
    pub fn poseidon_hash(&mut self, msg: &[Wire]) -> Result<(Cell, Option<Fr>), Error> {
        let m: Vec<(Cell, Option<Fr>)> = msg.iter().map(|w| (w.cell, w.value.map(fr))).collect();
        self.poseidon_hash_fr(&m)
    }

    /// Poseidon sponge hash (see [`crate::poseidon`]) of field-element cells.
    /// Returns the cell holding the hash and its value.
    pub fn poseidon_hash_fr(&mut self, msg: &[(Cell, Option<Fr>)]) -> Result<(Cell, Option<Fr>), Error> {
        enum Src {
            Cell(Cell),
            Const(Fr),
        }
        let cfg = self.cfg;
        let (q_full, q_part, sq) = cfg.q_poseidon.expect("circuit configured with Poseidon");
        let c = crate::poseidon::constants();
        let n = fr(msg.len() as i64);
        let mut state: Option<([Cell; 3], [Option<Fr>; 3])> = None;
        let chunks: Vec<&[(Cell, Option<Fr>)]> = if msg.is_empty() { vec![&[]] } else { msg.chunks(2).collect() };
        for chunk in chunks {
            let m = |i: usize| chunk.get(i);
            let (vals, srcs): ([Option<Fr>; 3], [Src; 3]) = match &state {
                None => {
                    let v = |i: usize| m(i).map_or(Some(Fr::zero()), |w| w.1);
                    let src = |i: usize| m(i).map_or(Src::Const(Fr::zero()), |w| Src::Cell(w.0));
                    ([v(0), v(1), Some(n)], [src(0), src(1), Src::Const(n)])
                }
                Some((sc, sv)) => {
                    // Absorption rows (gate `arith`): s_i + m_i for i = 0, 1.
                    let mut out_v = [None, None, sv[2]];
                    let mut out_c = [sc[0], sc[1], sc[2]];
                    for i in 0..2 {
                        let arow = self.take_row();
                        self.enable(cfg.q_arith, arow)?;
                        let a = self.advice_fr(cfg.a[0], arow, sv[i]);
                        self.eq_cell(a, sc[i]);
                        self.fixed(cfg.cl, arow, 1);
                        out_v[i] = match m(i) {
                            Some(w) => {
                                let b = self.advice_fr(cfg.b[0], arow, w.1);
                                self.eq_cell(b, w.0);
                                self.fixed(cfg.cr, arow, 1);
                                match (sv[i], w.1) {
                                    (Some(x), Some(y)) => Some(x + y),
                                    _ => None,
                                }
                            }
                            None => sv[i],
                        };
                        out_c[i] = self.advice_fr(cfg.o, arow, out_v[i]);
                    }
                    (out_v, out_c.map(Src::Cell))
                }
            };
            // Constant cells first: they take rows of their own, which must not split the rounds.
            let mut from = [None; 3];
            for (i, src) in srcs.iter().enumerate() {
                from[i] = Some(match src {
                    Src::Cell(c) => *c,
                    Src::Const(v) => self.const_cell(*v)?,
                });
            }
            let start = self.take_row();
            let cols = [cfg.a[0], cfg.b[0], cfg.o];
            let mut cells = [0, 1, 2].map(|i| self.advice_fr(cols[i], start, vals[i]));
            for (i, f) in from.iter().enumerate() {
                self.eq_cell(cells[i], f.expect("set above"));
            }
            let mut cur = vals;
            for r in 0..crate::poseidon::ROUNDS {
                let row = start + r;
                self.enable(if crate::poseidon::is_full(r) { q_full } else { q_part }, row)?;
                for (i, col) in [cfg.cl, cfg.cr, cfg.ck[0]].into_iter().enumerate() {
                    if let Some(reg) = self.region.as_deref_mut() {
                        reg.assign_fixed(col, row, c.rc[r][i]);
                    }
                }
                for j in 0..3 {
                    if j == 0 || crate::poseidon::is_full(r) {
                        let v = cur[j].map(|x| (x + c.rc[r][j]).square());
                        self.advice_fr(sq[j], row, v);
                    }
                }
                cur = match cur {
                    [Some(x), Some(y), Some(z)] => crate::poseidon::round(&[x, y, z], r).map(Some),
                    _ => [None, None, None],
                };
                cells = [0, 1, 2].map(|i| self.advice_fr(cols[i], row + 1, cur[i]));
            }
            self.row = start + crate::poseidon::ROUNDS + 1;
            state = Some((cells, cur));
        }
        let (cells, vals) = state.expect("at least one permutation");
        Ok((cells[0], vals[0]))
    }

    fn advice_fr(&mut self, col: Column<Advice>, row: usize, v: Option<Fr>) -> Cell {
        let cell = match self.region.as_deref_mut() {
            Some(r) => r.assign_advice(col, row, v.map_or(Value::unknown(), Value::known)).cell(),
            None => Cell { row_offset: row, column: col.into() },
        };
        if let Some(t) = self.trace.as_mut() {
            t.cells.push((cell, v));
        }
        cell
    }
    fn eq_cell(&mut self, a: Cell, b: Cell) {
        if let Some(t) = self.trace.as_mut() {
            t.copies.push((a, b));
        }
        if let Some(r) = self.region.as_deref_mut() {
            r.constrain_equal(a, b);
        }
    }
    fn constant_cell(&mut self, a: Cell, v: Fr) -> Result<(), Error> {
        let c = self.const_cell(v)?;
        self.eq_cell(a, c);
        Ok(())
    }

    /// Reserve the first `n` rows for the instance rows `0..n` (call before any other row is
    /// taken): instance row `i` is bound on region row `i` by the `public` gate.
    pub fn reserve_public(&mut self, n: usize) {
        assert_eq!(self.row, 0, "public rows are reserved before any other row");
        self.row = n;
        self.public = vec![false; n];
    }

    /// Every reserved instance row is bound: an unbound one would be a public value no constraint
    /// ties to the witness.
    pub fn check_public_bound(&self) -> Result<(), Error> {
        match self.public.iter().position(|b| !b) {
            Some(i) => Err(synthesis_error(format!("instance row {i} is reserved but never bound"))),
            None => Ok(()),
        }
    }

    /// Bind instance row `instance_row` to the value `v`: `o = v` on that row with the `public`
    /// gate `o = instance`. Returns the `o` cell.
    pub fn public_value(&mut self, v: Option<Fr>, instance_row: usize) -> Result<Cell, Error> {
        match self.public.get_mut(instance_row) {
            None => return Err(synthesis_error(format!("instance row {instance_row} is not reserved (only {})", self.public.len()))),
            Some(true) => return Err(synthesis_error(format!("instance row {instance_row} is bound twice"))),
            Some(b) => *b = true,
        }
        let cfg = self.cfg;
        self.enable(cfg.q_public, instance_row)?;
        Ok(self.advice_fr(cfg.o, instance_row, v))
    }

    /// Bind a cell holding `v` to an instance row (copied to that row's `o`).
    pub fn expose_cell(&mut self, c: Cell, v: Option<Fr>, instance_row: usize) -> Result<(), Error> {
        let o = self.public_value(v, instance_row)?;
        self.eq_cell(o, c);
        Ok(())
    }

    /// Bind a wire to an instance row.
    pub fn expose(&mut self, w: &Wire, instance_row: usize) -> Result<(), Error> {
        self.expose_cell(w.cell, w.value.map(fr), instance_row)
    }
}

/// The packing slot `v − lo`, checked.
fn slot(v: i64, lo: i64) -> Result<i64, Error> {
    exact((v as i128).checked_sub(lo as i128), "a packed value")
}

/// A layout invariant broken (cannot happen for a graph the executor ran): log it and fail
/// synthesis.
pub(crate) fn synthesis_error(e: String) -> Error {
    tracing::error!("circuit layout: {e}");
    Error::Synthesis
}

/// Assign the lookup tables into the table columns: rows `(T, T·x, T·y)` for every pair `(x, y)`
/// of table `T` (see [`crate::tables`]), row 0 all zeros.
pub fn assign_tables(region: &mut Region<'_, Fr>, cfg: &ModelConfig, t: &Tables) {
    let mut row = 1;
    for (i, table) in t.tables.iter().enumerate() {
        let tag = fr(i as i64 + 1);
        for (x, y) in t.rows_of(table) {
            region.assign_fixed(cfg.table[0], row, tag);
            region.assign_fixed(cfg.table[1], row, tag * fr(x));
            region.assign_fixed(cfg.table[2], row, tag * fr(y));
            row += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halo2_proofs::plonk::ConstraintSystem;

    fn with_layout(f: impl FnOnce(&mut Layout)) {
        let mut meta = ConstraintSystem::<Fr>::default();
        let cfg = ModelConfig::configure(&mut meta, 2, false);
        let mut lay = Layout::new(None, &cfg, Tables::new(-8, 7));
        f(&mut lay);
    }

    #[test]
    fn overflowing_witness_is_an_error_not_a_wrapped_value() {
        with_layout(|lay| {
            let x = lay.witnesses(&[Some(1 << 62), Some(3)]);
            // 2^62·2 = 2^63 does not fit an i64 (it would wrap to −2^63).
            let dot = lay.dot(&[(x[0].clone(), Elem::K(2)), (x[1].clone(), Elem::K(1))], &Elem::K(0));
            assert!(matches!(dot, Err(Error::Synthesis)));
            // A partial sum that overflows fails even if the chain would come back in range.
            let dot = lay.dot(&[(x[0].clone(), Elem::K(2)), (x[0].clone(), Elem::K(-2))], &Elem::K(0));
            assert!(matches!(dot, Err(Error::Synthesis)));
            let ok = lay.dot(&[(x[0].clone(), Elem::K(1)), (x[1].clone(), Elem::K(-5))], &Elem::K(7)).unwrap();
            assert_eq!(ok.value, Some((1 << 62) - 8));
            let add = lay.arith(&[ArithOp { a: Some(x[0].clone()), b: Some(x[0].clone()), cl: 1, cr: 1, ..Default::default() }]);
            assert!(matches!(add, Err(Error::Synthesis)));
            let prod = lay.arith(&[ArithOp { a: Some(x[0].clone()), b: Some(x[1].clone()), cm: 1, ..Default::default() }]);
            assert!(matches!(prod, Err(Error::Synthesis)));
            // The packing slot v − lo of i64::MAX does not fit.
            let big = lay.witnesses(&[Some(i64::MAX)]);
            assert!(matches!(lay.pack(&big), Err(Error::Synthesis)));
        });
    }

    #[test]
    fn records_only_lookup_range_tables() {
        with_layout(|lay| {
            lay.looked_up = Some(vec![]);
            lay.start_section();
            let x = lay.witnesses(&[Some(5), Some(-3), Some(6)]);
            lay.range_check(&x[0]).unwrap();
            lay.lookup(&x[1], &FnKind::Abs).unwrap();
            // The quotient round(6 / 4) = 2 is range-checked; its remainder (0) is checked in the
            // remainder table [0, 8), which is not a lookup-range table.
            let q = lay.div(&x[2], 4).unwrap();
            assert_eq!(q.value, Some(2));
            assert_eq!(lay.looked_up, Some(vec![BTreeSet::from([5, -3, 2])]));
        });
    }
}
