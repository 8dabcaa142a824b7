//! Soundness of grouped dot products ([`zkinfer_circuits::groups`], gate `mdot`): the honest
//! layout satisfies MockProver; a wrong accumulator on any row, an input changed after its copy,
//! an unused accumulator that is not 0 and a chain restarted mid-way each fail the gate `mdot`
//! (or the copy constraint of the input).
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner, Value};
use halo2_proofs::dev::MockProver;
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use zkinfer_circuits::config::ModelConfig;
use zkinfer_circuits::field::fr;
use zkinfer_circuits::layout::Layout;
use zkinfer_circuits::tables::Tables;

/// Two lanes, three accumulators: 5 inputs on 3 rows, two outputs (the third accumulator unused).
const XS: [i64; 5] = [3, -5, 7, 11, -2];
const W: [[i64; 5]; 2] = [[1, 2, 3, 4, 5], [-6, 0, 8, 1, -1]];
const INITS: [i64; 2] = [10, -1];

/// An edit: accumulator `g` (or `a` lane `g` with `lane`), row of the chain, value.
#[derive(Clone, Copy, Debug)]
enum Edit {
    Acc { g: usize, row: usize, v: i64 },
    Input { lane: usize, row: usize, v: i64 },
    /// `cr` set to 0 (a restart) on this row of the chain.
    Restart { row: usize },
}

#[derive(Clone)]
struct T {
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
        ModelConfig::configure_full(meta, 2, 1, 3, false, false)
    }
    fn synthesize(&self, cfg: ModelConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        layouter.assign_region(
            || "mdot",
            |mut region| {
                let mut lay = Layout::new(Some(&mut region), &cfg, Tables::new(-1024, 1023));
                let xs = lay.witnesses(&XS.map(Some));
                let start = lay.row;
                let out = lay.mdot(&xs, &W.map(|w| w.to_vec()), &INITS)?;
                for (g, w) in W.iter().enumerate() {
                    let want = INITS[g] + XS.iter().zip(w).map(|(x, w)| x * w).sum::<i64>();
                    assert_eq!(out[g].value, Some(want));
                }
                assert_eq!(lay.row - start, 3, "5 inputs on 2 lanes");
                drop(lay);
                let groups = cfg.groups.as_ref().expect("dot groups");
                for e in &self.edits {
                    match *e {
                        Edit::Acc { g, row, v } => {
                            region.assign_advice(groups.o[g], start + row, Value::known(fr(v)));
                        }
                        Edit::Input { lane, row, v } => {
                            region.assign_advice(cfg.a[lane], start + row, Value::known(fr(v)));
                        }
                        Edit::Restart { row } => {
                            region.assign_fixed(cfg.cr, start + row, Fr::zero());
                        }
                    }
                }
                Ok(())
            },
        )
    }
}

fn run(edits: Vec<Edit>) -> Result<(), String> {
    MockProver::run(6, &T { edits }, vec![vec![]]).map_err(|e| format!("synthesis: {e:?}"))?.verify().map_err(|e| format!("{e:?}"))
}

fn fails(edits: Vec<Edit>, what: &str) {
    let err = run(edits.clone()).expect_err(&format!("{edits:?} must fail"));
    assert!(err.contains(what), "{edits:?}: expected a `{what}` failure, got {err}");
}

#[test]
fn honest_groups_pass() {
    run(vec![]).unwrap();
}

#[test]
fn a_wrong_accumulator_fails_mdot() {
    // The sums: output 0 = 10 + 3 − 10 + 21 + 44 − 10 = 58, output 1 = −1 − 18 + 56 + 11 + 2 = 50.
    fails(vec![Edit::Acc { g: 1, row: 2, v: 51 }], "mdot");
    fails(vec![Edit::Acc { g: 0, row: 2, v: 59 }], "mdot");
    // A middle accumulator changed: its row and the next fail.
    fails(vec![Edit::Acc { g: 1, row: 1, v: 0 }], "mdot");
}

#[test]
fn an_unused_accumulator_must_stay_zero() {
    fails(vec![Edit::Acc { g: 2, row: 1, v: 7 }], "mdot");
    // Even when every later row carries it on, the first row forces 0.
    fails(vec![Edit::Acc { g: 2, row: 0, v: 7 }, Edit::Acc { g: 2, row: 1, v: 7 }, Edit::Acc { g: 2, row: 2, v: 7 }], "mdot");
}

#[test]
fn inputs_are_copies() {
    // A different input with the accumulators adjusted to it passes the gate, not the copy.
    let edits = vec![Edit::Input { lane: 0, row: 1, v: 8 }, Edit::Acc { g: 0, row: 1, v: 10 + 3 - 10 + 24 + 44 }, Edit::Acc { g: 0, row: 2, v: 10 + 3 - 10 + 24 + 44 - 10 }, Edit::Acc { g: 1, row: 1, v: -1 - 18 + 64 + 11 }, Edit::Acc { g: 1, row: 2, v: -1 - 18 + 64 + 11 + 2 }];
    fails(edits, "Equality constraint");
}

#[test]
fn a_chain_cannot_restart() {
    // cr = 0 on row 1 drops rows 0's sums (a fixed column: a different verifying key, so this is
    // what a malicious key would need, and the gate catches the honest witness under it).
    fails(vec![Edit::Restart { row: 1 }], "mdot");
}
