//! Soundness of decomposed range checks ([`zkinfer_circuits::limbs`]): honest layouts satisfy
//! MockProver, and each attack fails the constraint named — a limb outside its table (the lookup
//! "table"), a recomposition that does not add up (gate "limb"), a flipped ReLU sign bit, and a
//! division whose quotient and remainder are moved together (the remainder's limb table), and a
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
}

/// The sigmoid of [`Case::Reduced`] and its reduction over the lookup range.
fn reduced_sigmoid() -> (FnKind, Reduction) {
    let r = rules::reduction(&Activation::Sigmoid, 5, 5, (LO, HI), 5).expect("[-256, 255] needs a reduction to 2^5 rows");
    (FnKind::Act { act: Activation::Sigmoid, in_scale: 5, out_scale: 5, reduce: Some(r) }, r)
}

/// Rows of a reduced lookup (module docs of `zkinfer_circuits::reduce`): 0..3 `x`'s limbs, 3 the
/// `div` row, 4 the remainder, 5..7 its limbs, 7..14 the clamp below (difference, 3 limb rows,
/// 2 product rows, `m`), 14..21 the clamp above, 21 the table row.
const REDUCED_ROWS: usize = 22;

/// A cell to overwrite: column (`a`, `b` or `o` of lane 0), row relative to the chip's first
/// row, value.
type Edit = (char, usize, i64);

#[derive(Clone)]
struct T {
    case: Case,
    /// The witness row of the chip's inputs gets `input` instead (when set).
    input: Option<i64>,
    edits: Vec<Edit>,
}

impl Circuit<Fr> for T {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        ModelConfig::configure_with(meta, 1, false, true)
    }
    fn synthesize(&self, cfg: ModelConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let mut tables = None;
        layouter.assign_region(
            || "chip",
            |mut region| {
                let mut lay = Layout::new(Some(&mut region), &cfg, Tables::with_limbs(LO, HI, K));
                // Constant 0 first, so the ReLU product's constant takes no row inside the chip.
                lay.constant_wire(0)?;
                let ins = |lay: &mut Layout, v: &[i64]| lay.witnesses(&v.iter().map(|&x| Some(x)).collect::<Vec<_>>());
                let (input_row, start) = match self.case {
                    Case::Range { x } => {
                        let w = ins(&mut lay, &[x]).remove(0);
                        let start = lay.row;
                        lay.range_check(&w)?;
                        (w.cell.row_offset, start)
                    }
                    Case::Relu { x } => {
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
    let c = T { case, input, edits };
    MockProver::run(8, &c, vec![vec![]]).map_err(|e| format!("synthesis: {e:?}"))?.verify().map_err(|e| format!("{e:?}"))
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
    // The product chain after the limbs: constant row, accumulator row, dot row (a_0 = s, o = s·x).
    let dot = 3 + 1;
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
    // 1000 / 8: q = 125, r = 8 (2n + d = 2008 = 16·125 + 8). Moved together, q = 124 and
    // r = 24 keep the div gate; q's limbs are rewritten honestly for 124 (124 + 256 = 380 =
    // (1, 7, 12)), so only the remainder's 4-bit limb 24 fails.
    // Rows: 0 div gate, 1 remainder, 2..5 q's limbs, 5 r's limb.
    let mut edits = vec![('a', 0, 124), ('a', 1, 24)];
    edits.extend(limb_rows(2, &[1, 7, 12], &[1, 23, 124]));
    edits.extend(limb_rows(5, &[24], &[24]));
    fails_with(Case::Div { n: 1000, d: 8 }, None, edits, "Lookup", Some("\"div\""));
    // A quotient off by one breaks the gate.
    fails_with(Case::Div { n: 1000, d: 8 }, None, vec![('a', 0, 126)], "div", None);
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
    // Rows: 0 div gate (q), 1 remainder, 2..5 q's decomposition [1, 4, 4] (sign bit first),
    // 5..7 the product s·q (accumulator row, dot row), 7 the remainder's limb.
    for (n, d) in [(1000, 8), (-1000, 8), (0, 8), (7, 2)] {
        run(Case::DivRelu { n, d }, None, vec![]).unwrap_or_else(|e| panic!("{n}/{d}: {e}"));
    }
    // relu(125) claimed 0.
    fails_with(Case::DivRelu { n: 1000, d: 8 }, None, vec![('o', 6, 0)], "dot", None);
    // relu(-125) claimed -125 with the sign bit set: -125 + 256 = 131 has no top bit.
    let edits = vec![('a', 2, 1), ('o', 2, 1), ('a', 6, 1), ('o', 6, -125)];
    assert!(run(Case::DivRelu { n: -1000, d: 8 }, None, edits).is_err());
}
