//! zkinfer-prover: SRS files (loading, insecure dev generation), keygen, witness generation from the
//! integer reference executor, SHPLONK proving with a Keccak transcript, and versioned artifact
//! formats (pk, vk, proof JSON). Not written yet: see issue 3.
