//! Soundness of decomposed range checks ([`zkinfer_circuits::limbs`]): honest layouts satisfy
//! MockProver, and each attack fails the constraint named — a limb outside its table (the lookup
//! "table"), a recomposition that does not add up (gate "limb"), a flipped ReLU sign bit, and a
//! division whose quotient and remainder are moved together (the remainder's limb table), a
//! sign claimed against the top-limb table, a max-pool select row with the wrong result, and a
//! reduced function lookup ([`zkinfer_circuits::reduce`]) whose quotient, clamp or output is
//! changed.
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error};
use zkinfer_circuits::config::ModelConfig;
use zkinfer_circuits::field::fr;
use zkinfer_circuits::layout::{assign_tables, Layout};
use zkinfer_circuits::tables::{FnKind, Tables};
use zkinfer_onnx::activation::Activation;
use zkinfer_onnx::quant::rules::{self, Reduction};

/// Lookup range [-256, 255]: W = 9 signed bits, limbs of 4 bits: widths [1, 4, 4].
const LO: i64 = -256;
const HI: i64 = 255;
const K: u32 = 4;

#[derive(Clone, Copy, Debug)]
enum Case {
    Range { x: i64 },
    Relu { x: i64 },
    Div { n: i64, d: i64 },
    VDiv { n: i64, d: i64 },
    /// Sigmoid from scale 5 to 5 on a reduced input (tables of 2^5 rows).
    Reduced { x: i64 },
    /// A rescale by `d = 2^j` with the ReLU of its quotient (a fused Rescale → Relu).
    DivRelu { n: i64, d: i64 },
    /// ReLU with limbs of 3 bits: widths [3, 3, 3], the top limb in a 3-bit top-limb table.
    Relu3 { x: i64 },
    /// `max(m, x)` in one `dot` row from the sign bit of `x − m` (two lanes).
    Max { m: i64, x: i64 },
    /// A signed range check on two lanes: limbs [1, 4] on row 0 (the 4-bit one in lane 1's
    /// slot), [4] on row 1.
    Range2 { x: i64 },
}

impl Case {
    fn limb_bits(&self) -> u32 {
        match self {
            Case::Relu3 { .. } => 3,
            _ => K,
        }
    }
}

/// The sigmoid of [`Case::Reduced`] and its reduction over the lookup range.
fn reduced_sigmoid() -> (FnKind, Reduction) {
    let r = rules::reduction(&Activation::Sigmoid, 5, 5, (LO, HI), 5).expect("[-256, 255] needs a reduction to 2^5 rows");
    (FnKind::Act { act: Activation::Sigmoid, in_scale: 5, out_scale: 5, reduce: Some(r) }, r)
}

/// Rows of a reduced lookup (module docs of `zkinfer_circuits::reduce`): 0..3 `x`'s limbs, 3 the
/// `div` row, 4 the remainder, 5..7 its limbs, 7..13 the clamp below (difference, 3 limb rows,
/// the product row, `m`), 13..19 the clamp above, 19 the table row.
const REDUCED_ROWS: usize = 20;

/// A cell to overwrite: column (`a`, `b` or `o` of lane 0), row relative to the chip's first
/// row, value.
type Edit = (char, usize, i64);

/// The test circuit, with `L` lanes.
#[derive(Clone)]
struct T<const L: usize> {
    case: Case,
    /// The witness row of the chip's inputs gets `input` instead (when set).
    input: Option<i64>,
    edits: Vec<Edit>,
}

impl<const L: usize> Circuit<Fr> for T<L> {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        ModelConfig::configure_with(meta, L, false, true)
    }
    fn synthesize(&self, cfg: ModelConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let mut tables = None;
        layouter.assign_region(
            || "chip",
            |mut region| {
                let mut lay = Layout::new(Some(&mut region), &cfg, Tables::with_limbs(LO, HI, self.case.limb_bits()));
                // Constant 0 first, so the ReLU product's constant takes no row inside the chip.
                lay.constant_wire(0)?;
                let ins = |lay: &mut Layout, v: &[i64]| lay.witnesses(&v.iter().map(|&x| Some(x)).collect::<Vec<_>>());
                let (input_row, start) = match self.case {
                    Case::Range { x } | Case::Range2 { x } => {
                        let w = ins(&mut lay, &[x]).remove(0);
                        let start = lay.row;
                        lay.range_check(&w)?;
                        (w.cell.row_offset, start)
                    }
                    Case::Relu { x } | Case::Relu3 { x } => {
                        let w = ins(&mut lay, &[x]).remove(0);
                        let start = lay.row;
                        let r = lay.lookup(&w, &FnKind::Relu)?;
                        assert_eq!(r.value, Some(x.max(0)));
                        (w.cell.row_offset, start)
                    }
                    Case::Div { n, d } => {
                        let w = ins(&mut lay, &[n]).remove(0);
                        let start = lay.row;
                        let q = lay.div(&w, d)?;
                        assert_eq!(q.value, zkinfer_onnx::quant::rules::div_round(n as i128, d as i128));
                        (w.cell.row_offset, start)
                    }
                    Case::VDiv { n, d } => {
                        let w = ins(&mut lay, &[n, d]);
                        let start = lay.row;
                        lay.vdiv(&w[0], &w[1])?;
                        (w[0].cell.row_offset, start)
                    }
                    Case::DivRelu { n, d } => {
                        let w = ins(&mut lay, &[n]).remove(0);
                        let start = lay.row;
                        let (q, r) = lay.div_relu(&w, d)?;
                        let want = zkinfer_onnx::quant::rules::div_round(n as i128, d as i128);
                        assert_eq!((q.value, r.value), (want, want.map(|v| v.max(0))));
                        (w.cell.row_offset, start)
                    }
                    Case::Max { m, x } => {
                        let w = ins(&mut lay, &[m, x]);
                        let start = lay.row;
                        let y = lay.max_limbs(&w[0], &w[1])?;
                        assert_eq!(y.value, Some(m.max(x)));
                        (w[0].cell.row_offset, start)
                    }
                    Case::Reduced { x } => {
                        let w = ins(&mut lay, &[x]).remove(0);
                        let start = lay.row;
                        let (f, r) = reduced_sigmoid();
                        let y = lay.lookup(&w, &f)?;
                        assert_eq!(y.value, Some(rules::reduced_lookup(&Activation::Sigmoid, x, 5, 5, &r)));
                        assert_eq!(lay.row - start, REDUCED_ROWS, "layout of a reduced lookup");
                        (w.cell.row_offset, start)
                    }
                };
                let t = lay.tables.clone();
                drop(lay);
                let col = |c: char| -> Column<Advice> {
                    match c {
                        'a' => cfg.a[0],
                        'b' => cfg.b[0],
                        '1' => cfg.a[1],
                        _ => cfg.o,
                    }
                };
                if let Some(v) = self.input {
                    region.assign_advice(cfg.a[0], input_row, Value::known(fr(v)));
                }
                for &(c, r, v) in &self.edits {
                    region.assign_advice(col(c), start + r, Value::known(fr(v)));
                }
                tables = Some(t);
                Ok(())
            },
        )?;
        let t = tables.expect("assigned");
        layouter.assign_region(
            || "tables",
            |mut region| {
                assign_tables(&mut region, &cfg, &t);
                Ok(())
            },
        )?;
        Ok(())
    }
}

fn run(case: Case, input: Option<i64>, edits: Vec<Edit>) -> Result<(), String> {
    let res = match case {
        Case::Max { .. } | Case::Range2 { .. } => MockProver::run(8, &T::<2> { case, input, edits }, vec![vec![]]),
        _ => MockProver::run(8, &T::<1> { case, input, edits }, vec![vec![]]),
    };
    res.map_err(|e| format!("synthesis: {e:?}"))?.verify().map_err(|e| format!("{e:?}"))
}

/// Rows of one limb: `a_0 = o = limb`, `b_0 = running sum`.
fn limb_rows(first: usize, limbs: &[i64], sums: &[i64]) -> Vec<Edit> {
    limbs.iter().zip(sums).enumerate().flat_map(|(j, (&l, &z))| [('a', first + j, l), ('o', first + j, l), ('b', first + j, z)]).collect()
}

fn fails_with(case: Case, input: Option<i64>, edits: Vec<Edit>, what: &str, not: Option<&str>) {
    run(case, None, vec![]).unwrap_or_else(|e| panic!("honest {case:?} must pass: {e}"));
    let err = run(case, input, edits).expect_err(&format!("attack on {case:?} must fail"));
    assert!(err.contains(what), "{case:?}: expected a `{what}` failure, got {err}");
    if let Some(n) = not {
        assert!(!err.contains(n), "{case:?}: only `{what}` should fail, got {err}");
    }
}

#[test]
fn honest_layouts_pass() {
    for x in [LO, -1, 0, 1, 100, HI] {
        run(Case::Range { x }, None, vec![]).unwrap();
        run(Case::Relu { x }, None, vec![]).unwrap();
    }
    // Powers of two (remainder by limbs), a small divisor (table [0, 2d)), a large one (limbs of
    // the remainder and of its slack).
    for (n, d) in [(1000, 8), (-1000, 8), (500, 3), (-7, 3), (1000, 20), (-999, 20), (5, 1)] {
        run(Case::Div { n, d }, None, vec![]).unwrap();
    }
    for (n, d) in [(1000, 37), (-500, 3), (0, 1), (255, 255)] {
        run(Case::VDiv { n, d }, None, vec![]).unwrap();
    }
}

#[test]
fn a_value_outside_the_range_needs_a_limb_outside_its_table() {
    // 256 = HI + 1: 256 + 256 = 512 = 1·256 + 15·16 + 16, so the sums add up but the last limb
    // is 16, not a 4-bit limb.
    let edits = limb_rows(0, &[1, 15, 16], &[1, 31, 256]);
    fails_with(Case::Range { x: 255 }, Some(256), edits, "Lookup", Some("\"limb\""));
    // An honest layout refuses the value outright.
    assert!(run(Case::Range { x: 256 }, None, vec![]).unwrap_err().contains("synthesis"));
}

#[test]
fn limbs_must_recompose_the_value() {
    // 100 + 256 = 356 = (1, 6, 4); a different in-table middle limb breaks the sum.
    fails_with(Case::Range { x: 100 }, None, vec![('a', 1, 7), ('o', 1, 7)], "limb", None);
    // So does a running sum that skips its limb.
    fails_with(Case::Range { x: 100 }, None, vec![('b', 1, 23)], "limb", None);
}

#[test]
fn relu_sign_bit_cannot_be_flipped() {
    // relu(5) claimed 0 with s = 0: the running sums no longer reach 5 + 256 …
    // The product row after the limbs: a_0 = s (copied from the top limb's o), o = s·x.
    let dot = 3;
    fails_with(Case::Relu { x: 5 }, None, vec![('a', 0, 0), ('o', 0, 0), ('a', dot, 0), ('o', dot, 0)], "limb", None);
    // … and sums that do reach it need a limb of 16 (5 + 256 = 0·256 + 16·16 + 5).
    let mut edits = limb_rows(0, &[0, 16, 5], &[0, 16, 5]);
    edits.extend([('a', dot, 0), ('o', dot, 0)]);
    fails_with(Case::Relu { x: 5 }, None, edits, "Lookup", Some("\"limb\""));
    // relu(-5) claimed -5 with s = 1: -5 + 256 = 251 < 256 cannot have a top bit.
    let mut edits = limb_rows(0, &[1, 0, 0], &[1, 16, 0]);
    edits.extend([('a', dot, 1), ('o', dot, -5)]);
    assert!(run(Case::Relu { x: -5 }, None, edits).is_err());
}

#[test]
fn division_remainder_is_bounded() {
    // A rescale (d = 8 = 2^3) is one decomposition of n + 4 + 8·256: rows 0..3 the quotient's
    // signed limbs [1, 4, 4] (running sum q on row 2), row 3 the remainder's 3-bit limb (sum n).
    // 1000 / 8: 1004 = 8·125 + 4. Moved together, q = 124 and ρ = 12 keep every running sum
    // (124·8 + 12 − 4 = 1000), so only the remainder's limb 12 ∉ [0, 8) fails.
    let mut edits = limb_rows(0, &[1, 7, 12], &[1, 23, 124]);
    edits.extend(limb_rows(3, &[12], &[1000]));
    fails_with(Case::Div { n: 1000, d: 8 }, None, edits, "Lookup", Some("\"limb\""));
    // A quotient off by one breaks the running sums.
    fails_with(Case::Div { n: 1000, d: 8 }, None, vec![('b', 2, 126)], "limb", None);
    // … and its limbs rewritten for 126 leave the last sum short of n (Equality) or break it.
    let mut edits = limb_rows(0, &[1, 7, 14], &[1, 23, 126]);
    edits.push(('b', 3, 1000));
    fails_with(Case::Div { n: 1000, d: 8 }, None, edits, "limb", Some("Lookup"));
    // A small non-power-of-two divisor (table [0, 2d)): quotient off by one breaks `div`
    // (rows: 0 div gate, 1 remainder).
    fails_with(Case::Div { n: 500, d: 3 }, None, vec![('a', 0, 168)], "div", None);
    // Large divisor (2d = 40, remainder and slack by limbs): moving q down by one needs r = 60,
    // whose slack 39 − 60 is negative and has no decomposition.
    let (n, d) = (1000, 20);
    let q = zkinfer_onnx::quant::rules::div_round(n as i128, d as i128).unwrap();
    let edits = vec![('a', 0, q - 1), ('a', 1, 2 * n + d - 2 * d * (q - 1))];
    assert!(run(Case::Div { n, d }, None, edits).is_err());
}

#[test]
fn runtime_division_refuses_a_zero_divisor() {
    // d = 0 gives a remainder 2n and a slack −1 − 2n < 0: no decomposition (synthesis refuses it).
    assert!(run(Case::VDiv { n: 5, d: 0 }, None, vec![]).is_err());
    // A quotient off by one breaks the vdiv gate (rows: 0 divisor, 1 vdiv).
    fails_with(Case::VDiv { n: 1000, d: 37 }, None, vec![('a', 1, 28)], "vdiv", None);
}

#[test]
fn reduced_lookup_is_bound_to_its_input() {
    let (_, r) = reduced_sigmoid();
    assert_eq!(r.clamps(LO, HI), (true, true), "sigmoid is clamped on both sides: {r:?}");
    for x in [LO, -200, -40, -1, 0, 3, 40, 200, HI] {
        run(Case::Reduced { x }, None, vec![]).unwrap_or_else(|e| panic!("x = {x}: {e}"));
    }
    let f = |m: i64| rules::lookup_at(&Activation::Sigmoid, m, 5, r.shift, 5);
    for x in [-200, 3, 200] {
        let q = rules::rescale(x, r.shift);
        let m = r.reduce(x);
        let table = REDUCED_ROWS - 1;
        // Another output for the same input is not a row of the table.
        fails_with(Case::Reduced { x }, None, vec![('o', table, f(m) + 1)], "Lookup", Some("Gate"));
        // Another reduced input (with its own table value) breaks the clamp's last `arith` row.
        let other = if m > r.lo { m - 1 } else { m + 1 };
        fails_with(Case::Reduced { x }, None, vec![('a', table, other), ('o', table, f(other))], "Equality constraint", Some("Lookup"));
        fails_with(Case::Reduced { x }, None, vec![('o', table - 1, other), ('a', table, other), ('o', table, f(other))], "arith", Some("Lookup"));
        // A quotient off by one breaks the `div` gate (row 3).
        fails_with(Case::Reduced { x }, None, vec![('a', 3, q + 1)], "div", None);
    }
}

#[test]
fn fused_rescale_relu_is_the_relu_of_the_quotient() {
    // Rows: 0..3 q's signed limbs [1, 4, 4] (sign bit first, running sum q on row 2), 3 the
    // remainder's 3-bit limb (running sum n), 4 the product s·q.
    for (n, d) in [(1000, 8), (-1000, 8), (0, 8), (7, 2), (-7, 2), (HI * 8 + 3, 8), (LO * 8 - 4, 8)] {
        run(Case::DivRelu { n, d }, None, vec![]).unwrap_or_else(|e| panic!("{n}/{d}: {e}"));
    }
    // A quotient outside the signed range is refused when laid out.
    assert!(run(Case::DivRelu { n: (HI + 1) * 8, d: 8 }, None, vec![]).unwrap_err().contains("synthesis"));
    // relu(125) claimed 0.
    fails_with(Case::DivRelu { n: 1000, d: 8 }, None, vec![('o', 4, 0)], "dot", None);
    // relu(-125) claimed -125 with the sign bit set: -125 + 256 = 131 has no top bit.
    let edits = vec![('a', 0, 1), ('o', 0, 1), ('a', 4, 1), ('o', 4, -125)];
    assert!(run(Case::DivRelu { n: -1000, d: 8 }, None, edits).is_err());
}

#[test]
fn top_limb_table_pairs_the_limb_with_the_sign() {
    // 3-bit limbs: x + 256 over [3, 3, 3]; the top limb's table pairs it with its top bit.
    for x in [LO, -1, 0, 1, 100, HI] {
        run(Case::Relu3 { x }, None, vec![]).unwrap_or_else(|e| panic!("relu3({x}): {e}"));
    }
    // relu(100): 356 = (5, 4, 4), top bit 1. Claiming the sign 0 (and relu 0) is no table row.
    fails_with(Case::Relu3 { x: 100 }, None, vec![('o', 0, 0), ('a', 3, 0), ('o', 3, 0)], "Lookup", Some("Gate"));
    // relu(-100): 156 = (2, 3, 4), top bit 0. Claiming the sign 1 (relu -100) is no table row.
    fails_with(Case::Relu3 { x: -100 }, None, vec![('o', 0, 1), ('a', 3, 1), ('o', 3, -100)], "Lookup", Some("Gate"));
}

#[test]
fn max_row_selects_by_the_sign_of_the_difference() {
    // Rows: 0 the difference d = x − m (arith), 1..3 d's signed limbs [1, 4, 4] (two lanes: the
    // top two share row 1, the second in lane 1's slot), 3 the select row o = s·d + m·1.
    for (m, x) in [(5, 9), (9, 5), (-3, -3), (LO / 2, HI / 2), (HI / 2, LO / 2 + 1)] {
        run(Case::Max { m, x }, None, vec![]).unwrap_or_else(|e| panic!("max({m}, {x}): {e}"));
    }
    // max(5, 9) claimed 5.
    fails_with(Case::Max { m: 5, x: 9 }, None, vec![('o', 3, 5)], "dot", None);
    // max(9, 5) claimed 5 by a set sign bit: d = -4, -4 + 256 = 252 has no top bit.
    fails_with(Case::Max { m: 9, x: 5 }, None, vec![('a', 1, 1), ('o', 1, 1), ('a', 3, 1), ('o', 3, 5)], "limb", None);
    // A difference outside the lookup range has no decomposition.
    assert!(run(Case::Max { m: LO, x: HI }, None, vec![]).unwrap_err().contains("synthesis"));
}

#[test]
fn second_limb_slot_is_looked_up_and_recomposed() {
    // 100 + 256 = 356 = 1·256 + 6·16 + 4: row 0 holds (a_0, a_1) = (1, 6) with running sum
    // 2^4·1 + 6 = 22, row 1 the limb 4 with sum 16·22 + 4 − 256 = 100.
    for x in [LO, -1, 0, 1, 100, HI] {
        run(Case::Range2 { x }, None, vec![]).unwrap();
    }
    // Lane 1's limb 22 (out of [0, 16)) with the top limb 0 keeps every sum (0·16 + 22 = 22):
    // only lane 1's lookup fails.
    fails_with(Case::Range2 { x: 100 }, None, vec![('a', 0, 0), ('o', 0, 0), ('1', 0, 22)], "Lookup", Some("\"limb\""));
    // An in-table lane-1 limb that does not add up fails the limb gate.
    fails_with(Case::Range2 { x: 100 }, None, vec![('1', 0, 7)], "limb", None);
    // 256 = HI + 1 needs 512 = 1·256 + 15·16 + 16: a last limb of 16, outside its table.
    let edits = vec![('a', 0, 1), ('o', 0, 1), ('1', 0, 15), ('b', 0, 31), ('a', 1, 16), ('o', 1, 16), ('b', 1, 256)];
    fails_with(Case::Range2 { x: 255 }, Some(256), edits, "Lookup", Some("\"limb\""));
}
