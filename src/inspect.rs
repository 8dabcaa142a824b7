//! `zkinfer inspect`: ops, shapes and parameter count of an imported model.

use serde::Serialize;
use zkinfer_onnx::ir::Graph;

#[derive(Serialize)]
pub struct TensorSummary {
    pub name: String,
    pub shape: Vec<usize>,
}

#[derive(Serialize)]
pub struct NodeSummary {
    pub name: String,
    pub onnx_op: String,
    pub op: String,
    pub inputs: Vec<Vec<usize>>,
    pub outputs: Vec<Vec<usize>>,
}

#[derive(Serialize)]
pub struct ModelSummary {
    pub opset: i64,
    pub inputs: Vec<TensorSummary>,
    pub outputs: Vec<TensorSummary>,
    pub nodes: Vec<NodeSummary>,
    pub params: usize,
}

pub fn summarize(g: &Graph) -> ModelSummary {
    let t = |ids: &[usize]| ids.iter().map(|&i| TensorSummary { name: g.values[i].name.clone(), shape: g.values[i].shape.clone() }).collect();
    ModelSummary {
        opset: g.opset,
        inputs: t(&g.inputs),
        outputs: t(&g.outputs),
        nodes: g
            .nodes
            .iter()
            .map(|n| NodeSummary {
                name: n.name.clone(),
                onnx_op: n.onnx_op.clone(),
                op: n.op.name().to_string(),
                inputs: n.inputs.iter().map(|&o| g.operand_shape(o).to_vec()).collect(),
                outputs: n.outputs.iter().map(|&o| g.values[o].shape.clone()).collect(),
            })
            .collect(),
        params: g.param_count(),
    }
}

impl std::fmt::Display for ModelSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "opset {}, {} nodes, {} parameters", self.opset, self.nodes.len(), self.params)?;
        for i in &self.inputs {
            writeln!(f, "input  {} {:?}", i.name, i.shape)?;
        }
        for o in &self.outputs {
            writeln!(f, "output {} {:?}", o.name, o.shape)?;
        }
        let w = self.nodes.iter().map(|n| n.name.len()).max().unwrap_or(4).max(4);
        writeln!(f, "{:<w$}  {:<28}  inputs -> outputs", "node", "op")?;
        for n in &self.nodes {
            let op = if n.onnx_op == n.op { n.op.clone() } else { format!("{} ({})", n.onnx_op, n.op) };
            writeln!(f, "{:<w$}  {:<28}  {:?} -> {:?}", n.name, op, n.inputs, n.outputs)?;
        }
        Ok(())
    }
}

