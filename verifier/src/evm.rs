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
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, Bytes, TxKind};
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

/// Source of the ABI wrapper around a deployed `Halo2Verifier` for public values packed by
/// `packing` (see `zkinfer_circuits::instances`): `verifyProof` takes the public values, one
/// per `uint256` as `proof.json` lists them, checks each is a field element (else reverts), packs
/// them like the circuit does (a value outside the packed range makes the proof invalid: false),
/// and calls the verifier with the packed instances and the proof.
pub fn wrapper_sol(packing: &InstancePacking) -> String {
    use sha3::Digest;
    let neg_lo = fr_to_word(&-zkinfer_circuits::field::fr(packing.lo));
    let mut calls = String::new();
    let mut at = 0;
    for seg in &packing.segments {
        let f = if seg.packed { "_pack" } else { "_copy" };
        calls.push_str(&format!("        o = {f}(values, {at}, {}, data, o);\n", seg.len));
        if seg.packed {
            calls.push_str("        if (o == OUT_OF_RANGE) return false;\n");
        }
        at += seg.len;
    }
    WRAPPER_TEMPLATE
        .replace("@NUM_VALUES@", &packing.num_values().to_string())
        .replace("@NUM_INSTANCES@", &packing.num_instances().to_string())
        .replace("@NEG_LO@", &format!("0x{}", hex::encode(neg_lo)))
        .replace("@SPAN@", &(packing.hi - packing.lo).to_string())
        .replace("@WIDTH@", &packing.width.to_string())
        .replace("@PER@", &packing.per_element.to_string())
        .replace("@LO@", &packing.lo.to_string())
        .replace("@HI@", &packing.hi.to_string())
        .replace("@CALLS@", calls.trim_end())
        .replace("@ERR_SELECTOR@", &format!("0x{}", hex::encode(&sha3::Keccak256::digest(b"InstanceNotInField(uint256)")[..4])))
}

const WRAPPER_TEMPLATE: &str = r#"// SPDX-License-Identifier: MIT
pragma solidity ^0.8.19;

/// ABI entry point for a zkinfer proof verifier generated for one verifying key.
/// Public values are packed into @NUM_INSTANCES@ instances as the circuit packs them: runs of
/// values in [@LO@, @HI@] become sum_j (v_j - lo) * 2^(@WIDTH@ * (n - 1 - j)), @PER@ per instance.
contract ZkinferVerifier {
    uint256 internal constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant NUM_VALUES = @NUM_VALUES@;
    uint256 internal constant NUM_INSTANCES = @NUM_INSTANCES@;
    /// -lo mod p, so that addmod(v, NEG_LO, p) = v - lo.
    uint256 internal constant NEG_LO = @NEG_LO@;
    /// hi - lo: the largest packed slot.
    uint256 internal constant SPAN = @SPAN@;
    uint256 internal constant WIDTH = @WIDTH@;
    uint256 internal constant PER = @PER@;
    uint256 internal constant OUT_OF_RANGE = 0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff;
    address public immutable halo2Verifier;

    /// Public value `index` is not below the BN254 scalar field modulus.
    error InstanceNotInField(uint256 index);

    constructor(address verifier) {
        halo2Verifier = verifier;
    }

    /// True when `proof` is valid for the public values `values`; false when the proof is
    /// rejected or a packed value lies outside its range. Reverts when a value is not a field
    /// element or the count is wrong.
    function verifyProof(bytes calldata proof, uint256[] calldata values) external view returns (bool) {
        require(values.length == NUM_VALUES, "wrong number of public values");
        bytes memory data = new bytes(32 * NUM_INSTANCES + proof.length);
        uint256 o = 0;
@CALLS@
        assembly ("memory-safe") {
            calldatacopy(add(add(data, 32), mul(NUM_INSTANCES, 32)), proof.offset, proof.length)
        }
        (bool ok, ) = halo2Verifier.staticcall(data);
        return ok;
    }

    /// Copy values v[from..from+n] to instances o.. (unpacked: hashes, the binding).
    function _copy(uint256[] calldata v, uint256 from, uint256 n, bytes memory data, uint256 o) private pure returns (uint256 out) {
        assembly ("memory-safe") {
            let dst := add(add(data, 32), mul(o, 32))
            for { let i := from } lt(i, add(from, n)) { i := add(i, 1) } {
                let x := calldataload(add(v.offset, mul(i, 32)))
                if iszero(lt(x, FIELD_MODULUS)) {
                    mstore(0, shl(224, @ERR_SELECTOR@))
                    mstore(4, i)
                    revert(0, 36)
                }
                mstore(dst, x)
                dst := add(dst, 32)
            }
            out := add(o, n)
        }
    }

    /// Pack values v[from..from+n] into instances o.. : PER values per instance, each slot
    /// v - lo in [0, SPAN], first value most significant. Returns OUT_OF_RANGE when a slot
    /// exceeds SPAN; reverts when a value is not a field element.
    function _pack(uint256[] calldata v, uint256 from, uint256 n, bytes memory data, uint256 o) private pure returns (uint256 out) {
        assembly ("memory-safe") {
            let dst := add(add(data, 32), mul(o, 32))
            let end := add(from, n)
            let bad := 0
            for { let c := from } lt(c, end) { c := add(c, PER) } {
                let e := add(c, PER)
                if gt(e, end) { e := end }
                let acc := 0
                for { let i := c } lt(i, e) { i := add(i, 1) } {
                    let x := calldataload(add(v.offset, mul(i, 32)))
                    if iszero(lt(x, FIELD_MODULUS)) {
                        mstore(0, shl(224, @ERR_SELECTOR@))
                        mstore(4, i)
                        revert(0, 36)
                    }
                    let d := addmod(x, NEG_LO, FIELD_MODULUS)
                    bad := or(bad, gt(d, SPAN))
                    acc := or(shl(WIDTH, acc), d)
                }
                mstore(dst, acc)
                dst := add(dst, 32)
            }
            out := sub(dst, add(data, 32))
            out := div(out, 32)
            if bad { out := OUT_OF_RANGE }
        }
    }

    function _store(bytes memory data, uint256 o, uint256 x) private pure {
        assembly ("memory-safe") {
            mstore(add(add(data, 32), mul(o, 32)), x)
        }
    }
}
"#;

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

/// First line of a verifier file: the packing of its public values, as JSON.
const PACKING_TAG: &str = "// zkinfer-packing: ";

/// The Solidity file `create-evm-verifier` writes: a first line recording the packing of the
/// public values (read back by [`packing_of`]), the generated verifier and the ABI wrapper.
pub fn verifier_file(srs: &Srs, vk: &VerifyingKey, packing: &InstancePacking) -> String {
    let wrapper = wrapper_sol(packing).replace("// SPDX-License-Identifier: MIT\n", "");
    let tag = serde_json::to_string(packing).expect("serializable");
    format!("{PACKING_TAG}{tag}\n{}\n{}", solidity_verifier(srs, vk, packing.num_instances()), wrapper)
}

/// The packing recorded in a file from [`verifier_file`].
pub fn packing_of(sol: &str) -> Result<InstancePacking, String> {
    let line = sol.lines().find_map(|l| l.strip_prefix(PACKING_TAG)).ok_or("not a zkinfer verifier file (no `// zkinfer-packing:` line); regenerate it with create-evm-verifier")?;
    serde_json::from_str(line).map_err(|e| format!("bad `// zkinfer-packing:` line: {e}"))
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
}

/// A verifier file compiled (one compiler run): both contracts and the packing it records.
#[derive(Clone, Debug)]
pub struct CompiledVerifier {
    pub verifier: crate::solc::Compiled,
    pub wrapper: crate::solc::Compiled,
    pub packing: InstancePacking,
}

impl CompiledVerifier {
    /// Compile `sol`, a file from [`verifier_file`].
    pub fn new(sol: &str) -> Result<CompiledVerifier, String> {
        let packing = packing_of(sol)?;
        let mut c = crate::solc::compile_contracts("Verifier.sol", sol, &["Halo2Verifier", "ZkinferVerifier"])?;
        let wrapper = c.pop().expect("two contracts");
        let verifier = c.pop().expect("two contracts");
        Ok(CompiledVerifier { verifier, wrapper, packing })
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
    let mut code = c.wrapper.bytecode.clone();
    let mut a = [0u8; 32];
    a[12..].copy_from_slice(verifier.as_slice());
    code.extend(a);
    let (wrapper, _) = chain.deploy(code)?;
    Ok(Deployed { verifier, wrapper, deploy_gas, runtime_bytes: c.runtime_bytes(), packing: c.packing.clone() })
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
    let abi = chain.call(d.wrapper, verify_proof_calldata(proof, values))?;
    if call.success != (abi.success && abi.output == word(1)) {
        return Err("the raw verifier and the ABI wrapper disagree".into());
    }
    Ok(EvmReport {
        valid: call.success,
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

/// Run the acceptance checks on a deployed verifier: the valid proof is accepted (raw and
/// `verifyProof` = true); a flipped proof byte and an instance plus one are rejected (raw call
/// reverts, `verifyProof` = false); an instance equal to the field modulus makes `verifyProof`
/// revert. Errors name the check that failed.
pub fn acceptance(chain: &mut dyn Chain, d: &Deployed, instances: &[Fr], proof: &[u8]) -> Result<Acceptance, String> {
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
fn fr_to_word(f: &Fr) -> [u8; 32] {
    use halo2_proofs::halo2curves::ff::PrimeField;
    let mut w: [u8; 32] = f.to_repr().as_ref().try_into().expect("32 bytes");
    w.reverse();
    w
}
