//! Models come from strangers: a seeded mutation loop over the fixtures' bytes (flipped bits,
//! overwritten and inserted bytes, cut files, varints set to huge values) finds no panic, abort
//! or hang in parsing and building a model. 100,000 mutants, each run under `catch_unwind`; an
//! abort (an allocation failure) would end the test process itself.

mod common;

use common::*;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use zkinfer_compiler::Model;

const MUTANTS: usize = 100_000;

#[test]
fn mutated_models_never_panic() {
    let seeds: Vec<Vec<u8>> =
        ["tiny_mlp/model.onnx", "digits_mlp/model.onnx", "slice_pad/model.onnx", "softmax_bn/model.onnx", "loading/dtypes/model.onnx"].iter().map(|p| fixture_bytes(p)).collect();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(13);
    let (mut built, mut slowest) = (0, Duration::ZERO);
    for i in 0..MUTANTS {
        let mut bytes = seeds[i % seeds.len()].clone();
        for _ in 0..rng.gen_range(1..=4) {
            let at = rng.gen_range(0..bytes.len());
            match rng.gen_range(0..5) {
                0 => bytes[at] ^= 1 << rng.gen_range(0..8),
                1 => bytes[at] = rng.gen(),
                2 => bytes.insert(at, rng.gen()),
                3 => bytes.truncate(at.max(1)),
                // A varint of 0xff bytes: a length or a dimension as large as it gets.
                _ => bytes.splice(at..at, [0xff; 9].into_iter().chain([0x01])).for_each(drop),
            }
        }
        let start = Instant::now();
        let outcome = std::panic::catch_unwind(|| Model::from_onnx(&bytes, settings(1)).is_ok());
        slowest = slowest.max(start.elapsed());
        if start.elapsed() > Duration::from_millis(200) {
            println!("mutant {i} took {:?}", start.elapsed());
        }
        match outcome {
            Ok(ok) => built += ok as usize,
            Err(_) => panic!("mutant {i} made the compiler panic; its bytes: {}", hex(&bytes)),
        }
    }
    println!("{MUTANTS} mutants: {built} still built a model; slowest {slowest:?}");
    assert!(slowest < Duration::from_secs(2), "a mutant took {slowest:?}");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
