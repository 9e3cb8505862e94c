//! The GPU backend: MSMs, NTTs and the quotient as WGSL compute shaders, run through wgpu's
//! Vulkan backend.
//!
//! One device with its compiled pipelines and caches serves the whole process; [`Gpu::new`]
//! hands out handles to it. Field elements cross to the device in arkworks's own Montgomery
//! form (the shaders use the same R = 2^256), MSM bases and the polynomials the quotient reads
//! from the key stay on the device for as long as their proving key is in use ([`Bases::id`](crate::backend::Bases::id),
//! `Program::id`), and NTT twiddles stay there per domain. Each handle
//! counts its calls, bytes and device time ([`Gpu::stats`]), and runs kernels built with one
//! field arithmetic ([`GpuField`]).

mod backend;
mod context;
mod error;
mod field;
mod kernels;
mod msm;
mod ntt;
mod quotient;
mod stats;
mod submission;
mod upload;

pub use backend::Gpu;
pub(crate) use context::probe;
pub use error::GpuError;
pub use field::GpuField;
pub use stats::{Calls, GpuStats, KernelClock, Transfer};
