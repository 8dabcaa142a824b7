//! Forms of opsets 1–6 that later opsets dropped, resolved before a node is lowered, so the op
//! modules only see the modern form:
//!
//! * `consumed_inputs` (opsets 1–5, on most elementwise ops, BatchNormalization, Reshape, …): an
//!   in-place optimisation hint without effect on the values; accepted and ignored.
//! * `broadcast` / `axis` on the binary ops (Add, Sub, Mul, Div, Pow, Equal, Less, Greater, And,
//!   Or, Xor before opset 7): with `broadcast = 1` the second operand `B` matches a contiguous run
//!   of `A`'s axes starting at `axis` (default: the trailing ones, which is numpy's rule); it is
//!   reshaped to `B`'s dims followed by ones, after which numpy broadcasting gives the legacy
//!   result. Without `broadcast` both shapes must be equal.
//! * PRelu before opset 7: a one-dimensional slope of `C` values applies along the channel axis
//!   (axis 1), not the last axis as numpy broadcasting would; it is reshaped to `[C, 1, …]`.

use super::lower::{Ctx, Lowered, Src, SubNode};
use crate::error::Result;
use crate::ir::Op;

/// Binary ops that carried `broadcast` / `axis` before opset 7.
const LEGACY_BINARY: &[&str] = &["Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater", "And", "Or", "Xor"];

/// Read the legacy attributes of `ctx` (so they are not reported as unsupported) and return the
/// shape the second input must be reshaped to, if any.
pub(crate) fn prepare(ctx: &Ctx) -> Result<Option<Vec<usize>>> {
    if ctx.ml || ctx.opset >= 7 {
        return Ok(None);
    }
    let a = &ctx.attrs;
    if ctx.opset < 6 {
        a.has("consumed_inputs");
    }
    if ctx.op == "PRelu" {
        let (x, s) = (ctx.shape(0)?, ctx.shape(1)?);
        if x.len() > 2 && s.len() == 1 && s[0] == x[1] && s[0] != 1 {
            let mut shape = vec![s[0]];
            shape.resize(x.len() - 1, 1);
            return Ok(Some(shape));
        }
        return Ok(None);
    }
    if !LEGACY_BINARY.contains(&ctx.op) || !ctx.has_input(1) {
        return Ok(None);
    }
    let broadcast = a.int_or("broadcast", 0)? != 0;
    let axis = a.int("axis")?;
    let (sa, sb) = (ctx.shape(0)?, ctx.shape(1)?);
    if !broadcast {
        if axis.is_some() {
            return Err(ctx.err("`axis` without `broadcast = 1`"));
        }
        if sa != sb {
            return Err(ctx.err(format!("operands of shapes {sa:?} and {sb:?} without `broadcast = 1` (opset < 7 needs equal shapes)")));
        }
        return Ok(None);
    }
    let Some(axis) = axis else { return Ok(None) };
    let (ra, rb) = (sa.len(), sb.len());
    let start = if axis < 0 { axis + ra as i64 } else { axis };
    if start < 0 || start as usize + rb > ra {
        return Err(ctx.err(format!("broadcast axis {axis} does not fit B of shape {sb:?} into A of shape {sa:?}")));
    }
    let start = start as usize;
    if sb.iter().zip(&sa[start..]).any(|(&b, &x)| b != x && b != 1) {
        return Err(ctx.err(format!("B of shape {sb:?} does not match A's axes {start}.. of shape {sa:?}")));
    }
    let mut shape = sb.clone();
    shape.resize(ra - start, 1);
    Ok(if shape == sb { None } else { Some(shape) })
}

/// Feed the lowered node's second input through `Reshape { shape }`.
pub(crate) fn reshape_second(lowered: Lowered, shape: Vec<usize>) -> Lowered {
    let (nodes, outputs) = match lowered {
        Lowered::Op { op, data } => (vec![SubNode { op, inputs: data.into_iter().map(Src::In).collect() }], vec![Some(Src::Node(0, 0))]),
        Lowered::Graph { nodes, outputs } => (nodes, outputs),
        other => return other,
    };
    let shift = |s: Src| match s {
        Src::In(1) => Src::Node(0, 0),
        Src::Node(j, k) => Src::Node(j + 1, k),
        s => s,
    };
    let mut out = vec![SubNode { op: Op::Reshape { shape }, inputs: vec![Src::In(1)] }];
    out.extend(nodes.into_iter().map(|n| SubNode { op: n.op, inputs: n.inputs.into_iter().map(shift).collect() }));
    Lowered::Graph { nodes: out, outputs: outputs.into_iter().map(|o| o.map(shift)).collect() }
}

#[cfg(test)]
mod tests {
    use crate::import::proto::onnx::{AttributeProto, ModelProto, NodeProto};
    use crate::import::{import_bytes, ImportOptions};
    use prost::Message;

    fn model() -> ModelProto {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/breadth/ops_opset6/model.onnx");
        ModelProto::decode(std::fs::read(path).unwrap().as_slice()).unwrap()
    }

    fn node<'a>(m: &'a mut ModelProto, name: &str) -> &'a mut NodeProto {
        m.graph.as_mut().unwrap().node.iter_mut().find(|n| n.name.as_deref() == Some(name)).unwrap()
    }

    fn import(m: &ModelProto) -> crate::error::Result<crate::ir::Graph> {
        import_bytes(&m.encode_to_vec(), &ImportOptions::default())
    }

    fn set_int(n: &mut NodeProto, key: &str, v: i64) {
        n.attribute.retain(|a| a.name.as_deref() != Some(key));
        n.attribute.push(AttributeProto { name: Some(key.into()), r#type: Some(2), i: Some(v), ..Default::default() });
    }

    #[test]
    fn the_broadcast_axis_reshapes_the_second_operand() {
        let g = import(&model()).unwrap();
        // add_axis1: B [3] at axis 1 of [1, 3, 4, 4] becomes [3, 1, 1] (the Reshape of the
        // constant folded away).
        let add = g.nodes.iter().find(|n| n.name == "add_axis1/1").expect("the Add after the reshape");
        let crate::ir::Operand::Const(c) = add.inputs[1] else { panic!("B should be a constant") };
        assert_eq!(g.consts[c].shape(), &[3, 1, 1]);
        // The same model at opset 7 reads the attributes as unsupported.
        let mut m = model();
        m.opset_import[0].version = Some(7);
        let e = import(&m).unwrap_err().to_string();
        assert!(e.contains("add_axis1") && e.contains("`axis` is not supported"), "{e}");
    }

    #[test]
    fn legacy_shape_errors_name_the_node() {
        let mut m = model();
        set_int(node(&mut m, "add_axis1"), "axis", 4);
        let e = import(&m).unwrap_err().to_string();
        assert!(e.contains("add_axis1") && e.contains("does not fit"), "{e}");
        let mut m = model();
        set_int(node(&mut m, "add_axis1"), "axis", 2);
        let e = import(&m).unwrap_err().to_string();
        assert!(e.contains("add_axis1") && e.contains("does not match"), "{e}");
        let mut m = model();
        set_int(node(&mut m, "add_axis1"), "broadcast", 0);
        let e = import(&m).unwrap_err().to_string();
        assert!(e.contains("add_axis1") && e.contains("without `broadcast = 1`"), "{e}");
        let mut m = model();
        m.opset_import[0].version = Some(24);
        let e = import(&m).unwrap_err().to_string();
        assert!(e.contains("opset 24") && e.contains("1..=23"), "{e}");
    }
}
