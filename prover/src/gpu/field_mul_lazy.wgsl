
// The value of `a` with every limb but the top one below 2^LIMB_BITS.
fn field_carry(a: Limbs) -> Limbs {
    var t = a;
    for (var j = 0u; j + 1u < LIMBS; j++) {
        t[j + 1u] += t[j] >> LIMB_BITS;
        t[j] &= LIMB_MASK;
    }
    return t;
}

// a b / R for limbs of w = 13 to 15 bits, by operand scanning with deferred carries: a limb
// product is below 2^(2w), so a u32 takes the two products of several outer steps (x_j y_i and
// m p_j) before it must carry. t's limbs are normalised only every `steps` outer steps, so a
// limb is at most a normalised limb, 2 (2^w - 1)^2 per step since, and the carry out of the
// bottom limb, (2^w - 1) + steps 2 (2^w - 1)^2 + (2^(32 - w) - 1) < 2^32: 32 steps for 13-bit
// limbs (more than their 20), 8 for 14 bits, 2 for 15.
// Each outer step divides by 2^w but the last, which divides by 2^last, last = 256 - w (LIMBS -
// 1) <= w, with m taken mod 2^last: together 2^256, arkworks's R. Every step keeps t < 2p as in
// CIOS, (t + x y_i + m p) / 2^d < (2p + 2 (2^d - 1) p) / 2^d = 2p, as y_i (the top limb of y <
// 2^254 too) and m are below 2^d.
fn field_mul(a: Limbs, b: Limbs) -> Limbs {
    // Constant expressions, folded by the shader compiler.
    let last = 256u - LIMB_BITS * (LIMBS - 1u);
    let steps = (0xffffffffu - LIMB_MASK - (0xffffffffu >> LIMB_BITS)) / (2u * LIMB_MASK * LIMB_MASK);
    var x = a;
    var y = b;
    var p = FIELD_MODULUS;
    var t: Limbs;
    for (var i = 0u; i + 1u < LIMBS; i++) {
        if (i != 0u && i % steps == 0u) {
            t = field_carry(t);
        }
        let yi = y[i];
        // t0 + m p_0 = 0 mod 2^w: the bottom limb leaves, with its carry.
        let t0 = t[0] + x[0] * yi;
        let m = (t0 * FIELD_INV) & LIMB_MASK;
        let c = (t0 + m * p[0]) >> LIMB_BITS;
        for (var j = 1u; j < LIMBS; j++) {
            t[j - 1u] = t[j] + x[j] * yi + m * p[j];
        }
        t[LIMBS - 1u] = 0u;
        t[0] += c;
    }
    if ((LIMBS - 1u) % steps == 0u) {
        t = field_carry(t);
    }
    let yi = y[LIMBS - 1u];
    for (var j = 0u; j < LIMBS; j++) {
        t[j] += x[j] * yi;
    }
    let m = (t[0] * FIELD_INV) & ((1u << last) - 1u);
    for (var j = 0u; j < LIMBS; j++) {
        t[j] += m * p[j];
    }
    // Now t = 0 mod 2^last: shift its normalised limbs right by `last` bits.
    t = field_carry(t);
    var r: Limbs;
    for (var j = 0u; j + 1u < LIMBS; j++) {
        r[j] = ((t[j] >> last) | (t[j + 1u] << (LIMB_BITS - last))) & LIMB_MASK;
    }
    r[LIMBS - 1u] = t[LIMBS - 1u] >> last;
    return field_reduce(r);
}
