//! The SRS importer against a real snarkjs file (fixtures/ptau, made by make.sh) and the
//! round trip of our own format. Malformed input must give errors: a panic in a loader of
//! untrusted files is a denial of service.

use ark_bn254::{Bn254, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use zkinfer_prover::srs::{Srs, SrsError};

const PTAU: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/ptau/test_power10.ptau"));
/// Another ceremony, of power 8, after snarkjs's `prepare phase2` (Lagrange sections 12..15).
const PREPARED: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/ptau/test_power8_final.ptau"));

/// Where the tauG1 section's data starts in the fixture: 12-byte file header, section 1
/// (12-byte section header + 44 bytes), then section 2's own 12-byte header.
const TAU_G1_AT: usize = 12 + 12 + 44 + 12;
/// The header section holds n8 (4 bytes), q (32), power (4), ceremonyPower (4).
const POWER_AT: usize = 12 + 12 + 36;
const CEREMONY_POWER_AT: usize = POWER_AT + 4;

fn no_panic<T>(what: &str, f: impl FnOnce() -> Result<T, SrsError>) -> Result<T, SrsError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("{what}: the loader panicked"))
}

fn pairing_eq(a: G1Affine, b: G2Affine, c: G1Affine, d: G2Affine) -> bool {
    Bn254::pairing(a, b) == Bn254::pairing(c, d)
}

#[test]
fn imports_the_snarkjs_fixture() {
    let srs = Srs::from_ptau(PTAU, 512, 512).unwrap();
    assert_eq!(srs.max_degree(), 512);
    assert_eq!(srs.g1().len(), 513);
    assert_eq!(srs.g1()[0], G1Affine::generator());
    assert_eq!(srs.g2(), G2Affine::generator());
    assert!(pairing_eq(srs.g1()[1], srs.g2(), srs.g1()[0], srs.s_g2()));
    assert!(pairing_eq(srs.g1()[512], srs.g2(), srs.g1()[511], srs.s_g2()));
    assert!(!srs.is_insecure());

    // The whole ceremony (2^10 points) is usable, and a prefix equals a smaller import.
    let full = Srs::from_ptau(PTAU, 1023, 1023).unwrap();
    assert_eq!(full.max_degree(), 1023);
    assert_eq!(full.truncate(512).unwrap(), srs);
    assert_eq!(Srs::from_ptau(PTAU, 0, 0).unwrap().g1(), &[G1Affine::generator()]);
}

#[test]
fn too_many_points_is_a_clear_error() {
    let err = Srs::from_ptau(PTAU, 1024, 1024).unwrap_err();
    assert!(matches!(err, SrsError::PtauTooSmall { power: 10, available: 1024, needed: 1025 }), "{err:?}");
    assert_eq!(err.to_string(), "ptau file has power 10 (1024 points) but the circuit needs 1025");

    let srs = Srs::from_ptau(PTAU, 16, 16).unwrap();
    let err = srs.truncate(17).unwrap_err();
    assert!(err.to_string().contains("17 points (max degree 16) but 18 are needed"), "{err}");
    assert_eq!(srs.truncate(16).unwrap(), srs);
}

#[test]
fn truncated_ptau_bytes_are_errors() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut cuts: Vec<usize> = (0..200).collect();
    cuts.extend((0..200).map(|_| rng.gen_range(0..PTAU.len())));
    for cut in cuts {
        let err = no_panic("truncation", || Srs::from_ptau(&PTAU[..cut], 64, 64)).unwrap_err();
        assert!(matches!(err, SrsError::Ptau(_)), "cut at {cut}: {err}");
    }
    let err = Srs::from_ptau(&PTAU[..PTAU.len() - 1], 64, 64).unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
}

#[test]
fn garbage_and_flipped_header_bytes_are_errors() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    for len in [0, 1, 11, 12, 100, 4096] {
        for _ in 0..20 {
            let mut junk = vec![0u8; len];
            rng.fill(&mut junk[..]);
            assert!(no_panic("garbage", || Srs::from_ptau(&junk, 8, 8)).is_err());
            // Garbage behind a valid magic and version reaches the section parser.
            if len >= 12 {
                junk[..8].copy_from_slice(&PTAU[..8]);
                assert!(no_panic("garbage after magic", || Srs::from_ptau(&junk, 8, 8)).is_err());
            }
        }
    }
    // Byte flips in the file, section and header framing and in the first points.
    for _ in 0..400 {
        let mut bytes = PTAU.to_vec();
        let at = rng.gen_range(0..TAU_G1_AT + 64 * 4);
        // ceremonyPower only has to be at least power, so raising it is harmless; every
        // other byte here is read and checked.
        if (CEREMONY_POWER_AT..CEREMONY_POWER_AT + 4).contains(&at) {
            continue;
        }
        bytes[at] ^= 1 << rng.gen_range(0..8);
        assert!(no_panic("flip", || Srs::from_ptau(&bytes, 64, 64)).is_err(), "flip at {at} accepted");
    }
}

#[test]
fn ptau_header_problems_are_named() {
    let msg = |bytes: &[u8]| Srs::from_ptau(bytes, 8, 8).unwrap_err().to_string();

    let mut b = PTAU.to_vec();
    b[0] = b'x';
    assert!(msg(&b).contains("magic"));

    let mut b = PTAU.to_vec();
    b[4] = 2;
    assert!(msg(&b).contains("version 2"));

    // The prime q sits after the 12-byte file header, a 12-byte section header and n8.
    let mut b = PTAU.to_vec();
    b[12 + 12 + 4] ^= 1;
    assert!(msg(&b).contains("not BN254"), "{}", msg(&b));

    // Power 5 in a file laid out for power 10: the sizes no longer agree.
    let mut b = PTAU.to_vec();
    b[POWER_AT] = 5;
    assert!(msg(&b).contains("tauG1 section is"), "{}", msg(&b));

    // Renumbering section 2 makes tauG1 missing.
    let mut b = PTAU.to_vec();
    b[TAU_G1_AT - 12] = 99;
    assert!(msg(&b).contains("section 2 (tauG1) is missing"), "{}", msg(&b));

    let mut b = PTAU.to_vec();
    b.push(0);
    assert!(msg(&b).contains("unexpected bytes"));
}

#[test]
fn corrupted_kept_g1_points_are_errors() {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for _ in 0..40 {
        let point = rng.gen_range(0..=64usize);
        let at = TAU_G1_AT + 64 * point + rng.gen_range(0..64);
        let mut bytes = PTAU.to_vec();
        bytes[at] ^= 1 << rng.gen_range(0..8);
        let err = Srs::from_ptau(&bytes, 64, 64).unwrap_err();
        assert!(matches!(err, SrsError::Ptau(_) | SrsError::Inconsistent(_)), "point {point}: {err}");
    }
    // A valid curve point in the wrong place passes decoding but not the pairing check:
    // swap [tau^5]_1 and [tau^6]_1.
    let mut bytes = PTAU.to_vec();
    let (a, b) = (TAU_G1_AT + 64 * 5, TAU_G1_AT + 64 * 6);
    let p5 = bytes[a..a + 64].to_vec();
    bytes.copy_within(b..b + 64, a);
    bytes[b..b + 64].copy_from_slice(&p5);
    let err = Srs::from_ptau(&bytes, 64, 64).unwrap_err();
    assert!(err.to_string().contains("pairing check failed"), "{err}");
    // Points beyond the kept range are not read, so the same swap further out is accepted.
    assert!(Srs::from_ptau(&bytes, 4, 4).is_ok());
}

#[test]
fn insecure_srs_round_trips() {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let srs = Srs::generate_insecure(100, &mut rng);
    assert!(srs.is_insecure());
    assert_eq!(srs.max_degree(), 100);
    assert_eq!(srs.g1()[0], G1Affine::generator());
    assert_eq!(srs.g2(), G2Affine::generator());
    for i in [0, 1, 57, 99] {
        assert!(pairing_eq(srs.g1()[i + 1], srs.g2(), srs.g1()[i], srs.s_g2()));
    }

    let bytes = srs.to_bytes();
    assert_eq!(bytes.len(), 8 + 4 + 1 + 4 + 101 * 64 + 2 * 128 + 1);
    let back = Srs::from_bytes(&bytes).unwrap();
    assert_eq!(back, srs);
    assert!(back.is_insecure());

    let imported = Srs::from_ptau(PTAU, 32, 32).unwrap();
    let back = Srs::from_bytes(&imported.to_bytes()).unwrap();
    assert!(!back.is_insecure());
    assert_eq!(back, imported);

    let small = srs.truncate(10).unwrap();
    assert!(small.is_insecure());
    assert_eq!(small.g1(), &srs.g1()[..11]);
    assert_eq!(small.s_g2(), srs.s_g2());
}

/// Loading an SRS file re-runs the consistency checks: a power or a Lagrange point swapped for
/// another point of the curve is refused, and a flipped insecure flag changes nothing a verifier
/// relies on, since the key's SRS is named by its [tau]_2.
#[test]
fn an_edited_srs_file_is_refused_and_its_flag_proves_nothing() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let srs = Srs::generate_insecure_for(4, 17, &mut rng);
    let bytes = srs.to_bytes();
    let g1 = |i: usize| 17 + 64 * i;
    let lagrange = |i: usize| g1(srs.g1().len()) + 2 * 128 + 1 + 4 + 64 * i;
    let other = |p: G1Affine| zkinfer_verifier::encoding::g1_to_bytes(&(p + G1Affine::generator()).into_affine());
    let msg = |b: &[u8]| Srs::from_bytes(b).unwrap_err().to_string();

    let mut b = bytes.clone();
    b[g1(5)..g1(6)].copy_from_slice(&other(srs.g1()[5]));
    assert!(msg(&b).contains("not successive powers"), "{}", msg(&b));
    let mut b = bytes.clone();
    b[lagrange(3)..lagrange(4)].copy_from_slice(&other(srs.lagrange(16).unwrap()[3]));
    assert!(msg(&b).contains("Lagrange basis for 16 rows does not match"), "{}", msg(&b));

    // The flag byte says "secure" now, and the file still loads: the flag is the file's word.
    let mut b = bytes.clone();
    b[12] = 0;
    let relabelled = Srs::from_bytes(&b).unwrap();
    assert!(!relabelled.is_insecure());
    let id = zkinfer_verifier::srs::srs_id(&relabelled.s_g2());
    assert_eq!(zkinfer_verifier::srs::describe(&id), "unknown or development SRS");
}

/// [L_i(tau)]_1 must satisfy sum_i L_i(tau) omega^(i j) = tau^j for every j < n, i.e. the
/// MSM of the Lagrange basis with a column's row values equals the commitment to its
/// coefficients. Checked for the dev SRS (computed from tau), for the G1 FFT of an imported
/// SRS, and through the file format.
#[test]
fn lagrange_bases_commit_to_row_values() {
    use ark_bn254::{Fr, G1Projective};
    use ark_ec::VariableBaseMSM;
    use ark_ff::UniformRand;
    use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let n = 64;
    let domain = Radix2EvaluationDomain::<Fr>::new(n).unwrap();
    let coeffs: Vec<Fr> = (0..n).map(|_| Fr::rand(&mut rng)).collect();
    let values = domain.fft(&coeffs);
    let agrees = |srs: &Srs| {
        let lagrange = srs.lagrange(n).expect("the SRS carries the Lagrange basis of its rows");
        G1Projective::msm_unchecked(lagrange, &values) == G1Projective::msm_unchecked(&srs.g1()[..n], &coeffs)
    };

    let dev = Srs::generate_insecure(n, &mut rng);
    assert!(agrees(&dev));
    assert!(Srs::generate_insecure(n + 1, &mut rng).lagrange(n).is_none());
    assert!(dev.truncate(n / 2).unwrap().lagrange(n / 2).is_none(), "a prefix's rows differ");
    let back = Srs::from_bytes(&dev.to_bytes()).unwrap();
    assert_eq!(back, dev);
    assert!(agrees(&back));

    let imported = Srs::from_ptau(PTAU, 512, 512).unwrap();
    assert!(imported.lagrange(512).is_none());
    let sized = imported.for_circuit(6, n + 1).unwrap();
    assert_eq!(sized.max_degree(), n);
    assert!(agrees(&sized));
    assert_eq!(Srs::from_bytes(&sized.to_bytes()).unwrap(), sized);

    // A prepared ptau file carries the basis for every power of two; the import takes it
    // (checked against the powers) instead of computing it.
    for k in [5, 7] {
        let prepared = Srs::from_ptau(PREPARED, 1 << k, 1 << k).unwrap();
        let lagrange = prepared.lagrange(1 << k).expect("a prepared file gives the basis");
        assert_eq!(lagrange, Srs::from_ptau(PREPARED, 1 << k, 1 << k).unwrap().for_circuit(k, (1 << k) + 1).unwrap().lagrange(1 << k).unwrap());
        let mut computed = Srs::from_ptau(PREPARED, (1 << k) + 1, (1 << k) + 1).unwrap().truncate(1 << k).unwrap();
        assert!(computed.lagrange(1 << k).is_none());
        computed = computed.for_circuit(k, (1 << k) + 1).unwrap();
        assert_eq!(computed, prepared, "the file's basis is the one a G1 FFT gives");
    }
    assert!(Srs::from_ptau(PREPARED, 100, 100).unwrap().lagrange(100).is_none());
    assert!(Srs::from_ptau(PTAU, 64, 64).unwrap().lagrange(64).is_none(), "an unprepared file has none");

    // A basis of more rows than powers, or of rows that are not a power of two, is a framing
    // error; a basis of fewer rows than the powers is the packed circuits' case.
    for rows in [3u32, 16] {
        let mut odd = Srs::generate_insecure(9, &mut rng).to_bytes();
        *odd.last_mut().unwrap() = 1;
        odd.extend_from_slice(&rows.to_be_bytes());
        assert!(Srs::from_bytes(&odd).unwrap_err().to_string().contains("rows must be a power of two below the powers"), "{rows}");
    }
    let packed = dev.truncate(n).unwrap().for_circuit(5, 4 * 32).unwrap_err();
    assert!(packed.to_string().contains("128"), "{packed}");
    let larger = Srs::generate_insecure(4 * n, &mut rng);
    let packed = larger.for_circuit(6, 2 * n + 1).unwrap();
    assert_eq!((packed.max_degree(), packed.lagrange(n).map(<[_]>::len)), (2 * n, Some(n)));
    assert_eq!(Srs::from_bytes(&packed.to_bytes()).unwrap(), packed);
}

#[test]
fn from_bytes_rejects_bad_framing() {
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let bytes = Srs::generate_insecure(8, &mut rng).to_bytes();
    let msg = |b: &[u8]| Srs::from_bytes(b).unwrap_err().to_string();

    let mut b = bytes.clone();
    b[0] ^= 1;
    assert!(msg(&b).contains("magic"), "{}", msg(&b));

    let mut b = bytes.clone();
    b[11] = 1;
    assert!(msg(&b).contains("version 1"), "{}", msg(&b));

    let mut b = bytes.clone();
    b[12] = 7;
    assert!(msg(&b).contains("insecure flag"), "{}", msg(&b));

    let mut b = bytes.clone();
    b.push(0);
    assert!(msg(&b).contains("trailing"), "{}", msg(&b));

    // A point count larger than the data is a truncation, not a huge allocation.
    let mut b = bytes.clone();
    b[13..17].copy_from_slice(&1_000_000u32.to_be_bytes());
    assert!(msg(&b).contains("truncated"), "{}", msg(&b));

    // A G1 coordinate changed: off the curve, reported with its file offset.
    let mut b = bytes.clone();
    b[17 + 64 * 3 + 63] ^= 1;
    assert!(msg(&b).contains(&format!("offset {}", 17 + 64 * 3)), "{}", msg(&b));

    for cut in 0..bytes.len() {
        assert!(no_panic("cut", || Srs::from_bytes(&bytes[..cut])).is_err(), "cut at {cut}");
    }

    // Another base point for g1[0] decodes fine but our verifier would not accept it.
    let mut b = bytes.clone();
    let other = (G1Affine::generator() * ark_bn254::Fr::from(2u64)).into_affine();
    b[17..17 + 64].copy_from_slice(&zkinfer_verifier::encoding::g1_to_bytes(&other));
    assert!(msg(&b).contains("standard G1 generator"), "{}", msg(&b));
}

#[test]
fn generates_2_16_points_quickly() {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let t = std::time::Instant::now();
    let srs = Srs::generate_insecure((1 << 16) - 1, &mut rng);
    let elapsed = t.elapsed();
    eprintln!("generate_insecure(2^16 points): {elapsed:?}");
    assert_eq!(srs.g1().len(), 1 << 16);
    assert!(pairing_eq(srs.g1()[1 << 15], srs.g2(), srs.g1()[(1 << 15) - 1], srs.s_g2()));

    let bytes = srs.to_bytes();
    let t = std::time::Instant::now();
    let back = Srs::from_bytes(&bytes).unwrap();
    eprintln!("from_bytes(2^16 points): {:?}", t.elapsed());
    assert_eq!(back, srs);
}

/// Timings at the size of a large circuit: `cargo test --release -p zkinfer-prover --test srs
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn large_srs_timings() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let t = std::time::Instant::now();
    let srs = Srs::generate_insecure((1 << 20) - 1, &mut rng);
    eprintln!("generate_insecure(2^20 points): {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let bytes = srs.to_bytes();
    eprintln!("to_bytes(2^20 points): {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let back = Srs::from_bytes(&bytes).unwrap();
    eprintln!("from_bytes(2^20 points): {:?}", t.elapsed());
    assert_eq!(back, srs);
}

mod common;

/// The imported ceremony is a working SRS, not just a well-formed one: a circuit of 2^9 rows
/// (512 + 1 points of the 1024) is keyed, proved and verified under it.
#[test]
fn proofs_verify_under_the_snarkjs_srs() {
    use common::{Cheat, TestCircuit};
    use zkinfer_prover::{keygen, prove, Cpu, ProveOptions};
    use zkinfer_verifier::{verify, VerifyingKey};

    let srs = Srs::from_ptau(PTAU, 1023, 1023).unwrap();
    let circuit = TestCircuit::new(400, Cheat::None, 9);
    let pk = keygen(&srs, &circuit.shape(), None, 1, &Cpu).unwrap();
    assert_eq!(pk.vk.description().k, 9);
    let vk = VerifyingKey::from_bytes(&pk.vk.to_bytes()).unwrap();
    assert!(!vk.insecure_srs());
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let proof = prove(&pk, &circuit, &circuit.instances(), &Cpu, &mut rng, ProveOptions::default()).unwrap();
    verify(&vk, &circuit.instances(), &proof).unwrap();

    // The proof is bound to the ceremony's tau: the same circuit keyed under another SRS
    // rejects it.
    let other = keygen(&Srs::generate_insecure(1023, &mut rng), &circuit.shape(), None, 1, &Cpu).unwrap();
    assert!(matches!(verify(&other.vk, &circuit.instances(), &proof), Err(zkinfer_verifier::Error::Rejected(_))));

    // 2^10 rows need degree 1024, one more than the ceremony holds.
    let Err(err) = keygen(&srs, &circuit.shape(), Some(10), 1, &Cpu) else { panic!("2^10 rows keyed under 1024 points") };
    assert!(err.to_string().contains("degree 1023, a circuit of 2^10 rows packed by 1 needs degree 1024"), "{err}");

    // Packed commitments need more powers: 2^7 rows packed by 4 fit in the ceremony's 1024.
    let small = TestCircuit::new(100, Cheat::None, 9);
    let pk = keygen(&srs, &small.shape(), None, 4, &Cpu).unwrap();
    assert_eq!((pk.vk.description().k, pk.vk.layout().srs_powers()), (7, 512));
    let proof = prove(&pk, &small, &small.instances(), &Cpu, &mut rng, ProveOptions::default()).unwrap();
    verify(&VerifyingKey::from_bytes(&pk.vk.to_bytes()).unwrap(), &small.instances(), &proof).unwrap();
    let Err(err) = keygen(&srs, &circuit.shape(), None, 4, &Cpu) else { panic!("2^9 rows packed by 4 keyed under 1024 points") };
    assert!(err.to_string().contains("packed by 4 needs degree 2047"), "{err}");
}

/// Where section 12 (the Lagrange bases) starts in the prepared fixture, found by walking the
/// section headers.
fn lagrange_section_at(bytes: &[u8]) -> usize {
    let mut at = 12;
    loop {
        let id = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u64::from_le_bytes(bytes[at + 4..at + 12].try_into().unwrap()) as usize;
        if id == 12 {
            return at + 12;
        }
        at += 12 + len;
    }
}

#[test]
fn a_bad_lagrange_section_is_an_error() {
    let start = lagrange_section_at(PREPARED);
    // The basis of 2^4 rows starts at point 2^4 - 1.
    let point = |i: usize| start + (15 + i) * 64;
    let mut off_curve = PREPARED.to_vec();
    off_curve[point(3) + 5] ^= 1;
    let err = no_panic("off-curve Lagrange point", || Srs::from_ptau(&off_curve, 16, 16)).unwrap_err();
    assert!(err.to_string().contains("Lagrange point 3 of 16 rows"), "{err}");

    let mut swapped = PREPARED.to_vec();
    let (a, b) = (point(2), point(9));
    let tmp: Vec<u8> = swapped[a..a + 64].to_vec();
    swapped.copy_within(b..b + 64, a);
    swapped[b..b + 64].copy_from_slice(&tmp);
    let err = no_panic("swapped Lagrange points", || Srs::from_ptau(&swapped, 16, 16)).unwrap_err();
    assert!(err.to_string().contains("Lagrange basis for 16 rows does not match its powers of tau"), "{err}");
    // Other sizes do not read the damaged points.
    assert!(Srs::from_ptau(&swapped, 32, 32).is_ok());
}
