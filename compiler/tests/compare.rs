//! Comparisons of computed values (Less, LessOrEqual, Greater, GreaterOrEqual, Equal) with
//! constants on either side and with each other, and Sum: exact at the grid (scale 2^-8 here),
//! against the float definitions, in the mock prover.

mod common;

use common::*;

/// Values on the 2^-8 grid around the constants compared with: 0.5 (on the grid) and 0.3 (off
/// it, between 76/256 and 77/256).
const INPUT: [f32; 8] = [-1.0, 0.5, 0.50390625, 0.49609375, 0.0, 3.25, 0.296875, 0.30078125];

fn holds(op: &str, a: f32, b: f32) -> bool {
    match op {
        "Less" => a < b,
        "LessOrEqual" => a <= b,
        "Greater" => a > b,
        "GreaterOrEqual" => a >= b,
        "Equal" => a == b,
        _ => unreachable!(),
    }
}

const OPS: [&str; 5] = ["Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal"];

fn indicator(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

#[test]
fn comparisons_with_a_constant_are_exact_on_the_grid() {
    for op in OPS {
        for c in [0.5f32, 0.3, -0.25] {
            let right = Onnx::new(&[1, 8]).floats("c", &[], &[c]).node(op, "cmp", &["input", "c"], vec![]).bytes("cmp");
            let expected: Vec<f64> = INPUT.iter().map(|&x| indicator(holds(op, x, c))).collect();
            let (model, x) = check_op(&right, &INPUT, &expected, 0.0);
            assert!(!failures_after_changing_output(&model, &x, 3).is_empty(), "{op} {c}: a flipped comparison passes");
            // The constant first: `c op x`.
            let left = Onnx::new(&[1, 8]).floats("c", &[], &[c]).node(op, "cmp", &["c", "input"], vec![]).bytes("cmp");
            let expected: Vec<f64> = INPUT.iter().map(|&x| indicator(holds(op, c, x))).collect();
            check_op(&left, &INPUT, &expected, 0.0);
        }
    }
}

/// Two computed operands compare their difference with zero: `x op -x`, with a per-element
/// constant broadcast against it first.
#[test]
fn comparisons_of_two_computed_tensors() {
    for op in OPS {
        let model = Onnx::new(&[1, 8]).node("Neg", "neg", &["input"], vec![]).node(op, "cmp", &["input", "neg"], vec![]).bytes("cmp");
        let expected: Vec<f64> = INPUT.iter().map(|&x| indicator(holds(op, x, -x))).collect();
        check_op(&model, &INPUT, &expected, 0.0);
    }
    let thresholds = [0.0f32, 0.5, 0.5, 0.5, 1.0, 3.25, 0.3, 0.3];
    let model = Onnx::new(&[1, 8]).floats("t", &[8], &thresholds).node("Less", "cmp", &["input", "t"], vec![]).bytes("cmp");
    let expected: Vec<f64> = INPUT.iter().zip(thresholds).map(|(&x, t)| indicator(x < t)).collect();
    check_op(&model, &INPUT, &expected, 0.0);
}

/// A comparison's 0/1 feeds arithmetic as skl2onnx's SVC vote graph uses it: Cast to float,
/// then Sum with other operands and a constant.
#[test]
fn sum_adds_its_operands_and_constants() {
    let model = Onnx::new(&[1, 8])
        .floats("zero", &[], &[0.0])
        .floats("bias", &[8], &[0.5, -1.0, 0.25, 0.0, 2.0, -0.5, 1.0, 0.125])
        .node("Less", "negative", &["input", "zero"], vec![])
        .node("Cast", "float", &["negative"], vec![int_attribute("to", 1)])
        .node("Neg", "neg", &["input"], vec![])
        .node("Sum", "sum", &["float", "input", "bias", "neg", "input"], vec![])
        .bytes("sum");
    let bias = [0.5f32, -1.0, 0.25, 0.0, 2.0, -0.5, 1.0, 0.125];
    let expected: Vec<f64> = INPUT.iter().zip(bias).map(|(&x, b)| indicator(x < 0.0) + x as f64 + b as f64).collect();
    check_op(&model, &INPUT, &expected, 0.0);
}

/// Not, And, Or and Xor of comparisons (`x > 0.3` with `x <= 0.5`), exact; an operand not known
/// to be 0 or 1 (the raw input) is refused by name.
#[test]
fn logical_ops_of_comparisons() {
    for op in ["And", "Or", "Xor"] {
        let model = Onnx::new(&[1, 8])
            .floats("low", &[], &[0.3])
            .floats("high", &[], &[0.5])
            .node("Greater", "above", &["input", "low"], vec![])
            .node("LessOrEqual", "below", &["input", "high"], vec![])
            .node(op, "both", &["above", "below"], vec![])
            .node("Not", "out", &["both"], vec![])
            .bytes("out");
        let expected: Vec<f64> = INPUT
            .iter()
            .map(|&x| {
                let (a, b) = (x > 0.3, x <= 0.5);
                let v = match op {
                    "And" => a && b,
                    "Or" => a || b,
                    _ => a != b,
                };
                indicator(!v)
            })
            .collect();
        let (model, x) = check_op(&model, &INPUT, &expected, 0.0);
        assert!(!failures_after_changing_output(&model, &x, 0).is_empty(), "{op}: a changed output is rejected");
    }
    let raw = Onnx::new(&[1, 8]).floats("one", &[], &[1.0]).node("And", "out", &["input", "one"], vec![]).bytes("out");
    let err = compile(&raw, &[INPUT.to_vec()]).unwrap_err().to_string();
    assert!(err.contains("operand 0 is not known to be 0 or 1"), "{err}");
}

/// Where with a computed condition (`a < b` of two inputs) picks between computed and constant
/// branches, exactly; a condition not known to be 0 or 1 is refused by name.
#[test]
fn where_with_a_computed_condition() {
    let b: Vec<f32> = INPUT.iter().rev().copied().collect();
    let model = Onnx::new(&[1, 8])
        .input("b", &[1, 8])
        .floats("fallback", &[], &[-2.0])
        .node("Less", "smaller", &["input", "b"], vec![])
        .node("Where", "pick", &["smaller", "input", "b"], vec![])
        .node("Where", "out", &["smaller", "pick", "fallback"], vec![])
        .bytes("out");
    let expected: Vec<f64> = INPUT.iter().zip(&b).map(|(&a, &b)| if a < b { a as f64 } else { -2.0 }).collect();
    let input: Vec<f32> = INPUT.iter().chain(&b).copied().collect();
    let (model, x) = check_op(&model, &input, &expected, 0.0);
    assert!(!failures_after_changing_output(&model, &x, 1).is_empty(), "a changed output is rejected");
    let raw = Onnx::new(&[1, 8]).floats("zero", &[], &[0.0]).node("Where", "out", &["input", "input", "zero"], vec![]).bytes("out");
    let err = compile(&raw, &[INPUT.to_vec()]).unwrap_err().to_string();
    assert!(err.contains("the condition is not known to be 0 or 1"), "{err}");
}
