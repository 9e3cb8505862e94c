//! Host side of the MSM: bases kept on the device per proving key, inputs split into chunks
//! that fit the binding limits, one bucket-method pass per chunk (see msm.wgsl), and the
//! windows' sums combined on the host.

use super::{dispatch, element_from_words, element_words, field_wgsl, pipeline, Context, Gpu, CURVE_WGSL, LIMBS_WGSL};
use crate::backend::Bases;
use ark_bn254::{Fq, FqConfig, Fr, FrConfig, G1Projective};
use ark_ec::{AdditiveGroup, AffineRepr};
use ark_ff::{Field, Zero};
use rayon::prelude::*;
use std::sync::Arc;

/// Buckets weighed by one invocation of `weigh`.
const SEGMENT: u32 = 32;
/// Partial sums added by one invocation of `fold` after the buckets.
const FAN: u32 = 16;
/// `fold` sums the points of each bucket rather than partial sums.
const FOLD_BUCKETS: u32 = 0;
const FOLD_PARTIALS: u32 = 1;
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
    len: u32,
    fan: u32,
}

pub(super) struct Pipelines {
    decompose: wgpu::ComputePipeline,
    scan: wgpu::ComputePipeline,
    scatter: wgpu::ComputePipeline,
    fold: wgpu::ComputePipeline,
    weigh: wgpu::ComputePipeline,
}

impl Pipelines {
    pub(super) fn new(device: &wgpu::Device) -> Self {
        let source = [
            LIMBS_WGSL,
            &field_wgsl::<FqConfig>("fq"),
            &field_wgsl::<FrConfig>("fr"),
            CURVE_WGSL,
            include_str!("msm.wgsl"),
        ]
        .concat();
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("msm"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        Self {
            decompose: pipeline(device, &module, "decompose"),
            scan: pipeline(device, &module, "scan"),
            scatter: pipeline(device, &module, "scatter"),
            fold: pipeline(device, &module, "fold"),
            weigh: pipeline(device, &module, "weigh"),
        }
    }
}

/// A proving key's bases on the device, in buffers of `chunk` points.
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

/// The largest power-of-two chunk whose bases, digits and sorted entries each fit one binding
/// of `max_binding` bytes.
pub(super) fn max_chunk(max_binding: u64) -> usize {
    (4..=26)
        .rev()
        .map(|log| 1usize << log)
        .find(|&n| {
            let digits = 4 * n as u64 * windows(window_bits(n)) as u64;
            (4 * BASE_WORDS * n) as u64 <= max_binding && digits <= max_binding
        })
        .expect("a device binds at least 1 MiB")
}

impl Gpu {
    pub(super) fn msm_on_device(&self, bases: &Bases, scalars: &[Fr]) -> G1Projective {
        assert!(
            scalars.len() <= bases.points().len(),
            "an MSM of {} scalars over {} bases",
            scalars.len(),
            bases.points().len()
        );
        if scalars.is_empty() {
            return G1Projective::zero();
        }
        let device_bases = self.device_bases(bases);
        scalars
            .chunks(self.msm_chunk)
            .zip(&device_bases.buffers)
            .map(|(scalars, bases)| self.context.msm_chunk(bases, scalars))
            .sum()
    }

    fn device_bases(&self, bases: &Bases) -> Arc<DeviceBases> {
        let mut cached = self.context.bases.lock().expect("bases cache");
        if let Some(b) = cached.as_ref().filter(|b| b.id == bases.id() && b.chunk == self.msm_chunk) {
            return b.clone();
        }
        // Free the previous key's bases before the new ones take their place.
        *cached = None;
        let buffers = bases
            .points()
            .chunks(self.msm_chunk)
            .map(|points| {
                let mut words = vec![0u32; BASE_WORDS * points.len()];
                words.par_chunks_mut(BASE_WORDS).zip(points).for_each(|(w, p)| {
                    // The identity stays (0, 0), which is not on the curve.
                    if !p.is_zero() {
                        w[..8].copy_from_slice(&element_words(&p.x));
                        w[8..].copy_from_slice(&element_words(&p.y));
                    }
                });
                self.context.storage_init("bases", &words)
            })
            .collect();
        let device_bases = Arc::new(DeviceBases { id: bases.id(), chunk: self.msm_chunk, buffers });
        *cached = Some(device_bases.clone());
        device_bases
    }
}

impl Context {
    fn msm_chunk(&self, bases: &wgpu::Buffer, scalars: &[Fr]) -> G1Projective {
        let n = scalars.len();
        let window_bits = window_bits(n);
        let windows = windows(window_bits);
        let buckets = 1u32 << (window_bits - 1);
        let segment = SEGMENT.min(buckets);
        let segments = buckets / segment;
        let total_buckets = (windows * buckets) as usize;
        let params = Params { n: n as u32, window_bits, windows, buckets, segment, mode: FOLD_BUCKETS, len: 0, fan: FAN };

        let mut words = vec![0u32; 8 * n];
        words.par_chunks_mut(8).zip(scalars).for_each(|(w, s)| w.copy_from_slice(&element_words(s)));
        let scalars = self.storage_init("scalars", &words);
        let digits = self.storage("digits", windows as usize * n);
        let counts = self.storage("counts", total_buckets);
        let offsets = self.storage("offsets", total_buckets);
        let cursors = self.storage("cursors", total_buckets);
        let entries = self.storage("entries", windows as usize * n);
        // Bucket sums, then every other round of partial sums; and the segments' sums, then the
        // rounds between.
        let partial = [
            self.storage("partial sums", POINT_WORDS * total_buckets),
            self.storage("partial sums", POINT_WORDS * (windows * segments) as usize),
        ];

        let uniform = self.uniform(&params);
        let p = &self.msm;
        let mut encoder = self.device.create_command_encoder(&Default::default());
        let mut out = 1;
        {
            let mut pass = encoder.begin_compute_pass(&Default::default());
            let bind = |pipeline: &wgpu::ComputePipeline, uniform: &wgpu::Buffer, buffers: &[(u32, &wgpu::Buffer)]| {
                let mut entries = vec![(0, uniform)];
                entries.extend_from_slice(buffers);
                self.bind(pipeline, &entries)
            };
            let decompose = bind(&p.decompose, &uniform, &[(1, &scalars), (3, &digits), (4, &counts)]);
            dispatch(&mut pass, &p.decompose, &decompose, n);
            let scan = bind(&p.scan, &uniform, &[(4, &counts), (5, &offsets), (6, &cursors)]);
            pass.set_pipeline(&p.scan);
            pass.set_bind_group(0, &scan, &[]);
            pass.dispatch_workgroups(1, 1, 1);
            let scatter = bind(&p.scatter, &uniform, &[(3, &digits), (6, &cursors), (7, &entries)]);
            dispatch(&mut pass, &p.scatter, &scatter, n);
            let fold = |uniform: &wgpu::Buffer, from: usize| {
                let inputs = [(2, bases), (5, &offsets), (6, &cursors), (7, &entries)];
                bind(&p.fold, uniform, &[&inputs[..], &[(8, &partial[from]), (9, &partial[1 - from])]].concat())
            };
            dispatch(&mut pass, &p.fold, &fold(&uniform, 1), total_buckets);
            let weigh = bind(&p.weigh, &uniform, &[(8, &partial[0]), (9, &partial[1])]);
            dispatch(&mut pass, &p.weigh, &weigh, (windows * segments) as usize);

            let mut len = segments;
            while len > 1 {
                let uniform = self.uniform(&Params { mode: FOLD_PARTIALS, len, ..params });
                let out_len = len.div_ceil(FAN);
                dispatch(&mut pass, &p.fold, &fold(&uniform, out), (windows * out_len) as usize);
                out = 1 - out;
                len = out_len;
            }
        }
        if std::env::var("MSM_DEBUG").is_ok() {
            let e = self.finish_and_read(self.device.create_command_encoder(&Default::default()), &entries, windows as usize * n);
            let c = self.finish_and_read(self.device.create_command_encoder(&Default::default()), &counts, total_buckets);
            let o = self.finish_and_read(self.device.create_command_encoder(&Default::default()), &offsets, total_buckets);
            let b = self.finish_and_read(self.device.create_command_encoder(&Default::default()), &partial[0], POINT_WORDS * total_buckets);
            eprintln!("counts[0..4] {:?} offsets[0..4] {:?}", &c[..4], &o[..4]);
            let mut idx: Vec<u32> = e[..c[0] as usize].to_vec(); idx.sort(); idx.dedup();
            eprintln!("bucket 0 distinct entries {} first {:?}", idx.len(), &idx[..4.min(idx.len())]);
            let b0 = from_homogeneous(&b[..24]);
            DEBUG_B0.with(|x| *x.borrow_mut() = Some(b0));
        }
        let words = self.finish_and_read(encoder, &partial[out], POINT_WORDS * windows as usize);

        // Horner's rule over the windows, most significant first.
        words.chunks(POINT_WORDS).rev().fold(G1Projective::zero(), |mut acc, w| {
            for _ in 0..window_bits {
                acc.double_in_place();
            }
            acc + from_homogeneous(w)
        })
    }
}

thread_local! { pub static DEBUG_B0: std::cell::RefCell<Option<G1Projective>> = std::cell::RefCell::new(None); }
/// A device point (X : Y : Z), x = X / Z, as arkworks's Jacobian (X Z, Y Z^2, Z).
fn from_homogeneous(words: &[u32]) -> G1Projective {
    let [x, y, z]: [Fq; 3] = std::array::from_fn(|i| element_from_words(&words[8 * i..8 * i + 8]));
    if z.is_zero() {
        return G1Projective::zero();
    }
    G1Projective::new_unchecked(x * z, y * z.square(), z)
}
