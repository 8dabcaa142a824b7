// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {vm} from "./utils/Vm.sol";
import {console} from "./utils/TestBase.sol";
import {PredictionMarketFixture} from "./utils/PredictionMarketFixture.sol";
import {MockExpectingVerifier} from "./utils/MockExpectingVerifier.sol";
import {TestToken} from "../src/TestToken.sol";
import {PredictionMarket} from "../src/PredictionMarket.sol";

/// Drives one market through random sequences of opens, trades (three operators, proofs the mock
/// accepts only for the public values computed here), time, resolutions, void rounds, paginated
/// settlements, claims and misuse; keeps a reference ledger of what every account is owed,
/// computed with its own QMSR arithmetic (1e18 fixed point, not the market's grid code).
contract PredictionMarketHandler is PredictionMarketFixture {
    uint256 internal constant MAX_ROUNDS = 8;

    address[4] internal actors;
    uint256[3] internal models;

    /// Reference ledger: what the market should have credited each account so far.
    mapping(address => uint256) public owed;
    mapping(address => uint256) public claimed;
    /// Tokens that entered (subsidies, collateral) and left (claims) the market.
    uint256 public deposited;
    uint256 public withdrawn;
    /// Calls that should have succeeded and reverted, or should have reverted and succeeded.
    uint256 public surprises;
    uint256[6] public calls;

    constructor() {
        vm.warp(1_000_000);
        deploy(K, B, 1000);
        actors = [funder, op1, op2, op3];
        models = [m1, m2, m3];
    }

    function target() external view returns (PredictionMarket, TestToken) {
        return (market, token);
    }

    function actor(uint256 i) external view returns (address) {
        return actors[i];
    }

    // ------------------------------------------------------------ actions

    function open(uint256 subsidySeed, uint256 closeSeed, uint256 windowSeed) public {
        if (market.roundCount() >= MAX_ROUNDS) return;
        uint256 subsidy = market.minSubsidy() + subsidySeed % 1000e18;
        uint64 close = uint64(block.timestamp + bound(closeSeed, 1 hours, 3 days));
        uint64 resolveBy = close + uint64(bound(windowSeed, 1 hours, 3 days));
        vm.prank(funder);
        try market.open(FEATURES, "ipfs://f", subsidy, close, resolveBy) {
            deposited += subsidy;
            calls[0]++;
        } catch {
            surprises++;
        }
    }

    /// One to three trades by successive operators in a trading round (one is opened if none).
    function trade(uint256 opSeed, uint256 roundSeed, uint256 a, uint256 b, uint256 c) external {
        uint256 round = pick(roundSeed, PredictionMarket.Phase.Trading, PredictionMarket.Phase.Trading);
        if (round == 0) {
            open(a, b, c);
            round = pick(roundSeed, PredictionMarket.Phase.Trading, PredictionMarket.Phase.Trading);
            if (round == 0) return;
        }
        for (uint256 n = 1 + opSeed % 3; n > 0; --n) {
            if (market.roundInfo(round).tradeCount >= 64) return;
            uint256[] memory pred = arr(a % 1000, b % 1000, c % 1000);
            if (pred[0] + pred[1] + pred[2] == 0) pred[2] = 1;
            tradeOne(round, models[(opSeed % 3 + n) % 3], pred);
            (a, b, c) = (uint256(keccak256(abi.encode(a))), b / 1000, c / 1000);
        }
    }

    function tradeOne(uint256 round, uint256 modelId, uint256[] memory pred) internal {
        (address operator, uint256 paramsHash) = operatorOf(modelId);
        bytes memory proof = proofOf(round, modelId);
        verifier.expect(expectedValues(round, modelId, operator, paramsHash, pred), proof);
        uint256 before = token.balanceOf(operator);
        vm.prank(operator);
        try market.trade(round, modelId, pred, proof) returns (uint256 collateral) {
            if (before - token.balanceOf(operator) != collateral) surprises++;
            deposited += collateral;
            calls[1]++;
        } catch {
            surprises++;
        }
    }

    function warp(uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 0, 2 days));
    }

    function resolve(uint256 roundSeed, uint256 outcomeSeed, uint256 signerSeed) external {
        // a closed round, else a trading one after waiting for its close
        uint256 round = pick(roundSeed, PredictionMarket.Phase.Closed, PredictionMarket.Phase.Closed);
        if (round == 0) round = pick(roundSeed, PredictionMarket.Phase.Trading, PredictionMarket.Phase.Trading);
        if (round == 0) return;
        uint64 close = market.roundInfo(round).close;
        if (block.timestamp < close) vm.warp(close);
        uint256 outcome = outcomeSeed % K;
        bytes32 digest = market.outcomeDigest(round, outcome);
        bytes[] memory s = new bytes[](2); // two of the three members, in any order
        uint256 first = signerSeed % 3;
        s[0] = signDigest(memberKeys[first], digest);
        s[1] = signDigest(memberKeys[(first + 1 + (signerSeed / 3) % 2) % 3], digest);
        try market.resolve(round, outcome, s) {
            calls[2]++;
        } catch {
            surprises++;
        }
    }

    function settle(uint256 roundSeed, uint256 batchSeed) external {
        uint256 round = pick(roundSeed, PredictionMarket.Phase.Resolved, PredictionMarket.Phase.Void);
        if (round == 0) return;
        bool isVoid = market.phase(round) == PredictionMarket.Phase.Void;
        uint256 from = market.roundInfo(round).cursor;
        try market.settle(round, bound(batchSeed, 1, 5)) {
            calls[3]++;
        } catch {
            surprises++;
            return;
        }
        PredictionMarket.Round memory r = market.roundInfo(round);
        for (uint256 j = from; j < r.cursor; ++j) {
            (address operator,, uint256 collateral, uint256[] memory q) = market.tradeOf(round, j);
            if (isVoid) {
                owed[operator] += collateral;
            } else {
                int256 credit = int256(collateral) + refPayoff(B, marketBefore(round, j), q, r.outcome);
                if (credit < 0) surprises++;
                else owed[operator] += uint256(credit);
            }
        }
        if (r.cursor == r.tradeCount) {
            uint256 sponsor = r.subsidy + r.carryIn;
            if (!isVoid) {
                sponsor = uint256(int256(sponsor) - refPayoff(B, uniform(), marketBefore(round, r.tradeCount), r.outcome));
            }
            owed[r.sponsor] += sponsor;
        }
    }

    function claim(uint256 actorSeed) external {
        address a = actors[actorSeed % 4];
        if (market.credits(a) == 0) return;
        uint256 before = token.balanceOf(a);
        vm.prank(a);
        try market.claim() returns (uint256 amount) {
            if (token.balanceOf(a) - before != amount) surprises++;
            claimed[a] += amount;
            withdrawn += amount;
            calls[4]++;
        } catch {
            surprises++;
        }
    }

    /// Something that must revert: a trade outside trading, a resolution outside its window or
    /// repeated, a settlement before resolution or repeated, a claim of nothing.
    function misuse(uint256 kind, uint256 roundSeed) external {
        uint256 n = market.roundCount();
        uint256 round = n == 0 ? 1 : 1 + roundSeed % n;
        PredictionMarket.Phase ph = market.phase(round);
        bool reverted;
        kind %= 4;
        if (kind == 0 && ph != PredictionMarket.Phase.Trading) {
            uint256[] memory pred = arr(1, 2, 3);
            verifier.expect(expectedValues(round, m1, op1, 0, pred), proofOf(round, m1));
            vm.prank(op1);
            try market.trade(round, m1, pred, proofOf(round, m1)) {} catch { reverted = true; }
        } else if (kind == 1 && ph != PredictionMarket.Phase.Closed) {
            bytes[] memory s = sigs(round, 0, 2);
            try market.resolve(round, 0, s) {} catch { reverted = true; }
        } else if (kind == 2 && ph != PredictionMarket.Phase.Resolved && ph != PredictionMarket.Phase.Void) {
            try market.settle(round) {} catch { reverted = true; }
        } else if (kind == 3 && market.credits(address(0xD00D)) == 0) {
            vm.prank(address(0xD00D));
            try market.claim() {} catch { reverted = true; }
        } else {
            return;
        }
        if (!reverted) surprises++;
        calls[5]++;
    }

    // ------------------------------------------------------------ reference

    /// A round in phase `a` or `b`, searching from the seed; 0 if none.
    function pick(uint256 seed, PredictionMarket.Phase a, PredictionMarket.Phase b) internal view returns (uint256) {
        uint256 n = market.roundCount();
        for (uint256 k; k < n; ++k) {
            uint256 round = 1 + (seed % n + k) % n;
            PredictionMarket.Phase ph = market.phase(round);
            if (ph == a || ph == b) return round;
        }
        return 0;
    }

    /// The uniform start in 1e18 fixed point on a 1e-6 grid, remainder on outcome 0.
    function uniform() internal pure returns (uint256[] memory p) {
        p = new uint256[](K);
        uint256 each = (1e6 / K) * 1e12;
        for (uint256 i; i < K; ++i) p[i] = each;
        p[0] += 1e18 - each * K;
    }

    function marketBefore(uint256 round, uint256 j) internal view returns (uint256[] memory p) {
        if (j == 0) return uniform();
        (,,, p) = market.tradeOf(round, j - 1);
    }
}

/// Invariants of PredictionMarket over random handler sequences (foundry.toml: 64 runs x depth 32).
contract PredictionMarketInvariantTest {
    PredictionMarketHandler internal handler;
    PredictionMarket internal market;
    TestToken internal token;

    error Broken(string what, uint256 left, uint256 right);

    function setUp() public {
        handler = new PredictionMarketHandler();
        (market, token) = handler.target();
    }

    function targetContracts() public view returns (address[] memory t) {
        t = new address[](1);
        t[0] = address(handler);
    }

    function check(bool ok, string memory what, uint256 l, uint256 r) internal pure {
        if (!ok) revert Broken(what, l, r);
    }

    /// `forge test --mc PredictionMarketInvariantTest -vv` shows what a run did.
    function afterInvariant() public view {
        string[6] memory names = ["opened", "traded", "resolved", "settle calls", "claimed", "misuses reverted"];
        for (uint256 i; i < 6; ++i) console.log(names[i], handler.calls(i));
        console.log("rounds settled or refunded", settledRounds());
    }

    function settledRounds() internal view returns (uint256 n) {
        for (uint256 i = 1; i <= market.roundCount(); ++i) {
            if (uint256(market.roundInfo(i).status) >= uint256(PredictionMarket.Status.Settled)) ++n;
        }
    }

    /// Every handler call that should have succeeded did, and every misuse reverted.
    function invariant_noSurprises() public view {
        check(handler.surprises() == 0, "surprises", handler.surprises(), 0);
    }

    /// balance == open collateral + round pools (sum of held) + carried dust + unclaimed credits.
    function invariant_balanceCoversEveryLiability() public view {
        uint256 held;
        for (uint256 r = 1; r <= market.roundCount(); ++r) held += market.roundInfo(r).held;
        check(held == market.totalHeld(), "sum of held", held, market.totalHeld());
        uint256 owed = market.totalHeld() + market.carried() + market.totalCredits();
        check(token.balanceOf(address(market)) == owed, "balance", token.balanceOf(address(market)), owed);
        check(handler.deposited() == handler.withdrawn() + token.balanceOf(address(market)), "conservation", handler.deposited(), handler.withdrawn());
    }

    /// Every account's credits plus claims equal the reference ledger: each trade and each
    /// sponsor credited once, with the QMSR amount (or its deposit when void), claimed once.
    function invariant_noDoublePayout() public view {
        uint256 sum;
        for (uint256 i; i < 4; ++i) {
            address a = handler.actor(i);
            uint256 got = market.credits(a) + handler.claimed(a);
            check(got == handler.owed(a), "credits + claims == owed", got, handler.owed(a));
            sum += market.credits(a);
        }
        check(sum == market.totalCredits(), "total credits", sum, market.totalCredits());
    }

    /// A settled round paid out exactly its pool (the rest is dust < one unit per trade, carried
    /// on); a void round returned every deposit; an unsettled round holds all of them.
    function invariant_roundsPayOutExactlyTheirPool() public view {
        uint256 dust;
        uint256 carriedIn;
        for (uint256 i = 1; i <= market.roundCount(); ++i) {
            PredictionMarket.Round memory r = market.roundInfo(i);
            uint256 deposits = r.subsidy + r.carryIn + r.collateral;
            if (r.status == PredictionMarket.Status.Settled) {
                check(r.held == 0 && r.paidOut + r.dust == deposits, "settled pool", r.paidOut + r.dust, deposits);
                check(r.dust <= (r.tradeCount == 0 ? 0 : r.tradeCount - 1), "dust", r.dust, r.tradeCount);
            } else if (r.status == PredictionMarket.Status.Refunded) {
                check(r.held == 0 && r.dust == 0 && r.paidOut == deposits, "void refund", r.paidOut, deposits);
            } else {
                check(r.paidOut + r.held + r.dust == deposits && r.dust == 0, "unsettled pool", r.held, deposits);
            }
            dust += r.dust;
            carriedIn += r.carryIn;
        }
        check(market.carried() + carriedIn == dust, "carried dust", market.carried() + carriedIn, dust);
    }
}
