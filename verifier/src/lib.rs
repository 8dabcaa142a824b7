//! # zkinfer-verifier
//!
//! * [`native`]: verification of zkinfer proofs (SHPLONK/KZG over BN254, Keccak transcript);
//! * [`evm`]: a Solidity verifier per verifying key (snark-verifier's EVM loader), compiled
//!   offline ([`solc`]) and run in an embedded EVM (revm) or on a JSON-RPC node ([`rpc`], alloy).

pub mod claims;
pub mod evm;
pub mod native;
pub mod rpc;
pub mod vka;
pub mod solc;
pub mod wrapper;

pub use claims::{Claims, Verdict};
pub use native::verify;
