// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Quadratic market scoring rule (Hanson) on a probability grid, the pricing of `PredictionMarket`.
///
/// Probabilities are integers on a grid of `STEPS` = 1e6 steps (one step = 1e-6 = 1e12 in 1e18
/// fixed point); a distribution over K <= 16 outcomes is a `uint32[16]` whose first K entries sum
/// to exactly `STEPS` (the rest are zero). With `b` the liquidity (token units) the score is
///
///     S(p, i) = b * (2 p_i - sum_j p_j^2)            (p as real probabilities)
///             = b * num(p, i) / STEPS^2,   num(p, i) = 2 * STEPS * p_i - sum_j p_j^2   (p in steps)
///
/// so every score is an integer numerator over the common denominator STEPS^2 and the only
/// rounding is the final division to token units: collateral rounds up (against the trader),
/// payoffs round down (against the trader), which keeps `collateral + payoff >= 0` for every
/// outcome and the sum of payoffs below the exact (telescoped) sponsor cost.
library QuadraticScoring {
    /// Grid steps of probability one.
    uint256 internal constant STEPS = 1e6;
    /// One grid step in 1e18 fixed point.
    uint256 internal constant STEP_WAD = 1e12;
    /// Common denominator of score numerators.
    uint256 internal constant DENOM = STEPS * STEPS;
    /// Largest outcome count a distribution holds.
    uint256 internal constant MAX_K = 16;
    /// Largest accepted score: far above any fixed-point model output (the circuit's lookup range
    /// is an i64 interval) and small enough that K scores, times STEPS, never overflow.
    uint256 internal constant MAX_SCORE = 1 << 128;
    /// (r - 1) / 2 for the BN254 scalar field modulus r: field values above it encode negative
    /// numbers (r - |v|).
    uint256 internal constant FIELD_HALF = 10944121435919637611123202872628637544274182200208017171849102093287904247808;

    error NegativeScore(uint256 index);
    error ScoreTooLarge(uint256 index);
    error ZeroScoreSum();

    /// The uniform start on the grid: floor(STEPS / K) each, the remainder (STEPS mod K) on
    /// outcome 0 - the same rule `normalise` applies.
    function uniform(uint256 k) internal pure returns (uint32[16] memory p, uint64 sumSq) {
        uint256 each = STEPS / k;
        for (uint256 i; i < k; ++i) p[i] = uint32(each);
        p[0] = uint32(each + STEPS - each * k);
        sumSq = sumOfSquares(p, k);
    }

    /// Normalise a model's non-negative fixed-point scores to a grid distribution.
    ///
    /// Rule: q_i = floor(score_i * STEPS / sum) for every i, then the remainder
    /// STEPS - sum_i q_i (< K steps) is added to the first outcome of the largest score. The rule
    /// depends only on the scores (not on the market or the outcome), so it cannot be steered
    /// by timing, and the result is an exact distribution (sum = STEPS). Any deviation from the
    /// model's exact scores lowers the trader's expected score (the rule is proper), never the
    /// sponsor's; the sponsor's bound `b (1 - 1/K)` holds for every grid distribution.
    /// Reverts on a negative (>= r/2) or oversized score, or a zero sum.
    function normalise(uint256[] calldata scores, uint256 k) internal pure returns (uint32[16] memory q, uint64 sumSq) {
        uint256 sum;
        uint256 best;
        for (uint256 i; i < k; ++i) {
            uint256 s = scores[i];
            if (s > FIELD_HALF) revert NegativeScore(i);
            if (s >= MAX_SCORE) revert ScoreTooLarge(i);
            sum += s;
            if (s > scores[best]) best = i;
        }
        if (sum == 0) revert ZeroScoreSum();
        uint256 total;
        for (uint256 i; i < k; ++i) {
            uint256 v = (scores[i] * STEPS) / sum;
            q[i] = uint32(v);
            total += v;
        }
        q[best] += uint32(STEPS - total);
        sumSq = sumOfSquares(q, k);
    }

    function sumOfSquares(uint32[16] memory p, uint256 k) internal pure returns (uint64 s) {
        for (uint256 i; i < k; ++i) s += uint64(p[i]) * uint64(p[i]);
    }

    /// num(p, i) = 2 * STEPS * p_i - sum_j p_j^2: S(p, i) in units of b / STEPS^2, in [-DENOM, DENOM].
    function num(uint256 pi, uint64 pSumSq) internal pure returns (int256) {
        return int256(2 * STEPS * pi) - int256(uint256(pSumSq));
    }

    /// Collateral of the move p -> q: ceil(max_i (S(p, i) - S(q, i))), 0 when no outcome loses
    /// (only when q == p: the rule is strictly proper).
    function collateral(uint256 b, uint32[16] memory p, uint64 pSumSq, uint32[16] memory q, uint64 qSumSq, uint256 k)
        internal
        pure
        returns (uint256)
    {
        int256 worst;
        for (uint256 i; i < k; ++i) {
            int256 d = num(p[i], pSumSq) - num(q[i], qSumSq);
            if (d > worst) worst = d;
        }
        if (worst <= 0) return 0;
        return ceilDiv(b * uint256(worst), DENOM);
    }

    /// Payoff of the move p -> q when outcome i wins: floor(S(q, i) - S(p, i)), possibly negative,
    /// never below -collateral(p, q).
    function payoff(uint256 b, uint256 pi, uint64 pSumSq, uint256 qi, uint64 qSumSq) internal pure returns (int256) {
        return floorDiv(int256(b) * (num(qi, qSumSq) - num(pi, pSumSq)), int256(DENOM));
    }

    /// The sponsor's largest possible charge, floor(max_i (b - S(p0, i))): the market moves from
    /// the uniform start p0 to certainty on the outcome p0 rates lowest. b (1 - 1/K) when K
    /// divides STEPS, a few wei above it otherwise.
    function worstCaseLoss(uint256 b, uint256 k) internal pure returns (uint256) {
        (uint32[16] memory p0, uint64 sq) = uniform(k);
        int256 lowest = num(p0[k - 1], sq); // p0[k-1] is a smallest entry
        return (b * uint256(int256(DENOM) - lowest)) / DENOM;
    }

    function ceilDiv(uint256 a, uint256 d) internal pure returns (uint256) {
        return a == 0 ? 0 : (a - 1) / d + 1;
    }

    /// a / d rounded towards minus infinity (d > 0).
    function floorDiv(int256 a, int256 d) internal pure returns (int256 q) {
        q = a / d;
        if (a % d != 0 && a < 0) q -= 1;
    }
}
