//! Calibration: from sample inputs, choose `input_scale` / `param_scale`, the lookup range,
//! `logrows` and the layout (lanes, limbs, table sizes), for a target of `resources` (cheapest
//! circuit meeting a fidelity bar) or `accuracy` (smallest error within a row budget), and report
//! fidelity per output.
//!
//! Layouts are ranked by estimated proving cost ([`prove_cost`]: rows times a weighted count of
//! columns), trying each of [`LANES`] lanes: more lanes pack more products per row (fewer
//! rows) but add columns. `resources` prefers candidates with at most [`MAX_EVM_INSTANCES`]
//! public instances, whose generated EVM verifier fits mainnet's contract size limit.
//!
//! Candidates use equal input and param scales `s` in `1..=MAX_SCALE`. For each, every sample is
//! run through the integer executor (recording, not enforcing, ranges) and compared with the float
//! executor. The lookup range is the smallest symmetric power of two covering 1.25x the largest
//! range-checked magnitude seen; logrows follows from the row estimate and the table size.
//!
//! Fidelity bar for `resources` at tolerance `t` (default [`DEFAULT_TOLERANCE`], 1%): on every
//! sample the argmax of each output with more than one element agrees with the float model, and
//! each output's max abs error is at most `t` times that output's largest float magnitude (or `t`
//! itself when that is below 1).
//!
//! Range checks by limbs: for a graph whose only lookups are range checks and ReLU (no function
//! tables over the lookup range), each candidate is also costed with its range checks decomposed
//! into `k`-bit limbs (settings `range_bits`), whose tables do not grow with the scale; the
//! cheaper of the two layouts is the candidate's.
//!
//! Reduced function tables: for a graph whose only lookup-range tables are activations
//! ([`QOp::Lookup`]), each scale is also tried with limbs and function tables of at most
//! `2^T` rows (settings `table_bits`, see `rules::reduction`) for the largest `T` at each
//! estimated logrows; these candidates are re-quantized and measured at their own `T`, since the
//! reduction changes the outputs.

use super::exec::{self, RangeMode};
use super::{quantize, QGraph, QOp, QuantParams};
use crate::data::Sample;
use crate::error::{Error, Result};
use crate::float_exec;
use crate::ir::Graph;
use crate::settings::RunArgs;
use serde::{Deserialize, Serialize};

/// Largest scale calibration tries.
pub const MAX_SCALE: u32 = 13;
/// Default fidelity tolerance of `resources`: each output within 1% of its largest magnitude.
pub const DEFAULT_TOLERANCE: f64 = 0.01;
/// Limb widths calibration considers.
pub const LIMB_BITS: std::ops::RangeInclusive<u32> = 6..=20;
/// Function-table sizes (`table_bits`) calibration considers.
pub const TABLE_BITS: std::ops::RangeInclusive<u32> = 8..=20;
/// Largest logrows calibration chooses without a warning.
pub const MAX_LOGROWS: u32 = 22;
/// Largest logrows calibration chooses at all: the largest BN254 KZG ceremony SRS (2^26 rows).
/// Above [`MAX_LOGROWS`] it warns with an estimate of the prover's memory.
pub const MAX_LOGROWS_SRS: u32 = 26;

/// Rough peak prover memory at `logrows`, in GiB: about 4 KiB per row with one lane, from the
/// README's EZKL comparison (2^13 rows: 36 MB, 2^14: 58 MB peak RSS; more lanes use more).
pub fn prover_memory_gib(logrows: u32) -> f64 {
    (1u64 << logrows) as f64 * 4.0 * 1024.0 / (1u64 << 30) as f64
}
/// Rows reserved for blinding and the circuit's own bookkeeping.
const RESERVED_ROWS: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Resources,
    Accuracy,
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "resources" => Ok(Target::Resources),
            "accuracy" => Ok(Target::Accuracy),
            o => Err(format!("unknown calibration target `{o}` (resources, accuracy)")),
        }
    }
}

/// Float vs dequantized integer outputs, for one model output over all samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputFidelity {
    pub name: String,
    pub max_abs_error: f64,
    pub mean_abs_error: f64,
    /// Largest |float output| seen (to read the errors against).
    pub max_abs_float: f64,
    /// Fraction of decisive samples whose argmax (over the whole output) agrees; a sample is
    /// decisive when the float output's top two values differ by more than two quantization steps.
    /// Absent for 1-element outputs or when no sample is decisive.
    pub argmax_agreement: Option<f64>,
}

/// One calibration candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub scale: u32,
    pub logrows: u32,
    pub lookup_bits: u32,
    /// Limb width of its range checks (0: one table over the lookup range).
    #[serde(default)]
    pub range_bits: u32,
    /// Largest function table as `2^table_bits` rows (0: tables span the lookup range).
    #[serde(default)]
    pub table_bits: u32,
    /// Lanes (settings `num_inner_cols`) of its layout.
    #[serde(default)]
    pub lanes: usize,
    /// Estimated proving cost ([`prove_cost`]).
    #[serde(default)]
    pub cost: f64,
    /// Public instances (packed public values, hashes, the binding): what sizes the verifier.
    #[serde(default)]
    pub instances: usize,
    pub relative_error: f64,
    pub meets_fidelity_bar: bool,
}

/// What calibration chose and why; stored in settings.json.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    pub target: Target,
    /// The fidelity tolerance `resources` kept (fraction of each output's largest magnitude).
    #[serde(default)]
    pub tolerance: f64,
    pub samples: usize,
    pub max_abs_range_checked: i64,
    pub fidelity: Vec<OutputFidelity>,
    pub candidates: Vec<Candidate>,
}

/// Estimated circuit rows for a quantized graph (cost model; the circuit crate's layout refines it):
/// products cost one cell each, packed `num_inner_cols` per row; every other computed element
/// costs one row (elementwise chips work on lane 0); data movement is free (copy constraints).
pub fn estimate_rows(q: &QGraph, num_inner_cols: usize) -> usize {
    let (macs, rows) = estimate_parts(q);
    macs.div_ceil(num_inner_cols.max(1)) + rows
}

/// [`estimate_rows`] in two parts: products (packed by lanes) and other elements (one row each,
/// mostly range checks and lookups).
pub fn estimate_parts(q: &QGraph) -> (usize, usize) {
    let (mut macs, mut rows) = (0usize, 0usize);
    let numel = |id: usize| q.values[id].shape.iter().product::<usize>();
    for n in &q.nodes {
        let out: usize = n.outputs.iter().map(|&o| numel(o)).sum();
        let in0 = match n.inputs[0] {
            crate::ir::Operand::Value(v) => numel(v),
            crate::ir::Operand::Const(c) => q.consts[c].data.len(),
        };
        let (m, r) = match &n.op {
            QOp::MatMul => {
                let k = match n.inputs[0] {
                    crate::ir::Operand::Value(v) => *q.values[v].shape.last().unwrap_or(&1),
                    crate::ir::Operand::Const(c) => *q.consts[c].data.shape().last().unwrap_or(&1),
                };
                (out * k, out)
            }
            QOp::Conv { window, group } => {
                let cin = match n.inputs[0] {
                    crate::ir::Operand::Value(v) => q.values[v].shape[1],
                    crate::ir::Operand::Const(c) => q.consts[c].data.shape()[1],
                };
                (out * (cin / group) * window.kernel.iter().product::<usize>(), out)
            }
            QOp::ConvTranspose { window, group } => {
                let cout = q.values[n.outputs[0]].shape[1];
                (in0 * (cout / group) * window.kernel.iter().product::<usize>(), out)
            }
            QOp::MaxPool { window } => (0, out * window.kernel.iter().product::<usize>() + out),
            QOp::AveragePool { window, .. } => (out * window.kernel.iter().product::<usize>(), out),
            QOp::ReduceSum { .. } | QOp::ReduceMean { .. } => (in0, out),
            QOp::ReduceMax { .. } | QOp::ArgMax { .. } => (0, in0 + out),
            QOp::Softmax { .. } | QOp::LogSoftmax { .. } => (in0, 3 * in0),
            QOp::Reshape { .. } | QOp::Transpose { .. } | QOp::Concat { .. } | QOp::Split { .. } | QOp::Slice { .. } | QOp::Gather { .. } | QOp::Tile { .. } | QOp::Expand { .. } | QOp::Pad { .. } => (0, 0),
            QOp::Compare(_) => (0, 2 * out),
            QOp::Tree(t) => {
                // Per sample: a difference and a sign per comparison, two cells per branch, a
                // dot term per leaf weight.
                let samples = in0 / t.features.max(1);
                let branches: usize = t.trees.iter().flatten().filter(|n| matches!(n, crate::ops::tree::QTreeNode::Branch { .. })).count();
                let weights: usize = t.trees.iter().flatten().map(|n| if let crate::ops::tree::QTreeNode::Leaf { weights } = n { weights.len() } else { 0 }).sum();
                (samples * weights, samples * (2 * t.comparisons().len() + 2 * branches))
            }
            _ => (0, out),
        };
        macs += m;
        rows += r;
    }
    (macs, rows)
}

/// Comparison-family ops whose tables span the lookup range (is-zero, sign); the others take
/// their sign bits from limbs.
fn full_range_compare(op: &QOp) -> bool {
    use crate::ops::compare::CompareOp::{Equal, Sign};
    matches!(op, QOp::Compare(Equal | Sign))
}

/// Whether the graph needs a function table over the whole lookup range (activations, softmax,
/// abs, clip, runtime division, argmax): then limbs cannot shrink its tables.
pub fn needs_range_tables(q: &QGraph) -> bool {
    q.nodes.iter().any(|n| {
        matches!(n.op, QOp::Lookup { .. } | QOp::Softmax { .. } | QOp::LogSoftmax { .. } | QOp::Abs | QOp::Clip { .. } | QOp::Div { .. } | QOp::ArgMax { .. })
            || full_range_compare(&n.op)
    })
}

/// Public instances up to which a one-lane verifier stays under mainnet's 24,576-byte contract
/// limit (EIP-170): the generated verifier grows by about 190 bytes per instance (`ops_conv`:
/// 22,580 bytes at 66 instances, 27,633 at 92). `resources` prefers candidates within it.
pub const MAX_EVM_INSTANCES: usize = 72;

/// Public instances of a graph's public values packed at lookup range `[-2^bits, 2^bits)`: per
/// public tensor `ceil(n / floor(252 / (bits + 1)))` field elements, one per hashed tensor (all
/// params hash to one), and the binding.
pub fn public_instances(g: &Graph, q: &QGraph, base: &RunArgs, bits: u32) -> usize {
    use crate::settings::Visibility::{Hashed, Public};
    let per = (252 / (bits + 1)).max(1) as usize;
    let numel = |shape: &[usize]| shape.iter().product::<usize>();
    let count = |vis, shapes: Vec<usize>| match vis {
        Public => shapes.iter().map(|n| n.div_ceil(per)).sum(),
        Hashed => shapes.len(),
        _ => 0,
    };
    let ins = g.inputs.iter().map(|&i| numel(&g.values[i].shape)).collect();
    let outs = g.outputs.iter().map(|&i| numel(&g.values[i].shape)).collect();
    let params = match base.param_visibility {
        Hashed => 1,
        Public => q.consts.iter().map(|c| c.data.len().div_ceil(per)).sum(),
        _ => 0,
    };
    count(base.input_visibility, ins) + count(base.output_visibility, outs) + params + 1
}

/// Lane counts calibration considers.
pub const LANES: [usize; 5] = [1, 2, 4, 8, 16];

/// The columns of a layout as the cost model counts them ([`prove_cost`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayoutColumns {
    /// Advice columns (each with a permutation column: every one takes copies).
    pub advice: usize,
    /// Fixed columns, compressed selectors included.
    pub fixed: usize,
    /// Lookup arguments.
    pub lookups: usize,
}

/// Columns of a layout with `lanes` lanes: advice `a` per lane, `b` on lane 0 only when the
/// weights are fixed (else per lane), the output, three Poseidon squares, `G − 1` accumulators
/// of dot groups; fixed `cl`, `cr`, `ck` per lane, the lookup tag, three table columns, about two
/// selector columns, the second slot's tag (limbs, two lanes or more) and `(G − 1)·(lanes + 1)`
/// for dot groups; one lookup argument, two with a second limb slot.
pub fn layout_columns(lanes: usize, fixed_params: bool, poseidon: bool, limbs: bool, groups: u32) -> LayoutColumns {
    let g = groups.max(1) as usize - 1;
    let second_slot = limbs && lanes >= 2;
    LayoutColumns {
        advice: lanes + if fixed_params { 1 } else { lanes } + 1 + if poseidon { 3 } else { 0 } + g,
        fixed: 2 + lanes + 1 + 3 + 2 + second_slot as usize + g * (lanes + 1),
        lookups: 1 + second_slot as usize,
    }
}

/// Estimated proving cost of `2^logrows` rows with these columns, in units of one advice column
/// of `2^logrows` rows: `2^logrows·(6 + advice + 0.07·fixed + 0.6·lookups)`. halo2-axiom's prover
/// is dominated by work per column and row (commitments, the permutation products, and the
/// quotient's evaluation on the 4x extended domain, where each fixed column costs an FFT too);
/// an advice column with its permutation column costs about 0.9 s per 2^16 rows here. Fitted on
/// release proofs of LeNet (scale 13, 9-bit limbs): 8 lanes at 2^17 (one limb slot) 28 s; at
/// 2^16 with 8 lanes and dot groups of 8 24.2 s, of 2 (two limb slots) 16.1 s, and 16 lanes
/// without groups 22.3 s. It ranks layouts; it is not a clock.
pub fn prove_cost(logrows: u32, c: &LayoutColumns) -> f64 {
    (logrows as f64).exp2() * (6.0 + c.advice as f64 + 0.07 * c.fixed as f64 + 0.6 * c.lookups as f64)
}

/// Dot-group sizes the calibrator tries (settings `dot_groups`).
pub const DOT_GROUPS: [u32; 3] = [2, 4, 8];

/// Up to this `logrows` one lane is preferred whatever more lanes would save: proving stays
/// within a few seconds, and the verifier is cheaper (fewer commitments, ~6,500 EVM gas each)
/// and smaller (every extra lane adds columns to the generated contract: `ops_conv`, 66 public
/// values, needs 29.7 kB with two lanes at 2^14, over mainnet's 24,576-byte limit, and fits
/// with one lane at 2^15).
pub const ONE_LANE_LOGROWS: u32 = 15;

/// The cheapest `(logrows, range_bits, lanes, cost)` over [`LANES`] for a layout function
/// `lanes -> (logrows, range_bits)`; ties keep fewer lanes, and one lane is taken when it fits
/// [`ONE_LANE_LOGROWS`].
fn cheapest(base: &RunArgs, layout: impl Fn(usize) -> (u32, u32)) -> (u32, u32, usize, f64) {
    use crate::settings::Visibility::{Fixed, Hashed};
    let fixed = base.param_visibility == Fixed;
    let poseidon = [base.input_visibility, base.param_visibility, base.output_visibility].contains(&Hashed);
    let mut best = (0, 0, 0, f64::INFINITY);
    for lanes in LANES {
        let (logrows, k) = layout(lanes);
        let cost = prove_cost(logrows, &layout_columns(lanes, fixed, poseidon, k > 0, 1));
        if lanes == 1 && logrows <= ONE_LANE_LOGROWS {
            return (logrows, k, lanes, cost);
        }
        if cost < best.3 {
            best = (logrows, k, lanes, cost);
        }
    }
    best
}

/// Elements of the graph's activation lookups (softmax's exp included) and the number of
/// distinct tables they use.
pub fn lookup_parts(q: &QGraph) -> (usize, usize) {
    let mut tables: Vec<(String, u32, u32)> = Vec::new();
    let mut elems = 0;
    for n in &q.nodes {
        let (act, in_scale, out_scale) = match &n.op {
            QOp::Lookup { act, in_scale, out_scale, .. } => (*act, in_scale, out_scale),
            QOp::Softmax { in_scale, out_scale, .. } => (crate::activation::Activation::Exp, in_scale, out_scale),
            _ => continue,
        };
        elems += n.outputs.iter().map(|&o| q.values[o].shape.iter().product::<usize>()).sum::<usize>();
        let key = (format!("{act:?}"), *in_scale, *out_scale);
        if !tables.contains(&key) {
            tables.push(key);
        }
    }
    (elems, tables.len())
}

/// Whether a graph's only tables over the lookup range are activation lookups and softmax's exp
/// (which `table_bits` reduces; softmax's division by its runtime sum uses limbs), and it has at
/// least one.
pub fn only_activation_tables(q: &QGraph) -> bool {
    q.nodes.iter().any(|n| matches!(n.op, QOp::Lookup { .. } | QOp::Softmax { .. }))
        && !q.nodes.iter().any(|n| matches!(n.op, QOp::LogSoftmax { .. } | QOp::Abs | QOp::Clip { .. } | QOp::Div { .. } | QOp::ArgMax { .. }) || full_range_compare(&n.op))
}

/// The best `(logrows, range_bits)` with limbs and reduced function tables of `2^table_bits`
/// rows, for `(macs, other)` estimated rows of which `lookups` are activation elements using
/// `fn_tables` tables: a reduced element costs about `3L + 9 + ceil((bits + 2 − T) / k)` rows
/// (`L = ceil((bits + 1) / k)`: its range check, rescale, two clamping ReLUs and table row).
pub fn best_layout_reduced(macs: usize, other: usize, lookups: usize, fn_tables: usize, bits: u32, num_inner_cols: usize, table_bits: u32) -> (u32, u32) {
    let mac_rows = macs.div_ceil(num_inner_cols.max(1));
    let mut best = (u32::MAX, 0);
    for k in LIMB_BITS.filter(|&k| k <= bits) {
        let l = slot_rows((bits + 1).div_ceil(k) as usize, num_inner_cols);
        let shift_rows = slot_rows((bits + 2).saturating_sub(table_bits).div_ceil(k) as usize, num_inner_cols);
        let rows = mac_rows + other.saturating_sub(lookups) * (1 + l) + lookups * (3 * l + 9 + shift_rows);
        let tables = (1usize << (k + 1)) + fn_tables * (1usize << table_bits);
        let need = rows.max(tables) + RESERVED_ROWS;
        let logrows = (usize::BITS - (need - 1).leading_zeros()).max(4);
        if logrows < best.0 {
            best = (logrows, k);
        }
    }
    best
}

/// The best `(logrows, range_bits)` for a graph of `(macs, other)` estimated rows with a lookup
/// range of `bits` (symmetric, `2^(bits+1)` values): one table over the range, or limbs of `k`
/// bits (each other row then costs about `1 + ceil((bits + 1) / k)` rows: a rescale's quotient and
/// remainder limbs, a ReLU's product row; tables about
/// `2^(k+1)`). Ties keep the single table.
pub fn best_layout(macs: usize, other: usize, bits: u32, num_inner_cols: usize, limbs_allowed: bool) -> (u32, u32) {
    let mac_rows = macs.div_ceil(num_inner_cols.max(1));
    let mut best = (logrows_for(mac_rows + other, bits), 0);
    if limbs_allowed {
        for k in LIMB_BITS.filter(|&k| k <= bits) {
            let rows = mac_rows + other * (1 + slot_rows((bits + 1).div_ceil(k) as usize, num_inner_cols));
            let need = rows.max(1usize << (k + 1)) + RESERVED_ROWS;
            let logrows = (usize::BITS - (need - 1).leading_zeros()).max(4);
            if logrows < best.0 {
                best = (logrows, k);
            }
        }
    }
    best
}

/// Rows of `limbs` limbs: two per row with a second limb slot (two lanes or more).
fn slot_rows(limbs: usize, lanes: usize) -> usize {
    if lanes >= 2 { limbs.div_ceil(2) } else { limbs }
}

/// Bits `b` of the symmetric lookup range `[-2^b, 2^b - 1]` covering 1.25x `max_abs`.
pub fn lookup_bits(max_abs: i64) -> u32 {
    let need = (max_abs as f64 * 1.25).ceil() as u64 + 1;
    (64 - need.leading_zeros()).max(4)
}

/// Smallest `b` with `[lo, hi]` inside `[-2^b, 2^b - 1]`.
pub fn range_bits(lo: i64, hi: i64) -> u32 {
    let m = lo.unsigned_abs().max(hi.unsigned_abs() + 1);
    64 - (m - 1).leading_zeros()
}

/// logrows for `rows` circuit rows and a lookup table over `2^(bits+1)` values.
pub fn logrows_for(rows: usize, bits: u32) -> u32 {
    let need = rows.max(1usize << (bits + 1)) + RESERVED_ROWS;
    (usize::BITS - (need - 1).leading_zeros()).max(4)
}

fn relative_error(f: &[OutputFidelity]) -> f64 {
    f.iter().map(|o| o.max_abs_error / o.max_abs_float.max(1e-6)).fold(0.0, f64::max)
}

fn meets_bar(f: &[OutputFidelity], tolerance: f64) -> bool {
    f.iter().all(|o| o.argmax_agreement.is_none_or(|a| a >= 1.0) && o.max_abs_error <= tolerance * o.max_abs_float.max(1.0))
}

/// Compare float and quantized outputs over samples.
pub fn fidelity(g: &Graph, q: &QGraph, samples: &[Sample], mode: RangeMode) -> Result<(Vec<OutputFidelity>, i64)> {
    let n_out = g.outputs.len();
    let mut max_err = vec![0.0f64; n_out];
    let mut sum_err = vec![0.0f64; n_out];
    let mut count = vec![0usize; n_out];
    let mut max_float = vec![0.0f64; n_out];
    let mut agree = vec![0usize; n_out];
    let mut decisive = vec![0usize; n_out];
    let mut max_checked = 0;
    for s in samples {
        let fl = float_exec::run(g, s)?;
        let qi = exec::quantize_inputs(q, s)?;
        let ex = exec::run(q, &qi, mode)?;
        max_checked = max_checked.max(ex.max_abs_checked);
        let deq = exec::dequantize_outputs(q, &ex.outputs);
        for o in 0..n_out {
            let a = fl[o].to_f64_vec();
            let b: Vec<f64> = deq[o].iter().copied().collect();
            for (x, y) in a.iter().zip(&b) {
                let e = (x - y).abs();
                max_err[o] = max_err[o].max(e);
                sum_err[o] += e;
                max_float[o] = max_float[o].max(x.abs());
            }
            count[o] += a.len();
            let step = 2.0 * (-(q.values[q.outputs[o]].scale as f64)).exp2();
            if top2_gap(&a) > step {
                decisive[o] += 1;
                if argmax(&a) == argmax(&b) {
                    agree[o] += 1;
                }
            }
        }
    }
    let out = (0..n_out)
        .map(|o| OutputFidelity {
            name: g.values[g.outputs[o]].name.clone(),
            max_abs_error: max_err[o],
            mean_abs_error: sum_err[o] / count[o].max(1) as f64,
            max_abs_float: max_float[o],
            argmax_agreement: (g.values[g.outputs[o]].shape.iter().product::<usize>() > 1 && decisive[o] > 0).then(|| agree[o] as f64 / decisive[o] as f64),
        })
        .collect();
    Ok((out, max_checked))
}

/// Difference between the largest and second largest values (infinite for fewer than two).
fn top2_gap(v: &[f64]) -> f64 {
    let (mut a, mut b) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &x in v {
        if x > a {
            b = a;
            a = x;
        } else if x > b {
            b = x;
        }
    }
    a - b
}

/// Index of the first maximum.
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Calibrate `base` (visibilities are kept; lanes are chosen, [`LANES`]) for `g` on `samples`, at the
/// default tolerance.
pub fn calibrate(g: &Graph, samples: &[Sample], target: Target, base: &RunArgs) -> Result<(RunArgs, CalibrationReport)> {
    calibrate_with(g, samples, target, base, DEFAULT_TOLERANCE, MAX_SCALE)
}

/// [`calibrate`] keeping every output within `tolerance` (a fraction of its largest magnitude)
/// for `resources`, trying scales `1..=max_scale` (at most 24).
pub fn calibrate_with(g: &Graph, samples: &[Sample], target: Target, base: &RunArgs, tolerance: f64, max_scale: u32) -> Result<(RunArgs, CalibrationReport)> {
    if !(1..=24).contains(&max_scale) {
        return Err(Error::Format(format!("max scale {max_scale} must lie between 1 and 24")));
    }
    if !(tolerance > 0.0 && tolerance < 1.0) {
        return Err(Error::Format(format!("tolerance {tolerance} must lie strictly between 0 and 1 (a fraction, e.g. 0.01 for 1%)")));
    }
    if samples.is_empty() {
        return Err(Error::Format("calibration needs at least one sample".into()));
    }
    let mut cands: Vec<(Candidate, RunArgs, Vec<OutputFidelity>, i64)> = Vec::new();
    let mut last_err = None;
    for s in 1..=max_scale {
        let probe = QuantParams { input_scale: s, param_scale: s, lookup_range: (i64::MIN, i64::MAX), table_bits: 0 };
        let q = match quantize(g, &probe) {
            Ok(q) => q,
            Err(e) => {
                last_err = Some(e);
                continue;
            }
        };
        let (fid, max_checked) = match fidelity(g, &q, samples, RangeMode::Record) {
            Ok(r) => r,
            Err(e @ Error::Arithmetic { .. }) => {
                last_err = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        let bits = lookup_bits(max_checked);
        let (macs, other) = estimate_parts(&q);
        let limbs = !needs_range_tables(&q);
        let (logrows, range_bits, lanes, cost) = cheapest(base, |l| best_layout(macs, other, bits, l, limbs));
        let range = (-(1i64 << bits), (1i64 << bits) - 1);
        let ra = RunArgs { input_scale: s, param_scale: s, lookup_range: range, logrows, range_bits, table_bits: 0, num_inner_cols: lanes, ..base.clone() };
        let instances = public_instances(g, &q, base, bits);
        let cand = Candidate { scale: s, logrows, lookup_bits: bits, range_bits, table_bits: 0, lanes, cost, instances, relative_error: relative_error(&fid), meets_fidelity_bar: meets_bar(&fid, tolerance) };
        cands.push((cand, ra.clone(), fid, max_checked));
        if only_activation_tables(&q) {
            let (lookups, fn_tables) = lookup_parts(&q);
            // The largest T at each estimated logrows below the plain layout's.
            let mut per_logrows: Vec<(u32, u32, usize, f64, u32)> = Vec::new();
            for t in TABLE_BITS.filter(|&t| t <= bits) {
                let (lr, k, l, c) = cheapest(base, |l| best_layout_reduced(macs, other, lookups, fn_tables, bits, l, t));
                if c >= cost {
                    continue;
                }
                match per_logrows.iter_mut().find(|c| c.0 == lr) {
                    Some(e) => *e = (lr, k, l, c, t),
                    None => per_logrows.push((lr, k, l, c, t)),
                }
            }
            for (lr, k, l, c, t) in per_logrows {
                let ra = RunArgs { logrows: lr, range_bits: k, table_bits: t, num_inner_cols: l, ..ra.clone() };
                let qt = quantize(g, &ra.quant_params())?;
                let (fid, mc) = match fidelity(g, &qt, samples, RangeMode::Record) {
                    Ok(r) => r,
                    Err(e @ Error::Arithmetic { .. }) => {
                        last_err = Some(e);
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                if lookup_bits(mc) > bits {
                    // The reduction moved later values out of the range it was made for.
                    continue;
                }
                let cand = Candidate { scale: s, logrows: lr, lookup_bits: bits, range_bits: k, table_bits: t, lanes: l, cost: c, instances, relative_error: relative_error(&fid), meets_fidelity_bar: meets_bar(&fid, tolerance) };
                cands.push((cand, ra, fid, mc.max(max_checked)));
            }
        }
    }
    let fits = |limit: u32| -> Vec<usize> { (0..cands.len()).filter(|&i| cands[i].0.logrows <= limit).collect() };
    let mut within = fits(MAX_LOGROWS);
    if within.is_empty() {
        within = fits(MAX_LOGROWS_SRS);
        if let Some(lr) = within.iter().map(|&i| cands[i].0.logrows).min() {
            tracing::warn!(
                "no calibration fits 2^{MAX_LOGROWS} rows; the smallest needs 2^{lr}: proving will take about {:.0} GiB of memory and many minutes per proof",
                prover_memory_gib(lr)
            );
        }
    }
    if within.is_empty() {
        return Err(match cands.iter().min_by_key(|c| c.0.logrows) {
            Some((c, ..)) => Error::Format(format!(
                "the smallest circuit calibration found needs 2^{} rows (scale {}, values up to 2^{} in magnitude, {}), more than the 2^{MAX_LOGROWS_SRS} rows of the largest BN254 ceremony SRS; \
                 re-scale the model inputs to a smaller range, try a lower `--max-scale`, or split the model",
                c.logrows,
                c.scale,
                c.lookup_bits,
                if c.range_bits > 0 { format!("range checks in {}-bit limbs", c.range_bits) } else { "one range table".to_string() },
            )),
            None => last_err.unwrap_or_else(|| Error::Format(format!("no scale in 1..={max_scale} quantizes the model"))),
        });
    }
    let by_accuracy = || {
        *within
            .iter()
            .min_by(|&&a, &&b| {
                let (ca, cb) = (&cands[a].0, &cands[b].0);
                ca.relative_error.total_cmp(&cb.relative_error).then(ca.cost.total_cmp(&cb.cost))
            })
            .unwrap()
    };
    let pick = match target {
        Target::Accuracy => by_accuracy(),
        Target::Resources => {
            // The cheapest candidate meeting the bar; among equally cheap ones the largest scale
            // (most precise). Candidates whose verifier fits the EVM's size limit come first.
            let mut ok: Vec<usize> = within.iter().copied().filter(|&i| cands[i].0.meets_fidelity_bar).collect();
            if ok.iter().any(|&i| cands[i].0.instances <= MAX_EVM_INSTANCES) {
                ok.retain(|&i| cands[i].0.instances <= MAX_EVM_INSTANCES);
            } else if !ok.is_empty() {
                tracing::warn!("every candidate has more than {MAX_EVM_INSTANCES} public instances: the EVM verifier will likely exceed 24,576 bytes; make large tensors `hashed`");
            }
            match ok.iter().min_by(|&&a, &&b| {
                let (ca, cb) = (&cands[a].0, &cands[b].0);
                ca.cost.total_cmp(&cb.cost).then(cb.scale.cmp(&ca.scale)).then(ca.relative_error.total_cmp(&cb.relative_error))
            }) {
                Some(&i) => i,
                None => {
                    tracing::warn!("no candidate meets the fidelity bar; choosing the most accurate");
                    by_accuracy()
                }
            }
        }
    };
    let (_, ra, fid, max_checked) = cands[pick].clone();
    let report = CalibrationReport {
        target,
        tolerance,
        samples: samples.len(),
        max_abs_range_checked: max_checked,
        fidelity: fid,
        candidates: cands.into_iter().map(|c| c.0).collect(),
    };
    Ok((ra, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_logrows() {
        assert_eq!(range_bits(-32768, 32767), 15);
        assert_eq!(range_bits(-32769, 0), 16);
        assert_eq!(lookup_bits(100), 7); // 126 <= 127
        assert_eq!(logrows_for(10, 15), 17); // table of 2^16 rows + reserved
        assert_eq!(logrows_for(100_000, 4), 17);
    }
}
