// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {vm} from "./Vm.sol";
import {TestBase} from "./TestBase.sol";
import {MockExpectingVerifier} from "./MockExpectingVerifier.sol";
import {TestToken} from "../../src/TestToken.sol";
import {ModelRegistry} from "../../src/ModelRegistry.sol";
import {IZkinferVerifier} from "../../src/IZkinferVerifier.sol";
import {PredictionMarket} from "../../src/PredictionMarket.sol";

/// Deployment and helpers shared by the prediction-market tests. Expected public values and
/// bindings are computed here from first principles, never read from the market.
abstract contract PredictionMarketFixture is TestBase {
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    bytes32 internal constant ENC = keccak256("digits-8x8/scale7/packing[0,16]");
    uint256 internal constant FEATURES = 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef;
    uint256 internal constant PARAMS_HASH = 0x0bad_cafe_f00d;
    uint256 internal constant B = 1000e18 + 3; // odd on purpose: payoffs do not divide evenly
    uint256 internal constant K = 3;

    TestToken internal token;
    ModelRegistry internal registry;
    PredictionMarket internal market;
    MockExpectingVerifier internal verifier;

    address internal funder = address(0xF00D);
    address internal op1 = address(0xA1);
    address internal op2 = address(0xA2);
    address internal op3 = address(0xA3);
    uint256[] internal memberKeys;
    address[] internal members;

    /// Models of op1, op2, op3 (fixed params, hashed params, fixed params).
    uint256 internal m1;
    uint256 internal m2;
    uint256 internal m3;

    function deploy(uint256 k, uint256 b, uint256 minCollateral) internal {
        token = new TestToken();
        registry = ModelRegistry(vm.deployCode("ModelRegistry.sol:ModelRegistry", abi.encode(token, 1 days, address(this))));
        verifier = new MockExpectingVerifier(keccak256("model"));
        delete memberKeys;
        delete members;
        for (uint256 i = 1; i <= 3; ++i) {
            memberKeys.push(0xC0FFEE00 + i);
            members.push(vm.addr(0xC0FFEE00 + i));
        }
        market = newMarket(k, b, members, 2, minCollateral);
        market.setFunder(funder, true);
        address[4] memory actors = [funder, op1, op2, op3];
        for (uint256 i; i < actors.length; ++i) {
            token.mint(actors[i], 1e36);
            vm.prank(actors[i]);
            token.approve(address(market), type(uint256).max);
        }
        m1 = register(op1, hashedInput(k, 0));
        m2 = register(op2, hashedInput(k, PARAMS_HASH));
        m3 = register(op3, hashedInput(k, 0));
    }

    /// A market on `registry` (deployed from its artifact: its creation code would make every
    /// test contract too large).
    function newMarket(uint256 k, uint256 b, address[] memory committee, uint256 threshold, uint256 minCollateral)
        internal
        returns (PredictionMarket)
    {
        bytes memory args = abi.encode(registry, k, b, ENC, committee, threshold, minCollateral, address(this));
        return PredictionMarket(vm.deployCode("PredictionMarket.sol:PredictionMarket", args));
    }

    /// The layout a tournament model has: hashed features, public outputs (one per outcome).
    function hashedInput(uint256 k, uint256 paramsHash) internal pure returns (ModelRegistry.Layout memory l) {
        l.input = ModelRegistry.Visibility.Hashed;
        l.param = paramsHash == 0 ? ModelRegistry.Visibility.Fixed : ModelRegistry.Visibility.Hashed;
        l.output = ModelRegistry.Visibility.Public;
        l.inputValues = 1;
        l.outputValues = uint32(k);
        l.outputScale = 7;
        l.paramsHash = paramsHash;
        l.encoding = ENC;
    }

    function register(address operator, ModelRegistry.Layout memory l) internal returns (uint256 id) {
        vm.prank(operator);
        id = registry.register(IZkinferVerifier(address(verifier)), l, "ipfs://model");
    }

    function openRound(uint256 subsidy) internal returns (uint256 round) {
        vm.prank(funder);
        round = market.open(FEATURES, "ipfs://features", subsidy, uint64(block.timestamp + 1 days), uint64(block.timestamp + 2 days));
    }

    function openRound() internal returns (uint256) {
        return openRound(market.minSubsidy());
    }

    function expectedBinding(uint256 round, uint256 modelId, address operator) internal view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(market), round, modelId, operator))) % R;
    }

    /// [features, (params hash), prediction..., binding] as the model's proof.json lists them.
    function expectedValues(uint256 round, uint256 modelId, address operator, uint256 paramsHash, uint256[] memory prediction)
        internal
        view
        returns (uint256[] memory v)
    {
        uint256 off = paramsHash == 0 ? 1 : 2;
        v = new uint256[](off + prediction.length + 1);
        v[0] = FEATURES;
        if (paramsHash != 0) v[1] = paramsHash;
        for (uint256 i; i < prediction.length; ++i) v[off + i] = prediction[i];
        v[v.length - 1] = expectedBinding(round, modelId, operator);
    }

    function proofOf(uint256 round, uint256 modelId) internal pure returns (bytes memory) {
        return abi.encodePacked("proof", round, modelId);
    }

    function operatorOf(uint256 modelId) internal view returns (address operator, uint256 paramsHash) {
        (operator,,) = registry.serving(modelId);
        paramsHash = registry.layoutOf(modelId).paramsHash;
    }

    /// A trade with a proof the mock accepts only for the public values computed here.
    function doTrade(uint256 round, uint256 modelId, uint256[] memory prediction) internal returns (uint256) {
        (address operator, uint256 paramsHash) = operatorOf(modelId);
        bytes memory proof = proofOf(round, modelId);
        verifier.expect(expectedValues(round, modelId, operator, paramsHash, prediction), proof);
        vm.prank(operator);
        return market.trade(round, modelId, prediction, proof);
    }

    function sigs(uint256 round, uint256 outcome, uint256 n) internal view returns (bytes[] memory s) {
        s = new bytes[](n);
        for (uint256 i; i < n; ++i) s[i] = signDigest(memberKeys[i], market.outcomeDigest(round, outcome));
    }

    function resolveRound(uint256 round, uint256 outcome) internal {
        uint64 close = market.roundInfo(round).close;
        if (block.timestamp < close) vm.warp(close);
        market.resolve(round, outcome, sigs(round, outcome, 2));
    }

    // ------------------------------------------------------------ reference QMSR (1e18 fixed point)

    /// S(p, i) * 1e36 / b with p in 1e18 fixed point: 2 * 1e18 * p_i - sum p_j^2.
    function refNum(uint256[] memory p, uint256 i) internal pure returns (int256) {
        uint256 sq;
        for (uint256 j; j < p.length; ++j) sq += p[j] * p[j];
        return int256(2e18 * p[i]) - int256(sq);
    }

    function refCollateral(uint256 b, uint256[] memory p, uint256[] memory q) internal pure returns (uint256 c) {
        int256 worst;
        for (uint256 i; i < p.length; ++i) {
            int256 d = refNum(p, i) - refNum(q, i);
            if (d > worst) worst = d;
        }
        if (worst > 0) c = (b * uint256(worst) + 1e36 - 1) / 1e36;
    }

    function refPayoff(uint256 b, uint256[] memory p, uint256[] memory q, uint256 i) internal pure returns (int256 pay) {
        int256 x = int256(b) * (refNum(q, i) - refNum(p, i));
        pay = x / 1e36;
        if (x < 0 && x % 1e36 != 0) pay -= 1;
    }

    PredictionMarket.Phase internal constant NONE = PredictionMarket.Phase.None;

    function phaseErr(uint256 round, PredictionMarket.Phase ph) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(PredictionMarket.WrongStatus.selector, round, ph);
    }

    function arr(uint256 a, uint256 b) internal pure returns (uint256[] memory v) {
        v = new uint256[](2);
        (v[0], v[1]) = (a, b);
    }

    function arr(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory v) {
        v = new uint256[](3);
        (v[0], v[1], v[2]) = (a, b, c);
    }
}
