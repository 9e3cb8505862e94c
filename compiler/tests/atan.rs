//! Atan through softsign and its table: within two steps of the arctangent (scale 2^-8 here)
//! from 0 to far beyond where atan nears its limits, odd, in the mock prover; a changed output
//! breaks the circuit.

mod common;

use common::*;

#[test]
fn atan_is_within_two_steps_everywhere() {
    let input: Vec<f32> = vec![0.0, 0.00390625, -0.00390625, 0.5, -0.5, 0.99609375, 1.0, -1.0, 1.5, 2.0, -3.25, 7.0, 20.0, -63.5, 300.0, -1000.0];
    let reference: Vec<f64> = input.iter().map(|&x| (x as f64).atan()).collect();
    let bytes = Onnx::new(&[input.len() as i64]).node("Atan", "atan", &["input"], vec![]).bytes("atan");
    let (model, x) = check_op(&bytes, &input, &reference, 2.0 / 256.0);
    let (outputs, _) = model.evaluate(&x).unwrap();
    let out: Vec<i64> = outputs[0].data.clone();
    // 0 at 0, and odd: the table's samples are.
    assert_eq!(out[0], 0);
    for pair in [(1, 2), (3, 4), (6, 7)] {
        assert_eq!(out[pair.0], -out[pair.1], "{pair:?}");
    }
    // Far out, the limit: pi/2 to the step.
    assert_eq!(out[15], -402);
    assert!(!failures_after_changing_output(&model, &x, 9).is_empty(), "a changed output passes");
}
