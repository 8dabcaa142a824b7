// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {vm} from "./utils/Vm.sol";
import {console} from "./utils/TestBase.sol";
import {PredictionMarketFixture} from "./utils/PredictionMarketFixture.sol";
import {MockExpectingVerifier} from "./utils/MockExpectingVerifier.sol";
import {ModelRegistry} from "../src/ModelRegistry.sol";
import {IZkinferVerifier} from "../src/IZkinferVerifier.sol";
import {PredictionMarket} from "../src/PredictionMarket.sol";
import {QuadraticScoring as Q} from "../src/QuadraticScoring.sol";

/// Unit tests of PredictionMarket: configuration, open, trade, resolve (K = 3 unless a test
/// deploys another).
contract PredictionMarketTest is PredictionMarketFixture {
    function setUp() public {
        vm.warp(1_000_000);
        deploy(K, B, 0);
    }

    function tradeReverts(address operator, uint256 round, uint256 modelId, uint256[] memory prediction, bytes memory err) internal {
        bytes memory proof = proofOf(round, modelId);
        vm.expectRevert(err);
        vm.prank(operator);
        market.trade(round, modelId, prediction, proof);
    }


    // ------------------------------------------------------------ constructor

    function testConstructorChecks() public {
        address[] memory one = new address[](1);
        one[0] = address(1);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadOutcomeCount.selector, 1));
        newMarket(1, B, one, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadOutcomeCount.selector, 17));
        newMarket(17, B, one, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadLiquidity.selector, 0));
        newMarket(2, 0, one, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadLiquidity.selector, 1e36 + 1));
        newMarket(2, 1e36 + 1, one, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadThreshold.selector, 2, 1));
        newMarket(2, B, one, 2, 0);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadThreshold.selector, 0, 1));
        newMarket(2, B, one, 0, 0);
        vm.expectRevert(PredictionMarket.BadCommittee.selector);
        newMarket(2, B, new address[](0), 1, 0);
        address[] memory dup = new address[](2);
        (dup[0], dup[1]) = (address(1), address(1));
        vm.expectRevert(PredictionMarket.BadCommittee.selector);
        newMarket(2, B, dup, 1, 0);
        one[0] = address(0);
        vm.expectRevert(PredictionMarket.BadCommittee.selector);
        newMarket(2, B, one, 1, 0);
    }

    function testConfigAndMinSubsidy() public {
        assertEq(address(market.token()), address(token), "token = registry.token()");
        assertEq(market.outcomes(), 3, "K");
        assertEq(market.threshold(), 2, "threshold");
        assertEq(market.committee().length, 3, "committee");
        address[] memory one = new address[](1);
        one[0] = address(1);
        // K divides the grid: exactly b (1 - 1/K)
        assertEq(newMarket(2, 1e18, one, 1, 0).minSubsidy(), 0.5e18, "K=2");
        assertEq(newMarket(4, 1e18, one, 1, 0).minSubsidy(), 0.75e18, "K=4");
        // K = 3: the grid's uniform start is (333334, 333333, 333333) steps, a hair above 2/3
        uint256 s3 = newMarket(3, 1e18, one, 1, 0).minSubsidy();
        assertEq(s3, 666667333334000000, "K=3: 2b/3 + 6.7e-7 b");
        uint256[] memory p = market.market(1); // no round: the uniform start
        assertEq(p[0] + p[1] + p[2], 1e18, "uniform sums to one");
        assertEq(p[0], 333334e12, "remainder on outcome 0");
    }

    // ------------------------------------------------------------ open

    function testOpen() public {
        uint256 before = token.balanceOf(funder);
        uint256 round = openRound(market.minSubsidy() + 5);
        assertEq(round, 1, "first round id");
        PredictionMarket.Round memory r = market.roundInfo(round);
        assertEq(r.sponsor, funder, "sponsor");
        assertEq(r.featuresCommitment, FEATURES, "commitment");
        assertEq(r.held, market.minSubsidy() + 5, "held");
        assertEq(before - token.balanceOf(funder), market.minSubsidy() + 5, "subsidy pulled");
        assertEq(uint256(market.phase(round)), uint256(PredictionMarket.Phase.Trading), "trading");
        assertEq(openRound(), 2, "a second round opens while the first trades");
    }

    function testOpenReverts() public {
        uint256 min = market.minSubsidy();
        uint64 t = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.NotFunder.selector, op1));
        vm.prank(op1);
        market.open(FEATURES, "", min, t + 1, t + 2);
        vm.startPrank(funder);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.SubsidyTooLow.selector, min - 1, min));
        market.open(FEATURES, "", min - 1, t + 1, t + 2);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadSchedule.selector, t, t + 2));
        market.open(FEATURES, "", min, t, t + 2);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadSchedule.selector, t + 2, t + 2));
        market.open(FEATURES, "", min, t + 2, t + 2);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.NotInField.selector, R));
        market.open(R, "", min, t + 1, t + 2);
        vm.stopPrank();
    }

    // ------------------------------------------------------------ trade

    function testTradeRebuildsPublicValues() public {
        uint256 round = openRound();
        uint256[] memory pred = arr(50, 30, 20);
        // fixed params: [features, prediction, binding]; hashed params: [features, paramsHash, ...]
        assertEq(expectedValues(round, m1, op1, 0, pred).length, 5, "fixed-params layout");
        doTrade(round, m1, pred);
        assertEq(expectedValues(round, m2, op2, PARAMS_HASH, pred).length, 6, "hashed-params layout");
        doTrade(round, m2, arr(1, 1, 2));
        uint256 b = expectedBinding(round, m1, op1);
        assertEq(market.binding(round, m1, op1), b, "binding view");
        assertTrue(b != expectedBinding(round, m1, op2) && b != expectedBinding(round + 1, m1, op1), "binding varies");
        (address op, uint256 id, uint256 c, uint256[] memory q) = market.tradeOf(round, 0);
        assertEq(op, op1, "operator");
        assertEq(id, m1, "model");
        assertEq(q[0], 0.5e18, "q0");
        assertEq(q[1], 0.3e18, "q1");
        assertEq(c, refCollateral(B, market.market(0), q), "collateral");
        uint256[] memory p = market.market(round);
        assertEq(p[2], 0.5e18, "market = last prediction");
    }

    function testTradeProofMustCarryThisBinding() public {
        uint256 round = openRound();
        uint256[] memory pred = arr(5, 3, 2);
        bytes memory proof = proofOf(round, m1);
        // a proof for another round, another operator, another chain, or other features
        uint256[][4] memory wrong;
        wrong[0] = expectedValues(round + 1, m1, op1, 0, pred);
        wrong[1] = expectedValues(round, m1, op2, 0, pred);
        vm.chainId(999);
        wrong[2] = expectedValues(round, m1, op1, 0, pred);
        vm.chainId(31337);
        wrong[3] = expectedValues(round, m1, op1, 0, pred);
        wrong[3][0] = FEATURES + 1;
        for (uint256 i; i < 4; ++i) {
            verifier.expect(wrong[i], proof);
            vm.expectRevert(abi.encodeWithSelector(PredictionMarket.InvalidProof.selector, round, m1));
            vm.prank(op1);
            market.trade(round, m1, pred, proof);
        }
        // the wrong proof bytes for the right values
        verifier.expect(expectedValues(round, m1, op1, 0, pred), "other proof");
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.InvalidProof.selector, round, m1));
        vm.prank(op1);
        market.trade(round, m1, pred, proof);
    }

    function testTradeModelChecks() public {
        uint256 round = openRound();
        uint256[] memory pred = arr(1, 2, 3);
        tradeReverts(op2, round, m1, pred, abi.encodeWithSelector(PredictionMarket.NotOperator.selector, m1, op2));
        ModelRegistry.Layout memory l = hashedInput(K, 0);
        l.encoding = keccak256("other encoding");
        uint256 other = register(op1, l);
        tradeReverts(op1, round, other, pred, abi.encodeWithSelector(PredictionMarket.WrongEncoding.selector, other, l.encoding));
        l = hashedInput(K, 0);
        l.input = ModelRegistry.Visibility.Public;
        l.inputValues = 64;
        uint256 pub = register(op1, l);
        tradeReverts(op1, round, pub, pred, abi.encodeWithSelector(PredictionMarket.WrongLayout.selector, pub));
        l = hashedInput(K, 0);
        l.output = ModelRegistry.Visibility.Hashed;
        l.outputValues = 1;
        uint256 hashedOut = register(op1, l);
        tradeReverts(op1, round, hashedOut, pred, abi.encodeWithSelector(PredictionMarket.WrongLayout.selector, hashedOut));
        uint256 tenOut = register(op1, hashedInput(10, 0));
        tradeReverts(op1, round, tenOut, pred, abi.encodeWithSelector(PredictionMarket.WrongLayout.selector, tenOut));
        vm.prank(op1);
        registry.retire(m1);
        tradeReverts(op1, round, m1, pred, abi.encodeWithSelector(PredictionMarket.RetiredModel.selector, m1));
        tradeReverts(op1, round, 99, pred, abi.encodeWithSelector(ModelRegistry.UnknownModel.selector, 99));
    }

    function testTradePredictionChecks() public {
        uint256 round = openRound();
        tradeReverts(op1, round, m1, arr(1, 2), abi.encodeWithSelector(PredictionMarket.WrongPredictionLength.selector, 2, 3));
        tradeReverts(op1, round, m1, arr(1, R - 5, 3), abi.encodeWithSelector(Q.NegativeScore.selector, 1));
        tradeReverts(op1, round, m1, arr(1, 2, 1 << 128), abi.encodeWithSelector(Q.ScoreTooLarge.selector, 2));
        tradeReverts(op1, round, m1, arr(0, 0, 0), abi.encodeWithSelector(Q.ZeroScoreSum.selector));
    }

    function testTradeRoundChecks() public {
        uint256[] memory pred = arr(1, 2, 3);
        tradeReverts(op1, 1, m1, pred, phaseErr(1, NONE));
        uint256 round = openRound();
        vm.warp(block.timestamp + 1 days);
        uint64 close = market.roundInfo(round).close;
        tradeReverts(op1, round, m1, pred, abi.encodeWithSelector(PredictionMarket.TradingClosed.selector, round, close));
        resolveRound(round, 0);
        tradeReverts(op1, round, m1, pred, phaseErr(round, PredictionMarket.Phase.Resolved));
    }

    function testTradeCap() public {
        uint256 round = openRound();
        for (uint256 i; i < 64; ++i) doTrade(round, i % 2 == 0 ? m1 : m3, arr(1 + i, 2, 3));
        tradeReverts(op1, round, m1, arr(1, 2, 3), abi.encodeWithSelector(PredictionMarket.TooManyTrades.selector, round));
    }

    function testTradeCollateralLimitAndQuote() public {
        uint256 round = openRound();
        uint256[] memory pred = arr(9, 0, 1);
        (uint256 quoted,) = market.quote(round, pred);
        bytes memory proof = proofOf(round, m1);
        verifier.expect(expectedValues(round, m1, op1, 0, pred), proof);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.CollateralAboveMax.selector, quoted, quoted - 1));
        vm.prank(op1);
        market.trade(round, m1, pred, proof, quoted - 1);
        uint256 before = token.balanceOf(op1);
        vm.prank(op1);
        assertEq(market.trade(round, m1, pred, proof, quoted), quoted, "collateral = quote");
        assertEq(before - token.balanceOf(op1), quoted, "collateral pulled");
    }

    function testMinCollateral() public {
        deploy(K, B, 7e18);
        uint256 round = openRound();
        doTrade(round, m1, arr(1, 1, 1)); // equals the start: 0 by the rule, raised to the minimum
        (,, uint256 c,) = market.tradeOf(round, 0);
        assertEq(c, 7e18, "minimum collateral");
    }

    function testMetamodel() public {
        uint256 round = openRound();
        (uint256[] memory mm, uint256 w) = market.metamodel(round);
        assertEq(w + mm[0], 0, "empty metamodel");
        uint256 c1 = doTrade(round, m1, arr(8, 1, 1));
        uint256 c2 = doTrade(round, m2, arr(2, 2, 6));
        (mm, w) = market.metamodel(round);
        assertEq(w, c1 + c2, "weight = total collateral");
        assertEq(mm[0], (c1 * 0.8e18 + c2 * 0.2e18) / (c1 + c2), "weighted mean");
        assertEq(mm[2], (c1 * 0.1e18 + c2 * 0.6e18) / (c1 + c2), "weighted mean 2");
    }

    // ------------------------------------------------------------ resolve

    function testOutcomeDigestIsEip712() public view {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("zkinfer PredictionMarket"),
                keccak256("1"),
                block.chainid,
                address(market)
            )
        );
        bytes32 structHash = keccak256(abi.encode(keccak256("Outcome(uint256 round,uint256 outcome)"), uint256(4), uint256(2)));
        assertTrue(market.outcomeDigest(4, 2) == keccak256(abi.encodePacked("\x19\x01", domain, structHash)), "digest");
    }

    function testResolve() public {
        uint256 round = openRound();
        vm.warp(block.timestamp + 1 days);
        assertEq(uint256(market.phase(round)), uint256(PredictionMarket.Phase.Closed), "closed");
        market.resolve(round, 2, sigs(round, 2, 3)); // all three (more than the threshold) is fine
        PredictionMarket.Round memory r = market.roundInfo(round);
        assertEq(r.outcome, 2, "outcome");
        assertEq(uint256(market.phase(round)), uint256(PredictionMarket.Phase.Resolved), "resolved");
        bytes[] memory again = sigs(round, 2, 2);
        vm.expectRevert(phaseErr(round, PredictionMarket.Phase.Resolved));
        market.resolve(round, 2, again);
    }

    function testResolveSignatureChecks() public {
        uint256 round = openRound();
        vm.warp(block.timestamp + 1 days);
        bytes32 digest = market.outcomeDigest(round, 1);
        bytes[] memory s = sigs(round, 1, 2);
        // below threshold
        bytes[] memory one = new bytes[](1);
        one[0] = s[0];
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BelowThreshold.selector, 1, 2));
        market.resolve(round, 1, one);
        // a non-member
        s[1] = signDigest(0xBAD, digest);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.NotMember.selector, vm.addr(0xBAD)));
        market.resolve(round, 1, s);
        // the same member twice
        s[1] = s[0];
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.DuplicateSigner.selector, members[0]));
        market.resolve(round, 1, s);
        // signatures for another outcome or round recover to other addresses
        s = sigs(round, 0, 2);
        vm.expectRevert();
        market.resolve(round, 1, s);
        s = sigs(round + 1, 1, 2);
        vm.expectRevert();
        market.resolve(round, 1, s);
        // malformed
        s = sigs(round, 1, 2);
        s[1] = hex"1234";
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadSignature.selector, 1));
        market.resolve(round, 1, s);
        // outcome out of range
        s = sigs(round, 3, 2);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.BadOutcome.selector, 3));
        market.resolve(round, 3, s);
        market.resolve(round, 1, sigs(round, 1, 2));
    }

    function testResolveWrongOutcomeSignerIsNotAMember() public {
        uint256 round = openRound();
        vm.warp(block.timestamp + 1 days);
        bytes[] memory s = sigs(round, 0, 2);
        (address wrong,) = recover(market.outcomeDigest(round, 1), s[0]);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.NotMember.selector, wrong));
        market.resolve(round, 1, s);
    }

    function recover(bytes32 digest, bytes memory sig) internal pure returns (address, bool) {
        (bytes32 r, bytes32 s) = abi.decode(sig, (bytes32, bytes32));
        return (ecrecover(digest, uint8(sig[64]), r, s), true);
    }

    function testResolveWindow() public {
        uint256 round = openRound();
        PredictionMarket.Round memory r = market.roundInfo(round);
        bytes[] memory s = sigs(round, 0, 2);
        bytes[] memory s7 = sigs(7, 0, 2);
        vm.warp(r.close - 1);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.NotClosed.selector, round, r.close));
        market.resolve(round, 0, s);
        vm.warp(r.resolveBy + 1);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.ResolutionExpired.selector, round, r.resolveBy));
        market.resolve(round, 0, s);
        vm.expectRevert(phaseErr(7, NONE));
        market.resolve(7, 0, s7);
        vm.warp(r.resolveBy); // the deadline itself is still in time
        market.resolve(round, 0, s);
    }

}

/// Settlement, refunds, claims, the QMSR properties (fuzz), end to end and gas figures.
contract PredictionMarketSettlementTest is PredictionMarketFixture {
    function setUp() public {
        vm.warp(1_000_000);
        deploy(K, B, 0);
    }

    // ------------------------------------------------------------ settle, refund, claim

    /// K = 2, b = 1: start (0.5, 0.5), a trade to (0.8, 0.2) escrows 0.78, wins 0.42 on outcome 0.
    function testSettleHandComputed() public {
        deploy(2, 1e18, 0);
        uint256 round = openRound(); // subsidy 0.5
        assertEq(doTrade(round, m1, arr(80, 20)), 0.78e18, "collateral 0.78 b");
        resolveRound(round, 0);
        market.settle(round);
        assertEq(market.credits(op1), 1.2e18, "0.78 + 0.42");
        assertEq(market.credits(funder), 0.08e18, "sponsor: 0.5 - 0.42");
        (int256 cum, int256 ema, uint64 n) = market.score(m1);
        assertEq(cum, 0.42e18, "cumulative");
        assertEq(ema, 0.42e18, "ema starts at the first payoff");
        assertEq(n, 1, "trades");
        vm.expectRevert(phaseErr(round, PredictionMarket.Phase.Settled));
        market.settle(round);
        uint256 r2 = openRound();
        doTrade(r2, m1, arr(80, 20));
        resolveRound(r2, 1);
        market.settle(r2);
        assertEq(market.credits(op1), 1.2e18, "outcome 1 loses the whole collateral");
        (cum, ema,) = market.score(m1);
        assertEq(cum, 0.42e18 - 0.78e18, "cumulative after a loss");
        assertEq(ema, 0.42e18 + (-0.78e18 - 0.42e18) / 8, "ema weight 1/8");
    }

    function testSettleRequiresResolution() public {
        uint256 round = openRound();
        vm.expectRevert(phaseErr(round, PredictionMarket.Phase.Trading));
        market.settle(round);
        vm.warp(block.timestamp + 1 days);
        vm.expectRevert(phaseErr(round, PredictionMarket.Phase.Closed));
        market.settle(round);
        vm.expectRevert(phaseErr(5, NONE));
        market.settle(5);
    }

    function testSettlePaginatedEqualsOneShot() public {
        uint256 a = openRound();
        uint256 c = openRound();
        for (uint256 i; i < 7; ++i) {
            uint256[] memory pred = arr(1 + i * 7, 3 + (i * 5) % 11, 2);
            doTrade(a, m1, pred);
            doTrade(c, m3, pred);
        }
        resolveRound(a, 1);
        market.resolve(c, 1, sigs(c, 1, 2));
        vm.expectRevert(PredictionMarket.ZeroBatch.selector);
        market.settle(a, 0);
        market.settle(a, 3);
        assertEq(uint256(market.phase(a)), uint256(PredictionMarket.Phase.Resolved), "still settling");
        market.settle(a, 3);
        market.settle(a, 3);
        market.settle(c);
        PredictionMarket.Round memory ra = market.roundInfo(a);
        PredictionMarket.Round memory rc = market.roundInfo(c);
        assertEq(market.credits(op1), market.credits(op3), "same trades, same credits");
        assertEq(ra.paidOut + ra.dust, ra.subsidy + ra.carryIn + ra.collateral, "round pays out its pool");
        assertEq(ra.held + rc.held, 0, "nothing held");
        assertEq(ra.dust, rc.dust, "same dust");
        assertEq(market.carried(), ra.dust + rc.dust, "dust carried");
    }

    function testDustIsCarriedIntoTheNextRound() public {
        uint256 round = openRound();
        doTrade(round, m1, arr(5, 3, 2));
        doTrade(round, m2, arr(2, 3, 5));
        resolveRound(round, 0);
        market.settle(round);
        uint256 dust = market.roundInfo(round).dust;
        assertEq(dust, 1, "the two floored payoffs leave one unit");
        assertEq(market.carried(), dust, "carried");
        uint256 next = openRound();
        assertEq(market.roundInfo(next).carryIn, dust, "taken in by the next round");
        assertEq(market.carried(), 0, "nothing left to carry");
        vm.warp(block.timestamp + 3 days);
        market.settle(next); // void: the sponsor gets subsidy + carried-in dust
        assertEq(market.roundInfo(next).paidOut, market.minSubsidy() + dust, "refund includes the carry");
    }

    function testVoidRoundRefundsEveryDeposit() public {
        uint256 round = openRound();
        uint256 c1 = doTrade(round, m1, arr(8, 1, 1));
        uint256 c2 = doTrade(round, m2, arr(1, 8, 1));
        uint256 c3 = doTrade(round, m3, arr(1, 1, 8));
        PredictionMarket.Round memory r = market.roundInfo(round);
        bytes[] memory s = sigs(round, 0, 2);
        vm.warp(r.resolveBy + 1);
        assertEq(uint256(market.phase(round)), uint256(PredictionMarket.Phase.Void), "void");
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.ResolutionExpired.selector, round, r.resolveBy));
        market.resolve(round, 0, s);
        market.settle(round, 2);
        market.settle(round, 2);
        assertEq(market.credits(op1), c1, "op1 refunded");
        assertEq(market.credits(op2), c2, "op2 refunded");
        assertEq(market.credits(op3), c3, "op3 refunded");
        assertEq(market.credits(funder), r.subsidy, "subsidy refunded");
        assertEq(uint256(market.phase(round)), uint256(PredictionMarket.Phase.Refunded), "refunded");
        (, , uint64 n) = market.score(m1);
        assertEq(n, 0, "void rounds do not score");
        vm.expectRevert(phaseErr(round, PredictionMarket.Phase.Refunded));
        market.settle(round);
    }

    function testClaim() public {
        uint256 round = openRound();
        doTrade(round, m1, arr(8, 1, 1));
        resolveRound(round, 0);
        market.settle(round);
        uint256 credit = market.credits(op1);
        uint256 before = token.balanceOf(op1);
        vm.prank(op1);
        assertEq(market.claim(), credit, "claimed");
        assertEq(token.balanceOf(op1) - before, credit, "paid");
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.NothingToClaim.selector, op1));
        vm.prank(op1);
        market.claim();
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.UnknownRound.selector, 9));
        market.roundInfo(9);
        vm.expectRevert(abi.encodeWithSelector(PredictionMarket.UnknownTrade.selector, round, 1));
        market.tradeOf(round, 1);
    }

    /// Copying the market escrows nothing and earns nothing, whatever the outcome.
    function testCopyTradeEarnsNothing() public {
        uint256 round = openRound();
        doTrade(round, m1, arr(6, 3, 1));
        assertEq(doTrade(round, m3, arr(60, 30, 10)), 0, "no collateral for a copy");
        resolveRound(round, 2);
        market.settle(round);
        (int256 cum,, uint64 n) = market.score(m3);
        assertEq(cum, 0, "payoff 0");
        assertEq(n, 1, "still a settled trade");
        assertEq(market.credits(op3), 0, "nothing credited");
    }

    // ------------------------------------------------------------ QMSR properties (fuzz)

    function grid(uint256[3] memory seed) internal view returns (uint32[16] memory q, uint64 sq, uint256[] memory scores) {
        scores = arr(seed[0] % 1e9, seed[1] % 1e9, seed[2] % 1e9 + 1);
        (q, sq) = this.normaliseExt(scores);
    }

    function normaliseExt(uint256[] calldata scores) external pure returns (uint32[16] memory, uint64) {
        return Q.normalise(scores, scores.length);
    }

    function testFuzzNormalise(uint256[3] memory seed) public view {
        (uint32[16] memory q,, uint256[] memory s) = grid(seed);
        uint256 sum = s[0] + s[1] + s[2];
        uint256 total;
        for (uint256 i; i < 3; ++i) {
            uint256 fl = (s[i] * 1e6) / sum;
            assertTrue(q[i] >= fl && q[i] < fl + 3, "floor plus at most the remainder");
            total += q[i];
        }
        assertEq(total, 1e6, "sums to one exactly");
    }

    /// Collateral covers every outcome, exactly (no slack) on the worst one; a copy costs nothing.
    function testFuzzCollateralCoversWorstCase(uint256[3] memory ps, uint256[3] memory qs, uint256 b) public view {
        b = bound(b, 1, 1e36);
        (uint32[16] memory p, uint64 pSq,) = grid(ps);
        (uint32[16] memory q, uint64 qSq,) = grid(qs);
        uint256 c = Q.collateral(b, p, pSq, q, qSq, 3);
        int256 worst = type(int256).max;
        for (uint256 i; i < 3; ++i) {
            int256 net = int256(c) + Q.payoff(b, p[i], pSq, q[i], qSq);
            assertGe(net, 0, "credit never negative");
            if (net < worst) worst = net;
            assertEq(Q.payoff(b, p[i], pSq, p[i], pSq), 0, "a trade equal to the market earns 0");
        }
        assertEq(worst, 0, "collateral is the worst case, rounded up");
        assertEq(Q.collateral(b, p, pSq, p, pSq, 3), 0, "copying the market escrows 0");
    }

    /// Under belief q, reporting q maximises the expected payoff (up to the floors: < 1 unit).
    function testFuzzTruthfulReportIsOptimal(uint256[3] memory ps, uint256[3] memory qs, uint256[3] memory rs) public view {
        (uint32[16] memory p, uint64 pSq,) = grid(ps);
        (uint32[16] memory q, uint64 qSq,) = grid(qs);
        (uint32[16] memory r, uint64 rSq,) = grid(rs);
        int256 truthful;
        int256 other;
        for (uint256 i; i < 3; ++i) {
            truthful += int256(uint256(q[i])) * Q.payoff(B, p[i], pSq, q[i], qSq);
            other += int256(uint256(q[i])) * Q.payoff(B, p[i], pSq, r[i], rSq);
        }
        assertLe(other, truthful + 1e6, "truthful is optimal (expectations times 1e6)");
    }

    /// A fuzzed round: trades by three operators, a fuzzed outcome; the sponsor's charge stays
    /// within the subsidy and b (1 - 1/K), the round pays out exactly its pool.
    function testFuzzRound(uint256[3][6] memory preds, uint256 n, uint256 outcome) public {
        n = bound(n, 0, 6);
        outcome %= 3;
        uint256 round = openRound();
        uint256[3] memory ms = [m1, m2, m3];
        uint256 deposits = market.minSubsidy();
        for (uint256 i; i < n; ++i) {
            (,, uint256[] memory scores) = grid(preds[i]);
            deposits += doTrade(round, ms[i % 3], scores);
        }
        resolveRound(round, outcome);
        market.settle(round);
        PredictionMarket.Round memory r = market.roundInfo(round);
        assertEq(r.paidOut + r.dust, deposits, "pays out exactly its pool");
        assertTrue(r.dust <= (n == 0 ? 0 : n - 1), "dust below one unit per trade");
        int256 sponsorCharge = int256(r.subsidy) - int256(market.credits(funder));
        assertLe(sponsorCharge, int256(r.subsidy), "charge <= subsidy");
        assertLe(sponsorCharge, int256(market.minSubsidy()), "charge <= worst case b (1 - 1/K)");
        assertEq(token.balanceOf(address(market)), market.totalCredits() + market.carried(), "balance");
    }

    // ------------------------------------------------------------ end to end, gas

    /// Three operators trade, the committee resolves with real EIP-712 signatures, anyone
    /// settles, everyone claims: balances sum exactly.
    function testEndToEnd() public {
        address[4] memory who = [funder, op1, op2, op3];
        uint256 supply;
        for (uint256 i; i < 4; ++i) supply += token.balanceOf(who[i]);
        uint256 round = openRound(2000e18);
        doTrade(round, m1, arr(60, 30, 10));
        doTrade(round, m2, arr(20, 70, 10));
        doTrade(round, m3, arr(10, 80, 10));
        vm.warp(block.timestamp + 1 days);
        bytes[] memory s = new bytes[](2);
        s[0] = signDigest(memberKeys[2], market.outcomeDigest(round, 1));
        s[1] = signDigest(memberKeys[0], market.outcomeDigest(round, 1));
        vm.prank(address(0xBEEF)); // anyone submits
        market.resolve(round, 1, s);
        vm.prank(address(0xBEEF));
        market.settle(round);
        (int256 s1,,) = market.score(m1);
        (int256 s2,,) = market.score(m2);
        (int256 s3,,) = market.score(m3);
        assertTrue(s1 < 0 && s2 > 0 && s3 > 0, "op1 moved away from outcome 1, op2 and op3 towards it");
        for (uint256 i; i < 4; ++i) {
            vm.prank(who[i]);
            market.claim();
        }
        uint256 after_;
        for (uint256 i; i < 4; ++i) after_ += token.balanceOf(who[i]);
        assertEq(after_ + market.carried(), supply, "tokens are conserved");
        assertEq(token.balanceOf(address(market)), market.carried(), "only dust stays");
        int256 sponsorCharge = int256(1e36) - int256(token.balanceOf(funder));
        assertEq(sponsorCharge, s1 + s2 + s3 + int256(market.carried()), "sponsor pays the traders' net payoff + dust");
    }

    function measuredTrade(uint256 round, uint256 modelId, uint256[] memory pred) internal returns (uint256 gas) {
        (address operator, uint256 paramsHash) = operatorOf(modelId);
        bytes memory proof = proofOf(round, modelId);
        verifier.expect(expectedValues(round, modelId, operator, paramsHash, pred), proof);
        vm.prank(operator);
        gas = gasleft();
        market.trade(round, modelId, pred, proof);
        gas -= gasleft();
    }

    /// `forge test --mt testGasFigures --isolate -vv` (each call its own transaction: cold
    /// storage, 21,000 base gas and calldata included): open, trade (mock verifier), resolve per
    /// signature, settle per trade.
    function testGasFigures() public {
        uint256 g = gasleft();
        uint256 a = openRound();
        console.log("open", g - gasleft());
        uint256 b = openRound();
        uint256 c = openRound();
        uint256 d = openRound();
        console.log("trade: first of the round, K=3 (mock verifier)", measuredTrade(a, m1, arr(5, 3, 2)));
        console.log("trade: later trade, hashed params, K=3 (mock verifier)", measuredTrade(a, m2, arr(2, 3, 5)));
        doTrade(b, m3, arr(9, 3, 2));
        for (uint256 i; i < 8; ++i) doTrade(c, m3, arr(1 + i, 2, 3));
        vm.warp(block.timestamp + 1 days);
        bytes[] memory s2 = sigs(a, 0, 2);
        bytes[] memory s3 = sigs(b, 0, 3);
        bytes[] memory sc = sigs(c, 0, 2);
        g = gasleft();
        market.resolve(a, 0, s2);
        uint256 two = g - gasleft();
        g = gasleft();
        market.resolve(b, 0, s3);
        uint256 three = g - gasleft();
        market.resolve(c, 0, sc);
        market.resolve(d, 0, sigs(d, 0, 2));
        console.log("resolve, 2 signatures", two);
        console.log("resolve, per extra signature", three - two);
        g = gasleft();
        market.settle(d);
        console.log("settle, no trade (the fixed part: sponsor credit, dust)", g - gasleft());
        g = gasleft();
        market.settle(a);
        console.log("settle, 2 trades, first settlement of both models", g - gasleft());
        g = gasleft();
        market.settle(b);
        uint256 one = g - gasleft();
        g = gasleft();
        market.settle(c);
        uint256 eight = g - gasleft();
        console.log("settle, 1 trade (the model's first settlement)", one);
        console.log("settle, per further trade of that model and operator", (eight - one) / 7);
    }
}
