//! The generated Solidity verifier, compiled by the solc pinned in `verifier/sol` and run in an
//! in-memory EVM (revm): it accepts the proofs the native verifier accepts and nothing else.
//! Prints the gas of each verification and the deployed code size.
//!
//! Needs `node` and `npm`; `npm ci` runs in `verifier/sol` when its `node_modules` is missing.

use ark_bn254::Fr;
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use rand::SeedableRng;
use revm::context::TxEnv;
use revm::context_interface::result::{ExecutionResult, Output};
use revm::database::{CacheDB, EmptyDB};
use revm::handler::MainnetContext;
use revm::inspector::{InspectCommitEvm, Inspector};
use revm::interpreter::interpreter_types::Jumps;
use revm::interpreter::{CallInputs, CallOutcome, Interpreter};
use revm::primitives::{Address, TxKind};
use revm::{Context, MainBuilder, MainContext, MainnetEvm};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{CompileOptions, Model, Optimize, ParamVisibility, Precision, Visibility, EVM_PACK};
use zkinfer_prover::{keygen, prove, Cpu, ProveOptions, ProvingKey, Srs};
use zkinfer_test_support::{Cheat, TestCircuit};
use zkinfer_verifier::evm::{calldata, solidity_verifier, CONTRACT_NAME};
use zkinfer_verifier::{verify, VerifyingKey};

/// EIP-170.
const MAX_CODE_SIZE: usize = 24_576;
const CALLER: Address = Address::repeat_byte(0x11);

fn rng() -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(11)
}

fn sol_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("verifier/sol")
}

/// Compiles contract `contract` of `source` with the pinned solc; returns the creation code.
fn compile(source: &str, name: &str, contract: &str) -> Vec<u8> {
    static INSTALL: Mutex<()> = Mutex::new(());
    {
        let _guard = INSTALL.lock().unwrap();
        if !sol_dir().join("node_modules/solc").exists() {
            let status = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(sol_dir()).status().expect("npm is installed");
            assert!(status.success(), "npm ci failed in verifier/sol");
        }
    }
    let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.sol"));
    std::fs::write(&file, source).unwrap();
    let out = Command::new("node").arg(sol_dir().join("compile.js")).arg(&file).arg(contract).output().expect("node is installed");
    assert!(out.status.success(), "solc failed on {}:\n{}", file.display(), String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    hex::decode(json["bytecode"].as_str().unwrap()).unwrap()
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Accepted,
    ReturnedFalse,
    Reverted,
}

/// Where the execution gas of the last transaction went, from the steps of its one frame and
/// the precompile calls it made.
#[derive(Default)]
struct Profile {
    /// Per precompile address (0x05 modexp ... 0x08 pairing): gas spent inside, calls.
    precompiles: [(u64, usize); 9],
    keccak: u64,
    /// The frame's gas spent at the start of the current instruction, and that instruction.
    spent: u64,
    opcode: u8,
    /// Gas spent before the first elliptic-curve call: checks, transcript, Lagrange values,
    /// identities, the combined evaluation.
    scalar: Option<u64>,
    memory_words: usize,
}

const KECCAK256: u8 = 0x20;

impl<CTX> Inspector<CTX> for Profile {
    fn step(&mut self, interp: &mut Interpreter, _: &mut CTX) {
        // Gas forwarded to a call is returned before the next step, so `spent` is exact here.
        let spent = interp.gas.total_gas_spent();
        if self.opcode == KECCAK256 {
            self.keccak += spent - self.spent;
        }
        self.spent = spent;
        self.opcode = interp.bytecode.opcode();
        self.memory_words = interp.gas.memory().words_num;
    }

    fn call_end(&mut self, _: &mut CTX, inputs: &CallInputs, outcome: &mut CallOutcome) {
        let address = inputs.bytecode_address;
        if address[..19] == [0; 19] && (address[19] as usize) < self.precompiles.len() {
            let p = address[19] as usize;
            if (p == 6 || p == 7) && self.scalar.is_none() {
                self.scalar = Some(self.spent);
            }
            self.precompiles[p].0 += outcome.result.gas.total_gas_spent();
            self.precompiles[p].1 += 1;
        }
    }
}

struct Chain {
    evm: MainnetEvm<MainnetContext<CacheDB<EmptyDB>>, Profile>,
    nonce: u64,
}

impl Chain {
    fn new() -> Self {
        let context = Context::mainnet().with_db(CacheDB::<EmptyDB>::default());
        Self { evm: context.build_mainnet_with_inspector(Profile::default()), nonce: 0 }
    }

    fn transact(&mut self, kind: TxKind, data: Vec<u8>, gas_limit: u64) -> ExecutionResult {
        let tx = TxEnv::builder().caller(CALLER).kind(kind).data(data.into()).gas_limit(gas_limit).nonce(self.nonce).build().unwrap();
        self.nonce += 1;
        self.evm.inspector = Profile::default();
        self.evm.inspect_tx_commit(tx).unwrap()
    }

    /// Deploys creation code; returns the address and the size of the deployed code.
    fn deploy(&mut self, code: Vec<u8>) -> (Address, usize) {
        match self.transact(TxKind::Create, code, 15_000_000) {
            ExecutionResult::Success { output: Output::Create(code, Some(address)), .. } => (address, code.len()),
            other => panic!("deployment failed: {other:?}"),
        }
    }

    /// Calls `verifyProof`; returns the verdict and the gas the transaction used.
    fn verify(&mut self, verifier: Address, data: Vec<u8>) -> (Verdict, u64) {
        self.verify_with_gas(verifier, data, 15_000_000)
    }

    /// Calls `verifyProof` with a gas limit; a call that runs out of gas reverts.
    fn verify_with_gas(&mut self, verifier: Address, data: Vec<u8>, gas_limit: u64) -> (Verdict, u64) {
        match self.transact(TxKind::Call(verifier), data, gas_limit) {
            ExecutionResult::Success { output: Output::Call(out), gas, .. } => {
                let mut word = [0u8; 32];
                assert_eq!(out.len(), 32, "verifyProof returns one word");
                word[31] = 1;
                let verdict = if out[..] == word {
                    Verdict::Accepted
                } else {
                    word[31] = 0;
                    assert_eq!(out[..], word, "verifyProof returns a bool");
                    Verdict::ReturnedFalse
                };
                (verdict, gas.tx_gas_used())
            }
            ExecutionResult::Revert { gas, .. } => (Verdict::Reverted, gas.tx_gas_used()),
            ExecutionResult::Halt { reason, gas, .. } if format!("{reason:?}").contains("OutOfGas") => (Verdict::Reverted, gas.tx_gas_used()),
            ExecutionResult::Halt { reason, .. } => panic!("verifyProof halted: {reason:?}"),
            other => panic!("unexpected result {other:?}"),
        }
    }
}

/// The gas a transaction pays for its calldata (EIP-2028), to separate it from execution.
fn calldata_gas(data: &[u8]) -> u64 {
    data.iter().map(|&b| if b == 0 { 4 } else { 16 }).sum()
}

struct Fixture {
    pk: ProvingKey,
    circuit: TestCircuit,
    proof: Vec<u8>,
}

fn fixture(srs: &Srs, rows: usize, cheat: Cheat, pack: usize) -> Fixture {
    let circuit = TestCircuit::new(rows, cheat, rows as u64);
    let pk = keygen(srs, &circuit.shape(), None, pack, &Cpu).unwrap();
    let options = ProveOptions { check_witness: cheat == Cheat::None };
    let proof = prove(&pk, &circuit, &circuit.instances(), &Cpu, &mut rng(), options).unwrap();
    Fixture { pk, circuit, proof }
}

fn srs() -> &'static Srs {
    static SRS: OnceLock<Srs> = OnceLock::new();
    // Enough powers for digits_mlp's 2^10 rows packed by 16.
    SRS.get_or_init(|| Srs::generate_insecure(1 << 14, &mut rng()))
}

/// Generates, compiles and deploys the verifier of `vk`; returns its address, its code size and
/// its source.
fn deploy_verifier(chain: &mut Chain, vk: &VerifyingKey, name: &str) -> (Address, usize, String) {
    let source = solidity_verifier(vk, CONTRACT_NAME).unwrap();
    let (address, size) = chain.deploy(compile(&source, name, CONTRACT_NAME));
    (address, size, source)
}

#[test]
fn verifier_accepts_valid_proofs_within_the_code_size_limit() {
    let mut chain = Chain::new();
    for (k, rows, pack) in [(5, 20, 1), (8, 200, 1), (5, 20, 4), (8, 200, 16)] {
        let f = fixture(srs(), rows, Cheat::None, pack);
        assert_eq!(f.pk.vk.description().k, k);
        let (verifier, size, _) = deploy_verifier(&mut chain, &f.pk.vk, &format!("accepts_k{k}_pack{pack}"));
        assert!(size < MAX_CODE_SIZE, "k = {k}: deployed code of {size} bytes exceeds EIP-170");
        let data = calldata(&f.proof, &f.circuit.instances());
        let (verdict, gas) = chain.verify(verifier, data.clone());
        assert_eq!(verdict, Verdict::Accepted, "k = {k}");
        report(&format!("test circuit, k = {k}"), &chain, &f.pk.vk, gas, &data, size);
    }
}

/// Prints the gas of the last transaction on `chain`, a valid verification, split into what the
/// transaction pays for its calldata, each precompile, Keccak and the rest of the execution;
/// and what the key and proof hold that costs gas: commitments by kind, evaluations, rotations.
fn report(name: &str, chain: &Chain, vk: &VerifyingKey, gas: u64, calldata: &[u8], size: usize) {
    let p = &chain.evm.inspector;
    let calldata = calldata_gas(calldata);
    let execution = gas - 21_000 - calldata;
    let precompiles: u64 = p.precompiles.iter().map(|c| c.0).sum();
    let scalar = p.scalar.expect("the verifier calls ecMul") - p.keccak - p.precompiles[5].0;
    let msm = execution - precompiles - p.keccak - scalar;
    let call = |i: usize| format!("{} ({}x)", p.precompiles[i].0, p.precompiles[i].1);
    let (d, layout) = (&vk.description(), vk.layout());
    let mut key: Vec<_> = vk.key_commitments().iter().filter(|c| !c.is_zero()).collect();
    key.sort_by_key(|c| zkinfer_verifier::encoding::g1_to_bytes(c));
    key.dedup();
    println!(
        "{name}: {gas} gas = 21000 base + {calldata} calldata + {execution} execution: ecMul {}, ecAdd {}, \
         pairing {}, modexp {}, keccak {}, other {} before the MSM + {} in it; memory {} words; \
         deployed code {size} bytes\n  packing {}: {} advice, {} multiplicity, {} product, {} running sum in \
         {} commitments, {} quotient, 2 opening witnesses in the proof; {} fixed + {} sigma in {} key commitments, \
         {} distinct non-zero; {} evaluations at {} rotations in point sets (t, rotations) {}",
        call(7),
        call(6),
        call(8),
        call(5),
        p.keccak,
        scalar,
        msm,
        p.memory_words,
        vk.pack(),
        d.num_advice,
        d.lookups.len(),
        layout.num_products,
        d.lookups.len(),
        zkinfer_verifier::Proof::num_commitments(layout),
        layout.num_quotient_pieces(),
        d.num_fixed,
        d.permutation.len(),
        vk.key_commitments().len(),
        key.len(),
        layout.openings.len(),
        layout.rotations.len(),
        layout.point_sets.iter().map(|s| format!("({}, {:?}): {}", s.t, s.rotations, s.commitments.len())).collect::<Vec<_>>().join(", "),
    );
}

/// A bundled model compiled as the CLI compiles an uncalibrated model (outputs public, input
/// private), at width 8 unpacked or with `--optimize evm`; its key, a proof on its sample input
/// and the compiler's gas estimate.
struct ModelFixture {
    pk: ProvingKey,
    proof: Vec<u8>,
    instances: Vec<Vec<Fr>>,
    estimated_gas: u64,
}

fn model_fixture(srs: &Srs, name: &str, evm: bool) -> ModelFixture {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    let bytes = std::fs::read(dir.join("model.onnx")).unwrap();
    let (width, optimize) = if evm { (None, Optimize::Evm) } else { (Some(8), Optimize::Proving) };
    let options = CompileOptions {
        precision: Precision::Scale(8),
        input_visibility: vec![Visibility::Private],
        param_visibility: ParamVisibility::Fixed,
        width,
        optimize,
        pack: None,
        max_memory: None,
    };
    let (settings, report) = zkinfer_compiler::compile(&bytes, &options, &[]).unwrap();
    let model = Model::from_onnx(&bytes, settings).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("input.json")).unwrap()).unwrap();
    let input: Vec<f32> = serde_json::from_value(json["input_data"][0].clone()).unwrap();
    let x = model.quantize_input(&input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let instances = ModelCircuit::instances(&model, &x, &outputs);
    let pk = keygen(srs, &ModelCircuit { model: &model, input: None }, Some(report.k), model.settings.pack, &Cpu).unwrap();
    let circuit = ModelCircuit { model: &model, input: Some(&x) };
    let proof = prove(&pk, &circuit, &instances, &Cpu, &mut rng(), ProveOptions::default()).unwrap();
    ModelFixture { pk, proof, instances, estimated_gas: report.estimated_verify_gas }
}

/// The models in `fixtures/` small enough for a test (2^9 and 2^10 rows).
#[test]
fn verifier_accepts_bundled_model_proofs() {
    let mut chain = Chain::new();
    let mut deployed = Vec::new();
    for (name, evm) in [("tiny_mlp", false), ("digits_mlp", true)] {
        let ModelFixture { pk, proof, instances, .. } = model_fixture(srs(), name, evm);
        let (verifier, size, _) = deploy_verifier(&mut chain, &pk.vk, name);
        assert!(size < MAX_CODE_SIZE, "{name}: deployed code of {size} bytes exceeds EIP-170");
        let data = calldata(&proof, &instances);
        let (verdict, gas) = chain.verify(verifier, data.clone());
        assert_eq!(verdict, Verdict::Accepted, "{name}");
        report(&format!("{name} (2^{} rows)", pk.vk.description().k), &chain, &pk.vk, gas, &data, size);
        let mut changed = instances.clone();
        changed[0][0] += Fr::from(1u64);
        assert_eq!(chain.verify(verifier, calldata(&proof, &changed)).0, Verdict::ReturnedFalse, "{name}: changed output");
        deployed.push((verifier, pk.vk, proof, instances));
    }
    // Each verifier rejects the other model's proof, with its own model's outputs.
    let [(tiny, tiny_vk, tiny_proof, tiny_instances), (digits, digits_vk, digits_proof, digits_instances)] = <[_; 2]>::try_from(deployed).ok().unwrap();
    assert!(verify(&digits_vk, &digits_instances, &tiny_proof).is_err());
    assert_eq!(chain.verify(digits, calldata(&tiny_proof, &digits_instances)).0, Verdict::ReturnedFalse);
    assert!(verify(&tiny_vk, &tiny_instances, &digits_proof).is_err());
    assert_eq!(chain.verify(tiny, calldata(&digits_proof, &tiny_instances)).0, Verdict::ReturnedFalse);
}

/// Every bundled model (up to 2^15 rows, beyond the size of ordinary tests): the verifier fits
/// EIP-170 and accepts; prints the gas breakdown docs/evm.md tabulates. Run it with
/// `cargo test --release --test evm -- --ignored --nocapture`.
#[test]
#[ignore = "proves every bundled model, up to 2^15 rows"]
fn gas_of_every_bundled_model() {
    let srs = Srs::generate_insecure(EVM_PACK << 15, &mut rng());
    let mut chain = Chain::new();
    for pack in [1, EVM_PACK] {
        let f = fixture(&srs, 20, Cheat::None, pack);
        let (verifier, size, _) = deploy_verifier(&mut chain, &f.pk.vk, &format!("gas_test_circuit_{pack}"));
        let data = calldata(&f.proof, &f.circuit.instances());
        let (verdict, gas) = chain.verify(verifier, data.clone());
        assert_eq!(verdict, Verdict::Accepted);
        report(&format!("test circuit (2^5 rows), packing {pack}"), &chain, &f.pk.vk, gas, &data, size);
    }
    for evm in [false, true] {
        for name in ["tiny_mlp", "digits_mlp", "sigmoid_tanh_mlp", "softmax_bn", "digits_cnn", "mnist_mlp"] {
            let ModelFixture { pk, proof, instances, estimated_gas } = model_fixture(&srs, name, evm);
            let (verifier, size, _) = deploy_verifier(&mut chain, &pk.vk, &format!("gas_{name}_{evm}"));
            assert!(size < MAX_CODE_SIZE, "{name}: deployed code of {size} bytes exceeds EIP-170");
            let data = calldata(&proof, &instances);
            let (verdict, gas) = chain.verify(verifier, data.clone());
            assert_eq!(verdict, Verdict::Accepted, "{name}");
            let layout = if evm { "--optimize evm" } else { "width 8" };
            let name = format!("{name} ({layout}: width {}, 2^{} rows, estimated {estimated_gas} gas)", pk.vk.description().num_advice - 3, pk.vk.description().k);
            report(&name, &chain, &pk.vk, gas, &data, size);
        }
    }
}

/// `value + modulus` as a 32-byte word: the same residue, not canonically encoded.
fn plus_modulus<F: PrimeField>(word: &[u8]) -> [u8; 32] {
    let mut sum = [0u8; 32];
    let modulus = F::MODULUS.to_bytes_be();
    let mut carry = 0u16;
    for i in (0..32).rev() {
        let s = word[i] as u16 + modulus[i] as u16 + carry;
        sum[i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0);
    sum
}

#[test]
fn verifier_rejects_what_the_native_verifier_rejects() {
    rejects_what_the_native_verifier_rejects(1);
}

#[test]
fn packed_verifier_rejects_what_the_native_verifier_rejects() {
    rejects_what_the_native_verifier_rejects(4);
}

fn rejects_what_the_native_verifier_rejects(pack: usize) {
    let mut chain = Chain::new();
    let f = fixture(srs(), 20, Cheat::None, pack);
    let vk = &f.pk.vk;
    let instances = f.circuit.instances();
    let (verifier, _, _) = deploy_verifier(&mut chain, vk, &format!("rejects_{pack}"));
    let layout = vk.layout();
    let points = zkinfer_verifier::Proof::num_commitments(layout) + layout.num_quotient_pieces();
    let evals = 4 + 64 * points;
    let w = evals + 32 * layout.openings.len();

    let mut cases: Vec<(String, Vec<u8>, Vec<Vec<Fr>>)> = Vec::new();
    let mut with = |name: &str, edit: &dyn Fn(&mut Vec<u8>)| {
        let mut proof = f.proof.clone();
        edit(&mut proof);
        cases.push((name.to_string(), proof, instances.clone()));
    };
    with("flipped byte in the magic", &|p| p[0] ^= 1);
    with("flipped byte in a witness commitment", &|p| p[4 + 63] ^= 1);
    with("flipped byte in a quotient commitment", &|p| p[evals - 1] ^= 1);
    with("flipped byte in an evaluation", &|p| p[evals + 31] ^= 1);
    with("flipped byte in W", &|p| p[w + 40] ^= 0x80);
    with("flipped byte in W'", &|p| p[w + 100] ^= 0x80);
    with("W and W' swapped", &|p| {
        let (first, second) = p[w..].split_at_mut(64);
        first.swap_with_slice(second);
    });
    with("evaluations 0 and 1 swapped", &|p| {
        let (first, second) = p[evals..].split_at_mut(32);
        first.swap_with_slice(&mut second[..32]);
    });
    with("evaluation plus r", &|p| {
        let e = plus_modulus::<Fr>(&p[evals..evals + 32]);
        p[evals..evals + 32].copy_from_slice(&e);
    });
    with("commitment x plus q", &|p| {
        let x = plus_modulus::<ark_bn254::Fq>(&p[4..36]);
        p[4..36].copy_from_slice(&x);
    });
    with("commitment replaced by the identity", &|p| p[4..68].fill(0));
    with("truncated by one byte", &|p| {
        p.pop();
    });
    with("truncated to the commitments", &|p| p.truncate(evals));
    with("one extra word", &|p| p.extend_from_slice(&[0; 32]));
    with("empty", &|p| p.clear());
    // Every 41st byte flipped, across the whole proof.
    for i in (1..f.proof.len()).step_by(41) {
        with(&format!("flipped byte {i}"), &|p| p[i] ^= 0x04);
    }

    let mut changed = instances.clone();
    changed[0][0] += Fr::from(1u64);
    cases.push(("changed public output".into(), f.proof.clone(), changed));
    let swapped = vec![vec![instances[0][1], instances[0][0]]];
    cases.push(("swapped public inputs".into(), f.proof.clone(), swapped));
    let other = fixture(srs(), 200, Cheat::None, pack);
    assert_eq!(other.proof.len(), f.proof.len(), "same shape, so only the checks can tell them apart");
    cases.push(("proof of the same circuit at k = 8".into(), other.proof.clone(), other.circuit.instances()));
    for cheat in [Cheat::Gate, Cheat::Copy, Cheat::Lookup] {
        let bad = fixture(srs(), 20, cheat, pack);
        cases.push((format!("cheating prover: {cheat:?}"), bad.proof, bad.circuit.instances()));
    }

    let mut rejected = 0;
    for (name, proof, instances) in &cases {
        let native = verify(vk, instances, proof);
        let (verdict, _) = chain.verify(verifier, calldata(proof, instances));
        assert_eq!(verdict == Verdict::Accepted, native.is_ok(), "{name}: native {native:?}, EVM {verdict:?}");
        if native.is_err() {
            assert_eq!(verdict, Verdict::ReturnedFalse, "{name}: rejections return false rather than revert");
            rejected += 1;
        }
    }
    assert_eq!(rejected, cases.len(), "every mutation is rejected");

    // What has no native counterpart: a public input that is not a canonical scalar, and a
    // number of public inputs other than the one fixed into the contract.
    let mut data = calldata(&f.proof, &instances);
    let last = data.len() - 32;
    let bumped = plus_modulus::<Fr>(&data[last..]);
    data[last..].copy_from_slice(&bumped);
    assert_eq!(chain.verify(verifier, data).0, Verdict::ReturnedFalse, "public input plus r");
    let three = vec![vec![instances[0][0], instances[0][1], Fr::from(0u64)]];
    assert_eq!(chain.verify(verifier, calldata(&f.proof, &three)).0, Verdict::ReturnedFalse, "three public inputs");
    // Calldata that is not ABI-encoded reverts.
    let data = calldata(&f.proof, &instances);
    assert_eq!(chain.verify(verifier, data[..100].to_vec()).0, Verdict::Reverted, "cut calldata");
    // The valid proof, last, to show the verifier still accepts it.
    assert_eq!(chain.verify(verifier, calldata(&f.proof, &instances)).0, Verdict::Accepted);
}

#[test]
fn generator_names_the_contract_and_refuses_names_that_are_not_identifiers() {
    let f = fixture(srs(), 20, Cheat::None, 1);
    let vk = &f.pk.vk;
    for bad in ["", "1Verifier", "My Verifier", "a-b"] {
        assert!(solidity_verifier(vk, bad).unwrap_err().to_string().contains("not a Solidity identifier"), "{bad:?}");
    }
    let source = solidity_verifier(vk, "DigitsVerifier").unwrap();
    assert!(source.contains("contract DigitsVerifier {") && !source.contains(CONTRACT_NAME));
    assert!(source.contains("unknown or development SRS"), "the NatSpec names the SRS");
    let mut chain = Chain::new();
    let (address, _) = chain.deploy(compile(&source, "named", "DigitsVerifier"));
    assert_eq!(chain.verify(address, calldata(&f.proof, &f.circuit.instances())).0, Verdict::Accepted);

    // A key from someone else names its tensors: a name cannot end the NatSpec line and write code.
    let mut statement = vk.statement().clone();
    statement.tensors[0].name = "y\n}\ncontract Evil {".into();
    let hostile = VerifyingKey::new(vk.description().clone(), statement, vk.insecure_srs(), vk.pack(), vk.key_commitments().to_vec(), vk.g2(), vk.s_g2()).unwrap();
    let source = solidity_verifier(&hostile, "Named").unwrap();
    assert!(!source.contains("\ncontract Evil") && source.contains("\"y\\n}\\ncontract Evil {\""), "{source}");
}

/// `false` means "the Rust verifier rejects this proof" and nothing else: a valid proof given
/// too little gas for a precompile call makes the contract revert, at every gas limit below
/// what it needs, never answer false (an app acting on false could be griefed).
#[test]
fn too_little_gas_reverts_and_never_rejects_a_valid_proof() {
    let mut chain = Chain::new();
    let f = fixture(srs(), 20, Cheat::None, 4);
    let (verifier, _, _) = deploy_verifier(&mut chain, &f.pk.vk, "low_gas");
    let data = calldata(&f.proof, &f.circuit.instances());
    let (verdict, used) = chain.verify(verifier, data.clone());
    assert_eq!(verdict, Verdict::Accepted);
    // Below the larger of the intrinsic gas and EIP-7623's calldata floor a transaction is
    // invalid, not a call.
    let tokens: u64 = data.iter().map(|&b| if b == 0 { 1 } else { 4 }).sum();
    let floor = 21_000 + calldata_gas(&data).max(10 * tokens);
    let mut reverted = 0;
    for limit in (floor + 1..used).rev().step_by(997) {
        let (verdict, _) = chain.verify_with_gas(verifier, data.clone(), limit);
        assert_ne!(verdict, Verdict::ReturnedFalse, "a valid proof with a gas limit of {limit} (it needs {used}) returned false");
        reverted += (verdict == Verdict::Reverted) as usize;
    }
    assert!(reverted > 100, "only {reverted} limits tried");
}

/// The proof vectors that the native (tests/vectors.rs) and WASM (verifier/js) verifiers are
/// tested on give the same verdicts on chain: "verified" is accepted, everything else
/// ("rejected", "malformed") is not, unless only the file around a valid proof is wrong.
#[test]
fn verifier_agrees_with_the_shared_proof_vectors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/proofs");
    let read_json = |f: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap() };
    let unhex = |v: &serde_json::Value| hex::decode(v.as_str().unwrap().trim_start_matches("0x")).unwrap();
    let words = |file: &serde_json::Value| -> Vec<Vec<Fr>> {
        file["instances"]
            .as_array()
            .map(|cols| cols.iter().map(|c| c.as_array().unwrap().iter().map(|w| Fr::from_be_bytes_mod_order(&unhex(w))).collect()).collect())
            .unwrap_or_default()
    };
    let vk = VerifyingKey::from_bytes(&std::fs::read(dir.join("vk.bin")).unwrap()).unwrap();
    let mut chain = Chain::new();
    let (address, _, _) = deploy_verifier(&mut chain, &vk, "vectors");
    let cases = read_json("cases.json");
    for case in cases["cases"].as_array().unwrap() {
        let file = read_json(case["file"].as_str().unwrap());
        let raw_instances: Vec<Vec<Vec<u8>>> =
            file["instances"].as_array().map(|cols| cols.iter().map(|c| c.as_array().unwrap().iter().map(unhex).collect()).collect()).unwrap_or_default();
        // Public inputs go on chain as uint256 words as they are, even when not canonical.
        let mut data = calldata(&unhex(&file["proof"]), &words(&file));
        let flat: Vec<&Vec<u8>> = raw_instances.iter().flatten().collect();
        let tail = data.len() - 32 * flat.len();
        for (i, w) in flat.iter().enumerate() {
            data[tail + 32 * i..tail + 32 * (i + 1)].copy_from_slice(w);
        }
        let (verdict, _) = chain.verify(address, data);
        let expected = case["verdict"].as_str().unwrap();
        // A case whose proof and public values are valid and whose file alone is wrong: the
        // contract sees no file.
        let accepted = expected == "verified" || case["file_only"] == true;
        assert_eq!(verdict == Verdict::Accepted, accepted, "{}: EVM says {verdict:?}, expected {expected}", case["file"]);
    }
}
