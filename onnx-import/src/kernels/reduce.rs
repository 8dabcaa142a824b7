//! Reductions over a set of axes, and ArgMax.

use super::KResult;
use ndarray::{ArrayD, Axis, IxDyn};

/// Fold the values along `axes` (sorted, distinct) with `f` over each group; `keepdims` keeps the
/// reduced axes as size 1.
pub fn reduce<T: Clone, R>(x: &ArrayD<T>, axes: &[usize], keepdims: bool, mut f: impl FnMut(&[T]) -> R) -> KResult<ArrayD<R>> {
    if axes.iter().any(|&a| a >= x.ndim()) {
        return Err(format!("reduce axes {axes:?} out of range for rank {}", x.ndim()));
    }
    let r = x.ndim();
    let kept: Vec<usize> = (0..r).filter(|d| !axes.contains(d)).collect();
    // Move reduced axes last, then each row of the 2-D view is one group.
    let mut perm = kept.clone();
    perm.extend(axes);
    let p = x.view().permuted_axes(IxDyn(&perm));
    let data: Vec<T> = p.iter().cloned().collect();
    let group: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let outer: usize = kept.iter().map(|&a| x.shape()[a]).product();
    let mut out = Vec::with_capacity(outer);
    for i in 0..outer {
        out.push(f(&data[i * group..(i + 1) * group]));
    }
    let shape: Vec<usize> = if keepdims {
        (0..r).map(|d| if axes.contains(&d) { 1 } else { x.shape()[d] }).collect()
    } else {
        kept.iter().map(|&a| x.shape()[a]).collect()
    };
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("sizes agree"))
}

/// Index of the maximum along `axis` (first or last occurrence).
pub fn argmax<T: PartialOrd + Clone>(x: &ArrayD<T>, axis: usize, keepdims: bool, last: bool) -> KResult<ArrayD<i64>> {
    if axis >= x.ndim() {
        return Err(format!("argmax axis {axis} out of range for rank {}", x.ndim()));
    }
    let out = x.map_axis(Axis(axis), |lane| {
        let mut best = 0usize;
        for (i, v) in lane.iter().enumerate() {
            let b = &lane[best];
            if v > b || (last && v == b) {
                best = i;
            }
        }
        best as i64
    });
    Ok(if keepdims { out.insert_axis(Axis(axis)) } else { out })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::array_from;

    #[test]
    fn reduce_middle_axis() {
        let x = array_from(&[2, 3, 2], (0..12i64).collect());
        let s = reduce(&x, &[1], true, |g| g.iter().sum::<i64>()).unwrap();
        assert_eq!(s.shape(), &[2, 1, 2]);
        assert_eq!(s.into_raw_vec_and_offset().0, vec![6, 9, 24, 27]);
    }

    #[test]
    fn argmax_ties() {
        let x = array_from(&[4], vec![1i64, 3, 3, 0]);
        assert_eq!(argmax(&x, 0, false, false).unwrap().into_raw_vec_and_offset().0, vec![1]);
        assert_eq!(argmax(&x, 0, false, true).unwrap().into_raw_vec_and_offset().0, vec![2]);
    }
}
