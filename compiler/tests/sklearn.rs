//! scikit-learn's linear ops as skl2onnx writes them (`ai.onnx.ml`): Scaler and
//! LinearRegressor, against their definitions.

mod common;

use common::*;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::AttributeProto;

fn floats_attribute(name: &str, v: &[f32]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOATS.into();
    a.floats = v.to_vec();
    a
}

#[test]
fn scaler_then_linear_regressor() {
    let (offset, scale) = ([0.5f32, -1.0, 2.0], [2.0f32, 0.25, 1.5]);
    let (coefficients, intercepts) = ([0.5f32, -1.25, 2.0, 1.0, 0.75, -0.5], [0.125f32, -2.0]);
    let model = Onnx::new(&[1, 3])
        .node("Scaler", "scaled", &["input"], vec![floats_attribute("offset", &offset), floats_attribute("scale", &scale)])
        .node(
            "LinearRegressor",
            "out",
            &["scaled"],
            vec![floats_attribute("coefficients", &coefficients), floats_attribute("intercepts", &intercepts), int_attribute("targets", 2)],
        )
        .bytes("out");
    let input = [1.5f32, 3.0, -0.5];
    let scaled: Vec<f64> = (0..3).map(|i| (input[i] as f64 - offset[i] as f64) * scale[i] as f64).collect();
    let expected: Vec<f64> = (0..2).map(|t| intercepts[t] as f64 + (0..3).map(|i| scaled[i] * coefficients[t * 3 + i] as f64).sum::<f64>()).collect();
    check_op(&model, &input, &expected, 0.02);
}

#[test]
fn a_regressor_with_a_post_transform_is_refused_by_name() {
    let model = Onnx::new(&[1, 2])
        .node("LinearRegressor", "out", &["input"], vec![floats_attribute("coefficients", &[1.0, 2.0]), string_attribute("post_transform", "PROBIT")])
        .bytes("out");
    let err = compile(&model, &[]).unwrap_err().to_string();
    assert!(err.contains("node 'out' (LinearRegressor): post_transform = PROBIT is not supported"), "{err}");
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    ints_attribute(name, v)
}

/// skl2onnx's multiclass LogisticRegression: LinearClassifier (SOFTMAX) then Normalizer (L1),
/// with the label and the probabilities both public; and the binary form (LOGISTIC per class).
#[test]
fn linear_classifiers_give_label_and_probabilities() {
    let coefficients = [0.5f32, -1.0, 0.25, 1.0, 0.75, -0.5, -0.25, 0.5, 1.5];
    let intercepts = [0.1f32, -0.2, 0.3];
    let input = [0.5f32, -1.25, 2.0];
    let scores: Vec<f64> = (0..3).map(|c| intercepts[c] as f64 + (0..3).map(|i| input[i] as f64 * coefficients[c * 3 + i] as f64).sum::<f64>()).collect();
    let best = (0..3).max_by(|&a, &b| scores[a].total_cmp(&scores[b])).unwrap();
    for (post, probabilities) in [
        ("SOFTMAX", {
            let e: Vec<f64> = scores.iter().map(|s| s.exp()).collect();
            let total: f64 = e.iter().sum();
            e.iter().map(|v| v / total).collect::<Vec<f64>>()
        }),
        ("LOGISTIC", scores.iter().map(|s| 1.0 / (1.0 + (-s).exp())).collect()),
    ] {
        let model = Onnx::new(&[1, 3])
            .node_with_outputs(
                "LinearClassifier",
                "classifier",
                &["input"],
                &["label", "tensor"],
                vec![
                    floats_attribute("coefficients", &coefficients),
                    floats_attribute("intercepts", &intercepts),
                    ints("classlabels_ints", &[0, 1, 2]),
                    string_attribute("post_transform", post),
                ],
            )
            .node("Normalizer", "probabilities", &["tensor"], vec![string_attribute("norm", "L1")])
            .node("ZipMap", "output_probability", &["probabilities"], vec![])
            .bytes_with_outputs(&["label", "output_probability"]);
        let model = compile(&model, &[input.to_vec()]).unwrap();
        let x = model.quantize_input(&input).unwrap();
        let (outputs, _) = model.evaluate(&x).unwrap();
        assert_eq!(model.output_shapes(), vec![vec![1], vec![1, 3]]);
        assert_eq!(model.dequantize(outputs[0].data[0]), best as f64, "{post}: label");
        let total: f64 = probabilities.iter().sum();
        for (q, p) in outputs[1].data.iter().zip(&probabilities) {
            assert!((model.dequantize(*q) - p / total).abs() < 0.02, "{post}: {} vs {}", model.dequantize(*q), p / total);
        }
        mock_prove(&model, &x).unwrap();
    }
}

/// SVMRegressor with each kernel it takes, against its definition at scale 2^-8 (a few steps:
/// each kernel's lookup and rescale), in the mock prover: RBF `exp(-gamma |x - sv|^2)` (the input
/// on a support vector too, where rounding must not push the distance below 0), sigmoid
/// `tanh(gamma x.sv + coef0)`, linear (folded into one dot product) and the linear form without
/// support vectors; a polynomial kernel is refused by name.
#[test]
fn svm_regressors_follow_their_kernels() {
    let sv = [0.5f32, -0.25, 1.0, 0.75, 0.0, -0.5];
    let (coefficients, rho, gamma, coef0) = ([1.5f32, -0.75], 0.25f32, 0.5f32, 0.125f32);
    let model = |kernel: &str, supports: i64| {
        let mut attributes = vec![
            floats_attribute("coefficients", if supports > 0 { &coefficients } else { &sv[..3] }),
            floats_attribute("rho", &[rho]),
            floats_attribute("kernel_params", &[gamma, coef0, 3.0]),
            string_attribute("kernel_type", kernel),
            int_attribute("n_supports", supports),
        ];
        if supports > 0 {
            attributes.push(floats_attribute("support_vectors", &sv));
        }
        Onnx::new(&[1, 3]).node("SVMRegressor", "svr", &["input"], attributes).bytes("svr")
    };
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum::<f64>();
    for input in [[0.5f32, -0.25, 1.0], [0.25, 0.5, -0.75]] {
        let k = |kernel: &str, j: usize| {
            let s = &sv[j * 3..j * 3 + 3];
            match kernel {
                "RBF" => (-(gamma as f64) * input.iter().zip(s).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>()).exp(),
                "SIGMOID" => (gamma as f64 * dot(&input, s) + coef0 as f64).tanh(),
                _ => dot(&input, s),
            }
        };
        for kernel in ["RBF", "SIGMOID", "LINEAR"] {
            let expected = rho as f64 + (0..2).map(|j| coefficients[j] as f64 * k(kernel, j)).sum::<f64>();
            check_op(&model(kernel, 2), &input, &[expected], 0.03);
        }
        check_op(&model("LINEAR", 0), &input, &[rho as f64 + dot(&input, &sv[..3])], 0.03);
    }
    let err = compile(&model("POLY", 2), &[]).unwrap_err().to_string();
    assert!(err.contains("(SVMRegressor)") && err.contains("kernel_type = POLY is not supported"), "{err}");
}

/// Binarizer (1 above the threshold, 0 at or below it, exactly at the grid) and Imputer (a
/// numeric replaced value matched exactly and replaced per feature; NaN, the identity), against
/// their definitions, in the mock prover.
#[test]
fn binarizer_and_imputer_compare_exactly() {
    let input = [0.5f32, 0.50390625, -1.25, 0.0];
    let binarizer = Onnx::new(&[1, 4]).node("Binarizer", "b", &["input"], vec![float_attribute("threshold", 0.5)]).bytes("b");
    let expected: Vec<f64> = input.iter().map(|v| if *v > 0.5 { 1.0 } else { 0.0 }).collect();
    check_op(&binarizer, &input, &expected, 0.0);
    let imputed = [9.0f32, 8.0, 7.0, 6.0];
    let imputer =
        Onnx::new(&[1, 4]).node("Imputer", "i", &["input"], vec![float_attribute("replaced_value_float", 0.5), floats_attribute("imputed_value_floats", &imputed)]).bytes("i");
    let expected: Vec<f64> = input.iter().zip(imputed).map(|(v, m)| if *v == 0.5 { m as f64 } else { *v as f64 }).collect();
    check_op(&imputer, &input, &expected, 0.0);
    let identity =
        Onnx::new(&[1, 4]).node("Imputer", "i", &["input"], vec![float_attribute("replaced_value_float", f32::NAN), floats_attribute("imputed_value_floats", &imputed)]).bytes("i");
    check_op(&identity, &input, &input.map(|v| v as f64), 0.0);
}
