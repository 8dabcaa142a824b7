//! Dot products that share their inputs, `G` at a time (gate `mdot`, settings `dot_groups = G`).
//!
//! A layer with weights in the verifying key computes many dot products over the same inputs:
//! the output columns of a matrix product `x·W` all read the row `x`, and a convolution's output
//! channels at one position all read the same window. The `dot` gate copies every input into a
//! cell once per output; `mdot` copies it once per group of up to `G` outputs and accumulates
//! each output of the group in its own column:
//!
//! `o_g = cr·o_g[prev] + cl_g + Σ_i a_i·ck_{g,i}` for every `g < G` on the same row,
//!
//! a chain's first row starting from the constants `cl_g` (`cr = 0`), later rows continuing it
//! (`cr = 1`). Accumulators a group does not use hold 0 on every row of its chain (`cl_g = 0`,
//! `ck_{g,i} = 0`, so the gate forces 0), and lanes past the last input have weight 0. Soundness
//! is that of `dot`, once per accumulator: every `o_g` of the last row is the exact sum.

use crate::layout::{exact, synthesis_error, Elem, Layout, Wire};
use halo2_proofs::plonk::Error;
use std::collections::HashMap;

impl Layout<'_, '_> {
    /// `inits[g] + Σ_j xs[j]·weights[g][j]` for each `g` of up to `G` outputs over the same
    /// inputs `xs`, on `ceil(len / lanes)` `mdot` rows. Returns the outputs' wires (in the last
    /// row's accumulators).
    pub fn mdot(&mut self, xs: &[Wire], weights: &[Vec<i64>], inits: &[i64]) -> Result<Vec<Wire>, Error> {
        let cfg = self.cfg;
        let groups = cfg.groups.as_ref().ok_or_else(|| synthesis_error("grouped dot products in a circuit without dot groups".into()))?;
        let g_n = weights.len();
        if g_n == 0 || g_n > groups.o.len() || inits.len() != g_n || weights.iter().any(|w| w.len() != xs.len()) || xs.is_empty() {
            return Err(synthesis_error(format!("a group of {g_n} dot products over {} inputs does not fit {} accumulators", xs.len(), groups.o.len())));
        }
        let mut acc: Vec<Option<i128>> = inits.iter().map(|&k| Some(k as i128)).collect();
        let mut out = Vec::new();
        for (c, chunk) in xs.chunks(cfg.lanes).enumerate() {
            let row = self.take_row();
            self.enable(groups.q_mdot, row)?;
            if c == 0 {
                for (g, &k) in inits.iter().enumerate() {
                    self.fixed(groups.cl[g], row, k);
                }
            } else {
                self.fixed(cfg.cr, row, 1);
            }
            for (i, x) in chunk.iter().enumerate() {
                self.copy(cfg.a[i], row, x);
                for (g, w) in weights.iter().enumerate() {
                    let k = w[c * cfg.lanes + i];
                    self.fixed(groups.ck[g][i], row, k);
                    acc[g] = match (acc[g], x.value) {
                        (Some(s), Some(v)) => s.checked_add(v as i128 * k as i128),
                        _ => None,
                    };
                }
            }
            out.clear();
            for (g, a) in acc.iter().enumerate() {
                let v = match a {
                    Some(v) => Some(exact(Some(*v), "a dot-product accumulator")?),
                    None => None,
                };
                out.push(self.advice(groups.o[g], row, v));
            }
        }
        Ok(out)
    }
}

/// How one output's terms read the two operands: the input side of every term (`true`: the
/// right operand) with its flat index, and the constant weights in term order. `None` when a
/// weight is a wire (advice weights take the `dot` gate).
pub(crate) fn shared_key(terms: &[(usize, usize)], left: &[&Elem], right: &[&Elem]) -> Option<(Vec<(bool, usize)>, Vec<i64>)> {
    let mut key = Vec::with_capacity(terms.len());
    let mut w = Vec::with_capacity(terms.len());
    for &(x, y) in terms {
        match (left[x], right[y]) {
            (Elem::K(k), Elem::W(_)) => {
                key.push((true, y));
                w.push(*k);
            }
            (_, Elem::K(k)) => {
                key.push((false, x));
                w.push(*k);
            }
            _ => return None,
        }
    }
    Some((key, w))
}

/// Outputs whose terms read the same inputs in the same order, in groups of at most `g`, each
/// group in order of first appearance; outputs alone in their group are left out.
pub(crate) fn share_groups(keys: &[Option<Vec<(bool, usize)>>], g: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<Vec<usize>> = Vec::new();
    let mut at: HashMap<&[(bool, usize)], usize> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        if let Some(k) = k.as_deref().filter(|k| !k.is_empty()) {
            let slot = *at.entry(k).or_insert_with(|| {
                order.push(Vec::new());
                order.len() - 1
            });
            order[slot].push(i);
        }
    }
    order.into_iter().flat_map(|v| v.chunks(g).map(<[usize]>::to_vec).collect::<Vec<_>>()).filter(|c| c.len() > 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_share_inputs_in_order() {
        let k = |v: &[usize]| Some(v.iter().map(|&i| (false, i)).collect::<Vec<_>>());
        let keys = vec![k(&[0, 1]), k(&[2, 3]), k(&[0, 1]), None, k(&[0, 1]), k(&[2, 3]), k(&[4])];
        assert_eq!(share_groups(&keys, 2), vec![vec![0, 2], vec![1, 5]]);
        assert_eq!(share_groups(&keys, 4), vec![vec![0, 2, 4], vec![1, 5]]);
        assert!(share_groups(&keys, 1).is_empty());
    }
}
