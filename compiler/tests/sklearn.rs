//! scikit-learn's linear ops as skl2onnx writes them (`ai.onnx.ml`): Scaler and
//! LinearRegressor, against their definitions.

mod common;

use common::*;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::AttributeProto;
use zkinfer_compiler::ParamVisibility;

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
/// `tanh(gamma x.sv + coef0)`, cubic `(gamma x.sv + coef0)^3`, linear (folded into one dot
/// product) and the linear form without support vectors; a fractional degree is refused by name.
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
                "POLY" => (gamma as f64 * dot(&input, s) + coef0 as f64).powi(3),
                _ => dot(&input, s),
            }
        };
        for kernel in ["RBF", "SIGMOID", "POLY", "LINEAR"] {
            let expected = rho as f64 + (0..2).map(|j| coefficients[j] as f64 * k(kernel, j)).sum::<f64>();
            check_op(&model(kernel, 2), &input, &[expected], 0.03);
        }
        check_op(&model("LINEAR", 0), &input, &[rho as f64 + dot(&input, &sv[..3])], 0.03);
    }
    let fractional = Onnx::new(&[1, 3])
        .node(
            "SVMRegressor",
            "svr",
            &["input"],
            vec![
                floats_attribute("coefficients", &coefficients),
                floats_attribute("rho", &[rho]),
                floats_attribute("support_vectors", &sv),
                floats_attribute("kernel_params", &[gamma, coef0, 2.5]),
                string_attribute("kernel_type", "POLY"),
                int_attribute("n_supports", 2),
            ],
        )
        .bytes("svr");
    let err = compile(&fractional, &[]).unwrap_err().to_string();
    assert!(err.contains("(SVMRegressor)") && err.contains("degree 2.5 is not supported"), "{err}");
}

/// SVMClassifier, one against one, with each kernel it takes, against libsvm's definition at
/// scale 2^-8, in the mock prover: three classes (2, 1 and 2 support vectors; the label and
/// the three pairwise decisions) and two (the label and `[-s, s]`). Probability estimates are
/// refused by name.
#[test]
fn svm_classifiers_vote_one_against_one() {
    let sv = [0.5f32, -0.25, 1.0, 0.75, 0.0, -0.5, -1.0, 0.5, 0.25, 0.25, 0.25, 0.75, -0.5, -0.75, 0.0];
    // (classes - 1) x vectors.
    let coefficients = [1.5f32, -0.75, 0.5, 1.0, -1.25, 0.25, 2.0, -1.0, 0.75, -0.5];
    let rho = [0.25f32, -0.5, 0.125];
    let (gamma, coef0) = (0.5f32, 0.125f32);
    let model = |kernel: &str, per_class: &[i64], coefficients: &[f32], rho: &[f32], extra: Vec<AttributeProto>| {
        let classes = per_class.len() as i64;
        let mut attributes = vec![
            floats_attribute("coefficients", coefficients),
            floats_attribute("rho", rho),
            floats_attribute("kernel_params", &[gamma, coef0, 2.0]),
            string_attribute("kernel_type", kernel),
            ints_attribute("vectors_per_class", per_class),
            ints_attribute("classlabels_ints", &(0..classes).collect::<Vec<_>>()),
            floats_attribute("support_vectors", &sv[..3 * per_class.iter().sum::<i64>() as usize]),
        ];
        attributes.extend(extra);
        Onnx::new(&[1, 3]).node_with_outputs("SVMClassifier", "svc", &["input"], &["label", "scores"], attributes).bytes_with_outputs(&["label", "scores"])
    };
    let dot = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum::<f64>();
    // libsvm: per pair (i, j) the class-i vectors weighted by row j - 1, the class-j ones by row
    // i, plus rho; a vote for i where the decision is positive; the first class with most votes.
    let reference = |kernel: &str, input: &[f32], per_class: &[usize], coefficients: &[f32], rho: &[f32]| {
        let n: usize = per_class.iter().sum();
        let k = |j: usize| {
            let s = &sv[j * 3..j * 3 + 3];
            match kernel {
                "RBF" => (-(gamma as f64) * input.iter().zip(s).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>()).exp(),
                "SIGMOID" => (gamma as f64 * dot(input, s) + coef0 as f64).tanh(),
                "POLY" => (gamma as f64 * dot(input, s) + coef0 as f64).powi(2),
                _ => dot(input, s),
            }
        };
        let start = |c: usize| per_class[..c].iter().sum::<usize>();
        let (mut votes, mut decisions) = (vec![0; per_class.len()], vec![]);
        for i in 0..per_class.len() {
            for j in i + 1..per_class.len() {
                let side = |c: usize, row: usize| (start(c)..start(c) + per_class[c]).map(|v| coefficients[row * n + v] as f64 * k(v)).sum::<f64>();
                let d = rho[decisions.len()] as f64 + side(i, j - 1) + side(j, i);
                votes[if d > 0.0 { i } else { j }] += 1;
                decisions.push(d);
            }
        }
        let best = *votes.iter().max().unwrap();
        (votes.iter().position(|v| *v == best).unwrap() as f64, decisions)
    };
    for input in [[0.5f32, -0.25, 1.0], [0.25, 0.5, -0.75], [-1.0, 0.5, 0.25]] {
        for kernel in ["RBF", "SIGMOID", "POLY", "LINEAR"] {
            for (per_class, coefficients, rho) in [(&[2usize, 1, 2][..], &coefficients[..], &rho[..]), (&[2, 3][..], &coefficients[..5], &rho[..1])] {
                let classes: Vec<i64> = per_class.iter().map(|&c| c as i64).collect();
                let bytes = model(kernel, &classes, coefficients, rho, vec![]);
                let (label, decisions) = reference(kernel, &input, per_class, coefficients, rho);
                let scores = match per_class.len() {
                    2 => vec![-decisions[0], decisions[0]],
                    _ => decisions.clone(),
                };
                let model = compile(&bytes, &[input.to_vec()]).unwrap();
                let x = model.quantize_input(&input).unwrap();
                let (outputs, _) = model.evaluate(&x).unwrap();
                let float = model.evaluate_float(&input).unwrap();
                assert_eq!(model.dequantize(outputs[0].data[0]), label, "{kernel} {per_class:?} {input:?}: label");
                assert_eq!(float[0].data[0] as f64, label);
                assert_eq!(outputs[1].len(), scores.len());
                for ((q, f), e) in outputs[1].data.iter().zip(&float[1].data).zip(&scores) {
                    assert!((model.dequantize(*q) - e).abs() <= 0.05, "{kernel} {per_class:?} {input:?}: {} vs {e}", model.dequantize(*q));
                    assert!((*f as f64 - e).abs() <= 1e-5 * e.abs().max(1.0), "{kernel}: float {f} vs {e}");
                }
                mock_prove(&model, &x).unwrap();
            }
        }
    }
    let probabilities = model("RBF", &[2, 1, 2], &coefficients, &rho, vec![floats_attribute("prob_a", &[1.0; 3]), floats_attribute("prob_b", &[0.0; 3])]);
    let err = compile(&probabilities, &[]).unwrap_err().to_string();
    assert!(err.contains("(SVMClassifier)") && err.contains("probability=False"), "{err}");
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

/// OneHotEncoder (integer categories, a value in none of them encoded as zeros) and
/// LabelEncoder (integer and float keys, the default elsewhere) match their values exactly, also
/// under private parameters (each key's weight read from one cell); OneHotEncoder's `zeros = 0`
/// is refused by name.
#[test]
fn encoders_match_exactly() {
    let input = [0.0f32, 1.0, 5.0, 3.0, 2.5, -1.0];
    let categories = [0i64, 1, 2, 5];
    let encoder =
        |zeros: i64| Onnx::new(&[1, 6]).node("OneHotEncoder", "hot", &["input"], vec![ints_attribute("cats_int64s", &categories), int_attribute("zeros", zeros)]).bytes("hot");
    let expected: Vec<f64> = input.iter().flat_map(|&x| categories.map(|c| if x == c as f32 { 1.0 } else { 0.0 })).collect();
    check_op(&encoder(1), &input, &expected, 0.0);
    let err = compile(&encoder(0), &[]).unwrap_err().to_string();
    assert!(err.contains("(OneHotEncoder)") && err.contains("handle_unknown='ignore'"), "{err}");

    let integers = Onnx::new(&[1, 6])
        .node(
            "LabelEncoder",
            "labels",
            &["input"],
            vec![ints_attribute("keys_int64s", &[1, 2, 5]), ints_attribute("values_int64s", &[10, 20, 50]), int_attribute("default_int64", -1)],
        )
        .bytes("labels");
    let expected: Vec<f64> = input.iter().map(|&x| [(1.0, 10.0), (2.0, 20.0), (5.0, 50.0)].iter().find(|(k, _)| *k == x).map_or(-1.0, |(_, v)| *v)).collect();
    check_op(&integers, &input, &expected, 0.0);
    let floats = Onnx::new(&[1, 6])
        .node("LabelEncoder", "labels", &["input"], vec![floats_attribute("keys_floats", &[2.5, -1.0, 0.3]), floats_attribute("values_floats", &[1.5, -2.25, 7.0])])
        .bytes("labels");
    // 0.3 is off the grid: no fixed-point value equals it; the default is -0.0.
    let expected: Vec<f64> = input
        .iter()
        .map(|&x| {
            if x == 2.5 {
                1.5
            } else if x == -1.0 {
                -2.25
            } else {
                0.0
            }
        })
        .collect();
    for params in [ParamVisibility::Fixed, ParamVisibility::Private] {
        let model = compile_with(&floats, &[input.to_vec()], params).unwrap();
        let x = model.quantize_input(&input).unwrap();
        let (outputs, _) = model.evaluate(&x).unwrap();
        let got: Vec<f64> = outputs[0].data.iter().map(|q| model.dequantize(*q)).collect();
        assert_eq!(got, expected, "{params:?}");
        mock_prove(&model, &x).unwrap();
    }
}
