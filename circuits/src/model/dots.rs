//! Dot products and sums of a node's layout: the symbolic scalar [`Sym`] that the float kernels
//! (`zkinfer_onnx::kernels::linear`) run on to list each output's products, and their layout,
//! on `dot` rows or, for outputs with constant weights that read the same inputs, `G` at a time on
//! `mdot` rows ([`crate::groups`]).

use super::Ctx;
use crate::layout::{Elem, Wire};
use halo2_proofs::plonk::Error;
use ndarray::{ArrayD, IxDyn};
use zkinfer_onnx::kernels::Scalar;

/// Symbolic scalar: the list of `(left index, right index)` products an output sums.
#[derive(Clone, Default, Debug)]
pub(super) enum Sym {
    #[default]
    Zero,
    Leaf(usize),
    Terms(Vec<(usize, usize)>),
}

impl Scalar for Sym {
    fn mac(&mut self, a: &Self, b: &Self) {
        if let (Sym::Leaf(i), Sym::Leaf(j)) = (a, b) {
            match self {
                Sym::Terms(v) => v.push((*i, *j)),
                _ => *self = Sym::Terms(vec![(*i, *j)]),
            }
        }
    }
}

pub(super) fn leaves(shape: &[usize]) -> ArrayD<Sym> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(Sym::Leaf).collect()).expect("sizes agree")
}

pub(super) fn indices(shape: &[usize]) -> ArrayD<usize> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).collect()).expect("sizes agree")
}

/// Dot products: `terms[i]` lists `(left flat index, right flat index)` for output `i`.
pub(super) fn dots(ctx: &mut Ctx, left: &ArrayD<Elem>, right: &ArrayD<Elem>, out: &ArrayD<Sym>, init: impl Fn(usize) -> Elem) -> Result<ArrayD<Elem>, Error> {
    let l: Vec<&Elem> = left.iter().collect();
    let r: Vec<&Elem> = right.iter().collect();
    let mut res: Vec<Option<Wire>> = vec![None; out.len()];
    if ctx.lay.cfg.groups() > 1 {
        grouped_dots(ctx, &l, &r, out, &init, &mut res)?;
    }
    for (i, s) in out.iter().enumerate() {
        if res[i].is_some() {
            continue;
        }
        let mut terms = Vec::new();
        if let Sym::Terms(v) = s {
            for &(x, w) in v {
                let (x, w) = match (l[x], r[w]) {
                    (Elem::K(_), Elem::W(_)) => (r[w], l[x]),
                    _ => (l[x], r[w]),
                };
                let xw = ctx.wire(x)?;
                terms.push((xw, w.clone()));
            }
        }
        // Mixed weights (advice and constant) in one output: make constants wires.
        if terms.iter().any(|(_, w)| matches!(w, Elem::W(_))) {
            for t in terms.iter_mut() {
                if let Elem::K(_) = t.1 {
                    t.1 = Elem::W(ctx.wire(&t.1)?);
                }
            }
        }
        res[i] = Some(ctx.lay.dot(&terms, &init(i))?);
    }
    let res = res.into_iter().map(|w| Elem::W(w.expect("every output laid out"))).collect();
    Ok(ArrayD::from_shape_vec(out.raw_dim(), res).expect("sizes agree"))
}

/// The outputs of [`dots`] with constant weights and start whose terms read the same inputs,
/// `G` at a time on `mdot` rows ([`crate::groups`]); the others are left to `dot`.
fn grouped_dots(ctx: &mut Ctx, l: &[&Elem], r: &[&Elem], out: &ArrayD<Sym>, init: &impl Fn(usize) -> Elem, res: &mut [Option<Wire>]) -> Result<(), Error> {
    let (keys, mut weights): (Vec<_>, Vec<Option<Vec<i64>>>) = out
        .iter()
        .enumerate()
        .map(|(i, s)| match (s, init(i)) {
            (Sym::Terms(v), Elem::K(_)) => crate::groups::shared_key(v, l, r).map_or((None, None), |(k, w)| (Some(k), Some(w))),
            _ => (None, None),
        })
        .unzip();
    for group in crate::groups::share_groups(&keys, ctx.lay.cfg.groups()) {
        let key = keys[group[0]].as_ref().expect("grouped outputs have keys");
        let mut xs = Vec::with_capacity(key.len());
        for &(right_side, j) in key {
            xs.push(ctx.wire(if right_side { r[j] } else { l[j] })?);
        }
        let ws: Vec<Vec<i64>> = group.iter().map(|&i| weights[i].take().expect("grouped outputs have weights")).collect();
        let inits: Vec<i64> = group.iter().map(|&i| init(i).value().expect("constant start")).collect();
        for (i, w) in group.iter().zip(ctx.lay.mdot(&xs, &ws, &inits)?) {
            res[*i] = Some(w);
        }
    }
    Ok(())
}

pub(super) fn sums(ctx: &mut Ctx, x: &ArrayD<Elem>, groups: &[Vec<usize>]) -> Result<Vec<Wire>, Error> {
    let flat: Vec<&Elem> = x.iter().collect();
    let mut out = Vec::with_capacity(groups.len());
    for gidx in groups {
        let mut terms = Vec::with_capacity(gidx.len());
        for &i in gidx {
            terms.push((ctx.wire(flat[i])?, Elem::K(1)));
        }
        out.push(ctx.lay.dot(&terms, &Elem::K(0))?);
    }
    Ok(out)
}

/// Flat index groups of softmax lanes: along `axis`, or (opset < 13) over all axes from `axis`.
pub(super) fn lane_groups(shape: &[usize], axis: usize, flatten: bool) -> Vec<Vec<usize>> {
    let n: usize = shape.iter().product();
    if flatten {
        let outer: usize = shape[..axis].iter().product();
        let inner = n / outer.max(1);
        return (0..outer).map(|o| (o * inner..(o + 1) * inner).collect()).collect();
    }
    indices(shape).lanes(ndarray::Axis(axis)).into_iter().map(|l| l.iter().copied().collect()).collect()
}
