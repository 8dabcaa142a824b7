//! Shape-generic kernels shared by the float executor and the integer reference executor.
//! Each kernel is written once over a [`Scalar`] (f32 or i64): data movement (reshape, slice,
//! pad, ...), broadcasting, matmul, convolution, pooling windows and reductions. Kernel errors are
//! plain strings; executors attach the node name and op.

pub mod broadcast;
pub mod linear;
pub mod reduce;
pub mod shape;
pub mod window;

/// Element type of the linear kernels: anything with a zero and a multiply-accumulate. Integer
/// multiply-accumulate saturates, so an overflow shows up as a value at the i64 limits, which the
/// integer executor then rejects. The circuit uses a symbolic implementation to learn which
/// products make up each output.
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
        *self = self.saturating_add(a.saturating_mul(*b));
    }
}

/// Kernel result: errors are one-line descriptions without node context.
pub type KResult<T> = Result<T, String>;
