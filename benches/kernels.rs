//! The two heavy kernels of proving, MSM over G1 and NTTs over Fr, through each
//! [`Backend`] and through arkworks called directly, at 2^12 to 2^18 elements.
//!
//! `cargo bench --bench kernels`; a criterion filter such as `-- msm` picks one group;
//! `ZKINFER_BENCH_CLOCK=cpu` measures process CPU time instead of wall time (see `clock.rs`).

#[path = "clock.rs"]
mod clock;

use ark_bn254::{Fr, G1Projective};
use ark_ec::VariableBaseMSM;
use ark_ff::{FftField, UniformRand};
use ark_poly::EvaluationDomain;
use criterion::measurement::Measurement;
use criterion::{BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use rand::SeedableRng;
use std::time::Duration;
use zkinfer_prover::backend::{Bases, Domain};
use zkinfer_prover::{Backend, Cpu, Srs};

const LOG_SIZES: [u32; 4] = [12, 14, 16, 18];

/// The backends measured beside arkworks; a device backend is one more entry.
fn backends() -> Vec<Box<dyn Backend>> {
    vec![Box::new(Cpu)]
}

fn group<'a, M: Measurement>(c: &'a mut Criterion<M>, name: &str) -> BenchmarkGroup<'a, M> {
    // Separate names keep criterion from comparing CPU-time results with wall-time ones.
    let mut group = c.benchmark_group(if clock::cpu_clock() { format!("{name} (cpu time)") } else { name.to_string() });
    // Ten samples (criterion's minimum) keep the whole run to a few minutes on two cores;
    // criterion stretches the measurement time where ten samples do not fit.
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    group
}

fn msm<M: Measurement>(c: &mut Criterion<M>, backends: &[Box<dyn Backend>]) {
    let max = 1 << LOG_SIZES[LOG_SIZES.len() - 1];
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    // Distinct points cheaply: the SRS is one fixed-base batch multiplication.
    let bases = Bases::new(Srs::generate_insecure(max - 1, &mut rng).g1().to_vec());
    let scalars: Vec<Fr> = (0..max).map(|_| Fr::rand(&mut rng)).collect();
    let mut group = group(c, "msm");
    for log_n in LOG_SIZES {
        let n = 1usize << log_n;
        let (points, scalars) = (&bases.points()[..n], &scalars[..n]);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new("arkworks", format!("2^{log_n}")), |b| {
            b.iter(|| G1Projective::msm(points, scalars).expect("as many points as scalars"))
        });
        for backend in backends {
            group.bench_function(BenchmarkId::new(backend.name(), format!("2^{log_n}")), |b| b.iter(|| backend.msm(&bases, scalars)));
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
            Transform::Fft | Transform::CosetFft => backend.fft(domain, values),
            Transform::Ifft => backend.ifft(domain, values),
        }
    }
}

fn ntt<M: Measurement>(c: &mut Criterion<M>, backends: &[Box<dyn Backend>], transform: Transform) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let mut group = group(c, transform.name());
    for log_n in LOG_SIZES {
        let n = 1usize << log_n;
        let input: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        let domain = transform.domain(n);
        group.throughput(Throughput::Elements(n as u64));
        // The transforms work in place: each iteration gets a fresh copy, made outside the timing.
        group.bench_function(BenchmarkId::new("arkworks", format!("2^{log_n}")), |b| {
            b.iter_batched_ref(|| input.clone(), |v| transform.arkworks(&domain, v), BatchSize::LargeInput)
        });
        for backend in backends {
            group.bench_function(BenchmarkId::new(backend.name(), format!("2^{log_n}")), |b| {
                b.iter_batched_ref(|| input.clone(), |v| transform.backend(backend.as_ref(), &domain, v), BatchSize::LargeInput)
            });
        }
    }
    group.finish();
}

fn run<M: Measurement>(mut c: Criterion<M>) {
    let backends = backends();
    msm(&mut c, &backends);
    for transform in [Transform::Fft, Transform::Ifft, Transform::CosetFft] {
        ntt(&mut c, &backends, transform);
    }
    c.final_summary();
}

fn main() {
    if clock::cpu_clock() {
        run(Criterion::default().with_measurement(clock::CpuTime).configure_from_args());
    } else {
        run(Criterion::default().configure_from_args());
    }
}
