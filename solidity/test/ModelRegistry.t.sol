// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {vm} from "./utils/Vm.sol";
import {TestToken} from "../src/TestToken.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {IZkinferVerifier} from "../src/IZkinferVerifier.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {HashCommitVerifier} from "./mocks/HashCommitVerifier.sol";

/// A verifier whose commitment is zero: refused.
contract NoCommitmentVerifier {
    function modelCommitment() external pure returns (bytes32) {
        return bytes32(0);
    }

    function halo2Verifier() external view returns (address) {
        return address(this);
    }
}

/// Registration, stake, unbonding, market locks and slashing. The verifier here is a mock
/// (these tests are about the registry's bookkeeping); InferenceMarket.t.sol registers the real one.
contract ModelRegistryTest {
    address internal constant OWNER = address(0x0E);
    address internal constant OPERATOR = address(0xA11CE);
    address internal constant MARKET = address(0x3A);
    address internal constant OTHER_MARKET = address(0x3B);
    uint64 internal constant DELAY = 7 days;

    TestToken internal token;
    ModelRegistry internal registry;
    HashCommitVerifier internal verifier;
    uint256 internal id;

    function setUp() public {
        token = new TestToken();
        registry = new ModelRegistry(token, DELAY, OWNER);
        verifier = new HashCommitVerifier(keccak256("model"));
        vm.startPrank(OWNER);
        registry.setMarket(MARKET, true);
        registry.setMarket(OTHER_MARKET, true);
        vm.stopPrank();
        token.mint(OPERATOR, 1000);
        vm.startPrank(OPERATOR);
        token.approve(address(registry), type(uint256).max);
        id = registry.register(verifier, layout(), "ipfs://model");
        registry.stake(id, 1000);
        vm.stopPrank();
    }

    function layout() internal pure returns (ModelRegistry.Layout memory) {
        return ModelRegistry.Layout({
            input: ModelRegistry.Visibility.Hashed,
            param: ModelRegistry.Visibility.Fixed,
            output: ModelRegistry.Visibility.Public,
            inputValues: 1,
            outputValues: 10,
            outputScale: 7,
            paramsHash: 0,
            encoding: keccak256("tournament")
        });
    }

    function testRegisterRecordsTheModel() public view {
        ModelRegistry.Model memory m = registry.model(id);
        require(m.operator == OPERATOR && address(m.verifier) == address(verifier), "operator / verifier");
        require(m.commitment == keccak256("model"), "commitment read from the verifier");
        require(m.verifierCodeHash == address(verifier).codehash && m.halo2CodeHash == address(verifier).codehash, "code hashes");
        require(m.stake == 1000 && registry.freeStake(id) == 1000, "stake");
        require(registry.layoutOf(id).encoding == keccak256("tournament"), "layout");
        require(registry.modelCount() == 1, "count");
    }

    function testRegisterRefusesBadVerifiersAndLayouts() public {
        vm.startPrank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.VerifierHasNoCode.selector, address(0x1234)));
        registry.register(IZkinferVerifier(address(0x1234)), layout(), "");
        address none = address(new NoCommitmentVerifier());
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NoCommitment.selector, none));
        registry.register(IZkinferVerifier(none), layout(), "");
        ModelRegistry.Layout memory l = layout();
        l.param = ModelRegistry.Visibility.Private;
        vm.expectRevert(ModelRegistry.PrivateTensorRefused.selector);
        registry.register(verifier, l, "");
        l = layout();
        l.input = ModelRegistry.Visibility.Private;
        vm.expectRevert(ModelRegistry.PrivateTensorRefused.selector);
        registry.register(verifier, l, "");
        l = layout();
        l.inputValues = 2; // a hashed input is one hash
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.BadLayout.selector, "input values"));
        registry.register(verifier, l, "");
        l = layout();
        l.outputValues = 0;
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.BadLayout.selector, "output values"));
        registry.register(verifier, l, "");
        l = layout();
        l.param = ModelRegistry.Visibility.Hashed; // without its hash
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.BadLayout.selector, "params hash"));
        registry.register(verifier, l, "");
        l.paramsHash = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.BadLayout.selector, "params hash"));
        registry.register(verifier, l, "");
        l = layout();
        l.output = ModelRegistry.Visibility.Fixed;
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.BadLayout.selector, "only params can be fixed"));
        registry.register(verifier, l, "");
        vm.stopPrank();
    }

    function testOnlyTheOperatorManagesStake() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOperator.selector, id, address(this)));
        registry.stake(id, 1);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOperator.selector, id, address(this)));
        registry.requestWithdrawal(id, 1);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOperator.selector, id, address(this)));
        registry.withdraw(id);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotOperator.selector, id, address(this)));
        registry.retire(id);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.UnknownModel.selector, 2));
        registry.stake(2, 1);
        vm.prank(OPERATOR);
        vm.expectRevert(ModelRegistry.ZeroAmount.selector);
        registry.stake(id, 0);
    }

    function testWithdrawalWaitsForTheUnbondingDelay() public {
        vm.startPrank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NothingToWithdraw.selector, id));
        registry.withdraw(id);
        registry.requestWithdrawal(id, 400);
        require(registry.freeStake(id) == 600, "unbonding stake is not free");
        uint64 at = uint64(block.timestamp) + DELAY;
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.StillUnbonding.selector, id, at));
        registry.withdraw(id);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientFreeStake.selector, id, 601, 600));
        registry.requestWithdrawal(id, 601);
        vm.warp(at);
        registry.withdraw(id);
        vm.stopPrank();
        require(token.balanceOf(OPERATOR) == 400 && registry.model(id).stake == 600, "withdrawn");
        require(token.balanceOf(address(registry)) == 600, "registry holds the rest");
    }

    function testLocksBlockWithdrawalAndOnlyTheirMarketReleasesThem() public {
        vm.prank(MARKET);
        registry.lock(id, 700);
        vm.prank(OPERATOR);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientFreeStake.selector, id, 400, 300));
        registry.requestWithdrawal(id, 400);
        // A second lock cannot take stake already locked.
        vm.prank(OTHER_MARKET);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientFreeStake.selector, id, 301, 300));
        registry.lock(id, 301);
        // Another market can neither unlock nor slash MARKET's lock.
        vm.prank(OTHER_MARKET);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientLock.selector, id, 1, 0));
        registry.unlock(id, 1);
        vm.prank(OTHER_MARKET);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientLock.selector, id, 1, 0));
        registry.slash(id, 1, OTHER_MARKET);
        // Never more than locked.
        vm.prank(MARKET);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.InsufficientLock.selector, id, 701, 700));
        registry.slash(id, 701, MARKET);
        vm.prank(MARKET);
        registry.slash(id, 200, address(0xC11E));
        vm.prank(MARKET);
        registry.unlock(id, 500);
        require(token.balanceOf(address(0xC11E)) == 200, "slashed stake paid out");
        require(registry.model(id).stake == 800 && registry.model(id).locked == 0 && registry.freeStake(id) == 800, "books");
    }

    function testOnlyAllowedMarketsLockAndSlash() public {
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotMarket.selector, address(this)));
        registry.lock(id, 1);
        vm.prank(MARKET);
        registry.lock(id, 10);
        vm.prank(OWNER);
        registry.setMarket(MARKET, false);
        vm.prank(MARKET);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.NotMarket.selector, MARKET));
        registry.slash(id, 1, MARKET);
        // A disallowed market can still release what it locked, so its obligations can end.
        vm.prank(MARKET);
        registry.unlock(id, 10);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        registry.setMarket(address(this), true);
    }

    function testRetiredModelsTakeNoNewLocks() public {
        vm.prank(OPERATOR);
        registry.retire(id);
        vm.prank(MARKET);
        vm.expectRevert(abi.encodeWithSelector(ModelRegistry.RetiredModel.selector, id));
        registry.lock(id, 1);
    }

    function testOwnershipTransfersInTwoSteps() public {
        vm.prank(OWNER);
        registry.transferOwnership(address(0xB0B));
        require(registry.owner() == OWNER, "one step is not enough");
        vm.prank(address(0xB0B));
        registry.acceptOwnership();
        require(registry.owner() == address(0xB0B), "accepted");
    }

    /// Fuzz: any sequence of lock / slash / unlock / unbond amounts keeps the books consistent.
    function testFuzzStakeBooks(uint16 lockAmt, uint16 slashAmt, uint16 unbondAmt) public {
        uint256 l = uint256(lockAmt) % 1001;
        vm.prank(MARKET);
        registry.lock(id, l);
        uint256 s = l == 0 ? 0 : uint256(slashAmt) % (l + 1);
        vm.prank(MARKET);
        registry.slash(id, s, MARKET);
        uint256 u = uint256(unbondAmt) % (registry.freeStake(id) + 1);
        if (u > 0) {
            vm.prank(OPERATOR);
            registry.requestWithdrawal(id, u);
        }
        ModelRegistry.Model memory m = registry.model(id);
        require(m.stake == 1000 - s, "stake");
        require(m.locked == l - s && registry.lockedBy(MARKET, id) == l - s, "locks");
        require(m.locked + m.unbonding + registry.freeStake(id) == m.stake, "partition");
        require(token.balanceOf(address(registry)) == m.stake, "balance = stake");
    }
}
