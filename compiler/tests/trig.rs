//! Sin and Cos: reduced into a period and looked up (see `compiler/src/ops/trig.rs`), against f64
//! over several periods, in the mock prover, with a changed output rejected; inputs too large to
//! reduce at the scale refused by name.

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
        let uncalibrated = compile(&bytes, &[]).unwrap();
        let err = uncalibrated.evaluate(&uncalibrated.quantize_input(&[70.0; 48]).unwrap()).unwrap_err().to_string();
        assert!(err.contains(&format!("{op} of 70")) && err.contains("below 2^6"), "{err}");
    }
}
