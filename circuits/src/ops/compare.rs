//! Layout of comparisons, logic and selection (semantics: `zkinfer_onnx::ops::compare`).
//!
//! * comparison: `d = a − b` (or `b − a`) on an `arith` row, then `s = [d ≥ 0]` by
//!   [`super::nonneg`] (which range-checks `d`), and `1 − s` on an `arith` row for `Less` and
//!   `Greater`; `Equal`: `[d = 0]` by the is-zero table;
//! * `And = x·y` (one product row), `Or = x + y − x·y`, `Xor = x + y − 2·x·y` (the product,
//!   then one `dot` row with constant weights), `Not = 1 − x` (`arith`); operands are booleans
//!   by construction (the quantizer admits only comparison or logic outputs and 0/1 constants),
//!   so these are the boolean functions;
//! * `Where(c, x, y) = y + c·(x − y)`: `d = x − y` (`arith`), then `y·1 + c·d` in one `dot`
//!   row with a wire and a constant weight (two lanes or more; else a product and an `arith`);
//!   a constant condition selects without a row;
//! * `Sign`: the sign table.

use super::nonneg;
use crate::layout::{exact, synthesis_error as kerr, ArithOp, Elem, Layout, Wire};
use crate::tables::FnKind;
use halo2_proofs::plonk::Error;
use ndarray::{ArrayD, IxDyn};
use zkinfer_onnx::kernels::broadcast;
use zkinfer_onnx::ops::compare::CompareOp;

fn wire(lay: &mut Layout, e: &Elem) -> Result<Wire, Error> {
    match e {
        Elem::W(w) => Ok(w.clone()),
        Elem::K(k) => lay.constant_wire(*k),
    }
}

/// `p − q` as one `arith` op, constants folded into its coefficients.
fn diff(lay: &mut Layout, p: &Elem, q: &Elem) -> Result<ArithOp, Error> {
    Ok(match (p, q) {
        (Elem::W(u), Elem::W(v)) => ArithOp { a: Some(u.clone()), b: Some(v.clone()), cl: 1, cr: -1, ..Default::default() },
        (Elem::W(u), Elem::K(k)) => ArithOp { a: Some(u.clone()), cl: 1, ck: exact(Some(-(*k as i128)), "a constant")?, ..Default::default() },
        (Elem::K(k), Elem::W(u)) => ArithOp { a: Some(u.clone()), cl: -1, ck: *k, ..Default::default() },
        (Elem::K(a), Elem::K(b)) => {
            let u = lay.constant_wire(*a)?;
            ArithOp { a: Some(u), cl: 1, ck: exact(Some(-(*b as i128)), "a constant")?, ..Default::default() }
        }
    })
}

fn flat(shape: &[usize], v: Vec<Elem>) -> ArrayD<Elem> {
    ArrayD::from_shape_vec(IxDyn(shape), v).expect("sizes agree")
}

/// Lay out one node of the family; `out_shape` is its output's shape.
pub fn lay(lay: &mut Layout, op: CompareOp, ins: &[ArrayD<Elem>], out_shape: &[usize]) -> Result<Vec<ArrayD<Elem>>, Error> {
    use CompareOp::*;
    let bc = |t: &ArrayD<Elem>| broadcast::broadcast_to(t, out_shape).map_err(kerr);
    let out: Vec<Elem> = match op {
        Equal | Less | LessOrEqual | Greater | GreaterOrEqual => {
            let (a, b) = (bc(&ins[0])?, bc(&ins[1])?);
            let mut diffs = Vec::with_capacity(a.len());
            for (p, q) in a.iter().zip(b.iter()) {
                diffs.push(if matches!(op, LessOrEqual | Greater) { diff(lay, q, p)? } else { diff(lay, p, q)? });
            }
            let d = lay.arith(&diffs)?;
            let mut s = Vec::with_capacity(d.len());
            for w in &d {
                s.push(if op == Equal { lay.lookup(w, &FnKind::IsZero)? } else { nonneg(lay, w)? });
            }
            if matches!(op, Less | Greater) {
                let neg: Vec<ArithOp> = s.into_iter().map(|w| ArithOp { a: Some(w), cl: -1, ck: 1, ..Default::default() }).collect();
                s = lay.arith(&neg)?;
            }
            s.into_iter().map(Elem::W).collect()
        }
        Not => {
            let x = bc(&ins[0])?;
            let mut out = Vec::with_capacity(x.len());
            for e in x.iter() {
                out.push(match e {
                    Elem::K(k) => Elem::K(1 - k),
                    Elem::W(w) => Elem::W(lay.arith(&[ArithOp { a: Some(w.clone()), cl: -1, ck: 1, ..Default::default() }])?.remove(0)),
                });
            }
            out
        }
        And | Or | Xor => {
            let (a, b) = (bc(&ins[0])?, bc(&ins[1])?);
            let mut out = Vec::with_capacity(a.len());
            for (p, q) in a.iter().zip(b.iter()) {
                out.push(match (p, q) {
                    (Elem::K(x), Elem::K(y)) => Elem::K(match op {
                        And => x * y,
                        Or => x + y - x * y,
                        _ => x + y - 2 * x * y,
                    }),
                    (Elem::W(w), Elem::K(k)) | (Elem::K(k), Elem::W(w)) => {
                        // Linear in the wire: And = k·x, Or = (1 − k)·x + k, Xor = (1 − 2k)·x + k.
                        let (cl, ck) = match op {
                            And => (*k, 0),
                            Or => (1 - k, *k),
                            _ => (1 - 2 * k, *k),
                        };
                        Elem::W(lay.arith(&[ArithOp { a: Some(w.clone()), cl, ck, ..Default::default() }])?.remove(0))
                    }
                    (Elem::W(x), Elem::W(y)) => {
                        let p = lay.product(&ArithOp { a: Some(x.clone()), b: Some(y.clone()), cm: 1, ..Default::default() })?;
                        if op == And {
                            Elem::W(p)
                        } else {
                            let m = if op == Or { -1 } else { -2 };
                            Elem::W(lay.dot(&[(x.clone(), Elem::K(1)), (y.clone(), Elem::K(1)), (p, Elem::K(m))], &Elem::K(0))?)
                        }
                    }
                });
            }
            out
        }
        Where => {
            let (c, x, y) = (bc(&ins[0])?, bc(&ins[1])?, bc(&ins[2])?);
            let mut out = Vec::with_capacity(c.len());
            for ((c, x), y) in c.iter().zip(x.iter()).zip(y.iter()) {
                out.push(match c {
                    Elem::K(k) => if *k != 0 { x.clone() } else { y.clone() },
                    Elem::W(cw) => match (x, y) {
                        (Elem::K(kx), Elem::K(ky)) => {
                            let cl = exact(Some(*kx as i128 - *ky as i128), "a Where coefficient")?;
                            Elem::W(lay.arith(&[ArithOp { a: Some(cw.clone()), cl, ck: *ky, ..Default::default() }])?.remove(0))
                        }
                        _ => {
                            let op = diff(lay, x, y)?;
                            let d = lay.arith(&[op])?.remove(0);
                            Elem::W(match y {
                                Elem::K(ky) => lay.mac_row(&[(cw.clone(), Elem::W(d))], *ky)?,
                                Elem::W(yw) if lay.cfg.lanes >= 2 => lay.mac_row(&[(cw.clone(), Elem::W(d)), (yw.clone(), Elem::K(1))], 0)?,
                                Elem::W(yw) => {
                                    let u = lay.product(&ArithOp { a: Some(cw.clone()), b: Some(d), cm: 1, ..Default::default() })?;
                                    lay.arith(&[ArithOp { a: Some(u), b: Some(yw.clone()), cl: 1, cr: 1, ..Default::default() }])?.remove(0)
                                }
                            })
                        }
                    },
                });
            }
            out
        }
        Sign => {
            let x = bc(&ins[0])?;
            let mut out = Vec::with_capacity(x.len());
            for e in x.iter() {
                let w = wire(lay, e)?;
                out.push(Elem::W(lay.lookup(&w, &FnKind::Sign)?));
            }
            out
        }
    };
    Ok(vec![flat(out_shape, out)])
}
