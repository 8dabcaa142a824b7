//! Elementwise functions of one input without a family of their own: Sin, Cos, Atan, Sinh,
//! Cosh, Softsign, HardSigmoid, HardSwish, Celu, Mish, ThresholdedRelu, Shrink, Floor, Ceil and
//! Round; Asin, Acos, Asinh, Acosh, Atanh; Log (the `Ln` table), Reciprocal (a division by the
//! input) and Tan (`sin / cos`, a division).
//!
//! Each is an [`Activation`], defined once in `crate::activation` (the ONNX formula, in f64): the
//! float executor evaluates it, and the quantizer turns it into one table lookup from the input's
//! scale to the activation scale, `y_q = round(f(x_q / 2^s_in) · 2^s_out)` (saturated), exactly
//! as the older activations — so the stages after lowering are the shared ones
//! (`float_exec`, `quant::quantize`, `quant::exec`, and the lookup layout in the circuit, whose
//! soundness tests cover every function table). Floor, Ceil and Round are exact at the table's
//! input scale. Tan is not a table: it diverges inside the range, where a table would saturate
//! silently; as `sin / cos` a value past the range is an error instead. Outside their domains
//! (where the float function is NaN) the tables of Asin, Acos and Acosh hold 0.

use crate::activation::Activation;
use crate::error::Result;
use crate::import::lower::{Ctx, Lowered, Src, SubNode};
use crate::ir::Op;
use crate::tensor::Tensor;

/// Lower an ONNX node of the family (`None`: not one of its ops).
pub(crate) fn lower(ctx: &Ctx) -> Result<Option<Lowered>> {
    let a = &ctx.attrs;
    let act = match ctx.op {
        "Sin" => Activation::Sin,
        "Cos" => Activation::Cos,
        "Atan" => Activation::Atan,
        "Sinh" => Activation::Sinh,
        "Cosh" => Activation::Cosh,
        "Softsign" => Activation::Softsign,
        "HardSigmoid" => Activation::HardSigmoid { alpha: a.float_or("alpha", 0.2)?, beta: a.float_or("beta", 0.5)? },
        "HardSwish" => Activation::HardSwish,
        "Celu" => {
            let alpha = a.float_or("alpha", 1.0)?;
            if alpha == 0.0 || !alpha.is_finite() {
                return Err(ctx.err(format!("Celu needs a finite non-zero alpha, got {alpha}")));
            }
            Activation::Celu { alpha }
        }
        "Mish" => Activation::Mish,
        "ThresholdedRelu" => Activation::ThresholdedRelu { alpha: a.float_or("alpha", 1.0)? },
        "Shrink" => Activation::Shrink { bias: a.float_or("bias", 0.0)?, lambd: a.float_or("lambd", 0.5)? },
        "Floor" => Activation::Floor,
        "Ceil" => Activation::Ceil,
        "Round" => Activation::Round,
        "Asin" => Activation::Asin,
        "Acos" => Activation::Acos,
        "Asinh" => Activation::Asinh,
        "Acosh" => Activation::Acosh,
        "Atanh" => Activation::Atanh,
        "Tan" => {
            // sin / cos: a division with a runtime divisor, so a value past the lookup range near
            // ±π/2 is a range error naming the node (re-calibrate), not a silently saturated table.
            let nodes = vec![
                SubNode { op: Op::Unary(Activation::Sin), inputs: vec![Src::In(0)] },
                SubNode { op: Op::Unary(Activation::Cos), inputs: vec![Src::In(0)] },
                SubNode { op: Op::Div, inputs: vec![Src::Node(0, 0), Src::Node(1, 0)] },
            ];
            return Ok(Some(Lowered::Graph { nodes, outputs: vec![Some(Src::Node(2, 0))] }));
        }
        // ln by table; where the float function is −∞ or NaN the table holds its negative
        // saturation (x_q = 0) or 0 (x_q < 0), so Log belongs after a positive quantity.
        "Log" => Activation::Ln,
        "Reciprocal" => {
            // 1 / x: a division with a runtime divisor (the `vdiv` chip; x = 0 is an error).
            let nodes = vec![SubNode { op: Op::Div, inputs: vec![Src::Const(Tensor::F32(ndarray::arr0(1.0f32).into_dyn())), Src::In(0)] }];
            return Ok(Some(Lowered::Graph { nodes, outputs: vec![Some(Src::Node(0, 0))] }));
        }
        _ => return Ok(None),
    };
    if ctx.ins.len() != 1 || !ctx.has_input(0) {
        return Err(ctx.err(format!("{} takes one input, the node has {}", act.name(), ctx.ins.len())));
    }
    Ok(Some(Lowered::Op { op: Op::Unary(act), data: vec![0] }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_follow_onnx() {
        let hs = Activation::HardSigmoid { alpha: 0.2, beta: 0.5 };
        assert_eq!((hs.eval(-10.0), hs.eval(0.0), hs.eval(10.0)), (0.0, 0.5, 1.0));
        assert_eq!(Activation::HardSwish.eval(-4.0), 0.0);
        assert_eq!(Activation::HardSwish.eval(4.0), 4.0);
        let sh = Activation::Shrink { bias: 0.25, lambd: 0.5 };
        assert_eq!((sh.eval(-1.0), sh.eval(0.3), sh.eval(1.0)), (-0.75, 0.0, 0.75));
        assert_eq!(Activation::ThresholdedRelu { alpha: 1.0 }.eval(1.0), 0.0);
        assert_eq!((Activation::Round.eval(2.5), Activation::Round.eval(-1.5), Activation::Round.eval(0.6)), (2.0, -2.0, 1.0));
        assert_eq!((Activation::Floor.eval(-0.5), Activation::Ceil.eval(-0.5)), (-1.0, 0.0));
        assert!((Activation::Celu { alpha: 2.0 }.eval(-1.0) - 2.0 * ((-0.5f64).exp() - 1.0)).abs() < 1e-12);
        assert!((Activation::Mish.eval(1.0) - 0.865_098_4).abs() < 1e-6);
    }
}
