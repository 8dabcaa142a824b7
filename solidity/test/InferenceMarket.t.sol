// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {vm} from "./utils/Vm.sol";
import {TestToken} from "../src/TestToken.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {InferenceMarket} from "../src/InferenceMarket.sol";
import {IZkinferVerifier} from "../src/IZkinferVerifier.sol";
import {DigitsMlpProof as F} from "./fixtures/DigitsMlpProof.sol";
import {DigitsMlpLayout} from "./fixtures/DigitsMlpLayout.sol";
import {HashCommitVerifier} from "./mocks/HashCommitVerifier.sol";

/// The inference market with the real generated digits-MLP verifier and a real proof
/// (fixtures.sh) bound to request 1 of this deployment: fulfilment pays, a copied proof from
/// another sender or for another request fails, an expired request refunds and slashes.
contract InferenceMarketTest {
    address internal constant DEPLOYER = address(0xD0D0);
    address internal constant OPERATOR = address(0xA11CE);
    address internal constant CLIENT = address(0xC11E);
    address internal constant ATTACKER = address(0xBAD);
    uint256 internal constant STAKE = 1_000e18;
    uint256 internal constant PAYMENT = 10e18;

    TestToken internal token;
    ModelRegistry internal registry;
    InferenceMarket internal market;
    IZkinferVerifier internal verifier;
    uint256 internal modelId;

    function setUp() public {
        // Deployment order fixes the market's address, which the fixture's binding commits to.
        vm.startPrank(DEPLOYER);
        token = new TestToken();
        registry = new ModelRegistry(token, 7 days, DEPLOYER);
        market = new InferenceMarket(registry, 20_000, 5_000);
        address halo2 = vm.deployCode("DigitsMlpVerifier.sol:Halo2Verifier", "");
        verifier = IZkinferVerifier(vm.deployCode("DigitsMlpVerifier.sol:ZkinferVerifier", abi.encode(halo2)));
        registry.setMarket(address(market), true);
        vm.stopPrank();
        require(market.binding(1, OPERATOR) == F.binding(), "fixture binding differs: regenerate with fixtures.sh");

        token.mint(OPERATOR, STAKE);
        vm.startPrank(OPERATOR);
        modelId = registry.register(verifier, layout(), "ipfs://digits-mlp");
        token.approve(address(registry), STAKE);
        registry.stake(modelId, STAKE);
        vm.stopPrank();

        token.mint(CLIENT, 100 * PAYMENT);
        vm.prank(CLIENT);
        token.approve(address(market), type(uint256).max);
    }

    function layout() internal view returns (ModelRegistry.Layout memory) {
        return DigitsMlpLayout.layout();
    }

    function requestOne() internal returns (uint256 id) {
        vm.prank(CLIENT);
        id = market.request(modelId, F.inputs(), PAYMENT, uint64(block.timestamp + 1 hours));
    }

    function testRegistryRecordsTheVerifiersCommitmentAndCodeHashes() public view {
        ModelRegistry.Model memory m = registry.model(modelId);
        require(m.commitment == F.commitment(), "commitment not read from the verifier");
        require(m.verifierCodeHash == address(verifier).codehash, "wrapper code hash");
        require(m.halo2CodeHash == verifier.halo2Verifier().codehash, "verifier code hash");
        require(m.operator == OPERATOR && m.stake == STAKE, "operator / stake");
    }

    function testRealProofFulfilsAndPaysTheOperator() public {
        uint256 id = requestOne();
        require(id == 1, "first request id");
        require(registry.lockedBy(address(market), modelId) == 2 * PAYMENT, "bond locked");
        require(token.balanceOf(address(market)) == PAYMENT, "payment escrowed");
        vm.prank(OPERATOR);
        market.fulfil(id, F.inputs(), F.outputs(), F.proof());
        InferenceMarket.Request memory r = market.requestOf(id);
        require(r.status == InferenceMarket.Status.Fulfilled, "status");
        require(r.outputsHash == keccak256(abi.encode(F.outputs())), "outputs recorded");
        require(token.balanceOf(OPERATOR) == PAYMENT, "operator paid");
        require(token.balanceOf(address(market)) == 0 && market.escrowed() == 0, "escrow released");
        require(registry.lockedBy(address(market), modelId) == 0 && registry.freeStake(modelId) == STAKE, "bond unlocked");
    }

    function testPublicValuesAreRebuiltExactlyAsTheProofLists() public {
        uint256 id = requestOne();
        uint256[] memory v = market.publicValues(id, F.inputs(), F.outputs(), OPERATOR);
        require(keccak256(abi.encode(v)) == keccak256(abi.encode(F.values())), "public values differ from proof.json's");
    }

    /// A front-runner copies the operator's transaction from the mempool.
    function testProofCopiedByAnotherSenderFails() public {
        uint256 id = requestOne();
        vm.prank(ATTACKER);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotOperator.selector, id, ATTACKER));
        market.fulfil(id, F.inputs(), F.outputs(), F.proof());
        // Independently of the operator check, the binding ties the proof to its sender.
        uint256[] memory theirs = market.publicValues(id, F.inputs(), F.outputs(), ATTACKER);
        require(!verifier.verifyProof(F.proof(), theirs), "the proof verifies with another sender's binding");
    }

    function testProofForAnotherRequestFails() public {
        requestOne();
        uint256 second = requestOne();
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.InvalidProof.selector, second));
        market.fulfil(second, F.inputs(), F.outputs(), F.proof());
    }

    function testTamperedOutputsOrProofFail() public {
        uint256 id = requestOne();
        uint256[] memory outs = F.outputs();
        outs[3] += 1;
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.InvalidProof.selector, id));
        market.fulfil(id, F.inputs(), outs, F.proof());
        bytes memory bad = F.proof();
        bad[200] = bytes1(uint8(bad[200]) ^ 1);
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.InvalidProof.selector, id));
        market.fulfil(id, F.inputs(), F.outputs(), bad);
        uint256[] memory ins = F.inputs();
        ins[0] += 1;
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.InputsMismatch.selector, id));
        market.fulfil(id, ins, F.outputs(), F.proof());
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.WrongOutputCount.selector, 9, 10));
        market.fulfil(id, F.inputs(), new uint256[](9), F.proof());
    }

    function testFulfilledTwiceFails() public {
        uint256 id = requestOne();
        vm.prank(OPERATOR);
        market.fulfil(id, F.inputs(), F.outputs(), F.proof());
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotOpen.selector, id, InferenceMarket.Status.Fulfilled));
        market.fulfil(id, F.inputs(), F.outputs(), F.proof());
        vm.warp(block.timestamp + 2 hours);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotOpen.selector, id, InferenceMarket.Status.Fulfilled));
        market.reclaim(id);
    }

    function testExpiredRequestRefundsTheClientAndSlashesHalfTheBond() public {
        uint256 id = requestOne();
        uint64 deadline = market.requestOf(id).deadline;
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotExpired.selector, id, deadline));
        market.reclaim(id);
        vm.warp(deadline + 1);
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.Expired.selector, id, deadline));
        market.fulfil(id, F.inputs(), F.outputs(), F.proof());
        uint256 before = token.balanceOf(CLIENT);
        vm.prank(ATTACKER); // anyone can reclaim for the client
        market.reclaim(id);
        require(token.balanceOf(CLIENT) == before + PAYMENT + PAYMENT, "refund + half of the 2x bond");
        require(registry.model(modelId).stake == STAKE - PAYMENT, "stake slashed by the client's share");
        require(registry.lockedBy(address(market), modelId) == 0 && registry.freeStake(modelId) == STAKE - PAYMENT, "rest of the bond freed");
        require(token.balanceOf(address(market)) == 0, "nothing left in escrow");
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotOpen.selector, id, InferenceMarket.Status.Reclaimed));
        market.reclaim(id);
    }

    function testBadRequestsRevert() public {
        uint64 later = uint64(block.timestamp + 1 hours);
        vm.startPrank(CLIENT);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.WrongInputCount.selector, 3, F.inputs().length));
        market.request(modelId, new uint256[](3), PAYMENT, later);
        uint256[] memory ins = F.inputs();
        ins[5] = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotInField.selector, ins[5]));
        market.request(modelId, ins, PAYMENT, later);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.DeadlineInPast.selector, uint64(block.timestamp)));
        market.request(modelId, F.inputs(), PAYMENT, uint64(block.timestamp));
        vm.expectRevert(InferenceMarket.ZeroPayment.selector);
        market.request(modelId, F.inputs(), 0, later);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownModel.selector, 7));
        market.request(7, F.inputs(), PAYMENT, later);
        // A bond larger than the free stake cannot be locked.
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientFreeStake.selector, modelId, 2 * STAKE, STAKE));
        market.request(modelId, F.inputs(), STAKE, later);
        vm.stopPrank();
        vm.prank(OPERATOR);
        registry.retire(modelId);
        vm.prank(CLIENT);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.RetiredModel.selector, modelId));
        market.request(modelId, F.inputs(), PAYMENT, later);
    }

    function testUnknownRequestCannotBeFulfilledOrReclaimed() public {
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotOpen.selector, 42, InferenceMarket.Status.None));
        market.fulfil(42, F.inputs(), F.outputs(), F.proof());
        vm.expectRevert(abi.encodeWithSelector(InferenceMarket.NotOpen.selector, 42, InferenceMarket.Status.None));
        market.reclaim(42);
    }

    /// A hashed-params model: the market inserts the registered params hash; the mock verifier
    /// (this test is about the public-value layout) accepts only the exact values.
    function testHashedParamsHashIsInsertedBeforeTheOutputs() public {
        HashCommitVerifier mock = new HashCommitVerifier(keccak256("hashed"));
        ModelRegistry.Layout memory l = layout();
        l.param = ModelRegistry.Visibility.Hashed;
        l.paramsHash = 12345;
        token.mint(OPERATOR, STAKE);
        vm.startPrank(OPERATOR);
        uint256 hid = registry.register(mock, l, "");
        token.approve(address(registry), STAKE);
        registry.stake(hid, STAKE);
        vm.stopPrank();
        vm.prank(CLIENT);
        uint256 id = market.request(hid, F.inputs(), PAYMENT, uint64(block.timestamp + 1 hours));
        uint256[] memory outs = F.outputs();
        uint256[] memory v = market.publicValues(id, F.inputs(), outs, OPERATOR);
        require(v.length == F.inputs().length + 1 + outs.length + 1, "length");
        require(v[F.inputs().length] == 12345, "params hash after the inputs");
        require(v[v.length - 1] == market.binding(id, OPERATOR), "binding last");
        bytes memory proof = mock.proofFor(v);
        vm.prank(OPERATOR);
        market.fulfil(id, F.inputs(), outs, proof);
        require(token.balanceOf(OPERATOR) == PAYMENT, "paid");
    }

    /// Fuzz: any payment and bond and slash shares conserve tokens through request and reclaim.
    function testFuzzReclaimConservesTokens(uint96 payment, uint16 bondBps, uint16 slashBps, uint32 wait) public {
        vm.assume(payment > 0 && slashBps <= 10_000);
        InferenceMarket m = new InferenceMarket(registry, bondBps, slashBps);
        vm.prank(DEPLOYER);
        registry.setMarket(address(m), true);
        uint256 bond = (uint256(payment) * bondBps) / 10_000;
        token.mint(OPERATOR, bond + 1);
        vm.startPrank(OPERATOR);
        token.approve(address(registry), bond + 1);
        registry.stake(modelId, bond + 1);
        vm.stopPrank();
        token.mint(CLIENT, payment);
        vm.startPrank(CLIENT);
        token.approve(address(m), payment);
        uint256 clientBefore = token.balanceOf(CLIENT);
        uint256 id = m.request(modelId, F.inputs(), payment, uint64(block.timestamp + 1));
        vm.stopPrank();
        uint256 total = token.balanceOf(CLIENT) + token.balanceOf(address(m)) + token.balanceOf(address(registry));
        vm.warp(block.timestamp + 2 + uint256(wait));
        m.reclaim(id);
        uint256 slashed = (bond * slashBps) / 10_000;
        require(token.balanceOf(CLIENT) == clientBefore + slashed, "client gets payment back plus the slash");
        require(token.balanceOf(address(m)) == 0, "market empty");
        require(token.balanceOf(CLIENT) + token.balanceOf(address(registry)) == total, "tokens conserved");
        require(registry.lockedBy(address(m), modelId) == 0, "lock released");
    }
}
