//! Layout of tree ensembles (semantics and cost: `zkinfer_onnx::ops::tree`). Per sample row:
//!
//! 1. every distinct comparison `(f, t)`: `d = t − x_f` on an `arith` row and `c = [d ≥ 0]` by
//!    [`super::nonneg`] (a signed range check of `d`: with limbs its limb rows, the sign bit
//!    from the top-limb table; without, one lookup);
//! 2. indicators, parents before children: the root's is the constant 1, so its children get
//!    `c` and `1 − c` (one `arith` row); a branch with indicator wire `I` gives `I·c` (one
//!    product row) to `yes` and `I − I·c` (one `arith` row) to `no`;
//! 3. each target: `base + Σ_leaves I_leaf·w_leaf` as one `dot` chain with constant weights
//!    (lanes packed), a leaf at the root adding its weight to the constant.
//!
//! Soundness: `c` is a bit fixed by the decomposition (or table) of `d`, so each indicator is
//! the product of its path's decisions; exactly one leaf per tree has indicator 1.

use super::nonneg;
use crate::layout::{exact, synthesis_error as kerr, ArithOp, Elem, Layout, Wire};
use halo2_proofs::plonk::Error;
use ndarray::{ArrayD, IxDyn};
use std::collections::HashMap;
use zkinfer_onnx::ops::tree::{QTreeEnsemble, QTreeNode};

/// Lay out the ensemble on `x` (`[N, F]` or `[F]`); returns `[N, targets]`.
pub fn lay(lay: &mut Layout, t: &QTreeEnsemble, x: &ArrayD<Elem>) -> Result<Vec<ArrayD<Elem>>, Error> {
    if x.len() % t.features.max(1) != 0 {
        return Err(kerr(format!("a tree ensemble over {} features got {} inputs", t.features, x.len())));
    }
    let n = x.len() / t.features.max(1);
    let xs: Vec<Elem> = x.iter().cloned().collect();
    let cmps = t.comparisons();
    let mut out = Vec::with_capacity(n * t.targets);
    for r in 0..n {
        let row = &xs[r * t.features..(r + 1) * t.features];
        let mut diffs = Vec::with_capacity(cmps.len());
        for &(f, th) in &cmps {
            diffs.push(match &row[f] {
                Elem::W(w) => ArithOp { a: Some(w.clone()), cl: -1, ck: th, ..Default::default() },
                Elem::K(k) => {
                    let u = lay.constant_wire(*k)?;
                    ArithOp { a: Some(u), cl: -1, ck: th, ..Default::default() }
                }
            });
        }
        let d = lay.arith(&diffs)?;
        let mut sign: HashMap<(usize, i64), Wire> = HashMap::with_capacity(cmps.len());
        for (&key, w) in cmps.iter().zip(&d) {
            sign.insert(key, nonneg(lay, w)?);
        }
        let mut acc: Vec<(i64, Vec<(Wire, Elem)>)> = t.base.iter().map(|&b| (b, Vec::new())).collect();
        for tree in &t.trees {
            let mut ind: Vec<Option<Elem>> = vec![None; tree.len()];
            ind[0] = Some(Elem::K(1));
            for i in QTreeEnsemble::order(tree) {
                let here = ind[i].clone().expect("parents first");
                match &tree[i] {
                    QTreeNode::Branch { feature, t: th, yes, no } => {
                        let c = sign[&(*feature, *th)].clone();
                        let (y, n) = match here {
                            Elem::K(1) => {
                                let not_c = lay.arith(&[ArithOp { a: Some(c.clone()), cl: -1, ck: 1, ..Default::default() }])?.remove(0);
                                (c, not_c)
                            }
                            Elem::K(k) => return Err(kerr(format!("a tree indicator constant {k}"))),
                            Elem::W(iw) => {
                                let y = lay.product(&ArithOp { a: Some(iw.clone()), b: Some(c), cm: 1, ..Default::default() })?;
                                let n = lay.arith(&[ArithOp { a: Some(iw), b: Some(y.clone()), cl: 1, cr: -1, ..Default::default() }])?.remove(0);
                                (y, n)
                            }
                        };
                        ind[*yes] = Some(Elem::W(y));
                        ind[*no] = Some(Elem::W(n));
                    }
                    QTreeNode::Leaf { weights } => {
                        for &(k, w) in weights {
                            match &here {
                                Elem::K(one) => acc[k].0 = exact(Some(acc[k].0 as i128 + *one as i128 * w as i128), "a base value")?,
                                Elem::W(iw) if w != 0 => acc[k].1.push((iw.clone(), Elem::K(w))),
                                Elem::W(_) => {}
                            }
                        }
                    }
                }
            }
        }
        for (base, terms) in acc {
            out.push(if terms.is_empty() { Elem::K(base) } else { Elem::W(lay.dot(&terms, &Elem::K(base))?) });
        }
    }
    Ok(vec![ArrayD::from_shape_vec(IxDyn(&[n, t.targets]), out).expect("sizes agree")])
}
