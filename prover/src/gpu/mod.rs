//! The GPU backend: MSMs, NTTs and the quotient as WGSL compute shaders, run through wgpu's
//! Vulkan backend.
//!
//! One device with its compiled pipelines and caches serves the whole process; [`Gpu::new`]
//! hands out handles to it. Field elements cross to the device in arkworks's own Montgomery
//! form (the shaders use the same R = 2^256), MSM bases and the polynomials the quotient reads
//! from the key stay on the device for as long as their proving key is in use ([`Bases::id`],
//! `Program::id`), and NTT twiddles stay there per domain. Each handle
//! counts its calls, bytes and device time ([`Gpu::stats`]), and runs kernels built with one
//! field arithmetic ([`GpuField`]).

mod msm;
mod ntt;
mod quotient;
mod stats;

pub use stats::{Calls, GpuStats, KernelClock, Transfer};

use crate::backend::{Backend, Bases, Domain, Stats};
use crate::quotient::QuotientJob;
use ark_bn254::{Fr, G1Projective};
use ark_ff::{BigInt, Fp256, MontBackend, MontConfig};
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use wgpu::util::DeviceExt;

/// How the kernels represent and multiply field elements: `ZKINFER_GPU_FIELD=u16|u15|u14|u13|u64`,
/// read when a handle's pipelines are built ([`Gpu::new`]). All keep arkworks's R = 2^256 and
/// its bytes in buffers, so results, cached bases and twiddles are the same whichever runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GpuField {
    /// Sixteen 16-bit limbs, each in a u32, with 32-bit products carried at once
    /// (`field_mul_cios.wgsl`): any adapter.
    #[default]
    U16,
    /// Eighteen 15-bit limbs, each in a u32, whose headroom over a product lets the
    /// multiplication defer its carries (`field_mul_lazy.wgsl`): any adapter.
    U15,
    /// Nineteen 14-bit limbs, as [`GpuField::U15`].
    U14,
    /// Twenty 13-bit limbs, as [`GpuField::U15`].
    U13,
    /// Eight 32-bit limbs with 64-bit products (`field64.wgsl`): adapters with `SHADER_INT64`.
    U64,
}

impl GpuField {
    pub const ALL: [GpuField; 5] = [GpuField::U16, GpuField::U15, GpuField::U14, GpuField::U13, GpuField::U64];

    fn from_env() -> Result<Self, GpuError> {
        std::env::var("ZKINFER_GPU_FIELD").map_or(Ok(Self::default()), |v| v.parse())
    }

    /// What the adapter must offer for this arithmetic.
    fn features(self) -> wgpu::Features {
        match self {
            Self::U64 => wgpu::Features::SHADER_INT64,
            _ => wgpu::Features::empty(),
        }
    }

    fn limb_bits(self) -> u32 {
        match self {
            Self::U16 => 16,
            Self::U15 => 15,
            Self::U14 => 14,
            Self::U13 => 13,
            Self::U64 => 32,
        }
    }

    /// Limbs per element: as many as reach 256 bits, for R = 2^256 (see field_mul_lazy.wgsl).
    fn limbs(self) -> u32 {
        256u32.div_ceil(self.limb_bits())
    }

    /// The limb type with its packing into buffer words, and the field template on those limbs.
    fn wgsl(self) -> (String, String) {
        let mul = match self {
            Self::U16 => include_str!("field_mul_cios.wgsl"),
            Self::U15 | Self::U14 | Self::U13 => include_str!("field_mul_lazy.wgsl"),
            Self::U64 => return (include_str!("limbs64.wgsl").into(), include_str!("field64.wgsl").into()),
        };
        let limbs = format!("const LIMB_BITS: u32 = {}u;\nconst LIMBS: u32 = {}u;\n{}", self.limb_bits(), self.limbs(), include_str!("limbs.wgsl"));
        (limbs, [include_str!("field.wgsl"), mul].concat())
    }

    /// What every kernel module starts with: the buffer layout and the limbs.
    fn limbs_wgsl(self) -> String {
        [include_str!("layout.wgsl"), &self.wgsl().0].concat()
    }

    /// The field template instantiated for one of the two BN254 fields (`name` "fq" or "fr").
    fn field_wgsl<T: MontConfig<4>>(self, name: &str) -> String {
        let bits = self.limb_bits() as usize;
        let mask = u32::MAX >> (32 - bits);
        let limbs = |x: &BigInt<4>| {
            let bit = |i: usize| i < 256 && (x.0[i / 64] >> (i % 64)) & 1 == 1;
            let limbs: Vec<String> =
                (0..self.limbs() as usize).map(|k| (0..bits).filter(|&b| bit(k * bits + b)).map(|b| 1u32 << b).sum::<u32>()).map(|l| format!("{l}u")).collect();
            format!("Limbs({})", limbs.join(", "))
        };
        let upper = name.to_uppercase();
        format!(
            "const {upper}_MODULUS = {};\nconst {upper}_ONE = {};\nconst {upper}_INV: u32 = {}u;\n{}",
            limbs(&T::MODULUS),
            limbs(&T::R),
            T::INV as u32 & mask,
            self.wgsl().1.replace("FIELD", &upper).replace("field", name),
        )
    }
}

impl FromStr for GpuField {
    type Err = GpuError;

    fn from_str(s: &str) -> Result<Self, GpuError> {
        let lower = s.to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.to_string() == lower).ok_or_else(|| GpuError::UnknownField(s.to_string()))
    }
}

impl fmt::Display for GpuField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::U16 => "u16",
            Self::U15 => "u15",
            Self::U14 => "u14",
            Self::U13 => "u13",
            Self::U64 => "u64",
        })
    }
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no Vulkan adapter found: install a Vulkan driver (on a machine without a GPU, Mesa's \
         lavapipe: apt-get install mesa-vulkan-drivers)"
    )]
    NoAdapter,
    #[error("no Vulkan adapter's name contains {wanted:?} (WGPU_ADAPTER_NAME); the adapters are: {found}")]
    NoAdapterNamed { wanted: String, found: String },
    #[error("the adapter {adapter} refused a device: {reason}")]
    Device { adapter: String, reason: String },
    #[error("ZKINFER_GPU_CLOCK={0:?}: expected wall, passes or dispatches")]
    UnknownClock(String),
    #[error("unknown GPU field arithmetic {0:?} (ZKINFER_GPU_FIELD): expected u16, u15, u14, u13 or u64")]
    UnknownField(String),
    #[error(
        "the u64 field arithmetic (ZKINFER_GPU_FIELD=u64) needs SHADER_INT64, which the adapter {0} \
         does not offer; u16 (the default), u15, u14 and u13 run on any adapter"
    )]
    NoInt64(String),
}

/// A handle to the process's GPU device, with counters of its own.
#[derive(Clone)]
pub struct Gpu {
    context: Arc<Context>,
    field: GpuField,
    kernels: Arc<Kernels>,
    msm_chunk: usize,
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

    fn count(&self, update: impl FnOnce(&mut GpuStats)) {
        update(&mut self.stats.lock().expect("GPU stats"));
    }

    /// Runs one backend call, counting it and its wall time under `kind`.
    fn call<T>(&self, kind: Kernel, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
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

    fn msm(&self, bases: &Bases, scalars: &[&[Fr]]) -> Vec<G1Projective> {
        if scalars.iter().all(|s| s.is_empty()) {
            return vec![G1Projective::default(); scalars.len()];
        }
        self.call(Kernel::Msm, || self.msm_on_device(bases, scalars))
    }

    fn fft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) {
        if !columns.is_empty() {
            self.call(Kernel::Ntt, || self.ntt(domain, columns, false))
        }
    }

    fn ifft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) {
        if !columns.is_empty() {
            self.call(Kernel::Ntt, || self.ntt(domain, columns, true))
        }
    }

    fn take_stats(&self) -> Option<Stats> {
        Some(Stats::new(self.swap_stats()))
    }

    fn quotient(&self, job: &QuotientJob) -> Vec<Fr> {
        if self.fits(job) {
            self.call(Kernel::Quotient, || self.quotient_on_device(job))
        } else {
            crate::quotient::on_host(self, job)
        }
    }
}

/// The kernel kind a submission or call is counted under.
#[derive(Clone, Copy)]
enum Kernel {
    Msm,
    Ntt,
    Quotient,
}

impl Kernel {
    fn calls(self, stats: &mut GpuStats) -> &mut Calls {
        match self {
            Kernel::Msm => &mut stats.msm,
            Kernel::Ntt => &mut stats.ntt,
            Kernel::Quotient => &mut stats.quotient,
        }
    }
}

/// Whether an upload is a call's input or data kept on the device across calls.
#[derive(Clone, Copy)]
enum Upload {
    Input,
    Cached,
}

/// Everything that lives as long as the process: the device, its pipelines and the data kept
/// on it between calls.
struct Context {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    clock: KernelClock,
    max_binding: u64,
    max_msm_chunk: usize,
    /// Pipelines by [`GpuField`], in the order of [`GpuField::ALL`], each compiled on first use.
    kernels: [OnceLock<Arc<Kernels>>; GpuField::ALL.len()],
    /// The bases of the proving key in use, oldest first; another key's replace them.
    bases: Mutex<Vec<Arc<msm::DeviceBases>>>,
    /// Twiddles and coset factors by domain size and offset.
    domains: Mutex<HashMap<(u64, Fr), Arc<ntt::Tables>>>,
    /// The polynomials of the proving key in use that the quotient reads.
    key_polys: Mutex<Option<quotient::KeyPolys>>,
}

/// The compiled kernels of one field arithmetic.
struct Kernels {
    msm: msm::Pipelines,
    ntt: ntt::Pipelines,
    quotient: quotient::Pipelines,
}

/// Invocations per workgroup of every kernel but the single-workgroup scan.
const WORKGROUP: u32 = 64;
/// Timestamps one pass can write: one at its start and one after each dispatch; wgpu's largest
/// query set. A quotient of 2^26 rows on an extended coset of 8 parts has 8 x 30 + 31
/// dispatches; an MSM pass at most `msm::MAX_BATCH` chunks of at most 9.
const TIMESTAMPS: u32 = 4096;

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
    fn new() -> Result<Self, GpuError> {
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
        })
    }

    /// `field`'s kernels, compiled by the first handle that asks for them.
    fn kernels(&self, field: GpuField) -> Result<Arc<Kernels>, GpuError> {
        if !self.device.features().contains(field.features()) {
            return Err(GpuError::NoInt64(self.info.name.clone()));
        }
        let index = GpuField::ALL.iter().position(|&f| f == field).expect("every arithmetic is in ALL");
        let kernels = self.kernels[index].get_or_init(|| {
            let (msm, (ntt, quotient)) = rayon::join(
                || msm::Pipelines::new(&self.device, field),
                || rayon::join(|| ntt::Pipelines::new(&self.device, field), || quotient::Pipelines::new(&self.device, field)),
            );
            Arc::new(Kernels { msm, ntt, quotient })
        });
        Ok(kernels.clone())
    }

    fn storage(&self, label: &str, words: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: 4 * words as u64,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    }

    fn uniform<T: bytemuck::Pod>(&self, params: &T) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some("params"), contents: bytemuck::bytes_of(params), usage: wgpu::BufferUsages::UNIFORM })
    }

    fn bind(&self, pipeline: &wgpu::ComputePipeline, buffers: &[(u32, &wgpu::Buffer)]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers.iter().map(|&(binding, buffer)| wgpu::BindGroupEntry { binding, resource: buffer.as_entire_binding() }).collect();
        self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout: &pipeline.get_bind_group_layout(0), entries: &entries })
    }
}

impl Gpu {
    /// A storage buffer of `words` words, zero until `fill` writes them, counted as an upload of
    /// `kind`.
    fn upload_words(&self, label: &str, words: usize, kind: Upload, fill: impl FnOnce(&mut [u32])) -> wgpu::Buffer {
        let start = Instant::now();
        let mut host = vec![0u32; words];
        fill(&mut host);
        let buffer = self.context.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(&host),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        });
        let time = start.elapsed();
        self.count(|s| match kind {
            Upload::Input => s.upload.add(4 * words, time),
            Upload::Cached => s.upload_cached.add(4 * words, time),
        });
        buffer
    }

    /// A storage buffer holding `elements` in their Montgomery form.
    fn upload<T: MontConfig<4>>(&self, label: &str, elements: &[Fp256<MontBackend<T, 4>>], kind: Upload) -> wgpu::Buffer {
        self.upload_words(label, 8 * elements.len(), kind, |words| {
            words.par_chunks_mut(8).zip(elements).for_each(|(w, e)| w.copy_from_slice(&to_words(&e.0)));
        })
    }

    /// `columns` side by side, each zero-padded to `n` elements.
    fn upload_columns(&self, label: &str, columns: &[&[Fr]], n: usize, kind: Upload) -> wgpu::Buffer {
        // A buffer of no columns still binds.
        let words = 8 * n * columns.len().max(1);
        self.upload_words(label, words, kind, |words| {
            words.par_chunks_mut(8 * n).zip(columns).for_each(|(out, column)| {
                assert!(column.len() <= n, "a polynomial of {} coefficients on {n} rows", column.len());
                out.chunks_mut(8).zip(*column).for_each(|(w, e)| w.copy_from_slice(&to_words(&e.0)));
            })
        })
    }

    /// Records one compute pass with `record`, submits it with a copy of the first words of each
    /// buffer that `record` returns with their number, waits for the device and returns those
    /// words, buffer by buffer. The submission, its times and the bytes read back count under
    /// `kind`.
    fn submit(&self, kind: Kernel, record: impl FnOnce(&mut Pass) -> Vec<(wgpu::Buffer, usize)>) -> Vec<Vec<u32>> {
        let context = &self.context;
        let clock = context.clock;
        let queries = (clock != KernelClock::Wall)
            .then(|| context.device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("timestamps"), ty: wgpu::QueryType::Timestamp, count: TIMESTAMPS }));
        let mut encoder = context.device.create_command_encoder(&Default::default());
        let (outputs, stages) = {
            let timestamp_writes = queries.as_ref().map(|query_set| wgpu::ComputePassTimestampWrites {
                query_set,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: (clock == KernelClock::Passes).then_some(1),
            });
            let mut pass = Pass {
                pass: encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes }),
                queries: queries.as_ref().filter(|_| clock == KernelClock::Dispatches),
                stages: Vec::new(),
            };
            let outputs = record(&mut pass);
            (outputs, pass.stages)
        };
        let timestamps = match clock {
            KernelClock::Wall => 0,
            KernelClock::Passes => 2,
            KernelClock::Dispatches => stages.len() + 1,
        };
        // The timestamps come back behind the data, in the same mapping.
        let bytes = 4 * outputs.iter().map(|(_, words)| *words as u64).sum::<u64>();
        let stamp_bytes = 8 * timestamps as u64;
        let staging = context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes + stamp_bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut at = 0;
        for (buffer, words) in &outputs {
            encoder.copy_buffer_to_buffer(buffer, 0, &staging, at, 4 * *words as u64);
            at += 4 * *words as u64;
        }
        if let Some(query_set) = &queries {
            let resolved = context.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("resolved timestamps"),
                size: stamp_bytes,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            encoder.resolve_query_set(query_set, 0..timestamps as u32, &resolved, 0);
            encoder.copy_buffer_to_buffer(&resolved, 0, &staging, bytes, stamp_bytes);
        }

        let submitted = Instant::now();
        context.queue.submit([encoder.finish()]);
        let (sender, receiver) = std::sync::mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |result| {
            let _ = sender.send(result);
        });
        context.device.poll(wgpu::PollType::wait_indefinitely()).expect("GPU device lost");
        receiver.recv().expect("map callback ran").expect("mapping the readback buffer");
        let wait = submitted.elapsed();
        let (words, ticks) = {
            let view = staging.slice(..).get_mapped_range().expect("mapped readback");
            let (data, stamps) = view.split_at(bytes as usize);
            let ticks: Vec<u64> = stamps.chunks(8).map(|t| u64::from_le_bytes(t.try_into().expect("8-byte timestamps"))).collect();
            (bytemuck::cast_slice::<u8, u32>(data).to_vec(), ticks)
        };
        staging.unmap();
        let readback = submitted.elapsed() - wait;

        let period = f64::from(context.queue.get_timestamp_period());
        let between = |pair: &[u64]| Duration::from_nanos((pair[1].saturating_sub(pair[0]) as f64 * period) as u64);
        self.count(|s| {
            let kernel = match clock {
                KernelClock::Wall => wait,
                _ => ticks.windows(2).map(between).sum(),
            };
            for (stage, pair) in stages.iter().zip(ticks.windows(2)) {
                *s.stages.entry(stage).or_default() += between(pair);
            }
            s.submissions += 1;
            s.wait += wait;
            s.kernel += kernel;
            kind.calls(s).kernel += kernel;
            s.readback.add(bytes as usize, readback);
        });
        let mut words = words.as_slice();
        outputs
            .iter()
            .map(|(_, count)| {
                let (first, rest) = words.split_at(*count);
                words = rest;
                first.to_vec()
            })
            .collect()
    }
}

/// A compute pass being recorded, with a timestamp after each dispatch where the clock is
/// [`KernelClock::Dispatches`].
struct Pass<'a> {
    pass: wgpu::ComputePass<'a>,
    queries: Option<&'a wgpu::QuerySet>,
    stages: Vec<&'static str>,
}

impl Pass<'_> {
    /// Runs `invocations` invocations of a 64-wide kernel, in rows of at most 65,535 workgroups.
    fn dispatch(&mut self, stage: &'static str, pipeline: &wgpu::ComputePipeline, bind_group: &wgpu::BindGroup, invocations: usize) {
        const MAX_GROUPS: usize = 65_535;
        let groups = invocations.div_ceil(WORKGROUP as usize);
        if groups == 0 {
            return;
        }
        let x = groups.min(MAX_GROUPS);
        let y = groups.div_ceil(x);
        assert!(y <= MAX_GROUPS, "a dispatch of {invocations} invocations is too large");
        self.workgroups(stage, pipeline, bind_group, x as u32, y as u32);
    }

    /// `x` by `y` workgroups of `pipeline`, timed as `stage`.
    fn workgroups(&mut self, stage: &'static str, pipeline: &wgpu::ComputePipeline, bind_group: &wgpu::BindGroup, x: u32, y: u32) {
        self.pass.set_pipeline(pipeline);
        self.pass.set_bind_group(0, bind_group, &[]);
        self.pass.dispatch_workgroups(x, y, 1);
        if let Some(queries) = self.queries {
            self.stages.push(stage);
            let index = self.stages.len() as u32;
            assert!(index < TIMESTAMPS, "more dispatches in one pass than timestamps");
            self.pass.write_timestamp(queries, index);
        }
    }
}

/// The module's entry points as pipelines, compiled in parallel: lavapipe takes many seconds
/// over each kernel that adds points.
fn pipelines<const N: usize>(device: &wgpu::Device, module: &wgpu::ShaderModule, entries: [&str; N]) -> [wgpu::ComputePipeline; N] {
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

const CURVE_WGSL: &str = include_str!("curve.wgsl");

/// Little-endian u32 words of little-endian u64 limbs. Applied to an element's `.0`, where
/// arkworks keeps its Montgomery form, this is how the device stores the element.
fn to_words(x: &BigInt<4>) -> [u32; 8] {
    let mut words = [0; 8];
    for (pair, limb) in words.chunks_mut(2).zip(x.0) {
        pair[0] = limb as u32;
        pair[1] = (limb >> 32) as u32;
    }
    words
}

fn element_from_words<T: MontConfig<4>>(words: &[u32]) -> Fp256<MontBackend<T, 4>> {
    let limb = |i: usize| words[2 * i] as u64 | (words[2 * i + 1] as u64) << 32;
    Fp256::new_unchecked(BigInt([limb(0), limb(1), limb(2), limb(3)]))
}
