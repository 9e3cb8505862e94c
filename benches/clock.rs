//! Process CPU time as a second clock for the benchmarks. On a machine shared with other
//! work, wall time measures the contention as much as the code; CPU time summed over threads
//! barely moves with the number of other runnable processes, and for a kernel that keeps both
//! cores busy, half of it is the wall time on two idle cores.
//!
//! `ZKINFER_BENCH_CLOCK=cpu` makes the criterion benchmarks measure it instead of wall time.

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use std::time::Duration;

/// Whether `ZKINFER_BENCH_CLOCK=cpu` asks for CPU time.
pub fn cpu_clock() -> bool {
    match std::env::var("ZKINFER_BENCH_CLOCK").as_deref() {
        Ok("cpu") => true,
        Ok("wall") | Err(_) => false,
        Ok(other) => panic!("ZKINFER_BENCH_CLOCK is 'wall' or 'cpu', not '{other}'"),
    }
}

/// CPU time of this process, all threads together, including threads that have exited
/// (arkworks's MSM builds and drops a rayon pool on every call).
pub fn cpu_time() -> Duration {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: on 64-bit Linux a timespec is two 64-bit integers; `t` is one, for the call to fill.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(t.sec as u64, t.nsec as u32)
}

/// Criterion measurement of process CPU time, in nanoseconds like [`WallTime`], whose
/// formatting it borrows.
pub struct CpuTime;

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        cpu_time() - start
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        const WALL: &WallTime = &WallTime;
        WALL.formatter()
    }
}
