// Montgomery arithmetic modulo FIELD_MODULUS (a prime below 2^254) with R = 2^256, the R of
// arkworks, so elements move between host and device unconverted, on the limbs of limbs.wgsl.
// Inputs and outputs are fully reduced, with every limb below 2^LIMB_BITS. The host prepends
// FIELD_MODULUS, FIELD_ONE (R mod p) and FIELD_INV (-1/p mod 2^LIMB_BITS), and appends
// field_mul: field_mul_cios.wgsl for 16-bit limbs, field_mul_lazy.wgsl for narrower ones.
// Sums of two limbs and a carry fit in a u32, and a borrow wraps a difference to its top bit.

// a - p when a >= p, for a < 2p.
fn field_reduce(a: Limbs) -> Limbs {
    var x = a;
    var p = FIELD_MODULUS;
    var d: Limbs;
    var borrow = 0u;
    for (var i = 0u; i < LIMBS; i++) {
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
    for (var i = 0u; i < LIMBS; i++) {
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
    for (var i = 0u; i < LIMBS; i++) {
        let s = x[i] - y[i] - borrow;
        r[i] = s & LIMB_MASK;
        borrow = s >> 31u;
    }
    if (borrow == 0u) {
        return r;
    }
    // The carry out of the top limb cancels the borrow.
    var carry = 0u;
    for (var i = 0u; i < LIMBS; i++) {
        let s = r[i] + p[i] + carry;
        r[i] = s & LIMB_MASK;
        carry = s >> LIMB_BITS;
    }
    return r;
}

fn field_neg(a: Limbs) -> Limbs {
    return field_sub(Limbs(), a);
}
