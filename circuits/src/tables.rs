//! Lookup tables, registered by the layout as ops need them (so the set of tables and their tags
//! follow the graph deterministically) and assigned after the model region. All tables share one
//! lookup argument and one set of fixed columns `(tag, in, out)`:
//!
//! * function tables: rows `(T, T·x, T·f(x))` for `x` in the lookup range `[lo, hi]`;
//! * range tables: rows `(T, T·v, T·v)` for `v` in `[0, 2d)` (identity rows), one per divisor `d`
//!   of a division, for its remainder.
//!
//! Tag 1 is always the ReLU table: besides ReLU itself it is the range check over the lookup
//! range (a checked value `v` presents `(v, relu(v))`), so the most common activation and the
//! range checks share their rows.
//!
//! Row 0 of the table columns is all zeros: the value a row without a lookup presents.
//!
//! With limbs (`limb_bits = k > 0`, settings `range_bits`), tag 1 is instead the limb table
//! `[0, 2^k)`: range checks, ReLU and the quotients and remainders of divisions decompose their
//! values into limbs checked there (and in the narrower top-limb tables), so no table grows with
//! the lookup range; see [`crate::limbs`]. The top limb of a signed decomposition is looked up
//! in a top-limb table, which pairs it with its top bit: the sign of the decomposed value. A function table spans the lookup range unless its
//! lookup is reduced (settings `table_bits`, [`crate::reduce`]): then it holds the reduced
//! domain `[L, H]` only, and takes no part in range checks.

use zkinfer_onnx::activation::Activation;
use zkinfer_onnx::quant::rules::{self, Reduction};

/// An exact or quantized function proved by table lookup.
#[derive(Clone, Debug, PartialEq)]
pub enum FnKind {
    Relu,
    Abs,
    Clip { lo: Option<i64>, hi: Option<i64> },
    /// -1, 0 or 1.
    Sign,
    /// 1 if `x == 0`, else 0.
    IsZero,
    /// 1 if `x ≥ 0`, else 0 (comparisons without limbs).
    NonNeg,
    /// `f` from `in_scale` to `out_scale`; with `reduce`, a table over the reduced domain whose
    /// input is the reduced value ([`rules::lookup_at`]).
    Act { act: Activation, in_scale: u32, out_scale: u32, reduce: Option<Reduction> },
}

impl FnKind {
    /// The table's output for input `x` (the same rule as the reference executor).
    pub fn eval(&self, x: i64) -> i64 {
        match self {
            FnKind::Relu => x.max(0),
            FnKind::Abs => x.saturating_abs(),
            FnKind::Clip { lo, hi } => x.max(lo.unwrap_or(i64::MIN)).min(hi.unwrap_or(i64::MAX)),
            FnKind::Sign => x.signum(),
            FnKind::IsZero => (x == 0) as i64,
            FnKind::NonNeg => (x >= 0) as i64,
            FnKind::Act { act, in_scale, out_scale, reduce: None } => rules::lookup(act, x, *in_scale, *out_scale),
            FnKind::Act { act, in_scale, out_scale, reduce: Some(r) } => rules::lookup_at(act, x, *in_scale, r.shift, *out_scale),
        }
    }
    /// The inputs its table holds: the reduced domain, or `None` for the lookup range.
    pub fn domain(&self) -> Option<(i64, i64)> {
        match self {
            FnKind::Act { reduce: Some(r), .. } => Some((r.lo, r.hi)),
            _ => None,
        }
    }
}

/// Tag of the ReLU table, which is also the range check over the lookup range (registered first
/// by [`Tables::new`]).
pub const RANGE_TAG: u64 = 1;

/// One table of the shared lookup argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Table {
    /// `(T, T·x, T·f(x))` for `x` in the lookup range.
    Fn(FnKind),
    /// `(T, T·v, T·v)` for `v` in `[lo, hi]` (non-negative ranges: the identity is ReLU there).
    Range { lo: i64, hi: i64 },
    /// `(T, T·v, T·msb(v))` for `v` in `[0, 2^bits)`, `msb(v) = v >> (bits − 1)`: the top limb of a
    /// signed decomposition with its top bit, which is the sign of the decomposed value
    /// ([`crate::limbs`]).
    TopLimb { bits: u32 },
}

#[derive(Clone, Debug)]
pub struct Tables {
    pub lo: i64,
    pub hi: i64,
    /// Limb width `k` of decomposed range checks; 0: range checks look values up in table 1
    /// (ReLU over the lookup range).
    pub limb_bits: u32,
    /// Registered tables; table `i` has tag `i + 1`.
    pub tables: Vec<Table>,
}

impl Tables {
    pub fn new(lo: i64, hi: i64) -> Tables {
        Tables { lo, hi, limb_bits: 0, tables: vec![Table::Fn(FnKind::Relu)] }
    }
    /// Tables of a circuit with decomposed range checks over `k`-bit limbs (`k = 0`: [`Tables::new`]).
    pub fn with_limbs(lo: i64, hi: i64, k: u32) -> Tables {
        if k == 0 {
            return Tables::new(lo, hi);
        }
        Tables { lo, hi, limb_bits: k, tables: vec![Table::Range { lo: 0, hi: (1i64 << k) - 1 }] }
    }
    /// Bits `W` of the smallest signed range `[-2^(W-1), 2^(W-1))` holding the lookup range: what
    /// a decomposed range check proves.
    pub fn signed_bits(&self) -> u32 {
        let mut w = 1;
        while -(1i128 << (w - 1)) > self.lo as i128 || self.hi as i128 >= 1i128 << (w - 1) {
            w += 1;
        }
        w
    }
    /// Tag of the identity table `[0, 2^bits)` (a limb), registering it on first use.
    pub fn limb_tag(&mut self, bits: u32) -> u64 {
        self.tag(Table::Range { lo: 0, hi: (1i64 << bits) - 1 })
    }
    /// Tag of the top-limb table of `bits` bits ([`Table::TopLimb`]; for one bit the identity
    /// `[0, 2)`, which is the same relation), registering it on first use.
    pub fn top_limb_tag(&mut self, bits: u32) -> u64 {
        if bits == 1 {
            return self.limb_tag(1);
        }
        self.tag(Table::TopLimb { bits })
    }
    /// Whether table `tag` is an identity table (a range: `in = out`), which the second limb
    /// slot can use.
    pub fn is_identity(&self, tag: u64) -> bool {
        matches!(self.tables.get((tag as usize).wrapping_sub(1)), Some(Table::Range { .. }))
    }
    fn tag(&mut self, t: Table) -> u64 {
        let i = match self.tables.iter().position(|u| *u == t) {
            Some(i) => i,
            None => {
                self.tables.push(t);
                self.tables.len() - 1
            }
        };
        i as u64 + 1
    }
    /// Tag of a function table, registering it on first use.
    pub fn fn_tag(&mut self, f: &FnKind) -> u64 {
        self.tag(Table::Fn(f.clone()))
    }
    /// Tag of the table `[0, bound)`, registering it on first use.
    pub fn below_tag(&mut self, bound: i64) -> u64 {
        self.tag(Table::Range { lo: 0, hi: bound - 1 })
    }
    /// Tag of the remainder table `[0, 2d)` for divisor `d`, registering it on first use.
    pub fn rem_tag(&mut self, d: i64) -> u64 {
        self.tag(Table::Range { lo: 0, hi: 2 * d - 1 })
    }
    /// Tag of the non-negative range `[0, 2M)`, `M = max(|lo|, hi + 1)`: it holds every remainder
    /// and slack of a division by a divisor within the lookup range.
    pub fn nonneg_tag(&mut self) -> u64 {
        let m = self.lo.unsigned_abs().max((self.hi + 1).unsigned_abs()) as i64;
        self.rem_tag(m)
    }
    /// The output a row of table `tag` pairs with input `x` (no check that `x` is in the table).
    pub fn eval(&self, tag: u64, x: i64) -> i64 {
        match &self.tables[tag as usize - 1] {
            Table::Fn(f) => f.eval(x),
            Table::Range { .. } => x,
            Table::TopLimb { bits } => x >> (bits - 1),
        }
    }
    /// The rows `(x, y)` of table `t` (before multiplying by the tag).
    pub fn rows_of(&self, t: &Table) -> Vec<(i64, i64)> {
        match t {
            Table::Fn(f) => {
                let (lo, hi) = f.domain().unwrap_or((self.lo, self.hi));
                (lo..=hi).map(|x| (x, f.eval(x))).collect()
            }
            Table::Range { lo, hi } => (*lo..=*hi).map(|v| (v, v)).collect(),
            Table::TopLimb { bits } => (0..1i64 << bits).map(|v| (v, v >> (bits - 1))).collect(),
        }
    }
    /// Rows the table columns need: every table plus the zero row.
    pub fn rows(&self) -> usize {
        let size = |t: &Table| match t {
            Table::Fn(f) => {
                let (lo, hi) = f.domain().unwrap_or((self.lo, self.hi));
                (hi - lo + 1) as usize
            }
            Table::Range { lo, hi } => (hi - lo + 1) as usize,
            Table::TopLimb { bits } => 1usize << bits,
        };
        1 + self.tables.iter().map(size).sum::<usize>()
    }
}
