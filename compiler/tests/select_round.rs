//! Round and Sign on their edge cases (halves, zero), exact on the grid (scale 2^-8 here) against
//! the ONNX definitions, in the mock prover; a changed output must break the circuit.

mod common;

use common::*;

/// Every output of `bytes` on `input`, quantized and in floats, equals `expected` (one list per
/// output) exactly, and the circuit holds; a changed first output breaks it.
fn exact(bytes: &[u8], input: &[f32], expected: &[Vec<f64>]) {
    let model = compile(bytes, &[input.to_vec()]).unwrap();
    let x = model.quantize_input(input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let float = model.evaluate_float(input).unwrap();
    assert_eq!(outputs.len(), expected.len());
    for (o, want) in expected.iter().enumerate() {
        let got: Vec<f64> = outputs[o].data.iter().map(|q| model.dequantize(*q)).collect();
        assert_eq!(&got, want, "output {o}, quantized");
        let got: Vec<f64> = float[o].data.iter().map(|&f| f as f64).collect();
        assert_eq!(&got, want, "output {o}, floats");
    }
    mock_prove(&model, &x).unwrap();
    assert!(!failures_after_changing_output(&model, &x, 0).is_empty(), "a changed output passes");
}

#[test]
fn round_takes_halves_to_the_even_integer() {
    let input = [0.5f32, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 0.49609375, 0.50390625, -0.49609375, -0.50390625, 0.0, 2.0, -7.0, 6.75, -6.25];
    let expected: Vec<f64> = input.iter().map(|v| v.round_ties_even() as f64).collect();
    assert_eq!(&expected[..8], &[0.0, 2.0, 2.0, 4.0, -0.0, -2.0, -2.0, -4.0]);
    let bytes = Onnx::new(&[input.len() as i64]).node("Round", "round", &["input"], vec![]).bytes("round");
    exact(&bytes, &input, &[expected]);
}

#[test]
fn sign_is_zero_at_zero() {
    let input = [-5.0f32, -0.00390625, 0.0, 0.00390625, 2.5];
    let bytes = Onnx::new(&[5]).node("Sign", "sign", &["input"], vec![]).bytes("sign");
    exact(&bytes, &input, &[vec![-1.0, -1.0, 0.0, 1.0, 1.0]]);
}
