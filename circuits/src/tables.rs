//! Lookup tables, registered by the layout as ops need them (so the set of tables and their tags
//! follow the graph deterministically) and assigned after the model region.
//!
//! * Function tables `(tag, x, f(x))` for `x` in the lookup range `[lo, hi]`; tags from 1.
//! * Range tables `(tag, v)`: tag 1 is the lookup range itself; each divisor `d` used by a
//!   division row has a table `[0, 2d)` for its remainder.
//!
//! Row 0 of every table is all zeros: the value a disabled lookup row presents.

use zkinfer_onnx::activation::Activation;
use zkinfer_onnx::quant::rules;

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
    Act { act: Activation, in_scale: u32, out_scale: u32 },
}

impl FnKind {
    /// The table's output for input `x` (the same rule as the reference executor).
    pub fn eval(&self, x: i64) -> i64 {
        match self {
            FnKind::Relu => x.max(0),
            FnKind::Abs => x.abs(),
            FnKind::Clip { lo, hi } => x.max(lo.unwrap_or(i64::MIN)).min(hi.unwrap_or(i64::MAX)),
            FnKind::Sign => x.signum(),
            FnKind::IsZero => (x == 0) as i64,
            FnKind::Act { act, in_scale, out_scale } => rules::lookup(act, x, *in_scale, *out_scale),
        }
    }
}

/// Tag of the range table holding the lookup range.
pub const RANGE_TAG: u64 = 1;

#[derive(Clone, Debug)]
pub struct Tables {
    pub lo: i64,
    pub hi: i64,
    pub fns: Vec<FnKind>,
    pub divisors: Vec<i64>,
}

impl Tables {
    pub fn new(lo: i64, hi: i64) -> Tables {
        Tables { lo, hi, fns: vec![], divisors: vec![] }
    }
    /// Tag of a function table, registering it on first use.
    pub fn fn_tag(&mut self, f: &FnKind) -> u64 {
        let i = match self.fns.iter().position(|g| g == f) {
            Some(i) => i,
            None => {
                self.fns.push(f.clone());
                self.fns.len() - 1
            }
        };
        i as u64 + 1
    }
    /// Tag of the remainder table `[0, 2d)` for divisor `d`, registering it on first use.
    pub fn rem_tag(&mut self, d: i64) -> u64 {
        let i = match self.divisors.iter().position(|&x| x == d) {
            Some(i) => i,
            None => {
                self.divisors.push(d);
                self.divisors.len() - 1
            }
        };
        i as u64 + 2
    }
    /// Tag of the non-negative range `[0, 2M)`, `M = max(|lo|, hi + 1)`: it holds every remainder
    /// and slack of a division by a divisor within the lookup range.
    pub fn nonneg_tag(&mut self) -> u64 {
        let m = self.lo.unsigned_abs().max((self.hi + 1).unsigned_abs()) as i64;
        self.rem_tag(m)
    }
    pub fn domain(&self) -> usize {
        (self.hi - self.lo + 1) as usize
    }
    /// Rows the function tables need (including the zero row).
    pub fn fn_rows(&self) -> usize {
        1 + self.fns.len() * self.domain()
    }
    /// Rows the range tables need (including the zero row).
    pub fn range_rows(&self) -> usize {
        1 + self.domain() + self.divisors.iter().map(|&d| 2 * d as usize).sum::<usize>()
    }
}
