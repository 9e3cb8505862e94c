//! Proving time, key generation time and peak memory against the number of rows, for the
//! circuit of `circuit.rs` (10 advice columns, degree-4 constraints, one lookup, one copy
//! per row) filled to its last usable row.
//!
//! `cargo bench --bench proving`; `ZKINFER_BENCH_K=10-16` picks the sizes (default 10-18);
//! `ZKINFER_BENCH_CLOCK=cpu` has criterion measure process CPU time (see `clock.rs`).
//!
//! Three parts:
//! 1. each size in a child process of its own (this binary run again with `ZKINFER_BENCH_CHILD`
//!    set), which times key generation once, proves once with the kernels timed and reads the
//!    process's peak resident memory around that proof;
//! 2. criterion proving times up to 2^16 rows;
//! 3. a plain timer for larger sizes, where ten criterion samples would take minutes each.

#[path = "circuit.rs"]
mod circuit;
#[path = "clock.rs"]
mod clock;

use ark_bn254::{Fr, G1Projective};
use circuit::BenchCircuit;
use criterion::measurement::Measurement;
use criterion::{BenchmarkId, Criterion, SamplingMode};
use rand::SeedableRng;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use zkinfer_circuits::{check, Columns, Pass, Synthesis};
use zkinfer_prover::backend::{BackendError, Bases, Domain};
use zkinfer_prover::quotient::QuotientJob;
use zkinfer_prover::{keygen, prove, Backend, Cpu, ProveOptions, Srs};

const CHILD: &str = "ZKINFER_BENCH_CHILD";
/// Sizes above this are timed by hand: ten criterion samples would take minutes each.
const CRITERION_MAX_K: u32 = 16;
const MANUAL_RUNS: usize = 3;

type Rng = rand_chacha::ChaCha20Rng;

fn main() {
    if let Ok(k) = std::env::var(CHILD) {
        measure_one(k.parse().expect("the parent passes k"));
        return;
    }
    let sizes = sizes();
    one_process_per_size(sizes.clone());
    let mut rng = Rng::seed_from_u64(0);
    let criterion_sizes = sizes.clone().filter(|&k| k <= CRITERION_MAX_K);
    if clock::cpu_clock() {
        prove_criterion(Criterion::default().with_measurement(clock::CpuTime).configure_from_args(), criterion_sizes, &mut rng);
    } else {
        prove_criterion(Criterion::default().configure_from_args(), criterion_sizes, &mut rng);
    }
    prove_timed(sizes.filter(|&k| k > CRITERION_MAX_K), &mut rng);
}

/// Part 1: runs this binary again for each size and prints the rows they print as two tables.
fn one_process_per_size(sizes: impl Iterator<Item = u32>) {
    let (mut time, mut memory) = (String::new(), String::new());
    for k in sizes {
        let out = Command::new(std::env::current_exe().expect("the running binary")).env(CHILD, k.to_string()).output().expect("the benchmark binary runs again");
        assert!(out.status.success(), "the child process for k = {k} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        for line in String::from_utf8(out.stdout).expect("the child prints text").lines() {
            match line.split_once('|') {
                Some(("time", row)) => time += &format!("|{row}\n"),
                Some(("memory", row)) => memory += &format!("|{row}\n"),
                _ => println!("{line}"),
            }
        }
    }
    println!("# One proof per size, each in a process of its own; CPU seconds are summed over threads\n");
    println!(
        "| k | usable rows | keygen wall s | keygen CPU s | prove wall s | prove CPU s | CPU s (calls) in MSM | FFT | iFFT | \
         quotient | synthesis | witness check | rest |"
    );
    println!("|{}\n{time}", "---|".repeat(13));
    println!("# Peak resident memory of that proof (VmHWM reset to VmRSS just before proving)\n");
    println!("| k | RSS before proving MiB | peak while proving MiB | growth MiB | extended-coset polynomials MiB |");
    println!("|{}\n{memory}", "---|".repeat(5));
}

/// Part 2: criterion, with key generation outside the measured loop.
fn prove_criterion<M: Measurement>(mut c: Criterion<M>, sizes: impl Iterator<Item = u32>, rng: &mut Rng) {
    // A separate name keeps criterion from comparing CPU-time results with wall-time ones.
    let mut group = c.benchmark_group(if clock::cpu_clock() { "prove (cpu time)" } else { "prove" });
    group.sampling_mode(SamplingMode::Flat).sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    for k in sizes {
        let circuit = BenchCircuit::new(k, k as u64);
        let instances = circuit.instances();
        // An SRS of exactly 2^k powers carries its rows' Lagrange basis (see `Srs::for_circuit`).
        let srs = Srs::generate_insecure(1 << k, rng);
        let pk = keygen(&srs, &circuit.shape(), Some(k), 1, &Cpu).expect("keygen");
        group.bench_function(BenchmarkId::new(Cpu.name(), format!("2^{k}")), |b| b.iter(|| prove(&pk, &circuit, &instances, &Cpu, rng, ProveOptions::default()).expect("prove")));
    }
    group.finish();
    c.final_summary();
}

/// Part 3: a plain timer, `MANUAL_RUNS` proofs per size.
fn prove_timed(sizes: impl Iterator<Item = u32>, rng: &mut Rng) {
    let mut header = Some(format!("\n# Proving time by plain timer, {MANUAL_RUNS} proofs per size\n\n| k | min wall s | mean wall s | mean CPU s |\n|---|---|---|---|"));
    for k in sizes {
        if let Some(h) = header.take() {
            println!("{h}");
        }
        let circuit = BenchCircuit::new(k, k as u64);
        let instances = circuit.instances();
        // An SRS of exactly 2^k powers carries its rows' Lagrange basis (see `Srs::for_circuit`).
        let srs = Srs::generate_insecure(1 << k, rng);
        let pk = keygen(&srs, &circuit.shape(), Some(k), 1, &Cpu).expect("keygen");
        let runs: Vec<Spent> = (0..MANUAL_RUNS).map(|_| measure(|| prove(&pk, &circuit, &instances, &Cpu, rng, ProveOptions::default()).expect("prove")).1).collect();
        let min = runs.iter().map(|t| t.wall).fold(f64::INFINITY, f64::min);
        let mean = |f: fn(&Spent) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
        println!("| {k} | {min:.2} | {:.2} | {:.2} |", mean(|t| t.wall), mean(|t| t.cpu));
    }
}

/// `ZKINFER_BENCH_K` as `lo-hi` (or one k), default 10-18.
fn sizes() -> std::ops::RangeInclusive<u32> {
    let spec = std::env::var("ZKINFER_BENCH_K").unwrap_or_else(|_| "10-18".into());
    let parse = |s: &str| s.trim().parse::<u32>().unwrap_or_else(|_| panic!("ZKINFER_BENCH_K: '{spec}' is not lo-hi"));
    match spec.split_once('-') {
        Some((lo, hi)) => parse(lo)..=parse(hi),
        None => parse(&spec)..=parse(&spec),
    }
}

/// One size in a fresh process, so that its peak memory is its own; prints a row of each of
/// the two tables, prefixed with the table's name.
fn measure_one(k: u32) {
    let mut rng = Rng::seed_from_u64(k as u64);
    let srs = Srs::generate_insecure(1 << k, &mut rng);
    let circuit = BenchCircuit::new(k, k as u64);
    let instances = circuit.instances();
    let (pk, keygen_t) = measure(|| keygen(&srs, &circuit.shape(), Some(k), 1, &Cpu).expect("keygen"));
    let d = &pk.vk.description();
    let layout = pk.vk.layout();

    let rss_before = status_kib("VmRSS");
    // Writing 5 to clear_refs resets the high-water mark to the current RSS (Linux >= 4.0).
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting the peak RSS");
    let timed = Timed::new(&Cpu);
    let (proof, prove_t) = measure(|| prove(&pk, &circuit, &instances, &timed, &mut rng, ProveOptions::default()).expect("prove"));
    let peak = status_kib("VmHWM");
    zkinfer_verifier::verify(&pk.vk, &instances, &proof).expect("the benchmark's proof verifies");

    // The two steps `prove` starts with, done again alone to split its time, with the fixed
    // columns and copy constraints that prove takes from the key.
    let mut synthesis = Synthesis::run(&circuit, Pass::Mock).expect("synthesis");
    synthesis.pad(k, 1).expect("the circuit fits");
    let permutation = synthesis.permutation(k).expect("the copies fit");
    let (_, synthesis_t) = measure(|| {
        let mut s = Synthesis::witness(&circuit, &synthesis.fixed).expect("synthesis");
        s.pad(k, 1).expect("the circuit fits");
        s
    });
    let instance: Vec<Vec<Fr>> = instances.iter().map(|c| c.iter().copied().chain(std::iter::repeat(Fr::from(0u64))).take(layout.n).collect()).collect();
    let columns = Columns { fixed: &synthesis.fixed, advice: &synthesis.advice, instance: &instance };
    let (failures, check_t) = measure(|| check(d, layout.usable_rows, &columns, &permutation));
    assert!(failures.is_empty(), "the benchmark's witness satisfies the circuit");

    let kernels = [&timed.msm, &timed.fft, &timed.ifft, &timed.quotient].map(|t| *t.lock().expect("no panics while timing"));
    let rest = prove_t.cpu - kernels.iter().chain([&synthesis_t, &check_t]).map(|t| t.cpu).sum::<f64>();
    println!(
        "time| {k} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} ({}) | {:.2} ({}) | {:.2} ({}) | {:.2} ({}) | {:.2} | {:.2} | {rest:.2} |",
        layout.usable_rows,
        keygen_t.wall,
        keygen_t.cpu,
        prove_t.wall,
        prove_t.cpu,
        kernels[0].cpu,
        kernels[0].calls,
        kernels[1].cpu,
        kernels[1].calls,
        kernels[2].cpu,
        kernels[2].calls,
        kernels[3].cpu,
        kernels[3].calls,
        synthesis_t.cpu,
        check_t.cpu,
    );

    // Every committed, fixed and permutation polynomial is held on the extended coset while
    // the quotient is evaluated.
    let products = d.permutation.len().div_ceil(layout.chunk);
    let polys = d.num_advice + 2 * d.lookups.len() + products + d.num_fixed + d.permutation.len();
    let estimate = polys * layout.extension * layout.n * 32;
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "memory| {k} | {:.0} | {:.0} | {:.0} | {polys} x {} x 2^{k} x 32 B = {:.0} |",
        mib(rss_before),
        mib(peak),
        mib(peak - rss_before),
        layout.extension,
        estimate as f64 / (1 << 20) as f64,
    );
}

/// Wall time and CPU time (all threads) spent on `calls` pieces of work, in seconds.
#[derive(Clone, Copy, Default)]
struct Spent {
    wall: f64,
    cpu: f64,
    calls: usize,
}

fn measure<T>(f: impl FnOnce() -> T) -> (T, Spent) {
    let (wall, cpu) = (Instant::now(), clock::cpu_time());
    let out = f();
    (out, Spent { wall: wall.elapsed().as_secs_f64(), cpu: (clock::cpu_time() - cpu).as_secs_f64(), calls: 1 })
}

/// A line of /proc/self/status in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok()).unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// A backend that adds up the time spent in each kernel of the backend it wraps.
struct Timed<'a> {
    inner: &'a dyn Backend,
    msm: Mutex<Spent>,
    fft: Mutex<Spent>,
    ifft: Mutex<Spent>,
    quotient: Mutex<Spent>,
}

impl<'a> Timed<'a> {
    fn new(inner: &'a dyn Backend) -> Self {
        Self { inner, msm: Mutex::default(), fft: Mutex::default(), ifft: Mutex::default(), quotient: Mutex::default() }
    }

    fn time<T>(total: &Mutex<Spent>, f: impl FnOnce() -> T) -> T {
        let (out, spent) = measure(f);
        let mut total = total.lock().expect("no panics while timing");
        total.wall += spent.wall;
        total.cpu += spent.cpu;
        total.calls += 1;
        out
    }
}

impl Backend for Timed<'_> {
    fn name(&self) -> String {
        self.inner.name()
    }

    fn msm(&self, bases: &Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        Self::time(&self.msm, || self.inner.msm(bases, scalars))
    }

    fn fft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        Self::time(&self.fft, || self.inner.fft(domain, columns))
    }

    fn ifft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        Self::time(&self.ifft, || self.inner.ifft(domain, columns))
    }

    /// Timed as a whole: the wrapped backend's own NTTs and evaluation of the quotient.
    fn quotient(&self, job: &QuotientJob) -> Result<Vec<Fr>, BackendError> {
        Self::time(&self.quotient, || self.inner.quotient(job))
    }
}
