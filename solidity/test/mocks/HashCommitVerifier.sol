// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkinferVerifier} from "../../src/IZkinferVerifier.sol";

/// TEST MOCK, not a verifier: accepts a "proof" equal to `abi.encode(keccak256(abi.encode(values)))`.
/// Used where a test is about accounting rather than cryptography (fuzz and invariant handlers
/// need valid proofs for arbitrary public values); it still fails every proof made for other
/// public values, so the market's rebuilding of the public values stays under test. The real
/// generated verifier with a real proof is used in InferenceMarket.t.sol.
contract HashCommitVerifier is IZkinferVerifier {
    bytes32 public immutable commitment;

    constructor(bytes32 commitment_) {
        commitment = commitment_;
    }

    function verifyProof(bytes calldata proof, uint256[] calldata publicValues) external pure returns (bool) {
        return keccak256(proof) == keccak256(abi.encode(keccak256(abi.encode(publicValues))));
    }

    function modelCommitment() external view returns (bytes32) {
        return commitment;
    }

    function halo2Verifier() external view returns (address) {
        return address(this);
    }

    /// The proof this mock accepts for `publicValues`.
    function proofFor(uint256[] memory publicValues) external pure returns (bytes memory) {
        return abi.encode(keccak256(abi.encode(publicValues)));
    }
}
