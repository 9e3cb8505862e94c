// Pippenger's bucket method with signed windows for one chunk of an MSM:
//   decompose: scalars -> signed window digits, and the number of points per bucket;
//   scan:      bucket counts -> where each bucket's points start in `entries`, and where the
//              pieces of each bucket start at every level (see fold);
//   scatter:   point indices sorted by bucket (a counting sort);
//   fold:      sums of at most RUN points or partial sums: pieces of long buckets level by
//              level, then one sum per bucket, and later the windows' partial sums;
//   weigh:     each invocation weighs a run of a window's bucket sums, sum_k k S_k.
// The host combines the windows' sums (Horner's rule over 2^window_bits).

struct Params {
    // points in this chunk
    n: u32,
    window_bits: u32,
    windows: u32,
    // buckets per window, 2^(window_bits - 1)
    buckets: u32,
    // buckets weighed by one invocation of weigh
    segment: u32,
    // what fold sums (FOLD_*), from which level
    mode: u32,
    level: u32,
    // partial sums per window for FOLD_WINDOWS
    len: u32,
}

// No invocation adds more than RUN terms: a bucket with more points is summed in pieces of
// RUN, those pieces' sums in pieces of RUN at the next level, and so on. This keeps every
// invocation short whatever the scalars, and under lavapipe's limit of 65,535 loop iterations
// per invocation, past which it silently leaves loops.
const RUN: u32 = 128u;
// Levels of pieces above the points; RUN^(MAX_LEVEL + 1) exceeds any chunk.
const MAX_LEVEL: u32 = 3u;
const FAN: u32 = 16u;

// fold: invocation j sums the items of bucket j at `level` (at most RUN of them)...
const FOLD_BUCKETS: u32 = 0u;
// ...or the j-th piece of RUN items at `level` over all buckets...
const FOLD_PIECES: u32 = 1u;
// ...or a run of FAN of a window's `len` partial sums.
const FOLD_WINDOWS: u32 = 2u;

// A digit is a global bucket index (window * buckets + |digit| - 1) with NEGATIVE set for a
// negative digit, or NO_DIGIT.
const NO_DIGIT: u32 = 0xffffffffu;
const NEGATIVE: u32 = 0x80000000u;

@group(0) @binding(0) var<uniform> params: Params;
// Montgomery-form scalars, 8 words each.
@group(0) @binding(1) var<storage, read> scalars: array<u32>;
// Affine points (x, y), 16 words each, (0, 0) for the identity.
@group(0) @binding(2) var<storage, read> bases: array<u32>;
// digits[window * n + i]
@group(0) @binding(3) var<storage, read_write> digits: array<u32>;
@group(0) @binding(4) var<storage, read_write> counts: array<atomic<u32>>;
// offsets[level * buckets in all + bucket]: where the bucket's items start at each level.
@group(0) @binding(5) var<storage, read_write> offsets: array<u32>;
// Start from the offsets and end as each bucket's end.
@group(0) @binding(6) var<storage, read_write> cursors: array<atomic<u32>>;
// Point index << 1 | negative, grouped by bucket.
@group(0) @binding(7) var<storage, read_write> entries: array<u32>;
// Items at each level, then the largest bucket's count.
@group(0) @binding(8) var<storage, read_write> totals: array<u32>;
// Projective points, 24 words each.
@group(0) @binding(9) var<storage, read> partial_in: array<u32>;
@group(0) @binding(10) var<storage, read_write> partial_out: array<u32>;

// Items of a bucket with `count` points at `level`.
fn level_count(count: u32, level: u32) -> u32 {
    var k = count;
    for (var l = 0u; l < level; l++) {
        k = (k + RUN - 1u) / RUN;
    }
    return k;
}

fn load_scalar(i: u32) -> Limbs {
    var w: Words;
    for (var k = 0u; k < 8u; k++) {
        w[k] = scalars[8u * i + k];
    }
    return unpack(w);
}

fn load_base(i: u32, negate: bool) -> Point {
    var wx: Words;
    var wy: Words;
    var any = 0u;
    for (var k = 0u; k < 8u; k++) {
        wx[k] = bases[16u * i + k];
        wy[k] = bases[16u * i + 8u + k];
        any |= wx[k] | wy[k];
    }
    if (any == 0u) {
        return point_identity();
    }
    var y = unpack(wy);
    if (negate) {
        y = fq_neg(y);
    }
    return Point(unpack(wx), y, FQ_ONE);
}

fn load_partial(i: u32) -> Point {
    var w: array<Words, 3>;
    for (var c = 0u; c < 3u; c++) {
        for (var k = 0u; k < 8u; k++) {
            w[c][k] = partial_in[24u * i + 8u * c + k];
        }
    }
    return Point(unpack(w[0]), unpack(w[1]), unpack(w[2]));
}

fn store_partial(i: u32, p: Point) {
    var w = array<Words, 3>(pack(p.x), pack(p.y), pack(p.z));
    for (var c = 0u; c < 3u; c++) {
        for (var k = 0u; k < 8u; k++) {
            partial_out[24u * i + 8u * c + k] = w[c][k];
        }
    }
}

@compute @workgroup_size(64)
fn decompose(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = invocation_index(id, groups);
    if (i >= params.n) {
        return;
    }
    // Multiplying by the integer 1 leaves Montgomery form. The digits are read from the
    // integer's words, which are the same whatever the limbs.
    var one: Limbs;
    one[0] = 1u;
    var s = pack(fr_mul(load_scalar(i), one));
    let c = params.window_bits;
    let half = 1u << (c - 1u);
    var carry = 0u;
    for (var w = 0u; w < params.windows; w++) {
        let bit = w * c;
        let word = bit / 32u;
        let shift = bit % 32u;
        var v = s[word] >> shift;
        // WGSL takes shift amounts mod 32: at shift 0 the next word would land on this one.
        if (shift != 0u && word + 1u < 8u) {
            v |= s[word + 1u] << (32u - shift);
        }
        v = (v & ((1u << c) - 1u)) + carry;
        // Digits in (-half, half]: a larger window value borrows from the next window. The
        // host picks windows = ceil(255 / c), so the top window never carries out.
        var digit = NO_DIGIT;
        if (v > half) {
            carry = 1u;
            let magnitude = (1u << c) - v;
            if (magnitude != 0u) {
                digit = (w * params.buckets + magnitude - 1u) | NEGATIVE;
            }
        } else {
            carry = 0u;
            if (v != 0u) {
                digit = w * params.buckets + v - 1u;
            }
        }
        digits[w * params.n + i] = digit;
        if (digit != NO_DIGIT) {
            atomicAdd(&counts[digit & ~NEGATIVE], 1u);
        }
    }
}

var<workgroup> run_sums: array<array<u32, 256>, 4>;
var<workgroup> largest: atomic<u32>;

// Exclusive prefix sums of the bucket counts, and of the piece counts at every level, by one
// workgroup whose invocations each own a contiguous run of buckets.
@compute @workgroup_size(256)
fn scan(@builtin(local_invocation_index) t: u32) {
    let total = params.windows * params.buckets;
    let per = (total + 255u) / 256u;
    let start = min(t * per, total);
    let end = min(start + per, total);
    var sums: array<u32, 4>;
    var most = 0u;
    for (var b = start; b < end; b++) {
        var k = atomicLoad(&counts[b]);
        most = max(most, k);
        for (var l = 0u; l <= MAX_LEVEL; l++) {
            sums[l] += k;
            k = (k + RUN - 1u) / RUN;
        }
    }
    for (var l = 0u; l <= MAX_LEVEL; l++) {
        run_sums[l][t] = sums[l];
    }
    atomicMax(&largest, most);
    workgroupBarrier();
    if (t <= MAX_LEVEL) {
        var acc = 0u;
        for (var k = 0u; k < 256u; k++) {
            let c = run_sums[t][k];
            run_sums[t][k] = acc;
            acc += c;
        }
        totals[t] = acc;
    }
    workgroupBarrier();
    if (t == 0u) {
        totals[MAX_LEVEL + 1u] = atomicLoad(&largest);
    }
    var acc: array<u32, 4>;
    for (var l = 0u; l <= MAX_LEVEL; l++) {
        acc[l] = run_sums[l][t];
    }
    for (var b = start; b < end; b++) {
        var k = atomicLoad(&counts[b]);
        atomicStore(&cursors[b], acc[0]);
        for (var l = 0u; l <= MAX_LEVEL; l++) {
            offsets[l * total + b] = acc[l];
            acc[l] += k;
            k = (k + RUN - 1u) / RUN;
        }
    }
}

@compute @workgroup_size(64)
fn scatter(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = invocation_index(id, groups);
    if (i >= params.n) {
        return;
    }
    for (var w = 0u; w < params.windows; w++) {
        let digit = digits[w * params.n + i];
        if (digit != NO_DIGIT) {
            let at = atomicAdd(&cursors[digit & ~NEGATIVE], 1u);
            entries[at] = (i << 1u) | (digit >> 31u);
        }
    }
}

@compute @workgroup_size(64)
fn fold(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = invocation_index(id, groups);
    let total = params.windows * params.buckets;
    var start: u32;
    var end: u32;
    if (params.mode == FOLD_WINDOWS) {
        let out_len = (params.len + FAN - 1u) / FAN;
        if (j >= params.windows * out_len) {
            return;
        }
        let first = (j / out_len) * params.len;
        start = first + (j % out_len) * FAN;
        end = min(start + FAN, first + params.len);
    } else {
        var bucket = j;
        var piece = 0u;
        if (params.mode == FOLD_BUCKETS) {
            if (j >= total) {
                return;
            }
        } else {
            if (j >= totals[params.level + 1u]) {
                return;
            }
            // The last bucket whose pieces start at or before j holds piece j.
            let row = (params.level + 1u) * total;
            var lo = 0u;
            var hi = total - 1u;
            while (lo < hi) {
                let mid = (lo + hi + 1u) / 2u;
                if (offsets[row + mid] <= j) {
                    lo = mid;
                } else {
                    hi = mid - 1u;
                }
            }
            bucket = lo;
            piece = j - offsets[row + bucket];
        }
        let first = offsets[params.level * total + bucket];
        start = first + piece * RUN;
        end = min(start + RUN, first + level_count(atomicLoad(&counts[bucket]), params.level));
    }
    let points = params.mode != FOLD_WINDOWS && params.level == 0u;
    var sum = point_identity();
    for (var k = start; k < end; k++) {
        var term: Point;
        if (points) {
            let entry = entries[k];
            term = load_base(entry >> 1u, (entry & 1u) == 1u);
        } else {
            term = load_partial(k);
        }
        sum = point_add(sum, term);
    }
    store_partial(j, sum);
}

// sum_k (k + 1) S_k over the segment's bucket sums by running sums from the top, plus
// (s segment) times their total by double-and-add for segment s of the window. One point_add
// site: each step picks its operands, climbing the buckets first (running += S_k, then
// weighed += running), then doubling `running` and adding it in for each bit of s segment.
@compute @workgroup_size(64)
fn weigh(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let per_window = params.buckets / params.segment;
    let j = invocation_index(id, groups);
    if (j >= params.windows * per_window) {
        return;
    }
    let s = j % per_window;
    let top = (j / per_window) * params.buckets + (s + 1u) * params.segment - 1u;
    var running = point_identity();
    var weighed = point_identity();
    var step = 0u;
    var m = s * params.segment;
    loop {
        let climbing = step < 2u * params.segment;
        if (!climbing && m == 0u) {
            break;
        }
        let into_weighed = select((m & 1u) == 1u, step % 2u == 1u, climbing);
        var a = running;
        if (into_weighed) {
            a = weighed;
        }
        var b = running;
        if (climbing && step % 2u == 0u) {
            b = load_partial(top - step / 2u);
        }
        let sum = point_add(a, b);
        if (into_weighed) {
            weighed = sum;
        } else {
            running = sum;
        }
        if (climbing) {
            step++;
        } else if ((m & 1u) == 1u) {
            m ^= 1u;
        } else {
            m >>= 1u;
        }
    }
    store_partial(j, weighed);
}
