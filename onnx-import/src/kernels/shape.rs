//! Data-movement kernels: each output element is a copy of one input element (or a pad value).
//! In the circuit these are pure rewiring.

use super::KResult;
use crate::ir::{PadMode, SliceRange};
use ndarray::{ArrayD, Axis, IxDyn, Slice};

pub fn reshape<T: Clone>(x: &ArrayD<T>, shape: &[usize]) -> KResult<ArrayD<T>> {
    let n: usize = shape.iter().product();
    if n != x.len() {
        return Err(format!("cannot reshape {:?} ({} elements) to {shape:?}", x.shape(), x.len()));
    }
    let data: Vec<T> = x.iter().cloned().collect();
    Ok(ArrayD::from_shape_vec(IxDyn(shape), data).expect("sizes agree"))
}

pub fn transpose<T: Clone>(x: &ArrayD<T>, perm: &[usize]) -> KResult<ArrayD<T>> {
    let mut seen = vec![false; x.ndim()];
    if perm.len() != x.ndim() || perm.iter().any(|&p| p >= x.ndim() || std::mem::replace(&mut seen[p], true)) {
        return Err(format!("perm {perm:?} is not a permutation of rank {}", x.ndim()));
    }
    Ok(x.clone().permuted_axes(IxDyn(perm)).as_standard_layout().into_owned())
}

pub fn concat<T: Clone>(xs: &[&ArrayD<T>], axis: usize) -> KResult<ArrayD<T>> {
    let views: Vec<_> = xs.iter().map(|a| a.view()).collect();
    ndarray::concatenate(Axis(axis), &views)
        .map_err(|e| format!("concat along axis {axis} of shapes {:?}: {e}", xs.iter().map(|a| a.shape().to_vec()).collect::<Vec<_>>()))
}

pub fn split<T: Clone>(x: &ArrayD<T>, axis: usize, sizes: &[usize]) -> KResult<Vec<ArrayD<T>>> {
    if axis >= x.ndim() || sizes.iter().sum::<usize>() != x.shape()[axis] {
        return Err(format!("split sizes {sizes:?} do not cover axis {axis} of {:?}", x.shape()));
    }
    let mut out = Vec::new();
    let mut start = 0;
    for &s in sizes {
        out.push(x.slice_axis(Axis(axis), Slice::from(start..start + s)).to_owned());
        start += s;
    }
    Ok(out)
}

pub fn slice<T: Clone>(x: &ArrayD<T>, ranges: &[SliceRange]) -> KResult<ArrayD<T>> {
    if ranges.len() != x.ndim() {
        return Err(format!("slice has {} ranges for rank {}", ranges.len(), x.ndim()));
    }
    let out_shape: Vec<usize> = ranges.iter().map(|r| r.len).collect();
    let mut out = Vec::with_capacity(out_shape.iter().product());
    for idx in ndarray::indices(IxDyn(&out_shape)) {
        let src: Vec<usize> = (0..x.ndim())
            .map(|d| (ranges[d].start as isize + idx[d] as isize * ranges[d].step) as usize)
            .collect();
        out.push(x[IxDyn(&src)].clone());
    }
    Ok(ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("sizes agree"))
}

/// Gather along `axis` with constant (already non-negative) indices; output shape is
/// `x.shape[..axis] ++ indices.shape ++ x.shape[axis+1..]`.
pub fn gather<T: Clone>(x: &ArrayD<T>, axis: usize, indices: &ArrayD<i64>) -> KResult<ArrayD<T>> {
    let dim = x.shape()[axis] as i64;
    let mut picked = Vec::new();
    for &i in indices.iter() {
        let j = if i < 0 { i + dim } else { i };
        if j < 0 || j >= dim {
            return Err(format!("gather index {i} out of bounds for axis {axis} of size {dim}"));
        }
        picked.push(j as usize);
    }
    let sel = x.select(Axis(axis), &picked);
    let mut shape: Vec<usize> = x.shape()[..axis].to_vec();
    shape.extend_from_slice(indices.shape());
    shape.extend_from_slice(&x.shape()[axis + 1..]);
    reshape(&sel, &shape)
}

pub fn tile<T: Clone>(x: &ArrayD<T>, repeats: &[usize]) -> KResult<ArrayD<T>> {
    if repeats.len() != x.ndim() {
        return Err(format!("tile repeats {repeats:?} do not match rank {}", x.ndim()));
    }
    let mut cur = x.clone();
    for (axis, &r) in repeats.iter().enumerate() {
        let views: Vec<_> = (0..r).map(|_| cur.view()).collect();
        cur = if r == 0 {
            let mut s = cur.shape().to_vec();
            s[axis] = 0;
            ArrayD::from_shape_vec(IxDyn(&s), vec![]).expect("empty")
        } else {
            ndarray::concatenate(Axis(axis), &views).map_err(|e| e.to_string())?
        };
    }
    Ok(cur)
}

pub fn expand<T: Clone>(x: &ArrayD<T>, shape: &[usize]) -> KResult<ArrayD<T>> {
    let target = super::broadcast::broadcast_shape(x.shape(), shape)?;
    super::broadcast::broadcast_to(x, &target)
}

/// Pad with `pads` = begin pads per axis followed by end pads.
pub fn pad<T: Clone>(x: &ArrayD<T>, mode: PadMode, pads: &[usize], value: T) -> KResult<ArrayD<T>> {
    let r = x.ndim();
    if pads.len() != 2 * r {
        return Err(format!("pads {pads:?} do not match rank {r}"));
    }
    for d in 0..r {
        let n = x.shape()[d];
        let need = pads[d].max(pads[r + d]);
        match mode {
            PadMode::Reflect if need > 0 && need >= n => {
                return Err(format!("reflect pad {need} needs an axis longer than {n}"))
            }
            PadMode::Edge if need > 0 && n == 0 => return Err("edge pad of an empty axis".into()),
            _ => {}
        }
    }
    let out_shape: Vec<usize> = (0..r).map(|d| x.shape()[d] + pads[d] + pads[r + d]).collect();
    let mut out = Vec::with_capacity(out_shape.iter().product());
    let mut src = vec![0usize; r];
    for idx in ndarray::indices(IxDyn(&out_shape)) {
        let mut inside = true;
        for d in 0..r {
            let n = x.shape()[d] as isize;
            let p = idx[d] as isize - pads[d] as isize;
            src[d] = if (0..n).contains(&p) {
                p as usize
            } else {
                match mode {
                    PadMode::Constant => {
                        inside = false;
                        0
                    }
                    PadMode::Edge => p.clamp(0, n - 1) as usize,
                    PadMode::Reflect => {
                        if p < 0 { (-p) as usize } else { (2 * (n - 1) - p) as usize }
                    }
                }
            };
        }
        out.push(if inside { x[IxDyn(&src)].clone() } else { value.clone() });
    }
    Ok(ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("sizes agree"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::array_from;

    #[test]
    fn pad_modes() {
        let x = array_from(&[3], vec![1i64, 2, 3]);
        assert_eq!(pad(&x, PadMode::Constant, &[1, 2], 0).unwrap().into_raw_vec_and_offset().0, vec![0, 1, 2, 3, 0, 0]);
        assert_eq!(pad(&x, PadMode::Reflect, &[2, 1], 0).unwrap().into_raw_vec_and_offset().0, vec![3, 2, 1, 2, 3, 2]);
        assert_eq!(pad(&x, PadMode::Edge, &[1, 1], 0).unwrap().into_raw_vec_and_offset().0, vec![1, 1, 2, 3, 3]);
    }

    #[test]
    fn slice_negative_step() {
        let x = array_from(&[5], vec![0i64, 1, 2, 3, 4]);
        let r = [SliceRange { start: 4, step: -2, len: 3 }];
        assert_eq!(slice(&x, &r).unwrap().into_raw_vec_and_offset().0, vec![4, 2, 0]);
    }
}
