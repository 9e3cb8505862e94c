// Montgomery arithmetic modulo FIELD_MODULUS (a prime below 2^254) with R = 2^256, the R of
// arkworks, so elements move between host and device unconverted. Inputs and outputs are
// fully reduced. The host prepends FIELD_MODULUS, FIELD_ONE (R mod p) and FIELD_INV
// (-1/p mod 2^16).

// a - p when a >= p, for a < 2p.
fn field_reduce(a: Limbs) -> Limbs {
    var x = a;
    var p = FIELD_MODULUS;
    var d: Limbs;
    var borrow = 0u;
    for (var i = 0u; i < 16u; i++) {
        let s = x[i] - p[i] - borrow;
        d[i] = s & LIMB_MASK;
        borrow = s >> 31u;
    }
    if (borrow == 0u) {
        return d;
    }
    return x;
}

fn field_add(a: Limbs, b: Limbs) -> Limbs {
    var x = a;
    var y = b;
    var r: Limbs;
    var carry = 0u;
    for (var i = 0u; i < 16u; i++) {
        let s = x[i] + y[i] + carry;
        r[i] = s & LIMB_MASK;
        carry = s >> LIMB_BITS;
    }
    return field_reduce(r);
}

fn field_sub(a: Limbs, b: Limbs) -> Limbs {
    var x = a;
    var y = b;
    var p = FIELD_MODULUS;
    var r: Limbs;
    var borrow = 0u;
    for (var i = 0u; i < 16u; i++) {
        let s = x[i] - y[i] - borrow;
        r[i] = s & LIMB_MASK;
        borrow = s >> 31u;
    }
    if (borrow == 0u) {
        return r;
    }
    // The carry out of the top limb cancels the borrow.
    var carry = 0u;
    for (var i = 0u; i < 16u; i++) {
        let s = r[i] + p[i] + carry;
        r[i] = s & LIMB_MASK;
        carry = s >> LIMB_BITS;
    }
    return r;
}

fn field_neg(a: Limbs) -> Limbs {
    return field_sub(Limbs(), a);
}

// a b / R by coarsely integrated operand scanning (CIOS): after each outer step t < 2p, so
// t[16] only ever holds the carry of the running sum.
fn field_mul(a: Limbs, b: Limbs) -> Limbs {
    var x = a;
    var y = b;
    var p = FIELD_MODULUS;
    var t: array<u32, 17>;
    for (var i = 0u; i < 16u; i++) {
        let yi = y[i];
        var c = 0u;
        for (var j = 0u; j < 16u; j++) {
            let s = t[j] + x[j] * yi + c;
            t[j] = s & LIMB_MASK;
            c = s >> LIMB_BITS;
        }
        let top = t[16] + c;
        let m = (t[0] * FIELD_INV) & LIMB_MASK;
        c = (t[0] + m * p[0]) >> LIMB_BITS;
        for (var j = 1u; j < 16u; j++) {
            let s = t[j] + m * p[j] + c;
            t[j - 1u] = s & LIMB_MASK;
            c = s >> LIMB_BITS;
        }
        let s = top + c;
        t[15] = s & LIMB_MASK;
        t[16] = s >> LIMB_BITS;
    }
    var r: Limbs;
    for (var i = 0u; i < 16u; i++) {
        r[i] = t[i];
    }
    return field_reduce(r);
}
