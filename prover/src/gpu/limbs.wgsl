// Elements of both BN254 fields are sixteen 16-bit limbs, least significant first, each held in
// a u32 so that a limb product plus two limbs never overflows:
// (2^16 - 1)^2 + 2 (2^16 - 1) = 2^32 - 1. In buffers an element takes eight words, two limbs to
// a word, which is the byte layout of arkworks's little-endian u64 limbs.

alias Limbs = array<u32, 16>;
alias Words = array<u32, 8>;

const LIMB_BITS: u32 = 16u;
const LIMB_MASK: u32 = 0xffffu;

fn unpack(packed: Words) -> Limbs {
    var w = packed;
    var r: Limbs;
    for (var k = 0u; k < 8u; k++) {
        r[2u * k] = w[k] & LIMB_MASK;
        r[2u * k + 1u] = w[k] >> LIMB_BITS;
    }
    return r;
}

fn pack(limbs: Limbs) -> Words {
    var a = limbs;
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = a[2u * k] | (a[2u * k + 1u] << LIMB_BITS);
    }
    return w;
}

// The index of this invocation in a dispatch laid out by the host as rows of `num_workgroups.x`
// workgroups of 64, so that more than 65,535 workgroups fit in one dispatch.
fn invocation_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * 64u;
}
