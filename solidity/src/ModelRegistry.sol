// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IZkinferVerifier} from "./IZkinferVerifier.sol";

/// Models of the zkinfer market: who operates them, how their proofs are verified and read, and
/// the stake that backs them.
///
/// A model is registered with its verifier (`ZkinferVerifier`); the registry reads the model
/// commitment from the verifier itself and records the code hashes of the wrapper and of its
/// `Halo2Verifier`, so a client can check off-chain that the code is what `create-evm-verifier`
/// generates for the committed key. The operator declares the public-value layout (the registry
/// cannot read it from the commitment); a wrong layout only makes the operator's own proofs fail.
///
/// Stake, in one ERC-20, is held here per model and split into three parts:
/// `stake = free + locked + unbonding`. Markets that governance allows lock free stake for an
/// open obligation, unlock it when the obligation ends and slash at most what they locked.
/// The operator withdraws free stake in two steps, after `unbondingDelay`.
///
/// Invariants: the registry's token balance equals the sum of all models' `stake`; for every
/// model `locked + unbonding <= stake` and `locked` equals the sum of the locks markets hold on it;
/// a market can unlock or slash only its own locks.
contract ModelRegistry is Ownable2Step, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// Visibility of a tensor, with the codes of the model commitment's statement encoding.
    enum Visibility {
        Public,
        Private,
        Hashed,
        Fixed
    }

    /// How the model's public values are laid out (README, "Public values"): inputs, params hash
    /// (hashed params), outputs, binding.
    struct Layout {
        Visibility input;
        Visibility param;
        Visibility output;
        /// Public values of the input segment: the element count (public) or 1 (hashed).
        uint32 inputValues;
        /// Public values of the output segment: the element count (public) or 1 (hashed).
        uint32 outputValues;
        /// Fixed-point scale of the outputs (value = integer / 2^outputScale).
        uint32 outputScale;
        /// With hashed params: the params hash every proof carries; zero otherwise.
        uint256 paramsHash;
        /// Feature encoding of a tournament the model is compiled for (shape, scale, packing);
        /// zero when none. Prediction markets accept only models of their encoding.
        bytes32 encoding;
    }

    struct Model {
        address operator;
        IZkinferVerifier verifier;
        bytes32 commitment;
        bytes32 verifierCodeHash;
        bytes32 halo2CodeHash;
        bool retired;
        uint64 unbondingEnd;
        uint256 stake;
        uint256 locked;
        uint256 unbonding;
        Layout layout;
        string uri;
    }

    /// BN254 scalar field modulus: public values must lie below it.
    uint256 internal constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IERC20 public immutable token;
    uint64 public immutable unbondingDelay;

    /// Model ids start at 1.
    uint256 public modelCount;
    mapping(uint256 id => Model) internal models;
    mapping(address market => bool) public isMarket;
    /// Stake each market holds locked on each model.
    mapping(address market => mapping(uint256 id => uint256)) public lockedBy;

    event MarketSet(address indexed market, bool allowed);
    event ModelRegistered(uint256 indexed id, address indexed operator, address verifier, bytes32 commitment, bytes32 encoding, string uri);
    event ModelRetired(uint256 indexed id);
    event Staked(uint256 indexed id, uint256 amount);
    event WithdrawalRequested(uint256 indexed id, uint256 amount, uint64 availableAt);
    event Withdrawn(uint256 indexed id, uint256 amount);
    event Locked(uint256 indexed id, address indexed market, uint256 amount);
    event Unlocked(uint256 indexed id, address indexed market, uint256 amount);
    event Slashed(uint256 indexed id, address indexed market, uint256 amount, address to);

    error UnknownModel(uint256 id);
    error NotOperator(uint256 id, address caller);
    error NotMarket(address caller);
    error RetiredModel(uint256 id);
    error VerifierHasNoCode(address verifier);
    error NoCommitment(address verifier);
    error PrivateTensorRefused();
    error BadLayout(string why);
    error ZeroAmount();
    error InsufficientFreeStake(uint256 id, uint256 requested, uint256 free);
    error InsufficientLock(uint256 id, uint256 requested, uint256 locked);
    error StillUnbonding(uint256 id, uint64 availableAt);
    error NothingToWithdraw(uint256 id);

    constructor(IERC20 token_, uint64 unbondingDelay_, address owner_) Ownable(owner_) {
        token = token_;
        unbondingDelay = unbondingDelay_;
    }

    modifier onlyOperator(uint256 id) {
        if (models[id].operator != msg.sender) revert NotOperator(id, msg.sender);
        _;
    }

    modifier exists(uint256 id) {
        if (id == 0 || id > modelCount) revert UnknownModel(id);
        _;
    }

    // ---------------------------------------------------------------- governance

    /// Allow (or disallow) a market to lock and slash stake. A disallowed market can still
    /// unlock what it holds, so obligations it opened can end.
    function setMarket(address market, bool allowed) external onlyOwner {
        isMarket[market] = allowed;
        emit MarketSet(market, allowed);
    }

    // ---------------------------------------------------------------- operators

    /// Register a model served by `msg.sender`. The commitment is read from `verifier`; proofs
    /// with private inputs, params or outputs convince nobody of anything and are refused.
    function register(IZkinferVerifier verifier, Layout calldata layout, string calldata uri) external returns (uint256 id) {
        if (address(verifier).code.length == 0) revert VerifierHasNoCode(address(verifier));
        bytes32 commitment = verifier.modelCommitment();
        if (commitment == bytes32(0)) revert NoCommitment(address(verifier));
        address halo2 = verifier.halo2Verifier();
        if (halo2.code.length == 0) revert VerifierHasNoCode(halo2);
        _checkLayout(layout);
        id = ++modelCount;
        Model storage m = models[id];
        m.operator = msg.sender;
        m.verifier = verifier;
        m.commitment = commitment;
        m.verifierCodeHash = address(verifier).codehash;
        m.halo2CodeHash = halo2.codehash;
        m.layout = layout;
        m.uri = uri;
        emit ModelRegistered(id, msg.sender, address(verifier), commitment, layout.encoding, uri);
    }

    function _checkLayout(Layout calldata l) internal pure {
        if (l.input == Visibility.Private || l.param == Visibility.Private || l.output == Visibility.Private) revert PrivateTensorRefused();
        if (l.input == Visibility.Fixed || l.output == Visibility.Fixed) revert BadLayout("only params can be fixed");
        if (l.param == Visibility.Public) revert BadLayout("public params are not supported by the market");
        if (l.inputValues == 0 || (l.input == Visibility.Hashed && l.inputValues != 1)) revert BadLayout("input values");
        if (l.outputValues == 0 || (l.output == Visibility.Hashed && l.outputValues != 1)) revert BadLayout("output values");
        if ((l.param == Visibility.Hashed) != (l.paramsHash != 0) || l.paramsHash >= FIELD_MODULUS) revert BadLayout("params hash");
    }

    /// No new obligations for a retired model; its stake is withdrawn as usual.
    function retire(uint256 id) external exists(id) onlyOperator(id) {
        models[id].retired = true;
        emit ModelRetired(id);
    }

    /// Add `amount` to the model's stake (pulled from the operator).
    function stake(uint256 id, uint256 amount) external nonReentrant exists(id) onlyOperator(id) {
        if (amount == 0) revert ZeroAmount();
        models[id].stake += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(id, amount);
    }

    /// Start unbonding `amount` of free stake; it can be withdrawn `unbondingDelay` later (the
    /// delay restarts with every request).
    function requestWithdrawal(uint256 id, uint256 amount) external exists(id) onlyOperator(id) {
        if (amount == 0) revert ZeroAmount();
        Model storage m = models[id];
        uint256 free = freeStake(id);
        if (amount > free) revert InsufficientFreeStake(id, amount, free);
        m.unbonding += amount;
        m.unbondingEnd = uint64(block.timestamp) + unbondingDelay;
        emit WithdrawalRequested(id, amount, m.unbondingEnd);
    }

    /// Withdraw the unbonded stake once the delay has passed.
    function withdraw(uint256 id) external nonReentrant exists(id) onlyOperator(id) {
        Model storage m = models[id];
        uint256 amount = m.unbonding;
        if (amount == 0) revert NothingToWithdraw(id);
        if (block.timestamp < m.unbondingEnd) revert StillUnbonding(id, m.unbondingEnd);
        m.unbonding = 0;
        m.stake -= amount;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(id, amount);
    }

    // ---------------------------------------------------------------- markets

    /// Lock `amount` of the model's free stake for an obligation of the calling market.
    function lock(uint256 id, uint256 amount) external exists(id) {
        if (!isMarket[msg.sender]) revert NotMarket(msg.sender);
        Model storage m = models[id];
        if (m.retired) revert RetiredModel(id);
        uint256 free = freeStake(id);
        if (amount > free) revert InsufficientFreeStake(id, amount, free);
        m.locked += amount;
        lockedBy[msg.sender][id] += amount;
        emit Locked(id, msg.sender, amount);
    }

    /// Release `amount` the calling market locked.
    function unlock(uint256 id, uint256 amount) external exists(id) {
        _release(id, amount);
        emit Unlocked(id, msg.sender, amount);
    }

    /// Take `amount` of what the calling market locked and send it to `to`.
    function slash(uint256 id, uint256 amount, address to) external nonReentrant exists(id) {
        if (!isMarket[msg.sender]) revert NotMarket(msg.sender);
        _release(id, amount);
        models[id].stake -= amount;
        token.safeTransfer(to, amount);
        emit Slashed(id, msg.sender, amount, to);
    }

    function _release(uint256 id, uint256 amount) internal {
        uint256 held = lockedBy[msg.sender][id];
        if (amount > held) revert InsufficientLock(id, amount, held);
        lockedBy[msg.sender][id] = held - amount;
        models[id].locked -= amount;
    }

    // ---------------------------------------------------------------- views

    /// Stake neither locked nor unbonding.
    function freeStake(uint256 id) public view returns (uint256) {
        Model storage m = models[id];
        return m.stake - m.locked - m.unbonding;
    }

    function model(uint256 id) external view exists(id) returns (Model memory) {
        return models[id];
    }

    function layoutOf(uint256 id) external view exists(id) returns (Layout memory) {
        return models[id].layout;
    }

    /// The operator, verifier and retirement flag of a model (what markets check per call).
    function serving(uint256 id) external view exists(id) returns (address operator, IZkinferVerifier verifier, bool retired) {
        Model storage m = models[id];
        return (m.operator, m.verifier, m.retired);
    }
}
