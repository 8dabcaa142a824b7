//! Recurrent layers: LSTM, GRU and RNN (forward, reverse and bidirectional; `layout` 0 and 1;
//! initial states as constants or model inputs; LSTM peepholes; GRU `linear_before_reset` 0 and
//! 1; `clip`; the activation functions ONNX lists for them).
//!
//! Shapes are static, so a layer is unrolled at import into the IR ops every later stage
//! already proves — nothing recurrent reaches the quantizer or the circuit. Per direction `d`:
//!
//! * once: `XW = X·W_dᵀ + b` for every time step (one `MatMul` of `[T, B, I]` by the constant
//!   `[I, G·H]`, `G` gates), with `b = Wb_d + Rb_d` (for GRU with `linear_before_reset`, the
//!   hidden gate's `Rb` stays inside the reset product);
//! * per step `t` (in order, or reversed): `x_t = XW[t]` (`Gather`), `H_{t−1}·R_dᵀ` (`MatMul`
//!   by a constant), `Split` into gates, `Clip` (with `clip`), the gate activations (lookups),
//!   and the state updates as elementwise `Mul`/`Add`/`Sub` of two activations:
//!   * LSTM (gates i, o, f, c): `i = f(x_i + h_i + P_i⊙C)`, `f = f(x_f + h_f + P_f⊙C)`,
//!     `c̃ = g(x_c + h_c)`, `C' = f⊙C + i⊙c̃`, `o = f(x_o + h_o + P_o⊙C')`, `H' = o⊙h(C')`;
//!   * GRU (gates z, r, h): `z = f(x_z + h_z)`, `r = f(x_r + h_r)`,
//!     `h̃ = g(x_h + (r⊙H)·R_hᵀ)` (or `g(x_h + r⊙(H·R_hᵀ + Rb_h))` with `linear_before_reset`),
//!     `H' = h̃ + z⊙(H − h̃)` (= `(1 − z)⊙h̃ + z⊙H`);
//!   * RNN: `H' = f(x + H·Rᵀ)`.
//!
//! A zero initial state (absent, or a constant of zeros) drops the terms it would multiply.
//! Outputs: `Y` is the states stacked (`Reshape` + `Concat`; `Transpose` for layout 1), `Y_h`
//! (and LSTM's `Y_c`) the last state of each direction. Cost: one `MatMul` of the input per
//! direction, then per step and direction one `[B, H]·[H, G·H]` product, `G·B·H` activation
//! lookups and a few elementwise products and sums of `B·H` elements.
//!
//! Refused by name: `sequence_lens` shorter than the sequence (padding), LSTM `input_forget`,
//! activations outside the list below.

use crate::error::Result;
use crate::import::lower::{Ctx, KnownIn, Lowered, Src, SubNode};
use crate::ir::Op;
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lstm,
    Gru,
    Rnn,
}

impl Kind {
    fn gates(self) -> usize {
        match self {
            Kind::Lstm => 4,
            Kind::Gru => 3,
            Kind::Rnn => 1,
        }
    }
    /// Activation functions per direction, and their defaults.
    fn default_activations(self) -> &'static [&'static str] {
        match self {
            Kind::Lstm => &["Sigmoid", "Tanh", "Tanh"],
            Kind::Gru => &["Sigmoid", "Tanh"],
            Kind::Rnn => &["Tanh"],
        }
    }
}

/// An activation function of a recurrent layer with its `activation_alpha` / `activation_beta`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Act {
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu(f32),
    ThresholdedRelu(f32),
    HardSigmoid(f32, f32),
    Elu(f32),
    Softsign,
    Softplus,
    /// `alpha · tanh(beta · x)`
    ScaledTanh(f32, f32),
    /// `alpha · x + beta`
    Affine(f32, f32),
}

/// Parse the `activations` list, consuming `activation_alpha` / `activation_beta` in order by the
/// functions that take them (as onnxruntime does), defaults where the lists run out.
fn activations(ctx: &Ctx, kind: Kind, dirs: usize) -> Result<Vec<Act>> {
    let a = &ctx.attrs;
    let names: Vec<String> = match a.strings("activations")? {
        Some(v) if !v.is_empty() => v,
        _ => kind.default_activations().iter().map(|s| s.to_string()).collect(),
    };
    let per = kind.default_activations().len();
    let names = if names.len() == per && dirs == 2 { [names.clone(), names].concat() } else { names };
    if names.len() != per * dirs {
        return Err(ctx.err(format!("{} activation functions given; {} needs {} per direction", names.len(), ctx.op, per)));
    }
    let alphas = a.floats("activation_alpha")?.unwrap_or_default();
    let betas = a.floats("activation_beta")?.unwrap_or_default();
    let (mut ai, mut bi) = (alphas.iter(), betas.iter());
    let mut alpha = |d: f32| ai.next().copied().unwrap_or(d);
    let mut out = Vec::with_capacity(names.len());
    for n in &names {
        let act = match n.to_ascii_lowercase().as_str() {
            "sigmoid" => Act::Sigmoid,
            "tanh" => Act::Tanh,
            "relu" => Act::Relu,
            "leakyrelu" => Act::LeakyRelu(alpha(0.01)),
            "thresholdedrelu" => Act::ThresholdedRelu(alpha(1.0)),
            "hardsigmoid" => {
                let al = alpha(0.2);
                Act::HardSigmoid(al, bi.next().copied().unwrap_or(0.5))
            }
            "elu" => Act::Elu(alpha(1.0)),
            "softsign" => Act::Softsign,
            "softplus" => Act::Softplus,
            "scaledtanh" => {
                let al = alpha(1.0);
                Act::ScaledTanh(al, bi.next().copied().unwrap_or(1.0))
            }
            "affine" => {
                let al = alpha(1.0);
                Act::Affine(al, bi.next().copied().unwrap_or(0.0))
            }
            _ => {
                return Err(ctx.unsupported(format!(
                    "activation `{n}` (Sigmoid, Tanh, Relu, LeakyRelu, ThresholdedRelu, HardSigmoid, Elu, Softsign, Softplus, ScaledTanh and Affine are supported)"
                )))
            }
        };
        out.push(act);
    }
    Ok(out)
}

fn scalar(v: f32) -> Tensor {
    Tensor::F32(ndarray::arr0(v).into_dyn())
}

fn tensor(a: ArrayD<f32>) -> Tensor {
    Tensor::F32(a.as_standard_layout().into_owned())
}

/// The sub-nodes of the unrolled layer.
struct Unroll {
    nodes: Vec<SubNode>,
    clip: Option<f32>,
}

impl Unroll {
    fn push(&mut self, op: Op, inputs: Vec<Src>) -> Src {
        self.nodes.push(SubNode { op, inputs });
        Src::Node(self.nodes.len() - 1, 0)
    }
    fn split(&mut self, x: Src, parts: usize, h: usize) -> Vec<Src> {
        self.push(Op::Split { axis: 1, sizes: vec![h; parts] }, vec![x]);
        let j = self.nodes.len() - 1;
        (0..parts).map(|k| Src::Node(j, k)).collect()
    }
    fn add(&mut self, a: Src, b: Option<Src>) -> Src {
        match b {
            Some(b) => self.push(Op::Add, vec![a, b]),
            None => a,
        }
    }
    fn mul(&mut self, a: Src, b: Src) -> Src {
        self.push(Op::Mul, vec![a, b])
    }
    /// `clip` (if any), then the activation.
    fn act(&mut self, act: Act, x: Src) -> Src {
        let x = match self.clip {
            Some(c) => self.push(Op::Clip { min: Some(-c), max: Some(c) }, vec![x]),
            None => x,
        };
        self.apply(act, x)
    }
    fn apply(&mut self, act: Act, x: Src) -> Src {
        use crate::activation::Activation as A;
        let op = match act {
            Act::Sigmoid => Op::Sigmoid,
            Act::Tanh => Op::Tanh,
            Act::Relu => Op::Relu,
            Act::LeakyRelu(alpha) => Op::LeakyRelu { alpha },
            Act::ThresholdedRelu(alpha) => Op::Unary(A::ThresholdedRelu { alpha }),
            Act::HardSigmoid(alpha, beta) => Op::Unary(A::HardSigmoid { alpha, beta }),
            Act::Elu(alpha) => Op::Elu { alpha },
            Act::Softsign => Op::Unary(A::Softsign),
            Act::Softplus => Op::Softplus,
            Act::ScaledTanh(alpha, beta) => {
                let s = self.mul(x, Src::Const(scalar(beta)));
                let t = self.push(Op::Tanh, vec![s]);
                return self.mul(t, Src::Const(scalar(alpha)));
            }
            Act::Affine(alpha, beta) => {
                let s = self.mul(x, Src::Const(scalar(alpha)));
                return self.push(Op::Add, vec![s, Src::Const(scalar(beta))]);
            }
        };
        self.push(op, vec![x])
    }
    /// `x · m` for a constant matrix `m`.
    fn matmul(&mut self, x: Src, m: ArrayD<f32>) -> Src {
        self.push(Op::MatMul, vec![x, Src::Const(tensor(m))])
    }
    /// Element `i` along `axis` (the axis removed).
    fn pick(&mut self, x: Src, axis: usize, i: usize) -> Src {
        self.push(Op::Gather { axis, indices: ndarray::arr0(i as i64).into_dyn() }, vec![x])
    }
    fn reshape(&mut self, x: Src, shape: Vec<usize>) -> Src {
        self.push(Op::Reshape { shape }, vec![x])
    }
    fn concat(&mut self, parts: Vec<Src>, axis: usize) -> Src {
        if parts.len() == 1 {
            return parts.into_iter().next().expect("one part");
        }
        self.push(Op::Concat { axis }, parts)
    }
    fn transpose(&mut self, x: Src, perm: Vec<usize>) -> Src {
        self.push(Op::Transpose { perm }, vec![x])
    }
}

/// A constant weight input of the given shape.
fn weight(ctx: &Ctx, i: usize, what: &str, dims: &[usize]) -> Result<ArrayD<f32>> {
    let t = ctx.const_input(i, what)?.ok_or_else(|| ctx.err(format!("missing input {i} ({what})")))?;
    if t.shape() != dims {
        return Err(ctx.err(format!("{what} has shape {:?}, expected {dims:?}", t.shape())));
    }
    Ok(t.to_f32())
}

/// Row `d` of a `[dirs, ..]` constant, transposed when 2-D: `W_d` → `W_dᵀ`.
fn dir_t(w: &ArrayD<f32>, d: usize) -> ArrayD<f32> {
    w.index_axis(Axis(0), d).t().as_standard_layout().into_owned()
}

/// An initial state input `[dirs, B, H]` (`[B, dirs, H]` with layout 1): `None` when absent or
/// a constant of zeros.
fn initial(ctx: &Ctx, i: usize, what: &str, dims: [usize; 3]) -> Result<Option<Src>> {
    match ctx.ins.get(i).and_then(|o| o.as_ref()) {
        None => Ok(None),
        Some(k) => {
            if k.shape() != dims {
                return Err(ctx.err(format!("{what} has shape {:?}, expected {dims:?}", k.shape())));
            }
            match k {
                KnownIn::Const(t) if t.to_f32().iter().all(|&v| v == 0.0) => Ok(None),
                _ => Ok(Some(Src::In(i))),
            }
        }
    }
}

/// Lower an LSTM, GRU or RNN node (`None`: not one of them).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let kind = match ctx.op {
        "LSTM" => Kind::Lstm,
        "GRU" => Kind::Gru,
        "RNN" => Kind::Rnn,
        _ => return Ok(None),
    };
    let a = &ctx.attrs;
    // Opsets 1–6: whether Y is produced; it is always computed (unused outputs are dropped).
    a.has("output_sequence");
    let dirs = match a.string("direction")?.as_deref().unwrap_or("forward") {
        "forward" | "reverse" => 1,
        "bidirectional" => 2,
        other => return Err(ctx.err(format!("direction `{other}` (forward, reverse or bidirectional)"))),
    };
    let reverse_only = a.string("direction")?.as_deref() == Some("reverse");
    let layout = a.int_or("layout", 0)?;
    if layout != 0 && layout != 1 {
        return Err(ctx.err(format!("layout {layout} (0 or 1)")));
    }
    let xs = ctx.shape(0)?;
    if xs.len() != 3 {
        return Err(ctx.err(format!("X must be 3-D, got shape {xs:?}")));
    }
    let (seq, batch, input) = if layout == 0 { (xs[0], xs[1], xs[2]) } else { (xs[1], xs[0], xs[2]) };
    let g = kind.gates();
    let ws = ctx.shape(1)?;
    let hidden = match a.int("hidden_size")? {
        Some(h) if h > 0 => h as usize,
        Some(h) => return Err(ctx.err(format!("hidden_size {h} must be positive"))),
        None if ws.len() == 3 && ws[1] % g == 0 => ws[1] / g,
        None => return Err(ctx.err(format!("W has shape {ws:?}; cannot infer hidden_size"))),
    };
    let h = hidden;
    if seq == 0 {
        return Err(ctx.unsupported("an empty sequence"));
    }
    let w = weight(ctx, 1, "W", &[dirs, g * h, input])?;
    let r = weight(ctx, 2, "R", &[dirs, g * h, h])?;
    let b = if ctx.has_input(3) { weight(ctx, 3, "B", &[dirs, 2 * g * h])? } else { ArrayD::zeros(IxDyn(&[dirs, 2 * g * h])) };
    if ctx.has_input(4) {
        let lens = ctx.const_ints(4, "sequence_lens")?.unwrap_or_default();
        if lens.len() != batch || lens.iter().any(|&l| l != seq as i64) {
            return Err(ctx.unsupported(format!("sequence_lens {lens:?}: only full-length sequences ({seq}) are supported (no padding)")));
        }
    }
    let state_dims = if layout == 0 { [dirs, batch, h] } else { [batch, dirs, h] };
    let h0 = initial(ctx, 5, "initial_h", state_dims)?;
    let c0 = if kind == Kind::Lstm { initial(ctx, 6, "initial_c", state_dims)? } else { None };
    let peep = if kind == Kind::Lstm && ctx.has_input(7) {
        let p = weight(ctx, 7, "P", &[dirs, 3 * h])?;
        if p.iter().all(|&v| v == 0.0) { None } else { Some(p) }
    } else {
        None
    };
    let lbr = kind == Kind::Gru && a.int_or("linear_before_reset", 0)? != 0;
    if kind == Kind::Lstm && a.int_or("input_forget", 0)? != 0 {
        return Err(ctx.unsupported("input_forget = 1 (coupled input and forget gates)"));
    }
    let clip = match a.float("clip")? {
        Some(c) if c > 0.0 && c.is_finite() => Some(c),
        Some(c) => return Err(ctx.err(format!("clip {c} must be positive"))),
        None => None,
    };
    let acts = activations(ctx, kind, dirs)?;
    let per = kind.default_activations().len();

    let mut u = Unroll { nodes: Vec::new(), clip };
    let x = if layout == 0 { Src::In(0) } else { u.transpose(Src::In(0), vec![1, 0, 2]) };
    // Per direction: the states after each step, indexed by time.
    let mut hs: Vec<Vec<Src>> = Vec::with_capacity(dirs);
    let mut last_h = Vec::with_capacity(dirs);
    let mut last_c = Vec::with_capacity(dirs);
    for d in 0..dirs {
        let act = &acts[d * per..(d + 1) * per];
        let backward = d == 1 || reverse_only;
        let bd = b.index_axis(Axis(0), d);
        let (wb, rb) = (bd.slice(ndarray::s![..g * h]).to_owned(), bd.slice(ndarray::s![g * h..]).to_owned());
        let mut bias = &wb + &rb;
        let rb_h = if kind == Kind::Gru { rb.slice(ndarray::s![2 * h..]).to_owned() } else { ndarray::Array1::zeros(0) };
        if lbr {
            bias.slice_mut(ndarray::s![2 * h..]).assign(&wb.slice(ndarray::s![2 * h..]));
        }
        let xw = u.matmul(x.clone(), dir_t(&w, d));
        let xw = u.push(Op::Add, vec![xw, Src::Const(tensor(bias.into_dyn()))]);
        let rt = dir_t(&r, d);
        let state_axis = if layout == 0 { 0 } else { 1 };
        let mut hp = h0.clone().map(|s| u.pick(s, state_axis, d));
        let mut cp = c0.clone().map(|s| u.pick(s, state_axis, d));
        let p = peep.as_ref().map(|p| {
            let row = p.index_axis(Axis(0), d);
            let part = |k: usize| tensor(row.slice(ndarray::s![k * h..(k + 1) * h]).to_owned().into_dyn());
            (part(0), part(1), part(2))
        });
        let mut out = vec![None; seq];
        let order: Vec<usize> = if backward { (0..seq).rev().collect() } else { (0..seq).collect() };
        for &t in &order {
            let xt = u.pick(xw.clone(), 0, t);
            let (hn, cn) = match kind {
                Kind::Lstm => {
                    let hr = hp.clone().map(|hv| u.matmul(hv, rt.clone()));
                    let pre = u.add(xt, hr);
                    let gs = u.split(pre, 4, h);
                    let (mut i, o, mut f, c) = (gs[0].clone(), gs[1].clone(), gs[2].clone(), gs[3].clone());
                    if let (Some((pi, _, pf)), Some(cv)) = (&p, &cp) {
                        let ti = u.mul(cv.clone(), Src::Const(pi.clone()));
                        i = u.add(i, Some(ti));
                        let tf = u.mul(cv.clone(), Src::Const(pf.clone()));
                        f = u.add(f, Some(tf));
                    }
                    let i = u.act(act[0], i);
                    let c = u.act(act[1], c);
                    let ic = u.mul(i, c);
                    let cn = match &cp {
                        Some(cv) => {
                            let f = u.act(act[0], f);
                            let fc = u.mul(f, cv.clone());
                            u.add(fc, Some(ic))
                        }
                        None => ic,
                    };
                    let mut o = o;
                    if let Some((_, po, _)) = &p {
                        let to = u.mul(cn.clone(), Src::Const(po.clone()));
                        o = u.add(o, Some(to));
                    }
                    let o = u.act(act[0], o);
                    let hc = u.apply(act[2], cn.clone());
                    (u.mul(o, hc), Some(cn))
                }
                Kind::Gru => {
                    let xg = u.split(xt, 3, h);
                    let (mut z, mut rg, mut hx) = (xg[0].clone(), xg[1].clone(), xg[2].clone());
                    let mut hh = None;
                    if let Some(hv) = &hp {
                        let m = if lbr { rt.clone() } else { rt.slice(ndarray::s![.., ..2 * h]).as_standard_layout().into_owned().into_dyn() };
                        let hr = u.matmul(hv.clone(), m);
                        let parts = u.split(hr, if lbr { 3 } else { 2 }, h);
                        z = u.add(z, Some(parts[0].clone()));
                        rg = u.add(rg, Some(parts[1].clone()));
                        if lbr {
                            hh = Some(parts[2].clone());
                        }
                    }
                    let z = u.act(act[0], z);
                    let rg = u.act(act[0], rg);
                    if lbr {
                        let rb_zero = rb_h.iter().all(|&v| v == 0.0);
                        let inner = match (hh, rb_zero) {
                            (Some(hh), true) => Some(hh),
                            (Some(hh), false) => Some(u.push(Op::Add, vec![hh, Src::Const(tensor(rb_h.clone().into_dyn()))])),
                            (None, false) => Some(Src::Const(tensor(rb_h.clone().into_dyn()))),
                            (None, true) => None,
                        };
                        if let Some(inner) = inner {
                            let ri = u.mul(rg, inner);
                            hx = u.add(hx, Some(ri));
                        }
                    } else if let Some(hv) = &hp {
                        let rh = u.mul(rg, hv.clone());
                        let m = rt.slice(ndarray::s![.., 2 * h..]).as_standard_layout().into_owned().into_dyn();
                        let t2 = u.matmul(rh, m);
                        hx = u.add(hx, Some(t2));
                    }
                    let ht = u.act(act[1], hx);
                    let hn = match &hp {
                        Some(hv) => {
                            let diff = u.push(Op::Sub, vec![hv.clone(), ht.clone()]);
                            let zd = u.mul(z, diff);
                            u.add(ht, Some(zd))
                        }
                        None => {
                            let zh = u.mul(z, ht.clone());
                            u.push(Op::Sub, vec![ht, zh])
                        }
                    };
                    (hn, None)
                }
                Kind::Rnn => {
                    let hr = hp.clone().map(|hv| u.matmul(hv, rt.clone()));
                    let pre = u.add(xt, hr);
                    (u.act(act[0], pre), None)
                }
            };
            out[t] = Some(hn.clone());
            hp = Some(hn);
            cp = cn;
        }
        hs.push(out.into_iter().map(|s| s.expect("every step ran")).collect());
        last_h.push(hp.expect("at least one step"));
        last_c.push(cp);
    }
    // Y: [T, dirs, B, H] (layout 1: [B, T, dirs, H]).
    let mut steps = Vec::with_capacity(seq);
    for t in 0..seq {
        let parts: Vec<Src> = (0..dirs).map(|d| u.reshape(hs[d][t].clone(), vec![1, 1, batch, h])).collect();
        steps.push(u.concat(parts, 1));
    }
    let mut y = u.concat(steps, 0);
    if layout == 1 {
        y = u.transpose(y, vec![2, 0, 1, 3]);
    }
    let finals = |u: &mut Unroll, states: Vec<Src>| {
        let parts: Vec<Src> = states.into_iter().map(|s| u.reshape(s, vec![1, batch, h])).collect();
        let s = u.concat(parts, 0);
        if layout == 1 { u.transpose(s, vec![1, 0, 2]) } else { s }
    };
    let yh = finals(&mut u, last_h);
    let mut outputs = vec![Some(y), Some(yh)];
    if kind == Kind::Lstm {
        outputs.push(last_c.into_iter().collect::<Option<Vec<_>>>().map(|c| finals(&mut u, c)));
    }
    Ok(Some(Lowered::Graph { nodes: u.nodes, outputs }))
}

#[cfg(test)]
mod tests {
    use crate::import::proto::onnx::{attribute_proto::AttributeType, AttributeProto, ModelProto, TensorProto};
    use crate::import::{import_bytes, ImportOptions};
    use prost::Message;

    /// The committed LSTM classifier with its LSTM node changed by `edit`; the import error.
    fn import_edited(edit: impl FnOnce(&mut ModelProto)) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/rnn_lstm_classifier/model.onnx");
        let mut m = ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap();
        edit(&mut m);
        import_bytes(&m.encode_to_vec(), &ImportOptions::default()).unwrap_err().to_string()
    }

    fn int_attr(name: &str, v: i64) -> AttributeProto {
        AttributeProto { name: Some(name.into()), r#type: Some(AttributeType::Int as i32), i: Some(v), ..Default::default() }
    }

    fn lstm(m: &mut ModelProto) -> &mut crate::import::proto::onnx::NodeProto {
        m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.op_type.as_deref() == Some("LSTM")).unwrap()
    }

    #[test]
    fn the_committed_classifier_imports() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/rnn_lstm_classifier/model.onnx");
        let g = crate::load(path).unwrap();
        // Unrolled: no recurrent op is left, every node still says it came from the LSTM.
        assert!(g.nodes.iter().filter(|n| n.onnx_op == "LSTM").count() > 20);
        assert!(g.nodes.iter().all(|n| n.op.name() != "LSTM"));
    }

    #[test]
    fn unsupported_forms_name_the_op_the_node_and_the_piece() {
        let e = import_edited(|m| lstm(m).attribute.push(int_attr("input_forget", 1)));
        assert!(e.contains("LSTM") && e.contains("`lstm`") && e.contains("input_forget"), "{e}");
        let e = import_edited(|m| {
            let lens = TensorProto { name: Some("lens".into()), dims: vec![1], data_type: Some(7), int64_data: vec![3], ..Default::default() };
            m.graph.as_mut().unwrap().initializer.push(lens);
            let n = lstm(m);
            n.input.truncate(4);
            n.input.push("lens".into());
        });
        assert!(e.contains("`lstm`") && e.contains("sequence_lens") && e.contains("padding"), "{e}");
        let e = import_edited(|m| {
            let a = AttributeProto {
                name: Some("activations".into()),
                r#type: Some(AttributeType::Strings as i32),
                strings: vec![b"Sigmoid".to_vec(), b"Gelu".to_vec(), b"Tanh".to_vec()],
                ..Default::default()
            };
            lstm(m).attribute.push(a);
        });
        assert!(e.contains("`lstm`") && e.contains("activation `Gelu`"), "{e}");
        let e = import_edited(|m| {
            let n = lstm(m);
            n.attribute.retain(|a| a.name.as_deref() != Some("hidden_size"));
            n.attribute.push(int_attr("hidden_size", 5));
        });
        assert!(e.contains("`lstm`") && e.contains("W has shape"), "{e}");
        let e = import_edited(|m| lstm(m).attribute.push(int_attr("layout", 2)));
        assert!(e.contains("`lstm`") && e.contains("layout 2"), "{e}");
    }
}
