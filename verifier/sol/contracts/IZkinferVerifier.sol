// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

/// @title The interface of every verifier contract that `zkinfer evm-verifier` writes
/// @notice A generated verifier checks proofs for one verifying key (one compiled model) and
/// implements these functions whatever its name (`--contract-name`). It does not declare
/// `is IZkinferVerifier`: call it through this interface by address.
/// @dev Pin the verifier you trust in your contract: compare `VK_DIGEST` (which model) and
/// `SRS_ID` (which powers of tau) with the values you expect, once, when you take its address.
interface IZkinferVerifier {
    /// @notice Checks a proof of one inference against its public values.
    /// @param proof The proof's bytes: the `proof` field of a zkinfer proof file.
    /// @param instances The public values: the proof file's `instances` columns concatenated,
    /// field elements mod r, exactly as many as the verifying key's statement fixes. A value v
    /// encodes the signed integer v, or v - r when v > (r - 1) / 2; divided by 2^scale_bits it
    /// is the model's number (see `ZkinferValues`).
    /// @return True when the proof verifies, false when zkinfer's verifier rejects it (a wrong
    /// proof, wrong public values, a malformed or non-canonical encoding).
    /// @dev Reverts, never returns false, when the call runs out of gas or the calldata is not
    /// ABI-encoded: treat a revert as "not checked", not as "rejected".
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external view returns (bool);

    /// @notice Keccak-256 of the verifying key's bytes: which compiled model the verifier is for
    /// (the proof file's `vk_digest`).
    function VK_DIGEST() external view returns (bytes32);

    /// @notice Keccak-256 of the SRS point [tau]_2 the key was made with: which powers of tau
    /// (ceremony) it trusts. Whoever knows the secret of an SRS can forge proofs under every key
    /// made from it.
    function SRS_ID() external view returns (bytes32);
}
