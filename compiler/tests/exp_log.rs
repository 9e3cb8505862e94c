//! Exp, Log and LogSoftmax over wide ranges, by range reduction with powers of two (see
//! `compiler/src/ops/exp_log.rs`): against f64, in the mock prover, with a changed output
//! rejected; values without a logarithm, and exponentials beyond the scale, refused by name.

mod common;

use common::*;

/// Steps of the tests' scale, 2^-8.
const STEP: f64 = 1.0 / 256.0;

fn spread(lo: f32, hi: f32, n: usize) -> Vec<f32> {
    (0..n).map(|i| lo + (hi - lo) * i as f32 / (n - 1) as f32).collect()
}

#[test]
fn exp_holds_its_relative_error_over_a_wide_range() {
    let x = spread(-9.0, 5.4, 40);
    let bytes = one_op("Exp", vec![], &[], &[1, 40]);
    let expected: Vec<f64> = x.iter().map(|&v| (v as f64).exp()).collect();
    let model = compile(&bytes, std::slice::from_ref(&x)).unwrap();
    let q = model.quantize_input(&x).unwrap();
    let (outputs, _) = model.evaluate(&q).unwrap();
    for (i, (o, e)) in outputs[0].data.iter().zip(&expected).enumerate() {
        let got = model.dequantize(*o);
        assert!((got - e).abs() <= 3.0 * STEP * e.max(1.0), "exp({}) = {got}, expected {e}", x[i]);
    }
    mock_prove(&model, &q).unwrap();
    assert!(!failures_after_changing_output(&model, &q, 7).is_empty(), "a changed output is rejected");
    let uncalibrated = compile(&bytes, &[]).unwrap();
    let err = uncalibrated.evaluate(&uncalibrated.quantize_input(&spread(5.6, 5.7, 40)).unwrap()).unwrap_err().to_string();
    assert!(err.contains("Exp of 5.6") && err.contains("coarser --scale"), "{err}");
}

#[test]
fn log_over_sixteen_octaves() {
    let x: Vec<f32> = spread(-8.0, 8.9, 40).iter().map(|e| 2f32.powf(*e)).collect();
    let bytes = one_op("Log", vec![], &[], &[1, 40]);
    let expected: Vec<f64> = x.iter().map(|&v| (v as f64).ln()).collect();
    // The input itself rounds to the grid: near 2^-8 that moves its logarithm by up to 0.4.
    let model = compile(&bytes, std::slice::from_ref(&x)).unwrap();
    let q = model.quantize_input(&x).unwrap();
    let (outputs, _) = model.evaluate(&q).unwrap();
    for (i, (o, v)) in outputs[0].data.iter().zip(&q).enumerate() {
        let exact = (*v as f64 * STEP).ln();
        assert!((model.dequantize(*o) - exact).abs() <= 3.0 * STEP, "ln({}) = {}, expected {exact} ({})", x[i], model.dequantize(*o), expected[i]);
    }
    mock_prove(&model, &q).unwrap();
    assert!(!failures_after_changing_output(&model, &q, 11).is_empty(), "a changed output is rejected");
    let uncalibrated = compile(&bytes, &[]).unwrap();
    for (bad, why) in [(0.0, "at or below 0 has no logarithm"), (-1.5, "at or below 0 has no logarithm"), (600.0, "below 2^9")] {
        let input: Vec<f32> = x.iter().enumerate().map(|(i, &v)| if i == 3 { bad } else { v }).collect();
        let err = uncalibrated.evaluate(&uncalibrated.quantize_input(&input).unwrap()).unwrap_err().to_string();
        assert!(err.contains("Log of") && err.contains(why), "{bad}: {err}");
    }
}

#[test]
fn log_softmax_along_either_axis() {
    let x = spread(-6.0, 7.0, 30);
    for axis in [1i64, 0] {
        let bytes = one_op("LogSoftmax", vec![int_attribute("axis", axis)], &[], &[3, 10]);
        let expected: Vec<f64> = (0..30)
            .map(|i| {
                let lane: Vec<usize> = if axis == 1 { (0..10).map(|j| i / 10 * 10 + j).collect() } else { (0..3).map(|j| i % 10 + 10 * j).collect() };
                let max = lane.iter().map(|&j| x[j] as f64).fold(f64::NEG_INFINITY, f64::max);
                x[i] as f64 - max - lane.iter().map(|&j| (x[j] as f64 - max).exp()).sum::<f64>().ln()
            })
            .collect();
        // Each exponential is within about 1.5 steps, so the sum of n within 1.5 n: the
        // logarithm of the sum within 1.5 n steps, and two more for its lookup and rounding.
        let (model, q) = check_op(&bytes, &x, &expected, (1.5 * 10.0 + 2.0) * STEP);
        assert!(!failures_after_changing_output(&model, &q, 4).is_empty(), "a changed output is rejected");
    }
}

#[test]
fn reduce_log_sum_exp_over_rows() {
    let x = spread(-6.0, 9.0, 24);
    let bytes = one_op("ReduceLogSumExp", vec![ints_attribute("axes", &[1]), int_attribute("keepdims", 0)], &[], &[3, 8]);
    let expected: Vec<f64> = x
        .chunks(8)
        .map(|row| {
            let max = row.iter().map(|&v| v as f64).fold(f64::NEG_INFINITY, f64::max);
            max + row.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln()
        })
        .collect();
    let (model, q) = check_op(&bytes, &x, &expected, (1.5 * 8.0 + 2.0) * STEP);
    assert_eq!(model.output_shapes(), vec![vec![3]]);
    assert!(!failures_after_changing_output(&model, &q, 1).is_empty(), "a changed output is rejected");
}

/// Pow with other constant exponents: whole ones by products (a negative one divides), others
/// as `e^(p ln x)` on positive bases; a base at or below 0 with such an exponent refused.
#[test]
fn pow_with_any_constant_exponent() {
    let x = spread(0.25, 2.5, 24);
    for (p, steps) in [(3.0f32, 8.0), (0.0, 0.0), (-2.0, 8.0), (1.5, 4.0), (-0.5, 3.0)] {
        let bytes = one_op("Pow", vec![], &[(vec![], vec![p])], &[1, 24]);
        let model = compile(&bytes, std::slice::from_ref(&x)).unwrap();
        let q = model.quantize_input(&x).unwrap();
        let (outputs, _) = model.evaluate(&q).unwrap();
        for (i, (o, v)) in outputs[0].data.iter().zip(&q).enumerate() {
            let exact = (*v as f64 * STEP).powf(p as f64);
            assert!((model.dequantize(*o) - exact).abs() <= steps * STEP * exact.max(1.0), "{}^{p} = {}, expected {exact}", x[i], model.dequantize(*o));
        }
        mock_prove(&model, &q).unwrap();
    }
    let model = compile(&one_op("Pow", vec![], &[(vec![], vec![1.5])], &[1, 2]), &[]).unwrap();
    let err = model.evaluate(&model.quantize_input(&[-1.0, 2.0]).unwrap()).unwrap_err().to_string();
    assert!(err.contains("Pow of -1 to 1.5: a base at or below 0 has no real power"), "{err}");
}
