//! EVM verification: a Solidity verifier generated for one verifying key, an ABI-friendly wrapper,
//! calldata encoding, and an embedded EVM (revm) to deploy and call them.
//!
//! The generated contract (`Halo2Verifier`, snark-verifier's EVM loader, SHPLONK) has the
//! verifying key built in and takes raw calldata: every instance as a 32-byte big-endian word,
//! then the proof bytes; it reverts on an invalid proof and returns the word 1 on a valid one.
//! `ZkinferVerifier` ([`crate::wrapper`]) wraps it with `verifyProof(bytes proof, uint256[]
//! values) returns (bool)` and `modelCommitment()`.

use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine};
use halo2_proofs::poly::commitment::ParamsProver;
use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Bytes, TxKind};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};
use snark_verifier::loader::evm::EvmLoader;
use snark_verifier::pcs::kzg::{Bdfg21, KzgAs};
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier::system::halo2::{compile, Config};
use snark_verifier::verifier::plonk::PlonkVerifier;
use snark_verifier::verifier::SnarkVerifier;
use std::rc::Rc;
use zkinfer_circuits::{InstancePacking, PackError};
use zkinfer_prover::{Srs, VerifyingKey};

pub use crate::wrapper::{statement_of, verifier_file, wrapper_sol};
pub use revm::primitives::Address;

type Shplonk = KzgAs<Bn256, Bdfg21>;

/// Solidity source of the verifier for `vk` with `num_instances` instances, as snark-verifier
/// generates it (returning nothing on success; [`verifier_file`] patches that).
pub fn solidity_verifier(srs: &Srs, vk: &VerifyingKey, num_instances: usize) -> String {
    let protocol = compile(srs, vk, Config::kzg().with_num_instance(vec![num_instances]));
    let dk = (srs.get_g()[0], srs.g2(), srs.s_g2()).into();
    let loader = EvmLoader::new::<Fq, Fr>();
    let protocol = protocol.loaded(&loader);
    let mut transcript = EvmTranscript::<G1Affine, Rc<EvmLoader>, _, _>::new(&loader);
    let instances = transcript.load_instances(vec![num_instances]);
    let proof = PlonkVerifier::<Shplonk>::read_proof(&dk, &protocol, &instances, &mut transcript).expect("proof layout of the verifying key");
    PlonkVerifier::<Shplonk>::verify(&dk, &protocol, &instances, &proof).expect("verifier program");
    loader.solidity_code()
}

/// Raw calldata of the generated verifier: instances as 32-byte words, then the proof.
pub fn encode_calldata(instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    snark_verifier::loader::evm::encode_calldata(&[instances.to_vec()], proof)
}

/// Gas limit of every transaction we send: under the EIP-7825 per-transaction cap (2^24).
pub const TX_GAS_LIMIT: u64 = 16_000_000;

/// Outcome of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub success: bool,
    /// Gas used by the whole transaction (intrinsic and calldata gas included).
    pub gas_used: u64,
    pub output: Vec<u8>,
}

/// Somewhere contracts run: the embedded EVM or a JSON-RPC node ([`crate::rpc::RpcChain`]).
/// Both run the same hardfork (Osaka), so the same transaction uses the same gas on both.
pub trait Chain {
    /// Deploy contract creation code; returns the address and the gas used.
    fn deploy(&mut self, code: Vec<u8>) -> Result<(Address, u64), String>;
    /// Send a transaction calling `to` with `data`.
    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Call, String>;
}

/// An in-memory EVM (revm, mainnet rules of the Osaka hardfork, BN254 precompiles).
pub struct EmbeddedEvm {
    evm: revm::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>,
    nonce: u64,
}

impl Default for EmbeddedEvm {
    /// Mainnet rules, including the 24,576-byte contract size limit.
    fn default() -> Self {
        let ctx = Context::mainnet().with_db(InMemoryDB::default()).modify_cfg_chained(|cfg| cfg.set_spec_and_mainnet_gas_params(SpecId::OSAKA));
        EmbeddedEvm { evm: ctx.build_mainnet(), nonce: 0 }
    }
}

impl EmbeddedEvm {
    /// Mainnet rules without the contract size limit (EIP-170): for verifiers too large for
    /// mainnet, to measure and test them.
    pub fn without_size_limit() -> Self {
        let ctx = Context::mainnet().with_db(InMemoryDB::default()).modify_cfg_chained(|cfg| {
            cfg.set_spec_and_mainnet_gas_params(SpecId::OSAKA);
            cfg.limit_contract_code_size = Some(usize::MAX);
        });
        EmbeddedEvm { evm: ctx.build_mainnet(), nonce: 0 }
    }

    fn run(&mut self, kind: TxKind, data: Vec<u8>) -> Result<(ExecutionResult, u64), String> {
        let tx = TxEnv { gas_limit: TX_GAS_LIMIT, kind, data: Bytes::from(data), nonce: self.nonce, ..Default::default() };
        let r = self.evm.transact_commit(tx).map_err(|e| format!("EVM error: {e:?}"))?;
        self.nonce += 1;
        let gas = r.tx_gas_used();
        Ok((r, gas))
    }
}

impl Chain for EmbeddedEvm {
    fn deploy(&mut self, code: Vec<u8>) -> Result<(Address, u64), String> {
        match self.run(TxKind::Create, code)? {
            (ExecutionResult::Success { output: Output::Create(_, Some(addr)), .. }, gas) => Ok((addr, gas)),
            (other, gas) => Err(format!("deployment failed after {gas} gas: {other:?}")),
        }
    }

    fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Call, String> {
        let (r, gas_used) = self.run(TxKind::Call(to), data)?;
        Ok(match r {
            ExecutionResult::Success { output, .. } => Call { success: true, gas_used, output: output.into_data().to_vec() },
            ExecutionResult::Revert { output, .. } => Call { success: false, gas_used, output: output.to_vec() },
            ExecutionResult::Halt { .. } => Call { success: false, gas_used, output: vec![] },
        })
    }
}

/// Gas and size figures of one EVM verification.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EvmReport {
    pub valid: bool,
    pub deploy_gas: u64,
    pub verify_gas: u64,
    /// Gas of the same check through `ZkinferVerifier.verifyProof`.
    pub verify_abi_gas: u64,
    pub runtime_bytes: usize,
    pub calldata_bytes: usize,
    /// Whether the runtime fits the 24,576-byte contract size limit (EIP-170).
    pub fits_size_limit: bool,
}

fn word(x: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&(x as u64).to_be_bytes());
    w
}

/// ABI calldata of `verifyProof(bytes proof, uint256[] instances)`.
pub fn verify_proof_calldata(proof: &[u8], instances: &[Fr]) -> Vec<u8> {
    use sha3::Digest;
    let mut out = sha3::Keccak256::digest(b"verifyProof(bytes,uint256[])")[..4].to_vec();
    let words = proof.len().div_ceil(32);
    out.extend(word(64));
    out.extend(word(64 + 32 + words * 32));
    out.extend(word(proof.len()));
    let mut padded = proof.to_vec();
    padded.resize(words * 32, 0);
    out.extend(padded);
    out.extend(word(instances.len()));
    for i in instances {
        out.extend(fr_to_word(i));
    }
    out
}

/// A deployed verifier: the generated `Halo2Verifier` and its `ZkinferVerifier` wrapper.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployed {
    pub verifier: Address,
    pub wrapper: Address,
    /// Gas of deploying `Halo2Verifier` (the wrapper is small and not counted).
    pub deploy_gas: u64,
    pub runtime_bytes: usize,
    /// How the wrapper packs public values into the verifier's instances.
    pub packing: InstancePacking,
    /// The model commitment the wrapper reports.
    pub model_commitment: String,
}

/// A verifier file compiled (one compiler run): both contracts, the packing and the model
/// commitment it records.
#[derive(Clone, Debug)]
pub struct CompiledVerifier {
    pub verifier: crate::solc::Compiled,
    pub wrapper: crate::solc::Compiled,
    pub packing: InstancePacking,
    pub model_commitment: String,
}

impl CompiledVerifier {
    /// Compile `sol`, a file from [`verifier_file`].
    pub fn new(sol: &str) -> Result<CompiledVerifier, String> {
        let (st, model_commitment) = statement_of(sol)?;
        let mut c = crate::solc::compile_contracts("Verifier.sol", sol, &["Halo2Verifier", "ZkinferVerifier"])?;
        let wrapper = c.pop().expect("two contracts");
        let verifier = c.pop().expect("two contracts");
        Ok(CompiledVerifier { verifier, wrapper, packing: st.packing, model_commitment })
    }

    /// Runtime size of `Halo2Verifier`.
    pub fn runtime_bytes(&self) -> usize {
        self.verifier.runtime.len()
    }
}

/// Deploy both contracts of a compiled verifier on `chain` (the wrapper gets the verifier's
/// address as its constructor argument).
pub fn deploy_verifier(chain: &mut dyn Chain, c: &CompiledVerifier) -> Result<Deployed, String> {
    let (verifier, deploy_gas) = chain.deploy(c.verifier.bytecode.clone())?;
    let (wrapper, _) = deploy_wrapper(chain, c, verifier)?;
    Ok(Deployed { verifier, wrapper, deploy_gas, runtime_bytes: c.runtime_bytes(), packing: c.packing.clone(), model_commitment: c.model_commitment.clone() })
}

/// Deploy the `ZkinferVerifier` wrapper of `c` over the contract at `verifier`.
pub fn deploy_wrapper(chain: &mut dyn Chain, c: &CompiledVerifier, verifier: Address) -> Result<(Address, u64), String> {
    let mut code = c.wrapper.bytecode.clone();
    code.extend(address_word(verifier));
    chain.deploy(code)
}

/// An address as an ABI word.
pub fn address_word(a: Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(a.as_slice());
    w
}

/// Check `proof` with public values `values` against a deployed verifier, raw (with the packed
/// instances; skipped, gas 0, when a value is outside the packed range) and through `verifyProof`.
pub fn verify_deployed(chain: &mut dyn Chain, d: &Deployed, values: &[Fr], proof: &[u8]) -> Result<EvmReport, String> {
    let calldata = match d.packing.pack(values) {
        Ok(instances) => encode_calldata(&instances, proof),
        Err(PackError::OutOfRange { .. }) => vec![],
        Err(e) => return Err(e.to_string()),
    };
    let call = if calldata.is_empty() { Call { success: false, gas_used: 0, output: vec![] } } else { chain.call(d.verifier, calldata.clone())? };
    let raw_valid = call.success && call.output == word(1);
    let abi = chain.call(d.wrapper, verify_proof_calldata(proof, values))?;
    if raw_valid != (abi.success && abi.output == word(1)) {
        return Err("the raw verifier and the ABI wrapper disagree".into());
    }
    Ok(EvmReport {
        valid: raw_valid,
        deploy_gas: d.deploy_gas,
        verify_gas: call.gas_used,
        verify_abi_gas: abi.gas_used,
        runtime_bytes: d.runtime_bytes,
        calldata_bytes: calldata.len(),
        fits_size_limit: d.runtime_bytes <= 24_576,
    })
}

/// Compile `sol`, deploy both contracts in a fresh embedded EVM (without the size limit, which
/// the report flags instead) and verify `proof` with the public values `values`.
pub fn verify_in_evm(sol: &str, values: &[Fr], proof: &[u8]) -> Result<EvmReport, String> {
    let mut evm = EmbeddedEvm::without_size_limit();
    let d = deploy_verifier(&mut evm, &CompiledVerifier::new(sol)?)?;
    verify_deployed(&mut evm, &d, values, proof)
}

/// What a deployed verifier did with a valid proof and with tampered ones.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Acceptance {
    /// The valid proof, raw and through `verifyProof`.
    pub valid: EvmReport,
    /// Gas of the rejected calls (raw verifier): a flipped proof byte, an instance plus one.
    pub tampered_proof_gas: u64,
    pub tampered_instance_gas: u64,
}

/// Run the acceptance checks on a deployed verifier: `modelCommitment()` is the file's; the
/// valid proof is accepted (raw and `verifyProof` = true); a flipped proof byte and an instance plus one are rejected (raw call
/// reverts, `verifyProof` = false); an instance equal to the field modulus makes `verifyProof`
/// revert. Errors name the check that failed.
pub fn acceptance(chain: &mut dyn Chain, d: &Deployed, instances: &[Fr], proof: &[u8]) -> Result<Acceptance, String> {
    use sha3::Digest;
    let got = chain.call(d.wrapper, sha3::Keccak256::digest(b"modelCommitment()")[..4].to_vec())?;
    if !got.success || format!("0x{}", hex::encode(&got.output)) != d.model_commitment {
        return Err(format!("modelCommitment() returned 0x{}, expected {}", hex::encode(&got.output), d.model_commitment));
    }
    let valid = verify_deployed(chain, d, instances, proof)?;
    if !valid.valid {
        return Err("the valid proof was rejected".into());
    }
    let mut bad_proof = proof.to_vec();
    // A byte of the last evaluation (SHPLONK proofs end with two points): every point stays on
    // the curve, so the proof fails the pairing check rather than point validation.
    let at = bad_proof.len().saturating_sub(128 + 16);
    bad_proof[at] ^= 1;
    let tampered = verify_deployed(chain, d, instances, &bad_proof)?;
    if tampered.valid {
        return Err("a proof with a flipped byte was accepted".into());
    }
    if instances.is_empty() {
        return Err("a verifier without instances cannot be checked for tampered instances".into());
    }
    let mut bad_instances = instances.to_vec();
    bad_instances[0] += Fr::from(1u64);
    let tampered_instance = verify_deployed(chain, d, &bad_instances, proof)?;
    if tampered_instance.valid {
        return Err("a tampered instance was accepted".into());
    }
    let mut over = verify_proof_calldata(proof, instances);
    let first = 4 + 32 * 3 + proof.len().div_ceil(32) * 32 + 32;
    over[first..first + 32].copy_from_slice(&FR_MODULUS_BE);
    if chain.call(d.wrapper, over)?.success {
        return Err("verifyProof accepted an instance equal to the field modulus".into());
    }
    Ok(Acceptance { valid, tampered_proof_gas: tampered.verify_gas, tampered_instance_gas: tampered_instance.verify_gas })
}

/// The BN254 scalar field modulus, big-endian.
const FR_MODULUS_BE: [u8; 32] = [
    0x30, 0x64, 0x4e, 0x72, 0xe1, 0x31, 0xa0, 0x29, 0xb8, 0x50, 0x45, 0xb6, 0x81, 0x81, 0x58, 0x5d, 0x28, 0x33, 0xe8, 0x48, 0x79, 0xb9, 0x70, 0x91, 0x43, 0xe1, 0xf5, 0x93,
    0xf0, 0x00, 0x00, 0x01,
];

/// A field element as a big-endian 32-byte EVM word.
pub(crate) fn fr_to_word(f: &Fr) -> [u8; 32] {
    use halo2_proofs::halo2curves::ff::PrimeField;
    let mut w: [u8; 32] = f.to_repr().as_ref().try_into().expect("32 bytes");
    w.reverse();
    w
}
