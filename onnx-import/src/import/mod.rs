//! ONNX import: decode the protobuf, order the nodes, then one topological pass that lowers each
//! node, folds it when all its data inputs are constants, and otherwise infers its output shapes by
//! evaluating it on zeros with the float executor (so shape rules live with the op kernels).
//! Finally BatchNormalization is folded into a preceding Conv/Gemm and dead nodes are dropped.

pub(crate) mod attrs;
mod fold;
pub(crate) mod lower;
mod legacy;
pub mod proto;

use crate::error::{Error, Result};
use crate::float_exec::eval_op;
use crate::ir::{Graph, Node, Op, Operand, ValueId, ValueInfo};
use crate::tensor::{DType, Tensor};
use lower::{Ctx, KnownIn, Lowered, Src};
use proto::onnx;
use prost::Message;
use std::collections::HashMap;
use std::path::Path;

/// Import options.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Value given to symbolic (or unknown) dimensions of the model inputs, e.g. the batch size.
    pub symbolic_dim: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions { symbolic_dim: 1 }
    }
}

/// Read and import an ONNX file.
pub fn load(path: impl AsRef<Path>) -> Result<Graph> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    import_bytes(&bytes, &ImportOptions::default())
}

#[derive(Clone)]
enum Known {
    Const(Tensor),
    Value(ValueId),
}

/// Import an ONNX model from its serialized bytes.
pub fn import_bytes(bytes: &[u8], opts: &ImportOptions) -> Result<Graph> {
    let model = onnx::ModelProto::decode(bytes).map_err(|e| Error::Malformed(format!("protobuf decode failed: {e}")))?;
    let graph = model.graph.as_ref().ok_or_else(|| Error::Malformed("the model has no graph".into()))?;
    let domain_opset = |names: &[&str]| {
        model.opset_import.iter().find(|o| names.contains(&o.domain.as_deref().unwrap_or(""))).and_then(|o| o.version)
    };
    let ml_opset = domain_opset(&["ai.onnx.ml"]);
    // A model that declares only the ai.onnx.ml domain has no default-domain nodes; their opset
    // is then irrelevant (the newest is assumed).
    let opset = match (domain_opset(&["", "ai.onnx"]), ml_opset) {
        (Some(v), _) => v,
        (None, Some(_)) => 23,
        (None, None) => return Err(Error::Malformed("the model declares no opset for the default ONNX domain".into())),
    };
    if !(1..=23).contains(&opset) {
        return Err(Error::Malformed(format!("opset {opset} is outside the supported range 1..=23")));
    }
    if graph.node.is_empty() && graph.output.is_empty() {
        return Err(Error::Malformed("the graph has no nodes and no outputs".into()));
    }

    let mut g = Graph { values: vec![], consts: vec![], nodes: vec![], inputs: vec![], outputs: vec![], opset };
    let mut known: HashMap<String, Known> = HashMap::new();
    for init in &graph.initializer {
        let name = init.name.clone().unwrap_or_default();
        known.insert(name, Known::Const(proto::tensor_from_proto(init)?));
    }
    for input in &graph.input {
        let name = input.name.clone().unwrap_or_default();
        if known.contains_key(&name) {
            continue; // an initializer listed as input (old exporters)
        }
        let (shape, dtype) = value_type(input, opts)?;
        let id = g.values.len();
        g.values.push(ValueInfo { name: name.clone(), shape, dtype });
        g.inputs.push(id);
        let mut k = Known::Value(id);
        if is_bool(input) {
            // A boolean input is the integer it carries made 0 / 1 by `x ≠ 0` (ONNX's cast to
            // bool), a comparison the circuit constrains, so the logic ops and `Where` downstream
            // see a proved boolean even when the input is private.
            use crate::ops::compare::CompareOp;
            let zero = Known::Const(Tensor::I64(ndarray::arr0(0).into_dyn()));
            let eq = emit_op(&mut g, &format!("{name}/is_zero"), "<input>", Op::Compare(CompareOp::Equal), vec![k, zero], None)?;
            k = emit_op(&mut g, &format!("{name}/bool"), "<input>", Op::Compare(CompareOp::Not), eq, None)?.remove(0);
        }
        known.insert(name, k);
    }

    // Names consumed by some node or the graph outputs (to know whether extra outputs matter).
    let mut consumed: HashMap<&str, usize> = HashMap::new();
    for n in &graph.node {
        for i in &n.input {
            *consumed.entry(i.as_str()).or_default() += 1;
        }
    }
    for o in &graph.output {
        *consumed.entry(o.name.as_deref().unwrap_or("")).or_default() += 1;
    }

    for node in topo_order(graph, &known)? {
        import_node(node, opset, ml_opset.unwrap_or(1), &mut g, &mut known, &consumed)?;
    }

    for o in &graph.output {
        let name = o.name.clone().unwrap_or_default();
        match known.get(&name) {
            Some(Known::Value(v)) => g.outputs.push(*v),
            Some(Known::Const(_)) => {
                return Err(Error::unsupported("<graph>", &name, "the output is a constant that does not depend on any input"))
            }
            None => return Err(Error::Malformed(format!("graph output `{name}` is never produced"))),
        }
    }
    if g.outputs.is_empty() {
        return Err(Error::Malformed("the graph has no outputs".into()));
    }
    fold::fold_batchnorm(&mut g);
    fold::remove_dead(&mut g);
    tracing::debug!(nodes = g.nodes.len(), params = g.param_count(), "imported ONNX graph");
    Ok(g)
}

fn is_bool(v: &onnx::ValueInfoProto) -> bool {
    matches!(v.r#type.as_ref().and_then(|t| t.value.as_ref()), Some(onnx::type_proto::Value::TensorType(t)) if t.elem_type == Some(9))
}

fn value_type(v: &onnx::ValueInfoProto, opts: &ImportOptions) -> Result<(Vec<usize>, DType)> {
    let name = v.name.as_deref().unwrap_or("");
    let tt = match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(onnx::type_proto::Value::TensorType(t)) => t,
        _ => return Err(Error::unsupported("<input>", name, "only tensor inputs are supported")),
    };
    let dtype = match tt.elem_type {
        Some(1) | Some(10) | Some(11) | Some(16) => DType::F32,
        // Integers and booleans (as 0 / 1): quantized at scale 0, i.e. exactly.
        Some(2..=7) | Some(9) | Some(12) | Some(13) => DType::I64,
        other => return Err(Error::unsupported("<input>", name, format!("input element type {other:?} (float, integer and boolean inputs are supported)"))),
    };
    let shape = tt
        .shape
        .as_ref()
        .ok_or_else(|| Error::unsupported("<input>", name, "the input has no declared shape"))?
        .dim
        .iter()
        .map(|d| match d.value {
            Some(onnx::tensor_shape_proto::dimension::Value::DimValue(v)) if v > 0 => v as usize,
            _ => opts.symbolic_dim,
        })
        .collect();
    Ok((shape, dtype))
}

/// Nodes in an order where every input is produced before use (ONNX requires this, but check).
fn topo_order<'a>(graph: &'a onnx::GraphProto, known: &HashMap<String, Known>) -> Result<Vec<&'a onnx::NodeProto>> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (i, n) in graph.node.iter().enumerate() {
        for o in &n.output {
            if !o.is_empty() && producer.insert(o.as_str(), i).is_some() {
                return Err(Error::Malformed(format!("value `{o}` is produced by two nodes")));
            }
        }
    }
    let mut state = vec![0u8; graph.node.len()]; // 0 new, 1 visiting, 2 done
    let mut order = Vec::with_capacity(graph.node.len());
    fn visit<'a>(
        i: usize,
        graph: &'a onnx::GraphProto,
        producer: &HashMap<&str, usize>,
        known: &HashMap<String, Known>,
        state: &mut [u8],
        order: &mut Vec<&'a onnx::NodeProto>,
    ) -> Result<()> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(Error::Malformed("the graph has a cycle".into())),
            _ => {}
        }
        state[i] = 1;
        let n = &graph.node[i];
        for inp in &n.input {
            if inp.is_empty() || known.contains_key(inp) {
                continue;
            }
            match producer.get(inp.as_str()) {
                Some(&p) => visit(p, graph, producer, known, state, order)?,
                None => {
                    return Err(Error::Malformed(format!(
                        "node `{}` ({}) uses `{inp}`, which is neither an input, an initializer nor a node output",
                        n.name.as_deref().unwrap_or(""),
                        n.op_type.as_deref().unwrap_or("")
                    )))
                }
            }
        }
        state[i] = 2;
        order.push(n);
        Ok(())
    }
    for i in 0..graph.node.len() {
        visit(i, graph, &producer, known, &mut state, &mut order)?;
    }
    Ok(order)
}

fn import_node(
    node: &onnx::NodeProto,
    opset: i64,
    ml_opset: i64,
    g: &mut Graph,
    known: &mut HashMap<String, Known>,
    consumed: &HashMap<&str, usize>,
) -> Result<()> {
    let op_type = node.op_type.clone().unwrap_or_default();
    let out0 = node.output.first().cloned().unwrap_or_default();
    let name = node.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| format!("{op_type}:{out0}"));
    let ml = match node.domain.as_deref() {
        None | Some("") | Some("ai.onnx") => false,
        Some("ai.onnx.ml") => true,
        Some(other) => return Err(Error::unsupported(&op_type, &name, format!("custom domain `{other}` (zkinfer takes the default ONNX domain and ai.onnx.ml)"))),
    };
    if node.output.is_empty() {
        return Err(Error::Malformed(format!("node `{name}` ({op_type}) has no outputs")));
    }
    let ins: Vec<Option<KnownIn>> = node
        .input
        .iter()
        .map(|i| {
            if i.is_empty() {
                return None;
            }
            known.get(i).map(|k| match k {
                Known::Const(t) => KnownIn::Const(t),
                Known::Value(v) => KnownIn::Value(&g.values[*v].shape),
            })
        })
        .collect();
    let dtypes: Vec<Option<DType>> = node
        .input
        .iter()
        .map(|i| {
            known.get(i).map(|k| match k {
                Known::Const(t) => t.dtype(),
                Known::Value(v) => g.values[*v].dtype,
            })
        })
        .collect();
    let extra_used = node.output.iter().skip(1).any(|o| !o.is_empty() && consumed.contains_key(o.as_str()));
    let ctx = Ctx {
        op: &op_type,
        name: &name,
        opset: if ml { ml_opset } else { opset },
        ml,
        attrs: attrs::Attrs::new(node),
        ins,
        dtypes,
        extra_outputs_used: extra_used,
        n_outputs: node.output.len(),
    };
    let lowered = lower::lower(&ctx)?;
    drop(ctx);
    let source = |known: &HashMap<String, Known>, i: usize| -> Result<Known> {
        let src = node.input.get(i).filter(|s| !s.is_empty()).ok_or_else(|| Error::invalid(&op_type, &name, format!("missing input {i}")))?;
        Ok(known[src].clone())
    };
    match lowered {
        Lowered::Alias(i) => {
            let k = source(known, i).map_err(|_| Error::invalid(&op_type, &name, "missing input"))?;
            known.insert(out0, k);
        }
        Lowered::Const(t) => {
            known.insert(out0, Known::Const(t));
        }
        Lowered::Op { op, data } => {
            let srcs = data.iter().map(|&i| source(known, i)).collect::<Result<Vec<_>>>()?;
            let outs = emit_op(g, &name, &op_type, op, srcs, Some(&node.output))?;
            if outs.len() < node.output.iter().filter(|o| !o.is_empty()).count() {
                return Err(Error::invalid(&op_type, &name, format!("produces {} outputs, the node declares {}", outs.len(), node.output.len())));
            }
            for (o, k) in node.output.iter().zip(outs) {
                if !o.is_empty() {
                    known.insert(o.clone(), k);
                }
            }
        }
        Lowered::Graph { nodes, outputs } => {
            // One ONNX node lowered to several IR nodes (named `<node>/<k>`), all reporting the
            // ONNX op type; the ONNX outputs name the values they are bound to.
            let mut produced: Vec<Vec<Known>> = Vec::with_capacity(nodes.len());
            for (k, sub) in nodes.into_iter().enumerate() {
                let mut srcs = Vec::with_capacity(sub.inputs.len());
                for s in sub.inputs {
                    srcs.push(match s {
                        Src::In(i) => source(known, i)?,
                        Src::Const(t) => Known::Const(t),
                        Src::Node(j, o) => produced[j][o].clone(),
                    });
                }
                produced.push(emit_op(g, &format!("{name}/{k}"), &op_type, sub.op, srcs, None)?);
            }
            for (o, src) in node.output.iter().zip(outputs) {
                let k = match src {
                    _ if o.is_empty() => continue,
                    None => continue,
                    Some(Src::Node(j, i)) => produced[j][i].clone(),
                    Some(Src::In(i)) => source(known, i)?,
                    Some(Src::Const(t)) => Known::Const(t),
                };
                if let Known::Value(v) = k {
                    if !g.inputs.contains(&v) {
                        g.values[v].name = o.clone();
                    }
                }
                known.insert(o.clone(), k);
            }
        }
    }
    Ok(())
}

/// Add one IR node fed by `srcs`: folded to constants when every source is a constant,
/// otherwise its output shapes inferred by evaluating it on zeros. `out_names` names its
/// outputs (ONNX output names; `None`: `<name>:<k>`).
fn emit_op(g: &mut Graph, name: &str, op_type: &str, op: Op, srcs: Vec<Known>, out_names: Option<&[String]>) -> Result<Vec<Known>> {
    // Operands, and tensors to evaluate with (real constants, zeros for runtime values).
    let mut operands = Vec::with_capacity(srcs.len());
    let mut probe = Vec::with_capacity(srcs.len());
    let mut all_const = true;
    for k in srcs {
        match k {
            Known::Const(t) => {
                probe.push(t);
                operands.push(None);
            }
            Known::Value(v) => {
                all_const = false;
                let info = &g.values[v];
                probe.push(Tensor::zeros(info.dtype, &info.shape));
                operands.push(Some(v));
            }
        }
    }
    let outs = eval_op(&op, &probe).map_err(|e| Error::invalid(op_type, name, e))?;
    if all_const {
        return Ok(outs.into_iter().map(Known::Const).collect());
    }
    let inputs: Vec<Operand> = operands
        .into_iter()
        .zip(probe)
        .map(|(v, t)| match v {
            Some(v) => Operand::Value(v),
            None => {
                g.consts.push(t);
                Operand::Const(g.consts.len() - 1)
            }
        })
        .collect();
    let names: Vec<String> = match out_names {
        Some(n) => n.to_vec(),
        None => (0..outs.len()).map(|k| format!("{name}:{k}")).collect(),
    };
    let mut outputs = Vec::new();
    let mut known = Vec::new();
    for (o, t) in names.iter().zip(outs) {
        let id = g.values.len();
        g.values.push(ValueInfo { name: o.clone(), shape: t.shape().to_vec(), dtype: t.dtype() });
        outputs.push(id);
        known.push(Known::Value(id));
    }
    g.nodes.push(Node { name: name.to_string(), onnx_op: op_type.to_string(), op, inputs, outputs });
    Ok(known)
}
