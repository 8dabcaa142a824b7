//! EVM verification: a Solidity verifier generated for one verifying key, an ABI-friendly wrapper,
//! calldata encoding, and an embedded EVM (revm) to deploy and call them.
//!
//! The generated contract (`Halo2Verifier`, snark-verifier's EVM loader, SHPLONK) has the
//! verifying key built in and takes raw calldata: every instance as a 32-byte big-endian word,
//! then the proof bytes; it reverts on an invalid proof. `ZkinferVerifier` wraps it with
//! `verifyProof(bytes proof, uint256[] instances) returns (bool)`, rejecting instances at or above
//! the BN254 scalar field modulus.

use halo2_proofs::halo2curves::bn256::{Bn256, Fq, Fr, G1Affine};
use halo2_proofs::poly::commitment::ParamsProver;
use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::primitives::{Address, Bytes, TxKind};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};
use snark_verifier::loader::evm::EvmLoader;
use snark_verifier::pcs::kzg::{Bdfg21, KzgAs};
use snark_verifier::system::halo2::transcript::evm::EvmTranscript;
use snark_verifier::system::halo2::{compile, Config};
use snark_verifier::verifier::plonk::PlonkVerifier;
use snark_verifier::verifier::SnarkVerifier;
use std::rc::Rc;
use zkinfer_prover::{Srs, VerifyingKey};

type Shplonk = KzgAs<Bn256, Bdfg21>;

/// Solidity source of the verifier for `vk` with `num_instances` public values.
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

/// Source of the ABI wrapper around a deployed `Halo2Verifier`.
pub const WRAPPER_SOL: &str = r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.19;

/// ABI entry point for a zkinfer proof verifier generated for one verifying key.
contract ZkinferVerifier {
    uint256 internal constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    address public immutable halo2Verifier;

    constructor(address verifier) {
        halo2Verifier = verifier;
    }

    /// True when `proof` is valid for `instances`; false when the proof is rejected.
    /// Reverts when an instance is not a field element.
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool) {
        for (uint256 i = 0; i < instances.length; i++) {
            require(instances[i] < FIELD_MODULUS, "instance >= field modulus");
        }
        (bool ok, ) = halo2Verifier.staticcall(abi.encodePacked(instances, proof));
        return ok;
    }
}
"#;

/// Raw calldata of the generated verifier: instances as 32-byte words, then the proof.
pub fn encode_calldata(instances: &[Fr], proof: &[u8]) -> Vec<u8> {
    snark_verifier::loader::evm::encode_calldata(&[instances.to_vec()], proof)
}

/// Outcome of one transaction in the embedded EVM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub success: bool,
    pub gas_used: u64,
    pub output: Vec<u8>,
}

/// An in-memory EVM (revm, mainnet rules, BN254 precompiles).
pub struct EmbeddedEvm {
    evm: revm::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>,
    nonce: u64,
}

impl Default for EmbeddedEvm {
    /// Mainnet rules, including the 24,576-byte contract size limit.
    fn default() -> Self {
        EmbeddedEvm { evm: Context::mainnet().with_db(InMemoryDB::default()).build_mainnet(), nonce: 0 }
    }
}

impl EmbeddedEvm {
    /// Mainnet rules without the contract size limit (EIP-170): for verifiers too large for
    /// mainnet, to measure and test them before the reusable verifier lands.
    pub fn without_size_limit() -> Self {
        let ctx = Context::mainnet().with_db(InMemoryDB::default()).modify_cfg_chained(|cfg| cfg.limit_contract_code_size = Some(usize::MAX));
        EmbeddedEvm { evm: ctx.build_mainnet(), nonce: 0 }
    }

    fn run(&mut self, kind: TxKind, data: Vec<u8>, gas_limit: u64) -> Result<(ExecutionResult, u64), String> {
        let tx = TxEnv { gas_limit, kind, data: Bytes::from(data), nonce: self.nonce, ..Default::default() };
        let r = self.evm.transact_commit(tx).map_err(|e| format!("EVM error: {e:?}"))?;
        self.nonce += 1;
        let gas = r.tx_gas_used();
        Ok((r, gas))
    }

    /// Deploy contract creation code; returns the address and gas used.
    pub fn deploy(&mut self, code: Vec<u8>) -> Result<(Address, u64), String> {
        match self.run(TxKind::Create, code, 16_000_000)? {
            (ExecutionResult::Success { output: Output::Create(_, Some(addr)), .. }, gas) => Ok((addr, gas)),
            (other, gas) => Err(format!("deployment failed after {gas} gas: {other:?}")),
        }
    }

    /// Call `to` with `data` (gas limit 16M, under the EIP-7825 per-transaction cap).
    pub fn call(&mut self, to: Address, data: Vec<u8>) -> Result<Call, String> {
        let (r, gas_used) = self.run(TxKind::Call(to), data, 16_000_000)?;
        Ok(match r {
            ExecutionResult::Success { output, .. } => Call { success: true, gas_used, output: output.into_data().to_vec() },
            ExecutionResult::Revert { output, .. } => Call { success: false, gas_used, output: output.to_vec() },
            ExecutionResult::Halt { .. } => Call { success: false, gas_used, output: vec![] },
        })
    }
}

/// The Solidity file `create-evm-verifier` writes: the generated verifier and the ABI wrapper.
pub fn verifier_file(srs: &Srs, vk: &VerifyingKey, num_instances: usize) -> String {
    let wrapper = WRAPPER_SOL.replace("// SPDX-License-Identifier: MIT\n", "");
    format!("{}\n{}", solidity_verifier(srs, vk, num_instances), wrapper)
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
    use halo2_proofs::halo2curves::ff::PrimeField;
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
        let mut b = i.to_repr();
        b.as_mut().reverse();
        out.extend_from_slice(b.as_ref());
    }
    out
}

/// Compile `sol` (a file from [`verifier_file`]), deploy both contracts in a fresh embedded EVM
/// (without the size limit, which the report flags instead) and verify `proof` with `instances`.
pub fn verify_in_evm(sol: &str, instances: &[Fr], proof: &[u8]) -> Result<EvmReport, String> {
    let raw = crate::solc::compile("Verifier.sol", sol, "Halo2Verifier")?;
    let wrapper = crate::solc::compile("Verifier.sol", sol, "ZkinferVerifier")?;
    let mut evm = EmbeddedEvm::without_size_limit();
    let (addr, deploy_gas) = evm.deploy(raw.bytecode.clone())?;
    let calldata = encode_calldata(instances, proof);
    let call = evm.call(addr, calldata.clone())?;
    let mut code = wrapper.bytecode.clone();
    let mut a = [0u8; 32];
    a[12..].copy_from_slice(addr.as_slice());
    code.extend(a);
    let (waddr, _) = evm.deploy(code)?;
    let abi = evm.call(waddr, verify_proof_calldata(proof, instances))?;
    if call.success != (abi.success && abi.output == word(1)) {
        return Err("the raw verifier and the ABI wrapper disagree".into());
    }
    Ok(EvmReport {
        valid: call.success,
        deploy_gas,
        verify_gas: call.gas_used,
        verify_abi_gas: abi.gas_used,
        runtime_bytes: raw.runtime.len(),
        calldata_bytes: calldata.len(),
        fits_size_limit: raw.runtime.len() <= 24_576,
    })
}
