//! One compute pass on the device: recorded, submitted, waited for, its results read back and its
//! device time counted.

use super::backend::Kernel;
use super::context::Context;
use super::stats::KernelClock;
use super::Gpu;
use crate::backend::BackendError;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

/// Invocations per workgroup of every kernel but the single-workgroup scan.
const WORKGROUP: u32 = 64;
/// Timestamps one pass can write: one at its start and one after each dispatch; wgpu's largest
/// query set. A quotient of 2^26 rows on an extended coset of 8 parts has 8 x 30 + 31
/// dispatches; an MSM pass at most `msm::MAX_BATCH` chunks of at most 9.
const TIMESTAMPS: u32 = 4096;

impl Gpu {
    /// Records one compute pass with `record`, submits it with a copy of the first words of each
    /// buffer that `record` returns with their number, waits for the device and returns those
    /// words, buffer by buffer. The submission, its times and the bytes read back count under
    /// `kind`.
    pub(super) fn submit(&self, kind: Kernel, record: impl FnOnce(&mut Pass) -> Vec<(wgpu::Buffer, usize)>) -> Result<Vec<Vec<u32>>, BackendError> {
        let context = &self.context;
        let clock = context.clock;
        let mut readback = context.readbacks.lock().expect("readbacks").pop().unwrap_or_else(|| Readback::new(context));
        let queries = readback.timestamps.as_ref().map(|(query_set, _)| query_set);
        let mut encoder = context.device.create_command_encoder(&Default::default());
        let (outputs, stages) = {
            let timestamp_writes = queries.map(|query_set| wgpu::ComputePassTimestampWrites {
                query_set,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: (clock == KernelClock::Passes).then_some(1),
            });
            let mut pass = Pass {
                pass: encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes }),
                queries: queries.filter(|_| clock == KernelClock::Dispatches),
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
        let Readback { staging, timestamps: stamps } = &mut readback;
        let staging = staging_for(staging, context, bytes + stamp_bytes);
        let mut at = 0;
        for (buffer, words) in &outputs {
            encoder.copy_buffer_to_buffer(buffer, 0, staging, at, 4 * *words as u64);
            at += 4 * *words as u64;
        }
        if let Some((query_set, resolved)) = stamps {
            encoder.resolve_query_set(query_set, 0..timestamps as u32, resolved, 0);
            encoder.copy_buffer_to_buffer(resolved, 0, staging, bytes, stamp_bytes);
        }

        let submitted = Instant::now();
        context.queue.submit([encoder.finish()]);
        // Only the part this submission wrote: the buffer may be larger, from an earlier one.
        let used = staging.slice(..bytes + stamp_bytes);
        map_when_done(context, used)?;
        let wait = submitted.elapsed();
        let (words, ticks) = {
            let view = used.get_mapped_range().map_err(|e| BackendError::Map(e.to_string()))?;
            let (data, stamps) = view.split_at(bytes as usize);
            let ticks: Vec<u64> = stamps.chunks(8).map(|t| u64::from_le_bytes(t.try_into().expect("8-byte timestamps"))).collect();
            (bytemuck::cast_slice::<u8, u32>(data).to_vec(), ticks)
        };
        staging.unmap();
        let readback_time = submitted.elapsed() - wait;
        // Kept only after a submission that went well: after a failure the buffer may still be
        // mapped.
        context.readbacks.lock().expect("readbacks").push(readback);

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
            s.readback.add(bytes as usize, readback_time);
        });
        let mut words = words.as_slice();
        Ok(outputs
            .iter()
            .map(|(_, count)| {
                let (first, rest) = words.split_at(*count);
                words = rest;
                first.to_vec()
            })
            .collect())
    }
}

/// What a submission's results come back through, kept for later submissions rather than made for
/// each: a mappable buffer, and where the clock reads timestamps, their queries and the buffer
/// they resolve into.
pub(super) struct Readback {
    /// Grown to the largest readback it has served; made at the first.
    staging: Option<wgpu::Buffer>,
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer)>,
}

impl Readback {
    fn new(context: &Context) -> Self {
        let timestamps = (context.clock != KernelClock::Wall).then(|| {
            let device = &context.device;
            let queries = device.create_query_set(&wgpu::QuerySetDescriptor { label: Some("timestamps"), ty: wgpu::QueryType::Timestamp, count: TIMESTAMPS });
            let resolved = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("resolved timestamps"),
                size: 8 * TIMESTAMPS as u64,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            (queries, resolved)
        });
        Self { staging: None, timestamps }
    }
}

/// The staging buffer in `slot`, replaced by one of `bytes` where it is smaller.
fn staging_for<'a>(slot: &'a mut Option<wgpu::Buffer>, context: &Context, bytes: u64) -> &'a wgpu::Buffer {
    if slot.as_ref().is_some_and(|buffer| buffer.size() < bytes) {
        // Freed before its successor is made, which would otherwise add to the peak.
        *slot = None;
    }
    slot.get_or_insert_with(|| {
        context.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    })
}

/// Maps `slice` for reading, waiting for the device to finish what was submitted before.
fn map_when_done(context: &Context, slice: wgpu::BufferSlice) -> Result<(), BackendError> {
    let (sender, receiver) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |result| {
        let _ = sender.send(result);
    });
    // Where the driver fails the wait itself (a device lost mid-kernel), wgpu panics rather than
    // return an error.
    match std::panic::catch_unwind(AssertUnwindSafe(|| context.device.poll(wgpu::PollType::wait_indefinitely()))) {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(BackendError::Submission(e.to_string())),
        Err(panic) => {
            let reason = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            return Err(BackendError::DeviceLost(reason.unwrap_or_else(|| "waiting for the device failed".into())));
        }
    }
    match receiver.recv() {
        Ok(result) => result.map_err(|e| BackendError::Map(e.to_string())),
        Err(_) => Err(BackendError::Map("the device dropped the request".into())),
    }
}

/// A compute pass being recorded, with a timestamp after each dispatch where the clock is
/// [`KernelClock::Dispatches`].
pub(super) struct Pass<'a> {
    pass: wgpu::ComputePass<'a>,
    queries: Option<&'a wgpu::QuerySet>,
    stages: Vec<&'static str>,
}

impl Pass<'_> {
    /// Runs `invocations` invocations of a 64-wide kernel, in rows of at most 65,535 workgroups.
    pub(super) fn dispatch(&mut self, stage: &'static str, pipeline: &wgpu::ComputePipeline, bind_group: &wgpu::BindGroup, invocations: usize) {
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
    pub(super) fn workgroups(&mut self, stage: &'static str, pipeline: &wgpu::ComputePipeline, bind_group: &wgpu::BindGroup, x: u32, y: u32) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A device of the test's own, which it may lose without harm to the process's; none where
    /// ZKINFER_SKIP_GPU_TESTS=1 says that the machine has no Vulkan driver on purpose.
    fn own_device() -> Option<Context> {
        match Context::new() {
            Ok(context) => Some(context),
            Err(_) if std::env::var("ZKINFER_SKIP_GPU_TESTS").is_ok_and(|v| v == "1") => None,
            Err(e) => panic!("{e} (ZKINFER_SKIP_GPU_TESTS=1 skips the tests that need a Vulkan adapter)"),
        }
    }

    fn readback_buffer(context: &Context) -> wgpu::Buffer {
        context.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: 256,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    #[test]
    fn a_refused_submission_is_an_error() {
        let Some(context) = own_device() else { return };
        let source = context.storage("source", 64);
        let staging = readback_buffer(&context);
        let err = context
            .guarded(|| {
                let mut encoder = context.device.create_command_encoder(&Default::default());
                // Copies move whole words.
                encoder.copy_buffer_to_buffer(&source, 0, &staging, 0, 3);
                context.queue.submit([encoder.finish()]);
                map_when_done(&context, staging.slice(..))
            })
            .unwrap_err();
        assert!(matches!(err, BackendError::Submission(_)), "{err}");
    }

    #[test]
    fn a_lost_device_is_an_error() {
        let Some(context) = own_device() else { return };
        let staging = readback_buffer(&context);
        context.device.destroy();
        let err = context.guarded(|| map_when_done(&context, staging.slice(..))).unwrap_err();
        assert!(matches!(err, BackendError::DeviceLost(_)), "{err}");
    }
}
