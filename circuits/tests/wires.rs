//! Soundness of the comparison, logic, selection and tree-ensemble layouts
//! ([`zkinfer_circuits::ops`]) by moving wires: the honest layout satisfies MockProver with the
//! reference result, and then every wire the layout creates — a cell with all the cells copied
//! from it, moved together so that no copy constraint notices — is given another value (a bit
//! flipped, any other value moved by one). Each such witness must fail a gate or a lookup, which
//! the test names: a wire no constraint fixes would let a prover choose it, i.e. a false
//! comparison, a wrong branch or a wrong leaf sum. Model inputs are exempt (a model binds them
//! by instance or commitment). Run on one lane with the non-negative table and on two lanes with
//! 4-bit limbs, the two ways `ops::nonneg` range-checks a difference.
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::circuit::Cell;
use halo2_proofs::plonk::{Advice, Circuit, Column, ConstraintSystem, Error};
use ndarray::{arr1, ArrayD, IxDyn};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use zkinfer_circuits::config::ModelConfig;
use zkinfer_circuits::layout::{assign_tables, Elem, Layout, Trace};
use zkinfer_circuits::ops;
use zkinfer_circuits::tables::Tables;
use zkinfer_onnx::ops::compare::CompareOp;
use zkinfer_onnx::ops::tree::{QTreeEnsemble, QTreeNode};

const LO: i64 = -128;
const HI: i64 = 127;

#[derive(Clone, Debug)]
enum Case {
    /// A comparison (or `Sign`, with `b` unused) of two inputs.
    Cmp { op: CompareOp, a: i64, b: i64 },
    /// A logic op on `x0 < x1` and `x2 ≥ x3` (`Not` on the first only).
    Logic { op: CompareOp, x: [i64; 4] },
    /// `Where(x0 < x1, x2, x3)` and `Where(x0 < x1, x2, 7)`.
    Where { x: [i64; 4] },
    /// [`tree`] on two samples.
    Tree { x: [i64; 4] },
    /// The harness's own check: `x < y` followed by a witness cell nothing constrains, which
    /// [`every_wire_is_fixed`] must report.
    Unconstrained { x: i64, y: i64 },
}

/// Two trees over two features and two targets, depth 2 and 1, base (5, −3): tree 0 splits on
/// `x0 ≤ 10`, then `x1 ≤ −4` (yes side) or `x0 ≤ 40` (no side); tree 1 on `x0 ≤ 10` again (the
/// same comparison, shared).
fn tree() -> QTreeEnsemble {
    use QTreeNode::*;
    let leaf = |w: &[(usize, i64)]| Leaf { weights: w.to_vec() };
    QTreeEnsemble {
        features: 2,
        targets: 2,
        base: vec![5, -3],
        trees: vec![
            vec![
                Branch { feature: 0, t: 10, yes: 1, no: 2 },
                Branch { feature: 1, t: -4, yes: 3, no: 4 },
                Branch { feature: 0, t: 40, yes: 5, no: 6 },
                leaf(&[(0, 100), (1, -1)]),
                leaf(&[(0, 200)]),
                leaf(&[(0, -50), (1, 9)]),
                leaf(&[(1, 30)]),
            ],
            vec![Branch { feature: 0, t: 10, yes: 1, no: 2 }, leaf(&[(0, 1)]), leaf(&[(1, 2)])],
        ],
    }
}

/// The ensemble's value on one sample: walk each tree from the root.
fn tree_reference(t: &QTreeEnsemble, x: &[i64]) -> Vec<i64> {
    let mut out = t.base.clone();
    for tree in &t.trees {
        let mut i = 0;
        loop {
            match &tree[i] {
                QTreeNode::Branch { feature, t, yes, no } => i = if x[*feature] <= *t { *yes } else { *no },
                QTreeNode::Leaf { weights } => {
                    for &(k, w) in weights {
                        out[k] += w;
                    }
                    break;
                }
            }
        }
    }
    out
}

fn reference(op: CompareOp, a: i64, b: i64) -> i64 {
    use CompareOp::*;
    match op {
        Equal => (a == b) as i64,
        Less => (a < b) as i64,
        LessOrEqual => (a <= b) as i64,
        Greater => (a > b) as i64,
        GreaterOrEqual => (a >= b) as i64,
        Not => 1 - a,
        And => a & b,
        Or => a | b,
        Xor => a ^ b,
        Sign => a.signum(),
        Where => unreachable!("three operands"),
    }
}

/// A cell's key: advice column index and row.
type Key = (usize, usize);

fn key(c: &Cell) -> Key {
    (c.column.index(), c.row_offset)
}

/// The test circuit: `L` lanes, limbs of 4 bits when `LIMBS`. `moved` gives new values to
/// cells (the cells of one wire).
#[derive(Clone)]
struct T<const L: usize, const LIMBS: bool> {
    case: Case,
    moved: Vec<(Cell, Fr)>,
}

/// What a layout run reports: its outputs, its trace and the keys of its input cells.
#[derive(Default)]
struct Run {
    outputs: Vec<Option<i64>>,
    trace: Trace,
    inputs: BTreeSet<Key>,
}

fn elems(lay: &mut Layout, v: &[i64]) -> Vec<Elem> {
    lay.witnesses(&v.iter().map(|&x| Some(x)).collect::<Vec<_>>()).into_iter().map(Elem::W).collect()
}

fn one(e: Elem) -> ArrayD<Elem> {
    arr1(&[e]).into_dyn()
}

fn lay_case(lay: &mut Layout, case: &Case, inputs: &mut BTreeSet<Key>) -> Result<Vec<Elem>, Error> {
    use CompareOp::*;
    let mut ins = |lay: &mut Layout, v: &[i64]| {
        let e = elems(lay, v);
        for w in &e {
            if let Elem::W(w) = w {
                inputs.insert(key(&w.cell));
            }
        }
        e
    };
    let first = |v: Vec<ArrayD<Elem>>| -> Vec<Elem> { v[0].iter().cloned().collect() };
    Ok(match case {
        Case::Cmp { op, a, b } => {
            let x = ins(lay, &[*a, *b]);
            let operands: Vec<ArrayD<Elem>> = if *op == Sign { vec![one(x[0].clone())] } else { vec![one(x[0].clone()), one(x[1].clone())] };
            first(ops::compare::lay(lay, *op, &operands, &[1])?)
        }
        Case::Logic { op, x } => {
            let x = ins(lay, x);
            let p = first(ops::compare::lay(lay, Less, &[one(x[0].clone()), one(x[1].clone())], &[1])?).remove(0);
            let q = first(ops::compare::lay(lay, GreaterOrEqual, &[one(x[2].clone()), one(x[3].clone())], &[1])?).remove(0);
            let operands = if *op == Not { vec![one(p)] } else { vec![one(p), one(q)] };
            first(ops::compare::lay(lay, *op, &operands, &[1])?)
        }
        Case::Where { x } => {
            let x = ins(lay, x);
            let c = first(ops::compare::lay(lay, Less, &[one(x[0].clone()), one(x[1].clone())], &[1])?).remove(0);
            let mut out = first(ops::compare::lay(lay, Where, &[one(c.clone()), one(x[2].clone()), one(x[3].clone())], &[1])?);
            out.extend(first(ops::compare::lay(lay, Where, &[one(c), one(x[2].clone()), one(Elem::K(7))], &[1])?));
            out
        }
        Case::Unconstrained { x, y } => {
            let x = ins(lay, &[*x, *y]);
            let mut out = first(ops::compare::lay(lay, Less, &[one(x[0].clone()), one(x[1].clone())], &[1])?);
            out.extend(elems(lay, &[5]));
            out
        }
        Case::Tree { x } => {
            let x = ins(lay, x);
            let x = ArrayD::from_shape_vec(IxDyn(&[2, 2]), x).expect("two samples");
            first(ops::tree::lay(lay, &tree(), &x)?)
        }
    })
}

impl<const L: usize, const LIMBS: bool> Circuit<Fr> for T<L, LIMBS> {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = ();
    fn without_witnesses(&self) -> Self {
        self.clone()
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        ModelConfig::configure_with(meta, L, false, LIMBS)
    }
    fn synthesize(&self, cfg: ModelConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let mut tables = None;
        layouter.assign_region(
            || "chip",
            |mut region| {
                let t = if LIMBS { Tables::with_limbs(LO, HI, 4) } else { Tables::new(LO, HI) };
                let mut lay = Layout::new(Some(&mut region), &cfg, t);
                lay.trace = Some(Trace::default());
                let mut inputs = BTreeSet::new();
                let out = lay_case(&mut lay, &self.case, &mut inputs)?;
                tables = Some(lay.tables.clone());
                drop(lay);
                for &(c, v) in &self.moved {
                    region.assign_advice(Column::<Advice>::try_from(c.column).expect("advice"), c.row_offset, Value::known(v));
                }
                let _ = out;
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

/// Lay the case out without a region, for its outputs, trace and inputs.
fn dry_run<const L: usize, const LIMBS: bool>(case: &Case) -> Run {
    let mut cs = ConstraintSystem::<Fr>::default();
    let cfg = ModelConfig::configure_with(&mut cs, L, false, LIMBS);
    let t = if LIMBS { Tables::with_limbs(LO, HI, 4) } else { Tables::new(LO, HI) };
    let mut lay = Layout::new(None, &cfg, t);
    lay.trace = Some(Trace::default());
    let mut run = Run::default();
    let out = lay_case(&mut lay, case, &mut run.inputs).expect("the honest layout");
    run.outputs = out.iter().map(|e| e.value()).collect();
    run.trace = lay.trace.take().expect("traced");
    run
}

/// What failed: `gate:<name>`, `lookup:<name>`, `copy`, or the whole message.
fn failures(errs: &[halo2_proofs::dev::VerifyFailure]) -> BTreeSet<String> {
    errs.iter()
        .map(|e| {
            let s = e.to_string();
            if let Some(i) = s.find("') is not satisfied") {
                let name = &s[..i];
                format!("gate:{}", &name[name.rfind("('").map_or(0, |j| j + 2)..])
            } else if let Some(rest) = s.strip_prefix("Lookup ") {
                format!("lookup:{}", &rest[..rest.find('(').unwrap_or(rest.len())])
            } else if s.starts_with("Equality constraint") {
                "copy".into()
            } else {
                s
            }
        })
        .collect()
}

fn verify<const L: usize, const LIMBS: bool>(case: &Case, moved: Vec<(Cell, Fr)>) -> Result<(), BTreeSet<String>> {
    let c = T::<L, LIMBS> { case: case.clone(), moved };
    MockProver::run(10, &c, vec![vec![]]).expect("synthesis").verify().map_err(|e| failures(&e))
}

/// The wires of a trace: cells joined by copies (union–find), with their value.
fn wires(t: &Trace) -> Vec<(Vec<Cell>, Fr)> {
    let mut parent: HashMap<Key, Key> = HashMap::new();
    fn root(p: &mut HashMap<Key, Key>, k: Key) -> Key {
        let up = *p.entry(k).or_insert(k);
        if up == k {
            return k;
        }
        let r = root(p, up);
        p.insert(k, r);
        r
    }
    let mut value: HashMap<Key, Fr> = HashMap::new();
    let mut cell: HashMap<Key, Cell> = HashMap::new();
    for (c, v) in &t.cells {
        root(&mut parent, key(c));
        cell.insert(key(c), *c);
        if let Some(v) = v {
            value.insert(key(c), *v);
        }
    }
    for (a, b) in &t.copies {
        let (ra, rb) = (root(&mut parent, key(a)), root(&mut parent, key(b)));
        if ra != rb {
            parent.insert(ra, rb);
        }
    }
    let mut classes: BTreeMap<Key, Vec<Key>> = BTreeMap::new();
    let keys: Vec<Key> = parent.keys().copied().collect();
    for k in keys {
        let r = root(&mut parent, k);
        classes.entry(r).or_default().push(k);
    }
    classes.into_values().map(|keys| (keys.iter().map(|k| cell[k]).collect(), value[&keys[0]])).collect()
}

/// Honest run, then every non-input wire moved: returns the constraints that caught the moves.
fn every_wire_is_fixed<const L: usize, const LIMBS: bool>(case: &Case, want: &[i64]) -> BTreeSet<String> {
    let run = dry_run::<L, LIMBS>(case);
    assert_eq!(run.outputs, want.iter().map(|&v| Some(v)).collect::<Vec<_>>(), "{case:?}: outputs against the reference");
    verify::<L, LIMBS>(case, vec![]).unwrap_or_else(|e| panic!("honest {case:?} ({L} lanes, limbs {LIMBS}) must pass: {e:?}"));
    let mut caught = BTreeSet::new();
    let mut n = 0;
    for (cells, v) in wires(&run.trace) {
        if cells.iter().any(|c| run.inputs.contains(&key(c))) {
            continue;
        }
        let moved = if v == Fr::zero() || v == Fr::one() { Fr::one() - v } else { v + Fr::one() };
        let at: Vec<Key> = cells.iter().map(key).collect();
        let err = verify::<L, LIMBS>(case, cells.iter().map(|&c| (c, moved)).collect())
            .expect_err(&format!("{case:?} ({L} lanes, limbs {LIMBS}): the wire at (column, row) {at:?} ({v:?}) is free"));
        assert!(!err.contains("copy"), "{case:?}: a wire moved with its copies broke a copy: {err:?}");
        caught.extend(err);
        n += 1;
    }
    assert!(n > 0, "{case:?} has wires");
    eprintln!("{case:?} ({L} lanes, limbs {LIMBS}): {n} wires moved, caught by {caught:?}");
    caught
}

fn check(case: Case, want: &[i64], must_catch: &[&str]) {
    let a = every_wire_is_fixed::<1, false>(&case, want);
    let b = every_wire_is_fixed::<2, true>(&case, want);
    for name in must_catch {
        assert!(a.contains(*name) || b.contains(*name), "{case:?}: expected `{name}` among {a:?} / {b:?}");
    }
}

#[test]
fn comparisons() {
    use CompareOp::*;
    for op in [Equal, Less, LessOrEqual, Greater, GreaterOrEqual] {
        for (a, b) in [(3, 3), (-7, 12), (60, -60), (LO / 2, HI / 2)] {
            check(Case::Cmp { op, a, b }, &[reference(op, a, b)], &["lookup:table"]);
        }
    }
    for a in [-9, 0, 42] {
        check(Case::Cmp { op: Sign, a, b: 0 }, &[reference(Sign, a, 0)], &["lookup:table"]);
    }
}

#[test]
fn logic() {
    use CompareOp::*;
    for op in [Not, And, Or, Xor] {
        for x in [[1, 2, 3, 4], [1, 2, 4, 3], [2, 1, 3, 4], [2, 1, 4, 3]] {
            let (p, q) = ((x[0] < x[1]) as i64, (x[2] >= x[3]) as i64);
            check(Case::Logic { op, x }, &[reference(op, p, q)], &["gate:arith"]);
        }
    }
}

#[test]
fn selection() {
    for x in [[1, 2, -30, 40], [2, 1, -30, 40], [0, 5, 9, 9]] {
        let c = x[0] < x[1];
        let want = [if c { x[2] } else { x[3] }, if c { x[2] } else { 7 }];
        check(Case::Where { x }, &want, &["gate:dot"]);
    }
}

#[test]
fn tree_ensembles() {
    let t = tree();
    // Both sides of every split, and the thresholds themselves (`≤` holds at equality).
    for x in [[0, -10, 11, 0], [10, -4, 40, 100], [41, -100, 10, -3]] {
        let mut want = tree_reference(&t, &x[..2]);
        want.extend(tree_reference(&t, &x[2..]));
        check(Case::Tree { x }, &want, &["gate:arith", "gate:dot", "lookup:table"]);
    }
}

#[test]
#[should_panic(expected = "is free")]
fn a_free_wire_is_reported() {
    every_wire_is_fixed::<1, false>(&Case::Unconstrained { x: 1, y: 2 }, &[1, 5]);
}
