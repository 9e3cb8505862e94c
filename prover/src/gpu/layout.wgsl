// What every kernel shares, whichever field arithmetic it is built with: in buffers an element
// of either BN254 field takes eight words, the byte layout of arkworks's little-endian u64 limbs
// (in Montgomery form with R = 2^256), and invocations are numbered across rows of workgroups.

alias Words = array<u32, 8>;

// The index of this invocation in a dispatch laid out by the host as rows of `num_workgroups.x`
// workgroups of 64, so that more than 65,535 workgroups fit in one dispatch.
fn invocation_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * 64u;
}
