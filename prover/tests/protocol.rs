//! End-to-end: key generation, proving and verification on circuits of 2^4 to 2^12 rows,
//! and the mock checker's reports.

mod common;

use common::{Cheat, TestCircuit};
use rand::SeedableRng;
use zkinfer_circuits::{Failure, MockProver};
use zkinfer_prover::{keygen, prove, Cpu, ProveOptions, Srs};
use zkinfer_verifier::{verify, VerifyingKey};

fn rng() -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(7)
}

#[test]
fn proofs_verify_from_2_4_to_2_12_rows() {
    let srs = Srs::generate_insecure(1 << 12, &mut rng());
    for (k, rows) in [(4, 8), (5, 20), (8, 200), (10, 1000), (12, 4000)] {
        let circuit = TestCircuit::new(rows, Cheat::None, k as u64);
        let pk = keygen(&srs, &circuit.shape(), None, 1, &Cpu).unwrap();
        assert_eq!(pk.vk.description().k, k, "smallest k for {rows} rows");
        let proof = prove(&pk, &circuit, &circuit.instances(), &Cpu, &mut rng(), ProveOptions::default()).unwrap();
        let vk = VerifyingKey::from_bytes(&pk.vk.to_bytes()).unwrap();
        verify(&vk, &circuit.instances(), &proof).unwrap_or_else(|e| panic!("k = {k}: {e}"));
        assert!(vk.insecure_srs());
    }
}

/// Packed commitments (docs/protocol.md §3.7): every packing up to one commitment for all
/// the key's polynomials proves and verifies, with fewer commitments as the packing grows.
#[test]
fn packed_proofs_verify() {
    let srs = Srs::generate_insecure(1 << 12, &mut rng());
    let circuit = TestCircuit::new(200, Cheat::None, 3);
    let mut previous = usize::MAX;
    for pack in [1, 2, 4, 8] {
        let pk = keygen(&srs, &circuit.shape(), None, pack, &Cpu).unwrap();
        let layout = pk.vk.layout();
        assert!(layout.commitments.len() < previous, "pack {pack}: {} commitments", layout.commitments.len());
        previous = layout.commitments.len();
        let proof = prove(&pk, &circuit, &circuit.instances(), &Cpu, &mut rng(), ProveOptions::default()).unwrap();
        let vk = VerifyingKey::from_bytes(&pk.vk.to_bytes()).unwrap();
        verify(&vk, &circuit.instances(), &proof).unwrap_or_else(|e| panic!("pack {pack}: {e}"));
        let mut wrong = circuit.instances();
        wrong[0][0] += ark_bn254::Fr::from(1u64);
        assert!(verify(&vk, &wrong, &proof).is_err(), "pack {pack}: a wrong public input");
    }
}

#[test]
fn mock_prover_accepts_the_honest_witness_and_names_each_failure() {
    let honest = TestCircuit::new(20, Cheat::None, 1);
    MockProver::run(None, &honest, honest.instances()).unwrap().verify().unwrap();

    let failures = |cheat| {
        let c = TestCircuit::new(20, cheat, 1);
        MockProver::run(None, &c, c.instances()).unwrap().verify().unwrap_err()
    };
    assert_eq!(failures(Cheat::Gate), vec![Failure::Gate { gate: "mul".into(), poly: 0, row: 10 }]);
    assert_eq!(failures(Cheat::Copy), vec![Failure::Copy { left: "advice[0] row 7".into(), right: "advice[4] row 6".into() }]);
    assert_eq!(failures(Cheat::Lookup), vec![Failure::Lookup { lookup: "a in range".into(), row: 10 }]);

    let mut wrong = honest.instances();
    wrong[0][0] += ark_bn254::Fr::from(1u64);
    assert_eq!(
        MockProver::run(None, &honest, wrong).unwrap().verify().unwrap_err(),
        vec![Failure::PublicInput { cell: "advice[3] row 19".into(), instance: "instance[0] row 0".into() }]
    );
}

/// A circuit of the same shape but other fixed columns (here one row more or fewer enabled) is
/// refused by name, by `prove` with the key, and by `prove` with a key rebuilt for the verifying
/// key from that circuit (whose proof it verifies and refuses), instead of giving a proof that
/// fails or proves another circuit.
#[test]
fn a_key_refuses_another_circuit_of_the_same_shape() {
    let srs = Srs::generate_insecure(1 << 8, &mut rng());
    for (made_for, other) in [(200, 201), (201, 200)] {
        let (made_for, other) = (TestCircuit::new(made_for, Cheat::None, 1), TestCircuit::new(other, Cheat::None, 1));
        let pk = keygen(&srs, &made_for.shape(), Some(8), 1, &Cpu).unwrap();
        // Without the witness check, so that the refusal is synthesis's own.
        let options = ProveOptions { check_witness: false };
        let err = prove(&pk, &other, &other.instances(), &Cpu, &mut rng(), options).unwrap_err();
        assert!(err.to_string().contains("not the one the proving key was made for"), "{err}");
        let rebuilt = zkinfer_prover::proving_key_for(&srs, &other.shape(), pk.vk, &Cpu).unwrap();
        let err = prove(&rebuilt, &other, &other.instances(), &Cpu, &mut rng(), ProveOptions::default()).unwrap_err();
        assert!(err.to_string().contains("not the one the verifying key was made for: the proof does not verify"), "{err}");
    }
}

/// A lookup whose selector reads a fixed column: 0/1 as a selector should be, or 2 on one row.
struct SelectorCircuit {
    selector: u64,
}

impl zkinfer_circuits::Circuit for SelectorCircuit {
    type Config = (zkinfer_circuits::Advice, zkinfer_circuits::Fixed, zkinfer_circuits::TableColumn);

    fn configure(&self, cs: &mut zkinfer_circuits::ConstraintSystem) -> Self::Config {
        let (a, s, t) = (cs.advice_column(), cs.fixed_column(), cs.table_column());
        cs.lookup("a in table", s.cur(), vec![(a.cur(), t)]);
        (a, s, t)
    }

    fn synthesize(&self, &(a, s, t): &Self::Config, layouter: &mut zkinfer_circuits::Layouter) -> Result<(), zkinfer_circuits::Error> {
        use ark_bn254::Fr;
        layouter.assign_table("table", &[t], &(0..4u64).map(|v| vec![Fr::from(v)]).collect::<Vec<_>>())?;
        layouter.assign_region("rows", |region| {
            for i in 0..4 {
                region.assign_fixed(s, i, Fr::from(if i == 2 { self.selector } else { 1 }));
                region.assign_advice(a, i, zkinfer_circuits::Value::known(Fr::from(i as u64)))?;
            }
            Ok(())
        })
    }
}

/// A selector of 2 counts its input twice in the LogUp sum, which a multiplicity can balance
/// with a value outside the table: key generation refuses such a circuit by name.
#[test]
fn keygen_refuses_a_lookup_selector_that_is_not_boolean() {
    let srs = Srs::generate_insecure(1 << 6, &mut rng());
    assert!(keygen(&srs, &SelectorCircuit { selector: 1 }, None, 1, &Cpu).is_ok());
    let err = keygen(&srs, &SelectorCircuit { selector: 2 }, None, 1, &Cpu).err().expect("refused").to_string();
    assert!(err.contains("lookup 'a in table': its selector is neither 0 nor 1 at row 2"), "{err}");
}
