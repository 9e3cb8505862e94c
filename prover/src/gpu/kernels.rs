//! The kernels of one field arithmetic, compiled.

use super::{msm, ntt, quotient, GpuField};
use rayon::prelude::*;

/// The compiled kernels of one field arithmetic.
pub(super) struct Kernels {
    pub(super) msm: msm::Pipelines,
    pub(super) ntt: ntt::Pipelines,
    pub(super) quotient: quotient::Pipelines,
}

impl Kernels {
    pub(super) fn new(device: &wgpu::Device, field: GpuField) -> Self {
        let (msm, (ntt, quotient)) =
            rayon::join(|| msm::Pipelines::new(device, field), || rayon::join(|| ntt::Pipelines::new(device, field), || quotient::Pipelines::new(device, field)));
        Self { msm, ntt, quotient }
    }
}

/// The module's entry points as pipelines, compiled in parallel: lavapipe takes many seconds
/// over each kernel that adds points.
pub(super) fn pipelines<const N: usize>(device: &wgpu::Device, module: &wgpu::ShaderModule, entries: [&str; N]) -> [wgpu::ComputePipeline; N] {
    let pipelines: Vec<wgpu::ComputePipeline> = entries
        .par_iter()
        .map(|entry| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        })
        .collect();
    pipelines.try_into().unwrap_or_else(|_| unreachable!("one pipeline per entry point"))
}

pub(super) const CURVE_WGSL: &str = include_str!("curve.wgsl");
