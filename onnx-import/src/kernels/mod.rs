//! Shape-generic kernels shared by the float executor and the integer reference executor.
//! Each kernel is written once over a [`Scalar`] (f32 or i64): data movement (reshape, slice,
//! pad, ...), broadcasting, matmul, convolution, pooling windows and reductions. Kernel errors are
//! plain strings; executors attach the node name and op.

pub mod broadcast;
pub mod linear;
pub mod reduce;
pub mod shape;
pub mod window;

use crate::quant::rules;

/// Element type of the linear kernels: anything with a zero and a multiply-accumulate. Integer
/// multiply-accumulate computes the product in i128 and overflows stickily
/// ([`rules::accumulate`]): a partial sum that reaches [`rules::VALUE_LIMIT`] stays at
/// [`rules::OVERFLOW`], which the integer executor then rejects. The circuit uses a symbolic
/// implementation to learn which products make up each output.
pub trait Scalar: Clone + Default + std::fmt::Debug + Send + Sync + 'static {
    fn zero() -> Self {
        Self::default()
    }
    /// `self += a * b`.
    fn mac(&mut self, a: &Self, b: &Self);
}

impl Scalar for f32 {
    fn mac(&mut self, a: &Self, b: &Self) {
        *self += a * b;
    }
}

impl Scalar for i64 {
    fn mac(&mut self, a: &Self, b: &Self) {
        *self = rules::accumulate(*self, *a as i128 * *b as i128);
    }
}

/// Kernel result: errors are one-line descriptions without node context.
pub type KResult<T> = Result<T, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_mac_overflow_is_sticky() {
        // 2^61·4 = 2^63 overflows, and the chain would come back to 0 with -2^63.
        let mut s = 0i64;
        s.mac(&(1 << 61), &4);
        s.mac(&(1 << 61), &-4);
        assert_eq!(s, rules::OVERFLOW);
        let mut t = 0i64;
        t.mac(&(1 << 40), &3);
        t.mac(&-7, &5);
        assert_eq!(t, 3 * (1 << 40) - 35);
    }
}
