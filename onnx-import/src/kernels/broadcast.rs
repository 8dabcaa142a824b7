//! Multidirectional (numpy) broadcasting.

use super::KResult;
use ndarray::{ArrayD, IxDyn, Zip};

/// The broadcast shape of two shapes, aligned from the right.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> KResult<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i < rank - a.len() { 1 } else { a[i - (rank - a.len())] };
        let db = if i < rank - b.len() { 1 } else { b[i - (rank - b.len())] };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(format!("shapes {a:?} and {b:?} cannot be broadcast together")),
        };
    }
    Ok(out)
}

/// Broadcast `a` to `shape` (a view copied into an owned array).
pub fn broadcast_to<T: Clone>(a: &ArrayD<T>, shape: &[usize]) -> KResult<ArrayD<T>> {
    a.broadcast(IxDyn(shape))
        .map(|v| v.to_owned())
        .ok_or_else(|| format!("shape {:?} cannot be broadcast to {shape:?}", a.shape()))
}

/// `f(a, b)` elementwise after broadcasting both operands.
pub fn zip_with<A: Clone, B: Clone, C>(
    a: &ArrayD<A>,
    b: &ArrayD<B>,
    mut f: impl FnMut(&A, &B) -> C,
) -> KResult<ArrayD<C>> {
    let shape = broadcast_shape(a.shape(), b.shape())?;
    let av = a.broadcast(IxDyn(&shape)).expect("checked broadcast");
    let bv = b.broadcast(IxDyn(&shape)).expect("checked broadcast");
    Ok(Zip::from(&av).and(&bv).map_collect(|x, y| f(x, y)))
}

/// Fallible `f(a, b)` elementwise after broadcasting.
pub fn try_zip_with<A: Clone, B: Clone, C: Clone + Default, E>(
    a: &ArrayD<A>,
    b: &ArrayD<B>,
    mut f: impl FnMut(&A, &B) -> Result<C, E>,
) -> KResult<Result<ArrayD<C>, E>> {
    let shape = broadcast_shape(a.shape(), b.shape())?;
    let av = a.broadcast(IxDyn(&shape)).expect("checked broadcast");
    let bv = b.broadcast(IxDyn(&shape)).expect("checked broadcast");
    let mut out = Vec::with_capacity(shape.iter().product());
    for (x, y) in av.iter().zip(bv.iter()) {
        match f(x, y) {
            Ok(v) => out.push(v),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("sizes agree")))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shape(&[2, 1, 3], &[4, 1]).unwrap(), vec![2, 4, 3]);
        assert_eq!(broadcast_shape(&[], &[5]).unwrap(), vec![5]);
        assert!(broadcast_shape(&[2, 3], &[4]).is_err());
    }
}
