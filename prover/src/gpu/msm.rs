//! Host side of the MSM: bases kept on the device per proving key, inputs split into chunks
//! that fit the binding limits, one bucket-method pass per chunk (see msm.wgsl), and the
//! windows' sums combined on the host.

use super::backend::Kernel;
use super::field::{element_from_words, to_words};
use super::kernels::{pipelines, CURVE_WGSL};
use super::submission::Pass;
use super::upload::Upload;
use super::{Gpu, GpuField};
use crate::backend::{BackendError, Bases};
use ark_bn254::{Fq, FqConfig, Fr, FrConfig, G1Projective};
use ark_ec::{AdditiveGroup, AffineRepr};
use ark_ff::{Field, Zero};
use rayon::prelude::*;
use std::sync::Arc;

/// Buckets weighed by one invocation of `weigh`.
const SEGMENT: u32 = 32;
/// As in msm.wgsl: the most terms one invocation of `fold` adds, the levels of pieces of RUN
/// above the points, the partial sums of a window added by one invocation.
const RUN: u32 = 128;
const MAX_LEVEL: usize = 3;
const FAN: u32 = 16;
/// What `fold` sums, as in msm.wgsl.
const FOLD_BUCKETS: u32 = 0;
const FOLD_PIECES: u32 = 1;
const FOLD_WINDOWS: u32 = 2;
/// Words per affine base (x, y) and per projective point (X, Y, Z).
const BASE_WORDS: usize = 16;
const POINT_WORDS: usize = 24;

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    n: u32,
    window_bits: u32,
    windows: u32,
    buckets: u32,
    segment: u32,
    mode: u32,
    level: u32,
    len: u32,
}

pub(super) struct Pipelines {
    decompose: wgpu::ComputePipeline,
    scan: wgpu::ComputePipeline,
    scatter: wgpu::ComputePipeline,
    fold: wgpu::ComputePipeline,
    weigh: wgpu::ComputePipeline,
}

impl Pipelines {
    pub(super) fn new(device: &wgpu::Device, field: GpuField) -> Self {
        let source = [&field.limbs_wgsl(), &field.field_wgsl::<FqConfig>("fq"), &field.field_wgsl::<FrConfig>("fr"), CURVE_WGSL, include_str!("msm.wgsl")].concat();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some("msm"), source: wgpu::ShaderSource::Wgsl(source.into()) });
        let [decompose, scan, scatter, fold, weigh] = pipelines(device, &module, ["decompose", "scan", "scatter", "fold", "weigh"]);
        Self { decompose, scan, scatter, fold, weigh }
    }
}

/// A proving key's bases on the device, in buffers of `chunk` points.
/// Sets of bases kept on the device: the two of one proving key.
pub(super) const BASE_SETS: usize = 2;

pub(super) struct DeviceBases {
    id: u64,
    chunk: usize,
    buffers: Vec<wgpu::Buffer>,
}

/// Window width for `n` points: about log2(n) - 3 balances the n additions per window against
/// the 2^window_bits of the bucket reduction.
fn window_bits(n: usize) -> u32 {
    n.max(1).ilog2().saturating_sub(3).clamp(4, 16)
}

/// Signed digits need one bit more than the 254 of a scalar so that the top window never
/// carries out.
fn windows(window_bits: u32) -> u32 {
    255u32.div_ceil(window_bits)
}

/// The largest power-of-two chunk, at most 2^26 points so that indices fit in u32, whose
/// buffers each fit one binding of `max_binding` bytes: bases, digits and sorted entries, bucket
/// sums, and the first level of pieces of the longest buckets.
pub(super) fn max_chunk(max_binding: u64) -> usize {
    (4..=26)
        .rev()
        .map(|log| 1u64 << log)
        .find(|&n| {
            let window_bits = window_bits(n as usize);
            let windows = windows(window_bits) as u64;
            let buckets = windows << (window_bits - 1);
            let point = 4 * POINT_WORDS as u64;
            [4 * BASE_WORDS as u64 * n, 4 * windows * n, point * buckets, point * (windows * n / RUN as u64 + buckets)].iter().all(|&bytes| bytes <= max_binding)
        })
        .expect("a device binds at least 1 MiB") as usize
}

impl Gpu {
    /// Several MSMs over the same bases. Every chunk of every MSM is sorted into buckets in one
    /// submission and summed in a second, as many chunks at once as [`BATCH_BYTES`] of
    /// working buffers and [`MAX_BATCH`] allow.
    pub(super) fn msm_on_device(&self, bases: &Bases, batch: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        for scalars in batch {
            assert!(scalars.len() <= bases.points().len(), "an MSM of {} scalars over {} bases", scalars.len(), bases.points().len());
        }
        let mut out = vec![G1Projective::zero(); batch.len()];
        let device_bases = self.device_bases(bases);
        let jobs: Vec<(usize, &wgpu::Buffer, &[Fr])> =
            batch.iter().enumerate().flat_map(|(m, scalars)| scalars.chunks(self.msm_chunk).zip(&device_bases.buffers).map(move |(c, b)| (m, b, c))).collect();
        let mut start = 0;
        while start < jobs.len() {
            let mut bytes = 0;
            let end = start
                + jobs[start..]
                    .iter()
                    .take(MAX_BATCH)
                    .take_while(|(_, _, s)| {
                        bytes += working_bytes(s.len());
                        bytes <= BATCH_BYTES
                    })
                    .count()
                    .max(1);
            let group = &jobs[start..end];
            let mut sorts = Vec::with_capacity(group.len());
            let totals = self.submit(Kernel::Msm, |pass| {
                group
                    .iter()
                    .map(|(_, _, scalars)| {
                        let sort = self.record_sort(pass, scalars);
                        let totals = sort.totals.clone();
                        sorts.push(sort);
                        (totals, MAX_LEVEL + 2)
                    })
                    .collect()
            })?;
            let sums = self.submit(Kernel::Msm, |pass| {
                sorts
                    .iter()
                    .zip(group)
                    .zip(&totals)
                    .map(|((sort, (_, bases, _)), totals)| (self.record_sum(pass, sort, bases, totals), POINT_WORDS * sort.windows as usize))
                    .collect()
            })?;
            for ((sort, (m, _, _)), words) in sorts.iter().zip(group).zip(sums) {
                out[*m] += sort.horner(&words);
            }
            start = end;
        }
        Ok(out)
    }

    fn device_bases(&self, bases: &Bases) -> Arc<DeviceBases> {
        let mut cached = self.context.bases.lock().expect("bases cache");
        if let Some(b) = cached.iter().find(|b| b.id == bases.id() && b.chunk == self.msm_chunk) {
            return b.clone();
        }
        // A proving key has two sets (monomial and Lagrange); free the oldest set of another
        // key before the new one takes its place.
        if cached.len() == BASE_SETS {
            cached.remove(0);
        }
        let buffers = bases
            .points()
            .chunks(self.msm_chunk)
            .map(|points| {
                self.upload_words("bases", BASE_WORDS * points.len(), Upload::Cached, |words| {
                    words.par_chunks_mut(BASE_WORDS).zip(points).for_each(|(w, p)| {
                        // The identity stays (0, 0), which is not on the curve.
                        if !p.is_zero() {
                            w[..8].copy_from_slice(&to_words(&p.x.0));
                            w[8..].copy_from_slice(&to_words(&p.y.0));
                        }
                    })
                })
            })
            .collect();
        let device_bases = Arc::new(DeviceBases { id: bases.id(), chunk: self.msm_chunk, buffers });
        cached.push(device_bases.clone());
        device_bases
    }
}

/// One chunk of an MSM between its two submissions: its sizes, and its buffers on the device.
struct Sort {
    window_bits: u32,
    windows: u32,
    segments: u32,
    total_buckets: usize,
    params: Params,
    uniform: wgpu::Buffer,
    digits: wgpu::Buffer,
    counts: wgpu::Buffer,
    offsets: wgpu::Buffer,
    entries: wgpu::Buffer,
    /// The number of pieces at each level and the size of the largest bucket, read back
    /// between the submissions to size the second.
    totals: wgpu::Buffer,
}

/// Device bytes a chunk of `n` scalars works in, beside its bases: scalars, digits and sorted
/// entries, bucket counts, offsets and cursors, the first level of pieces (the deeper levels are
/// smaller by RUN each), bucket and segment sums.
fn working_bytes(n: usize) -> u64 {
    let window_bits = window_bits(n);
    let windows = windows(window_bits) as u64;
    let per_window = 1u64 << (window_bits - 1);
    let buckets = windows * per_window;
    let segments = windows * (per_window / per_window.min(SEGMENT as u64));
    let n = n as u64;
    32 * n + 4 * 2 * windows * n + 4 * (MAX_LEVEL as u64 + 3) * buckets + 4 * POINT_WORDS as u64 * (windows * n / RUN as u64 + buckets + segments)
}

/// The working buffers one submission of MSM chunks may hold together: large chunks go one at
/// a time, the commitments of a small circuit all at once.
const BATCH_BYTES: u64 = 1 << 30;
/// The most chunks in one submission: with at most 9 dispatches each (3 levels of pieces, the
/// buckets, the weighing, 3 levels of windows), a pass stays within its timestamps.
pub(super) const MAX_BATCH: usize = 400;

impl Sort {
    /// Horner's rule over the windows' sums, most significant first.
    fn horner(&self, words: &[u32]) -> G1Projective {
        words.chunks(POINT_WORDS).rev().fold(G1Projective::zero(), |mut acc, w| {
            for _ in 0..self.window_bits {
                acc.double_in_place();
            }
            acc + from_homogeneous(w)
        })
    }
}

impl Gpu {
    /// Records the sorting of one chunk's digits into buckets, learning how long the longest
    /// bucket is.
    fn record_sort(&self, pass: &mut Pass, scalars: &[Fr]) -> Sort {
        let n = scalars.len();
        let window_bits = window_bits(n);
        let windows = windows(window_bits);
        let buckets = 1u32 << (window_bits - 1);
        let segment = SEGMENT.min(buckets);
        let total_buckets = (windows * buckets) as usize;
        let params = Params { n: n as u32, window_bits, windows, buckets, segment, mode: FOLD_BUCKETS, level: 0, len: 0 };

        let scalars = self.upload("scalars", scalars, Upload::Input);
        let context = &self.context;
        let digits = context.storage("digits", windows as usize * n);
        let counts = context.storage("counts", total_buckets);
        let offsets = context.storage("offsets", (MAX_LEVEL + 1) * total_buckets);
        let cursors = context.storage("cursors", total_buckets);
        let entries = context.storage("entries", windows as usize * n);
        let totals = context.storage("totals", MAX_LEVEL + 2);
        let uniform = context.uniform(&params);
        let p = &self.kernels.msm;
        let decompose = context.bind(&p.decompose, &[(0, &uniform), (1, &scalars), (3, &digits), (4, &counts)]);
        pass.dispatch("msm decompose", &p.decompose, &decompose, n);
        let scan = context.bind(&p.scan, &[(0, &uniform), (4, &counts), (5, &offsets), (6, &cursors), (8, &totals)]);
        pass.workgroups("msm scan", &p.scan, &scan, 1, 1);
        let scatter = context.bind(&p.scatter, &[(0, &uniform), (3, &digits), (6, &cursors), (7, &entries)]);
        pass.dispatch("msm scatter", &p.scatter, &scatter, n);
        Sort { window_bits, windows, segments: buckets / segment, total_buckets, params, uniform, digits, counts, offsets, entries, totals }
    }

    /// Records the sums of one sorted chunk over `bases`, given its `totals` as read back: pieces
    /// of the longest buckets, the buckets, each window's weighted sum. Returns the buffer of the
    /// windows' sums.
    fn record_sum(&self, pass: &mut Pass, sort: &Sort, bases: &wgpu::Buffer, totals: &[u32]) -> wgpu::Buffer {
        let context = &self.context;
        let p = &self.kernels.msm;
        let Sort { windows, segments, total_buckets, params, .. } = *sort;
        let bind = |pipeline: &wgpu::ComputePipeline, uniform: &wgpu::Buffer, buffers: &[(u32, &wgpu::Buffer)]| {
            let mut entries = vec![(0, uniform)];
            entries.extend_from_slice(buffers);
            context.bind(pipeline, &entries)
        };
        let fold = |uniform: &wgpu::Buffer, from: &wgpu::Buffer, to: &wgpu::Buffer| {
            let inputs = [(2, bases), (4, &sort.counts), (5, &sort.offsets), (7, &sort.entries), (8, &sort.totals)];
            bind(&p.fold, uniform, &[&inputs[..], &[(9, from), (10, to)]].concat())
        };
        // Levels of pieces until every bucket has at most RUN items, each level in a buffer of
        // its own. Level 0 reads the points, and the unused input slot takes the digits, which
        // are done with.
        let largest = totals[MAX_LEVEL + 1];
        let levels = std::iter::successors(Some(largest), |k| Some(k.div_ceil(RUN))).take_while(|&k| k > RUN).count();
        let pieces: Vec<wgpu::Buffer> = (1..=levels).map(|level| context.storage("bucket pieces", POINT_WORDS * totals[level] as usize)).collect();
        for level in 0..levels {
            let uniform = context.uniform(&Params { mode: FOLD_PIECES, level: level as u32, ..params });
            let from = if level == 0 { &sort.digits } else { &pieces[level - 1] };
            let bind = fold(&uniform, from, &pieces[level]);
            pass.dispatch("msm fold pieces", &p.fold, &bind, totals[level + 1] as usize);
        }
        let bucket_sums = context.storage("bucket sums", POINT_WORDS * total_buckets);
        let last_level = context.uniform(&Params { level: levels as u32, ..params });
        let from = pieces.last().unwrap_or(&sort.digits);
        pass.dispatch("msm fold buckets", &p.fold, &fold(&last_level, from, &bucket_sums), total_buckets);

        let mut partial = context.storage("segment sums", POINT_WORDS * (windows * segments) as usize);
        let weigh = bind(&p.weigh, &sort.uniform, &[(9, &bucket_sums), (10, &partial)]);
        pass.dispatch("msm weigh", &p.weigh, &weigh, (windows * segments) as usize);
        // Runs of FAN partial sums per window until one is left, reusing the buckets' buffer.
        let mut spare = bucket_sums;
        let mut len = segments;
        while len > 1 {
            let uniform = context.uniform(&Params { mode: FOLD_WINDOWS, len, ..params });
            let out_len = len.div_ceil(FAN);
            pass.dispatch("msm fold windows", &p.fold, &fold(&uniform, &partial, &spare), (windows * out_len) as usize);
            std::mem::swap(&mut partial, &mut spare);
            len = out_len;
        }
        partial
    }
}

/// A device point (X : Y : Z), x = X / Z, as arkworks's Jacobian (X Z, Y Z^2, Z).
fn from_homogeneous(words: &[u32]) -> G1Projective {
    let [x, y, z]: [Fq; 3] = std::array::from_fn(|i| element_from_words(&words[8 * i..8 * i + 8]));
    if z.is_zero() {
        return G1Projective::zero();
    }
    G1Projective::new_unchecked(x * z, y * z.square(), z)
}
