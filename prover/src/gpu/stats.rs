//! Where the GPU backend's time goes: calls, bytes each way, and device time measured with
//! timestamp queries where the adapter has them.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// What a [`Gpu`](super::Gpu) handle has done since [`Gpu::new`](super::Gpu::new) or
/// [`Gpu::reset_stats`](super::Gpu::reset_stats). Times are sums over calls, which overlap when
/// several threads call the same handle at once.
///
/// A call's wall time is its upload, its waits for the device (each wait holding the device's
/// copies in both directions, the kernels and the driver's latency), its readback, and host work
/// in between (bind groups, converting results to arkworks form, the MSM's final Horner sum):
/// `msm.wall + ntt.wall + quotient.wall - upload.time - upload_cached.time - wait - readback.time`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GpuStats {
    /// [`Backend::msm`](crate::Backend::msm) calls with at least one scalar.
    pub msm: Calls,
    /// [`Backend::fft`](crate::Backend::fft) and [`Backend::ifft`](crate::Backend::ifft) calls
    /// with at least one column.
    pub ntt: Calls,
    /// [`Backend::quotient`](crate::Backend::quotient) calls run on the device (one that does
    /// not fit runs on the host, its NTTs counted under `ntt`).
    pub quotient: Calls,
    /// Each call's inputs sent to the device: MSM scalars, NTT values, the quotient's program,
    /// constants and the proof's polynomials. The time is the host's,
    /// converting them into the driver's staging memory; the copy to device memory runs at the
    /// next submission and is part of `wait`.
    pub upload: Transfer,
    /// Data that stays on the device, sent once: a proving key's bases (64 bytes a point) and
    /// the polynomials its quotient reads, a domain's twiddles and coset factors.
    pub upload_cached: Transfer,
    /// Results copied back: NTT values, the quotient, MSM window sums and the bucket sizes the
    /// MSM reads between its two submissions. The time runs from the device being done to the words being
    /// in host memory.
    pub readback: Transfer,
    /// Submissions to the device, each waited for: two per MSM call (more where its chunks
    /// exceed one batch), one per NTT call (more where its columns exceed one binding), one per
    /// quotient.
    pub submissions: u64,
    /// Wall time from each submission to its completion.
    pub wait: Duration,
    /// Device time of the compute passes (see [`KernelClock`]); the same as `wait` where the
    /// clock is [`KernelClock::Wall`].
    pub kernel: Duration,
    /// Device time by stage ("msm fold buckets", "ntt butterfly", ...) where the clock is
    /// [`KernelClock::Dispatches`]; the stages add up to `kernel`.
    pub stages: BTreeMap<&'static str, Duration>,
    /// How `kernel` was measured.
    pub clock: KernelClock,
}

/// Calls of one kernel kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    pub calls: u64,
    /// Wall time of the whole calls, from the backend method's start to its return.
    pub wall: Duration,
    /// The part of [`GpuStats::kernel`] spent on this kind.
    pub kernel: Duration,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transfer {
    pub bytes: u64,
    pub time: Duration,
}

/// How the device's kernel time is measured: the best the adapter offers, or less where
/// `ZKINFER_GPU_CLOCK=wall|passes|dispatches` asks for less (to see what timing itself costs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum KernelClock {
    /// No timestamp queries (the adapter lacks `TIMESTAMP_QUERY`): kernel time is the wall time
    /// from submission to completion, copies and latency included.
    #[default]
    Wall,
    /// Timestamps at the start and end of each compute pass.
    Passes,
    /// Timestamps after every dispatch as well (`TIMESTAMP_QUERY_INSIDE_PASSES`), which split
    /// kernel time by stage.
    Dispatches,
}

impl Transfer {
    pub(super) fn add(&mut self, bytes: usize, time: Duration) {
        self.bytes += bytes as u64;
        self.time += time;
    }
}

impl GpuStats {
    /// Wall time of the calls not spent uploading, waiting for the device or reading back.
    pub fn host(&self) -> Duration {
        (self.msm.wall + self.ntt.wall + self.quotient.wall).saturating_sub(self.upload.time + self.upload_cached.time + self.wait + self.readback.time)
    }
}

impl fmt::Display for GpuStats {
    /// Two lines: calls and the time split, then the device time by stage where there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mib = |t: &Transfer| t.bytes as f64 / (1 << 20) as f64;
        write!(
            f,
            "msm {} calls {:.2} ms (kernel {:.2} ms), ntt {} calls {:.2} ms (kernel {:.2} ms), quotient {} calls {:.2} ms \
             (kernel {:.2} ms); upload {:.2} MiB {:.2} ms, \
             cached upload {:.2} MiB {:.2} ms, {} submissions waited {:.2} ms (kernel {:.2} ms by {:?} clock), readback \
             {:.2} MiB {:.2} ms, other host work {:.2} ms",
            self.msm.calls,
            ms(self.msm.wall),
            ms(self.msm.kernel),
            self.ntt.calls,
            ms(self.ntt.wall),
            ms(self.ntt.kernel),
            self.quotient.calls,
            ms(self.quotient.wall),
            ms(self.quotient.kernel),
            mib(&self.upload),
            ms(self.upload.time),
            mib(&self.upload_cached),
            ms(self.upload_cached.time),
            self.submissions,
            ms(self.wait),
            ms(self.kernel),
            self.clock,
            mib(&self.readback),
            ms(self.readback.time),
            ms(self.host()),
        )?;
        if !self.stages.is_empty() {
            let stages: Vec<String> = self.stages.iter().map(|(stage, t)| format!("{stage} {:.2} ms", ms(*t))).collect();
            write!(f, "\nkernel time by stage: {}", stages.join(", "))?;
        }
        Ok(())
    }
}
