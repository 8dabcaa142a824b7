// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import "../src/DigitsMlpVerifier.sol";
import {DigitsMlpProof as F} from "./fixtures/DigitsMlpProof.sol";

/// A contract that accepts every call and returns nothing: what a wrapper must not mistake for a
/// verifier.
contract SilentContract {
    fallback() external {}
}

/// The generated verifier with a real proof (fixtures.sh). forge test without forge-std: every
/// test* function must not revert.
contract DigitsMlpVerifierTest {
    function deploy() internal returns (ZkinferVerifier) {
        return new ZkinferVerifier(address(new Halo2Verifier()));
    }

    function testValidProofVerifies() public {
        require(deploy().verifyProof(F.proof(), F.values()), "valid proof rejected");
    }

    function testModelCommitmentIsTheProofs() public {
        ZkinferVerifier verifier = deploy();
        require(verifier.modelCommitment() == F.commitment(), "modelCommitment() is not the proof's");
        require(verifier.MODEL_COMMITMENT() == verifier.modelCommitment(), "constant and getter differ");
    }

    function testVerifierWithoutCodeIsRefused() public {
        try new ZkinferVerifier(address(0xdead)) returns (ZkinferVerifier) {
            revert("wrapper deployed over an address without code");
        } catch (bytes memory reason) {
            require(bytes4(reason) == ZkinferVerifier.VerifierHasNoCode.selector, "wrong revert reason");
        }
    }

    function testSilentVerifierDoesNotPass() public {
        ZkinferVerifier verifier = new ZkinferVerifier(address(new SilentContract()));
        require(!verifier.verifyProof(F.proof(), F.values()), "a verifier returning nothing passed the proof");
    }

    function testTamperedProofIsRejected() public {
        bytes memory bad = F.proof();
        bad[100] = bytes1(uint8(bad[100]) ^ 1);
        require(!deploy().verifyProof(bad, F.values()), "tampered proof accepted");
    }

    function testTamperedInstanceIsRejected() public {
        uint256[] memory v = F.values();
        v[70] = v[70] + 1;
        require(!deploy().verifyProof(F.proof(), v), "tampered instance accepted");
    }

    function testTamperedBindingIsRejected() public {
        uint256[] memory v = F.values();
        v[v.length - 1] = v[v.length - 1] ^ 1;
        require(!deploy().verifyProof(F.proof(), v), "proof accepted with another binding");
    }

    function testValueOutsidePackedRangeIsRejected() public {
        // One above the packed range [lo, hi] of the public values: not a valid claim.
        uint256[] memory v = F.values();
        v[0] = F.hi() + 1;
        require(!deploy().verifyProof(F.proof(), v), "value outside the packed range accepted");
    }

    function testWrongValueCountReverts() public {
        ZkinferVerifier verifier = deploy();
        uint256[] memory v = new uint256[](F.values().length - 1);
        (bool ok, ) = address(verifier).call(abi.encodeCall(ZkinferVerifier.verifyProof, (F.proof(), v)));
        require(!ok, "wrong number of public values accepted");
    }

    function testInstanceAboveModulusReverts() public {
        ZkinferVerifier verifier = deploy();
        uint256[] memory v = F.values();
        v[0] = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
        (bool ok, ) = address(verifier).call(abi.encodeCall(ZkinferVerifier.verifyProof, (F.proof(), v)));
        require(!ok, "instance >= modulus accepted");
    }
}
