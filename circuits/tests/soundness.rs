//! Chip soundness: an honest layout satisfies MockProver, and corrupting one witness cell makes the
//! expected gate, lookup or copy constraint fail (checked by name, not just "some error").
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error};
use zkinfer_circuits::config::ModelConfig;
use zkinfer_circuits::field::fr;
use zkinfer_circuits::layout::{assign_tables, ArithOp, Elem, Layout, Wire};
use zkinfer_circuits::tables::{FnKind, Tables};
use zkinfer_onnx::activation::Activation;

#[derive(Clone, Copy, Debug)]
enum Case {
    /// round(n / d) with the division chip.
    Div { n: i64, d: i64 },
    /// f(x) by lookup.
    Lookup { x: i64, sigmoid: bool },
    /// Σ x·w with fixed weights, or advice weights.
    Dot { fixed: bool },
    /// max(a, b) = a + relu(b - a).
    Max { a: i64, b: i64 },
    /// 2a − b + 3 with the arith gate.
    Arith,
    /// cm·a·b (a one-term dot chain, scaled by an arith row when cm ≠ 1).
    Product { cm: i64 },
    /// round(n / d) for a runtime divisor d.
    VDiv { n: i64, d: i64 },
    /// Poseidon sponge hash of `n` values 0..n.
    Hash { n: usize },
    /// Packed hash of values in the lookup range (one of them `v`).
    PackedHash { v: i64 },
    /// `v` bound to instance row 0 by the `public` gate.
    Public { v: i64 },
}

/// Which cell of the case's output row to corrupt, and by how much.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    /// The returned output wire.
    Output(i64),
    /// The quotient the division gate reads (`a_0` of the quotient row).
    GateQuotient(i64),
    /// The lookup pair `o_0` of the quotient row.
    RangePair(i64),
    /// The division's quotient (both cells of its row) and remainder (both cells of the next row),
    /// moved together so the division gate and the quotient's range row still hold.
    ShiftQuotient,
    /// An input copy in the chip's row (copy constraint).
    InputCopy,
    /// The unused weight lane of an advice-weight dot row (lane 1 of the last row).
    PaddingWeight,
    /// The advice weight `b_0` of a fixed-weight dot row (must stay 0).
    AdviceWeight,
    /// The divisor the `vdiv` gate reads from the previous row's `o_0`.
    Divisor,
    /// The public value given to the verifier (instance row 0).
    Instance,
}

#[derive(Clone)]
struct T {
    case: Case,
    tamper: Option<Tamper>,
}

const LO: i64 = -256;
const HI: i64 = 255;

fn advice(c: halo2_proofs::plonk::Column<halo2_proofs::plonk::Any>) -> Column<Advice> {
    Column::<Advice>::try_from(c).expect("advice cell")
}

impl Circuit<Fr> for T {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        ModelConfig::configure(meta, 2, true)
    }
    fn synthesize(&self, cfg: ModelConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let mut tables = None;
        layouter.assign_region(
            || "chip",
            |mut region| {
                let mut lay = Layout::new(Some(&mut region), &cfg, Tables::new(LO, HI));
                if let Case::Public { .. } = self.case {
                    lay.reserve_public(1);
                }
                let ins = |lay: &mut Layout, v: &[i64]| lay.witnesses(&v.iter().map(|&x| Some(x)).collect::<Vec<_>>());
                let (out, row_of_out): (Wire, usize) = match self.case {
                    Case::Div { n, d } => {
                        let x = ins(&mut lay, &[n]).remove(0);
                        let o = lay.div(&x, d)?;
                        (o.clone(), o.cell.row_offset)
                    }
                    Case::Lookup { x, sigmoid } => {
                        let w = ins(&mut lay, &[x]).remove(0);
                        let f = if sigmoid { FnKind::Act { act: Activation::Sigmoid, in_scale: 5, out_scale: 5, reduce: None } } else { FnKind::Relu };
                        let o = lay.lookup(&w, &f)?;
                        (o.clone(), o.cell.row_offset)
                    }
                    Case::Dot { fixed } => {
                        let xs = ins(&mut lay, &[3, -4, 5]);
                        let ws: Vec<Elem> = if fixed {
                            vec![Elem::K(2), Elem::K(7), Elem::K(-1)]
                        } else {
                            ins(&mut lay, &[2, 7, -1]).into_iter().map(Elem::W).collect()
                        };
                        let terms: Vec<(Wire, Elem)> = xs.into_iter().zip(ws).collect();
                        let o = lay.dot(&terms, &Elem::K(10))?;
                        assert_eq!(o.value, Some(10 + 6 - 28 - 5));
                        (o.clone(), o.cell.row_offset)
                    }
                    Case::Max { a, b } => {
                        let v = ins(&mut lay, &[a, b]);
                        let d = lay.arith(&[ArithOp { a: Some(v[0].clone()), b: Some(v[1].clone()), cl: -1, cr: 1, ..Default::default() }])?.remove(0);
                        let r = lay.lookup(&d, &FnKind::Relu)?;
                        let m = lay.arith(&[ArithOp { a: Some(v[0].clone()), b: Some(r), cl: 1, cr: 1, ..Default::default() }])?.remove(0);
                        assert_eq!(m.value, Some(a.max(b)));
                        (m.clone(), m.cell.row_offset)
                    }
                    Case::VDiv { n, d } => {
                        let v = ins(&mut lay, &[n, d]);
                        let o = lay.vdiv(&v[0], &v[1])?;
                        (o.clone(), o.cell.row_offset)
                    }
                    Case::Hash { n } => {
                        let vals: Vec<i64> = (0..n as i64).map(|v| v * 7 - 3).collect();
                        let v = ins(&mut lay, &vals);
                        let (cell, h) = lay.poseidon_hash(&v)?;
                        let want = zkinfer_circuits::poseidon::hash(&vals.iter().map(|&x| fr(x)).collect::<Vec<_>>());
                        assert_eq!(h, Some(want), "in-circuit hash value differs from the native hash");
                        let w = Wire { cell, value: None };
                        (w, cell.row_offset)
                    }
                    Case::PackedHash { v } => {
                        let vals = vec![v, 3, -7, 100, 255, -256];
                        let w = ins(&mut lay, &vals);
                        let packed = lay.pack(&w)?;
                        let (_, h) = lay.poseidon_hash_fr(&packed)?;
                        assert_eq!(h, Some(zkinfer_circuits::poseidon::hash_packed(&vals, LO, HI)));
                        // Report the first packed accumulator cell (row of the first pack step).
                        let first = packed[0].0;
                        (Wire { cell: first, value: None }, first.row_offset)
                    }
                    Case::Public { v } => {
                        let w = ins(&mut lay, &[v]).remove(0);
                        lay.expose(&w, 0)?;
                        (w, 0)
                    }
                    Case::Arith => {
                        let v = ins(&mut lay, &[6, -7]);
                        let o = lay.arith(&[ArithOp { a: Some(v[0].clone()), b: Some(v[1].clone()), cl: 2, cr: -1, ck: 3, ..Default::default() }])?.remove(0);
                        assert_eq!(o.value, Some(2 * 6 + 7 + 3));
                        (o.clone(), o.cell.row_offset)
                    }
                    Case::Product { cm } => {
                        let v = ins(&mut lay, &[6, -7]);
                        let o = lay.arith(&[ArithOp { a: Some(v[0].clone()), b: Some(v[1].clone()), cm, ..Default::default() }])?.remove(0);
                        assert_eq!(o.value, Some(cm * 6 * -7));
                        (o.clone(), o.cell.row_offset)
                    }
                };
                let set = |region: &mut halo2_proofs::circuit::Region<'_, Fr>, col: Column<Advice>, row: usize, v: i64| {
                    region.assign_advice(col, row, Value::known(fr(v)));
                };
                let r = row_of_out;
                let tables_now = lay.tables.clone();
                drop(lay);
                match self.tamper {
                    None => {}
                    Some(Tamper::Output(delta)) if matches!(self.case, Case::Hash { .. } | Case::PackedHash { .. }) => {
                        region.assign_advice(advice(out.cell.column), r, Value::known(fr(delta)));
                    }
                    Some(Tamper::Output(delta)) if matches!(self.case, Case::Public { .. }) => set(&mut region, cfg.o, 0, out.value.unwrap() + delta),
                    Some(Tamper::Output(delta)) => set(&mut region, advice(out.cell.column), r, out.value.unwrap() + delta),
                    Some(Tamper::RangePair(delta)) => set(&mut region, cfg.o, r, out.value.unwrap().max(0) + delta),
                    Some(Tamper::GateQuotient(delta)) => set(&mut region, cfg.a[0], r, out.value.unwrap() + delta),
                    Some(Tamper::ShiftQuotient) => {
                        let (Case::Div { n, d } | Case::VDiv { n, d }) = self.case else { unreachable!() };
                        let q = out.value.unwrap() + 1;
                        set(&mut region, cfg.a[0], r, q);
                        set(&mut region, cfg.o, r, q.max(0));
                        for col in [cfg.a[0], cfg.o] {
                            set(&mut region, col, r + 1, 2 * n + d - 2 * d * q);
                        }
                    }
                    Some(Tamper::InputCopy) => {
                        // Divisions copy their numerator into b_0; other chips copy their input into a_0.
                        let col = if matches!(self.case, Case::Div { .. } | Case::VDiv { .. }) { cfg.b[0] } else { cfg.a[0] };
                        set(&mut region, col, r, 12345)
                    }
                    Some(Tamper::PaddingWeight) => set(&mut region, cfg.b[1], r, 9),
                    Some(Tamper::AdviceWeight) => set(&mut region, cfg.b[0], r, 9),
                    Some(Tamper::Divisor) => {
                        let Case::VDiv { d, .. } = self.case else { unreachable!() };
                        set(&mut region, cfg.o, r - 1, d + 1);
                    }
                    Some(Tamper::Instance) => {}
                }
                tables = Some(tables_now);
                Ok(())
            },
        )?;
        let t = tables.unwrap();
        layouter.assign_region(|| "tables", |mut region| {
            assign_tables(&mut region, &cfg, &t);
            Ok(())
        })?;
        Ok(())
    }
}

fn run(case: Case, tamper: Option<Tamper>) -> Result<(), String> {
    let instance = match case {
        Case::Public { v } => vec![fr(v + matches!(tamper, Some(Tamper::Instance)) as i64)],
        _ => vec![],
    };
    let c = T { case, tamper };
    MockProver::run(11, &c, vec![instance]).unwrap().verify().map_err(|e| format!("{e:?}"))
}

fn fails_with(case: Case, tamper: Tamper, what: &str) {
    run(case, None).unwrap_or_else(|e| panic!("honest {case:?} must pass: {e}"));
    let err = run(case, Some(tamper)).expect_err(&format!("{case:?} with {tamper:?} must fail"));
    assert!(err.contains(what), "{case:?} with {tamper:?}: expected a `{what}` failure, got {err}");
}

// Every lookup (function tables, quotient and remainder ranges) is the one argument "table".

#[test]
fn rescale_division() {
    let c = Case::Div { n: 1000, d: 128 };
    fails_with(c, Tamper::GateQuotient(1), "div");
    fails_with(c, Tamper::GateQuotient(-1), "div");
    // The quotient's range row pairs it with relu(q) in o_0.
    fails_with(c, Tamper::RangePair(1), "table");
    // Quotient and remainder moved together keep the gate true; the remainder range catches it.
    fails_with(c, Tamper::ShiftQuotient, "table");
    fails_with(c, Tamper::InputCopy, "Equality constraint");
    fails_with(Case::Div { n: -1001, d: 9 }, Tamper::GateQuotient(1), "div");
}

#[test]
fn range_check_of_quotient() {
    // 2^20 / 2 = 2^19 lies outside the lookup range [-256, 255].
    let err = run(Case::Div { n: 1 << 20, d: 2 }, None).unwrap_err();
    assert!(err.contains("table"), "{err}");
    run(Case::Div { n: 510, d: 2 }, None).unwrap();
}

#[test]
fn function_lookups() {
    fails_with(Case::Lookup { x: -17, sigmoid: false }, Tamper::Output(1), "table");
    fails_with(Case::Lookup { x: 40, sigmoid: true }, Tamper::Output(-1), "table");
    fails_with(Case::Lookup { x: 40, sigmoid: true }, Tamper::InputCopy, "Equality constraint");
    // An input outside the table's domain has no row to match.
    let err = run(Case::Lookup { x: 300, sigmoid: false }, None).unwrap_err();
    assert!(err.contains("table"), "{err}");
}

#[test]
fn dot_products() {
    fails_with(Case::Dot { fixed: true }, Tamper::Output(1), "dot");
    fails_with(Case::Dot { fixed: false }, Tamper::Output(1), "dot");
    // The unused lane's weight is pinned to 0 by a copy constraint.
    fails_with(Case::Dot { fixed: false }, Tamper::PaddingWeight, "Equality constraint");
    // Fixed-weight rows share the gate: their advice weights are pinned to 0 as well.
    fails_with(Case::Dot { fixed: true }, Tamper::AdviceWeight, "Equality constraint");
}

#[test]
fn max_via_relu() {
    fails_with(Case::Max { a: 5, b: 9 }, Tamper::Output(1), "arith");
    fails_with(Case::Max { a: 9, b: 5 }, Tamper::Output(-1), "arith");
    // b - a outside the lookup range cannot be compared.
    let err = run(Case::Max { a: -200, b: 200 }, None).unwrap_err();
    assert!(err.contains("table"), "{err}");
}

#[test]
fn arith_gate() {
    fails_with(Case::Arith, Tamper::Output(1), "arith");
}

#[test]
fn products() {
    fails_with(Case::Product { cm: 1 }, Tamper::Output(1), "dot");
    fails_with(Case::Product { cm: 8 }, Tamper::Output(-1), "arith");
    fails_with(Case::Product { cm: 1 }, Tamper::InputCopy, "Equality constraint");
}

#[test]
fn runtime_division() {
    let c = Case::VDiv { n: 1000, d: 37 };
    fails_with(c, Tamper::GateQuotient(1), "vdiv");
    fails_with(c, Tamper::RangePair(1), "table");
    // Quotient and remainder moved together keep the gate true; the remainder range catches it.
    fails_with(c, Tamper::ShiftQuotient, "table");
    fails_with(c, Tamper::InputCopy, "Equality constraint");
    fails_with(Case::VDiv { n: -500, d: 3 }, Tamper::GateQuotient(-1), "vdiv");
    // The gate reads the divisor from the previous row's o_0: a changed divisor there breaks it.
    fails_with(c, Tamper::Divisor, "vdiv");
    // A zero divisor cannot satisfy the slack 2d - 1 - r >= 0.
    let err = run(Case::VDiv { n: 5, d: 0 }, None).unwrap_err();
    assert!(err.contains("table"), "{err}");
}

#[test]
fn poseidon_rounds() {
    for n in [0, 1, 2, 5] {
        fails_with(Case::Hash { n }, Tamper::Output(12345), "poseidon_full");
    }
}

#[test]
fn packing_before_hashing() {
    run(Case::PackedHash { v: 0 }, None).unwrap();
    // A corrupted packed accumulator breaks the packing row or the copy into the next step.
    fails_with(Case::PackedHash { v: 0 }, Tamper::Output(99), "arith");
    // A value outside the lookup range cannot be packed (its range check fails).
    let err = run(Case::PackedHash { v: 300 }, None).unwrap_err();
    assert!(err.contains("table"), "{err}");
}

#[test]
fn public_values() {
    // The verifier's value must be the witness's: the `public` gate fails on the instance row.
    fails_with(Case::Public { v: 42 }, Tamper::Instance, "public");
    // A bound row that no longer holds the copied wire breaks the gate or the copy.
    fails_with(Case::Public { v: 42 }, Tamper::Output(1), "public");
}

#[test]
fn every_reserved_instance_row_is_bound_once() {
    let mut meta = ConstraintSystem::<Fr>::default();
    let cfg = ModelConfig::configure(&mut meta, 1, false);
    let mut lay = Layout::new(None, &cfg, Tables::new(LO, HI));
    lay.reserve_public(2);
    lay.public_value(Some(fr(1)), 0).unwrap();
    // Row 1 reserved but unbound: its instance value would be unconstrained.
    assert!(lay.check_public_bound().is_err());
    assert!(lay.public_value(Some(fr(1)), 0).is_err(), "row bound twice");
    assert!(lay.public_value(Some(fr(1)), 2).is_err(), "row not reserved");
    lay.public_value(Some(fr(2)), 1).unwrap();
    lay.check_public_bound().unwrap();
}
