//! Op families, one module each, with every stage of the family side by side:
//!
//! * `lower`: ONNX node → IR op (attributes read and checked, legacy forms resolved);
//! * `eval_float`: the float kernel, which is also the shape rule (import evaluates each op on
//!   zeros to learn its output shapes);
//! * `quantize`: the float op → integer ops, with the scale rules of [`crate::quant`];
//! * `eval_int`: the integer semantics the circuit proves, with the range checks it makes.
//!
//! The circuit layout of a family lives in the module of the same name in `zkinfer-circuits`
//! (`circuits/src/ops/`). Adding a family is its module here, its layout there, and its tests.
//!
//! Two kinds of family:
//! * with their own IR op and layout: `compare`, `tree` (and `ml`'s use of them);
//! * lowered at import to IR ops that already have layouts and soundness tests, so they have
//!   only `lower` (a [`crate::import::lower::Lowered::Graph`] of existing ops) and need no
//!   circuit module: `unary` (table lookups), `recurrent` (LSTM/GRU/RNN unrolled), `select`
//!   (reductions, TopK, Hardmax, OneHot), `scatter` (ScatterElements, ScatterND), `construct`
//!   (generated constants, Trilu, DepthToSpace), `indexing` (runtime-index Gather, GatherND),
//!   `einsum`, `resize`, `svm`, `ml_trees` (tree structure and equality branches).
//! * the ops that predate this structure have their lowering here — `layout` (wiring),
//!   `arith`, `spatial` (Conv, pooling), `norm`, `reduce`, and constant-index Gather in
//!   `indexing` — while their float, integer and circuit stages are still shared in
//!   `float_exec.rs`, `quant/quantize.rs`, `quant/exec.rs` and `circuits/src/model.rs`.

pub mod arith;
pub mod compare;
pub mod construct;
pub mod einsum;
pub mod indexing;
pub mod layout;
pub mod ml;
pub mod ml_trees;
pub mod norm;
pub mod recurrent;
pub mod reduce;
pub mod resize;
pub mod scatter;
pub mod select;
pub mod spatial;
pub mod svm;
pub mod tree;
pub mod unary;
