
// a b / R for sixteen 16-bit limbs by coarsely integrated operand scanning (CIOS): a limb
// product plus two limbs never overflows a u32, (2^16 - 1)^2 + 2 (2^16 - 1) = 2^32 - 1, so
// every step carries at once. After each outer step t < 2p, so t[16] only ever holds the carry
// of the running sum.
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
