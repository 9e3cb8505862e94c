//! Sin and Cos: reduced into a period and looked up (see `compiler/src/ops/trig.rs`), against f64
//! over several periods and over the circuit's whole range, in the mock prover, with a changed
//! output rejected.

mod common;

use common::*;

/// Steps of the tests' scale, 2^-8.
const STEP: f64 = 1.0 / 256.0;

#[test]
fn sin_and_cos_over_ten_periods() {
    let x: Vec<f32> = (0..48).map(|i| -31.0 + 62.0 * i as f32 / 47.0).collect();
    for (op, f) in [("Sin", f64::sin as fn(f64) -> f64), ("Cos", f64::cos)] {
        let bytes = one_op(op, vec![], &[], &[1, 48]);
        let model = compile(&bytes, std::slice::from_ref(&x)).unwrap();
        let q = model.quantize_input(&x).unwrap();
        let (outputs, _) = model.evaluate(&q).unwrap();
        // Against the function of the input as the grid holds it: the reduction's half step and
        // the lookup's step and a half.
        for (i, (o, v)) in outputs[0].data.iter().zip(&q).enumerate() {
            let exact = f(*v as f64 * STEP);
            assert!((model.dequantize(*o) - exact).abs() <= 2.0 * STEP, "{op}({}) = {}, expected {exact}", x[i], model.dequantize(*o));
        }
        mock_prove(&model, &q).unwrap();
        assert!(!failures_after_changing_output(&model, &q, 9).is_empty(), "{op}: a changed output is rejected");
        // Without calibration, over the circuit's whole range: `r` stays in the table for every
        // input, as the table has no limit below it.
        let uncalibrated = compile(&bytes, &[]).unwrap();
        let far: Vec<f32> = (0..48).map(|i| -30000.0 + 1277.7 * i as f32).collect();
        let q = uncalibrated.quantize_input(&far).unwrap();
        let (outputs, _) = uncalibrated.evaluate(&q).unwrap();
        for (o, v) in outputs[0].data.iter().zip(&q) {
            let (x, exact) = (*v as f64 * STEP, f(*v as f64 * STEP));
            // 2 pi held to 2^-2s costs `n` times half of 2^-2s: `|x| / (2 pi) 2^-(s+1)` steps.
            let steps = 2.0 + x.abs() / (2.0 * std::f64::consts::PI) / 512.0;
            assert!((uncalibrated.dequantize(*o) - exact).abs() <= steps * STEP, "{op}({x}) = {}, expected {exact}", uncalibrated.dequantize(*o));
        }
        mock_prove(&uncalibrated, &q).unwrap();
    }
}

/// An op, its f64 reference, the inputs' range and the error allowed in steps.
type Case = (&'static str, fn(f64) -> f64, f32, f32, f64);

/// The other trigonometric and hyperbolic ops, against f64 across their domains, in the mock
/// prover; values outside a domain refused by name.
#[test]
fn inverse_and_hyperbolic_functions() {
    let cases: [Case; 8] = [
        ("Tan", f64::tan, -1.2, 1.2, 12.0),
        ("Asin", f64::asin, -1.0, 1.0, 2.5),
        ("Acos", f64::acos, -1.0, 1.0, 2.5),
        ("Sinh", f64::sinh, -5.0, 5.0, 3.0 * 5f64.exp() + 0.5),
        ("Cosh", f64::cosh, -5.0, 5.0, 3.0 * 5f64.exp() + 0.5),
        ("Asinh", f64::asinh, -40.0, 40.0, 2.5),
        ("Acosh", f64::acosh, 1.0, 40.0, 2.5),
        ("Atanh", f64::atanh, -0.9, 0.9, 3.0),
    ];
    for (op, f, lo, hi, steps) in cases {
        let x: Vec<f32> = (0..24).map(|i| lo + (hi - lo) * i as f32 / 23.0).collect();
        let bytes = one_op(op, vec![], &[], &[1, 24]);
        let model = compile(&bytes, std::slice::from_ref(&x)).unwrap();
        let q = model.quantize_input(&x).unwrap();
        let (outputs, _) = model.evaluate(&q).unwrap();
        for (i, (o, v)) in outputs[0].data.iter().zip(&q).enumerate() {
            let exact = f(*v as f64 * STEP);
            assert!((model.dequantize(*o) - exact).abs() <= steps * STEP, "{op}({}) = {}, expected {exact}", x[i], model.dequantize(*o));
        }
        mock_prove(&model, &q).unwrap();
        assert!(!failures_after_changing_output(&model, &q, 5).is_empty(), "{op}: a changed output is rejected");
    }
    for (op, bad, why) in [("Asin", 1.5, "defined on [-1, 1]"), ("Acosh", 0.5, "defined from 1 on"), ("Atanh", -1.0, "defined on (-1, 1)")] {
        let model = compile(&one_op(op, vec![], &[], &[1, 2]), &[]).unwrap();
        let err = model.evaluate(&model.quantize_input(&[bad, bad]).unwrap()).unwrap_err().to_string();
        assert!(err.contains(why), "{op}: {err}");
    }
}
