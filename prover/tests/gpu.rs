//! The GPU backend against the CPU one: MSMs and NTTs on random and edge-case inputs up to
//! 2^14 and whole proofs made on the GPU, with each field arithmetic the adapter runs, and the
//! backend's counters of calls, bytes and time. They run on any Vulkan adapter (in CI, Mesa's
//! lavapipe on the CPU). Without one they fail, unless ZKINFER_SKIP_GPU_TESTS=1 says that the
//! machine has no Vulkan driver on purpose.

mod common;

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, PrimeGroup, ScalarMul};
use ark_ff::{BigInt, FftField, Field, One, UniformRand, Zero};
use ark_poly::EvaluationDomain;
use common::{Cheat, TestCircuit};
use rand::SeedableRng;
use zkinfer_prover::backend::{Bases, Domain};
use zkinfer_prover::gpu::{Gpu, GpuError, GpuField, GpuStats, KernelClock};
use zkinfer_prover::select::{select, BackendChoice};
use zkinfer_prover::{keygen, prove, Backend, Cpu, ProveOptions, Srs};

fn rng() -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(11)
}

fn gpu() -> Option<Gpu> {
    match Gpu::new() {
        Ok(gpu) => {
            eprintln!("GPU tests on {}", gpu.name());
            Some(gpu)
        }
        Err(e) if std::env::var("ZKINFER_SKIP_GPU_TESTS").is_ok_and(|v| v == "1") => {
            eprintln!("GPU test skipped (ZKINFER_SKIP_GPU_TESTS=1): {e}");
            None
        }
        Err(e) => panic!(
            "{e}\nThe GPU tests need a Vulkan adapter (CI installs Mesa's lavapipe); set \
             ZKINFER_SKIP_GPU_TESTS=1 to skip them on a machine without one."
        ),
    }
}

/// A handle per field arithmetic that the adapter runs, u16 first. Lavapipe offers
/// SHADER_INT64, so there every one must run: one missing means that the device did not ask for
/// what it needs.
fn gpus() -> Vec<Gpu> {
    let Some(gpu) = gpu() else { return Vec::new() };
    let lavapipe = gpu.adapter().name.contains("llvmpipe");
    // Side by side: lavapipe spends up to a minute and a half of one core on each arithmetic's
    // kernels.
    let built: Vec<_> = std::thread::scope(|scope| {
        let threads = GpuField::ALL.map(|field| scope.spawn(move || (field, Gpu::with_field(field))));
        threads.into_iter().map(|thread| thread.join().expect("building the kernels")).collect()
    });
    built
        .into_iter()
        .filter_map(|(field, built)| match built {
            Ok(gpu) => Some(gpu),
            Err(e @ GpuError::NoInt64(_)) if !lavapipe => {
                eprintln!("not testing {field}: {e}");
                None
            }
            Err(e) => panic!("{field} on {}: {e}", gpu.name()),
        })
        .collect()
}

/// Scalars at the edges of the field and of the signed windows: zero, small values, powers of
/// two on window boundaries, values that make every window digit borrow, and r - 1, r - 2.
fn edge_scalars() -> Vec<Fr> {
    let two = Fr::from(2u64);
    let mut scalars = vec![-Fr::one(), Fr::zero(), Fr::one(), -two, two, -Fr::one() / two, Fr::from(u64::MAX)];
    for bits in [8, 15, 16, 17, 64, 128, 252, 253] {
        scalars.extend([two.pow([bits]), two.pow([bits]) - Fr::one(), -two.pow([bits])]);
    }
    scalars
}

/// `n` random bases with the identity, a repeated point and a point with its negation among
/// the first few.
fn bases(n: usize) -> Bases {
    let mut rng = rng();
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let mut points = G1Projective::generator().batch_mul(&scalars);
    points[1] = G1Affine::zero();
    points[4] = points[3];
    points[5] = -points[3];
    points[n - 1] = G1Affine::zero();
    Bases::new(points)
}

#[test]
fn msm_matches_the_cpu_on_random_and_edge_inputs() {
    let gpus = gpus();
    let n = 1 << 14;
    let bases = bases(n);
    let mut rng = rng();
    let edges = edge_scalars();
    let mut scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    scalars[..edges.len()].copy_from_slice(&edges);
    for (i, e) in edges.iter().enumerate() {
        scalars[(i * 997 + 500) % n] = *e;
    }
    // One call of MSMs of every length, an empty one among them.
    let lengths = [1, 2, 3, 6, 0, 100, 1 << 10, 1 << 12, n];
    let batch: Vec<&[Fr]> = lengths.iter().map(|&len| &scalars[..len]).collect();
    let expected = Cpu.msm(&bases, &batch).unwrap();
    assert!(expected[4].is_zero());
    for gpu in &gpus {
        let got = gpu.msm(&bases, &batch).unwrap();
        for ((len, got), expected) in lengths.iter().zip(got).zip(&expected) {
            assert_eq!(got, *expected, "{len} scalars on {}", gpu.name());
        }
        assert!(gpu.msm(&bases, &[]).unwrap().is_empty());
    }
}

#[test]
fn msm_matches_the_cpu_on_structured_scalars() {
    let gpus = gpus();
    let n = 1 << 10;
    let bases = bases(n);
    let sparse: Vec<Fr> = (0..n).map(|i| if i % 97 == 3 { -Fr::from(i as u64) } else { Fr::zero() }).collect();
    let cases = [
        ("all zero", vec![Fr::zero(); n]),
        // Every point in the same bucket of every window.
        ("all r - 1", vec![-Fr::one(); n]),
        ("all one", vec![Fr::one(); n]),
        ("all 2^253", vec![Fr::from(2u64).pow([253]); n]),
        ("sparse", sparse),
    ];
    let batch: Vec<&[Fr]> = cases.iter().map(|(_, s)| s.as_slice()).collect();
    let expected = Cpu.msm(&bases, &batch).unwrap();
    for gpu in &gpus {
        let got = gpu.msm(&bases, &batch).unwrap();
        for (((name, _), got), expected) in cases.iter().zip(got).zip(&expected) {
            assert_eq!(got, *expected, "{name} on {}", gpu.name());
        }
    }

    // A bucket of more than RUN^2 = 2^14 points is summed in pieces of pieces.
    let n = (1 << 14) + 1;
    let bases = self::bases(n);
    let ones = vec![Fr::one(); n];
    let expected = Cpu.msm(&bases, &[&ones]).unwrap();
    for gpu in &gpus {
        assert_eq!(gpu.msm(&bases, &[&ones]).unwrap(), expected, "2^14 + 1 ones on {}", gpu.name());
    }
}

#[test]
fn msm_split_into_chunks_matches_the_cpu() {
    let gpus: Vec<Gpu> = gpus().into_iter().map(|gpu| gpu.with_msm_chunk(1000)).collect();
    let n = 3500;
    let bases = bases(n);
    let mut rng = rng();
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    // Split into chunks of 1000 points, and all the chunks of all the MSMs in one batch.
    let lengths = [999, 1000, 1001, n];
    let batch: Vec<&[Fr]> = lengths.iter().map(|&len| &scalars[..len]).collect();
    let expected = Cpu.msm(&bases, &batch).unwrap();
    for gpu in &gpus {
        let got = gpu.msm(&bases, &batch).unwrap();
        for ((len, got), expected) in lengths.iter().zip(got).zip(&expected) {
            assert_eq!(got, *expected, "{len} scalars on {}", gpu.name());
        }
    }
}

#[test]
fn ntt_matches_the_cpu_on_subgroups_and_cosets() {
    let gpus = gpus();
    let mut rng = rng();
    // Every limb at its largest whatever the width: the most a product of limbs adds up to.
    let full_limbs = Fr::new_unchecked(BigInt([u64::MAX, u64::MAX, u64::MAX, (1 << 61) - 1]));
    for log in [0, 1, 2, 10, 14] {
        let subgroup = Domain::new(1 << log).unwrap();
        let cosets = [Fr::GENERATOR, full_limbs].map(|offset| subgroup.get_coset(offset).unwrap());
        for domain in [subgroup, cosets[0], cosets[1]] {
            let n = domain.size();
            let mut values: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
            let edges = [-Fr::one(), full_limbs, Fr::zero(), -Fr::from(2u64)];
            values[..edges.len().min(n)].copy_from_slice(&edges[..edges.len().min(n)]);
            let short = values[..n.div_ceil(3)].to_vec();
            let at = format!("size 2^{log}, offset {}", domain.coset_offset());
            // One column alone, then three side by side in one call.
            for input in [vec![values.clone()], vec![short.clone(), values.clone(), short.clone()]] {
                let (mut fft, mut ifft) = (input.clone(), input.clone());
                Cpu.fft(&domain, &mut fft).unwrap();
                Cpu.ifft(&domain, &mut ifft).unwrap();
                let lengths: Vec<usize> = input.iter().map(Vec::len).collect();
                for gpu in &gpus {
                    let mut on_gpu = input.clone();
                    gpu.fft(&domain, &mut on_gpu).unwrap();
                    assert_eq!(on_gpu, fft, "fft of columns of {lengths:?} values, {at}, on {}", gpu.name());
                    let mut on_gpu = input.clone();
                    gpu.ifft(&domain, &mut on_gpu).unwrap();
                    assert_eq!(on_gpu, ifft, "ifft of columns of {lengths:?} values, {at}, on {}", gpu.name());
                }
            }
        }
    }
}

/// Unpacked, and packed by 8 (docs/protocol.md §3.7: packed commitments go through the
/// monomial bases at `t n` points): same randomness, same arithmetic, so the GPU makes the CPU's
/// key and the same bytes; and a cheating witness still gives a proof that is rejected.
#[test]
fn a_proof_made_on_the_gpu_verifies_and_equals_the_cpu_proof() {
    let gpus = gpus();
    if gpus.is_empty() {
        return;
    }
    let srs = Srs::generate_insecure(1 << 11, &mut rng());
    let circuit = TestCircuit::new(200, Cheat::None, 3);
    let cheat = TestCircuit::new(200, Cheat::Gate, 3);
    let unchecked = ProveOptions { check_witness: false };
    for pack in [1, 8] {
        let cpu_pk = keygen(&srs, &circuit.shape(), None, pack, &Cpu).unwrap();
        let cpu_proof = prove(&cpu_pk, &circuit, &circuit.instances(), &Cpu, &mut rng(), ProveOptions::default()).unwrap();
        for gpu in &gpus {
            let pk = keygen(&srs, &circuit.shape(), None, pack, gpu).unwrap();
            let proof = prove(&pk, &circuit, &circuit.instances(), gpu, &mut rng(), ProveOptions::default()).unwrap();
            zkinfer_verifier::verify(&pk.vk, &circuit.instances(), &proof).unwrap();
            assert_eq!(pk.vk.to_bytes(), cpu_pk.vk.to_bytes(), "key packed by {pack} on {}", gpu.name());
            assert_eq!(proof, cpu_proof, "proof packed by {pack} on {}", gpu.name());

            let bad = prove(&pk, &cheat, &cheat.instances(), gpu, &mut rng(), unchecked).unwrap();
            assert!(zkinfer_verifier::verify(&pk.vk, &cheat.instances(), &bad).is_err(), "cheat packed by {pack} on {}", gpu.name());
        }
    }
}

/// The quotient of a proof is one call on the device: its transforms and its evaluation in one
/// submission, its time in the kernel totals.
#[test]
fn the_quotient_is_one_submission_on_the_device() {
    let Some(gpu) = gpu() else { return };
    let srs = Srs::generate_insecure(1 << 10, &mut rng());
    let circuit = TestCircuit::new(200, Cheat::None, 3);
    let pk = keygen(&srs, &circuit.shape(), None, 1, &gpu).unwrap();
    gpu.reset_stats();
    let proof = prove(&pk, &circuit, &circuit.instances(), &gpu, &mut rng(), ProveOptions::default()).unwrap();
    zkinfer_verifier::verify(&pk.vk, &circuit.instances(), &proof).unwrap();
    let stats = gpu.stats();
    assert_eq!(stats.quotient.calls, 1);
    assert_eq!(stats.submissions, 2 * stats.msm.calls + stats.ntt.calls + 1, "one submission for the quotient");
    assert_times_add_up(&stats, &["ntt coset factors", "ntt butterfly", "quotient evaluate", "ntt inverse factors"]);
}

/// The device times of one handle's calls: per kind they add up to the total, and by stage too
/// where the clock times each dispatch.
fn assert_times_add_up(stats: &GpuStats, stages: &[&str]) {
    assert_eq!(stats.msm.kernel + stats.ntt.kernel + stats.quotient.kernel, stats.kernel);
    match stats.clock {
        KernelClock::Wall => assert_eq!(stats.kernel, stats.wait, "without timestamps kernel time is the wait"),
        KernelClock::Passes => assert!(stats.stages.is_empty()),
        KernelClock::Dispatches => {
            assert_eq!(stats.stages.values().sum::<std::time::Duration>(), stats.kernel);
            let names: Vec<&str> = stats.stages.keys().copied().collect();
            assert!(stages.iter().all(|s| names.contains(s)), "stages {names:?} lack some of {stages:?}");
        }
    }
}

#[test]
fn stats_count_calls_bytes_and_device_time() {
    let Some(gpu) = gpu() else { return };
    let fresh = gpu.stats();
    assert_eq!(fresh, GpuStats { clock: fresh.clock, ..GpuStats::default() }, "a new handle's counters start at zero");
    eprintln!("kernel clock on {}: {:?}", gpu.name(), fresh.clock);

    let n = 1 << 10;
    let bases = bases(n);
    let mut rng = rng();
    let scalars: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    assert_eq!(gpu.msm(&bases, &[&scalars]).unwrap(), Cpu.msm(&bases, &[&scalars]).unwrap());
    let one = gpu.stats();
    assert_eq!((one.msm.calls, one.ntt.calls, one.submissions), (1, 0, 2), "one MSM chunk is two submissions");
    assert_eq!(one.upload.bytes, 32 * n as u64, "32-byte scalars");
    assert_eq!(one.upload_cached.bytes, 64 * n as u64, "new bases, sent once as 64-byte points");
    // The window sums, 96 bytes for each of 4 to 64 windows, and 20 bytes of bucket sizes.
    assert!((20 + 96 * 4..=20 + 96 * 64).contains(&one.readback.bytes), "MSM readback {} bytes", one.readback.bytes);
    assert_times_add_up(&one, &["msm decompose", "msm scan", "msm scatter", "msm fold buckets", "msm weigh"]);

    assert_eq!(gpu.clone().msm(&bases, &[&scalars[..100]]).unwrap(), Cpu.msm(&bases, &[&scalars[..100]]).unwrap());
    let two = gpu.stats();
    assert_eq!((two.msm.calls, two.submissions), (2, 4), "clones share their counters");
    assert_eq!(two.upload.bytes - one.upload.bytes, 32 * 100);
    // The tests beside this one may have had other keys' bases replace these on the device.
    let sent_again = two.upload_cached.bytes - one.upload_cached.bytes;
    assert!(sent_again == 0 || sent_again == 64 * n as u64, "bases sent again: {sent_again} bytes");
    assert!(two.msm.wall > one.msm.wall);
    let batch = [&scalars[..10], &scalars[..500], &scalars[..]];
    assert_eq!(gpu.msm(&bases, &batch).unwrap(), Cpu.msm(&bases, &batch).unwrap());
    let three = gpu.stats();
    assert_eq!((three.msm.calls, three.submissions), (3, 6), "a call of several MSMs is two submissions");
    assert_eq!(Gpu::new().unwrap().stats().msm.calls, 0, "a new handle counts on its own");

    gpu.reset_stats();
    assert_eq!(gpu.stats(), fresh);
    // A domain no other test uses, so that its tables are sent here, with the first transform.
    let n = 64;
    let domain = Domain::new(n).unwrap().get_coset(Fr::from(1_234_567u64)).unwrap();
    let mut columns: Vec<Vec<Fr>> = (0..3).map(|_| (0..n).map(|_| Fr::rand(&mut rng)).collect()).collect();
    gpu.fft(&domain, &mut columns[..1]).unwrap();
    gpu.ifft(&domain, &mut columns).unwrap();
    let ntt = gpu.stats();
    assert_eq!((ntt.msm.calls, ntt.ntt.calls, ntt.submissions), (0, 2, 2), "one submission per call, whatever its columns");
    assert_eq!(ntt.upload.bytes, 4 * 32 * n as u64);
    assert_eq!(ntt.readback.bytes, 4 * 32 * n as u64);
    // w^k and w^-k for k < n/2, then the coset factors g^i and g^-i / n.
    assert_eq!(ntt.upload_cached.bytes, 32 * (n / 2 + n / 2 + n + n) as u64);
    assert_times_add_up(&ntt, &["ntt coset factors", "ntt bit reverse", "ntt butterfly", "ntt inverse factors"]);
    let line = ntt.to_string();
    eprintln!("{line}");
    assert!(line.starts_with("msm 0 calls") && line.contains("ntt 2 calls"), "{line}");
}

#[test]
fn backend_choice_parses_and_selects() {
    assert_eq!("cpu".parse::<BackendChoice>().unwrap(), BackendChoice::Cpu);
    assert_eq!("GPU".parse::<BackendChoice>().unwrap(), BackendChoice::Gpu);
    assert_eq!("auto".parse::<BackendChoice>().unwrap(), BackendChoice::Auto);
    let unknown = "tpu".parse::<BackendChoice>().unwrap_err().to_string();
    assert_eq!(unknown, "unknown backend \"tpu\": expected cpu, gpu or auto");
    let cpu = select(BackendChoice::Cpu).unwrap();
    assert!(cpu.backend.name().starts_with("cpu (") && cpu.notice.is_none());

    let Some(gpu) = gpu() else {
        assert!(select(BackendChoice::Gpu).is_err());
        let auto = select(BackendChoice::Auto).unwrap();
        assert!(auto.backend.name().starts_with("cpu ("));
        assert!(auto.notice.is_some_and(|n| n.ends_with("proving on the CPU")), "auto says why it proves on the CPU");
        return;
    };
    let chosen = select(BackendChoice::Gpu).unwrap();
    assert_eq!((chosen.backend.name(), chosen.notice), (gpu.name(), None));
    let auto = select(BackendChoice::Auto).unwrap();
    let name = auto.backend.name();
    if gpu.is_software() {
        assert!(name.starts_with("cpu ("), "auto picked {name} over a software adapter");
        assert!(auto.notice.is_some_and(|n| n.contains("is a software renderer")), "auto says why it proves on the CPU");
    } else {
        assert_eq!((name, auto.notice), (gpu.name(), None));
    }
}

#[test]
fn field_arithmetic_parses_and_defaults_to_u16() {
    assert_eq!("u16".parse::<GpuField>().unwrap(), GpuField::U16);
    assert_eq!("U64".parse::<GpuField>().unwrap(), GpuField::U64);
    assert!(GpuField::ALL.iter().all(|f| f.to_string().parse::<GpuField>().unwrap() == *f));
    let unknown = "u12".parse::<GpuField>().unwrap_err().to_string();
    assert_eq!(unknown, "unknown GPU field arithmetic \"u12\" (ZKINFER_GPU_FIELD): expected u16, u15, u14, u13 or u64");

    let Some(gpu) = gpu() else { return };
    if std::env::var_os("ZKINFER_GPU_FIELD").is_none() {
        assert_eq!(gpu.field(), GpuField::U16);
    }
    for gpu in gpus() {
        assert!(gpu.name().ends_with(&format!(", {})", gpu.field())), "{}", gpu.name());
    }
}
