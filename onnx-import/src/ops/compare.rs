//! Comparisons, logic and selection: `Equal`, `Less`, `LessOrEqual`, `Greater`,
//! `GreaterOrEqual`, `Not`, `And`, `Or`, `Xor`, `Where`, `Sign` (opsets 7–23).
//!
//! Booleans are i64 tensors holding 0 or 1 in the float executor, and scale-0 integers in the
//! quantized graph. A comparison's operands are aligned to one scale, so the integer comparison
//! is the comparison of the quantized values.
//!
//! Integer semantics (what the circuit proves, `circuits/src/ops/compare.rs`):
//! * `GreaterOrEqual(a, b) = [a − b ≥ 0]`, `Less(a, b) = 1 − [a − b ≥ 0]`,
//!   `LessOrEqual(a, b) = [b − a ≥ 0]`, `Greater(a, b) = 1 − [b − a ≥ 0]`; the difference is
//!   range-checked over the lookup range (the circuit takes its sign bit from that check);
//! * `Equal(a, b) = [a − b = 0]`, the range-checked difference looked up in the is-zero table;
//! * on booleans: `Not x = 1 − x`, `And = x·y`, `Or = x + y − x·y`, `Xor = x + y − 2·x·y`;
//! * `Where(c, x, y) = y + c·(x − y)` with `x`, `y` aligned and `c` boolean;
//! * `Sign(x) ∈ {−1, 0, 1}`, `x` range-checked (sign table), scale 0.
//!
//! Logic ops and `Where` need boolean operands. The quantizer takes a runtime boolean only when
//! a comparison or a logic op produced it (0 or 1 by construction in the circuit), or a constant
//! 0/1; anything else is refused with the node named.

use crate::error::{Error, Result};
use crate::import::lower::{Ctx, Lowered};
use crate::ir::{Graph, Op, Operand, ValueId};
use crate::kernels::{broadcast, KResult};
use crate::quant::exec::Checker;
use crate::quant::quantize::{Builder, In};
use crate::quant::rules::bounded;
use crate::quant::QOp;
use crate::tensor::{DType, Tensor};
use ndarray::{ArrayD, Zip};
use serde::{Deserialize, Serialize};

/// An op of the family (the same in the float IR and the quantized graph).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Not,
    And,
    Or,
    Xor,
    /// `c ? x : y` elementwise, the three operands broadcast.
    Where,
    /// −1, 0 or 1.
    Sign,
}

impl CompareOp {
    pub fn from_onnx(op: &str) -> Option<CompareOp> {
        use CompareOp::*;
        Some(match op {
            "Equal" => Equal,
            "Less" => Less,
            "LessOrEqual" => LessOrEqual,
            "Greater" => Greater,
            "GreaterOrEqual" => GreaterOrEqual,
            "Not" => Not,
            "And" => And,
            "Or" => Or,
            "Xor" => Xor,
            "Where" => Where,
            "Sign" => Sign,
            _ => return None,
        })
    }
    pub fn name(&self) -> &'static str {
        use CompareOp::*;
        match self {
            Equal => "Equal",
            Less => "Less",
            LessOrEqual => "LessOrEqual",
            Greater => "Greater",
            GreaterOrEqual => "GreaterOrEqual",
            Not => "Not",
            And => "And",
            Or => "Or",
            Xor => "Xor",
            Where => "Where",
            Sign => "Sign",
        }
    }
    /// Whether the op compares two numbers (its output is a boolean).
    pub fn is_comparison(&self) -> bool {
        use CompareOp::*;
        matches!(self, Equal | Less | LessOrEqual | Greater | GreaterOrEqual)
    }
    /// Whether the op combines booleans.
    pub fn is_logic(&self) -> bool {
        use CompareOp::*;
        matches!(self, Not | And | Or | Xor)
    }
    /// Whether its output is 0 or 1 whenever its boolean operands are.
    pub fn is_boolean(&self) -> bool {
        self.is_comparison() || self.is_logic()
    }
    fn arity(&self) -> usize {
        match self {
            CompareOp::Not | CompareOp::Sign => 1,
            CompareOp::Where => 3,
            _ => 2,
        }
    }
}

/// Lower an ONNX node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let Some(op) = CompareOp::from_onnx(ctx.op) else { return Ok(None) };
    let data: Vec<usize> = (0..ctx.ins.len()).filter(|&i| ctx.has_input(i)).collect();
    if data.len() != op.arity() {
        return Err(ctx.err(format!("{} takes {} inputs, the node has {}", op.name(), op.arity(), data.len())));
    }
    Ok(Some(Lowered::Op { op: Op::Compare(op), data }))
}

fn bools(t: &Tensor) -> ArrayD<i64> {
    match t {
        Tensor::I64(a) => a.mapv(|v| (v != 0) as i64),
        Tensor::F32(a) => a.mapv(|v| (v != 0.0) as i64),
    }
}

fn sign_f(v: f32) -> f32 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Broadcast three arrays to their common shape.
fn broadcast3<A: Clone, B: Clone, C: Clone>(a: &ArrayD<A>, b: &ArrayD<B>, c: &ArrayD<C>) -> KResult<(ArrayD<A>, ArrayD<B>, ArrayD<C>)> {
    let s = broadcast::broadcast_shape(&broadcast::broadcast_shape(a.shape(), b.shape())?, c.shape())?;
    Ok((broadcast::broadcast_to(a, &s)?, broadcast::broadcast_to(b, &s)?, broadcast::broadcast_to(c, &s)?))
}

/// The float kernel (ONNX semantics; booleans as 0/1 integers).
pub fn eval_float(op: CompareOp, ins: &[Tensor]) -> KResult<Vec<Tensor>> {
    use CompareOp::*;
    let int = ins.iter().all(|t| t.dtype() == DType::I64);
    let cmp = |a: std::cmp::Ordering| -> bool {
        use std::cmp::Ordering as O;
        match op {
            Equal => a == O::Equal,
            Less => a == O::Less,
            LessOrEqual => a != O::Greater,
            Greater => a == O::Greater,
            _ => a != O::Less,
        }
    };
    let out = match op {
        Equal | Less | LessOrEqual | Greater | GreaterOrEqual => {
            if int {
                let (a, b) = (ins[0].to_i64().expect("integer"), ins[1].to_i64().expect("integer"));
                Tensor::I64(broadcast::zip_with(&a, &b, |x, y| cmp(x.cmp(y)) as i64)?)
            } else {
                // A NaN compares false with everything (and Equal is false).
                Tensor::I64(broadcast::zip_with(&ins[0].to_f32(), &ins[1].to_f32(), |x, y| x.partial_cmp(y).is_some_and(cmp) as i64)?)
            }
        }
        Not => Tensor::I64(bools(&ins[0]).mapv(|v| 1 - v)),
        And | Or | Xor => Tensor::I64(broadcast::zip_with(&bools(&ins[0]), &bools(&ins[1]), |&x, &y| match op {
            And => x & y,
            Or => x | y,
            _ => x ^ y,
        })?),
        Where => {
            let c = bools(&ins[0]);
            if ins[1].dtype() == DType::I64 && ins[2].dtype() == DType::I64 {
                let (c, x, y) = broadcast3(&c, &ins[1].to_i64().expect("integer"), &ins[2].to_i64().expect("integer"))?;
                Tensor::I64(Zip::from(&c).and(&x).and(&y).map_collect(|&c, &x, &y| if c != 0 { x } else { y }))
            } else {
                let (c, x, y) = broadcast3(&c, &ins[1].to_f32(), &ins[2].to_f32())?;
                Tensor::F32(Zip::from(&c).and(&x).and(&y).map_collect(|&c, &x, &y| if c != 0 { x } else { y }))
            }
        }
        Sign => match &ins[0] {
            Tensor::I64(a) => Tensor::I64(a.mapv(i64::signum)),
            Tensor::F32(a) => Tensor::F32(a.mapv(sign_f)),
        },
    };
    Ok(vec![out])
}

/// A boolean operand: a constant 0/1, or a value a comparison or logic op produced.
fn boolean(b: &mut Builder, i: In) -> Result<Operand> {
    match i {
        In::C(c) => {
            if c.iter().any(|&v| v != 0.0 && v != 1.0) {
                return Err(b.err("a boolean constant must hold only 0 and 1"));
            }
            b.konst(&c, 0)
        }
        In::V(v) if b.is_boolean(v) => Ok(Operand::Value(v)),
        In::V(_) => Err(b.err("this operand must be a boolean computed by a comparison or logic op (a boolean model input or a cast to bool is not supported yet)")),
    }
}

/// Quantize a node of the family.
pub(crate) fn quantize(b: &mut Builder, g: &Graph, op: CompareOp) -> Result<Vec<ValueId>> {
    let out = b.out_shape(g, 0);
    let n = b.node.inputs.len();
    let ins: Vec<In> = (0..n).map(|i| b.input(g, i)).collect::<Result<_>>()?;
    let q = QOp::Compare(op);
    let v = if op.is_comparison() {
        let (ops, _) = b.aligned(ins)?;
        b.emit(q, ops, out, 0)
    } else if op.is_logic() {
        let ops = ins.into_iter().map(|i| boolean(b, i)).collect::<Result<Vec<_>>>()?;
        b.emit(q, ops, out, 0)
    } else if op == CompareOp::Where {
        let mut it = ins.into_iter();
        let c = boolean(b, it.next().expect("3 inputs"))?;
        let (xy, s) = b.aligned(it.collect())?;
        b.emit(q, vec![c, xy[0], xy[1]], out, s)
    } else {
        let v = b.value_of(ins.into_iter().next().expect("1 input"))?;
        b.emit(q, vec![Operand::Value(v)], out, 0)
    };
    Ok(vec![v])
}

/// The integer semantics (module docs), with the range checks the circuit makes.
pub(crate) fn eval_int(op: CompareOp, ins: &[ArrayD<i64>], c: &mut Checker) -> Result<Vec<ArrayD<i64>>> {
    use CompareOp::*;
    let kernel = |r: KResult<ArrayD<i64>>, c: &Checker| r.map_err(|e| c.invalid(e));
    let y = match op {
        Equal | Less | LessOrEqual | Greater | GreaterOrEqual => {
            let r = broadcast::try_zip_with(&ins[0], &ins[1], |&a, &b| -> Result<i64> {
                let d = match op {
                    LessOrEqual | Greater => bounded(b as i128 - a as i128),
                    _ => bounded(a as i128 - b as i128),
                };
                c.check(d)?;
                Ok(match op {
                    Equal => (d == 0) as i64,
                    GreaterOrEqual | LessOrEqual => (d >= 0) as i64,
                    _ => (d < 0) as i64,
                })
            });
            r.map_err(|e| c.invalid(e))??
        }
        Not => ins[0].mapv(|v| 1 - v),
        And | Or | Xor => kernel(
            broadcast::zip_with(&ins[0], &ins[1], |&x, &y| match op {
                And => x * y,
                Or => x + y - x * y,
                _ => x + y - 2 * x * y,
            }),
            c,
        )?,
        Where => {
            let (cd, x, y) = broadcast3(&ins[0], &ins[1], &ins[2]).map_err(|e| c.invalid(e))?;
            Zip::from(&cd).and(&x).and(&y).map_collect(|&k, &x, &y| bounded(y as i128 + k as i128 * (x as i128 - y as i128)))
        }
        Sign => {
            c.check_all(&ins[0])?;
            ins[0].mapv(i64::signum)
        }
    };
    if y.iter().any(|&v| crate::quant::rules::overflowed(v)) {
        return Err(Error::Arithmetic { node: c.node.into(), op: c.op.into(), reason: "integer overflow; lower input_scale / param_scale".into() });
    }
    Ok(vec![y])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    fn f(v: &[f32]) -> Tensor {
        Tensor::F32(arr1(v).into_dyn())
    }
    fn i(v: &[i64]) -> Tensor {
        Tensor::I64(arr1(v).into_dyn())
    }

    #[test]
    fn float_comparisons_follow_onnx() {
        let (a, b) = (f(&[1.0, 2.0, 3.0, f32::NAN]), f(&[2.0, 2.0, 2.0, 2.0]));
        let run = |op| eval_float(op, &[a.clone(), b.clone()]).unwrap().remove(0);
        assert_eq!(run(CompareOp::Less), i(&[1, 0, 0, 0]));
        assert_eq!(run(CompareOp::LessOrEqual), i(&[1, 1, 0, 0]));
        assert_eq!(run(CompareOp::Greater), i(&[0, 0, 1, 0]));
        assert_eq!(run(CompareOp::GreaterOrEqual), i(&[0, 1, 1, 0]));
        assert_eq!(run(CompareOp::Equal), i(&[0, 1, 0, 0]));
        assert_eq!(eval_float(CompareOp::Sign, &[f(&[-2.0, 0.0, 0.5])]).unwrap()[0], f(&[-1.0, 0.0, 1.0]));
        let w = eval_float(CompareOp::Where, &[i(&[1, 0, 1]), f(&[1.0, 2.0, 3.0]), f(&[9.0])]).unwrap();
        assert_eq!(w[0], f(&[1.0, 9.0, 3.0]));
        let x = eval_float(CompareOp::Xor, &[i(&[0, 0, 1, 1]), i(&[0, 1, 0, 1])]).unwrap();
        assert_eq!(x[0], i(&[0, 1, 1, 0]));
    }
}
