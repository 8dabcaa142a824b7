//! `ModelCircuit`: lays out a quantized graph. Each quantized op maps to the chips of
//! [`layout`](crate::layout): linear ops to dot-product chains, rescales and averages to division
//! rows, comparisons and activations to table lookups, data movement to rewiring (no cells).
//! The circuit computes its own witness from the quantized inputs with the same integer rules as
//! the reference executor; tests check both agree exactly.

use crate::config::ModelConfig;
use crate::field::fr;
use crate::instances::{InstancePacking, PackError};
use crate::layout::{synthesis_error as kerr, assign_tables, exact, ArithOp, Elem, Layout, Wire};
use crate::tables::{FnKind, Tables};
use crate::CircuitError;
use halo2_proofs::circuit::{Layouter, SimpleFloorPlanner};
use halo2_proofs::halo2curves::bn256::Fr;
use halo2_proofs::plonk::{Circuit, ConstraintSystem, Error};
use ndarray::{ArrayD, IxDyn};
use std::collections::BTreeSet;
use std::sync::Arc;
use zkinfer_onnx::ir::Operand;
use zkinfer_onnx::kernels::{broadcast, linear, reduce, shape, window};
use zkinfer_onnx::quant::{QGraph, QNode, QOp};
use zkinfer_onnx::settings::Visibility;

mod dots;
use dots::{dots, indices, lane_groups, leaves, sums};

/// Which model tensors are public.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Visibilities {
    pub input: Visibility,
    pub param: Visibility,
    pub output: Visibility,
}

/// Shape parameters of the circuit's configuration (halo2 `Circuit::Params`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CircuitParams {
    pub lanes: usize,
    /// Whether the Poseidon gates exist (some tensor has `hashed` visibility).
    pub poseidon: bool,
    /// Limb width of decomposed range checks ([`crate::limbs`]); 0: one table over the lookup
    /// range (no `limb` gate).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub range_bits: u32,
    /// Lanes with an advice weight column `b` ([`crate::config`]); 0: every lane. Circuits whose
    /// weights all live in the verifying key and that multiply no two activations with more than
    /// one term per output ([`weight_lanes_for`]) carry `b` on lane 0 only.
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub advice_weight_lanes: usize,
    /// Accumulators of the `mdot` gate ([`crate::config::DotGroups`]); 0 or 1: no such gate.
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub dot_groups: usize,
}

impl CircuitParams {
    /// Lanes with a `b` column.
    pub fn weight_lanes(&self) -> usize {
        if self.advice_weight_lanes == 0 { self.lanes } else { self.advice_weight_lanes.min(self.lanes) }
    }
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_zero_usize(v: &usize) -> bool {
    *v == 0
}

/// Lanes a circuit needs with an advice weight column: 1 when params are fixed (in the
/// verifying key) and no MatMul / Conv / ConvTranspose multiplies two runtime values (their
/// dot products would have advice weights); else every lane. A circuit works with either: dot
/// products with advice weights then use lane 0 only.
pub fn weight_lanes_for(g: &QGraph, vis: &Visibilities, lanes: usize) -> usize {
    let two_values = g.nodes.iter().any(|n| {
        matches!(n.op, QOp::MatMul | QOp::Conv { .. } | QOp::ConvTranspose { .. })
            && n.inputs.iter().take(2).all(|i| matches!(i, zkinfer_onnx::ir::Operand::Value(_)))
    });
    if vis.param == Visibility::Fixed && !two_values { 1 } else { lanes.max(1) }
}

/// Where each public value sits in the instance column: inputs, then params, then outputs, then
/// the binding value. A `public` tensor contributes its values (flat, row-major, graph order);
/// a `hashed` one its Poseidon hash (one per model input / output, one for all params together).
/// The vectors hold each entry's first instance row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceLayout {
    pub inputs: Vec<usize>,
    pub params: Vec<usize>,
    pub outputs: Vec<usize>,
    pub binding: usize,
    pub len: usize,
}

impl InstanceLayout {
    /// First instance of each public tensor (see [`InstancePacking`] for the packing).
    pub fn new(g: &QGraph, vis: &Visibilities) -> InstanceLayout {
        let packing = InstancePacking::new(g, vis);
        let mut starts = packing.instance_starts().into_iter();
        let mut take = |n: usize| starts.by_ref().take(n).collect::<Vec<_>>();
        let published = |v: Visibility| matches!(v, Visibility::Public | Visibility::Hashed);
        let inputs = take(if published(vis.input) { g.inputs.len() } else { 0 });
        let params = take(match vis.param {
            Visibility::Hashed => 1,
            Visibility::Public => g.consts.len(),
            _ => 0,
        });
        let outputs = take(if published(vis.output) { g.outputs.len() } else { 0 });
        let binding = take(1)[0];
        InstanceLayout { inputs, params, outputs, binding, len: packing.num_instances() }
    }
}

/// Whether every param fits the lookup range (then hashed params are range-checked and packed;
/// otherwise each param is hashed as its own field element).
pub fn params_packable(g: &QGraph) -> bool {
    let (lo, hi) = g.params.lookup_range;
    g.consts.iter().all(|c| c.data.iter().all(|&v| v >= lo && v <= hi))
}

/// The Poseidon hash of all params (flattened in graph order), as hashed visibility defines it.
pub fn params_hash(g: &QGraph) -> Fr {
    let (lo, hi) = g.params.lookup_range;
    let v: Vec<i64> = g.consts.iter().flat_map(|c| c.data.iter().copied()).collect();
    if params_packable(g) {
        crate::poseidon::hash_packed(&v, lo, hi)
    } else {
        crate::poseidon::hash(&v.iter().map(|&x| fr(x)).collect::<Vec<_>>())
    }
}

/// The public values of an execution (unpacked; see [`crate::instances`]).
pub fn public_values(g: &QGraph, vis: &Visibilities, inputs: &[ArrayD<i64>], outputs: &[ArrayD<i64>], binding: Fr) -> Vec<Fr> {
    let mut v = Vec::new();
    let (lo, hi) = g.params.lookup_range;
    let hash = |a: &ArrayD<i64>| crate::poseidon::hash_packed(&a.iter().copied().collect::<Vec<_>>(), lo, hi);
    match vis.input {
        Visibility::Public => v.extend(inputs.iter().flat_map(|a| a.iter().map(|&x| fr(x)))),
        Visibility::Hashed => v.extend(inputs.iter().map(hash)),
        _ => {}
    }
    match vis.param {
        Visibility::Public => v.extend(g.consts.iter().flat_map(|c| c.data.iter().map(|&x| fr(x)))),
        Visibility::Hashed => v.push(params_hash(g)),
        _ => {}
    }
    match vis.output {
        Visibility::Public => v.extend(outputs.iter().flat_map(|a| a.iter().map(|&x| fr(x)))),
        Visibility::Hashed => v.extend(outputs.iter().map(hash)),
        _ => {}
    }
    v.push(binding);
    v
}

/// The instance column of an execution: its public values, packed.
pub fn public_instances(g: &QGraph, vis: &Visibilities, inputs: &[ArrayD<i64>], outputs: &[ArrayD<i64>], binding: Fr) -> Result<Vec<Fr>, PackError> {
    InstancePacking::new(g, vis).pack(&public_values(g, vis, inputs, outputs, binding))
}

/// The circuit proving one inference of a quantized graph.
#[derive(Clone, Debug)]
pub struct ModelCircuit {
    pub graph: Arc<QGraph>,
    pub vis: Visibilities,
    pub lanes: usize,
    /// Limb width of range checks (settings `range_bits`; 0: none).
    pub range_bits: u32,
    /// Accumulators per `mdot` row (settings `dot_groups`; 0 or 1: none).
    pub dot_groups: usize,
    /// Quantized model inputs (absent for key generation).
    pub inputs: Option<Vec<ArrayD<i64>>>,
    /// The binding public input (request / operator binding; 0 by default).
    pub binding: Fr,
}

impl ModelCircuit {
    pub fn new(graph: Arc<QGraph>, vis: Visibilities, lanes: usize) -> Result<Self, CircuitError> {
        crate::check_supported(&graph, &vis)?;
        Ok(ModelCircuit { graph, vis, lanes: lanes.max(1), range_bits: 0, dot_groups: 0, inputs: None, binding: Fr::zero() })
    }
    /// Decompose range checks over limbs of `k` bits (0: one table over the lookup range).
    pub fn with_range_bits(mut self, k: u32) -> Self {
        self.range_bits = k;
        self
    }
    /// Lay fixed-weight dot products that share their inputs `g` at a time (gate `mdot`; 0 or
    /// 1: one at a time).
    pub fn with_dot_groups(mut self, g: usize) -> Self {
        self.dot_groups = if g > 1 { g } else { 0 };
        self
    }
    pub fn with_witness(mut self, inputs: Vec<ArrayD<i64>>, binding: Fr) -> Self {
        self.inputs = Some(inputs);
        self.binding = binding;
        self
    }
    pub fn instance_layout(&self) -> InstanceLayout {
        InstanceLayout::new(&self.graph, &self.vis)
    }
    pub fn circuit_params(&self) -> CircuitParams {
        let hashed = [self.vis.input, self.vis.param, self.vis.output].contains(&Visibility::Hashed);
        let w = weight_lanes_for(&self.graph, &self.vis, self.lanes);
        CircuitParams { lanes: self.lanes, poseidon: hashed, range_bits: self.range_bits, advice_weight_lanes: if w == self.lanes { 0 } else { w }, dot_groups: self.dot_groups }
    }
}

impl Circuit<Fr> for ModelCircuit {
    type Config = ModelConfig;
    type FloorPlanner = SimpleFloorPlanner;
    type Params = CircuitParams;

    fn without_witnesses(&self) -> Self {
        ModelCircuit { inputs: None, binding: Fr::zero(), ..self.clone() }
    }
    fn params(&self) -> CircuitParams {
        self.circuit_params()
    }
    fn configure_with_params(meta: &mut ConstraintSystem<Fr>, p: CircuitParams) -> ModelConfig {
        ModelConfig::configure_params(meta, &p)
    }
    fn configure(meta: &mut ConstraintSystem<Fr>) -> ModelConfig {
        ModelConfig::configure(meta, 2, false)
    }

    fn synthesize(&self, cfg: ModelConfig, mut layouter: impl Layouter<Fr>) -> Result<(), Error> {
        let (lo, hi) = self.graph.params.lookup_range;
        let mut tables = None;
        layouter.assign_region(
            || "model",
            |mut region| {
                let mut lay = Layout::new(Some(&mut region), &cfg, Tables::with_limbs(lo, hi, self.range_bits));
                build(&mut lay, self)?;
                tables = Some(lay.tables.clone());
                Ok(())
            },
        )?;
        let tables = tables.expect("model region assigned");
        layouter.assign_region(
            || "tables",
            |mut region| {
                assign_tables(&mut region, &cfg, &tables);
                Ok(())
            },
        )?;
        Ok(())
    }
}

/// Rows the model region and the tables need (counting pass, no halo2 region).
pub fn count_rows(c: &ModelCircuit) -> Result<(usize, Tables), Error> {
    let (rows, tables, _) = counting_pass(c, false)?;
    Ok((rows, tables))
}

/// The distinct values `c`'s witness presents to lookup-range tables (function tables over the
/// lookup range, table 1's range check included; not remainder or non-negative range tables),
/// from a counting pass, per section: entry 0 for the model inputs and params, entry `i + 1` for
/// node `i` of the graph, the last entry for the published outputs (packed). The reference
/// executor range-checks the same values ([`zkinfer_onnx::quant::exec::run_collecting`]). The
/// sets are empty without a witness.
pub fn looked_up_values(c: &ModelCircuit) -> Result<Vec<BTreeSet<i64>>, Error> {
    let (_, _, seen) = counting_pass(c, true)?;
    Ok(seen.unwrap_or_default())
}

/// Lay `c` out without a halo2 region: rows needed, the tables registered and, when `record`,
/// the values looked up in lookup-range tables.
fn counting_pass(c: &ModelCircuit, record: bool) -> Result<(usize, Tables, Option<Vec<BTreeSet<i64>>>), Error> {
    let mut meta = ConstraintSystem::<Fr>::default();
    let p = c.circuit_params();
    let cfg = ModelConfig::configure_params(&mut meta, &p);
    let (lo, hi) = c.graph.params.lookup_range;
    let mut lay = Layout::new(None, &cfg, Tables::with_limbs(lo, hi, c.range_bits));
    if record {
        lay.looked_up = Some(Vec::new());
    }
    build(&mut lay, c)?;
    let rows = lay.row.max(lay.tables.rows());
    Ok((rows, lay.tables, lay.looked_up))
}

/// Smallest `k` whose `2^k` rows hold the circuit (model region, tables, instances, and the rows
/// halo2 reserves for blinding), with the row count it was derived from.
pub fn required_logrows(c: &ModelCircuit) -> Result<(u32, usize), Error> {
    let (rows, _) = count_rows(c)?;
    let mut meta = ConstraintSystem::<Fr>::default();
    let p = c.circuit_params();
    ModelConfig::configure_params(&mut meta, &p);
    let need = rows + meta.minimum_rows();
    Ok(((usize::BITS - (need - 1).leading_zeros()).max(4), rows))
}

struct Ctx<'l, 'r, 'c> {
    lay: &'l mut Layout<'r, 'c>,
}

impl Ctx<'_, '_, '_> {
    fn wire(&mut self, e: &Elem) -> Result<Wire, Error> {
        match e {
            Elem::W(w) => Ok(w.clone()),
            // One cell per distinct constant: the layout caches them.
            Elem::K(k) => self.lay.constant_wire(*k),
        }
    }
    fn wires(&mut self, a: &ArrayD<Elem>) -> Result<Vec<Wire>, Error> {
        a.iter().map(|e| self.wire(e)).collect()
    }
    /// Running max (or min) steps over pairs `(m, x)`: `d = x - m`, `m + relu(d)` (min:
    /// `d = m - x`, `m - relu(d)`). With limbs and two lanes or more, max is `m + s·d` in one row
    /// from the sign bit of `d`.
    fn extremum_step(&mut self, pairs: &[(Wire, Wire)], max: bool) -> Result<Vec<Wire>, Error> {
        let s = if max { 1 } else { -1 };
        if max && self.lay.tables.limb_bits > 0 && self.lay.cfg.lanes >= 2 {
            return pairs.iter().map(|(m, x)| self.lay.max_limbs(m, x)).collect();
        }
        let diffs: Vec<ArithOp> = pairs.iter().map(|(m, x)| ArithOp { a: Some(m.clone()), b: Some(x.clone()), cl: -s, cr: s, ..Default::default() }).collect();
        let d = self.lay.arith(&diffs)?;
        let mut r = Vec::with_capacity(d.len());
        for w in &d {
            r.push(self.lay.lookup(w, &FnKind::Relu)?);
        }
        let next: Vec<ArithOp> = pairs.iter().zip(r).map(|((m, _), r)| ArithOp { a: Some(m.clone()), b: Some(r), cl: 1, cr: s, ..Default::default() }).collect();
        self.lay.arith(&next)
    }
    /// The wires of `x` gathered into index groups (pooling windows, reduction groups, lanes).
    fn grouped<'g>(&mut self, x: &ArrayD<Elem>, groups: impl IntoIterator<Item = &'g Vec<usize>>) -> Result<Vec<Vec<Wire>>, Error> {
        let flat = self.wires(x)?;
        Ok(groups.into_iter().map(|g| g.iter().map(|&i| flat[i].clone()).collect()).collect())
    }
    /// Running maximum of each group (groups processed in lockstep so rows pack lanes).
    fn group_max(&mut self, groups: &[Vec<Wire>]) -> Result<Vec<Wire>, Error> {
        let mut cur: Vec<Wire> = groups.iter().map(|g| g[0].clone()).collect();
        let longest = groups.iter().map(|g| g.len()).max().unwrap_or(0);
        for j in 1..longest {
            let idx: Vec<usize> = (0..groups.len()).filter(|&i| groups[i].len() > j).collect();
            let pairs: Vec<(Wire, Wire)> = idx.iter().map(|&i| (cur[i].clone(), groups[i][j].clone())).collect();
            let next = self.extremum_step(&pairs, true)?;
            for (k, &i) in idx.iter().enumerate() {
                cur[i] = next[k].clone();
            }
        }
        Ok(cur)
    }
}

fn build(lay: &mut Layout, c: &ModelCircuit) -> Result<(), Error> {
    let g = &*c.graph;
    let il = c.instance_layout();
    lay.reserve_public(il.len);
    lay.start_section();
    let mut ctx = Ctx { lay };
    let mut vals: Vec<Option<ArrayD<Elem>>> = vec![None; g.values.len()];
    for (k, &id) in g.inputs.iter().enumerate() {
        let shape = &g.values[id].shape;
        let n: usize = shape.iter().product();
        let data: Vec<Option<i64>> = match &c.inputs {
            Some(x) => x[k].iter().map(|&v| Some(v)).collect(),
            None => vec![None; n],
        };
        let wires = ctx.lay.witnesses(&data);
        if c.vis.input == Visibility::Private {
            // Public and hashed inputs are range-checked while being packed.
            for w in &wires {
                ctx.lay.range_check(w)?;
            }
        }
        publish(&mut ctx, c.vis.input, &wires, il.inputs.get(k).copied())?;
        vals[id] = Some(ArrayD::from_shape_vec(IxDyn(shape), wires.into_iter().map(Elem::W).collect()).expect("sizes agree"));
    }
    let mut params: Vec<ArrayD<Elem>> = Vec::with_capacity(g.consts.len());
    let mut hashed_params: Vec<Wire> = Vec::new();
    for (ci, q) in g.consts.iter().enumerate() {
        params.push(match c.vis.param {
            Visibility::Fixed => q.data.mapv(Elem::K),
            _ => {
                let data: Vec<Option<i64>> = q.data.iter().map(|&v| Some(v)).collect();
                let wires = ctx.lay.witnesses(&data);
                if c.vis.param == Visibility::Public {
                    if params_packable(g) {
                        for (j, (cell, v)) in ctx.lay.pack(&wires)?.into_iter().enumerate() {
                            ctx.lay.expose_cell(cell, v, il.params[ci] + j)?;
                        }
                    } else {
                        for (j, w) in wires.iter().enumerate() {
                            ctx.lay.expose(w, il.params[ci] + j)?;
                        }
                    }
                }
                if c.vis.param == Visibility::Hashed {
                    hashed_params.extend(wires.iter().cloned());
                }
                ArrayD::from_shape_vec(q.data.raw_dim(), wires.into_iter().map(Elem::W).collect()).expect("sizes agree")
            }
        });
    }
    if c.vis.param == Visibility::Hashed {
        let (h, hv) = if params_packable(g) {
            let packed = ctx.lay.pack(&hashed_params)?;
            ctx.lay.poseidon_hash_fr(&packed)?
        } else {
            ctx.lay.poseidon_hash(&hashed_params)?
        };
        ctx.lay.expose_cell(h, hv, il.params[0])?;
    }
    let fused = crate::fuse::fused_relus(g);
    // The Relu outputs fused Rescales computed, by the Relu's input value.
    let mut relu_of: std::collections::HashMap<usize, ArrayD<Elem>> = Default::default();
    // Rows per node, logged on the counting pass (`ZKINFER_LOG=zkinfer_circuits=debug`): where a
    // layout spends its rows. Each node's count is logged when the next one starts.
    let counting = ctx.lay.region.is_none();
    let mut started: Option<(&QNode, usize)> = None;
    let log_rows = |started: Option<(&QNode, usize)>, row: usize| {
        if let (true, Some((n, first))) = (counting, started) {
            tracing::debug!(node = %n.name, op = n.op.name(), rows = row - first, "rows");
        }
    };
    for (i, node) in g.nodes.iter().enumerate() {
        log_rows(started.take(), ctx.lay.row);
        started = Some((node, ctx.lay.row));
        if let Some(&(shift, out)) = fused.get(&i) {
            // Rescale whose only consumer is a Relu: both from one range check.
            ctx.lay.start_section();
            let x = match node.inputs[0] {
                Operand::Value(v) => vals[v].clone().expect("topological order"),
                Operand::Const(k) => params[k].clone(),
            };
            let xs = ctx.wires(&x)?;
            let (q, r) = crate::fuse::rescale_relu(ctx.lay, &xs, shift)?;
            vals[out] = Some(from_vec(x.shape(), q));
            relu_of.insert(out, from_vec(x.shape(), r));
            continue;
        }
        if let (QOp::Relu, Some(Operand::Value(v))) = (&node.op, node.inputs.first()) {
            if let Some(r) = relu_of.remove(v) {
                // Its input's range check was made with the Rescale; the section still lists it.
                ctx.lay.start_section();
                crate::fuse::record_inputs(ctx.lay, vals[*v].as_ref().expect("computed"));
                vals[node.outputs[0]] = Some(r);
                continue;
            }
        }
        let ins: Vec<ArrayD<Elem>> = node
            .inputs
            .iter()
            .map(|o| match *o {
                Operand::Value(v) => vals[v].clone().expect("topological order"),
                Operand::Const(k) => params[k].clone(),
            })
            .collect();
        ctx.lay.start_section();
        let outs = lay_node(&mut ctx, g, node, &ins)?;
        for (&id, t) in node.outputs.iter().zip(outs) {
            if t.shape() != g.values[id].shape.as_slice() {
                return Err(kerr(format!("node {}: laid out shape {:?}, expected {:?}", node.name, t.shape(), g.values[id].shape)));
            }
            vals[id] = Some(t);
        }
    }
    log_rows(started.take(), ctx.lay.row);
    ctx.lay.start_section();
    for (k, &id) in g.outputs.iter().enumerate() {
        let t = vals[id].clone().expect("outputs computed");
        let wires = ctx.wires(&t)?;
        publish(&mut ctx, c.vis.output, &wires, il.outputs.get(k).copied())?;
    }
    // The binding value: a witness bound to its instance row by the `public` gate, so the proof
    // commits to it.
    ctx.lay.public_value(c.inputs.as_ref().map(|_| c.binding), il.binding)?;
    ctx.lay.check_public_bound()
}

/// Bind a model input or output tensor to the instance column from row `at`: its packed values
/// when public, the Poseidon hash of its packing when hashed (packing range-checks every value).
fn publish(ctx: &mut Ctx, vis: Visibility, wires: &[Wire], at: Option<usize>) -> Result<(), Error> {
    match (vis, at) {
        (Visibility::Public, Some(at)) => {
            for (j, (cell, v)) in ctx.lay.pack(wires)?.into_iter().enumerate() {
                ctx.lay.expose_cell(cell, v, at + j)?;
            }
        }
        (Visibility::Hashed, Some(at)) => {
            let packed = ctx.lay.pack(wires)?;
            let (h, hv) = ctx.lay.poseidon_hash_fr(&packed)?;
            ctx.lay.expose_cell(h, hv, at)?;
        }
        _ => {}
    }
    Ok(())
}

fn arith_map(ctx: &mut Ctx, a: &ArrayD<Elem>, f: impl Fn(Wire) -> ArithOp) -> Result<ArrayD<Elem>, Error> {
    let ops: Vec<ArithOp> = ctx.wires(a)?.into_iter().map(f).collect();
    let out = ctx.lay.arith(&ops)?;
    Ok(ArrayD::from_shape_vec(a.raw_dim(), out.into_iter().map(Elem::W).collect()).expect("sizes agree"))
}

fn lookup_map(ctx: &mut Ctx, a: &ArrayD<Elem>, f: &FnKind) -> Result<ArrayD<Elem>, Error> {
    let mut out = Vec::with_capacity(a.len());
    for w in ctx.wires(a)? {
        out.push(Elem::W(ctx.lay.lookup(&w, f)?));
    }
    Ok(ArrayD::from_shape_vec(a.raw_dim(), out).expect("sizes agree"))
}

fn from_vec(shape: &[usize], v: Vec<Wire>) -> ArrayD<Elem> {
    ArrayD::from_shape_vec(IxDyn(shape), v.into_iter().map(Elem::W).collect()).expect("sizes agree")
}

fn lay_node(ctx: &mut Ctx, g: &QGraph, node: &QNode, ins: &[ArrayD<Elem>]) -> Result<Vec<ArrayD<Elem>>, Error> {
    let x = &ins[0];
    let out_shape = g.values[node.outputs[0]].shape.clone();
    let one = |a: ArrayD<Elem>| Ok(vec![a]);
    match &node.op {
        QOp::Compare(op) => crate::ops::compare::lay(ctx.lay, *op, ins, &out_shape),
        QOp::Tree(t) => crate::ops::tree::lay(ctx.lay, t, x),
        QOp::MatMul => {
            let sym = linear::matmul(&leaves(x.shape()), &leaves(ins[1].shape())).map_err(kerr)?;
            one(dots(ctx, x, &ins[1], &sym, |_| Elem::K(0))?)
        }
        QOp::Conv { window, group } | QOp::ConvTranspose { window, group } => {
            let sym = if matches!(node.op, QOp::Conv { .. }) {
                linear::conv(&leaves(x.shape()), &leaves(ins[1].shape()), window, *group)
            } else {
                linear::conv_transpose(&leaves(x.shape()), &leaves(ins[1].shape()), window, *group)
            }
            .map_err(kerr)?;
            let (m, spatial) = (sym.shape()[1], sym.shape()[2..].iter().product::<usize>());
            let bias: Option<Vec<Elem>> = ins.get(2).map(|b| b.iter().cloned().collect());
            one(dots(ctx, x, &ins[1], &sym, |i| bias.as_ref().map_or(Elem::K(0), |b| b[(i / spatial) % m].clone()))?)
        }
        QOp::Add | QOp::Sub | QOp::Mul => {
            let a = broadcast::broadcast_to(x, &out_shape).map_err(kerr)?;
            let b = broadcast::broadcast_to(&ins[1], &out_shape).map_err(kerr)?;
            let mut ops = Vec::with_capacity(a.len());
            for (p, q) in a.iter().zip(b.iter()) {
                let op = match (&node.op, p, q) {
                    (QOp::Add, Elem::W(u), Elem::W(v)) => ArithOp { a: Some(u.clone()), b: Some(v.clone()), cl: 1, cr: 1, ..Default::default() },
                    (QOp::Add, Elem::W(u), Elem::K(k)) | (QOp::Add, Elem::K(k), Elem::W(u)) => ArithOp { a: Some(u.clone()), cl: 1, ck: *k, ..Default::default() },
                    (QOp::Sub, Elem::W(u), Elem::W(v)) => ArithOp { a: Some(u.clone()), b: Some(v.clone()), cl: 1, cr: -1, ..Default::default() },
                    (QOp::Sub, Elem::W(u), Elem::K(k)) => ArithOp { a: Some(u.clone()), cl: 1, ck: exact(Some(-(*k as i128)), "a constant")?, ..Default::default() },
                    (QOp::Sub, Elem::K(k), Elem::W(u)) => ArithOp { a: Some(u.clone()), cl: -1, ck: *k, ..Default::default() },
                    (QOp::Mul, Elem::W(u), Elem::W(v)) => ArithOp { a: Some(u.clone()), b: Some(v.clone()), cm: 1, ..Default::default() },
                    (QOp::Mul, Elem::W(u), Elem::K(k)) | (QOp::Mul, Elem::K(k), Elem::W(u)) => ArithOp { a: Some(u.clone()), cl: *k, ..Default::default() },
                    (_, p, q) => {
                        let (u, v) = (ctx.wire(p)?, ctx.wire(q)?);
                        let (cl, cr, cm) = match node.op {
                            QOp::Add => (1, 1, 0),
                            QOp::Sub => (1, -1, 0),
                            _ => (0, 0, 1),
                        };
                        ArithOp { a: Some(u), b: Some(v), cl, cr, cm, ck: 0 }
                    }
                };
                ops.push(op);
            }
            let out = ctx.lay.arith(&ops)?;
            one(from_vec(&out_shape, out))
        }
        QOp::Sum => {
            let mut acc = broadcast::broadcast_to(x, &out_shape).map_err(kerr)?;
            for t in &ins[1..] {
                let b = broadcast::broadcast_to(t, &out_shape).map_err(kerr)?;
                let (u, v) = (ctx.wires(&acc)?, ctx.wires(&b)?);
                let ops: Vec<ArithOp> = u.into_iter().zip(v).map(|(u, v)| ArithOp { a: Some(u), b: Some(v), cl: 1, cr: 1, ..Default::default() }).collect();
                acc = from_vec(&out_shape, ctx.lay.arith(&ops)?);
            }
            one(acc)
        }
        QOp::Neg => one(arith_map(ctx, x, |w| ArithOp { a: Some(w), cl: -1, ..Default::default() })?),
        QOp::ScaleUp { shift } => {
            let k = 1i64 << shift;
            one(arith_map(ctx, x, |w| ArithOp { a: Some(w), cl: k, ..Default::default() })?)
        }
        QOp::Rescale { shift } => {
            let d = 1i64 << shift;
            let mut out = Vec::with_capacity(x.len());
            for w in ctx.wires(x)? {
                out.push(if *shift == 0 { w } else { ctx.lay.div(&w, d)? });
            }
            one(from_vec(x.shape(), out))
        }
        QOp::Relu => one(lookup_map(ctx, x, &FnKind::Relu)?),
        QOp::Abs => one(lookup_map(ctx, x, &FnKind::Abs)?),
        QOp::Clip { lo, hi } => one(lookup_map(ctx, x, &FnKind::Clip { lo: *lo, hi: *hi })?),
        QOp::Lookup { act, in_scale, out_scale, reduce } => one(lookup_map(ctx, x, &FnKind::Act { act: *act, in_scale: *in_scale, out_scale: *out_scale, reduce: *reduce })?),
        QOp::PRelu { slope_scale } => {
            let p = 1i64 << slope_scale;
            let slope = broadcast::broadcast_to(&ins[1], x.shape()).map_err(kerr)?;
            let xs = ctx.wires(x)?;
            let mut r = Vec::with_capacity(xs.len());
            for w in &xs {
                r.push(ctx.lay.lookup(w, &FnKind::Relu)?);
            }
            let mut out = Vec::with_capacity(xs.len());
            for ((xw, rw), s) in xs.iter().zip(&r).zip(slope.iter()) {
                match s {
                    // o = r·(2^P - s) + x·s
                    Elem::K(k) => {
                        let cl = exact(Some(p as i128 - *k as i128), "a PRelu coefficient")?;
                        out.push(ctx.lay.arith(&[ArithOp { a: Some(rw.clone()), b: Some(xw.clone()), cl, cr: *k, ..Default::default() }])?.remove(0))
                    }
                    Elem::W(sw) => {
                        let t = ctx.lay.arith(&[ArithOp { a: Some(xw.clone()), b: Some(rw.clone()), cl: 1, cr: -1, ..Default::default() }])?.remove(0);
                        let u = ctx.lay.arith(&[ArithOp { a: Some(t), b: Some(sw.clone()), cm: 1, ..Default::default() }])?.remove(0);
                        out.push(ctx.lay.arith(&[ArithOp { a: Some(rw.clone()), b: Some(u), cl: p, cr: 1, ..Default::default() }])?.remove(0));
                    }
                }
            }
            one(from_vec(x.shape(), out))
        }
        QOp::Max | QOp::Min => {
            let max = matches!(node.op, QOp::Max);
            let mut acc = ctx.wires(&broadcast::broadcast_to(x, &out_shape).map_err(kerr)?)?;
            for t in &ins[1..] {
                let b = ctx.wires(&broadcast::broadcast_to(t, &out_shape).map_err(kerr)?)?;
                let pairs: Vec<(Wire, Wire)> = acc.into_iter().zip(b).collect();
                acc = ctx.extremum_step(&pairs, max)?;
            }
            one(from_vec(&out_shape, acc))
        }
        QOp::MaxPool { window } => {
            let groups = window::pool(&indices(x.shape()), window, |v, _| v.to_vec()).map_err(kerr)?;
            let gw = ctx.grouped(x, groups.iter())?;
            let out = ctx.group_max(&gw)?;
            one(from_vec(groups.shape(), out))
        }
        QOp::ReduceMax { axes, keepdims } => {
            let groups = reduce::reduce(&indices(x.shape()), axes, *keepdims, |v| v.to_vec()).map_err(kerr)?;
            let gw = ctx.grouped(x, groups.iter())?;
            let out = ctx.group_max(&gw)?;
            one(from_vec(groups.shape(), out))
        }
        QOp::AveragePool { window, count_include_pad } => {
            let groups = window::pool(&indices(x.shape()), window, |v, padded| (v.to_vec(), v.len() + if *count_include_pad { padded } else { 0 })).map_err(kerr)?;
            let idx: Vec<Vec<usize>> = groups.iter().map(|(v, _)| v.clone()).collect();
            let s = sums(ctx, x, &idx)?;
            let mut out = Vec::with_capacity(s.len());
            for (w, (_, n)) in s.iter().zip(groups.iter()) {
                out.push(ctx.lay.div(w, *n as i64)?);
            }
            one(from_vec(groups.shape(), out))
        }
        QOp::ReduceSum { axes, keepdims } | QOp::ReduceMean { axes, keepdims } => {
            let groups = reduce::reduce(&indices(x.shape()), axes, *keepdims, |v| v.to_vec()).map_err(kerr)?;
            let idx: Vec<Vec<usize>> = groups.iter().cloned().collect();
            let s = sums(ctx, x, &idx)?;
            let out = if matches!(node.op, QOp::ReduceMean { .. }) {
                let mut o = Vec::with_capacity(s.len());
                for (w, gi) in s.iter().zip(&idx) {
                    o.push(ctx.lay.div(w, gi.len() as i64)?);
                }
                o
            } else {
                s
            };
            one(from_vec(groups.shape(), out))
        }
        QOp::Reshape { shape: s } => one(shape::reshape(x, s).map_err(kerr)?),
        QOp::Transpose { perm } => one(shape::transpose(x, perm).map_err(kerr)?),
        QOp::Concat { axis } => one(shape::concat(&ins.iter().collect::<Vec<_>>(), *axis).map_err(kerr)?),
        QOp::Split { axis, sizes } => shape::split(x, *axis, sizes).map_err(kerr),
        QOp::Slice { ranges } => one(shape::slice(x, ranges).map_err(kerr)?),
        QOp::Gather { axis, indices } => one(shape::gather(x, *axis, indices).map_err(kerr)?),
        QOp::Tile { repeats } => one(shape::tile(x, repeats).map_err(kerr)?),
        QOp::Expand { shape: s } => one(shape::expand(x, s).map_err(kerr)?),
        QOp::Pad { mode, pads, value } => one(shape::pad(x, *mode, pads, Elem::K(*value)).map_err(kerr)?),
        QOp::Div { shift } => {
            // n' = sign(b)·a·2^shift, d = |b|: the executor's div_round(a·2^shift, b).
            let a = ctx.wires(&broadcast::broadcast_to(x, &out_shape).map_err(kerr)?)?;
            let b = ctx.wires(&broadcast::broadcast_to(&ins[1], &out_shape).map_err(kerr)?)?;
            let mut out = Vec::with_capacity(a.len());
            for (aw, bw) in a.iter().zip(&b) {
                let d = ctx.lay.lookup(bw, &FnKind::Abs)?;
                let sg = ctx.lay.lookup(bw, &FnKind::Sign)?;
                let n = ctx.lay.arith(&[ArithOp { a: Some(sg), b: Some(aw.clone()), cm: 1i64 << shift, ..Default::default() }])?.remove(0);
                out.push(ctx.lay.vdiv(&n, &d)?);
            }
            one(from_vec(&out_shape, out))
        }
        QOp::Softmax { axis, flatten, in_scale, out_scale, .. } | QOp::LogSoftmax { axis, flatten, in_scale, out_scale } => {
            let soft = matches!(node.op, QOp::Softmax { .. });
            let reduce = match &node.op {
                QOp::Softmax { reduce, .. } => *reduce,
                _ => None,
            };
            let flat = ctx.wires(x)?;
            let groups = lane_groups(x.shape(), *axis, *flatten);
            let exp = FnKind::Act { act: zkinfer_onnx::activation::Activation::Exp, in_scale: *in_scale, out_scale: *out_scale, reduce };
            let mut out: Vec<Option<Wire>> = vec![None; flat.len()];
            let gw = ctx.grouped(x, groups.iter())?;
            let maxes = ctx.group_max(&gw)?;
            for (g, m) in groups.iter().zip(maxes) {
                let diffs: Vec<ArithOp> = g.iter().map(|&i| ArithOp { a: Some(flat[i].clone()), b: Some(m.clone()), cl: 1, cr: -1, ..Default::default() }).collect();
                let d = ctx.lay.arith(&diffs)?;
                let mut e = Vec::with_capacity(d.len());
                for w in &d {
                    e.push(ctx.lay.lookup(w, &exp)?);
                }
                let terms: Vec<(Wire, Elem)> = e.iter().map(|w| (w.clone(), Elem::K(1))).collect();
                let sum = ctx.lay.dot(&terms, &Elem::K(0))?;
                ctx.lay.range_check(&sum)?;
                if soft {
                    let scaled: Vec<ArithOp> = e.iter().map(|w| ArithOp { a: Some(w.clone()), cl: 1i64 << out_scale, ..Default::default() }).collect();
                    let scaled = ctx.lay.arith(&scaled)?;
                    for (&i, n) in g.iter().zip(&scaled) {
                        out[i] = Some(ctx.lay.vdiv(n, &sum)?);
                    }
                } else {
                    let ln = FnKind::Act { act: zkinfer_onnx::activation::Activation::Ln, in_scale: *out_scale, out_scale: *out_scale, reduce: None };
                    let l = ctx.lay.lookup(&sum, &ln)?;
                    for (&i, dw) in g.iter().zip(&d) {
                        let aligned = if in_scale > out_scale {
                            ctx.lay.div(dw, 1i64 << (in_scale - out_scale))?
                        } else {
                            ctx.lay.arith(&[ArithOp { a: Some(dw.clone()), cl: 1i64 << (out_scale - in_scale), ..Default::default() }])?.remove(0)
                        };
                        out[i] = Some(ctx.lay.arith(&[ArithOp { a: Some(aligned), b: Some(l.clone()), cl: 1, cr: -1, ..Default::default() }])?.remove(0));
                    }
                }
            }
            one(from_vec(x.shape(), out.into_iter().map(|w| w.expect("every element in one lane")).collect()))
        }
        QOp::ArgMax { axis, keepdims, select_last_index } => {
            let groups = reduce::reduce(&indices(x.shape()), &[*axis], *keepdims, |v| v.to_vec()).map_err(kerr)?;
            let gw = ctx.grouped(x, groups.iter())?;
            let maxes = ctx.group_max(&gw)?;
            let mut out = Vec::with_capacity(gw.len());
            for (g, m) in gw.iter().zip(maxes) {
                // z_j = [m == x_j]; f_j = z_j · p_j keeps the first hit (p_0 = 1, p_{j+1} = p_j − f_j);
                // the index is Σ j·f_j. select_last_index scans from the end.
                let order: Vec<usize> = if *select_last_index { (0..g.len()).rev().collect() } else { (0..g.len()).collect() };
                let mut terms = Vec::with_capacity(g.len());
                let mut p: Option<Wire> = None;
                for &j in &order {
                    let d = ctx.lay.arith(&[ArithOp { a: Some(m.clone()), b: Some(g[j].clone()), cl: 1, cr: -1, ..Default::default() }])?.remove(0);
                    let z = ctx.lay.lookup(&d, &FnKind::IsZero)?;
                    let (f, next) = match &p {
                        None => {
                            let next = ctx.lay.arith(&[ArithOp { a: Some(z.clone()), cl: -1, ck: 1, ..Default::default() }])?.remove(0);
                            (z, next)
                        }
                        Some(pw) => {
                            let f = ctx.lay.arith(&[ArithOp { a: Some(z), b: Some(pw.clone()), cm: 1, ..Default::default() }])?.remove(0);
                            let next = ctx.lay.arith(&[ArithOp { a: Some(pw.clone()), b: Some(f.clone()), cl: 1, cr: -1, ..Default::default() }])?.remove(0);
                            (f, next)
                        }
                    };
                    p = Some(next);
                    terms.push((f, Elem::K(j as i64)));
                }
                out.push(ctx.lay.dot(&terms, &Elem::K(0))?);
            }
            one(from_vec(groups.shape(), out))
        }
    }
}
