//! Float IR → quantized graph. Each IR op becomes one or a few integer ops following the scale
//! rules in the module docs; normalisation layers are decomposed into means, products, a
//! reciprocal-square-root lookup and rescales.

use super::rules::quantize as q;
use super::{QConst, QGraph, QNode, QOp, QValue, QuantParams};
use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::ir::{Graph, Node, Op, Operand, ValueId};
use crate::tensor::DType;
use ndarray::{ArrayD, IxDyn};

/// Largest magnitude a quantized constant may have.
const CONST_LIMIT: i64 = 1 << 40;

pub(crate) enum In {
    V(ValueId),
    C(ArrayD<f32>),
}

pub(crate) struct Builder<'a> {
    pub(crate) q: QGraph,
    map: Vec<Option<ValueId>>,
    pub(crate) p: QuantParams,
    pub(crate) node: &'a Node,
    step: usize,
}

impl<'a> Builder<'a> {
    pub(crate) fn err(&self, reason: impl Into<String>) -> Error {
        Error::unsupported(&self.node.onnx_op, &self.node.name, reason)
    }
    pub(crate) fn input(&self, g: &Graph, i: usize) -> Result<In> {
        match self.node.inputs.get(i) {
            Some(Operand::Value(v)) => Ok(In::V(self.map[*v].expect("topological order"))),
            Some(Operand::Const(c)) => Ok(In::C(g.consts[*c].to_f32())),
            None => Err(self.err(format!("missing input {i}"))),
        }
    }
    pub(crate) fn scale(&self, v: ValueId) -> u32 {
        self.q.values[v].scale
    }
    fn shape(&self, v: ValueId) -> Vec<usize> {
        self.q.values[v].shape.clone()
    }
    pub(crate) fn konst(&mut self, data: &ArrayD<f32>, scale: u32) -> Result<Operand> {
        let mut out = Vec::with_capacity(data.len());
        for &x in data.iter() {
            let v = q(x as f64, scale);
            if v.abs() > CONST_LIMIT {
                return Err(Error::Arithmetic {
                    node: self.node.name.clone(),
                    op: self.node.onnx_op.clone(),
                    reason: format!("constant {x} does not fit at scale {scale}; lower param_scale"),
                });
            }
            out.push(v);
        }
        let data = ArrayD::from_shape_vec(IxDyn(data.shape()), out).expect("sizes agree");
        self.q.consts.push(QConst { data, scale });
        Ok(Operand::Const(self.q.consts.len() - 1))
    }
    fn emit_named(&mut self, op: QOp, inputs: Vec<Operand>, outs: Vec<(String, Vec<usize>, u32)>) -> Vec<ValueId> {
        let mut ids = Vec::new();
        for (name, shape, scale) in outs {
            ids.push(self.q.values.len());
            self.q.values.push(QValue { name, shape, scale });
        }
        self.q.nodes.push(QNode {
            name: self.node.name.clone(),
            onnx_op: self.node.onnx_op.clone(),
            op,
            inputs,
            outputs: ids.clone(),
        });
        ids
    }
    /// Emit a single-output op producing an intermediate value.
    /// A lookup of `act` from scale `s` to `s_out`, reduced when the lookup range exceeds the
    /// settings' largest table ([`rules::reduction`]).
    fn lookup_op(&self, act: Activation, s: u32, s_out: u32) -> QOp {
        let reduce = super::rules::reduction(&act, s, s_out, self.p.lookup_range, self.p.table_bits);
        QOp::Lookup { act, in_scale: s, out_scale: s_out, reduce }
    }
    pub(crate) fn emit(&mut self, op: QOp, inputs: Vec<Operand>, shape: Vec<usize>, scale: u32) -> ValueId {
        self.step += 1;
        let name = format!("{}/{}{}", self.node.name, op.name().to_lowercase(), self.step);
        self.emit_named(op, inputs, vec![(name, shape, scale)])[0]
    }
    /// Bring `v` to scale `target` (rescale down or scale up).
    fn to_scale(&mut self, v: ValueId, target: u32) -> ValueId {
        let s = self.scale(v);
        let shape = self.shape(v);
        if s > target {
            self.emit(QOp::Rescale { shift: s - target }, vec![Operand::Value(v)], shape, target)
        } else if s < target {
            self.emit(QOp::ScaleUp { shift: target - s }, vec![Operand::Value(v)], shape, target)
        } else {
            v
        }
    }
    /// Rescale a product down to the activation scale (never scales up).
    fn activation(&mut self, v: ValueId) -> ValueId {
        let s = self.p.input_scale;
        if self.scale(v) > s { self.to_scale(v, s) } else { v }
    }
    /// Operands for an op whose inputs must share a scale: values aligned to the largest value
    /// scale, constants quantized at it.
    pub(crate) fn aligned(&mut self, ins: Vec<In>) -> Result<(Vec<Operand>, u32)> {
        let target = ins.iter().filter_map(|i| if let In::V(v) = i { Some(self.scale(*v)) } else { None }).max().unwrap_or(self.p.input_scale);
        let mut ops = Vec::new();
        for i in ins {
            ops.push(match i {
                In::V(v) => Operand::Value(self.to_scale(v, target)),
                In::C(c) => self.konst(&c, target)?,
            });
        }
        Ok((ops, target))
    }
    /// An operand of a product: a value as is, a constant at `param_scale`.
    fn factor(&mut self, i: In) -> Result<(Operand, u32)> {
        Ok(match i {
            In::V(v) => (Operand::Value(v), self.scale(v)),
            In::C(c) => (self.konst(&c, self.p.param_scale)?, self.p.param_scale),
        })
    }
    pub(crate) fn out_shape(&self, g: &Graph, k: usize) -> Vec<usize> {
        g.values[self.node.outputs[k]].shape.clone()
    }
    /// Whether `v` is 0 or 1 by construction: the output of a comparison or logic op.
    pub(crate) fn is_boolean(&self, v: ValueId) -> bool {
        self.q.nodes.iter().any(|n| n.outputs.contains(&v) && matches!(&n.op, QOp::Compare(c) if c.is_boolean()))
    }
    pub(crate) fn value_of(&mut self, i: In) -> Result<ValueId> {
        match i {
            In::V(v) => Ok(v),
            In::C(_) => Err(self.err("this operand must depend on the model input, not be a constant")),
        }
    }
}

fn f32_scalar(x: f32) -> ArrayD<f32> {
    ndarray::arr0(x).into_dyn()
}

/// Quantize a float graph with the given scales.
pub fn quantize(g: &Graph, p: &QuantParams) -> Result<QGraph> {
    let mut q = QGraph { values: vec![], consts: vec![], nodes: vec![], inputs: vec![], outputs: vec![], params: *p };
    let mut map: Vec<Option<ValueId>> = vec![None; g.values.len()];
    for &i in &g.inputs {
        let v = g.value(i);
        // Integer and boolean inputs hold integers: scale 0, exact.
        let scale = if v.dtype == DType::I64 { 0 } else { p.input_scale };
        map[i] = Some(q.values.len());
        q.inputs.push(q.values.len());
        q.values.push(QValue { name: v.name.clone(), shape: v.shape.clone(), scale });
    }
    for node in &g.nodes {
        let mut b = Builder { q, map, p: *p, node, step: 0 };
        let outs = lower_node(&mut b, g)?;
        for (k, v) in outs.into_iter().enumerate() {
            b.q.values[v].name = g.values[node.outputs[k]].name.clone();
            b.map[node.outputs[k]] = Some(v);
        }
        q = b.q;
        map = b.map;
    }
    q.outputs = g.outputs.iter().map(|&o| map[o].expect("outputs computed")).collect();
    Ok(q)
}

fn lower_node(b: &mut Builder, g: &Graph) -> Result<Vec<ValueId>> {
    let s_act = b.p.input_scale;
    let n_in = b.node.inputs.len();
    let all = |b: &Builder| -> Result<Vec<In>> { (0..n_in).map(|i| b.input(g, i)).collect() };
    let out = b.out_shape(g, 0);
    let single = |v| Ok(vec![v]);
    match &b.node.op {
        Op::MatMul => {
            let (a, sa) = b.factor(b.input(g, 0)?)?;
            let (w, sw) = b.factor(b.input(g, 1)?)?;
            let y = b.emit(QOp::MatMul, vec![a, w], out, sa + sw);
            single(b.activation(y))
        }
        Op::Gemm { alpha, beta, trans_a, trans_b } => {
            let a = match b.input(g, 0)? {
                In::V(v) if *trans_a => {
                    let s = b.shape(v);
                    let sc = b.scale(v);
                    In::V(b.emit(QOp::Transpose { perm: vec![1, 0] }, vec![Operand::Value(v)], vec![s[1], s[0]], sc))
                }
                In::C(c) if *trans_a => In::C(c.t().as_standard_layout().into_owned()),
                other => other,
            };
            let mut post_alpha = None;
            let w = match b.input(g, 1)? {
                In::C(c) => {
                    let c = if *trans_b { c.t().as_standard_layout().into_owned() } else { c };
                    In::C(c.mapv(|x| x * alpha))
                }
                In::V(v) => {
                    if *alpha != 1.0 {
                        post_alpha = Some(*alpha);
                    }
                    if *trans_b {
                        let s = b.shape(v);
                        let sc = b.scale(v);
                        In::V(b.emit(QOp::Transpose { perm: vec![1, 0] }, vec![Operand::Value(v)], vec![s[1], s[0]], sc))
                    } else {
                        In::V(v)
                    }
                }
            };
            let (a, sa) = b.factor(a)?;
            let (w, sw) = b.factor(w)?;
            let mut y = b.emit(QOp::MatMul, vec![a, w], out.clone(), sa + sw);
            if let Some(al) = post_alpha {
                let (k, sk) = b.factor(In::C(f32_scalar(al)))?;
                let sy = b.scale(y);
                y = b.emit(QOp::Mul, vec![Operand::Value(y), k], out.clone(), sy + sk);
            }
            if n_in > 2 {
                let c = match b.input(g, 2)? {
                    In::C(c) => In::C(c.mapv(|x| x * beta)),
                    In::V(v) if *beta != 1.0 => {
                        let (k, sk) = b.factor(In::C(f32_scalar(*beta)))?;
                        let (sv, sh) = (b.scale(v), b.shape(v));
                        let m = b.emit(QOp::Mul, vec![Operand::Value(v), k], sh, sv + sk);
                        In::V(b.activation(m))
                    }
                    other => other,
                };
                let (ops, s) = b.aligned(vec![In::V(y), c])?;
                y = b.emit(QOp::Add, ops, out, s);
            }
            single(b.activation(y))
        }
        Op::Conv { window, group } | Op::ConvTranspose { window, group } => {
            let (x, sx) = b.factor(b.input(g, 0)?)?;
            let (w, sw) = b.factor(b.input(g, 1)?)?;
            let mut ins = vec![x, w];
            if n_in > 2 {
                match b.input(g, 2)? {
                    In::C(c) => ins.push(b.konst(&c, sx + sw)?),
                    In::V(_) => return Err(b.err("a bias computed at runtime is not supported")),
                }
            }
            let op = if matches!(b.node.op, Op::Conv { .. }) {
                QOp::Conv { window: window.clone(), group: *group }
            } else {
                QOp::ConvTranspose { window: window.clone(), group: *group }
            };
            let y = b.emit(op, ins, out, sx + sw);
            single(b.activation(y))
        }
        Op::Add | Op::Sub | Op::Sum | Op::Max | Op::Min => {
            let (ops, s) = b.aligned(all(b)?)?;
            let op = match b.node.op {
                Op::Add => QOp::Add,
                Op::Sub => QOp::Sub,
                Op::Sum => QOp::Sum,
                Op::Max => QOp::Max,
                _ => QOp::Min,
            };
            single(b.emit(op, ops, out, s))
        }
        Op::Mul => {
            let (x, sx) = b.factor(b.input(g, 0)?)?;
            let (y, sy) = b.factor(b.input(g, 1)?)?;
            let m = b.emit(QOp::Mul, vec![x, y], out, sx + sy);
            single(b.activation(m))
        }
        Op::Div => match (b.input(g, 0)?, b.input(g, 1)?) {
            (In::V(v), In::C(c)) => {
                if c.iter().any(|&d| d == 0.0) {
                    return Err(Error::Arithmetic { node: b.node.name.clone(), op: b.node.onnx_op.clone(), reason: "division by a constant zero".into() });
                }
                let (k, sk) = b.factor(In::C(c.mapv(|d| 1.0 / d)))?;
                let sv = b.scale(v);
                let m = b.emit(QOp::Mul, vec![Operand::Value(v), k], out, sv + sk);
                single(b.activation(m))
            }
            (num, In::V(den)) => {
                let (a, sa) = match num {
                    In::V(v) => {
                        let v = b.activation(v);
                        (Operand::Value(v), b.scale(v))
                    }
                    In::C(c) => (b.konst(&c, s_act)?, s_act),
                };
                let sb = b.scale(den);
                single(b.emit(QOp::Div { shift: sb + s_act - sa }, vec![a, Operand::Value(den)], out, s_act))
            }
            (In::C(_), In::C(_)) => unreachable!("folded at import"),
        },
        Op::Neg | Op::Abs | Op::Relu => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let s = b.scale(v);
            let op = match b.node.op {
                Op::Neg => QOp::Neg,
                Op::Abs => QOp::Abs,
                _ => QOp::Relu,
            };
            single(b.emit(op, vec![Operand::Value(v)], out, s))
        }
        Op::Clip { min, max } => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let s = b.scale(v);
            let lo = min.filter(|m| m.is_finite()).map(|m| q(m as f64, s));
            let hi = max.filter(|m| m.is_finite()).map(|m| q(m as f64, s));
            single(b.emit(QOp::Clip { lo, hi }, vec![Operand::Value(v)], out, s))
        }
        Op::LeakyRelu { .. } | Op::PRelu => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let slope = match &b.node.op {
                Op::LeakyRelu { alpha } => f32_scalar(*alpha),
                _ => match b.input(g, 1)? {
                    In::C(c) => c,
                    In::V(_) => return Err(b.err("a slope computed at runtime is not supported")),
                },
            };
            let ps = b.p.param_scale;
            let k = b.konst(&slope, ps)?;
            let s = b.scale(v);
            let y = b.emit(QOp::PRelu { slope_scale: ps }, vec![Operand::Value(v), k], out, s + ps);
            single(b.activation(y))
        }
        Op::Pow { exponent } if *exponent == 1.0 => {
            let v = b.input(g, 0)?;
            single(b.value_of(v)?)
        }
        Op::Pow { exponent } if *exponent == 2.0 => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let s = b.scale(v);
            let m = b.emit(QOp::Mul, vec![Operand::Value(v), Operand::Value(v)], out, 2 * s);
            single(b.activation(m))
        }
        Op::Softmax { axis, flatten } | Op::LogSoftmax { axis, flatten } => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let s = b.scale(v);
            let op = if matches!(b.node.op, Op::Softmax { .. }) {
                // exp of d = x − max ≤ 0 saturates to 0 below: a reduced table holds its changing part.
                let reduce = super::rules::reduction(&Activation::Exp, s, s_act, b.p.lookup_range, b.p.table_bits);
                QOp::Softmax { axis: *axis, flatten: *flatten, in_scale: s, out_scale: s_act, reduce }
            } else {
                QOp::LogSoftmax { axis: *axis, flatten: *flatten, in_scale: s, out_scale: s_act }
            };
            single(b.emit(op, vec![Operand::Value(v)], out, s_act))
        }
        Op::MaxPool { window } => pass(b, g, QOp::MaxPool { window: window.clone() }),
        Op::AveragePool { window, count_include_pad } => {
            pass(b, g, QOp::AveragePool { window: window.clone(), count_include_pad: *count_include_pad })
        }
        Op::GlobalAveragePool | Op::GlobalMaxPool => {
            let r = g.operand_shape(b.node.inputs[0]).len();
            let axes: Vec<usize> = (2..r).collect();
            let op = if matches!(b.node.op, Op::GlobalMaxPool) {
                QOp::ReduceMax { axes, keepdims: true }
            } else {
                QOp::ReduceMean { axes, keepdims: true }
            };
            pass(b, g, op)
        }
        Op::BatchNorm { eps } => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let [sc, bi, mean, var] = [1, 2, 3, 4].map(|i| g.consts[match b.node.inputs[i] {
                Operand::Const(c) => c,
                Operand::Value(_) => 0,
            }].to_f32());
            let c = sc.len();
            let shape = b.shape(v);
            let mut bshape = vec![1; shape.len()];
            if shape.len() > 1 {
                bshape[1] = c;
            }
            let a: Vec<f32> = (0..c).map(|i| sc[[i]] / (var[[i]] + eps).sqrt()).collect();
            let sh: Vec<f32> = (0..c).map(|i| bi[[i]] - mean[[i]] * a[i]).collect();
            let a = ArrayD::from_shape_vec(IxDyn(&bshape), a).unwrap();
            let sh = ArrayD::from_shape_vec(IxDyn(&bshape), sh).unwrap();
            let (k, sk) = b.factor(In::C(a))?;
            let s = b.scale(v);
            let m = b.emit(QOp::Mul, vec![Operand::Value(v), k], shape.clone(), s + sk);
            let kb = b.konst(&sh, s + sk)?;
            let y = b.emit(QOp::Add, vec![Operand::Value(m), kb], shape, s + sk);
            single(b.activation(y))
        }
        Op::InstanceNorm { eps } | Op::LayerNorm { eps, .. } => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let v = b.activation(v);
            let shape = b.shape(v);
            let r = shape.len();
            let (axes, affine_shape) = match b.node.op {
                Op::InstanceNorm { .. } => {
                    let mut s = vec![1; r];
                    s[1] = shape[1];
                    ((2..r).collect::<Vec<_>>(), Some(s))
                }
                Op::LayerNorm { axis, .. } => ((axis..r).collect(), None),
                _ => unreachable!(),
            };
            let s = b.scale(v);
            let kshape: Vec<usize> = (0..r).map(|d| if axes.contains(&d) { 1 } else { shape[d] }).collect();
            let mean = b.emit(QOp::ReduceMean { axes: axes.clone(), keepdims: true }, vec![Operand::Value(v)], kshape.clone(), s);
            let c = b.emit(QOp::Sub, vec![Operand::Value(v), Operand::Value(mean)], shape.clone(), s);
            let sq = b.emit(QOp::Mul, vec![Operand::Value(c), Operand::Value(c)], shape.clone(), 2 * s);
            let sq = b.to_scale(sq, s);
            let var = b.emit(QOp::ReduceMean { axes, keepdims: true }, vec![Operand::Value(sq)], kshape.clone(), s);
            let rs = b.emit(
                b.lookup_op(Activation::Rsqrt { eps: *eps }, s, s_act),
                vec![Operand::Value(var)],
                kshape,
                s_act,
            );
            let n = b.emit(QOp::Mul, vec![Operand::Value(c), Operand::Value(rs)], shape.clone(), s + s_act);
            let n = b.activation(n);
            let reshape = |t: ArrayD<f32>| -> ArrayD<f32> {
                match &affine_shape {
                    Some(sh) => t.into_shape_with_order(IxDyn(sh)).expect("per-channel affine"),
                    None => t,
                }
            };
            let gamma = match b.input(g, 1)? {
                In::C(t) => reshape(t),
                In::V(_) => return Err(b.err("a scale computed at runtime is not supported")),
            };
            let (k, sk) = b.factor(In::C(gamma))?;
            let sn = b.scale(n);
            let mut y = b.emit(QOp::Mul, vec![Operand::Value(n), k], out.clone(), sn + sk);
            if n_in > 2 {
                let beta = match b.input(g, 2)? {
                    In::C(t) => reshape(t),
                    In::V(_) => return Err(b.err("a bias computed at runtime is not supported")),
                };
                let sy = b.scale(y);
                let kb = b.konst(&beta, sy)?;
                y = b.emit(QOp::Add, vec![Operand::Value(y), kb], out, sy);
            }
            single(b.activation(y))
        }
        Op::Reshape { shape } => pass(b, g, QOp::Reshape { shape: shape.clone() }),
        Op::Transpose { perm } => pass(b, g, QOp::Transpose { perm: perm.clone() }),
        Op::Slice { ranges } => pass(b, g, QOp::Slice { ranges: ranges.clone() }),
        Op::Gather { axis, indices } => pass(b, g, QOp::Gather { axis: *axis, indices: indices.clone() }),
        Op::Tile { repeats } => pass(b, g, QOp::Tile { repeats: repeats.clone() }),
        Op::Expand { shape } => pass(b, g, QOp::Expand { shape: shape.clone() }),
        Op::ReduceSum { axes, keepdims } => pass(b, g, QOp::ReduceSum { axes: axes.clone(), keepdims: *keepdims }),
        Op::ReduceMean { axes, keepdims } => pass(b, g, QOp::ReduceMean { axes: axes.clone(), keepdims: *keepdims }),
        Op::ReduceMax { axes, keepdims } => pass(b, g, QOp::ReduceMax { axes: axes.clone(), keepdims: *keepdims }),
        Op::Pad { mode, pads, value } => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let s = b.scale(v);
            single(b.emit(QOp::Pad { mode: *mode, pads: pads.clone(), value: q(*value as f64, s) }, vec![Operand::Value(v)], out, s))
        }
        Op::Concat { axis } => {
            let (ops, s) = b.aligned(all(b)?)?;
            single(b.emit(QOp::Concat { axis: *axis }, ops, out, s))
        }
        Op::Split { axis, sizes } => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let s = b.scale(v);
            let outs = (0..b.node.outputs.len()).map(|k| (format!("{}:{k}", b.node.name), b.out_shape(g, k), s)).collect();
            Ok(b.emit_named(QOp::Split { axis: *axis, sizes: sizes.clone() }, vec![Operand::Value(v)], outs))
        }
        Op::ArgMax { axis, keepdims, select_last_index } => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            single(b.emit(QOp::ArgMax { axis: *axis, keepdims: *keepdims, select_last_index: *select_last_index }, vec![Operand::Value(v)], out, 0))
        }
        Op::Compare(c) => crate::ops::compare::quantize(b, g, *c),
        Op::Tree(t) => {
            let v = b.input(g, 0)?;
            let v = b.value_of(v)?;
            let s = b.scale(v);
            let node = b.node;
            let qt = crate::ops::tree::quantize(t, s, s_act, |r| Error::Arithmetic { node: node.name.clone(), op: node.onnx_op.clone(), reason: r })?;
            single(b.emit(QOp::Tree(qt), vec![Operand::Value(v)], out, s_act))
        }
        Op::Cast { to: DType::F32 } => {
            let v = b.input(g, 0)?;
            single(b.value_of(v)?)
        }
        Op::Cast { to: DType::I64 } => match b.node.inputs[0] {
            // An integer value (a label, a boolean) stays what it is, at scale 0.
            Operand::Value(v) if g.values[v].dtype == DType::I64 => {
                let v = b.input(g, 0)?;
                single(b.value_of(v)?)
            }
            // A float at scale 0 (Sign's output, a cast boolean) holds integers already.
            Operand::Value(v) if b.map[v].is_some_and(|q| b.scale(q) == 0) => {
                let v = b.input(g, 0)?;
                single(b.value_of(v)?)
            }
            _ => Err(b.err("casting a runtime float to an integer is not supported")),
        },
        other => match Activation::of_op(other) {
            Some(act) => {
                let v = b.input(g, 0)?;
                let v = b.value_of(v)?;
                let s = b.scale(v);
                single(b.emit(b.lookup_op(act, s, s_act), vec![Operand::Value(v)], out, s_act))
            }
            None => Err(b.err("no quantized form for this op")),
        },
    }
}

/// An op that keeps its input's scale.
fn pass(b: &mut Builder, g: &Graph, op: QOp) -> Result<Vec<ValueId>> {
    let v = b.input(g, 0)?;
    let v = b.value_of(v)?;
    let s = b.scale(v);
    let out = b.out_shape(g, 0);
    Ok(vec![b.emit(op, vec![Operand::Value(v)], out, s)])
}

