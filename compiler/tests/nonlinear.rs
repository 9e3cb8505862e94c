//! Sigmoid, Tanh, Exp, Softmax, LeakyRelu, PRelu and ArgMax: the quantized evaluation against
//! onnxruntime (the fixtures) and exact references, the circuit in the mock prover, and
//! witnesses changed after synthesis that the constraints must reject.

mod common;

use common::*;

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

/// On the 120 held-out digits the quantized model picks onnxruntime's class; a few images
/// are within quantization error of a tie.
fn predictions_match(name: &str) {
    let (model, _) = fixture_model(name);
    let images = numbers(&fixture("digits_test.json"), "images");
    let expected = numbers(&fixture(&format!("{name}/test_predictions.json")), "predictions");
    let agree = images
        .chunks(64)
        .zip(&expected)
        .filter(|(image, class)| {
            let (outputs, _) = model.evaluate(&model.quantize_input(&floats(image)).unwrap()).unwrap();
            let values: Vec<f64> = outputs[0].data.iter().map(|v| model.dequantize(*v)).collect();
            argmax(&values) == **class as usize
        })
        .count();
    assert_eq!(expected.len(), 120);
    assert!(agree >= 115, "{name}: {agree}/120 predictions agree with onnxruntime");
}

#[test]
fn sigmoid_tanh_mlp_matches_onnxruntime() {
    // Logits up to about 11: quantized weights and activations, not only the tables.
    matches_onnxruntime("sigmoid_tanh_mlp", 0.1);
}

#[test]
fn softmax_bn_matches_onnxruntime() {
    matches_onnxruntime("softmax_bn", 0.02);
}

#[test]
fn sigmoid_tanh_mlp_predicts_like_onnxruntime() {
    predictions_match("sigmoid_tanh_mlp");
}

#[test]
fn softmax_bn_predicts_like_onnxruntime() {
    predictions_match("softmax_bn");
}

/// Inputs on the fixed-point grid, across and beyond each table's interval.
fn spread() -> Vec<f32> {
    vec![-20.0, -9.5, -7.9, -6.25, -4.0, -3.5, -2.125, -1.0, -0.5, -0.0625, 0.0, 0.03125, 0.25, 0.75, 1.5, 2.0, 3.0, 3.984375, 4.5, 7.0, 8.25, 30.0]
}

/// Within about one fixed-point step of the exact function, saturating beyond the table;
/// a changed output breaks the function gate.
#[test]
fn sigmoid_and_tanh_follow_the_exact_functions() {
    let input = spread();
    let n = input.len() as i64;
    let sigmoid: Vec<f64> = input.iter().map(|x| 1.0 / (1.0 + (-*x as f64).exp())).collect();
    let (model, x) = check_op(&one_op("Sigmoid", vec![], &[], &[1, n]), &input, &sigmoid, 1.1 / 256.0);
    let tanh: Vec<f64> = input.iter().map(|x| (*x as f64).tanh()).collect();
    check_op(&one_op("Tanh", vec![], &[], &[1, n]), &input, &tanh, 1.1 / 256.0);
    for i in [0, 9, 21] {
        assert!(gate_fails(&failures_after_changing_output(&model, &x, i), "function output"));
    }
}

/// Erf against published values (Abramowitz and Stegun, table 7.1), saturating beyond its
/// table; GELU as exporters decompose it, `x * (1 + erf(x / sqrt 2)) / 2`: a scale, the lookup,
/// a sum, a product of computed values and a scale, within a few steps.
#[test]
fn erf_follows_the_exact_function_and_gelu_composes() {
    let points: [(f32, f64); 9] = [
        (-20.0, -1.0),
        (-1.5, -0.966_105_146_5),
        (-0.25, -0.276_326_390_2),
        (0.0, 0.0),
        (0.5, 0.520_499_877_8),
        (1.0, 0.842_700_792_9),
        (2.0, 0.995_322_265_0),
        (3.0, 0.999_977_909_5),
        (6.0, 1.0),
    ];
    let (x, erf): (Vec<f32>, Vec<f64>) = points.iter().copied().unzip();
    let (model, q) = check_op(&one_op("Erf", vec![], &[], &[1, 9]), &x, &erf, 1.1 / 256.0);
    assert!(gate_fails(&failures_after_changing_output(&model, &q, 5), "function output"));

    let gelu = Onnx::new(&[1, 9])
        .floats("root2", &[], &[std::f32::consts::SQRT_2])
        .floats("one", &[], &[1.0])
        .floats("half", &[], &[0.5])
        .node("Div", "scaled", &["input", "root2"], vec![])
        .node("Erf", "erf", &["scaled"], vec![])
        .node("Add", "shifted", &["erf", "one"], vec![])
        .node("Mul", "gated", &["input", "shifted"], vec![])
        .node("Mul", "out", &["gated", "half"], vec![])
        .bytes("out");
    let x: Vec<f32> = vec![-6.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.2, 2.5, 5.0];
    let expected: Vec<f64> = x.iter().map(|&v| v as f64 * (1.0 + zkinfer_circuits::gadgets::Function::Erf.eval(v as f64 / std::f64::consts::SQRT_2)) / 2.0).collect();
    check_op(&gelu, &x, &expected, 0.05);
}

/// Mish, `x tanh(softplus(x))`: two lookups and a product of computed values, within a few
/// steps; Softplus alone grows past its table as `relu(x)` does.
#[test]
fn softplus_and_mish_follow_their_definitions() {
    let x: Vec<f32> = vec![-30.0, -6.0, -2.0, -0.75, 0.0, 0.5, 1.5, 3.0, 9.0, 40.0];
    let softplus = |v: f64| v.max(0.0) + (-v.abs()).exp().ln_1p();
    let expected: Vec<f64> = x.iter().map(|&v| softplus(v as f64)).collect();
    check_op(&one_op("Softplus", vec![], &[], &[1, 10]), &x, &expected, 1.1 / 256.0);
    let expected: Vec<f64> = x.iter().map(|&v| v as f64 * softplus(v as f64).tanh()).collect();
    let (model, q) = check_op(&one_op("Mish", vec![], &[], &[1, 10]), &x, &expected, 0.05);
    assert!(!failures_after_changing_output(&model, &q, 6).is_empty());
}

/// At or below 0, Exp is its table's lookup: within about a step (wider ranges in exp_log.rs).
#[test]
fn exp_at_or_below_zero_is_within_a_step() {
    let input: Vec<f32> = vec![-12.0, -6.0, -1.0, -0.25, 0.0, -0.0625];
    let reference: Vec<f64> = input.iter().map(|x| (*x as f64).exp()).collect();
    let bytes = one_op("Exp", vec![], &[], &[1, 6]);
    check_op(&bytes, &input, &reference, 1.1 / 256.0);
    // Calibrated, an input above the samples' range is refused as such.
    let beyond = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    let message = compile(&bytes, &[input]).unwrap().quantize_input(&beyond).unwrap_err().to_string();
    assert!(message.contains("value 1 at index 5 of input 'input' is outside [-12, 0]"), "{message}");
}

#[test]
fn softmax_sums_to_one_along_its_axis() {
    let input: Vec<f32> = vec![1.0, 2.0, 3.0, -4.0, 0.5, 0.5, 12.0, -12.0, 0.0];
    let reference: Vec<f64> = input
        .chunks(3)
        .flat_map(|lane| {
            let e: Vec<f64> = lane.iter().map(|v| (*v as f64).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| v / s)
        })
        .collect();
    let (model, x) = check_op(&one_op("Softmax", vec![int_attribute("axis", -1)], &[], &[1, 3, 3]), &input, &reference, 2.0 / 256.0);
    assert!(gate_fails(&failures_after_changing_output(&model, &x, 0), "divide"));

    // Along the middle axis of [1, 3, 3]: lanes are the columns.
    let transposed: Vec<f64> = (0..9).map(|i| reference[(i % 3) * 3 + i / 3]).collect();
    let columns: Vec<f32> = (0..9).map(|i| input[(i % 3) * 3 + i / 3]).collect();
    check_op(&one_op("Softmax", vec![int_attribute("axis", 1)], &[], &[1, 3, 3]), &columns, &transposed, 2.0 / 256.0);
}

/// The softmax of each row of a 3x3 input over its entries up to the diagonal, the rest 0.
fn causal_softmax(input: &[f32]) -> Vec<f64> {
    input
        .chunks(3)
        .enumerate()
        .flat_map(|(row, lane)| {
            let e: Vec<f64> = lane.iter().enumerate().map(|(col, v)| if col > row { 0.0 } else { (*v as f64).exp() }).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| v / s)
        })
        .collect()
}

/// Attention's causal mask as the exporters write it, `Where(mask == 0, -inf, scores)` then
/// Softmax: the masked entries are 0 and the others share the kept entries' sum. A -inf that
/// reaches anything but a Softmax, and a lane masked entirely (NaN in float), are refused by name.
#[test]
fn a_where_of_minus_infinity_masks_the_softmax_after_it() {
    let input: Vec<f32> = vec![1.0, 2.0, 3.0, -4.0, 0.5, 0.5, 12.0, -12.0, 0.0];
    let causal: Vec<f32> = (0..9).map(|i| if i % 3 > i / 3 { 1.0 } else { 0.0 }).collect();
    let masked = |condition: &[f32], then: &str| {
        Onnx::new(&[1, 3, 3])
            .floats("condition", &[3, 3], condition)
            .floats("minus_infinity", &[], &[f32::NEG_INFINITY])
            .node("Where", "where", &["condition", "minus_infinity", "input"], vec![])
            .node(then, "then", &["where"], vec![int_attribute("axis", -1)])
            .bytes("then")
    };
    let reference = causal_softmax(&input);
    let (model, x) = check_op(&masked(&causal, "Softmax"), &input, &reference, 2.0 / 256.0);
    assert!(gate_fails(&failures_after_changing_output(&model, &x, 4), "divide"));

    let err = compile(&masked(&causal, "Relu"), std::slice::from_ref(&input)).unwrap_err().to_string();
    assert!(err.contains("holds -inf") && err.contains("only a Softmax right after the Where"), "{err}");
    let mut whole_row = causal.clone();
    whole_row[..3].fill(1.0);
    let err = compile(&masked(&whole_row, "Softmax"), &[input]).unwrap_err().to_string();
    assert!(err.contains("masked entirely"), "{err}");
}

/// nn.Transformer's causal mask as the TorchScript exporter writes it: a float mask of 0 and -inf
/// added to the scores, then Softmax. The same softmax of the kept entries as the Where form;
/// an Add of -inf that reaches anything else is refused by name.
#[test]
fn an_added_mask_of_minus_infinity_masks_the_softmax_after_it() {
    let input: Vec<f32> = vec![1.0, 2.0, 3.0, -4.0, 0.5, 0.5, 12.0, -12.0, 0.0];
    let mask: Vec<f32> = (0..9).map(|i| if i % 3 > i / 3 { f32::NEG_INFINITY } else { 0.0 }).collect();
    let masked = |then: &str| {
        Onnx::new(&[1, 3, 3])
            .floats("mask", &[3, 3], &mask)
            .node("Add", "scores", &["input", "mask"], vec![])
            .node(then, "then", &["scores"], vec![int_attribute("axis", -1)])
            .bytes("then")
    };
    let reference = causal_softmax(&input);
    let (model, x) = check_op(&masked("Softmax"), &input, &reference, 2.0 / 256.0);
    assert!(gate_fails(&failures_after_changing_output(&model, &x, 4), "divide"));
    let err = compile(&masked("Relu"), std::slice::from_ref(&input)).unwrap_err().to_string();
    assert!(err.contains("holds -inf") && err.contains("only a Softmax right after the Add"), "{err}");
}

#[test]
fn leaky_relu_and_prelu_scale_negative_inputs() {
    let input: Vec<f32> = vec![-3.0, -0.5, 0.0, 0.25, 2.0, -10.0];
    let leaky: Vec<f64> = input.iter().map(|x| if *x < 0.0 { 0.1 * *x as f64 } else { *x as f64 }).collect();
    // The slope is quantized to 26/256: 0.0016 away from 0.1.
    check_op(&one_op("LeakyRelu", vec![float_attribute("alpha", 0.1)], &[], &[1, 6]), &input, &leaky, 0.02);

    let slopes = [0.25f32, 0.5, 0.0, 1.0, 2.0, -0.5];
    let prelu: Vec<f64> = input.iter().zip(slopes).map(|(x, a)| if *x < 0.0 { (a * x) as f64 } else { *x as f64 }).collect();
    check_op(&one_op("PRelu", vec![], &[(vec![6], slopes.to_vec())], &[1, 6]), &input, &prelu, 1.0 / 256.0);
}

/// The index dequantizes to itself; ties go to the first (or, with select_last_index, the
/// last) maximum as in onnxruntime; a changed index breaks the sum that counts positions.
#[test]
fn argmax_gives_the_index_of_the_maximum() {
    let input: Vec<f32> = vec![0.5, 2.0, -1.0, 2.0, 0.25, -3.0, -2.0, -2.5, -2.0, -9.0];
    let rows = |last: bool| -> Vec<f64> {
        input
            .chunks(5)
            .map(|lane| {
                let best = lane.iter().cloned().fold(f32::MIN, f32::max);
                let hits: Vec<usize> = (0..5).filter(|&i| lane[i] == best).collect();
                (if last { *hits.last().unwrap() } else { hits[0] }) as f64
            })
            .collect()
    };
    let (model, x) = check_op(&one_op("ArgMax", vec![int_attribute("axis", -1), int_attribute("keepdims", 1)], &[], &[1, 2, 5]), &input, &rows(false), 0.0);
    assert_eq!(model.output_shapes(), vec![vec![1, 2, 1]]);
    assert!(gate_fails(&failures_after_changing_output(&model, &x, 1), "dot"));
    let attributes = vec![int_attribute("axis", 2), int_attribute("keepdims", 0), int_attribute("select_last_index", 1)];
    let (model, _) = check_op(&one_op("ArgMax", attributes, &[], &[1, 2, 5]), &input, &rows(true), 0.0);
    assert_eq!(model.output_shapes(), vec![vec![1, 2]]);
}
