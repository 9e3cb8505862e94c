//! The two heavy kernels of proving, MSM over G1 and NTTs over Fr, through each
//! [`Backend`] and through arkworks called directly, at 2^12, 2^14, 2^16 and 2^18 elements by
//! default.
//!
//! `cargo bench --bench kernels`; a criterion filter such as `-- msm` picks one group, and
//! `-- '/gpu'` the GPU backend alone; `ZKINFER_BENCH_LOG_N=16-20` (or a list, `12,16,20`) picks
//! the sizes; `ZKINFER_BENCH_CLOCK=cpu` measures process CPU time instead of wall time (see
//! `clock.rs`); `ZKINFER_BENCH_GPU` says whether the GPU backend is measured (see
//! `support/gpu.rs`), and `ZKINFER_GPU_FIELD` with which field arithmetic (u16 unless set; its
//! benchmark names end with it): `scripts/gpu-bench.sh kernels` runs this once per arithmetic,
//! the later runs with `'/gpu'`. With the GPU backend, a table of its time split per call
//! follows criterion's output.

#[path = "clock.rs"]
mod clock;
#[path = "support/gpu.rs"]
mod gpu;

use ark_bn254::{Fr, G1Projective};
use ark_ec::VariableBaseMSM;
use ark_ff::{FftField, UniformRand};
use ark_poly::EvaluationDomain;
use criterion::measurement::Measurement;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use std::cell::RefCell;
use std::time::Duration;
use zkinfer_prover::backend::{Bases, Domain};
use zkinfer_prover::gpu::Gpu;
use zkinfer_prover::{Backend, Cpu, Srs};

/// `ZKINFER_BENCH_LOG_N`: comma-separated sizes or `lo-hi` ranges of log2 sizes.
fn log_sizes() -> Vec<u32> {
    let spec = std::env::var("ZKINFER_BENCH_LOG_N").unwrap_or_else(|_| "12,14,16,18".into());
    let parse = |s: &str| match s.trim().parse::<u32>() {
        Ok(log) if (1..=26).contains(&log) => log,
        _ => panic!("ZKINFER_BENCH_LOG_N: '{s}' in '{spec}' is not a log2 size from 1 to 26"),
    };
    let mut sizes: Vec<u32> = spec
        .split(',')
        .flat_map(|part| match part.split_once('-') {
            Some((lo, hi)) => parse(lo)..=parse(hi),
            None => parse(part)..=parse(part),
        })
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

/// Milliseconds of `d` spread over `per` calls.
fn ms(d: Duration, per: u64) -> f64 {
    d.as_secs_f64() * 1e3 / per as f64
}

/// The backends measured beside arkworks, and the GPU's time split per benchmark as table rows.
struct Backends {
    gpu: Option<Gpu>,
    split: RefCell<Vec<String>>,
}

impl Backends {
    /// Each backend, with its counters where it has them.
    fn all(&self) -> Vec<(&dyn Backend, Option<&Gpu>)> {
        let gpu = self.gpu.as_ref().map(|g| (g as &dyn Backend, Some(g)));
        std::iter::once((&Cpu as &dyn Backend, None)).chain(gpu).collect()
    }

    /// Runs `bench`; with the GPU's counters from zero, and their averages per call added to
    /// the split table.
    fn measure(&self, gpu: Option<&Gpu>, kernel: &str, log_n: u32, bench: impl FnOnce()) {
        let Some(gpu) = gpu else {
            return bench();
        };
        gpu.reset_stats();
        bench();
        let s = gpu.stats();
        let calls = s.msm.calls + s.ntt.calls;
        if calls == 0 {
            return; // filtered out
        }
        let mib = |bytes: u64| bytes as f64 / (1 << 20) as f64 / calls as f64;
        let row = format!(
            "| {kernel} | 2^{log_n} | {calls} | {:.3} | {:.3} ({:.2} MiB) | {:.3} | {:.3} | {:.3} ({:.2} MiB) | {:.3} | {:.1} ({:.1} MiB) | {} |",
            ms(s.msm.wall + s.ntt.wall, calls),
            ms(s.upload.time, calls),
            mib(s.upload.bytes),
            ms(s.wait, calls),
            ms(s.kernel, calls),
            ms(s.readback.time, calls),
            mib(s.readback.bytes),
            ms(s.host(), calls),
            ms(s.upload_cached.time, 1),
            s.upload_cached.bytes as f64 / (1 << 20) as f64,
            gpu::top_stages(&s, 3),
        );
        // Also now, on stderr: a run cut short still shows what it measured.
        eprintln!("GPU split {row}");
        self.split.borrow_mut().push(row);
    }

    fn print_split(&self) {
        let Some(gpu) = &self.gpu else { return };
        println!("\n# GPU time split per call, {} (kernel clock: {:?})\n", gpu.name(), gpu.stats().clock);
        println!("Averages over all of criterion's calls, warm-up included; ms per call. \"wait\" is submission to completion");
        println!("(copies both ways, kernels, driver latency); \"kernel\" is device time; \"cached upload\" is the bases or");
        println!("twiddles sent once per benchmark, ms in all.\n");
        println!("| kernel | size | calls | wall | upload | wait | kernel | readback | other host | cached upload | top stages |");
        println!("|{}", "---|".repeat(11));
        for row in self.split.borrow().iter() {
            println!("{row}");
        }
    }
}

fn group<'a, M: Measurement>(c: &'a mut Criterion<M>, name: &str) -> BenchmarkGroup<'a, M> {
    // Separate names keep criterion from comparing CPU-time results with wall-time ones.
    let mut group = c.benchmark_group(if clock::cpu_clock() { format!("{name} (cpu time)") } else { name.to_string() });
    // Ten samples (criterion's minimum) keep the whole run to a few minutes on two cores;
    // criterion stretches the measurement time where ten samples do not fit.
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    group
}

fn msm<M: Measurement>(c: &mut Criterion<M>, backends: &Backends, log_sizes: &[u32]) {
    let max = 1 << log_sizes.last().expect("at least one size");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    // Distinct points cheaply: the SRS is one fixed-base batch multiplication.
    let bases = Bases::new(Srs::generate_insecure(max - 1, &mut rng).g1().to_vec());
    let scalars: Vec<Fr> = (0..max).map(|_| Fr::rand(&mut rng)).collect();
    let mut group = group(c, "msm");
    for &log_n in log_sizes {
        let n = 1usize << log_n;
        let (points, scalars) = (&bases.points()[..n], &scalars[..n]);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new("arkworks", format!("2^{log_n}")), |b| b.iter(|| G1Projective::msm(points, scalars).expect("as many points as scalars")));
        for (backend, counters) in backends.all() {
            backends.measure(counters, "msm", log_n, || {
                group.bench_function(BenchmarkId::new(backend.name(), format!("2^{log_n}")), |b| b.iter(|| backend.msm(&bases, &[scalars]).expect("the backend's MSM")));
            });
        }
    }
    group.finish();
}

/// Which transform an NTT benchmark runs; the coset one is the prover's extended-domain FFT.
#[derive(Clone, Copy)]
enum Transform {
    Fft,
    Ifft,
    CosetFft,
}

impl Transform {
    fn name(self) -> &'static str {
        match self {
            Transform::Fft => "fft",
            Transform::Ifft => "ifft",
            Transform::CosetFft => "coset fft",
        }
    }

    fn domain(self, n: usize) -> Domain {
        let domain = Domain::new(n).expect("n is a power of two below 2^28");
        match self {
            Transform::Fft | Transform::Ifft => domain,
            Transform::CosetFft => domain.get_coset(Fr::GENERATOR).expect("the generator is not in the subgroup"),
        }
    }

    fn arkworks(self, domain: &Domain, values: &mut Vec<Fr>) {
        match self {
            Transform::Fft | Transform::CosetFft => domain.fft_in_place(values),
            Transform::Ifft => domain.ifft_in_place(values),
        }
    }

    fn backend(self, backend: &dyn Backend, domain: &Domain, values: &mut Vec<Fr>) {
        match self {
            Transform::Fft | Transform::CosetFft => backend.fft(domain, std::slice::from_mut(values)),
            Transform::Ifft => backend.ifft(domain, std::slice::from_mut(values)),
        }
        .expect("the backend's transform")
    }
}

fn ntt<M: Measurement>(c: &mut Criterion<M>, backends: &Backends, log_sizes: &[u32], transform: Transform) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let mut group = group(c, transform.name());
    for &log_n in log_sizes {
        let n = 1usize << log_n;
        let input: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let domain = transform.domain(n);
        group.throughput(Throughput::Elements(n as u64));
        // The transforms work in place: each iteration gets a fresh copy, made outside the timing.
        group.bench_function(BenchmarkId::new("arkworks", format!("2^{log_n}")), |b| {
            b.iter_batched_ref(|| input.clone(), |v| transform.arkworks(&domain, v), BatchSize::LargeInput)
        });
        for (backend, counters) in backends.all() {
            backends.measure(counters, transform.name(), log_n, || {
                group.bench_function(BenchmarkId::new(backend.name(), format!("2^{log_n}")), |b| {
                    b.iter_batched_ref(|| input.clone(), |v| transform.backend(backend, &domain, v), BatchSize::LargeInput)
                });
            });
        }
    }
    group.finish();
}

fn run<M: Measurement>(mut c: Criterion<M>) {
    let log_sizes = log_sizes();
    let backends = Backends { gpu: gpu::gpu(), split: RefCell::default() };
    msm(&mut c, &backends, &log_sizes);
    for transform in [Transform::Fft, Transform::Ifft, Transform::CosetFft] {
        ntt(&mut c, &backends, &log_sizes, transform);
    }
    c.final_summary();
    backends.print_split();
}

fn main() {
    if clock::cpu_clock() {
        run(Criterion::default().with_measurement(clock::CpuTime).configure_from_args());
    } else {
        run(Criterion::default().configure_from_args());
    }
}
