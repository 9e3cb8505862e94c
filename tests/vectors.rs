//! The proof vectors in `fixtures/proofs/`, shared by the native, WebAssembly and Solidity
//! verifiers: `cases.json` lists each proof file with the verdict every verifier must give for
//! it under `vk.bin`. A protocol change that invalidates them fails `committed_vectors_*`; then
//! rewrite them with `cargo test --release --test vectors -- --ignored regenerate`.

#[path = "../prover/tests/common/mod.rs"]
mod common;

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use common::{Cheat, TestCircuit};
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};
use zkinfer_prover::{keygen, prove, Cpu, ProveOptions, Srs};
use zkinfer_verifier::encoding::{fr_to_bytes, Reader};
use zkinfer_verifier::{verify, Error, VerifyingKey};

const PROTOCOL: &str = "zkinfer-plonk-kzg-bn254-keccak/3";

#[derive(Clone, Serialize, Deserialize)]
struct ProofFile {
    version: u32,
    protocol: String,
    vk_digest: String,
    instances: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outputs: Option<Vec<Output>>,
    proof: String,
}

#[derive(Clone, Serialize, Deserialize)]
struct Output {
    name: String,
    shape: Vec<usize>,
    values: Vec<f64>,
}

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

/// Reads a proof file and verifies it: what any verifier of proof files must do.
fn check(vk: &VerifyingKey, text: &str) -> Result<(), Error> {
    let malformed = |m: String| Error::Malformed(format!("proof file: {m}"));
    let file: ProofFile = serde_json::from_str(text).map_err(|e| malformed(e.to_string()))?;
    if file.version != 1 || file.protocol != PROTOCOL {
        return Err(malformed(format!("version {} of {}", file.version, file.protocol)));
    }
    let decode = |s: &str, what: &str| {
        s.strip_prefix("0x").and_then(|h| hex::decode(h).ok()).ok_or_else(|| malformed(format!("{what} is not 0x-hex")))
    };
    let instances = file
        .instances
        .iter()
        .map(|column| {
            let words = column.iter().map(|v| decode(v, "a public input")).collect::<Result<Vec<_>, _>>()?;
            if words.iter().any(|w| w.len() != 32) {
                return Err(malformed("a public input is not 32 bytes".into()));
            }
            let bytes = words.concat();
            let mut r = Reader::new(&bytes, "public inputs");
            let values = (0..column.len()).map(|_| r.fr()).collect::<Result<Vec<_>, _>>()?;
            Ok(values)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if decode(&file.vk_digest, "vk_digest")? != vk.digest() {
        return Err(Error::Rejected("the proof was made for another verifying key"));
    }
    verify(vk, &instances, &decode(&file.proof, "proof")?)
}

fn verdict(vk: &VerifyingKey, text: &str) -> (Verdict, String) {
    match check(vk, text) {
        Ok(()) => (Verdict::Verified, String::new()),
        Err(e @ Error::Malformed(_)) => (Verdict::Malformed, e.to_string()),
        Err(e @ (Error::Rejected(_) | Error::PublicInputs(_))) => (Verdict::Rejected, e.to_string()),
    }
}

#[test]
fn committed_vectors_get_their_verdicts() {
    let manifest: Manifest = serde_json::from_str(&fs::read_to_string(dir().join("cases.json")).unwrap()).unwrap();
    let vk = VerifyingKey::from_bytes(&fs::read(dir().join(&manifest.vk)).unwrap()).unwrap();
    assert!(manifest.cases.iter().any(|c| c.verdict == Verdict::Verified));
    for case in &manifest.cases {
        let (got, reason) = verdict(&vk, &fs::read_to_string(dir().join(&case.file)).unwrap());
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
    assert_eq!(other_pk.vk.description.k, pk.vk.description.k);
    assert_eq!(other_proof.len(), proof.len());

    let vk = &pk.vk;
    let hex0x = |b: &[u8]| format!("0x{}", hex::encode(b));
    let file = |instances: &[Vec<Fr>], proof: &[u8]| ProofFile {
        version: 1,
        protocol: PROTOCOL.into(),
        vk_digest: hex0x(vk.digest()),
        instances: instances.iter().map(|c| c.iter().map(|v| hex0x(&fr_to_bytes(v))).collect()).collect(),
        outputs: Some(vec![Output {
            name: "output".into(),
            shape: vec![2],
            values: instances[0].iter().map(|v| v.into_bigint().0[0] as f64).collect(),
        }]),
        proof: hex0x(proof),
    };
    let valid = file(&instances, &proof);

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
    let mut non_canonical = valid.clone();
    non_canonical.instances[0][1] = hex0x(&unreduced.to_bytes_be());

    let missing_instances = ProofFile { instances: vec![], ..valid.clone() };
    let cases = [
        ("proof.json", Verdict::Verified, "a valid proof of the test circuit (k = 5, packed by 4)", valid),
        (
            "tampered_byte.json",
            Verdict::Rejected,
            "one bit flipped in the first evaluation",
            file(&instances, &tampered),
        ),
        ("wrong_instance.json", Verdict::Rejected, "the first public input plus one", file(&wrong_instance, &proof)),
        (
            "other_circuit_proof.json",
            Verdict::Rejected,
            "a valid proof of another circuit of the same shape, labelled with this key's digest",
            file(&other.instances(), &other_proof),
        ),
        ("missing_instances.json", Verdict::Rejected, "no instance column, the circuit has one", missing_instances),
        (
            "off_curve_point.json",
            Verdict::Malformed,
            "the first witness commitment is not on the curve",
            file(&instances, &off_curve),
        ),
        (
            "previous_version.json",
            Verdict::Malformed,
            "the proof format version set to 2 (one commitment per polynomial), which this verifier no longer reads",
            file(&instances, &previous_version),
        ),
        (
            "non_canonical_instance.json",
            Verdict::Malformed,
            "a public input plus the field modulus: the same value mod r, not reduced",
            non_canonical,
        ),
    ];

    let dir = dir();
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("vk.bin"), vk.to_bytes()).unwrap();
    let mut manifest = Manifest { vk: "vk.bin".into(), cases: vec![] };
    for (name, expected, why, file) in cases {
        let text = serde_json::to_string_pretty(&file).unwrap() + "\n";
        let (got, reason) = verdict(vk, &text);
        assert_eq!(got, expected, "{name}: {reason}");
        fs::write(dir.join(name), text).unwrap();
        manifest.cases.push(Case { file: name.into(), verdict: expected, why: why.into() });
    }
    fs::write(dir.join("cases.json"), serde_json::to_string_pretty(&manifest).unwrap() + "\n").unwrap();
}
