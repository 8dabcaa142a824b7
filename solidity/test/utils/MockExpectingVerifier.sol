// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IZkinferVerifier} from "../../src/IZkinferVerifier.sol";

/// Test-only stand-in for a model's `ZkinferVerifier`: `verifyProof` returns true only when the
/// proof and the public values it receives equal the ones the test expects (`expect`), so a test
/// passes only if the market rebuilt exactly the public values the test computed on its own
/// (feature commitment, params hash, prediction, binding with msg.sender). Like the real wrapper
/// it reverts on a value not below the field modulus.
contract MockExpectingVerifier is IZkinferVerifier {
    uint256 internal constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    error InstanceNotInField(uint256 index);

    bytes32 public immutable commitment;
    bytes32 public expectedValues;
    bytes32 public expectedProof;

    constructor(bytes32 commitment_) {
        commitment = commitment_;
    }

    function expect(uint256[] calldata values, bytes calldata proof) external {
        expectedValues = keccak256(abi.encode(values));
        expectedProof = keccak256(proof);
    }

    function verifyProof(bytes calldata proof, uint256[] calldata values) external view returns (bool) {
        for (uint256 i; i < values.length; ++i) {
            if (values[i] >= FIELD_MODULUS) revert InstanceNotInField(i);
        }
        return keccak256(abi.encode(values)) == expectedValues && keccak256(proof) == expectedProof;
    }

    function modelCommitment() external view returns (bytes32) {
        return commitment;
    }

    function halo2Verifier() external view returns (address) {
        return address(this);
    }
}
