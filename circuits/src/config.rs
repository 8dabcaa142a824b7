//! Columns, gates and the lookup argument of the model circuit. All chips share one configuration;
//! `lanes` (settings `num_inner_cols`) products are packed per `dot` row; every other chip works
//! on lane 0.
//!
//! Advice columns: `a[i]` per lane, `b[i]` per weight lane (the first `weight_lanes` lanes; all
//! of them unless the circuit has no multi-term products of two wires, see
//! [`crate::model::CircuitParams`]) and one output column `o` (lane 0: every chip's result
//! lives there, so lanes ≥ 1 need no output column — each would cost the verifier an advice and a
//! permutation commitment). The accumulator `acc` of `dot` is `o` (dot rows enable no `arith`).
//! Fixed columns: arithmetic coefficients `cl`, `cr` (lane 0) and `ck[i]` per lane (the
//! constant of lane 0, the fixed weights of `dot`), the lookup
//! tag `t` and the table columns `(tag, in, out)`; selectors are compressed at keygen. The instance
//! column is only read by the `public` gate.
//!
//! Gates (each enabled by its selector on a row):
//! * `arith`  — on lane 0: `o = cl·a_0 + cr·b_0 + ck_0` (add, sub, neg, scale, add/mul by a
//!   fixed parameter, constants). Lanes ≥ 1 of an `arith` row are unused and unconstrained
//!   (nothing reads them): coefficient columns for them would cost the verifier commitments for
//!   little packing gain. Products of two wires are one-term `dot` chains (two rows) rather than
//!   a `cm·a·b` term, which would cost a fixed column (one more commitment) for every circuit;
//! * `dot`    — `acc = cr·acc_prev + cl + Σ_i a_i·(b_i + ck_i)`: dot products with advice
//!   weights (`b_i`, with `ck_i = 0`) or with weights in the verifying key (`ck_i`, with every
//!   `b_i` copy-constrained to 0) under one selector; a lane without a `b` column contributes
//!   `a_i·ck_i`. A chain's first row starts from a constant (`cr = 0`, `cl` = the bias) and every
//!   later row continues it (`cr = 1`, `cl = 0`), so a dot product with a constant start takes no
//!   row for it; one row with `cr = 0` is a product `a_0·b_0` (ReLU from a sign bit) or a
//!   select `m + s·d` (max-pooling, lanes ≥ 2);
//! * `div`    — with divisor `d = ck_0 > 0` on the quotient row, quotient `q = a_0`, numerator
//!   `n = b_0` and remainder `r` in the **next** row's `a_0`: `2·n + d = 2d·q + r`, i.e.
//!   `q = floor((2n + d) / 2d)` (rounded division) provided `q` is in the lookup range and
//!   `0 <= r < 2d` (the lookup tags of the two rows).
//! * `vdiv`   — the same with a runtime divisor `d` read from the **previous** row's `o`:
//!   `2·n + d = 2·d·q + r`; the layout range-checks `r` and the slack `2·d − 1 − r` over the
//!   non-negative range, so `0 <= r < 2·d` and `d >= 1`.
//! * `public` — `o = instance` on the first rows: the public values (packed), hashes and the
//!   binding value are copied there. The instance column takes no part in the permutation (one
//!   permutation column and its commitment fewer than `constrain_instance`).
//!
//! * `poseidon_full` / `poseidon_partial` (only in circuits with hashed visibility) — one Poseidon
//!   round from the state `(a_0, b_0, o)` on this row to the next row, round constants in
//!   `(cl, cr, ck_0)`, squares witnessed in `sq_j = (s_j + c_j)^2`:
//!   `next_i = Σ_j M_ij · S_j` with `S_j = sq_j^2 · (s_j + c_j) = (s_j + c_j)^5` for every `j` in full
//!   rounds and only for `j = 0` in partial rounds (`S_j = s_j + c_j` otherwise). Witnessing the
//!   squares keeps every gate at degree 4.
//!
//! * `mdot`   (only in circuits with dot groups, settings `dot_groups = G > 1`) — `G` dot
//!   products over the **same** inputs at once: for every `g < G`,
//!   `o_g = cr·o_g[prev] + cl_g + Σ_i a_i·ck_{g,i}` ([`DotGroups`]). A layer with fixed weights
//!   whose outputs share their inputs (a matrix product's output columns, a convolution's output
//!   channels at one position) copies each input into a cell once per group of `G` outputs
//!   instead of once per output: `G` times fewer rows for its products, for `G − 1` advice and
//!   `(G − 1)·(lanes + 1)` fixed columns.
//!
//! * `limb` (only in circuits with limbs, settings `range_bits > 0`) — one step of a limb
//!   decomposition, most significant limb first: `b_0 = cl·b_0[prev] + cr·a_0 + ck_1·a_1 + ck_0`,
//!   where `a_0` is a limb (looked up in a limb table on the same row), `a_1` an optional second,
//!   lower limb (looked up by the second lookup argument, weight `ck_1 = 1`, else `ck_1 = 0`),
//!   `cr = 2^width(a_1)` (1 without a second limb), `cl = 2^(width of the row's limbs)` (0 on
//!   the first row) and `ck_0 = -offset` on the last row only. Over its rows the last `b_0` is
//!   `Σ l_j·2^(bits below j) − offset`; see [`crate::limbs`]. One-lane circuits have no second
//!   slot (no `ck_1·a_1` term).
//!
//! One lookup argument (lane 0), switched and tagged by the fixed column `t` naming the table
//! (`t = 0` on rows without a lookup): `(t, t·a_0, t·o)` must be a row `(tag, in, out)` of the
//! table columns, which hold `(T, T·x, T·f(x))` for function tables and `(T, T·v, T·v)` for range
//! tables (see [`crate::tables`]). A disabled row presents all zeros (table row 0); an enabled row
//! with tag `T ≠ 0` matches a row of table `T` exactly when `(a_0, o)` is one of its pairs (`T` is
//! invertible). One argument for every table costs three commitments (permuted input, permuted
//! table, product) instead of three per kind of check, and no selector columns. Circuits with
//! limbs and two lanes or more have a second argument, `(t1, t1·a_1, t1·a_1)` against the same
//! table columns, for the limb gate's second slot (identity tables only).

use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Advice, Column, ConstraintSystem, Expression, Fixed, Instance, Selector};
use halo2_proofs::poly::Rotation;

#[derive(Clone, Debug)]
pub struct ModelConfig {
    pub lanes: usize,
    pub a: Vec<Column<Advice>>,
    pub b: Vec<Column<Advice>>,
    pub o: Column<Advice>,
    pub cl: Column<Fixed>,
    pub cr: Column<Fixed>,
    pub ck: Vec<Column<Fixed>>,
    pub q_arith: Selector,
    pub q_dot: Selector,
    pub q_div: Selector,
    pub q_vdiv: Selector,
    pub q_public: Selector,
    /// The `limb` gate's selector (circuits with limbs).
    pub q_limb: Option<Selector>,
    /// Poseidon round selectors (full, partial) and the square columns, present when the circuit
    /// hashes something.
    pub q_poseidon: Option<(Selector, Selector, [Column<Advice>; 3])>,
    /// The `mdot` gate's selector and its accumulators, in circuits with dot groups.
    pub groups: Option<DotGroups>,
    /// Lookup tag of the row (0: no lookup).
    pub t: Column<Fixed>,
    /// Lookup tag of lane 1's limb (circuits with limbs and two lanes or more; 0: no lookup).
    pub t1: Option<Column<Fixed>>,
    /// Table columns `(tag, in, out)`.
    pub table: [Column<Fixed>; 3],
    pub instance: Column<Instance>,
}

/// The columns of the `mdot` gate (settings `dot_groups = G > 1`): accumulator `g` of `G` lives
/// in `o[g]` with its start in `cl[g]` and its weights in `ck[g][i]`; index 0 is the circuit's
/// `o`, `cl` and `ck`, so only `G − 1` advice columns and `(G − 1)·(lanes + 1)` fixed columns are
/// new.
#[derive(Clone, Debug)]
pub struct DotGroups {
    pub q_mdot: Selector,
    pub o: Vec<Column<Advice>>,
    pub cl: Vec<Column<Fixed>>,
    pub ck: Vec<Vec<Column<Fixed>>>,
}

impl ModelConfig {
    /// Accumulators per `mdot` row (1 without dot groups).
    pub fn groups(&self) -> usize {
        self.groups.as_ref().map_or(1, |g| g.o.len())
    }

    pub fn configure(meta: &mut ConstraintSystem<Fr>, lanes: usize, poseidon: bool) -> ModelConfig {
        Self::configure_with(meta, lanes, poseidon, false)
    }

    /// [`ModelConfig::configure`], with the `limb` gate when `limbs`.
    pub fn configure_with(meta: &mut ConstraintSystem<Fr>, lanes: usize, poseidon: bool, limbs: bool) -> ModelConfig {
        Self::configure_lanes(meta, lanes, lanes, poseidon, limbs)
    }

    /// The configuration of a model circuit with these parameters.
    pub fn configure_params(meta: &mut ConstraintSystem<Fr>, p: &crate::model::CircuitParams) -> ModelConfig {
        Self::configure_full(meta, p.lanes, p.weight_lanes(), p.dot_groups.max(1), p.poseidon, p.range_bits > 0)
    }

    /// [`ModelConfig::configure_full`] without dot groups.
    pub fn configure_lanes(meta: &mut ConstraintSystem<Fr>, lanes: usize, weight_lanes: usize, poseidon: bool, limbs: bool) -> ModelConfig {
        Self::configure_full(meta, lanes, weight_lanes, 1, poseidon, limbs)
    }

    /// [`ModelConfig::configure_with`] with advice weight columns `b` on the first
    /// `weight_lanes` lanes only (at least 1, at most `lanes`), and the `mdot` gate with `groups`
    /// accumulators when `groups > 1`.
    pub fn configure_full(meta: &mut ConstraintSystem<Fr>, lanes: usize, weight_lanes: usize, groups: usize, poseidon: bool, limbs: bool) -> ModelConfig {
        let lanes = lanes.max(1);
        let weight_lanes = weight_lanes.clamp(1, lanes);
        let adv = |meta: &mut ConstraintSystem<Fr>| {
            let c = meta.advice_column();
            meta.enable_equality(c);
            c
        };
        let a: Vec<_> = (0..lanes).map(|_| adv(meta)).collect();
        let b: Vec<_> = (0..weight_lanes).map(|_| adv(meta)).collect();
        let o = adv(meta);
        let (cl, cr) = (meta.fixed_column(), meta.fixed_column());
        let ck: Vec<_> = (0..lanes).map(|_| meta.fixed_column()).collect();
        let instance = meta.instance_column();

        let q_arith = meta.selector();
        let q_dot = meta.selector();
        let q_div = meta.selector();
        let q_vdiv = meta.selector();
        let q_public = meta.selector();
        let t = meta.fixed_column();
        let table = [meta.fixed_column(), meta.fixed_column(), meta.fixed_column()];

        meta.create_gate("arith", |m| {
            let q = m.query_selector(q_arith);
            let (a, b, o) = (m.query_advice(a[0], Rotation::cur()), m.query_advice(b[0], Rotation::cur()), m.query_advice(o, Rotation::cur()));
            let [l, r, k] = [cl, cr, ck[0]].map(|c| m.query_fixed(c, Rotation::cur()));
            vec![q * (l * a + r * b + k - o)]
        });
        meta.create_gate("dot", |m| {
            let q = m.query_selector(q_dot);
            let cur = m.query_advice(o, Rotation::cur());
            let prev = m.query_advice(o, Rotation::prev());
            let mut sum = Expression::Constant(Fr::zero());
            for i in 0..lanes {
                let x = m.query_advice(a[i], Rotation::cur());
                let k = m.query_fixed(ck[i], Rotation::cur());
                let w = match b.get(i) {
                    Some(&bi) => m.query_advice(bi, Rotation::cur()) + k,
                    None => k,
                };
                sum = sum + x * w;
            }
            let [start, cont] = [cl, cr].map(|c| m.query_fixed(c, Rotation::cur()));
            vec![q * (cur - cont * prev - start - sum)]
        });
        // `2·n + d = 2d·q + r` with q = a_0, n = b_0, r = a_0 of the next row; `d` per gate.
        let division = |m: &mut halo2_proofs::plonk::VirtualCells<Fr>, sel: Selector, d: Expression<Fr>| {
            let q = m.query_selector(sel);
            let (quot, n, r) = (m.query_advice(a[0], Rotation::cur()), m.query_advice(b[0], Rotation::cur()), m.query_advice(a[0], Rotation::next()));
            let two = Expression::Constant(Fr::from(2));
            vec![q * (two.clone() * n + d.clone() - two * d * quot - r)]
        };
        meta.create_gate("div", |m| {
            let d = m.query_fixed(ck[0], Rotation::cur());
            division(m, q_div, d)
        });
        meta.create_gate("vdiv", |m| {
            let d = m.query_advice(o, Rotation::prev());
            division(m, q_vdiv, d)
        });
        meta.create_gate("public", |m| {
            let q = m.query_selector(q_public);
            vec![q * (m.query_advice(o, Rotation::cur()) - m.query_instance(instance, Rotation::cur()))]
        });
        let q_poseidon = poseidon.then(|| {
            // Complex selectors: a simple selector cannot be compressed next to a degree-5 expression.
            let (qf, qp) = (meta.complex_selector(), meta.complex_selector());
            let sq = [meta.advice_column(), meta.advice_column(), meta.advice_column()];
            let c = crate::poseidon::constants();
            for (name, sel, full) in [("poseidon_full", qf, true), ("poseidon_partial", qp, false)] {
                meta.create_gate(name, |m| {
                    let q = m.query_selector(sel);
                    let cur = [a[0], b[0], o].map(|col| m.query_advice(col, Rotation::cur()));
                    let next = [a[0], b[0], o].map(|col| m.query_advice(col, Rotation::next()));
                    let rc = [cl, cr, ck[0]].map(|col| m.query_fixed(col, Rotation::cur()));
                    let sqv = sq.map(|col| m.query_advice(col, Rotation::cur()));
                    let mut constraints = Vec::new();
                    let t: Vec<Expression<Fr>> = (0..3)
                        .map(|j| {
                            let x = cur[j].clone() + rc[j].clone();
                            if full || j == 0 {
                                constraints.push(q.clone() * (sqv[j].clone() - x.clone() * x.clone()));
                                sqv[j].clone() * sqv[j].clone() * x
                            } else {
                                x
                            }
                        })
                        .collect();
                    for i in 0..3 {
                        let mut sum = Expression::Constant(Fr::zero());
                        for (j, tj) in t.iter().enumerate() {
                            sum = sum + Expression::Constant(c.mds[i][j]) * tj.clone();
                        }
                        constraints.push(q.clone() * (next[i].clone() - sum));
                    }
                    constraints
                });
            }
            (qf, qp, sq)
        });
        // Configured after every other gate, so circuits without limbs keep their constraint system.
        let q_limb = limbs.then(|| {
            let q_limb = meta.selector();
            meta.create_gate("limb", |m| {
                let q = m.query_selector(q_limb);
                let (z, z_prev, limb) = (m.query_advice(b[0], Rotation::cur()), m.query_advice(b[0], Rotation::prev()), m.query_advice(a[0], Rotation::cur()));
                let (shift, k) = (m.query_fixed(cl, Rotation::cur()), m.query_fixed(ck[0], Rotation::cur()));
                let weight = m.query_fixed(cr, Rotation::cur());
                // The second slot (lane 1, weight `ck_1`) where there is one.
                let low = match a.get(1) {
                    Some(&a1) => m.query_fixed(ck[1], Rotation::cur()) * m.query_advice(a1, Rotation::cur()),
                    None => Expression::Constant(Fr::zero()),
                };
                vec![q * (z - shift * z_prev - weight * limb - low - k)]
            });
            q_limb
        });
        // Configured last, so circuits without dot groups keep their constraint system.
        let groups = (groups > 1).then(|| {
            let q_mdot = meta.selector();
            let mut go = vec![o];
            let mut gcl = vec![cl];
            let mut gck = vec![ck.clone()];
            for _ in 1..groups {
                go.push(adv(meta));
                gcl.push(meta.fixed_column());
                gck.push((0..lanes).map(|_| meta.fixed_column()).collect());
            }
            meta.create_gate("mdot", |m| {
                let q = m.query_selector(q_mdot);
                let cont = m.query_fixed(cr, Rotation::cur());
                let x: Vec<_> = a.iter().map(|&c| m.query_advice(c, Rotation::cur())).collect();
                (0..groups)
                    .map(|g| {
                        let cur = m.query_advice(go[g], Rotation::cur());
                        let prev = m.query_advice(go[g], Rotation::prev());
                        let mut sum = m.query_fixed(gcl[g], Rotation::cur());
                        for (i, xi) in x.iter().enumerate() {
                            sum = sum + xi.clone() * m.query_fixed(gck[g][i], Rotation::cur());
                        }
                        q.clone() * (cur - cont.clone() * prev - sum)
                    })
                    .collect::<Vec<_>>()
            });
            DotGroups { q_mdot, o: go, cl: gcl, ck: gck }
        });
        // The limb gate's second slot: lane 1's limb looked up in an identity table tagged by `t1`.
        let t1 = (limbs && lanes >= 2).then(|| {
            let t1 = meta.fixed_column();
            meta.lookup_any("table1", |m| {
                let tag = m.query_fixed(t1, Rotation::cur());
                let x = m.query_advice(a[1], Rotation::cur());
                let [tt, ti, to] = table.map(|c| m.query_fixed(c, Rotation::cur()));
                vec![(tag.clone(), tt), (tag.clone() * x.clone(), ti), (tag * x, to)]
            });
            t1
        });
        meta.lookup_any("table", |m| {
            let tag = m.query_fixed(t, Rotation::cur());
            let (x, y) = (m.query_advice(a[0], Rotation::cur()), m.query_advice(o, Rotation::cur()));
            let [tt, ti, to] = table.map(|c| m.query_fixed(c, Rotation::cur()));
            vec![(tag.clone(), tt), (tag.clone() * x, ti), (tag * y, to)]
        });
        ModelConfig {
            lanes,
            a,
            b,
            o,
            cl,
            cr,
            ck,
            q_arith,
            q_dot,
            q_div,
            q_vdiv,
            q_public,
            q_limb,
            q_poseidon,
            groups,
            t,
            t1,
            table,
            instance,
        }
    }
}
