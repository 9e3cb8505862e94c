//! Square roots and normalisations: Sqrt and Pow against the exact functions, LayerNormalization
//! against its definition, each within its documented error, and the circuit's own checks.

mod common;

use common::*;
use zkinfer_compiler::Model;

/// Compiled at 2^-16 on `x` (which must leave the model bounded) and proved on it by the mock
/// prover: the largest error against `expected`.
fn bounded_error_at_16(bytes: &[u8], x: &[f32], expected: &[f64]) -> f64 {
    let (settings, report) = zkinfer_compiler::compile(bytes, &options(16), &[x.to_vec()]).unwrap();
    assert!(report.bounded_largest.is_some(), "{:?}", report.unbounded);
    let model = Model::from_onnx(bytes, settings).unwrap();
    let q = model.quantize_input(x).unwrap();
    mock_prove(&model, &q).unwrap();
    let (outputs, _) = model.evaluate(&q).unwrap();
    outputs[0].data.iter().zip(expected).map(|(o, e)| (model.dequantize(*o) - e).abs()).fold(0.0, f64::max)
}

/// Inputs away from 0, where the root's slope keeps the input's rounding below a step.
fn positive(n: usize) -> Vec<f32> {
    (0..n).map(|i| 0.25 + 0.37 * i as f32).collect()
}

/// A floor root: at most a step below, plus the input's half step through a slope of at most 1.
#[test]
fn sqrt_is_a_step_below_at_most_and_its_root_is_checked() {
    let x = positive(12);
    let expected: Vec<f64> = x.iter().map(|v| (*v as f64).sqrt()).collect();
    let (model, q) = check_op(&one_op("Sqrt", vec![], &[], &[1, 12]), &x, &expected, 1.5 / 256.0);
    for i in [0, 5, 11] {
        assert!(!failures_after_changing_output(&model, &q, i).is_empty(), "a root changed by a step at {i}");
    }
    // Pow with 0.5 is the same root; with 2, a product.
    check_op(&one_op("Pow", vec![], &[(vec![], vec![0.5])], &[1, 12]), &x, &expected, 1.5 / 256.0);
    let squares: Vec<f64> = x.iter().map(|v| (*v as f64).powi(2)).collect();
    check_op(&one_op("Pow", vec![], &[(vec![], vec![2.0])], &[1, 12]), &x, &squares, 0.05);
    let err = compile(&one_op("Pow", vec![], &[(vec![], vec![100.0])], &[1, 12]), &[x]).unwrap_err().to_string();
    assert!(err.contains("(Pow): exponent 100: whole exponents up to 64 in magnitude"), "{err}");
}

#[test]
fn the_root_of_a_negative_value_is_refused_before_proving() {
    let model = compile(&one_op("Sqrt", vec![], &[], &[1, 3]), &[]).unwrap();
    let err = model.evaluate(&model.quantize_input(&[1.0, -0.5, 2.0]).unwrap()).unwrap_err().to_string();
    assert!(err.contains("(Sqrt): the square root of -128, below 0"), "{err}");
}

/// `(x - mean) / sqrt(var + eps) * scale + bias` over the last axis and over the last two, with
/// a per-feature scale and bias: the quantized model within a few steps at 2^-8 and within 1e-3
/// at 2^-16, and it proves.
#[test]
fn layer_normalization_follows_its_definition() {
    let x: Vec<f32> = (0..24).map(|i| ((i * 7 % 11) as f32 - 5.0) * 0.3 + (i / 8) as f32).collect();
    for (axis, n) in [(-1i64, 4usize), (1, 8)] {
        let scale: Vec<f32> = (0..n).map(|i| 0.5 + 0.25 * i as f32).collect();
        let bias: Vec<f32> = (0..n).map(|i| 0.1 * i as f32 - 0.2).collect();
        let feature_shape = if n == 4 { vec![4] } else { vec![2, 4] };
        let bytes = one_op(
            "LayerNormalization",
            vec![int_attribute("axis", axis), float_attribute("epsilon", 1e-5)],
            &[(feature_shape.clone(), scale.clone()), (feature_shape, bias.clone())],
            &[3, 2, 4],
        );
        let expected: Vec<f64> = x
            .chunks(n)
            .flat_map(|g| {
                let mean = g.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
                let var = g.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
                let (scale, bias) = (&scale, &bias);
                g.iter().enumerate().map(move |(j, &v)| (v as f64 - mean) / (var + 1e-5).sqrt() * scale[j] as f64 + bias[j] as f64)
            })
            .collect();
        check_op(&bytes, &x, &expected, 0.05);
        // The deviation over a root of at least epsilon's: bounded, so every input in the range proves.
        let worst = bounded_error_at_16(&bytes, &x, &expected);
        assert!(worst < 1e-3, "axis {axis}: {worst}");
    }
}

/// The exporters' decompositions, with the ops each is made of: LayerNorm as ReduceMean, Sub,
/// Pow 2, ReduceMean, Add epsilon, Sqrt, Div, Mul and Add; RMSNorm as Pow 2, ReduceMean, Add
/// epsilon, Sqrt, Reciprocal and Mul. Both against their definitions at 2^-16, and they prove.
#[test]
fn layer_norm_and_rms_norm_decompositions_prove() {
    let x: Vec<f32> = (0..12).map(|i| ((i * 5 % 7) as f32 - 3.0) * 0.4 + (i / 4) as f32 * 0.5).collect();
    let (gamma, beta) = ([0.9f32, 1.1, -0.7, 1.3], [0.05f32, -0.1, 0.2, 0.0]);
    let axes = |o: Onnx| o.int64s("axes", &[-1]);
    let layer_norm = axes(Onnx::new(&[3, 4]))
        .floats("two", &[], &[2.0])
        .floats("eps", &[], &[1e-5])
        .floats("gamma", &[4], &gamma)
        .floats("beta", &[4], &beta)
        .node("ReduceMean", "mean", &["input", "axes"], vec![])
        .node("Sub", "dev", &["input", "mean"], vec![])
        .node("Pow", "sq", &["dev", "two"], vec![])
        .node("ReduceMean", "var", &["sq", "axes"], vec![])
        .node("Add", "shifted", &["var", "eps"], vec![])
        .node("Sqrt", "sigma", &["shifted"], vec![])
        .node("Div", "norm", &["dev", "sigma"], vec![])
        .node("Mul", "scaled", &["norm", "gamma"], vec![])
        .node("Add", "out", &["scaled", "beta"], vec![])
        .bytes("out");
    // An epsilon of at least half a step (2^-17) keeps the root at least 1 and so the model
    // bounded; with 1e-6, which rounds to 0, an all-zero row would divide by 0 and the report
    // says so.
    let rms_norm = axes(Onnx::new(&[3, 4]))
        .floats("two", &[], &[2.0])
        .floats("eps", &[], &[1e-5])
        .floats("gamma", &[4], &gamma)
        .node("Pow", "sq", &["input", "two"], vec![])
        .node("ReduceMean", "ms", &["sq", "axes"], vec![])
        .node("Add", "shifted", &["ms", "eps"], vec![])
        .node("Sqrt", "rms", &["shifted"], vec![])
        .node("Reciprocal", "inv", &["rms"], vec![])
        .node("Mul", "norm", &["input", "inv"], vec![])
        .node("Mul", "out", &["norm", "gamma"], vec![])
        .bytes("out");
    let rows = |f: &dyn Fn(&[f64]) -> Vec<f64>| -> Vec<f64> { x.chunks(4).flat_map(|r| f(&r.iter().map(|&v| v as f64).collect::<Vec<_>>())).collect() };
    let layer_expected = rows(&|r| {
        let mean = r.iter().sum::<f64>() / 4.0;
        let sigma = (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0 + 1e-5).sqrt();
        r.iter().enumerate().map(|(j, v)| (v - mean) / sigma * gamma[j] as f64 + beta[j] as f64).collect()
    });
    let rms_expected = rows(&|r| {
        let rms = (r.iter().map(|v| v * v).sum::<f64>() / 4.0 + 1e-5).sqrt();
        r.iter().enumerate().map(|(j, v)| v / rms * gamma[j] as f64).collect()
    });
    for (name, bytes, expected) in [("LayerNorm", layer_norm, layer_expected), ("RMSNorm", rms_norm, rms_expected)] {
        let worst = bounded_error_at_16(&bytes, &x, &expected);
        assert!(worst < 2e-3, "{name}: {worst}");
    }
}

/// GlobalLpPool's norms per channel (p = 1 exact on the grid; p = 2 the root a step below at
/// most, as ReduceL2's), and p = 3 refused by name. LpPool's windows are the onnx cases'.
#[test]
fn global_lp_pool_takes_each_channels_norm() {
    let x = [0.5f32, -1.25, 2.0, 0.75, -0.25, 1.5, 0.0, -3.0];
    let model = |p: i64| Onnx::new(&[1, 2, 2, 2]).node("GlobalLpPool", "pool", &["input"], vec![int_attribute("p", p)]).bytes("pool");
    let l1: Vec<f64> = x.chunks(4).map(|c| c.iter().map(|v| v.abs() as f64).sum()).collect();
    check_op(&model(1), &x, &l1, 0.0);
    let l2: Vec<f64> = x.chunks(4).map(|c| c.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt()).collect();
    check_op(&model(2), &x, &l2, 2.0 / 256.0);
    let err = compile(&model(3), &[]).unwrap_err().to_string();
    assert!(err.contains("(GlobalLpPool)") && err.contains("p = 3 is not supported"), "{err}");
}
