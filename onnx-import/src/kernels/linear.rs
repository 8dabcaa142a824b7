//! Sums of products: batched matmul, grouped N-d convolution and transposed convolution.
//! Each output element is `Σ x·w` over the op's receptive field; bias and rescaling are applied by
//! the executors, so the same kernel serves floats and integers.

use super::broadcast::broadcast_shape;
use super::{KResult, Scalar};
use crate::ir::Window;
use ndarray::{ArrayD, Dimension, IxDyn};

/// numpy `matmul`: `[.., M, K] x [.., K, N] -> [.., M, N]`; a 1-D left operand is `[1, K]` and a
/// 1-D right operand is `[K, 1]`, with the promoted axis dropped from the result.
pub fn matmul<T: Scalar>(a: &ArrayD<T>, b: &ArrayD<T>) -> KResult<ArrayD<T>> {
    let (a_shape, drop_m) = if a.ndim() == 1 { (vec![1, a.len()], true) } else { (a.shape().to_vec(), false) };
    let (b_shape, drop_n) = if b.ndim() == 1 { (vec![b.len(), 1], true) } else { (b.shape().to_vec(), false) };
    let (m, k) = (a_shape[a_shape.len() - 2], a_shape[a_shape.len() - 1]);
    let (k2, n) = (b_shape[b_shape.len() - 2], b_shape[b_shape.len() - 1]);
    if k != k2 {
        return Err(format!("matmul inner dimensions differ: {:?} x {:?}", a.shape(), b.shape()));
    }
    let batch = broadcast_shape(&a_shape[..a_shape.len() - 2], &b_shape[..b_shape.len() - 2])?;
    let mut a_full = batch.clone();
    a_full.extend([m, k]);
    let mut b_full = batch.clone();
    b_full.extend([k, n]);
    let a_b = a.to_shape(IxDyn(&a_shape)).map_err(|e| e.to_string())?;
    let b_b = b.to_shape(IxDyn(&b_shape)).map_err(|e| e.to_string())?;
    let a_b = a_b.broadcast(IxDyn(&a_full)).ok_or("matmul batch broadcast failed")?;
    let b_b = b_b.broadcast(IxDyn(&b_full)).ok_or("matmul batch broadcast failed")?;
    let av: Vec<T> = a_b.iter().cloned().collect();
    let bv: Vec<T> = b_b.iter().cloned().collect();
    let batches: usize = batch.iter().product();
    let mut out = vec![T::zero(); batches * m * n];
    for bi in 0..batches {
        let (ao, bo, oo) = (bi * m * k, bi * k * n, bi * m * n);
        for i in 0..m {
            for j in 0..n {
                let mut acc = T::zero();
                for p in 0..k {
                    acc.mac(&av[ao + i * k + p], &bv[bo + p * n + j]);
                }
                out[oo + i * n + j] = acc;
            }
        }
    }
    let mut out_shape = batch;
    if !drop_m {
        out_shape.push(m);
    }
    if !drop_n {
        out_shape.push(n);
    }
    Ok(ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("sizes agree"))
}

fn strides_of(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Grouped N-d convolution without bias: `x [N, C, I..]`, `w [M, C/g, K..]` -> `[N, M, O..]`,
/// `y[n, m, o] = Σ_{c, k} x[n, g·C/g + c, o·s - p + k·d] · w[m, c, k]` (out-of-bounds taps are 0).
pub fn conv<T: Scalar>(x: &ArrayD<T>, w: &ArrayD<T>, win: &Window, group: usize) -> KResult<ArrayD<T>> {
    let r = win.rank();
    if x.ndim() != r + 2 || w.ndim() != r + 2 {
        return Err(format!("conv of rank {r} got input {:?} and weight {:?}", x.shape(), w.shape()));
    }
    let (nb, c) = (x.shape()[0], x.shape()[1]);
    let (m, cg) = (w.shape()[0], w.shape()[1]);
    if group == 0 || c != cg * group || m % group != 0 {
        return Err(format!("conv channels: input {:?}, weight {:?}, group {group}", x.shape(), w.shape()));
    }
    let in_sp = &x.shape()[2..];
    let k_sp = &w.shape()[2..];
    if k_sp != win.kernel.as_slice() {
        return Err(format!("conv weight spatial shape {k_sp:?} differs from kernel {:?}", win.kernel));
    }
    let xs = x.as_standard_layout();
    let ws = w.as_standard_layout();
    let (xv, wv) = (xs.as_slice().unwrap(), ws.as_slice().unwrap());
    let in_str = strides_of(in_sp);
    let k_str = strides_of(k_sp);
    let in_sz: usize = in_sp.iter().product();
    let k_sz: usize = k_sp.iter().product();
    let out_sz: usize = win.out_dims.iter().product();
    let mpg = m / group;
    // Precompute, for every output position and kernel tap, the input offset (or none).
    let out_idx: Vec<Vec<usize>> = ndarray::indices(IxDyn(&win.out_dims)).into_iter().map(|i| i.slice().to_vec()).collect();
    let k_idx: Vec<Vec<usize>> = ndarray::indices(IxDyn(k_sp)).into_iter().map(|i| i.slice().to_vec()).collect();
    let mut taps: Vec<Option<usize>> = Vec::with_capacity(out_sz * k_sz);
    for o in &out_idx {
        for k in &k_idx {
            let mut off = 0usize;
            let mut ok = true;
            for d in 0..r {
                let p = (o[d] * win.strides[d] + k[d] * win.dilations[d]) as isize - win.pad_begin(d) as isize;
                if p < 0 || p >= in_sp[d] as isize {
                    ok = false;
                    break;
                }
                off += p as usize * in_str[d];
            }
            taps.push(ok.then_some(off));
        }
    }
    let _ = k_str;
    let mut out = vec![T::zero(); nb * m * out_sz];
    for n in 0..nb {
        for mo in 0..m {
            let g = mo / mpg;
            for o in 0..out_sz {
                let mut acc = T::zero();
                for ci in 0..cg {
                    let xb = (n * c + g * cg + ci) * in_sz;
                    let wb = (mo * cg + ci) * k_sz;
                    for k in 0..k_sz {
                        if let Some(off) = taps[o * k_sz + k] {
                            acc.mac(&xv[xb + off], &wv[wb + k]);
                        }
                    }
                }
                out[(n * m + mo) * out_sz + o] = acc;
            }
        }
    }
    let mut shape = vec![nb, m];
    shape.extend(&win.out_dims);
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("sizes agree"))
}

/// Grouped N-d transposed convolution without bias: `x [N, C, I..]`, `w [C, M/g, K..]` ->
/// `[N, M, O..]`, scattering `x[n, c, i] · w[c, m, k]` to `o = i·s + k·d - p`.
pub fn conv_transpose<T: Scalar>(x: &ArrayD<T>, w: &ArrayD<T>, win: &Window, group: usize) -> KResult<ArrayD<T>> {
    let r = win.rank();
    if x.ndim() != r + 2 || w.ndim() != r + 2 {
        return Err(format!("conv_transpose of rank {r} got input {:?} and weight {:?}", x.shape(), w.shape()));
    }
    let (nb, c) = (x.shape()[0], x.shape()[1]);
    let (cw, mpg) = (w.shape()[0], w.shape()[1]);
    if group == 0 || c != cw || c % group != 0 {
        return Err(format!("conv_transpose channels: input {:?}, weight {:?}, group {group}", x.shape(), w.shape()));
    }
    let m = mpg * group;
    let cpg = c / group;
    let in_sp = &x.shape()[2..];
    let k_sp = &w.shape()[2..];
    let xs = x.as_standard_layout();
    let ws = w.as_standard_layout();
    let (xv, wv) = (xs.as_slice().unwrap(), ws.as_slice().unwrap());
    let out_str = strides_of(&win.out_dims);
    let in_sz: usize = in_sp.iter().product();
    let k_sz: usize = k_sp.iter().product();
    let out_sz: usize = win.out_dims.iter().product();
    let in_idx: Vec<Vec<usize>> = ndarray::indices(IxDyn(in_sp)).into_iter().map(|i| i.slice().to_vec()).collect();
    let k_idx: Vec<Vec<usize>> = ndarray::indices(IxDyn(k_sp)).into_iter().map(|i| i.slice().to_vec()).collect();
    let mut out = vec![T::zero(); nb * m * out_sz];
    for n in 0..nb {
        for ci in 0..c {
            let g = ci / cpg;
            for (ii, i) in in_idx.iter().enumerate() {
                let xval = &xv[(n * c + ci) * in_sz + ii];
                for (kk, k) in k_idx.iter().enumerate() {
                    let mut off = 0usize;
                    let mut ok = true;
                    for d in 0..r {
                        let p = (i[d] * win.strides[d] + k[d] * win.dilations[d]) as isize - win.pad_begin(d) as isize;
                        if p < 0 || p >= win.out_dims[d] as isize {
                            ok = false;
                            break;
                        }
                        off += p as usize * out_str[d];
                    }
                    if !ok {
                        continue;
                    }
                    for mo in 0..mpg {
                        let mm = g * mpg + mo;
                        let dst = (n * m + mm) * out_sz + off;
                        out[dst].mac(xval, &wv[(ci * mpg + mo) * k_sz + kk]);
                    }
                }
            }
        }
    }
    let mut shape = vec![nb, m];
    shape.extend(&win.out_dims);
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("sizes agree"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::array_from;

    #[test]
    fn matmul_2d_and_vector() {
        let a = array_from(&[2, 3], vec![1i64, 2, 3, 4, 5, 6]);
        let b = array_from(&[3, 1], vec![1i64, 0, -1]);
        assert_eq!(matmul(&a, &b).unwrap().into_raw_vec_and_offset().0, vec![-2, -2]);
        let v = array_from(&[3], vec![1i64, 1, 1]);
        let r = matmul(&v, &array_from(&[3, 2], vec![1i64, 2, 3, 4, 5, 6])).unwrap();
        assert_eq!(r.shape(), &[2]);
        assert_eq!(r.into_raw_vec_and_offset().0, vec![9, 12]);
    }

    #[test]
    fn conv_1d_padded_strided() {
        let x = array_from(&[1, 1, 5], vec![1i64, 2, 3, 4, 5]);
        let w = array_from(&[1, 1, 3], vec![1i64, 1, 1]);
        let win = Window { kernel: vec![3], strides: vec![2], pads: vec![1, 1], dilations: vec![1], out_dims: vec![3] };
        assert_eq!(conv(&x, &w, &win, 1).unwrap().into_raw_vec_and_offset().0, vec![3, 9, 9]);
    }
}
