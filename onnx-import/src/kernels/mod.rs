//! Shape-generic kernels shared by the float executor and the integer reference executor.
//! Each kernel is written once over a [`Scalar`] (f32 or i64): data movement (reshape, slice,
//! pad, ...), broadcasting, matmul, convolution, pooling windows and reductions. Kernel errors are
//! plain strings; executors attach the node name and op.

pub mod broadcast;
pub mod linear;
pub mod reduce;
pub mod shape;
pub mod window;

/// Element type of the shared kernels. Integer multiply-accumulate saturates, so an overflow shows
/// up as a value at the i64 limits, which the integer executor then rejects.
pub trait Scalar:
    Copy + Default + PartialOrd + PartialEq + std::fmt::Debug + Send + Sync + 'static
{
    fn zero() -> Self {
        Self::default()
    }
    fn add(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// `acc + a * b`.
    fn mac(self, a: Self, b: Self) -> Self {
        self.add(a.mul(b))
    }
}

impl Scalar for f32 {
    fn add(self, o: Self) -> Self {
        self + o
    }
    fn mul(self, o: Self) -> Self {
        self * o
    }
}

impl Scalar for i64 {
    fn add(self, o: Self) -> Self {
        self.saturating_add(o)
    }
    fn mul(self, o: Self) -> Self {
        self.saturating_mul(o)
    }
}

/// Kernel result: errors are one-line descriptions without node context.
pub type KResult<T> = Result<T, String>;
