//! End-to-end proving of every bundled model, `fixtures/*/model.onnx` with its sample input,
//! on the CPU backend and on the GPU backend, printed as a markdown table with the GPU's time
//! split.
//!
//! `cargo bench --bench fixtures`. Each model is compiled as `tests/models.rs` does (scale 8,
//! private input, fixed parameters, the layout for proving time, the sample input as
//! calibration), its keys made on the CPU with a dev SRS of exactly 2^k points (which carries
//! its Lagrange basis), then one untimed proof per backend (pipelines, bases and twiddles reach
//! the device; the two proofs, made with the same randomness, must be the same bytes and
//! verify) and `ZKINFER_BENCH_RUNS` (default 3) timed proofs per backend, alternating; the table
//! gives the median. A plain timer rather than criterion: the table, with its split, is the
//! result.
//!
//! `ZKINFER_BENCH_FIXTURES=mnist_mlp,digits_cnn` picks models; `ZKINFER_BENCH_GPU` says whether
//! the GPU backend is measured (see `support/gpu.rs`). The models are read from `fixtures/` in
//! the current directory, which `cargo bench` sets to the repository root.

#[path = "support/gpu.rs"]
mod gpu;

use ark_bn254::{Fr, G1Projective};
use rand::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{compile, CompileOptions, Model, Optimize, ParamVisibility, Precision, Visibility};
use zkinfer_prover::backend::{BackendError, Bases, Domain};
use zkinfer_prover::gpu::{Gpu, GpuStats};
use zkinfer_prover::quotient::QuotientJob;
use zkinfer_prover::{keygen, prove, Backend, Cpu, ProveOptions, Srs};

type Rng = rand_chacha::ChaCha20Rng;

fn main() {
    // Arguments (`cargo bench` passes `--bench`, perhaps a filter) are ignored: the environment
    // variables above choose.
    let runs: usize = match std::env::var("ZKINFER_BENCH_RUNS") {
        Ok(r) => r.parse().ok().filter(|&r| r > 0).unwrap_or_else(|| panic!("ZKINFER_BENCH_RUNS is a positive count, not '{r}'")),
        Err(_) => 3,
    };
    let gpu = gpu::gpu();
    let names = fixtures();
    println!("\n# Proving the bundled models: {} against {}\n", Cpu.name(), gpu.as_ref().map_or("no GPU backend".to_string(), |g| g.name()));
    println!(
        "Median of {runs} proofs per backend after one warm-up proof; seconds per proof. The other columns are means per \
         proof: the CPU proof's backend calls (MSMs, NTTs, the quotient) and their time, and the bound on any backend's \
         speedup that the rest of the proof sets (CPU prove / the time outside the backend); for the GPU, MSM, NTT and \
         quotient calls with their wall time (device kernel time), bytes uploaded, waits for the device, readback, and \
         the prover's own work outside the backend (witness, grand products, evaluations, openings).\n"
    );
    println!(
        "| fixture | k | rows used | CPU prove s | CPU MSM + NTT + quotient calls: s | bound | GPU prove s | speedup | \
         GPU MSM calls: s (kernel s) | GPU NTT calls: s (kernel s) | GPU quotient s (kernel s) | upload MiB (s) | wait s | \
         readback s | outside the backend s | top GPU stages |"
    );
    println!("|{}", "---|".repeat(16));
    let mut splits = Vec::new();
    for name in names {
        let row = measure(&name, gpu.as_ref(), runs);
        println!("{}", row.line);
        if let Some(stats) = row.stats {
            splits.push(format!("- {name}, {runs} proofs: {}", stats.to_string().replace('\n', "; ")));
        }
    }
    if !splits.is_empty() {
        println!("\nGPU counters over the timed proofs of each model:\n\n{}", splits.join("\n"));
    }
}

/// Every `fixtures/*/model.onnx`, or those `ZKINFER_BENCH_FIXTURES` names, sorted.
fn fixtures() -> Vec<String> {
    let dir = Path::new("fixtures");
    let mut all: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e} (run from the repository root)", dir.display()))
        .filter_map(|entry| {
            let path = entry.expect("a directory entry").path();
            path.join("model.onnx").is_file().then(|| path.file_name().expect("a name").to_string_lossy().into_owned())
        })
        .collect();
    all.sort();
    match std::env::var("ZKINFER_BENCH_FIXTURES") {
        Err(_) => all,
        Ok(wanted) => wanted
            .split(',')
            .map(|name| {
                let name = name.trim().to_string();
                assert!(all.contains(&name), "ZKINFER_BENCH_FIXTURES: no fixtures/{name}/model.onnx; the models are {}", all.join(", "));
                name
            })
            .collect(),
    }
}

struct Row {
    line: String,
    stats: Option<GpuStats>,
}

fn input(dir: &Path) -> Vec<f32> {
    let path = dir.join("input.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    serde_json::from_value(json["input_data"][0].clone()).unwrap_or_else(|e| panic!("{}: input_data[0]: {e}", path.display()))
}

fn measure(name: &str, gpu: Option<&Gpu>, runs: usize) -> Row {
    let dir = PathBuf::from("fixtures").join(name);
    let bytes = std::fs::read(dir.join("model.onnx")).expect("the model file");
    let input = input(&dir);
    let options = CompileOptions {
        precision: Precision::Scale(8),
        input_visibility: vec![Visibility::Private],
        param_visibility: ParamVisibility::Fixed,
        width: None,
        optimize: Optimize::Proving,
        pack: None,
        max_memory: None,
    };
    let (settings, report) = compile(&bytes, &options, std::slice::from_ref(&input)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let model = Model::from_onnx(&bytes, settings).expect("a compiled model loads");
    let x = model.quantize_input(&input).expect("the sample input quantizes");
    let (outputs, _) = model.evaluate(&x).expect("the sample input evaluates");
    let circuit = ModelCircuit { model: &model, input: Some(&x) };
    let instances = ModelCircuit::instances(&model, &x, &outputs);
    let k = report.k;
    let srs = Srs::generate_insecure(1 << k, &mut Rng::seed_from_u64(k as u64));
    let pk = keygen(&srs, &ModelCircuit { model: &model, input: None }, Some(k), model.settings.pack, &Cpu).expect("keygen");

    let proof = |backend: &dyn Backend, seed: u64| -> (Vec<u8>, Duration) {
        let start = Instant::now();
        let proof = prove(&pk, &circuit, &instances, backend, &mut Rng::seed_from_u64(seed), ProveOptions::default()).expect("prove");
        (proof, start.elapsed())
    };
    let check = |proof: &[u8]| zkinfer_verifier::verify(&pk.vk, &instances, proof).unwrap_or_else(|e| panic!("{name}: {e}"));

    let cpu = TimedCpu::default();
    let (cpu_proof, _) = proof(&cpu, 0);
    check(&cpu_proof);
    *cpu.calls.lock().expect("no panics while timing") = CpuCalls::default();
    if let Some(gpu) = gpu {
        let (gpu_proof, _) = proof(gpu, 0);
        assert!(gpu_proof == cpu_proof, "{name}: the GPU proof differs from the CPU proof made with the same randomness");
        gpu.reset_stats();
    }
    let mut cpu_times = Vec::with_capacity(runs);
    let mut gpu_times = Vec::with_capacity(runs);
    for run in 1..=runs as u64 {
        cpu_times.push(proof(&cpu, run).1);
        if let Some(gpu) = gpu {
            let (gpu_proof, t) = proof(gpu, run);
            gpu_times.push(t);
            if run == runs as u64 {
                check(&gpu_proof);
            }
        }
    }
    let per = runs as u64;
    let s = |d: Duration| d.as_secs_f64() / per as f64;
    // Means over the runs, where the prove columns are medians.
    let cpu_calls = *cpu.calls.lock().expect("no panics while timing");
    let cpu_total = cpu_times.iter().sum::<Duration>();
    let cpu_t = median(&mut cpu_times);
    let lead = format!(
        "| {name} | {k} | {} | {:.3} | {} + {} + {}: {:.3} | {:.1}x |",
        report.rows_used,
        cpu_t.as_secs_f64(),
        cpu_calls.msm / per,
        cpu_calls.ntt / per,
        cpu_calls.quotient / per,
        s(cpu_calls.time),
        cpu_total.as_secs_f64() / cpu_total.saturating_sub(cpu_calls.time).as_secs_f64(),
    );
    let Some(gpu) = gpu else {
        return Row { line: format!("{lead} - | - | - | - | - | - | - | - | - | - |"), stats: None };
    };
    let stats = gpu.stats();
    let gpu_t = median(&mut gpu_times);
    let outside = gpu_times.iter().sum::<Duration>().saturating_sub(stats.msm.wall + stats.ntt.wall + stats.quotient.wall);
    let line = format!(
        "{lead} {:.3} | {:.2}x | {}: {:.3} ({:.3}) | {}: {:.3} ({:.3}) | {:.3} ({:.3}) | {:.1} ({:.3}) | {:.3} | {:.3} | {:.3} | {} |",
        gpu_t.as_secs_f64(),
        cpu_t.as_secs_f64() / gpu_t.as_secs_f64(),
        stats.msm.calls / per,
        s(stats.msm.wall),
        s(stats.msm.kernel),
        stats.ntt.calls / per,
        s(stats.ntt.wall),
        s(stats.ntt.kernel),
        s(stats.quotient.wall),
        s(stats.quotient.kernel),
        (stats.upload.bytes + stats.upload_cached.bytes) as f64 / (1 << 20) as f64 / per as f64,
        s(stats.upload.time + stats.upload_cached.time),
        s(stats.wait),
        s(stats.readback.time),
        s(outside),
        gpu::top_stages(&stats, 3),
    );
    Row { line, stats: Some(stats) }
}

/// The CPU backend, counting its calls and adding up their wall time.
#[derive(Default)]
struct TimedCpu {
    calls: Mutex<CpuCalls>,
}

#[derive(Clone, Copy, Default)]
struct CpuCalls {
    msm: u64,
    ntt: u64,
    quotient: u64,
    time: Duration,
}

impl TimedCpu {
    fn time<T>(&self, count: fn(&mut CpuCalls) -> &mut u64, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        let mut calls = self.calls.lock().expect("no panics while timing");
        calls.time += start.elapsed();
        *count(&mut calls) += 1;
        out
    }
}

impl Backend for TimedCpu {
    fn name(&self) -> String {
        Cpu.name()
    }

    fn msm(&self, bases: &Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        self.time(|c| &mut c.msm, || Cpu.msm(bases, scalars))
    }

    fn fft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        self.time(|c| &mut c.ntt, || Cpu.fft(domain, columns))
    }

    fn ifft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        self.time(|c| &mut c.ntt, || Cpu.ifft(domain, columns))
    }

    /// Counted as one call: its NTTs and its evaluation together.
    fn quotient(&self, job: &QuotientJob) -> Result<Vec<Fr>, BackendError> {
        self.time(|c| &mut c.quotient, || Cpu.quotient(job))
    }
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
