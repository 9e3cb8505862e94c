//! Soundness of the proof system as a whole: a prover that cheats on a gate, a copy, a lookup
//! or the public inputs is refused by the honest prover and, when it skips that check, its
//! proof is rejected; an honest proof is rejected against other public inputs, another key,
//! and after any change to its bytes; the key's bytes are bound too. Every refusal is an
//! error, never a panic. Last, the proofs are blinded: two proofs of one statement differ and
//! none contains the secret witness.

mod common;

use ark_bn254::{Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::UniformRand;
use common::{Cheat, TestCircuit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use zkinfer_circuits::Failure;
use zkinfer_prover::{keygen, prove, Cpu, ProveOptions, ProvingKey, Srs};
use zkinfer_verifier::encoding::fr_to_bytes;
use zkinfer_verifier::{verify, Column, ColumnKind, Error, Expression, Proof, Query, VerifyingKey};

/// 20 rows give k = 5: big enough for every constraint kind, small enough to verify in a
/// few milliseconds.
const ROWS: usize = 20;
const CHEATING: ProveOptions = ProveOptions { check_witness: false };

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn srs() -> &'static Srs {
    static SRS: OnceLock<Srs> = OnceLock::new();
    SRS.get_or_init(|| Srs::generate_insecure(1 << 8, &mut rng(100)))
}

/// The packings the tests run under: none, and one that packs every round (docs/protocol.md
/// §3.7), so that cheating provers and tampered openings meet packed commitments too.
const PACKS: [usize; 2] = [1, 4];

/// The circuit, its key and one honest proof, shared by the tests.
struct Honest {
    circuit: TestCircuit,
    pk: ProvingKey,
    proof: Vec<u8>,
}

/// Unpacked.
fn honest() -> &'static Honest {
    honest_packed(1)
}

fn honest_packed(pack: usize) -> &'static Honest {
    static HONEST: [OnceLock<Honest>; PACKS.len()] = [OnceLock::new(), OnceLock::new()];
    let slot = PACKS.iter().position(|&p| p == pack).expect("one of PACKS");
    HONEST[slot].get_or_init(|| {
        let circuit = TestCircuit::new(ROWS, Cheat::None, 1);
        let pk = keygen(srs(), &circuit.shape(), None, pack, &Cpu).unwrap();
        assert_eq!(pk.vk.description().k, 5);
        let proof = prove(&pk, &circuit, &circuit.instances(), &Cpu, &mut rng(1), ProveOptions::default()).unwrap();
        verify(&pk.vk, &circuit.instances(), &proof).unwrap();
        Honest { circuit, pk, proof }
    })
}

/// Runs `f`; a panic fails the test and names `what` (the input that caused it).
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("{what}: panicked instead of returning an error"))
}

/// Verifies without panicking and returns the error; acceptance fails the test.
fn refusal(vk: &VerifyingKey, instances: &[Vec<Fr>], proof: &[u8], what: &str) -> Error {
    match no_panic(what, || verify(vk, instances, proof)) {
        Ok(()) => panic!("{what}: accepted"),
        Err(e) => e,
    }
}

fn assert_rejected(vk: &VerifyingKey, instances: &[Vec<Fr>], proof: &[u8], what: &str) {
    let err = refusal(vk, instances, proof, what);
    assert!(matches!(err, Error::Rejected(_)), "{what}: expected a rejection, got {err:?}");
}

fn parse(vk: &VerifyingKey, proof: &[u8]) -> Proof {
    Proof::from_bytes(proof, vk.layout()).unwrap()
}

/// Every G1 point of a proof, in encoding order.
fn points(p: &mut Proof) -> Vec<&mut G1Affine> {
    p.commitments.iter_mut().chain(&mut p.quotient).chain([&mut p.w, &mut p.w_prime]).collect()
}

#[test]
fn cheating_provers_are_refused_and_their_proofs_rejected() {
    for pack in PACKS {
        cheating_provers_are_refused(pack);
    }
}

fn cheating_provers_are_refused(pack: usize) {
    let h = honest_packed(pack);
    let cases = [
        (Cheat::Gate, Failure::Gate { gate: "mul".into(), poly: 0, row: 10 }),
        (Cheat::Copy, Failure::Copy { left: "advice[0] row 7".into(), right: "advice[4] row 6".into() }),
        (Cheat::Lookup, Failure::Lookup { lookup: "a in range".into(), row: 10 }),
    ];
    for (cheat, failure) in cases {
        let circuit = TestCircuit::new(ROWS, cheat, 1);
        let instances = circuit.instances();
        let err = prove(&h.pk, &circuit, &instances, &Cpu, &mut rng(2), ProveOptions::default()).unwrap_err();
        match &err {
            zkinfer_prover::Error::Unsatisfied(failures) => assert_eq!(failures, std::slice::from_ref(&failure), "{cheat:?}"),
            other => panic!("{cheat:?}: expected Unsatisfied, got {other:?}"),
        }
        assert!(err.to_string().contains(&failure.to_string()), "{cheat:?}: {err}");

        let proof = prove(&h.pk, &circuit, &instances, &Cpu, &mut rng(2), CHEATING).unwrap();
        assert_eq!(proof.len(), h.proof.len(), "{cheat:?}: a cheating proof is still well formed");
        assert_rejected(&h.pk.vk, &instances, &proof, &format!("{cheat:?} proof, packed by {pack}"));
    }
}

#[test]
fn a_proof_of_a_false_claim_about_the_public_inputs_is_rejected() {
    for pack in PACKS {
        a_false_claim_is_rejected(pack);
    }
}

fn a_false_claim_is_rejected(pack: usize) {
    let h = honest_packed(pack);
    let truth = h.circuit.instances();
    // The claimed output d_last + 1, then the claimed a_0 + 1.
    for (i, cell) in [(0, "advice[3] row 19"), (1, "advice[0] row 0")] {
        let mut claim = truth.clone();
        claim[0][i] += Fr::from(1u64);
        let err = prove(&h.pk, &h.circuit, &claim, &Cpu, &mut rng(3), ProveOptions::default()).unwrap_err();
        let expected = Failure::PublicInput { cell: cell.into(), instance: format!("instance[0] row {i}") };
        assert!(matches!(&err, zkinfer_prover::Error::Unsatisfied(f) if f == std::slice::from_ref(&expected)), "claim {i}: {err:?}");

        let proof = prove(&h.pk, &h.circuit, &claim, &Cpu, &mut rng(3), CHEATING).unwrap();
        assert_rejected(&h.pk.vk, &claim, &proof, &format!("false claim on public input {i}, packed by {pack}"));
        assert_rejected(&h.pk.vk, &truth, &proof, &format!("false-claim proof against the true inputs ({i})"));
    }
}

#[test]
fn an_honest_proof_does_not_verify_other_public_inputs() {
    let h = honest();
    let (vk, proof) = (&h.pk.vk, &h.proof);
    let truth = h.circuit.instances();
    verify(vk, &truth, proof).unwrap();

    for i in 0..truth[0].len() {
        let mut changed = truth.clone();
        changed[0][i] += Fr::from(1u64);
        assert_rejected(vk, &changed, proof, &format!("public input {i} changed"));
    }
    // The key fixes how many public values there are: a value appended (which no constraint
    // would read) or one removed is refused before any check.
    let count = |instances: &[Vec<Fr>], what: &str| {
        let err = refusal(vk, instances, proof, what);
        assert!(matches!(&err, Error::PublicInputs(m) if m.contains("the verifying key fixes 2")), "{what}: {err:?}");
    };
    for extra in [0u64, 5] {
        let mut longer = truth.clone();
        longer[0].push(Fr::from(extra));
        count(&longer, &format!("public input {extra} appended"));
    }
    let mut shorter = truth.clone();
    shorter[0].pop();
    count(&shorter, "last public input removed");
    count(&[vec![]], "all public inputs removed");

    for columns in [vec![], vec![truth[0].clone(), truth[0].clone()]] {
        let err = refusal(vk, &columns, proof, "wrong number of instance columns");
        assert!(matches!(&err, Error::PublicInputs(m) if m.contains(&format!("{} instance columns given", columns.len()))), "{err:?}");
    }
}

#[test]
fn flipping_any_byte_of_a_proof_is_an_error() {
    let h = honest();
    let (vk, instances, proof) = (&h.pk.vk, h.circuit.instances(), &h.proof);
    // Every 7th byte with a bit that walks through the byte, then the lowest byte of each
    // 32-byte word: a low-order change keeps a field element canonical, so evaluations
    // reach the full check instead of the decoder's range check.
    let mut flips: Vec<(usize, u8)> = (0..proof.len()).step_by(7).map(|i| (i, 1 << (i % 8))).collect();
    flips.extend((4 + 31..proof.len()).step_by(32).map(|i| (i, 1)));
    let (mut malformed, mut rejected) = (0, 0);
    for (at, mask) in flips {
        let mut bytes = proof.clone();
        bytes[at] ^= mask;
        match refusal(vk, &instances, &bytes, &format!("proof byte {at} ^= {mask:#04x}")) {
            Error::Malformed(_) => malformed += 1,
            Error::Rejected(_) => rejected += 1,
            e => panic!("byte {at}: unexpected error {e:?}"),
        }
    }
    // Both kinds of refusal were exercised: points off the curve and wrong evaluations.
    assert!(malformed > 0 && rejected > 0, "malformed {malformed}, rejected {rejected}");
}

#[test]
fn a_proof_of_another_format_version_is_named_as_such() {
    let h = honest();
    let (vk, instances) = (&h.pk.vk, h.circuit.instances());
    // Version 2, before packed commitments, had the same length for an unpacked key.
    let mut old = h.proof.clone();
    old[3] = 2;
    let err = refusal(vk, &instances, &old, "a version 2 proof");
    assert!(matches!(&err, Error::Malformed(m) if m.contains("proof format version 2; this verifier reads version 3")), "{err:?}");
    let mut other = h.proof.clone();
    other[0] = b'X';
    let err = refusal(vk, &instances, &other, "bad magic");
    assert!(matches!(&err, Error::Malformed(m) if m.contains("not a zkinfer proof")), "{err:?}");
}

#[test]
fn rearranged_or_replaced_proof_parts_are_rejected() {
    for pack in PACKS {
        rearranged_or_replaced_parts(pack);
    }
}

fn rearranged_or_replaced_parts(pack: usize) {
    let h = honest_packed(pack);
    let (vk, instances) = (&h.pk.vk, h.circuit.instances());
    let proof = parse(vk, &h.proof);
    let check = |p: &Proof, what: &str| assert_rejected(vk, &instances, &p.to_bytes(), &format!("{what}, packed by {pack}"));

    let mut p = proof.clone();
    p.commitments.swap(0, 1);
    check(&p, "witness commitments 0 and 1 swapped");
    let mut p = proof.clone();
    p.evals.swap(0, 1);
    check(&p, "evaluations 0 and 1 swapped");
    if p.quotient.len() > 1 {
        let mut p = proof.clone();
        p.quotient.swap(0, 1);
        check(&p, "quotient pieces 0 and 1 swapped");
    }
    let mut p = proof.clone();
    std::mem::swap(&mut p.w, &mut p.w_prime);
    check(&p, "opening witnesses W and W' swapped");

    // Each point replaced by the generator and by the identity, each evaluation moved by one.
    let count = points(&mut proof.clone()).len();
    for i in 0..count {
        for (name, replacement) in [("generator", G1Affine::generator()), ("identity", G1Affine::zero())] {
            let mut p = proof.clone();
            *points(&mut p)[i] = replacement;
            check(&p, &format!("point {i} replaced by the {name}"));
        }
    }
    for i in 0..proof.evals.len() {
        let mut p = proof.clone();
        p.evals[i] += Fr::from(1u64);
        check(&p, &format!("evaluation {i} plus one"));
    }
}

/// The multi-point opening binds each evaluation to its polynomial and its point: a changed
/// value at any rotation of any point set, two values of one polynomial swapped between its
/// points, values swapped between two polynomials of a set, and a changed `W` or `W'` are all
/// rejected.
#[test]
fn the_opening_rejects_wrong_evaluations_and_witnesses() {
    for pack in PACKS {
        the_opening_rejects(pack);
    }
}

fn the_opening_rejects(pack: usize) {
    let h = honest_packed(pack);
    let (vk, instances) = (&h.pk.vk, h.circuit.instances());
    let layout = vk.layout();
    let proof = parse(vk, &h.proof);
    let check = |p: &Proof, what: &str| assert_rejected(vk, &instances, &p.to_bytes(), &format!("{what}, packed by {pack}"));
    // Unpacked: sets of one rotation (most columns), two (advice d at -1 and 0; the last grand
    // product and the running sums) and three (the first grand product, also at the last
    // usable row), as docs/protocol.md §12 lists them. Packed, the sets have t > 1.
    let last = layout.usable_rows as i32;
    let sets: Vec<(usize, &[i32])> = layout.point_sets.iter().map(|s| (s.t, s.rotations.as_slice())).collect();
    if pack == 1 {
        assert_eq!(sets, [(1, &[0][..]), (1, &[-1, 0]), (1, &[0, 1, last]), (1, &[0, 1])]);
    } else {
        assert!(sets.iter().filter(|(t, _)| *t > 1).count() >= 2, "{sets:?}");
    }

    for set in &layout.point_sets {
        let polys: Vec<_> = set.commitments.iter().flat_map(|&c| layout.commitments[c].polys.iter().copied()).collect();
        for &poly in &polys {
            let index = |rotation: i32| layout.opening_index(poly, rotation);
            for &rotation in &set.rotations {
                let mut p = proof.clone();
                p.evals[index(rotation)] -= Fr::from(2u64);
                check(&p, &format!("{poly:?} at rotation {rotation} minus two"));
            }
            for (a, b) in set.rotations.iter().zip(&set.rotations[1..]) {
                let mut p = proof.clone();
                p.evals.swap(index(*a), index(*b));
                check(&p, &format!("{poly:?}: values at rotations {a} and {b} swapped"));
            }
        }
        if let [first, second, ..] = polys[..] {
            let mut p = proof.clone();
            p.evals.swap(layout.opening_index(first, set.rotations[0]), layout.opening_index(second, set.rotations[0]));
            check(&p, &format!("{first:?} and {second:?} swapped at rotation {}", set.rotations[0]));
        }
    }

    let (g, w, w_prime) = (G1Affine::generator(), proof.w, proof.w_prime);
    for (what, w, w_prime) in [
        ("W + G", (w + g).into_affine(), w_prime),
        ("W' + G", w, (w_prime + g).into_affine()),
        ("W' doubled", w, (w_prime + w_prime).into_affine()),
        ("W' = W", w, w),
        ("W and W' negated", -w, -w_prime),
    ] {
        check(&Proof { w, w_prime, ..proof.clone() }, what);
    }
}

#[test]
fn a_proof_does_not_verify_under_another_key() {
    let h = honest();
    let (instances, proof) = (h.circuit.instances(), &h.proof);

    // More rows need a larger k. The proof's length does not depend on k, so it decodes and
    // the check itself must fail.
    let bigger = keygen(srs(), &TestCircuit::new(40, Cheat::None, 1).shape(), None, 1, &Cpu).unwrap();
    assert_eq!(bigger.vk.description().k, 6);
    assert_rejected(&bigger.vk, &instances, proof, "key of a circuit with k = 6");

    // One row fewer at the same k: the same description, only the selectors differ.
    let fewer = keygen(srs(), &TestCircuit::new(ROWS - 1, Cheat::None, 1).shape(), None, 1, &Cpu).unwrap();
    assert_eq!(fewer.vk.description(), h.pk.vk.description());
    assert_ne!(fewer.vk.key_commitments(), h.pk.vk.key_commitments());
    assert_rejected(&fewer.vk, &instances, proof, "key of a circuit with one row fewer");

    // The same circuit under another SRS.
    let other_srs = Srs::generate_insecure(1 << 7, &mut rng(101));
    let other = keygen(&other_srs, &h.circuit.shape(), None, 1, &Cpu).unwrap();
    assert_rejected(&other.vk, &instances, proof, "key made from another SRS");
}

#[test]
fn a_key_with_a_flipped_byte_fails_to_parse_or_rejects() {
    let h = honest();
    let (instances, proof) = (h.circuit.instances(), &h.proof);
    let vk = &h.pk.vk;
    let bytes = vk.to_bytes();
    let commitments_at = bytes.len() - 2 * 128 - 64 * vk.key_commitments().len();
    // Outcomes per region: (malformed key, key parsed but proof refused).
    let mut outcomes = [(0, 0); 3];
    for at in 0..bytes.len() {
        let mut b = bytes.clone();
        b[at] ^= 1 << (at % 8);
        let what = format!("key byte {at} ^= {:#04x}", 1 << (at % 8));
        let region = if at < commitments_at {
            0
        } else if at < bytes.len() - 256 {
            1
        } else {
            2
        };
        match no_panic(&what, || VerifyingKey::from_bytes(&b)) {
            Err(Error::Malformed(_)) => outcomes[region].0 += 1,
            Err(e) => panic!("{what}: unexpected error {e:?}"),
            Ok(flipped) => {
                refusal(&flipped, &instances, proof, &what);
                outcomes[region].1 += 1;
            }
        }
    }
    let [description, commitments, g2] = outcomes;
    // Names, constants and the SRS flag still parse; column counts and tags do not.
    assert!(description.0 > 0 && description.1 > 0, "description region: {description:?}");
    assert!(commitments.0 > 0, "commitment region: {commitments:?}");
    assert!(g2.0 > 0, "G2 region: {g2:?}");
}

/// A random change of `bytes`: a few bytes overwritten, a cut, an extension, a valid prefix
/// with garbage after it, or garbage of any length.
fn mutate(bytes: &[u8], rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    match rng.gen_range(0..5) {
        0 => {
            for _ in 0..rng.gen_range(1..=4) {
                let at = rng.gen_range(0..out.len());
                out[at] = rng.gen();
            }
        }
        1 => out.truncate(rng.gen_range(0..bytes.len())),
        2 => out.extend((0..rng.gen_range(1..=96)).map(|_| rng.gen::<u8>())),
        3 => {
            let cut = rng.gen_range(0..bytes.len());
            rng.fill(&mut out[cut..]);
        }
        _ => {
            out = vec![0; rng.gen_range(0..2 * bytes.len())];
            rng.fill(&mut out[..]);
        }
    }
    out
}

const FUZZ_SEED: u64 = 0x5eed;

#[test]
fn random_mutations_of_proof_bytes_are_errors() {
    for pack in PACKS {
        random_mutations_of_proof_bytes(pack);
    }
}

fn random_mutations_of_proof_bytes(pack: usize) {
    let h = honest_packed(pack);
    let (vk, instances) = (&h.pk.vk, h.circuit.instances());
    let mut rng = rng(FUZZ_SEED);
    let (mut malformed, mut rejected) = (0, 0);
    for i in 0..2000 {
        let bytes = mutate(&h.proof, &mut rng);
        if bytes == h.proof {
            continue;
        }
        match refusal(vk, &instances, &bytes, &format!("seed {FUZZ_SEED:#x}, proof mutation {i}")) {
            Error::Malformed(_) => malformed += 1,
            Error::Rejected(_) => rejected += 1,
            e => panic!("seed {FUZZ_SEED:#x}, proof mutation {i}: unexpected error {e:?}"),
        }
    }
    // Some mutations got past the decoder to the check itself.
    assert!(malformed > 0 && rejected > 0, "malformed {malformed}, rejected {rejected}");
    // Structured mutations that always decode: a random valid point or a random field element
    // in a random place. They reach the transcript and the pairing check.
    let proof = parse(vk, &h.proof);
    for i in 0..300 {
        let mut p = proof.clone();
        if rng.gen() {
            let mut all = points(&mut p);
            let k = rng.gen_range(0..all.len());
            *all[k] = (G1Affine::generator() * Fr::rand(&mut rng)).into_affine();
        } else {
            let k = rng.gen_range(0..p.evals.len());
            p.evals[k] = Fr::rand(&mut rng);
        }
        assert_rejected(vk, &instances, &p.to_bytes(), &format!("seed {FUZZ_SEED:#x}, structured mutation {i}"));
    }
}

#[test]
fn random_mutations_of_key_bytes_are_errors() {
    let h = honest();
    let (vk, instances, proof) = (&h.pk.vk, h.circuit.instances(), &h.proof);
    let bytes = vk.to_bytes();
    let seed = FUZZ_SEED + 1;
    let mut rng = rng(seed);
    let refuse = |b: &[u8], what: &str| -> bool {
        match no_panic(what, || VerifyingKey::from_bytes(b)) {
            Ok(mutated) => {
                refusal(&mutated, &instances, proof, what);
                true
            }
            Err(_) => false,
        }
    };
    for i in 0..2000 {
        let b = mutate(&bytes, &mut rng);
        if b != bytes {
            refuse(&b, &format!("seed {seed:#x}, key mutation {i}"));
        }
    }
    // Structured changes that mostly still decode, so that the proof meets the check under
    // the changed key: commitments, the G2 point, the SRS flag, k, the permutation order, the
    // statement's scale, and a cell that a gate reads.
    let random_g1 = |rng: &mut ChaCha20Rng| (G1Affine::generator() * Fr::rand(rng)).into_affine();
    let mut decoded = 0;
    for i in 0..300 {
        let mut d = vk.description().clone();
        let (mut keys, mut s_g2, mut insecure, mut pack) = (vk.key_commitments().to_vec(), vk.s_g2(), vk.insecure_srs(), vk.pack());
        let mut statement = vk.statement().clone();
        let (num_keys, num_sigma) = (keys.len(), d.permutation.len());
        match rng.gen_range(0..9) {
            0 => keys[rng.gen_range(0..num_keys)] = random_g1(&mut rng),
            1 => pack = 1 << rng.gen_range(1..4),
            2 => s_g2 = (G2Affine::generator() * Fr::rand(&mut rng)).into_affine(),
            3 => insecure = !insecure,
            4 => keys.swap(rng.gen_range(0..num_keys), rng.gen_range(0..num_keys)),
            5 => d.permutation.swap(rng.gen_range(0..num_sigma), rng.gen_range(0..num_sigma)),
            6 => d.k = rng.gen_range(4..=12),
            7 => statement.tensors[0].scale_bits += 1,
            _ => {
                let g = rng.gen_range(0..d.gates.len());
                let poly = rng.gen_range(0..d.gates[g].polys.len());
                let (kind, count) = [(ColumnKind::Fixed, d.num_fixed), (ColumnKind::Advice, d.num_advice), (ColumnKind::Instance, d.num_instance)][rng.gen_range(0..3)];
                let query = Query { column: Column { kind, index: rng.gen_range(0..count) }, rotation: rng.gen_range(-2..=2) };
                *first_cell(&mut d.gates[g].polys[poly]).unwrap() = query;
            }
        }
        // A description the protocol cannot run is refused already here, as by from_bytes.
        let Ok(changed) = VerifyingKey::new(d, statement, insecure, pack, keys, vk.g2(), s_g2) else { continue };
        let b = changed.to_bytes();
        if b != bytes && refuse(&b, &format!("seed {seed:#x}, structured key mutation {i}")) {
            decoded += 1;
        }
    }
    assert!(decoded > 100, "only {decoded} structured mutations decoded");
}

/// The leftmost cell an expression reads.
fn first_cell(e: &mut Expression) -> Option<&mut Query> {
    match e {
        Expression::Constant(_) => None,
        Expression::Cell(q) => Some(q),
        Expression::Neg(a) | Expression::Scaled(a, _) => first_cell(a),
        Expression::Sum(a, b) | Expression::Product(a, b) => first_cell(a).or_else(|| first_cell(b)),
    }
}

#[test]
fn proofs_are_randomized_and_hide_the_secret_column() {
    for pack in PACKS {
        proofs_are_randomized(pack);
    }
}

fn proofs_are_randomized(pack: usize) {
    let h = honest_packed(pack);
    let (vk, instances) = (&h.pk.vk, h.circuit.instances());
    let again = prove(&h.pk, &h.circuit, &instances, &Cpu, &mut rng(2), ProveOptions::default()).unwrap();
    verify(vk, &instances, &again).unwrap();
    assert_ne!(again, h.proof);
    // Every committed column is blinded, so no commitment repeats across proofs of the same
    // witness: without blinding, an advice commitment would be a function of the witness.
    let (mut a, mut b) = (parse(vk, &h.proof), parse(vk, &again));
    for (i, (p, q)) in points(&mut a).into_iter().zip(points(&mut b)).enumerate() {
        assert_ne!(p, q, "point {i} is the same in both proofs");
    }

    // A value is searched for at every byte offset, in both byte orders. The search finds
    // what the proof does carry, such as an evaluation.
    let contains = |proof: &[u8], value: &Fr| {
        let be = fr_to_bytes(value);
        let le: Vec<u8> = be.iter().rev().copied().collect();
        proof.windows(32).any(|window| *window == be || *window == le[..])
    };
    assert!(contains(&h.proof, &a.evals[0]));
    let w = h.circuit.witness.as_ref().unwrap();
    for (row, s) in w.s.iter().enumerate() {
        for (name, secret) in [("s", *s), ("t", *s * s)] {
            for proof in [&h.proof, &again] {
                assert!(!contains(proof, &secret), "the secret {name} of row {row} appears in a proof");
            }
        }
    }
}
