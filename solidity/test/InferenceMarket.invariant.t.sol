// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {vm} from "./utils/Vm.sol";
import {TestToken} from "../src/TestToken.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {InferenceMarket} from "../src/InferenceMarket.sol";
import {HashCommitVerifier} from "./mocks/HashCommitVerifier.sol";

/// Drives the registry and the inference market with random requests, fulfilments (with valid
/// and invalid proofs), reclaims, stake top-ups, withdrawals and time, for three operators and
/// three clients, keeping ghost books the invariants compare with. The verifier is a mock that
/// accepts exactly `keccak256(publicValues)`: these runs are about accounting; the real verifier
/// is exercised in InferenceMarket.t.sol.
contract InferenceHandler {
    TestToken public token;
    ModelRegistry public registry;
    InferenceMarket public market;
    HashCommitVerifier public verifier;
    address[3] public operators = [address(0xA1), address(0xA2), address(0xA3)];
    address[3] public clients = [address(0xC1), address(0xC2), address(0xC3)];
    uint256[3] public models;

    uint256[] public ids;
    mapping(uint256 id => uint256[]) internal inputsOf;
    mapping(uint256 id => uint256) public settledCount;
    uint256 public openPayments;
    mapping(uint256 model => uint256) public openBonds;
    uint256 public maxSettled;
    bool public invalidProofAccepted;
    uint256 public fulfilled;
    uint256 public reclaimed;

    constructor() {
        token = new TestToken();
        registry = new ModelRegistry(token, 1 days, address(this));
        market = new InferenceMarket(registry, 15_000, 3_000);
        verifier = new HashCommitVerifier(keccak256("invariant model"));
        registry.setMarket(address(market), true);
        ModelRegistry.Layout memory l = ModelRegistry.Layout({
            input: ModelRegistry.Visibility.Public,
            param: ModelRegistry.Visibility.Fixed,
            output: ModelRegistry.Visibility.Public,
            inputValues: 2,
            outputValues: 2,
            outputScale: 7,
            paramsHash: 0,
            encoding: bytes32(0)
        });
        for (uint256 i = 0; i < 3; i++) {
            token.mint(operators[i], 1e24);
            vm.startPrank(operators[i]);
            token.approve(address(registry), type(uint256).max);
            models[i] = registry.register(verifier, l, "");
            registry.stake(models[i], 1e21);
            vm.stopPrank();
            token.mint(clients[i], 1e24);
            vm.prank(clients[i]);
            token.approve(address(market), type(uint256).max);
        }
    }

    function request(uint8 client, uint8 model, uint256 payment, uint32 duration, uint256 x) external {
        uint256 m = models[model % 3];
        payment = 1 + (payment % 1e20);
        uint256 bond = (payment * market.bondBps()) / 10_000;
        if (bond > registry.freeStake(m)) return;
        uint256[] memory ins = new uint256[](2);
        (ins[0], ins[1]) = (x % 1000, (x / 1000) % 1000);
        vm.prank(clients[client % 3]);
        uint256 id = market.request(m, ins, payment, uint64(block.timestamp) + 1 + (duration % 1 days));
        ids.push(id);
        inputsOf[id] = ins;
        openPayments += payment;
        openBonds[m] += bond;
    }

    function fulfil(uint256 pick, bool validProof, uint256 y) external {
        if (ids.length == 0) return;
        uint256 id = ids[pick % ids.length];
        InferenceMarket.Request memory r = market.requestOf(id);
        (address operator, , ) = registry.serving(r.modelId);
        uint256[] memory outs = new uint256[](2);
        (outs[0], outs[1]) = (y % 500, (y / 500) % 500);
        uint256[] memory values = market.publicValues(id, inputsOf[id], outs, operator);
        bytes memory proof = validProof ? verifier.proofFor(values) : abi.encode(y);
        vm.prank(operator);
        try market.fulfil(id, inputsOf[id], outs, proof) {
            if (!validProof) invalidProofAccepted = true;
            settledCount[id] += 1;
            if (settledCount[id] > maxSettled) maxSettled = settledCount[id];
            openPayments -= r.payment;
            openBonds[r.modelId] -= r.bond;
            fulfilled++;
        } catch {}
    }

    function reclaim(uint256 pick, uint32 wait) external {
        if (ids.length == 0) return;
        uint256 id = ids[pick % ids.length];
        vm.warp(block.timestamp + (wait % 2 days));
        InferenceMarket.Request memory r = market.requestOf(id);
        try market.reclaim(id) {
            settledCount[id] += 1;
            if (settledCount[id] > maxSettled) maxSettled = settledCount[id];
            openPayments -= r.payment;
            openBonds[r.modelId] -= r.bond;
            reclaimed++;
        } catch {}
    }

    function topUp(uint8 model, uint256 amount) external {
        uint256 m = models[model % 3];
        vm.prank(operators[model % 3]);
        registry.stake(m, 1 + (amount % 1e20));
    }

    function unbond(uint8 model, uint256 amount) external {
        uint256 m = models[model % 3];
        uint256 free = registry.freeStake(m);
        if (free == 0) return;
        vm.prank(operators[model % 3]);
        registry.requestWithdrawal(m, 1 + (amount % free));
    }

    function withdraw(uint8 model, uint32 wait) external {
        vm.warp(block.timestamp + (wait % 2 days));
        vm.prank(operators[model % 3]);
        try registry.withdraw(models[model % 3]) {} catch {}
    }

    function idCount() external view returns (uint256) {
        return ids.length;
    }
}

/// Invariants of the registry and the inference market (foundry.toml: 64 runs × depth 32).
contract InferenceMarketInvariantTest {
    InferenceHandler internal h;

    function setUp() public {
        h = new InferenceHandler();
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(h);
    }

    /// The market holds exactly the payments of open requests.
    function invariant_escrowEqualsOpenPayments() public view {
        uint256 bal = h.token().balanceOf(address(h.market()));
        require(bal == h.market().escrowed() && bal == h.openPayments(), "market balance != open payments");
    }

    /// The registry holds exactly the models' stake; each model's lock is its open bonds.
    function invariant_stakeAndLocks() public view {
        ModelRegistry r = h.registry();
        uint256 total;
        for (uint256 i = 0; i < 3; i++) {
            uint256 id = h.models(i);
            ModelRegistry.Model memory m = r.model(id);
            total += m.stake;
            require(m.locked == h.openBonds(id) && r.lockedBy(address(h.market()), id) == m.locked, "lock != open bonds");
            require(m.locked + m.unbonding <= m.stake, "over-committed stake");
        }
        require(h.token().balanceOf(address(r)) == total, "registry balance != stakes");
    }

    /// Every request is settled at most once, and never with a proof the verifier rejects.
    function invariant_settledOnceWithProof() public view {
        require(h.maxSettled() <= 1, "a request was settled twice");
        require(!h.invalidProofAccepted(), "paid without a valid proof");
    }

    /// No token is created or lost: every minted token is with an actor or a contract.
    function invariant_tokensConserved() public view {
        TestToken t = h.token();
        uint256 sum = t.balanceOf(address(h.market())) + t.balanceOf(address(h.registry()));
        for (uint256 i = 0; i < 3; i++) sum += t.balanceOf(h.operators(i)) + t.balanceOf(h.clients(i));
        require(sum == t.totalSupply(), "tokens created or lost");
    }
}
