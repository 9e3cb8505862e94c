// With SHADER_INT64 (field64.wgsl), elements are eight 32-bit limbs, least significant first:
// the buffer words themselves.

alias Limbs = array<u32, 8>;

fn unpack(packed: Words) -> Limbs {
    return packed;
}

fn pack(limbs: Limbs) -> Words {
    return limbs;
}
