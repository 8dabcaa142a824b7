//! The Solidity file `create-evm-verifier` writes: the generated `Halo2Verifier` (snark-verifier's
//! EVM loader, the verifying key built in) and `ZkinferVerifier`, the ABI entry point contracts
//! call. The file's first line records the [`Statement`] and model commitment it was generated
//! for (`// zkinfer-statement: {…}`), read back by [`statement_of`].
//!
//! What the wrapper enforces, so that a contract calling it trusts nothing but its code:
//! * `verifyProof(bytes proof, uint256[] values)` takes the public values exactly as `proof.json`
//!   lists them (README, "Public values"), reverts on a wrong count or a value ≥ the field
//!   modulus, returns false for a packed value outside its range or — with hashed params — a
//!   params hash other than the model's, packs the values as the circuit does and calls
//!   `Halo2Verifier`. Only a call that succeeds **and** returns the word 1 counts: the generated
//!   verifier is patched to return 1 on success (it returned nothing, as does an address without
//!   code).
//! * The constructor refuses a verifier address without code.
//! * `modelCommitment()` returns the model commitment (README, "Model commitment") the file was
//!   generated for; a registry reads it there and records the code hashes of both contracts.

use crate::evm::solidity_verifier;
use zkinfer_prover::{commitment_hex, Srs, Statement, VerifyingKeyFile};

/// First line of a verifier file: the statement and the commitment, as JSON.
const STATEMENT_TAG: &str = "// zkinfer-statement: ";

/// The end of the generated verifier's success path, and what replaces it.
const VERIFIER_SUCCESS: &str = "// Return empty bytes on success\n            return(0, 0)";
const VERIFIER_SUCCESS_WORD: &str = "// Return the word 1 on success (ZkinferVerifier checks it)\n            mstore(0, 1)\n            return(0, 32)";

#[derive(serde::Serialize, serde::Deserialize)]
struct Tag {
    model_commitment: String,
    statement: Statement,
}

/// The Solidity file for a verifying key: the statement line, `Halo2Verifier` (returning 1 on
/// success) and `ZkinferVerifier`.
pub fn verifier_file(srs: &Srs, vk: &VerifyingKeyFile) -> String {
    let st = vk.statement();
    let commitment = commitment_hex(&vk.commitment());
    let verifier = solidity_verifier(srs, &vk.key, st.packing.num_instances());
    assert_eq!(verifier.matches(VERIFIER_SUCCESS).count(), 1, "snark-verifier's success path changed: update VERIFIER_SUCCESS");
    // snark-verifier pins `pragma solidity 0.8.19` exactly; any 0.8 compiler from 0.8.19 on
    // compiles it (the project's is solcjs 0.8.28, which OpenZeppelin 5 needs).
    let verifier = verifier.replace(VERIFIER_SUCCESS, VERIFIER_SUCCESS_WORD).replace("pragma solidity 0.8.19;", "pragma solidity ^0.8.19;");
    let wrapper = wrapper_sol(st, &commitment).replace("// SPDX-License-Identifier: MIT\n", "");
    let tag = serde_json::to_string(&Tag { model_commitment: commitment, statement: st.clone() }).expect("serializable");
    format!("{STATEMENT_TAG}{tag}\n{verifier}\n{wrapper}")
}

/// The statement and model commitment recorded in a file from [`verifier_file`].
pub fn statement_of(sol: &str) -> Result<(Statement, String), String> {
    let line = sol
        .lines()
        .find_map(|l| l.strip_prefix(STATEMENT_TAG))
        .ok_or("not a zkinfer verifier file of this version (no `// zkinfer-statement:` line); regenerate it with create-evm-verifier")?;
    let t: Tag = serde_json::from_str(line).map_err(|e| format!("bad `// zkinfer-statement:` line: {e}"))?;
    t.statement.validate().map_err(|e| e.to_string())?;
    Ok((t.statement, t.model_commitment))
}

/// Source of `ZkinferVerifier` for `st` (module docs).
pub fn wrapper_sol(st: &Statement, commitment: &str) -> String {
    use sha3::Digest;
    let packing = &st.packing;
    let neg_lo = crate::evm::fr_to_word(&-zkinfer_circuits::field::fr(packing.lo));
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
    let params_check = match (packing.params_hash_value(), st.params_hash.as_deref()) {
        (Some(i), Some(h)) => format!(
            "        // Hashed params: the proof must carry this model's params hash.\n        if (values[{i}] != {h}) return false;\n"
        ),
        _ => String::new(),
    };
    let selector = |sig: &str| format!("0x{}", hex::encode(&sha3::Keccak256::digest(sig.as_bytes())[..4]));
    WRAPPER_TEMPLATE
        .replace("@NUM_VALUES@", &packing.num_values().to_string())
        .replace("@NUM_INSTANCES@", &packing.num_instances().to_string())
        .replace("@NEG_LO@", &format!("0x{}", hex::encode(neg_lo)))
        .replace("@SPAN@", &(packing.hi - packing.lo).to_string())
        .replace("@WIDTH@", &packing.width.to_string())
        .replace("@PER@", &packing.per_element.to_string())
        .replace("@LO@", &packing.lo.to_string())
        .replace("@HI@", &packing.hi.to_string())
        .replace("@COMMITMENT@", commitment)
        .replace("@PARAMS_CHECK@", &params_check)
        .replace("@CALLS@", calls.trim_end())
        .replace("@ERR_SELECTOR@", &selector("InstanceNotInField(uint256)"))
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
    /// The model commitment (README, "Model commitment"): the verifying key built into
    /// `halo2Verifier` and the statement this wrapper reads public values by.
    bytes32 public constant MODEL_COMMITMENT = @COMMITMENT@;
    address public immutable halo2Verifier;

    /// Public value `index` is not below the BN254 scalar field modulus.
    error InstanceNotInField(uint256 index);
    /// The verifier address holds no contract.
    error VerifierHasNoCode(address verifier);

    constructor(address verifier) {
        if (verifier.code.length == 0) revert VerifierHasNoCode(verifier);
        halo2Verifier = verifier;
    }

    /// The model commitment proofs accepted here are for.
    function modelCommitment() external pure returns (bytes32) {
        return MODEL_COMMITMENT;
    }

    /// True when `proof` is valid for the public values `values`; false when the proof is
    /// rejected, a packed value lies outside its range or a params hash is not the model's.
    /// Reverts when a value is not a field element or the count is wrong.
    function verifyProof(bytes calldata proof, uint256[] calldata values) external view returns (bool) {
        require(values.length == NUM_VALUES, "wrong number of public values");
        bytes memory data = new bytes(32 * NUM_INSTANCES + proof.length);
        uint256 o = 0;
@CALLS@
@PARAMS_CHECK@        assembly ("memory-safe") {
            calldatacopy(add(add(data, 32), mul(NUM_INSTANCES, 32)), proof.offset, proof.length)
        }
        (bool ok, bytes memory ret) = halo2Verifier.staticcall(data);
        // Halo2Verifier returns the word 1 on success; success without it (no code, another
        // contract) is not a verification.
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
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
}
"#;
