//! Graph rewrites after import: BatchNormalization folded into the Conv / ConvTranspose / Gemm that
//! feeds it, and removal of nodes no output depends on.

use crate::ir::{Graph, Op, Operand};
use crate::kernels::broadcast::zip_with;
use crate::tensor::Tensor;
use ndarray::{ArrayD, Axis, IxDyn};

fn const_f32(g: &Graph, o: Operand) -> Option<ArrayD<f32>> {
    match o {
        Operand::Const(c) => match &g.consts[c] {
            Tensor::F32(a) => Some(a.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// Per-channel affine form of an inference BatchNorm: `y = a·x + b`.
fn bn_affine(g: &Graph, ins: &[Operand], eps: f32) -> Option<(Vec<f32>, Vec<f32>)> {
    let (s, b, m, v) = (const_f32(g, ins[1])?, const_f32(g, ins[2])?, const_f32(g, ins[3])?, const_f32(g, ins[4])?);
    let a: Vec<f32> = s.iter().zip(v.iter()).map(|(&s, &v)| s / (v + eps).sqrt()).collect();
    let sh: Vec<f32> = b.iter().zip(m.iter()).zip(&a).map(|((&b, &m), &a)| b - m * a).collect();
    Some((a, sh))
}

/// Fold `BatchNormalization(Conv|ConvTranspose|Gemm(x))` into the producer's weight and bias when
/// the producer's output feeds nothing else and its weight (and bias) are constants.
pub fn fold_batchnorm(g: &mut Graph) {
    loop {
        let uses = g.use_counts();
        let mut done = None;
        for (bi, bn) in g.nodes.iter().enumerate() {
            let Op::BatchNorm { eps } = bn.op else { continue };
            let Operand::Value(v) = bn.inputs[0] else { continue };
            if uses[v] != 1 {
                continue;
            }
            let Some(pi) = g.nodes.iter().position(|n| n.outputs.contains(&v)) else { continue };
            let p = &g.nodes[pi];
            let Some((a, b)) = bn_affine(g, &bn.inputs, eps) else { continue };
            let Some(w) = p.inputs.get(1).and_then(|&o| const_f32(g, o)) else { continue };
            let bias = match p.inputs.get(2) {
                Some(&o) => match const_f32(g, o) {
                    Some(t) => Some(t),
                    None => continue,
                },
                None => None,
            };
            let c = a.len();
            let (new_w, new_bias, new_op) = match &p.op {
                Op::Conv { .. } if w.shape()[0] == c => {
                    let mut w2 = w.clone();
                    for (m, mut sub) in w2.axis_iter_mut(Axis(0)).enumerate() {
                        sub.mapv_inplace(|x| x * a[m]);
                    }
                    let b0 = bias.map(|t| t.iter().copied().collect()).unwrap_or(vec![0.0; c]);
                    let nb: Vec<f32> = (0..c).map(|m| b0[m] * a[m] + b[m]).collect();
                    (w2, ArrayD::from_shape_vec(IxDyn(&[c]), nb).unwrap(), p.op.clone())
                }
                Op::ConvTranspose { group, .. } if w.shape()[1] * group == c => {
                    let mpg = w.shape()[1];
                    let cpg = w.shape()[0] / group;
                    let mut w2 = w.clone();
                    for (ci, mut sub) in w2.axis_iter_mut(Axis(0)).enumerate() {
                        let gi = ci / cpg;
                        for (mo, mut s2) in sub.axis_iter_mut(Axis(0)).enumerate() {
                            s2.mapv_inplace(|x| x * a[gi * mpg + mo]);
                        }
                    }
                    let b0 = bias.map(|t| t.iter().copied().collect()).unwrap_or(vec![0.0; c]);
                    let nb: Vec<f32> = (0..c).map(|m| b0[m] * a[m] + b[m]).collect();
                    (w2, ArrayD::from_shape_vec(IxDyn(&[c]), nb).unwrap(), p.op.clone())
                }
                Op::Gemm { alpha, beta, trans_a, trans_b } => {
                    let n_axis = if *trans_b { 0 } else { 1 };
                    if w.ndim() != 2 || w.shape()[n_axis] != c {
                        continue;
                    }
                    let mut w2 = w.clone();
                    for (n, mut sub) in w2.axis_iter_mut(Axis(n_axis)).enumerate() {
                        sub.mapv_inplace(|x| x * a[n]);
                    }
                    let arow = ArrayD::from_shape_vec(IxDyn(&[c]), a.clone()).unwrap();
                    let brow = ArrayD::from_shape_vec(IxDyn(&[c]), b.clone()).unwrap();
                    let cb = match bias {
                        Some(t) => {
                            let scaled = zip_with(&t, &arow, |&x, &y| x * beta * y).ok();
                            match scaled.and_then(|s| zip_with(&s, &brow, |&x, &y| x + y).ok()) {
                                Some(r) => r,
                                None => continue,
                            }
                        }
                        None => brow,
                    };
                    (w2, cb, Op::Gemm { alpha: *alpha, beta: 1.0, trans_a: *trans_a, trans_b: *trans_b })
                }
                _ => continue,
            };
            done = Some((bi, pi, new_w, new_bias, new_op));
            break;
        }
        let Some((bi, pi, w, bias, op)) = done else { return };
        let bn_out = g.nodes[bi].outputs[0];
        g.consts.push(Tensor::F32(w));
        let wi = g.consts.len() - 1;
        g.consts.push(Tensor::F32(bias));
        let bidx = g.consts.len() - 1;
        let p = &mut g.nodes[pi];
        p.inputs.truncate(1);
        p.inputs.push(Operand::Const(wi));
        p.inputs.push(Operand::Const(bidx));
        p.op = op;
        p.outputs[0] = bn_out;
        p.onnx_op = format!("{}+BatchNormalization", p.onnx_op);
        g.nodes.remove(bi);
    }
}

/// Drop nodes whose outputs no graph output depends on, then unused constants.
pub fn remove_dead(g: &mut Graph) {
    let mut live = vec![false; g.values.len()];
    for &o in &g.outputs {
        live[o] = true;
    }
    let mut keep = vec![false; g.nodes.len()];
    for (i, n) in g.nodes.iter().enumerate().rev() {
        if n.outputs.iter().any(|&o| live[o]) {
            keep[i] = true;
            for inp in &n.inputs {
                if let Operand::Value(v) = inp {
                    live[*v] = true;
                }
            }
        }
    }
    let mut it = keep.iter();
    g.nodes.retain(|_| *it.next().unwrap());
    // Compact constants.
    let mut remap = vec![usize::MAX; g.consts.len()];
    let mut consts = Vec::new();
    for n in &mut g.nodes {
        for inp in &mut n.inputs {
            if let Operand::Const(c) = inp {
                if remap[*c] == usize::MAX {
                    remap[*c] = consts.len();
                    consts.push(g.consts[*c].clone());
                }
                *c = remap[*c];
            }
        }
    }
    g.consts = consts;
}
