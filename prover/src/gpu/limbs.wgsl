// Elements of both BN254 fields are LIMBS limbs of LIMB_BITS bits, 13 to 16, least significant
// first, each held in a u32 (the host prepends both constants). LIMBS x LIMB_BITS is the least
// multiple of the width that reaches 256, so that Montgomery's R stays 2^256 (see
// field_mul_lazy.wgsl). In buffers an element's 256 bits are packed into eight words.

alias Limbs = array<u32, LIMBS>;

const LIMB_MASK: u32 = (1u << LIMB_BITS) - 1u;

fn unpack(packed: Words) -> Limbs {
    var w = packed;
    var r: Limbs;
    for (var k = 0u; k < LIMBS; k++) {
        let bit = k * LIMB_BITS;
        let word = bit / 32u;
        let shift = bit % 32u;
        var v = w[word] >> shift;
        if (shift + LIMB_BITS > 32u && word + 1u < 8u) {
            v |= w[word + 1u] << (32u - shift);
        }
        r[k] = v & LIMB_MASK;
    }
    return r;
}

fn pack(limbs: Limbs) -> Words {
    var a = limbs;
    var w: Words;
    for (var k = 0u; k < LIMBS; k++) {
        let bit = k * LIMB_BITS;
        let word = bit / 32u;
        let shift = bit % 32u;
        w[word] |= a[k] << shift;
        if (shift + LIMB_BITS > 32u && word + 1u < 8u) {
            w[word + 1u] |= a[k] >> (32u - shift);
        }
    }
    return w;
}
