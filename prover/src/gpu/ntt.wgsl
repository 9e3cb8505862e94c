// Radix-2 NTTs over Fr of `columns` vectors of n elements, one after the other in `values`:
// bit-reversal permutation, then one dispatch per butterfly stage (decimation in time), with
// twiddles w^k, k < n/2, precomputed by the host per domain.

struct Params {
    n: u32,
    log_n: u32,
    // half the size of the sub-transforms this stage merges
    half: u32,
    // n / (2 half): the step through the twiddle table
    stride: u32,
    columns: u32,
    // where `scale_from` writes, in elements
    offset: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> values: array<u32>;
@group(0) @binding(2) var<storage, read> twiddles: array<u32>;
// Per-element factors for `scale` and `scale_from`, or one factor for `scale_all`.
@group(0) @binding(3) var<storage, read> factors: array<u32>;
@group(0) @binding(4) var<storage, read> source: array<u32>;

fn load_value(i: u32) -> Limbs {
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = values[8u * i + k];
    }
    return unpack(w);
}

fn store_value(i: u32, a: Limbs) {
    var w = pack(a);
    for (var k = 0u; k < 8u; k++) {
        values[8u * i + k] = w[k];
    }
}

fn load_twiddle(i: u32) -> Limbs {
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = twiddles[8u * i + k];
    }
    return unpack(w);
}

fn load_source(i: u32) -> Limbs {
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = source[8u * i + k];
    }
    return unpack(w);
}

fn load_factor(i: u32) -> Limbs {
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = factors[8u * i + k];
    }
    return unpack(w);
}

@compute @workgroup_size(64)
fn bit_reverse(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = invocation_index(id, groups);
    if (t >= params.columns * params.n) {
        return;
    }
    let column = t - t % params.n;
    let i = column + t % params.n;
    let j = column + (reverseBits(t % params.n) >> (32u - params.log_n));
    if (i < j) {
        for (var k = 0u; k < 8u; k++) {
            let a = values[8u * i + k];
            values[8u * i + k] = values[8u * j + k];
            values[8u * j + k] = a;
        }
    }
}

@compute @workgroup_size(64)
fn butterfly(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let u = invocation_index(id, groups);
    if (u >= params.columns * (params.n / 2u)) {
        return;
    }
    let t = u % (params.n / 2u);
    let j = t % params.half;
    let top = (u / (params.n / 2u)) * params.n + (t / params.half) * 2u * params.half + j;
    let bottom = top + params.half;
    let a = load_value(top);
    let b = fr_mul(load_value(bottom), load_twiddle(j * params.stride));
    store_value(top, fr_add(a, b));
    store_value(bottom, fr_sub(a, b));
}

@compute @workgroup_size(64)
fn scale(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = invocation_index(id, groups);
    if (i >= params.columns * params.n) {
        return;
    }
    store_value(i, fr_mul(load_value(i), load_factor(i % params.n)));
}

@compute @workgroup_size(64)
fn scale_all(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = invocation_index(id, groups);
    if (i >= params.columns * params.n) {
        return;
    }
    store_value(i, fr_mul(load_value(i), load_factor(0u)));
}

// The first step of coset transforms, out of place: `columns` vectors of `source`, each times
// the factors, into `values` from element `offset` on.
@compute @workgroup_size(64)
fn scale_from(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = invocation_index(id, groups);
    if (i >= params.columns * params.n) {
        return;
    }
    store_value(params.offset + i, fr_mul(load_source(i), load_factor(i % params.n)));
}
