// field.wgsl and field_mul_cios.wgsl on eight 32-bit limbs, with the 64-bit integers of
// SHADER_INT64 for products and carries: a limb product plus two limbs fits in a u64,
// (2^32 - 1)^2 + 2 (2^32 - 1) = 2^64 - 1, and a multiplication takes 128 limb products instead
// of 512. R is still 2^256, so elements and results are the same words as with 16-bit limbs.
// The host prepends FIELD_MODULUS, FIELD_ONE (R mod p) and FIELD_INV (-1/p mod 2^32).

// a - p when a >= p, for a < 2p.
fn field_reduce(a: Limbs) -> Limbs {
    var x = a;
    var p = FIELD_MODULUS;
    var d: Limbs;
    var borrow = 0lu;
    for (var i = 0u; i < 8u; i++) {
        // A borrow wraps the difference to at least 2^64 - 2^32: its top bit.
        let s = u64(x[i]) - u64(p[i]) - borrow;
        d[i] = u32(s);
        borrow = s >> 63u;
    }
    if (borrow == 0lu) {
        return d;
    }
    return x;
}

fn field_add(a: Limbs, b: Limbs) -> Limbs {
    var x = a;
    var y = b;
    var r: Limbs;
    var carry = 0lu;
    for (var i = 0u; i < 8u; i++) {
        let s = u64(x[i]) + u64(y[i]) + carry;
        r[i] = u32(s);
        carry = s >> 32u;
    }
    return field_reduce(r);
}

fn field_sub(a: Limbs, b: Limbs) -> Limbs {
    var x = a;
    var y = b;
    var p = FIELD_MODULUS;
    var r: Limbs;
    var borrow = 0lu;
    for (var i = 0u; i < 8u; i++) {
        let s = u64(x[i]) - u64(y[i]) - borrow;
        r[i] = u32(s);
        borrow = s >> 63u;
    }
    if (borrow == 0lu) {
        return r;
    }
    // The carry out of the top limb cancels the borrow.
    var carry = 0lu;
    for (var i = 0u; i < 8u; i++) {
        let s = u64(r[i]) + u64(p[i]) + carry;
        r[i] = u32(s);
        carry = s >> 32u;
    }
    return r;
}

fn field_neg(a: Limbs) -> Limbs {
    return field_sub(Limbs(), a);
}

// a b / R by CIOS as in field.wgsl: after each outer step t < 2p, so t[8] only ever holds the
// carry of the running sum.
fn field_mul(a: Limbs, b: Limbs) -> Limbs {
    var x = a;
    var y = b;
    var p = FIELD_MODULUS;
    var t: array<u32, 9>;
    for (var i = 0u; i < 8u; i++) {
        let yi = u64(y[i]);
        var c = 0lu;
        for (var j = 0u; j < 8u; j++) {
            let s = u64(t[j]) + u64(x[j]) * yi + c;
            t[j] = u32(s);
            c = s >> 32u;
        }
        let top = u64(t[8]) + c;
        // u32 products wrap: m is taken mod 2^32.
        let m = u64(t[0] * FIELD_INV);
        c = (u64(t[0]) + m * u64(p[0])) >> 32u;
        for (var j = 1u; j < 8u; j++) {
            let s = u64(t[j]) + m * u64(p[j]) + c;
            t[j - 1u] = u32(s);
            c = s >> 32u;
        }
        let s = top + c;
        t[7] = u32(s);
        t[8] = u32(s >> 32u);
    }
    var r: Limbs;
    for (var i = 0u; i < 8u; i++) {
        r[i] = t[i];
    }
    return field_reduce(r);
}
