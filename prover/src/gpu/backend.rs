//! The GPU backend itself: handles to the process's device, each counting what its calls do.

use super::context::Context;
use super::field::GpuField;
use super::kernels::Kernels;
use super::stats::{Calls, GpuStats};
use super::GpuError;
use crate::backend::{Backend, BackendError, Bases, Domain, Stats};
use crate::quotient::QuotientJob;
use ark_bn254::{Fr, G1Projective};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// A handle to the process's GPU device, with counters of its own.
#[derive(Clone)]
pub struct Gpu {
    pub(super) context: Arc<Context>,
    field: GpuField,
    pub(super) kernels: Arc<Kernels>,
    pub(super) msm_chunk: usize,
    /// Shared by the handle's clones, so that a clone boxed as a [`Backend`] counts for all.
    stats: Arc<Mutex<GpuStats>>,
}

impl Gpu {
    /// A handle to the process's device on the best Vulkan adapter (discrete before integrated
    /// before software), or the one whose name contains `WGPU_ADAPTER_NAME`, with the field
    /// arithmetic of `ZKINFER_GPU_FIELD` (u16 when unset); the device is created on first use.
    /// The handle's counters start at zero.
    pub fn new() -> Result<Self, GpuError> {
        Self::with_field(GpuField::from_env()?)
    }

    /// As [`Gpu::new`], with kernels built on `field`'s arithmetic; an error where the adapter
    /// lacks what it needs. The arithmetics share the device and its cached data.
    pub fn with_field(field: GpuField) -> Result<Self, GpuError> {
        static CONTEXT: OnceLock<Result<Arc<Context>, GpuError>> = OnceLock::new();
        let context = CONTEXT.get_or_init(|| Context::new().map(Arc::new)).clone()?;
        let kernels = context.kernels(field)?;
        let stats = Arc::new(Mutex::new(GpuStats { clock: context.clock, ..GpuStats::default() }));
        Ok(Self { msm_chunk: context.max_msm_chunk, context, field, kernels, stats })
    }

    pub fn field(&self) -> GpuField {
        self.field
    }

    pub fn adapter(&self) -> &wgpu::AdapterInfo {
        &self.context.info
    }

    /// Whether the adapter is a software renderer (lavapipe), slower than the CPU backend.
    pub fn is_software(&self) -> bool {
        self.context.info.device_type == wgpu::DeviceType::Cpu
    }

    /// What this handle and its clones have done since [`Gpu::new`] or [`Gpu::reset_stats`].
    pub fn stats(&self) -> GpuStats {
        self.stats.lock().expect("GPU stats").clone()
    }

    pub fn reset_stats(&self) {
        self.swap_stats();
    }

    /// The counters, starting them again.
    fn swap_stats(&self) -> GpuStats {
        let fresh = GpuStats { clock: self.context.clock, ..GpuStats::default() };
        std::mem::replace(&mut *self.stats.lock().expect("GPU stats"), fresh)
    }

    pub(super) fn count(&self, update: impl FnOnce(&mut GpuStats)) {
        update(&mut self.stats.lock().expect("GPU stats"));
    }

    /// Runs one backend call, counting it and its wall time under `kind`; what the device
    /// reports going wrong meanwhile is the call's error.
    fn call<T>(&self, kind: Kernel, f: impl FnOnce() -> Result<T, BackendError>) -> Result<T, BackendError> {
        let start = Instant::now();
        let out = self.context.guarded(f);
        self.count(|s| {
            let calls = kind.calls(s);
            calls.calls += 1;
            calls.wall += start.elapsed();
        });
        out
    }

    /// Splits MSMs into device passes of at most `points` points (never more than the device's
    /// binding limits allow), for shorter dispatches or to exercise the splitting.
    pub fn with_msm_chunk(self, points: usize) -> Self {
        assert!(points > 0, "an MSM chunk needs at least one point");
        Self { msm_chunk: points.min(self.context.max_msm_chunk), ..self }
    }
}

impl Backend for Gpu {
    fn name(&self) -> String {
        format!("gpu ({}, {:?}, {})", self.context.info.name, self.context.info.backend, self.field)
    }

    fn msm(&self, bases: &Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        if scalars.iter().all(|s| s.is_empty()) {
            return Ok(vec![G1Projective::default(); scalars.len()]);
        }
        self.call(Kernel::Msm, || self.msm_on_device(bases, scalars))
    }

    fn fft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        if columns.is_empty() {
            return Ok(());
        }
        self.call(Kernel::Ntt, || self.ntt(domain, columns, false))
    }

    fn ifft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        if columns.is_empty() {
            return Ok(());
        }
        self.call(Kernel::Ntt, || self.ntt(domain, columns, true))
    }

    fn take_stats(&self) -> Option<Stats> {
        Some(Stats::new(self.swap_stats()))
    }

    fn quotient(&self, job: &QuotientJob) -> Result<Vec<Fr>, BackendError> {
        if self.fits(job) {
            self.call(Kernel::Quotient, || self.quotient_on_device(job))
        } else {
            crate::quotient::on_host(self, job)
        }
    }
}

/// The kernel kind a submission or call is counted under.
#[derive(Clone, Copy)]
pub(super) enum Kernel {
    Msm,
    Ntt,
    Quotient,
}

impl Kernel {
    pub(super) fn calls(self, stats: &mut GpuStats) -> &mut Calls {
        match self {
            Kernel::Msm => &mut stats.msm,
            Kernel::Ntt => &mut stats.ntt,
            Kernel::Quotient => &mut stats.quotient,
        }
    }
}
