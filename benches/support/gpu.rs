//! The GPU backend in the benchmarks: whether to measure it, and its counters as table cells.
//!
//! `ZKINFER_BENCH_GPU` unset: the GPU backend when the machine has a hardware adapter; `1`: also
//! a software one (Mesa's lavapipe, to try the benchmarks without a GPU), and no adapter is an
//! error; `0`: the CPU alone.

use std::time::Duration;
use zkinfer_prover::gpu::{Gpu, GpuStats};
use zkinfer_prover::Backend;

pub fn gpu() -> Option<Gpu> {
    let forced = match std::env::var("ZKINFER_BENCH_GPU").as_deref() {
        Err(_) => false,
        Ok("1") => true,
        Ok("0") => return None,
        Ok(other) => panic!("ZKINFER_BENCH_GPU is 0 or 1, not '{other}'"),
    };
    match Gpu::new() {
        Ok(gpu) if forced || !gpu.is_software() => {
            eprintln!("benchmarking {} (kernel clock: {:?})", gpu.name(), gpu.stats().clock);
            Some(gpu)
        }
        Ok(gpu) => {
            eprintln!("not benchmarking {}: a software adapter (ZKINFER_BENCH_GPU=1 measures it anyway)", gpu.name());
            None
        }
        Err(e) if forced => panic!("ZKINFER_BENCH_GPU=1: {e}"),
        Err(e) => {
            eprintln!("no GPU backend to benchmark: {e}");
            None
        }
    }
}

/// The stages with the most device time, as "name share%".
pub fn top_stages(stats: &GpuStats, count: usize) -> String {
    let total = stats.stages.values().sum::<Duration>().as_secs_f64();
    if total == 0.0 {
        return "-".into();
    }
    let mut stages: Vec<_> = stats.stages.iter().collect();
    stages.sort_by(|a, b| b.1.cmp(a.1));
    let shares: Vec<String> = stages.iter().take(count).map(|(stage, t)| format!("{stage} {:.0}%", 100.0 * t.as_secs_f64() / total)).collect();
    shares.join(", ")
}
