// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

// From the npm package zkinfer-verifier (this example links the repository's verifier/js).
import {IZkinferVerifier} from "zkinfer-verifier/contracts/IZkinferVerifier.sol";
import {ZkinferValues} from "zkinfer-verifier/contracts/ZkinferValues.sol";

/// @title An example consumer of a zkinfer verifier
/// @notice Accepts a proven inference of one model, records its outputs as decimal fixed-point
/// numbers, and lets an account pass when its first output reaches a threshold.
contract ScoreGate {
    /// @notice The outputs are recorded with this many decimals (6250 means 62.50).
    uint8 public constant DECIMALS = 2;

    IZkinferVerifier public immutable verifier;
    /// @notice The outputs' fixed-point scale (the verifier's NatSpec lists it per tensor). This
    /// model's public values are its outputs, all at one scale; a model with public inputs, or
    /// with outputs at several scales, would read each value with its own tensor's scale.
    uint8 public immutable scaleBits;
    /// @notice The least first output that passes, with DECIMALS decimals.
    int256 public immutable threshold;

    /// @notice Each account's last proven outputs, with DECIMALS decimals.
    mapping(address => int256[]) private outputs;
    mapping(address => bool) public passed;

    /// @notice The verifier rejected the proof (or the public values are not the proof's).
    error ProofRejected();
    /// @notice The verifier is for another model or another SRS than the one this gate trusts.
    error WrongVerifier(bytes32 vkDigest, bytes32 srsId);

    event Scored(address indexed account, int256[] outputs, bool passed);

    /// @param verifier_ A contract written by `zkinfer evm-verifier`.
    /// @param vkDigest The verifying key's digest it must have (the proof file's `vk_digest`).
    /// @param srsId The SRS id it must have (`zkinfer evm-verifier` prints it).
    constructor(IZkinferVerifier verifier_, bytes32 vkDigest, bytes32 srsId, uint8 scaleBits_, int256 threshold_) {
        if (verifier_.VK_DIGEST() != vkDigest || verifier_.SRS_ID() != srsId) {
            revert WrongVerifier(verifier_.VK_DIGEST(), verifier_.SRS_ID());
        }
        verifier = verifier_;
        scaleBits = scaleBits_;
        threshold = threshold_;
    }

    /// @notice Records the outputs that `proof` proves for the sender.
    /// @param instances The proof file's `instances` columns concatenated (here: the outputs).
    function submit(bytes calldata proof, uint256[] calldata instances) external returns (int256[] memory scores) {
        // A revert inside the verifier (out of gas) propagates: it never reads as a rejection.
        if (!verifier.verifyProof(proof, instances)) revert ProofRejected();
        scores = new int256[](instances.length);
        for (uint256 i = 0; i < instances.length; i++) {
            scores[i] = ZkinferValues.dequantize(instances[i], scaleBits, DECIMALS);
        }
        bool ok = scores.length > 0 && scores[0] >= threshold;
        outputs[msg.sender] = scores;
        passed[msg.sender] = ok;
        emit Scored(msg.sender, scores, ok);
    }

    /// @notice The account's last proven outputs, with DECIMALS decimals.
    function outputsOf(address account) external view returns (int256[] memory) {
        return outputs[account];
    }
}
