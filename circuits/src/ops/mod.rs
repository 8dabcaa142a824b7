//! Circuit layouts of the op families of `zkinfer_onnx::ops`, one module per family (the
//! family's integer semantics, which these layouts constrain, sit in the module of the same
//! name there). The ops that predate this structure are laid out in [`crate::model`].

pub mod compare;
pub mod tree;

use crate::layout::{Layout, Wire};
use crate::tables::FnKind;
use halo2_proofs::plonk::Error;

/// `[d ≥ 0]` for `d`, range-checking `d` over the lookup range: with limbs, the sign bit of its
/// signed decomposition (the top-limb table pairs it with the top limb); without, one lookup in
/// the non-negative indicator table `(x, [x ≥ 0])` over the lookup range.
pub fn nonneg(lay: &mut Layout, d: &Wire) -> Result<Wire, Error> {
    if lay.tables.limb_bits > 0 {
        lay.signed_limbs(d)
    } else {
        lay.lookup(d, &FnKind::NonNeg)
    }
}
