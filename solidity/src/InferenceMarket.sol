// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IZkinferVerifier} from "./IZkinferVerifier.sol";
import {ModelRegistry} from "./ModelRegistry.sol";

/// Inference as a service, settled by proofs.
///
/// A client requests one inference of a registered model with a payment held here in escrow
/// and a deadline, giving the input's public values (or, for a `hashed` input, its Poseidon
/// hash; the input itself goes to the operator off-chain). The request locks
/// `bondBps / 10_000 × payment` of the model's stake. Before the deadline the model's operator
/// fulfils with the outputs and a proof: the market rebuilds the public values itself —
/// the request's inputs (passed again and checked against the hash stored at request time:
/// storing 64 input words would cost ~1.4M gas, a hash one slot), the model's params hash
/// (hashed params), the claimed outputs and the
/// binding `keccak256(abi.encode(chainid, this, requestId, msg.sender)) mod r` — and pays the
/// operator only if the model's verifier accepts them, in the same transaction. A proof copied
/// from the mempool cannot be used by anyone else: another sender is refused, and a proof is
/// valid for one binding only. After the deadline anyone can reclaim an open request: the
/// client gets the payment back and `slashBps / 10_000` of the bond from the operator's stake.
///
/// Invariants: the market's token balance equals the sum of the payments of open requests; a
/// request is settled (fulfilled or reclaimed) at most once; nothing is paid to an operator
/// without a proof its model's verifier accepted; the registry lock of an open request is
/// exactly its bond, and it is released (or slashed) exactly once.
contract InferenceMarket is ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint256 internal constant FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant BPS = 10_000;

    enum Status {
        None,
        Open,
        Fulfilled,
        Reclaimed
    }

    struct Request {
        uint256 modelId;
        address client;
        uint64 deadline;
        Status status;
        uint256 payment;
        uint256 bond;
        /// keccak256(abi.encode(inputValues)); the values themselves are in the `Requested` event.
        bytes32 inputsHash;
        /// keccak256(abi.encode(outputs)) once fulfilled.
        bytes32 outputsHash;
    }

    ModelRegistry public immutable registry;
    IERC20 public immutable token;
    /// Bond locked per request, in basis points of the payment.
    uint256 public immutable bondBps;
    /// Share of the bond paid to the client of an expired request, in basis points.
    uint256 public immutable slashBps;

    /// Request ids start at 1.
    uint256 public requestCount;
    mapping(uint256 id => Request) internal requests;
    /// Sum of the payments of open requests (equals the market's token balance).
    uint256 public escrowed;

    event Requested(uint256 indexed id, uint256 indexed modelId, address indexed client, uint256[] inputs, uint256 payment, uint256 bond, uint64 deadline);
    event Fulfilled(uint256 indexed id, uint256 indexed modelId, address indexed operator, uint256[] outputs);
    event Reclaimed(uint256 indexed id, uint256 indexed modelId, address indexed client, uint256 refund, uint256 slashed);

    error BadParameters();
    error RetiredModel(uint256 modelId);
    error WrongInputCount(uint256 given, uint256 expected);
    error WrongOutputCount(uint256 given, uint256 expected);
    error NotInField(uint256 value);
    error DeadlineInPast(uint64 deadline);
    error ZeroPayment();
    error NotOpen(uint256 id, Status status);
    error Expired(uint256 id, uint64 deadline);
    error NotExpired(uint256 id, uint64 deadline);
    error NotOperator(uint256 id, address caller);
    error InvalidProof(uint256 id);
    error InputsMismatch(uint256 id);

    constructor(ModelRegistry registry_, uint256 bondBps_, uint256 slashBps_) {
        if (slashBps_ > BPS) revert BadParameters();
        registry = registry_;
        token = registry_.token();
        bondBps = bondBps_;
        slashBps = slashBps_;
    }

    /// Request one inference of `modelId` on `inputValues` (the input segment of the public
    /// values: the input's values, or its Poseidon hash for a hashed input), paying `payment`
    /// (pulled from the caller) for a proven answer before `deadline`.
    function request(uint256 modelId, uint256[] calldata inputValues, uint256 payment, uint64 deadline) external nonReentrant returns (uint256 id) {
        (, , bool retired) = registry.serving(modelId);
        if (retired) revert RetiredModel(modelId);
        ModelRegistry.Layout memory l = registry.layoutOf(modelId);
        if (inputValues.length != l.inputValues) revert WrongInputCount(inputValues.length, l.inputValues);
        for (uint256 i = 0; i < inputValues.length; i++) {
            if (inputValues[i] >= FIELD_MODULUS) revert NotInField(inputValues[i]);
        }
        if (deadline <= block.timestamp) revert DeadlineInPast(deadline);
        if (payment == 0) revert ZeroPayment();
        uint256 bond = (payment * bondBps) / BPS;
        id = ++requestCount;
        requests[id] = Request({
            modelId: modelId,
            client: msg.sender,
            deadline: deadline,
            status: Status.Open,
            payment: payment,
            bond: bond,
            inputsHash: keccak256(abi.encode(inputValues)),
            outputsHash: bytes32(0)
        });
        escrowed += payment;
        registry.lock(modelId, bond);
        token.safeTransferFrom(msg.sender, address(this), payment);
        emit Requested(id, modelId, msg.sender, inputValues, payment, bond, deadline);
    }

    /// Answer request `id` — whose `inputValues` are repeated from the `Requested` event — with
    /// the model's `outputs` (the output segment of the public values) and a proof; only the
    /// model's operator, before the deadline. Pays the operator.
    function fulfil(uint256 id, uint256[] calldata inputValues, uint256[] calldata outputs, bytes calldata proof) external nonReentrant {
        Request storage r = requests[id];
        if (r.status != Status.Open) revert NotOpen(id, r.status);
        if (block.timestamp > r.deadline) revert Expired(id, r.deadline);
        (address operator, IZkinferVerifier verifier, ) = registry.serving(r.modelId);
        if (msg.sender != operator) revert NotOperator(id, msg.sender);
        uint256[] memory values = publicValues(id, inputValues, outputs, msg.sender);
        if (!verifier.verifyProof(proof, values)) revert InvalidProof(id);
        r.status = Status.Fulfilled;
        r.outputsHash = keccak256(abi.encode(outputs));
        escrowed -= r.payment;
        registry.unlock(r.modelId, r.bond);
        token.safeTransfer(operator, r.payment);
        emit Fulfilled(id, r.modelId, operator, outputs);
    }

    /// After the deadline of an open request, anyone can end it: the client is refunded and
    /// receives `slashBps` of the bond from the operator's stake; the rest of the bond is freed.
    function reclaim(uint256 id) external nonReentrant {
        Request storage r = requests[id];
        if (r.status != Status.Open) revert NotOpen(id, r.status);
        if (block.timestamp <= r.deadline) revert NotExpired(id, r.deadline);
        r.status = Status.Reclaimed;
        escrowed -= r.payment;
        uint256 slashed = (r.bond * slashBps) / BPS;
        if (r.bond > slashed) registry.unlock(r.modelId, r.bond - slashed);
        if (slashed > 0) registry.slash(r.modelId, slashed, r.client);
        token.safeTransfer(r.client, r.payment);
        emit Reclaimed(id, r.modelId, r.client, r.payment, slashed);
    }

    /// The binding a proof for request `id` by `operator` must carry.
    function binding(uint256 id, address operator) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), id, operator))) % FIELD_MODULUS;
    }

    /// The public values a proof answering request `id` (with its `ins`) with `outputs` from
    /// `operator` must be valid for: inputs, params hash (hashed params), outputs, binding.
    function publicValues(uint256 id, uint256[] calldata ins, uint256[] calldata outputs, address operator) public view returns (uint256[] memory values) {
        Request storage r = requests[id];
        if (keccak256(abi.encode(ins)) != r.inputsHash) revert InputsMismatch(id);
        ModelRegistry.Layout memory l = registry.layoutOf(r.modelId);
        if (outputs.length != l.outputValues) revert WrongOutputCount(outputs.length, l.outputValues);
        bool hashedParams = l.param == ModelRegistry.Visibility.Hashed;
        values = new uint256[](ins.length + (hashedParams ? 1 : 0) + outputs.length + 1);
        uint256 k = 0;
        for (uint256 i = 0; i < ins.length; i++) values[k++] = ins[i];
        if (hashedParams) values[k++] = l.paramsHash;
        for (uint256 i = 0; i < outputs.length; i++) values[k++] = outputs[i];
        values[k] = binding(id, operator);
    }

    function requestOf(uint256 id) external view returns (Request memory) {
        return requests[id];
    }
}
