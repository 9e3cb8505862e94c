//! The folding pass on the graphs the legacy torch exporter writes: the Reshape target built
//! from Shape, Gather, Unsqueeze and Concat, and weights behind an Identity, fold away before
//! the circuit is built; the model then compiles, matches its reference and holds in the mock
//! prover.

mod common;

use common::*;

#[test]
fn shape_arithmetic_and_identity_weights_fold_away() {
    let weights: Vec<f32> = (0..48 * 2).map(|i| ((i * 7 % 13) as f32 - 6.0) / 32.0).collect();
    let model = Onnx::new(&[1, 3, 4, 4])
        .int64s("zero", &[0])
        .int64s("minus_one", &[-1])
        .floats("w", &[48, 2], &weights)
        .node("Shape", "shape", &["input"], vec![])
        .node("Gather", "batch", &["shape", "zero"], vec![int_attribute("axis", 0)])
        .node("Concat", "target", &["batch", "minus_one"], vec![int_attribute("axis", 0)])
        .node("Reshape", "flat", &["input", "target"], vec![])
        .node("Identity", "w_copy", &["w"], vec![])
        .node("MatMul", "out", &["flat", "w_copy"], vec![])
        .bytes("out");
    let input: Vec<f32> = (0..48).map(|i| (i as f32 - 24.0) / 16.0).collect();
    let expected: Vec<f64> = (0..2).map(|j| (0..48).map(|i| input[i] as f64 * weights[i * 2 + j] as f64).sum()).collect();
    let (model, _) = check_op(&model, &input, &expected, 0.02);
    // Only the computation is left: Reshape and MatMul.
    let ops: Vec<&str> = model.nodes.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["Reshape", "MatMul"]);
}

#[test]
fn a_constant_node_that_cannot_be_folded_is_named() {
    let model = Onnx::new(&[1, 4]).floats("c", &[2], &[1.0, 2.0]).node("Einsum", "e", &["c"], vec![]).node("Relu", "out", &["input"], vec![]).bytes("out");
    // Not needed by the output: dropped before folding.
    assert!(compile(&model, &[]).is_ok());
    let model = Onnx::new(&[1, 2]).floats("c", &[2], &[1.0, 2.0]).node("Einsum", "e", &["c"], vec![]).node("Add", "out", &["input", "e"], vec![]).bytes("out");
    let err = compile(&model, &[]).unwrap_err().to_string();
    assert!(err.contains("node 'e' (Einsum): all its inputs are constants, and folding Einsum is not supported"), "{err}");
}
