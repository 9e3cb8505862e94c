//! Means and constant factors are rounded once, so their outputs are within half a step of the
//! exact value at any count: ReduceMean over 300 values, GlobalAveragePool over 7x7 and 23x23
//! planes (where a weight of round(2^8 / count) was 4.3% low and then 0), AveragePool with and
//! without the padding counted, division by 600 (which was 0), and factors the activation scale
//! cannot hold. Also the ONNX forms that reduced nothing (empty axes) and a 1x1 convolution whose
//! border windows lie in the padding.

mod common;

use common::*;

/// Half a step at scale 2^8, and a little for the f64 reference's own rounding.
const HALF_STEP: f64 = 0.5 / 256.0 + 1e-9;

/// Distinct values that scale 2^8 holds exactly, so the only error left is the op's.
fn values(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 37 % 101) as f32 - 50.0) / 64.0).collect()
}

fn mean(v: &[f32]) -> f64 {
    v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64
}

#[test]
fn reduce_mean_over_300_values_is_within_half_a_step() {
    // Around 40: a weight of round(2^8 / 300) / 2^8 made this mean 17% high.
    let input: Vec<f32> = values(300).iter().map(|v| v / 8.0 + 40.0).collect();
    let model = one_op("ReduceMean", vec![ints_attribute("axes", &[1]), int_attribute("keepdims", 0)], &[], &[1, 300]);
    check_op(&model, &input, &[mean(&input)], HALF_STEP);
}

#[test]
fn global_average_pool_is_within_half_a_step_at_any_plane() {
    for side in [7usize, 23] {
        let input = values(2 * side * side);
        let model = one_op("GlobalAveragePool", vec![], &[], &[1, 2, side as i64, side as i64]);
        let plane = side * side;
        check_op(&model, &input, &[mean(&input[..plane]), mean(&input[plane..])], HALF_STEP);
    }
}

#[test]
fn average_pool_counts_the_padding_only_when_asked() {
    let input = values(16);
    let at = |y: i64, x: i64| if (0..4).contains(&y) && (0..4).contains(&x) { input[(y * 4 + x) as usize] as f64 } else { 0.0 };
    for include in [0, 1] {
        let attributes = vec![ints_attribute("kernel_shape", &[3, 3]), ints_attribute("pads", &[1, 1, 1, 1]), int_attribute("count_include_pad", include)];
        let model = one_op("AveragePool", attributes, &[], &[1, 1, 4, 4]);
        let expected: Vec<f64> = (0..4)
            .flat_map(|oy| (0..4).map(move |ox| (oy, ox)))
            .map(|(oy, ox)| {
                let taps: Vec<(i64, i64)> = (oy - 1..=oy + 1).flat_map(|y| (ox - 1..=ox + 1).map(move |x| (y, x))).collect();
                let inside = taps.iter().filter(|&&(y, x)| (0..4).contains(&y) && (0..4).contains(&x)).count();
                taps.iter().map(|&(y, x)| at(y, x)).sum::<f64>() / if include == 1 { 9.0 } else { inside as f64 }
            })
            .collect();
        check_op(&model, &input, &expected, HALF_STEP);
    }
}

#[test]
fn division_and_products_by_constants_are_rounded_once() {
    let input: Vec<f32> = values(8).iter().map(|v| v * 40.0).collect();
    // Integers divide exactly; other factors are held to 2^-16, which adds |x| 2^-17 (|x| < 32),
    // and their two rescales add 2^-9 of a step.
    let held = HALF_STEP + 32.0 / 131072.0 + 1.0 / 131072.0;
    for (op, c, tolerance) in [("Div", 600.0f32, HALF_STEP), ("Div", 3.0, HALF_STEP), ("Div", 3.1622777, held), ("Div", 0.3, held), ("Mul", 0.1, held)] {
        let model = one_op(op, vec![], &[(vec![], vec![c])], &[1, 8]);
        let expected: Vec<f64> = input.iter().map(|&x| if op == "Div" { x as f64 / c as f64 } else { x as f64 * c as f64 }).collect();
        check_op(&model, &input, &expected, tolerance);
    }
    // A factor too small for the finest step is refused by name, not proved as zero.
    let model = one_op("Mul", vec![], &[(vec![], vec![1e-9])], &[1, 8]);
    let err = compile(&model, &[input]).unwrap_err().to_string();
    assert!(err.contains("multiplying by 0.000000001") && err.contains("beyond what 2^-16 steps hold"), "{err}");
}

#[test]
fn empty_axes_reduce_everything_unless_noop() {
    let input = values(6);
    let sum: f64 = input.iter().map(|v| *v as f64).sum();
    let model = Onnx::new(&[1, 2, 3]).int64s("axes", &[]).node("ReduceSum", "reducesum", &["input", "axes"], vec![int_attribute("keepdims", 0)]).bytes("reducesum");
    check_op(&model, &input, &[sum], 1e-9);
    let model = Onnx::new(&[1, 2, 3]).int64s("axes", &[]).node("ReduceMean", "reducemean", &["input", "axes"], vec![int_attribute("noop_with_empty_axes", 1)]).bytes("reducemean");
    let same: Vec<f64> = input.iter().map(|v| *v as f64).collect();
    check_op(&model, &input, &same, 1e-9);
}

#[test]
fn a_window_in_the_padding_is_the_bias() {
    let input = values(4);
    let attributes = vec![ints_attribute("pads", &[1, 1, 1, 1])];
    let model = one_op("Conv", attributes, &[(vec![1, 1, 1, 1], vec![2.0]), (vec![1], vec![0.5])], &[1, 1, 2, 2]);
    let expected: Vec<f64> = (0..4)
        .flat_map(|y| (0..4).map(move |x| (y, x)))
        .map(|(y, x)| if (1..3).contains(&y) && (1..3).contains(&x) { 2.0 * input[(y - 1) * 2 + (x - 1)] as f64 + 0.5 } else { 0.5 })
        .collect();
    check_op(&model, &input, &expected, HALF_STEP);
}

/// A 1-D convolution (audio, time series) with stride and padding proves, as a 2-D one does.
#[test]
fn a_one_dimensional_convolution_proves() {
    let input = values(6);
    let w = [0.5f32, -1.0, 0.25];
    let attributes = vec![ints_attribute("pads", &[1, 1]), ints_attribute("strides", &[2])];
    let model = one_op("Conv", attributes, &[(vec![1, 1, 3], w.to_vec()), (vec![1], vec![0.25])], &[1, 1, 6]);
    let padded: Vec<f64> = std::iter::once(0.0).chain(input.iter().map(|v| *v as f64)).chain(std::iter::once(0.0)).collect();
    let expected: Vec<f64> = (0..3).map(|o| 0.25 + (0..3).map(|k| padded[2 * o + k] * w[k] as f64).sum::<f64>()).collect();
    let (model, _) = check_op(&model, &input, &expected, HALF_STEP);
    assert_eq!(model.output_shapes(), vec![vec![1, 1, 3]]);
}

/// Under private parameters the divisor is a witness, so division takes the 2^-15 form, and the
/// circuit still holds.
#[test]
fn private_divisors_divide_too() {
    let input: Vec<f32> = values(8).iter().map(|v| v * 40.0).collect();
    let model = compile_with(&one_op("Div", vec![], &[(vec![], vec![600.0])], &[1, 8]), std::slice::from_ref(&input), zkinfer_compiler::ParamVisibility::Private).unwrap();
    let x = model.quantize_input(&input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    for (q, v) in outputs[0].data.iter().zip(&input) {
        let (got, expected) = (model.dequantize(*q), *v as f64 / 600.0);
        assert!((got - expected).abs() <= HALF_STEP + 32.0 / 65536.0, "{got} vs {expected}");
    }
    mock_prove(&model, &x).unwrap();
}

/// A MatMul multiplies every row of its input, as a sequence model's projections do.
#[test]
fn matmul_multiplies_every_row() {
    let input = values(6);
    let w = [0.5f32, -1.0, 0.25, 2.0, 1.0, -0.5];
    let model = one_op("MatMul", vec![], &[(vec![2, 3], w.to_vec())], &[1, 3, 2]);
    let x = &input;
    let expected: Vec<f64> = (0..3).flat_map(|r| (0..3).map(move |j| (0..2).map(|i| x[r * 2 + i] as f64 * w[i * 3 + j] as f64).sum::<f64>())).collect();
    let (model, _) = check_op(&model, &input, &expected, HALF_STEP);
    assert_eq!(model.output_shapes(), vec![vec![1, 3, 3]]);
}

/// A Cast to an integer type truncates toward zero, as onnxruntime's does.
#[test]
fn cast_to_an_integer_truncates_toward_zero() {
    let input = [-1.75f32, -0.5, 0.25, 2.5, 3.0, -3.0];
    let model = Onnx::new(&[1, 6]).node("Cast", "out", &["input"], vec![int_attribute("to", 7)]).bytes("out");
    let expected: Vec<f64> = input.iter().map(|v| v.trunc() as f64).collect();
    check_op(&model, &input, &expected, 1e-9);
}

/// Trilu over the last two axes of `[2, 3, 4]`: the upper triangle from diagonal `k`, or the
/// lower one up to it, the rest 0.
#[test]
fn trilu_keeps_a_triangle() {
    let input = values(24);
    for (upper, k) in [(1, 0), (1, 2), (0, -1), (0, 1)] {
        let model = Onnx::new(&[2, 3, 4]).int64s("k", &[k]).node("Trilu", "trilu", &["input", "k"], vec![int_attribute("upper", upper)]).bytes("trilu");
        let expected: Vec<f64> = (0..24)
            .map(|i| {
                let d = (i % 4) as i64 - (i / 4 % 3) as i64;
                let kept = if upper == 1 { d >= k } else { d <= k };
                if kept {
                    input[i] as f64
                } else {
                    0.0
                }
            })
            .collect();
        check_op(&model, &input, &expected, 1e-9);
    }
}
