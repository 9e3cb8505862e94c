//! The proof vectors in `fixtures/proofs/`, shared by the native, WebAssembly and Solidity
//! verifiers: `cases.json` lists each proof file with the verdict every verifier must give for
//! it under `vk.bin`, read by the verifier crate's one proof-file reader. A protocol change that
//! invalidates them fails `committed_vectors_*`; then rewrite them with `cargo test --release --test vectors -- --ignored regenerate`.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};
use zkinfer_prover::{keygen, prove, Cpu, ProveOptions, Srs};
use zkinfer_test_support::{Cheat, TestCircuit};
use zkinfer_verifier::{verify_file, ProofFile, VerifyingKey};

#[derive(Serialize, Deserialize)]
struct Manifest {
    vk: String,
    cases: Vec<Case>,
}

#[derive(Serialize, Deserialize)]
struct Case {
    file: String,
    verdict: Verdict,
    why: String,
    /// The proof and its public values are valid; only the file around them is wrong, so a
    /// verifier that sees no file (the Solidity contract) accepts them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    file_only: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Verified,
    Rejected,
    Malformed,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/proofs")
}

/// What every front end does with a proof file: the verifier crate's reader, then its
/// verification.
fn verdict(vk: &VerifyingKey, text: &[u8]) -> (Verdict, String) {
    match ProofFile::parse(text).and_then(|file| verify_file(vk, &file)) {
        Ok(_) => (Verdict::Verified, String::new()),
        Err(e) if e.is_malformed() => (Verdict::Malformed, e.to_string()),
        Err(e) => (Verdict::Rejected, e.to_string()),
    }
}

#[test]
fn committed_vectors_get_their_verdicts() {
    let manifest: Manifest = serde_json::from_str(&fs::read_to_string(dir().join("cases.json")).unwrap()).unwrap();
    let vk = VerifyingKey::from_bytes(&fs::read(dir().join(&manifest.vk)).unwrap()).unwrap();
    assert!(manifest.cases.iter().any(|c| c.verdict == Verdict::Verified));
    for case in &manifest.cases {
        let (got, reason) = verdict(&vk, &fs::read(dir().join(&case.file)).unwrap());
        assert_eq!(got, case.verdict, "{} ({}): {reason}", case.file, case.why);
    }
}

#[test]
#[ignore = "rewrites fixtures/proofs; run it after a change to the protocol or the formats"]
fn regenerate() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let circuit = TestCircuit::new(20, Cheat::None, 1);
    // Packed by 4 (docs/protocol.md §3.7), so that the three verifiers meet packed commitments.
    let srs = Srs::generate_insecure(1 << 8, &mut rng);
    let pk = keygen(&srs, &circuit.shape(), None, 4, &Cpu).unwrap();
    let instances = circuit.instances();
    let proof = prove(&pk, &circuit, &instances, &Cpu, &mut rng, ProveOptions::default()).unwrap();

    // Another circuit of the same shape (fewer rows, so other fixed columns): its proof has the
    // right length and valid points, and must fail only the cryptographic checks.
    let other = TestCircuit::new(16, Cheat::None, 2);
    let other_pk = keygen(&srs, &other.shape(), None, 4, &Cpu).unwrap();
    let other_proof = prove(&other_pk, &other, &other.instances(), &Cpu, &mut rng, ProveOptions::default()).unwrap();
    assert_eq!(other_pk.vk.description().k, pk.vk.description().k);
    assert_eq!(other_proof.len(), proof.len());

    let vk = &pk.vk;
    let file = |instances: &[Vec<Fr>], proof: &[u8]| ProofFile::new(vk, instances.to_vec(), proof.to_vec()).to_json();
    let valid = file(&instances, &proof);
    // A field of the valid file changed as JSON.
    let edit = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut json: serde_json::Value = serde_json::from_str(&valid).unwrap();
        change(&mut json);
        serde_json::to_string_pretty(&json).unwrap() + "\n"
    };

    // The last byte of the first evaluation: still a field element, so the proof stays well formed.
    let layout = vk.layout();
    let first_eval = proof.len() - 64 * 2 - 32 * layout.openings.len();
    let mut tampered = proof.clone();
    tampered[first_eval + 31] ^= 1;
    let mut wrong_instance = instances.clone();
    wrong_instance[0][0] += Fr::from(1u64);
    // The y coordinate of the first witness commitment.
    let mut off_curve = proof.clone();
    off_curve[4 + 63] ^= 1;
    let mut previous_version = proof.clone();
    previous_version[3] = 2;
    let mut unreduced = Fr::MODULUS;
    assert!(!unreduced.add_with_carry(&instances[0][1].into_bigint()));
    let non_canonical = edit(&|f| f["instances"][0][1] = format!("0x{}", hex::encode(unreduced.to_bytes_be())).into());
    // A prover that appends a public value the circuit never reads: the proof is honest about
    // everything else, and the transcript absorbs the extra value.
    let mut appended = instances.clone();
    appended[0].push(Fr::from(400u64));
    let options = ProveOptions { check_witness: false };
    let appended_proof = prove(&pk, &circuit, &appended, &Cpu, &mut rng, options).unwrap();

    let cases = [
        ("proof.json", Verdict::Verified, "a valid proof of the test circuit (k = 5, packed by 4)", valid.clone(), false),
        ("tampered_byte.json", Verdict::Rejected, "one bit flipped in the first evaluation", file(&instances, &tampered), false),
        ("wrong_instance.json", Verdict::Rejected, "the first public input plus one", file(&wrong_instance, &proof), false),
        (
            "other_circuit_proof.json",
            Verdict::Rejected,
            "a valid proof of another circuit of the same shape, labelled with this key's digest",
            file(&other.instances(), &other_proof),
            false,
        ),
        ("missing_instances.json", Verdict::Rejected, "no instance column, the circuit has one", edit(&|f| f["instances"] = serde_json::json!([])), false),
        (
            "appended_public_value.json",
            Verdict::Rejected,
            "a third public value (100.0) that no constraint reads, proved by a prover that skips its checks: the key fixes two",
            file(&appended, &appended_proof),
            false,
        ),
        (
            "edited_output.json",
            Verdict::Rejected,
            "a valid proof whose file shows an output value other than the proven one",
            edit(&|f| f["outputs"][0]["values"][0] = 100.0.into()),
            true,
        ),
        (
            "output_without_scale.json",
            Verdict::Malformed,
            "a valid proof whose file's output lacks scale_bits",
            edit(&|f| {
                f["outputs"][0].as_object_mut().unwrap().remove("scale_bits");
            }),
            true,
        ),
        (
            "proof_hex_without_0x.json",
            Verdict::Malformed,
            "the proof's hex without its 0x prefix",
            edit(&|f| f["proof"] = f["proof"].as_str().unwrap().trim_start_matches("0x").into()),
            true,
        ),
        (
            "other_key_digest.json",
            Verdict::Rejected,
            "a valid proof whose file names another verifying key",
            edit(&|f| f["vk_digest"] = format!("0x{}", "ab".repeat(32)).into()),
            true,
        ),
        ("off_curve_point.json", Verdict::Malformed, "the first witness commitment is not on the curve", file(&instances, &off_curve), false),
        (
            "previous_version.json",
            Verdict::Malformed,
            "the proof format version set to 2 (one commitment per polynomial), which this verifier no longer reads",
            file(&instances, &previous_version),
            false,
        ),
        ("non_canonical_instance.json", Verdict::Malformed, "a public input plus the field modulus: the same value mod r, not reduced", non_canonical, false),
    ];

    let dir = dir();
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("vk.bin"), vk.to_bytes()).unwrap();
    let mut manifest = Manifest { vk: "vk.bin".into(), cases: vec![] };
    for (name, expected, why, text, file_only) in cases {
        let (got, reason) = verdict(vk, text.as_bytes());
        assert_eq!(got, expected, "{name}: {reason}");
        fs::write(dir.join(name), text).unwrap();
        manifest.cases.push(Case { file: name.into(), verdict: expected, why: why.into(), file_only });
    }
    fs::write(dir.join("cases.json"), serde_json::to_string_pretty(&manifest).unwrap() + "\n").unwrap();
}
