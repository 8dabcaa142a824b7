//! # zkinfer-prover
//!
//! Structured reference strings (load a KZG params file; generate an insecure one for
//! development), key generation for a compiled model, proving with SHPLONK over a Keccak
//! transcript (the one the EVM verifier replays), and the versioned artifact formats shared with
//! the verifier: keys (`vk`, `pk`) and proofs (JSON with instances and hex proof).

pub mod artifacts;
pub mod error;
pub mod keys;
pub mod mock;
pub mod prove;
pub mod srs;
pub mod statement;

pub use artifacts::{ProofArtifact, PROOF_VERSION};
pub use error::ProverError;
pub use mock::mock;
pub use keys::{circuit_for, params_hash, setup, KeyHeader, ProvingKeyFile, VerifyingKeyFile};
pub use statement::{commitment_hex, model_commitment, Statement};
pub use prove::prove;
pub use srs::{gen_srs, gen_srs_seeded, load_srs, save_srs};

use halo2_proofs::halo2curves::bn256::{Bn256, G1Affine};
/// KZG parameters over BN254.
pub type Srs = halo2_proofs::poly::kzg::commitment::ParamsKZG<Bn256>;
pub type ProvingKey = halo2_proofs::plonk::ProvingKey<G1Affine>;
pub type VerifyingKey = halo2_proofs::plonk::VerifyingKey<G1Affine>;
