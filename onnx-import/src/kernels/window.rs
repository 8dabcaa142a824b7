//! Pooling windows over `[N, C, I..]`: every output position sees the in-bounds input values of its
//! window, plus the number of window taps that fall on declared padding (for `count_include_pad`).

use super::KResult;
use crate::ir::Window;
use ndarray::{ArrayD, IxDyn};

/// Apply `f(values, padded_taps)` to every pooling window.
pub fn pool<T: Copy, R>(x: &ArrayD<T>, win: &Window, mut f: impl FnMut(&[T], usize) -> R) -> KResult<ArrayD<R>> {
    let r = win.rank();
    if x.ndim() != r + 2 {
        return Err(format!("pool of rank {r} got input {:?}", x.shape()));
    }
    let (nb, c) = (x.shape()[0], x.shape()[1]);
    let in_sp = x.shape()[2..].to_vec();
    let xs = x.as_standard_layout();
    let xv = xs.as_slice().unwrap();
    let in_sz: usize = in_sp.iter().product();
    let mut in_str = vec![1usize; r];
    for i in (0..r.saturating_sub(1)).rev() {
        in_str[i] = in_str[i + 1] * in_sp[i + 1];
    }
    // For every output position: input offsets of in-bounds taps, and the count of padded taps.
    let mut windows: Vec<(Vec<usize>, usize)> = Vec::new();
    for o in ndarray::indices(IxDyn(&win.out_dims)) {
        let mut offs = Vec::new();
        let mut padded = 0;
        for k in ndarray::indices(IxDyn(&win.kernel)) {
            let mut off = 0;
            let mut inb = true;
            let mut in_pad_region = true;
            for d in 0..r {
                let p = (o[d] * win.strides[d] + k[d] * win.dilations[d]) as isize - win.pad_begin(d) as isize;
                if p < 0 || p >= in_sp[d] as isize {
                    inb = false;
                    if p < -(win.pad_begin(d) as isize) || p >= (in_sp[d] + win.pad_end(d)) as isize {
                        in_pad_region = false;
                    }
                } else {
                    off += p as usize * in_str[d];
                }
            }
            if inb {
                offs.push(off);
            } else if in_pad_region {
                padded += 1;
            }
        }
        if offs.is_empty() {
            return Err("a pooling window lies entirely in the padding".into());
        }
        windows.push((offs, padded));
    }
    let mut out = Vec::with_capacity(nb * c * windows.len());
    let mut buf = Vec::new();
    for nc in 0..nb * c {
        let base = nc * in_sz;
        for (offs, padded) in &windows {
            buf.clear();
            buf.extend(offs.iter().map(|&o| xv[base + o]));
            out.push(f(&buf, *padded));
        }
    }
    let mut shape = vec![nb, c];
    shape.extend(&win.out_dims);
    Ok(ArrayD::from_shape_vec(IxDyn(&shape), out).expect("sizes agree"))
}
