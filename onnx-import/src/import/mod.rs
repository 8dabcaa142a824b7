//! ONNX import: decode the protobuf, order the nodes, then one topological pass that lowers each
//! node, folds it when all its data inputs are constants, and otherwise infers its output shapes by
//! evaluating it on zeros with the float executor (so shape rules live with the op kernels).
//! Finally BatchNormalization is folded into a preceding Conv/Gemm and dead nodes are dropped.

mod attrs;
mod fold;
mod lower;
pub mod proto;

use crate::error::{Error, Result};
use crate::float_exec::eval_op;
use crate::ir::{Graph, Node, Operand, ValueId, ValueInfo};
use crate::tensor::{DType, Tensor};
use lower::{Ctx, KnownIn, Lowered};
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

enum Known {
    Const(Tensor),
    Value(ValueId),
}

/// Import an ONNX model from its serialized bytes.
pub fn import_bytes(bytes: &[u8], opts: &ImportOptions) -> Result<Graph> {
    let model = onnx::ModelProto::decode(bytes).map_err(|e| Error::Malformed(format!("protobuf decode failed: {e}")))?;
    let graph = model.graph.as_ref().ok_or_else(|| Error::Malformed("the model has no graph".into()))?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain.as_deref(), None | Some("") | Some("ai.onnx")))
        .and_then(|o| o.version)
        .ok_or_else(|| Error::Malformed("the model declares no opset for the default ONNX domain".into()))?;
    if !(7..=23).contains(&opset) {
        return Err(Error::Malformed(format!("opset {opset} is outside the supported range 7..=23")));
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
        known.insert(name, Known::Value(id));
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
        import_node(node, opset, &mut g, &mut known, &consumed)?;
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

fn value_type(v: &onnx::ValueInfoProto, opts: &ImportOptions) -> Result<(Vec<usize>, DType)> {
    let name = v.name.as_deref().unwrap_or("");
    let tt = match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(onnx::type_proto::Value::TensorType(t)) => t,
        _ => return Err(Error::unsupported("<input>", name, "only tensor inputs are supported")),
    };
    let dtype = match tt.elem_type {
        Some(1) | Some(10) | Some(11) | Some(16) => DType::F32,
        Some(6) | Some(7) => DType::I64,
        other => return Err(Error::unsupported("<input>", name, format!("input element type {other:?} (use float32)"))),
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
    g: &mut Graph,
    known: &mut HashMap<String, Known>,
    consumed: &HashMap<&str, usize>,
) -> Result<()> {
    let op_type = node.op_type.clone().unwrap_or_default();
    let out0 = node.output.first().cloned().unwrap_or_default();
    let name = node.name.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| format!("{op_type}:{out0}"));
    if !matches!(node.domain.as_deref(), None | Some("") | Some("ai.onnx")) {
        return Err(Error::unsupported(&op_type, &name, format!("custom domain `{}`", node.domain.as_deref().unwrap_or(""))));
    }
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
    let extra_used = node.output.iter().skip(1).any(|o| !o.is_empty() && consumed.contains_key(o.as_str()));
    let ctx = Ctx {
        op: &op_type,
        name: &name,
        opset,
        attrs: attrs::Attrs::new(node),
        ins,
        extra_outputs_used: extra_used,
        n_outputs: node.output.len(),
    };
    let lowered = lower::lower(&ctx)?;
    drop(ctx);
    let (op, data) = match lowered {
        Lowered::Alias(i) => {
            let src = node.input.get(i).filter(|s| !s.is_empty()).ok_or_else(|| Error::invalid(&op_type, &name, "missing input"))?;
            let k = match &known[src] {
                Known::Const(t) => Known::Const(t.clone()),
                Known::Value(v) => Known::Value(*v),
            };
            known.insert(out0, k);
            return Ok(());
        }
        Lowered::Const(t) => {
            known.insert(out0, Known::Const(t));
            return Ok(());
        }
        Lowered::Op { op, data } => (op, data),
    };
    // Operands, and tensors to evaluate with (real constants, zeros for runtime values).
    let mut operands = Vec::with_capacity(data.len());
    let mut probe = Vec::with_capacity(data.len());
    let mut all_const = true;
    for &i in &data {
        let src = node.input.get(i).filter(|s| !s.is_empty()).ok_or_else(|| Error::invalid(&op_type, &name, format!("missing input {i}")))?;
        match &known[src] {
            Known::Const(t) => {
                probe.push(t.clone());
                operands.push(None);
            }
            Known::Value(v) => {
                all_const = false;
                let info = &g.values[*v];
                probe.push(Tensor::zeros(info.dtype, &info.shape));
                operands.push(Some(*v));
            }
        }
    }
    let outs = eval_op(&op, &probe).map_err(|e| Error::invalid(&op_type, &name, e))?;
    if outs.len() < node.output.iter().filter(|o| !o.is_empty()).count() {
        return Err(Error::invalid(&op_type, &name, format!("produces {} outputs, the node declares {}", outs.len(), node.output.len())));
    }
    if all_const {
        for (o, t) in node.output.iter().zip(outs) {
            if !o.is_empty() {
                known.insert(o.clone(), Known::Const(t));
            }
        }
        return Ok(());
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
    let mut outputs = Vec::new();
    for (o, t) in node.output.iter().zip(outs) {
        let id = g.values.len();
        g.values.push(ValueInfo { name: o.clone(), shape: t.shape().to_vec(), dtype: t.dtype() });
        if !o.is_empty() {
            known.insert(o.clone(), Known::Value(id));
        }
        outputs.push(id);
    }
    g.nodes.push(Node { name, onnx_op: op_type, op, inputs, outputs });
    Ok(())
}
