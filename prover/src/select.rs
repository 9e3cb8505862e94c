//! The backend that proves, from the user's choice.

use crate::backend::Backend;
use crate::cpu::Cpu;
use crate::gpu::{self, Gpu, GpuError};
use std::fmt;
use std::str::FromStr;

/// Which implementation of the heavy kernels proves: `--backend cpu|gpu|auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackendChoice {
    Cpu,
    Gpu,
    /// The GPU when there is a hardware adapter, the CPU otherwise.
    #[default]
    Auto,
}

#[derive(Clone, Debug, thiserror::Error)]
#[error("unknown backend {0:?}: expected cpu, gpu or auto")]
pub struct UnknownBackend(String);

impl FromStr for BackendChoice {
    type Err = UnknownBackend;

    fn from_str(s: &str) -> Result<Self, UnknownBackend> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu),
            "auto" => Ok(Self::Auto),
            _ => Err(UnknownBackend(s.to_string())),
        }
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Gpu => "gpu",
            Self::Auto => "auto",
        })
    }
}

/// The backend a choice came to, and a line for the user where it is not the one they might
/// expect.
pub struct Selection {
    pub backend: Box<dyn Backend>,
    pub notice: Option<String>,
}

/// The backend for a choice. `Auto` takes the GPU only when its adapter is real hardware: a
/// software one (lavapipe) is slower than arkworks on the same cores, so `Auto` then proves on
/// the CPU and says so in its notice, as it does when there is no adapter at all.
pub fn select(choice: BackendChoice) -> Result<Selection, GpuError> {
    let chosen = |backend: Box<dyn Backend>| Selection { backend, notice: None };
    let on_the_cpu = |notice: String| Selection { backend: Box::new(Cpu), notice: Some(notice) };
    Ok(match choice {
        BackendChoice::Cpu => chosen(Box::new(Cpu)),
        BackendChoice::Gpu => chosen(Box::new(Gpu::new()?)),
        BackendChoice::Auto => match gpu::probe() {
            Ok(info) if info.device_type != wgpu::DeviceType::Cpu => chosen(Box::new(Gpu::new()?)),
            Ok(info) => on_the_cpu(format!("the only GPU adapter, {}, is a software renderer; proving on the CPU (--backend gpu uses it anyway)", info.name)),
            Err(e) => on_the_cpu(format!("{e}; proving on the CPU")),
        },
    })
}
