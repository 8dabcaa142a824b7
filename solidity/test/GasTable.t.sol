// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {vm} from "./utils/Vm.sol";
import {TestToken} from "../src/TestToken.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {InferenceMarket} from "../src/InferenceMarket.sol";
import {IZkinferVerifier} from "../src/IZkinferVerifier.sol";
import {DigitsMlpProof as F} from "./fixtures/DigitsMlpProof.sol";
import {DigitsMlpLayout} from "./fixtures/DigitsMlpLayout.sol";

/// One call of each user-facing function of the registry and the inference market, in the
/// state a real user meets (fixtures.sh's digits-MLP proof, the real verifier). `gas_table.sh`
/// runs it with `--gas-report --isolate` (every call its own transaction) and writes the table.
contract GasTableTest {
    address internal constant DEPLOYER = address(0xD0D0);
    address internal constant OPERATOR = address(0xA11CE);
    address internal constant CLIENT = address(0xC11E);

    function testInferenceFlow() public {
        vm.startPrank(DEPLOYER);
        TestToken token = new TestToken();
        ModelRegistry registry = new ModelRegistry(token, 7 days, DEPLOYER);
        InferenceMarket market = new InferenceMarket(registry, 20_000, 5_000);
        address halo2 = vm.deployCode("DigitsMlpVerifier.sol:Halo2Verifier", "");
        IZkinferVerifier verifier = IZkinferVerifier(vm.deployCode("DigitsMlpVerifier.sol:ZkinferVerifier", abi.encode(halo2)));
        registry.setMarket(address(market), true);
        vm.stopPrank();
        require(market.binding(1, OPERATOR) == F.binding(), "fixture binding differs: regenerate with fixtures.sh");
        token.mint(OPERATOR, 1000e18);
        token.mint(CLIENT, 1000e18);
        ModelRegistry.Layout memory l = DigitsMlpLayout.layout();
        vm.startPrank(OPERATOR);
        token.approve(address(registry), type(uint256).max);
        uint256 id = registry.register(verifier, l, "ipfs://digits-mlp");
        registry.stake(id, 500e18);
        vm.stopPrank();
        vm.startPrank(CLIENT);
        token.approve(address(market), type(uint256).max);
        uint256 rid = market.request(id, F.inputs(), 10e18, uint64(block.timestamp + 1 hours));
        uint256 late = market.request(id, F.inputs(), 10e18, uint64(block.timestamp + 1 hours));
        vm.stopPrank();
        (uint256[] memory ins, uint256[] memory outs, bytes memory proof) = (F.inputs(), F.outputs(), F.proof());
        vm.prank(OPERATOR);
        market.fulfil(rid, ins, outs, proof);
        vm.warp(block.timestamp + 2 hours);
        market.reclaim(late);
        vm.startPrank(OPERATOR);
        registry.requestWithdrawal(id, 100e18);
        vm.warp(block.timestamp + 8 days);
        registry.withdraw(id);
        registry.retire(id);
        vm.stopPrank();
    }
}
