//! The process's device: its adapter, the clock it times kernels with, its compiled kernels and
//! the data kept on it between calls.

use super::field::GpuField;
use super::kernels::Kernels;
use super::stats::KernelClock;
use super::submission::Readback;
use super::{msm, ntt, quotient, GpuError};
use crate::backend::BackendError;
use ark_bn254::Fr;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use wgpu::util::DeviceExt;

/// Everything that lives as long as the process: the device, its pipelines and the data kept
/// on it between calls.
pub(super) struct Context {
    pub(super) device: wgpu::Device,
    pub(super) queue: wgpu::Queue,
    pub(super) info: wgpu::AdapterInfo,
    pub(super) clock: KernelClock,
    pub(super) max_binding: u64,
    pub(super) max_msm_chunk: usize,
    /// Pipelines by [`GpuField`], in the order of [`GpuField::ALL`], each compiled on first use.
    kernels: [OnceLock<Arc<Kernels>>; GpuField::ALL.len()],
    /// The bases of the proving key in use, oldest first; another key's replace them.
    pub(super) bases: Mutex<Vec<Arc<msm::DeviceBases>>>,
    /// Twiddles and coset factors by domain size and offset.
    pub(super) domains: Mutex<HashMap<(u64, Fr), Arc<ntt::Tables>>>,
    /// The polynomials of the proving key in use that the quotient reads.
    pub(super) key_polys: Mutex<Option<quotient::KeyPolys>>,
    /// Why the device was lost, once it is: wgpu tells a callback, not the calls that fail.
    lost: Arc<OnceLock<String>>,
    /// Readbacks not in use: as many as submissions have been in flight at once.
    pub(super) readbacks: Mutex<Vec<Readback>>,
}

fn adapter(instance: &wgpu::Instance) -> Result<wgpu::Adapter, GpuError> {
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::VULKAN));
    match std::env::var("WGPU_ADAPTER_NAME") {
        Ok(wanted) => {
            let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            let index = names.iter().position(|name| name.to_lowercase().contains(&wanted.to_lowercase()));
            match index {
                Some(i) => Ok(adapters.into_iter().nth(i).expect("index of an adapter")),
                None => Err(GpuError::NoAdapterNamed { wanted, found: names.join(", ") }),
            }
        }
        Err(_) => adapters
            .into_iter()
            .min_by_key(|a| match a.get_info().device_type {
                wgpu::DeviceType::DiscreteGpu => 0,
                wgpu::DeviceType::IntegratedGpu => 1,
                wgpu::DeviceType::VirtualGpu => 2,
                wgpu::DeviceType::Other => 3,
                wgpu::DeviceType::Cpu => 4,
            })
            .ok_or(GpuError::NoAdapter),
    }
}

fn instance() -> wgpu::Instance {
    // Vulkan only: the fallback to GL would lose storage-buffer limits without a word.
    wgpu::Instance::new(wgpu::InstanceDescriptor { backends: wgpu::Backends::VULKAN, ..wgpu::InstanceDescriptor::new_without_display_handle() })
}

/// The adapter that [`Gpu::new`] would take, without creating a device.
pub(crate) fn probe() -> Result<wgpu::AdapterInfo, GpuError> {
    adapter(&instance()).map(|a| a.get_info())
}

/// The best clock `features` allow, or the one `ZKINFER_GPU_CLOCK` asks for if that is less.
fn clock(features: wgpu::Features) -> Result<KernelClock, GpuError> {
    let best = if features.contains(wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES) {
        KernelClock::Dispatches
    } else if features.contains(wgpu::Features::TIMESTAMP_QUERY) {
        KernelClock::Passes
    } else {
        KernelClock::Wall
    };
    let asked = match std::env::var("ZKINFER_GPU_CLOCK") {
        Err(_) => return Ok(best),
        Ok(asked) => match asked.to_ascii_lowercase().as_str() {
            "wall" => KernelClock::Wall,
            "passes" => KernelClock::Passes,
            "dispatches" => KernelClock::Dispatches,
            _ => return Err(GpuError::UnknownClock(asked)),
        },
    };
    Ok(best.min(asked))
}

impl Context {
    pub(super) fn new() -> Result<Self, GpuError> {
        let adapter = adapter(&instance())?;
        let info = adapter.get_info();
        let clock = clock(adapter.features())?;
        let timestamps = match clock {
            KernelClock::Wall => wgpu::Features::empty(),
            KernelClock::Passes => wgpu::Features::TIMESTAMP_QUERY,
            KernelClock::Dispatches => wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES,
        };
        // Whatever any arithmetic needs and the adapter offers, so that one device serves them all.
        let arithmetic = GpuField::ALL.iter().fold(wgpu::Features::empty(), |f, field| f | field.features());
        let required_features = timestamps | (arithmetic & adapter.features());
        let available = adapter.limits();
        // WebGPU's defaults, but buffers as large as the adapter allows.
        let limits =
            wgpu::Limits { max_storage_buffer_binding_size: available.max_storage_buffer_binding_size, max_buffer_size: available.max_buffer_size, ..wgpu::Limits::default() };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("zkinfer"),
            required_features,
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| GpuError::Device { adapter: info.name.clone(), reason: e.to_string() })?;
        let lost = Arc::new(OnceLock::new());
        let record = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            let _ = record.set(format!("{message} ({reason:?})"));
        });
        let max_binding = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        Ok(Self {
            kernels: Default::default(),
            max_msm_chunk: msm::max_chunk(max_binding),
            device,
            queue,
            info,
            clock,
            max_binding,
            bases: Mutex::new(Vec::with_capacity(msm::BASE_SETS)),
            domains: Mutex::new(HashMap::new()),
            key_polys: Mutex::new(None),
            lost,
            readbacks: Mutex::new(Vec::new()),
        })
    }

    /// `f`'s result, unless the device reported an error meanwhile: lost, out of memory, or a
    /// command refused. That error comes first, since it explains any failure of `f`'s own (a
    /// mapping that failed after a refused submission).
    pub(super) fn guarded<T>(&self, f: impl FnOnce() -> Result<T, BackendError>) -> Result<T, BackendError> {
        let scopes = [wgpu::ErrorFilter::OutOfMemory, wgpu::ErrorFilter::Validation, wgpu::ErrorFilter::Internal].map(|filter| self.device.push_error_scope(filter));
        let out = f();
        // Every scope popped, innermost first, before any error is looked at.
        let caught: Vec<Option<wgpu::Error>> = scopes.into_iter().rev().map(|scope| pollster::block_on(scope.pop())).collect();
        if let Some(reason) = self.lost.get() {
            return Err(BackendError::DeviceLost(reason.clone()));
        }
        match caught.into_iter().flatten().next() {
            Some(e @ wgpu::Error::OutOfMemory { .. }) => Err(BackendError::OutOfMemory(e.to_string())),
            Some(e) => Err(BackendError::Submission(e.to_string())),
            None => out,
        }
    }

    /// `field`'s kernels, compiled by the first handle that asks for them.
    pub(super) fn kernels(&self, field: GpuField) -> Result<Arc<Kernels>, GpuError> {
        if !self.device.features().contains(field.features()) {
            return Err(GpuError::NoInt64(self.info.name.clone()));
        }
        let index = GpuField::ALL.iter().position(|&f| f == field).expect("every arithmetic is in ALL");
        Ok(self.kernels[index].get_or_init(|| Arc::new(Kernels::new(&self.device, field))).clone())
    }

    pub(super) fn storage(&self, label: &str, words: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: 4 * words as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    pub(super) fn uniform<T: bytemuck::Pod>(&self, params: &T) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some("params"), contents: bytemuck::bytes_of(params), usage: wgpu::BufferUsages::UNIFORM })
    }

    pub(super) fn bind(&self, pipeline: &wgpu::ComputePipeline, buffers: &[(u32, &wgpu::Buffer)]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers.iter().map(|&(binding, buffer)| wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() }).collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries })
    }
}
