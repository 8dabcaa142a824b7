// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ModelRegistry} from "./ModelRegistry.sol";
import {IZkinferVerifier} from "./IZkinferVerifier.sol";
import {QuadraticScoring as Q} from "./QuadraticScoring.sol";

/// A prediction tournament of zkinfer models (MARKET.md, "PredictionMarket"): rounds of one
/// K-outcome question, priced by the quadratic market scoring rule, traded only with proofs that
/// a registered model produced the prediction from the round's committed features.
///
/// Life of round n: a funder `open`s it with the Poseidon commitment of its features and a
/// subsidy >= the worst-case sponsor loss; until `close` model operators `trade`, each moving the
/// market from p to their model's normalised prediction q and escrowing the worst case of that
/// move; between `close` and `resolveBy` anyone submits a threshold of committee signatures over
/// the EIP-712 `Outcome(round, outcome)` (`resolve`); then anyone `settle`s (paginated): each trade
/// is credited `collateral + S(q, i*) - S(p, i*)`, the sponsor its subsidy minus the market's
/// cost, and the rounding remainder is carried into the next round opened. A round not resolved
/// by `resolveBy` is void and `settle` credits every deposit back. Credits are pulled with
/// `claim` (pull payments: one blocked or reverting recipient cannot stall a settlement).
///
/// Invariants the contract keeps (checked by test/PredictionMarket.invariant.t.sol):
/// - `token.balanceOf(this) == totalHeld + carried + totalCredits` (exceeded only by tokens sent
///   to it directly), where `totalHeld` is the sum of every round's `held`;
/// - a round's deposits (subsidy + carried-in dust + collateral) are, once it is settled, exactly
///   its credits plus the dust it carries on (`deposits == paidOut + dust`, `held == 0`), and a
///   void round credits every deposit to its depositor with no dust;
/// - each trade is credited once, each credit claimed once; a trade's credit is never negative
///   (collateral covers its worst outcome) and the sponsor's charge never exceeds the subsidy;
/// - nothing enters a market without a proof that verified against public values this contract
///   built itself: the round's feature commitment, the model's params hash, the claimed
///   prediction and a binding to (chain, market, round, model, msg.sender).
contract PredictionMarket is Ownable2Step, ReentrancyGuard, EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant OUTCOME_TYPEHASH = keccak256("Outcome(uint256 round,uint256 outcome)");
    /// BN254 scalar field modulus.
    uint256 public constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Trades per round: bounds settlement work (64 trades settle in one call).
    uint256 public constant MAX_TRADES = 64;
    /// Largest liquidity b: keeps every collateral below 2^121 (fits the trade record).
    uint256 public constant MAX_LIQUIDITY = 1e36;
    /// Committee members are tracked in a 256-bit set.
    uint256 public constant MAX_COMMITTEE = 256;
    /// The score's moving average weighs each new payoff 1/EMA_WEIGHT.
    int256 public constant EMA_WEIGHT = 8;

    enum Status {
        None,
        Open,
        Resolved,
        Settled,
        Refunded
    }

    /// What a round accepts now: Trading (trade), Closed (resolve), Resolved (settle), Void
    /// (settle refunds), Settled / Refunded (nothing; credits are claimed).
    enum Phase {
        None,
        Trading,
        Closed,
        Resolved,
        Void,
        Settled,
        Refunded
    }

    struct Round {
        uint256 featuresCommitment;
        address sponsor;
        uint64 close;
        Status status;
        uint8 outcome;
        uint8 tradeCount;
        /// Trades settled (or refunded) so far.
        uint8 cursor;
        uint64 resolveBy;
        uint256 subsidy;
        /// Dust carried in from earlier rounds; returned with the subsidy.
        uint256 carryIn;
        /// Sum of the trades' collateral.
        uint256 collateral;
        /// What the round still holds: deposits - paidOut - dust.
        uint256 held;
        /// Credited to traders and the sponsor.
        uint256 paidOut;
        /// Carried on to the next round opened.
        uint256 dust;
    }

    struct Trade {
        address operator;
        uint64 modelId;
        uint128 collateral;
        /// Sum of squares of `q` (grid steps).
        uint64 sumSq;
        /// The market after the trade, in grid steps (QuadraticScoring).
        uint32[16] q;
    }

    struct Score {
        /// Sum of the model's settled payoffs (token units).
        int256 cumulative;
        /// Exponential moving average of its payoffs per trade (weight 1/EMA_WEIGHT); within
        /// [-2b, 2b] like every payoff, so 128 bits hold it.
        int128 ema;
        uint64 trades;
    }

    ModelRegistry public immutable registry;
    IERC20 public immutable token;
    /// K, the number of outcomes.
    uint256 public immutable outcomes;
    /// b, the liquidity parameter (token units): a trade's payoff lies in [-2b, 2b].
    uint256 public immutable liquidity;
    /// Feature encoding every trading model must be registered with.
    bytes32 public immutable encoding;
    uint256 public immutable threshold;
    /// Least collateral a trade escrows (returned at settlement): prices the trade slots.
    uint256 public immutable minCollateral;
    /// Least subsidy of a round: the worst-case sponsor loss floor(b * max_i(1 - S(p0, i)/b)).
    uint256 public immutable minSubsidy;

    address[] internal members;
    /// 1-based index of each member, 0 for non-members.
    mapping(address => uint256) public memberIndex;

    uint256 public roundCount;
    mapping(uint256 => Round) internal rounds;
    mapping(uint256 => mapping(uint256 => Trade)) internal trades;
    /// Per round and outcome: sum of collateral * q_i (the metamodel's numerator).
    mapping(uint256 => uint256[16]) internal weighted;
    mapping(uint256 => Score) internal scores;

    /// Claimable balances.
    mapping(address => uint256) public credits;
    uint256 public totalCredits;
    /// Sum of `held` over all rounds.
    uint256 public totalHeld;
    /// Rounding dust waiting for the next round.
    uint256 public carried;
    /// Accounts that may open (and fund) rounds.
    mapping(address => bool) public isFunder;

    event RoundOpened(uint256 indexed round, address indexed sponsor, uint256 featuresCommitment, string uri, uint256 subsidy, uint256 carryIn, uint64 close, uint64 resolveBy);
    event Traded(uint256 indexed round, uint256 indexed index, uint256 indexed modelId, address operator, uint256[] probabilities, uint256 collateral);
    event Resolved(uint256 indexed round, uint256 outcome, uint256 signatures);
    event TradeSettled(uint256 indexed round, uint256 indexed index, uint256 indexed modelId, address operator, int256 payoff, uint256 credit);
    event TradeRefunded(uint256 indexed round, uint256 indexed index, address operator, uint256 amount);
    event ScoreUpdated(uint256 indexed modelId, int256 cumulative, int256 ema, uint64 trades);
    event RoundSettled(uint256 indexed round, uint256 sponsorCredit, uint256 dust);
    event RoundRefunded(uint256 indexed round, uint256 sponsorCredit, uint256 dust);
    event Claimed(address indexed account, uint256 amount);
    event FunderSet(address indexed funder, bool allowed);

    error NotFunder(address caller);
    error BadOutcomeCount(uint256 k);
    error BadLiquidity(uint256 b);
    error BadCommittee();
    error BadThreshold(uint256 threshold, uint256 members);
    error NotInField(uint256 value);
    error BadSchedule(uint64 close, uint64 resolveBy);
    error SubsidyTooLow(uint256 subsidy, uint256 minimum);
    error UnknownRound(uint256 round);
    error UnknownTrade(uint256 round, uint256 index);
    error WrongStatus(uint256 round, Phase phase);
    error TradingClosed(uint256 round, uint64 close);
    error TooManyTrades(uint256 round);
    error NotOperator(uint256 modelId, address caller);
    error RetiredModel(uint256 modelId);
    error WrongEncoding(uint256 modelId, bytes32 encoding);
    error WrongLayout(uint256 modelId);
    error WrongPredictionLength(uint256 length, uint256 k);
    error InvalidProof(uint256 round, uint256 modelId);
    error CollateralAboveMax(uint256 collateral, uint256 max);
    error NotClosed(uint256 round, uint64 close);
    error ResolutionExpired(uint256 round, uint64 resolveBy);
    error BadOutcome(uint256 outcome);
    error BadSignature(uint256 index);
    error NotMember(address signer);
    error DuplicateSigner(address signer);
    error BelowThreshold(uint256 signatures, uint256 threshold);
    error ZeroBatch();
    error NothingToClaim(address account);

    /// @param registry_ models and the collateral token (`registry_.token()`).
    /// @param k outcomes, 2..16.
    /// @param b liquidity in token units, 1..MAX_LIQUIDITY; a round's subsidy must cover b (1 - 1/K).
    /// @param encoding_ the tournament's feature encoding (ModelRegistry.Layout.encoding).
    /// @param committee_ resolvers (distinct, non-zero, at most 256); `threshold_` of them resolve.
    /// @param minCollateral_ least collateral per trade (0 allowed).
    /// @param admin owns the market (appoints funders, `Ownable2Step`) and is its first funder.
    constructor(
        ModelRegistry registry_,
        uint256 k,
        uint256 b,
        bytes32 encoding_,
        address[] memory committee_,
        uint256 threshold_,
        uint256 minCollateral_,
        address admin
    ) EIP712("zkinfer PredictionMarket", "1") Ownable(admin) {
        if (k < 2 || k > Q.MAX_K) revert BadOutcomeCount(k);
        if (b == 0 || b > MAX_LIQUIDITY) revert BadLiquidity(b);
        if (committee_.length == 0 || committee_.length > MAX_COMMITTEE) revert BadCommittee();
        if (threshold_ == 0 || threshold_ > committee_.length) revert BadThreshold(threshold_, committee_.length);
        for (uint256 i; i < committee_.length; ++i) {
            address m = committee_[i];
            if (m == address(0) || memberIndex[m] != 0) revert BadCommittee();
            members.push(m);
            memberIndex[m] = i + 1;
        }
        registry = registry_;
        token = registry_.token();
        outcomes = k;
        liquidity = b;
        encoding = encoding_;
        threshold = threshold_;
        minCollateral = minCollateral_;
        minSubsidy = Q.worstCaseLoss(b, k);
        isFunder[admin] = true;
        emit FunderSet(admin, true);
    }

    /// Allow (or disallow) an account to open and fund rounds. (A role table like OpenZeppelin's
    /// AccessControl would cost ~2 KB of code this contract cannot spare under EIP-170.)
    function setFunder(address funder, bool allowed) external onlyOwner {
        isFunder[funder] = allowed;
        emit FunderSet(funder, allowed);
    }

    // ---------------------------------------------------------------- rounds

    /// Open a round on the features committed by `featuresCommitment` (the Poseidon hash of the
    /// packed quantized features under the tournament encoding, published at `uri`), pulling
    /// `subsidy` from the caller, who becomes the round's sponsor. Trading until `close`,
    /// resolution until `resolveBy` (inclusive). Takes in the carried dust.
    function open(uint256 featuresCommitment, string calldata uri, uint256 subsidy, uint64 close, uint64 resolveBy)
        external
        nonReentrant
        returns (uint256 round)
    {
        if (!isFunder[msg.sender]) revert NotFunder(msg.sender);
        if (featuresCommitment >= FIELD_MODULUS) revert NotInField(featuresCommitment);
        if (close <= block.timestamp || resolveBy <= close) revert BadSchedule(close, resolveBy);
        if (subsidy < minSubsidy) revert SubsidyTooLow(subsidy, minSubsidy);
        round = ++roundCount;
        Round storage r = rounds[round];
        r.featuresCommitment = featuresCommitment;
        r.sponsor = msg.sender;
        r.close = close;
        r.resolveBy = resolveBy;
        r.status = Status.Open;
        uint256 carryIn = carried;
        carried = 0;
        r.subsidy = subsidy;
        r.carryIn = carryIn;
        r.held = subsidy + carryIn;
        totalHeld += subsidy + carryIn;
        emit RoundOpened(round, msg.sender, featuresCommitment, uri, subsidy, carryIn, close, resolveBy);
        token.safeTransferFrom(msg.sender, address(this), subsidy);
    }

    /// `trade` without a collateral limit (the ERC-20 allowance still caps it).
    function trade(uint256 round, uint256 modelId, uint256[] calldata prediction, bytes calldata proof) external returns (uint256) {
        return trade(round, modelId, prediction, proof, type(uint256).max);
    }

    /// Move round `round`'s market to model `modelId`'s prediction, proven by `proof`.
    ///
    /// The caller must be the model's operator; the model must not be retired, must take the
    /// features hashed (one input hash), give public outputs, one per outcome, and be registered
    /// with the tournament's encoding. `prediction` are the model's outputs (non-negative
    /// fixed-point scores); the public values verified are rebuilt here:
    /// `[featuresCommitment, (paramsHash), prediction..., binding(round, modelId, msg.sender)]`.
    /// Escrows `max(collateral(p -> q), minCollateral)`, reverting if above `maxCollateral`.
    function trade(uint256 round, uint256 modelId, uint256[] calldata prediction, bytes calldata proof, uint256 maxCollateral)
        public
        nonReentrant
        returns (uint256 collateral)
    {
        Round storage r = rounds[round];
        if (r.status != Status.Open) revert WrongStatus(round, phase(round));
        if (block.timestamp >= r.close) revert TradingClosed(round, r.close);
        uint256 index = r.tradeCount;
        if (index >= MAX_TRADES) revert TooManyTrades(round);
        (uint32[16] memory q, uint64 qSq) = _provenPrediction(round, modelId, prediction, proof);
        collateral = _collateral(round, index, q, qSq);
        if (collateral > maxCollateral) revert CollateralAboveMax(collateral, maxCollateral);
        Trade storage t = trades[round][index];
        t.operator = msg.sender;
        t.modelId = uint64(modelId); // registry ids count from 1; serving() refused unknown ones
        t.collateral = uint128(collateral);
        t.sumSq = qSq;
        t.q = q;
        r.tradeCount = uint8(index + 1);
        r.collateral += collateral;
        r.held += collateral;
        totalHeld += collateral;
        if (collateral != 0) {
            uint256[16] storage w = weighted[round];
            for (uint256 i; i < outcomes; ++i) w[i] += collateral * q[i];
        }
        emit Traded(round, index, modelId, msg.sender, _wad(q), collateral);
        if (collateral != 0) token.safeTransferFrom(msg.sender, address(this), collateral);
    }

    /// Resolve round `round` with `outcome`, given signatures of at least `threshold` distinct
    /// committee members over the EIP-712 `Outcome(round, outcome)` of this market's domain.
    /// Allowed from `close` to `resolveBy` inclusive; every signature must come from a member.
    function resolve(uint256 round, uint256 outcome, bytes[] calldata signatures) external {
        Round storage r = rounds[round];
        if (r.status != Status.Open) revert WrongStatus(round, phase(round));
        if (block.timestamp < r.close) revert NotClosed(round, r.close);
        if (block.timestamp > r.resolveBy) revert ResolutionExpired(round, r.resolveBy);
        if (outcome >= outcomes) revert BadOutcome(outcome);
        if (signatures.length < threshold) revert BelowThreshold(signatures.length, threshold);
        bytes32 digest = outcomeDigest(round, outcome);
        uint256 seen;
        for (uint256 i; i < signatures.length; ++i) {
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signatures[i]);
            if (err != ECDSA.RecoverError.NoError) revert BadSignature(i);
            uint256 idx = memberIndex[signer];
            if (idx == 0) revert NotMember(signer);
            uint256 bit = 1 << (idx - 1);
            if (seen & bit != 0) revert DuplicateSigner(signer);
            seen |= bit;
        }
        r.status = Status.Resolved;
        r.outcome = uint8(outcome);
        emit Resolved(round, outcome, signatures.length);
    }

    /// Settle (or, for a void round, refund) every remaining trade of `round`.
    function settle(uint256 round) external {
        settle(round, MAX_TRADES);
    }

    /// Settle the next `maxTrades` trades of a resolved round - crediting each operator
    /// `collateral + payoff` and updating the model's score - or refund them if the round is
    /// void; the call that reaches the last trade also credits the sponsor and carries the dust.
    function settle(uint256 round, uint256 maxTrades) public nonReentrant {
        Phase ph = phase(round);
        if (ph != Phase.Resolved && ph != Phase.Void) revert WrongStatus(round, ph);
        Round storage r = rounds[round];
        uint256 from = r.cursor;
        uint256 end = r.tradeCount;
        if (maxTrades == 0 && from < end) revert ZeroBatch();
        if (end - from > maxTrades) end = from + maxTrades;
        uint256 paid;
        for (uint256 j = from; j < end; ++j) {
            paid += ph == Phase.Resolved ? _settleTrade(round, j, r.outcome) : _refundTrade(round, j);
        }
        r.cursor = uint8(end);
        bool last = end == r.tradeCount;
        uint256 sponsorCredit;
        if (last) {
            sponsorCredit = ph == Phase.Resolved ? _sponsorCredit(round) : r.subsidy + r.carryIn;
            credits[r.sponsor] += sponsorCredit;
            paid += sponsorCredit;
        }
        r.paidOut += paid;
        r.held -= paid;
        totalHeld -= paid;
        totalCredits += paid;
        if (last) {
            // What the round still holds is the traders' rounding remainder (zero when void).
            uint256 dust = r.held;
            r.held = 0;
            r.dust = dust;
            totalHeld -= dust;
            carried += dust;
            if (ph == Phase.Resolved) {
                r.status = Status.Settled;
                emit RoundSettled(round, sponsorCredit, dust);
            } else {
                r.status = Status.Refunded;
                emit RoundRefunded(round, sponsorCredit, dust);
            }
        }
    }

    /// Pay out the caller's credits.
    function claim() external nonReentrant returns (uint256 amount) {
        amount = credits[msg.sender];
        if (amount == 0) revert NothingToClaim(msg.sender);
        credits[msg.sender] = 0;
        totalCredits -= amount;
        emit Claimed(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    // ---------------------------------------------------------------- views

    /// The binding a trade's proof must carry (`zkinfer prove --binding`):
    /// keccak256(abi.encode(chainid, this, round, modelId, operator)) mod r.
    function binding(uint256 round, uint256 modelId, address operator) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), round, modelId, operator))) % FIELD_MODULUS;
    }

    /// The EIP-712 digest committee members sign for `Outcome(round, outcome)`.
    function outcomeDigest(uint256 round, uint256 outcome) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(OUTCOME_TYPEHASH, round, outcome)));
    }

    function phase(uint256 round) public view returns (Phase) {
        Round storage r = rounds[round];
        Status s = r.status;
        if (s == Status.None) return Phase.None;
        if (s == Status.Open) {
            if (block.timestamp < r.close) return Phase.Trading;
            return block.timestamp <= r.resolveBy ? Phase.Closed : Phase.Void;
        }
        if (s == Status.Resolved) return Phase.Resolved;
        return s == Status.Settled ? Phase.Settled : Phase.Refunded;
    }

    function roundInfo(uint256 round) external view returns (Round memory) {
        if (rounds[round].status == Status.None) revert UnknownRound(round);
        return rounds[round];
    }

    /// A trade: operator, model, collateral and the market after it (1e18 fixed point).
    function tradeOf(uint256 round, uint256 index)
        external
        view
        returns (address operator, uint256 modelId, uint256 collateral, uint256[] memory probabilities)
    {
        if (index >= rounds[round].tradeCount) revert UnknownTrade(round, index);
        Trade storage t = trades[round][index];
        return (t.operator, t.modelId, t.collateral, _wad(t.q));
    }

    /// The round's market probabilities (1e18 fixed point); final once trading closes.
    function market(uint256 round) external view returns (uint256[] memory) {
        (uint32[16] memory p,) = _market(round, rounds[round].tradeCount);
        return _wad(p);
    }

    /// The metamodel: the collateral-weighted mean of the round's predictions (1e18 fixed point,
    /// each entry rounded down) and the total weight; all zero before any collateral.
    function metamodel(uint256 round) external view returns (uint256[] memory probabilities, uint256 weight) {
        weight = rounds[round].collateral;
        probabilities = new uint256[](outcomes);
        if (weight == 0) return (probabilities, 0);
        for (uint256 i; i < outcomes; ++i) probabilities[i] = (weighted[round][i] * Q.STEP_WAD) / weight;
    }

    /// The collateral a trade of `prediction` would escrow now, and the probabilities it sets.
    function quote(uint256 round, uint256[] calldata prediction) external view returns (uint256 collateral, uint256[] memory probabilities) {
        if (prediction.length != outcomes) revert WrongPredictionLength(prediction.length, outcomes);
        (uint32[16] memory q, uint64 qSq) = Q.normalise(prediction, outcomes);
        return (_collateral(round, rounds[round].tradeCount, q, qSq), _wad(q));
    }

    /// A model's leaderboard entry: cumulative payoff, moving average per trade, trades settled.
    function score(uint256 modelId) external view returns (int256 cumulative, int256 ema, uint64 tradeCount) {
        Score storage s = scores[modelId];
        return (s.cumulative, s.ema, s.trades);
    }

    function committee() external view returns (address[] memory) {
        return members;
    }

    // ---------------------------------------------------------------- internals

    function _tradingModel(uint256 modelId) internal view returns (IZkinferVerifier verifier, uint256 paramsHash) {
        (address operator, IZkinferVerifier v, bool retired) = registry.serving(modelId);
        if (operator != msg.sender) revert NotOperator(modelId, msg.sender);
        if (retired) revert RetiredModel(modelId);
        ModelRegistry.Layout memory l = registry.layoutOf(modelId);
        if (l.encoding != encoding) revert WrongEncoding(modelId, l.encoding);
        if (l.input != ModelRegistry.Visibility.Hashed || l.output != ModelRegistry.Visibility.Public || l.outputValues != outcomes) {
            revert WrongLayout(modelId);
        }
        return (v, l.param == ModelRegistry.Visibility.Hashed ? l.paramsHash : 0);
    }

    /// Check the model may trade, normalise its prediction and verify the proof against the
    /// public values rebuilt here.
    function _provenPrediction(uint256 round, uint256 modelId, uint256[] calldata prediction, bytes calldata proof)
        internal
        view
        returns (uint32[16] memory q, uint64 qSq)
    {
        (IZkinferVerifier verifier, uint256 paramsHash) = _tradingModel(modelId);
        if (prediction.length != outcomes) revert WrongPredictionLength(prediction.length, outcomes);
        (q, qSq) = Q.normalise(prediction, outcomes);
        if (!verifier.verifyProof(proof, _publicValues(round, modelId, paramsHash, prediction))) revert InvalidProof(round, modelId);
    }

    /// [featuresCommitment, (paramsHash), prediction..., binding(round, modelId, msg.sender)].
    function _publicValues(uint256 round, uint256 modelId, uint256 paramsHash, uint256[] calldata prediction)
        internal
        view
        returns (uint256[] memory v)
    {
        uint256 k = prediction.length;
        uint256 off = paramsHash == 0 ? 1 : 2;
        v = new uint256[](off + k + 1);
        v[0] = rounds[round].featuresCommitment;
        if (paramsHash != 0) v[1] = paramsHash;
        for (uint256 i; i < k; ++i) v[off + i] = prediction[i];
        v[off + k] = binding(round, modelId, msg.sender);
    }

    /// The market before trade `index`: the previous trade's q, or the uniform start.
    function _market(uint256 round, uint256 index) internal view returns (uint32[16] memory p, uint64 sumSq) {
        if (index == 0) return Q.uniform(outcomes);
        Trade storage t = trades[round][index - 1];
        return (t.q, t.sumSq);
    }

    function _collateral(uint256 round, uint256 index, uint32[16] memory q, uint64 qSq) internal view returns (uint256 c) {
        (uint32[16] memory p, uint64 pSq) = _market(round, index);
        c = Q.collateral(liquidity, p, pSq, q, qSq, outcomes);
        if (c < minCollateral) c = minCollateral;
    }

    function _settleTrade(uint256 round, uint256 j, uint256 outcome) internal returns (uint256 credit) {
        Trade storage t = trades[round][j];
        uint256 pi;
        uint64 pSq;
        if (j == 0) {
            (uint32[16] memory p0, uint64 sq) = Q.uniform(outcomes);
            (pi, pSq) = (p0[outcome], sq);
        } else {
            Trade storage prev = trades[round][j - 1];
            (pi, pSq) = (prev.q[outcome], prev.sumSq);
        }
        int256 pay = Q.payoff(liquidity, pi, pSq, t.q[outcome], t.sumSq);
        credit = uint256(int256(uint256(t.collateral)) + pay); // >= 0: collateral covers the worst outcome
        address op = t.operator;
        credits[op] += credit;
        emit TradeSettled(round, j, t.modelId, op, pay, credit);
        Score storage s = scores[t.modelId];
        s.cumulative += pay;
        int256 ema = s.trades == 0 ? pay : s.ema + (pay - s.ema) / EMA_WEIGHT;
        s.ema = SafeCast.toInt128(ema); // a weighted mean of payoffs, each within [-2b, 2b]
        s.trades += 1;
        emit ScoreUpdated(t.modelId, s.cumulative, s.ema, s.trades);
    }

    function _refundTrade(uint256 round, uint256 j) internal returns (uint256 amount) {
        Trade storage t = trades[round][j];
        amount = t.collateral;
        credits[t.operator] += amount;
        emit TradeRefunded(round, j, t.operator, amount);
    }

    /// Sponsor credit: subsidy + carried-in dust - floor(exact market cost), where the exact
    /// cost S(p_final, i*) - S(p0, i*) (the trades' exact payoffs telescope to it) is at most
    /// `minSubsidy` <= subsidy. The traders' floored payoffs sum to at most floor(exact cost);
    /// that gap (< one unit per trade) is the dust carried on.
    function _sponsorCredit(uint256 round) internal view returns (uint256) {
        Round storage r = rounds[round];
        uint256 outcome = r.outcome;
        (uint32[16] memory p0, uint64 sq0) = Q.uniform(outcomes);
        (uint32[16] memory pf, uint64 sqf) = _market(round, r.tradeCount);
        int256 cost = Q.payoff(liquidity, p0[outcome], sq0, pf[outcome], sqf);
        return uint256(SafeCast.toInt256(r.subsidy + r.carryIn) - cost);
    }

    function _wad(uint32[16] memory p) internal view returns (uint256[] memory w) {
        w = new uint256[](outcomes);
        for (uint256 i; i < outcomes; ++i) w[i] = uint256(p[i]) * Q.STEP_WAD;
    }
}
