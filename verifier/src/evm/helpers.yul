function reject() {
    mstore(0, 0)
    return(0, 0x20)
}

// A precompile call whose inputs are valid failed: it ran out of gas. Revert rather than
// reject a proof that may be valid.
function fail() {
    revert(0, 0)
}

// ecMul failed on the point at MSM_POINT: false if the proof's point is off the curve, else
// out of gas.
function mulFailed() {
    requireOnCurve(MSM_POINT)
    fail()
}

// Adds s times the point at MSM_POINT to the accumulator at MSM_ACC.
function mulAcc(s) {
    mstore(MSM_SCALAR, s)
    if iszero(staticcall(gas(), 0x07, MSM_POINT, 0x60, MSM_POINT, 0x40)) { mulFailed() }
    if iszero(staticcall(gas(), 0x06, MSM_ACC, 0x80, MSM_ACC, 0x40)) { fail() }
}

// Sets the accumulator to s times the point at MSM_POINT.
function mulSet(s) {
    mstore(MSM_SCALAR, s)
    if iszero(staticcall(gas(), 0x07, MSM_POINT, 0x60, MSM_ACC, 0x40)) { mulFailed() }
}

// 1/a = a^(r-2), through the modexp precompile; callers never pass 0.
function invert(a) -> inverse {
    mstore(MODEXP, 0x20)
    mstore(MODEXP_1, 0x20)
    mstore(MODEXP_2, 0x20)
    mstore(MODEXP_3, a)
    mstore(MODEXP_4, sub(R, 2))
    mstore(MODEXP_5, R)
    if iszero(staticcall(gas(), 0x05, MODEXP, 0xc0, MODEXP, 0x20)) { fail() }
    inverse := mload(MODEXP)
}

// Keccak-256 of the digest d followed by len bytes at a; the word before a is
// overwritten for the hash and then restored.
function absorb(d, a, len) -> digest {
    let before := sub(a, 0x20)
    let saved := mload(before)
    mstore(before, d)
    digest := keccak256(before, add(len, 0x20))
    mstore(before, saved)
}

function requireOnCurve(a) {
    let x := mload(a)
    let y := mload(add(a, 0x20))
    if iszero(and(lt(x, Q), lt(y, Q))) { reject() }
    if or(x, y) {
        if iszero(eq(mulmod(y, y, Q), addmod(mulmod(x, mulmod(x, x, Q), Q), 3, Q))) { reject() }
    }
}
