//! zkinfer-circuits: Halo2 (halo2-axiom, KZG on BN254) chips grouped by proof technique —
//! linear (dot products, conv, sums), lookup (nonlinear tables), range (rescale and range checks),
//! poseidon (hashed visibility) — and the `ModelCircuit` that lays out a quantized graph from
//! `zkinfer-onnx`. Chips neither prove nor verify. Not written yet: see issue 3.
