// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

/// @title Reads zkinfer's public values as numbers
/// @notice A public value of a zkinfer proof is a field element v mod r (BN254's scalar field).
/// It encodes the signed integer v when v <= (r - 1) / 2 and v - r otherwise, and a model's
/// fixed-point tensor value is that integer divided by 2^scale_bits, where scale_bits is the
/// tensor's scale in the verifying key's statement (listed in the generated verifier's NatSpec
/// and in the proof file's `outputs`). Every function here is `internal`: it is compiled into
/// the calling contract, with no library to deploy or link.
/// @dev Only meaningful for values a verifier has accepted, or that you otherwise know are the
/// proof's public values.
library ZkinferValues {
    /// @notice r, the order of BN254's scalar field: every public value is below it.
    uint256 internal constant SCALAR_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The largest value that encodes a non-negative integer, (r - 1) / 2.
    uint256 internal constant MAX_POSITIVE = (SCALAR_MODULUS - 1) / 2;

    /// @notice `value` is not below r, so it is not a field element (a verifier rejects it too).
    error NotAFieldElement(uint256 value);

    /// @notice The exact result of `dequantize` does not fit an int256, or `decimals` > 77.
    error DequantizeOverflow(uint256 value, uint8 scaleBits, uint8 decimals);

    /// @notice Whether `value` encodes a negative integer (v > (r - 1) / 2).
    /// @dev Reverts with `NotAFieldElement` when value >= r.
    function isNegative(uint256 value) internal pure returns (bool) {
        if (value >= SCALAR_MODULUS) revert NotAFieldElement(value);
        return value > MAX_POSITIVE;
    }

    /// @notice The signed integer a public value encodes: v when v <= (r - 1) / 2, else v - r.
    /// For example r - 1 gives -1. The result lies in [-(r - 1) / 2, (r - 1) / 2].
    /// @dev Reverts with `NotAFieldElement` when value >= r.
    function toSigned(uint256 value) internal pure returns (int256) {
        if (value >= SCALAR_MODULUS) revert NotAFieldElement(value);
        // Both magnitudes are below 2^253, so the casts are exact.
        return value > MAX_POSITIVE ? -int256(SCALAR_MODULUS - value) : int256(value);
    }

    /// @notice The number a public value encodes at scale 2^-scaleBits, as a fixed-point integer
    /// with `decimals` decimal digits: toSigned(value) * 10^decimals / 2^scaleBits, rounded toward
    /// zero (like Solidity's signed division). For example, at scaleBits 2: 250 gives 6250 with
    /// decimals 2 (62.50), 3 gives 75 (0.75) with decimals 2 and 0 with decimals 0, and r - 1
    /// (-0.25) gives -25 with decimals 2 and 0 with decimals 0.
    /// @dev The product is computed exactly in 512 bits, so it reverts (`DequantizeOverflow`)
    /// only when the result itself does not fit an int256 or decimals > 77 (10^decimals would
    /// not fit a uint256); with `NotAFieldElement` when value >= r. Nothing is rounded when
    /// decimals >= scaleBits, as 2^scaleBits then divides 10^decimals.
    function dequantize(uint256 value, uint8 scaleBits, uint8 decimals) internal pure returns (int256) {
        int256 signed = toSigned(value);
        if (decimals > 77) revert DequantizeOverflow(value, scaleBits, decimals);
        // |signed| <= (r - 1) / 2 < 2^253: negating it cannot overflow.
        uint256 magnitude = signed < 0 ? uint256(-signed) : uint256(signed);
        (uint256 high, uint256 low) = _mul512(magnitude, 10 ** uint256(decimals));
        uint256 shifted;
        if (scaleBits == 0) {
            if (high != 0) revert DequantizeOverflow(value, scaleBits, decimals);
            shifted = low;
        } else {
            if (high >> scaleBits != 0) revert DequantizeOverflow(value, scaleBits, decimals);
            shifted = (high << (256 - uint256(scaleBits))) | (low >> scaleBits);
        }
        if (shifted > uint256(type(int256).max)) revert DequantizeOverflow(value, scaleBits, decimals);
        return signed < 0 ? -int256(shifted) : int256(shifted);
    }

    /// @dev a * b as a 512-bit number (high, low), by the Chinese remainder theorem on 2^256 and
    /// 2^256 - 1.
    function _mul512(uint256 a, uint256 b) private pure returns (uint256 high, uint256 low) {
        unchecked {
            uint256 mm = mulmod(a, b, type(uint256).max);
            low = a * b;
            high = mm - low - (mm < low ? 1 : 0);
        }
    }
}
