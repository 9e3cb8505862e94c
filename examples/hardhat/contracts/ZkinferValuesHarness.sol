// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity ^0.8.20;

import {ZkinferValues} from "zkinfer-verifier/contracts/ZkinferValues.sol";

/// @notice Exposes the internal functions of ZkinferValues to the tests.
contract ZkinferValuesHarness {
    function isNegative(uint256 value) external pure returns (bool) {
        return ZkinferValues.isNegative(value);
    }

    function toSigned(uint256 value) external pure returns (int256) {
        return ZkinferValues.toSigned(value);
    }

    function dequantize(uint256 value, uint8 scaleBits, uint8 decimals) external pure returns (int256) {
        return ZkinferValues.dequantize(value, scaleBits, decimals);
    }
}
