//! zkinfer-verifier: native proof verification, Solidity verifier generation, EVM calldata encoding,
//! execution in an embedded EVM (revm) and on a JSON-RPC node. Not written yet: see issues 3 and 4.
