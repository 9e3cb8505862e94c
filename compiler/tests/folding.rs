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

/// Gather, Expand and Tile of a computed tensor copy wires: no rows, the values of onnxruntime's
/// semantics; a Cast between floats is nothing. A hostile Tile is refused before allocating.
#[test]
fn selecting_ops_copy_wires() {
    let input: Vec<f32> = (0..6).map(|i| i as f32 / 4.0).collect();
    let model = Onnx::new(&[1, 2, 3])
        .int64s("picks", &[2, 0])
        .int64s("shape", &[2, 2, 2])
        .int64s("reps", &[1, 1, 2])
        .node("Cast", "same", &["input"], vec![int_attribute("to", 1)])
        .node("Gather", "g", &["same", "picks"], vec![int_attribute("axis", 2)])
        .node("Expand", "e", &["g", "shape"], vec![])
        .node("Tile", "out", &["e", "reps"], vec![])
        .bytes("out");
    // g = x[:, :, [2, 0]] = [[0.5, 0], [1.25, 0.75]], expanded to [2, 2, 2], tiled twice on the last axis.
    let g = [0.5, 0.0, 1.25, 0.75];
    let expected: Vec<f64> = (0..2).flat_map(|_| (0..2).flat_map(move |r| (0..4).map(move |c| g[r * 2 + c % 2]))).collect();
    let (model, _) = check_op(&model, &input, &expected, 1e-9);
    assert_eq!(model.output_shapes(), vec![vec![2, 2, 4]]);

    let hostile = Onnx::new(&[1, 2]).int64s("reps", &[1 << 40, 1 << 40]).node("Tile", "out", &["input", "reps"], vec![]).bytes("out");
    let err = compile(&hostile, &[]).unwrap_err().to_string();
    assert!(err.contains("exceeds 16777216 elements"), "{err}");
    let cast = Onnx::new(&[1, 2]).node("Cast", "out", &["input"], vec![int_attribute("to", 9)]).bytes("out");
    assert!(compile(&cast, &[]).unwrap_err().to_string().contains("a Cast of a computed tensor to data type 9 is not supported"));
}

/// Split of a computed tensor: each output a copy of its part; and of a constant, folded.
#[test]
fn split_cuts_into_parts() {
    let input: Vec<f32> = (0..6).map(|i| i as f32 / 4.0).collect();
    let model = Onnx::new(&[1, 6])
        .int64s("sizes", &[2, 4])
        .node_with_outputs("Split", "split", &["input", "sizes"], &["a", "b"], vec![int_attribute("axis", 1)])
        .node("Relu", "out", &["b"], vec![])
        .bytes_with_outputs(&["a", "out"]);
    let model = compile(&model, std::slice::from_ref(&input)).unwrap();
    let x = model.quantize_input(&input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    assert_eq!(model.output_shapes(), vec![vec![1, 2], vec![1, 4]]);
    let got: Vec<Vec<f64>> = outputs.iter().map(|t| t.data.iter().map(|v| model.dequantize(*v)).collect()).collect();
    assert_eq!(got, vec![vec![0.0, 0.25], vec![0.5, 0.75, 1.0, 1.25]]);
    mock_prove(&model, &x).unwrap();
}

/// Where with a constant mask selects computed values or constants (an attention mask's
/// pattern): copies and constant cells, no rows for the selection.
#[test]
fn where_with_a_constant_condition_selects() {
    let input: Vec<f32> = (0..4).map(|i| i as f32 - 1.5).collect();
    let model = Onnx::new(&[1, 4]).floats("mask", &[4], &[1.0, 0.0, 1.0, 0.0]).floats("fill", &[], &[-8.0]).node("Where", "out", &["mask", "input", "fill"], vec![]).bytes("out");
    check_op(&model, &input, &[-1.5, -8.0, 0.5, -8.0], 1e-9);
}

/// An inference BatchNormalization over three channels.
fn batch_norm(model: Onnx) -> Onnx {
    model.floats("gamma", &[3], &[1.5, 0.5, -1.0]).floats("beta", &[3], &[0.25, -0.5, 0.75]).floats("mean", &[3], &[0.1, -0.2, 0.3]).floats("var", &[3], &[0.8, 1.2, 0.5])
}

fn affine(c: usize, y: f64) -> f64 {
    let (gamma, beta, mean, var) = ([1.5, 0.5, -1.0][c], [0.25, -0.5, 0.75][c], [0.1, -0.2, 0.3][c], [0.8f64, 1.2, 0.5][c]);
    gamma * (y - mean) / (var + 1e-5).sqrt() + beta
}

/// Conv -> BatchNormalization -> Relu is one Conv: the BatchNormalization folds into its weights
/// and bias (the op takes it over, no op name involved) and the Relu into its rescale.
#[test]
fn a_conv_takes_over_the_batch_norm_and_the_relu_after_it() {
    let w = [0.5f32, -0.25, 1.0, 0.75, -0.5, 0.25];
    let model = batch_norm(Onnx::new(&[1, 1, 3, 3]).floats("w", &[3, 1, 1, 2], &w))
        .node("Conv", "conv", &["input", "w"], vec![])
        .node("BatchNormalization", "bn", &["conv", "gamma", "beta", "mean", "var"], vec![])
        .node("Relu", "out", &["bn"], vec![])
        .bytes("out");
    let input: Vec<f32> = (0..9).map(|i| (i as f32 - 4.0) / 4.0).collect();
    let expected: Vec<f64> = (0..3)
        .flat_map(|c| (0..3).flat_map(move |y| (0..2).map(move |x| (c, y, x))))
        .map(|(c, y, x)| affine(c, (0..2).map(|k| w[c * 2 + k] as f64 * input[y * 3 + x + k] as f64).sum()).max(0.0))
        .collect();
    let (model, _) = check_op(&model, &input, &expected, 0.02);
    let ops: Vec<&str> = model.nodes.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["Conv"]);
}

/// A MatMul over a sequence ([1, 3, 3]: axis 1 holds the tokens) cannot take over a
/// BatchNormalization of axis 1, which is not its outputs' axis even where the sizes agree: it
/// stays an op of its own and the answer is right.
#[test]
fn a_batch_norm_over_another_axis_than_the_outputs_stays() {
    let w = [0.5f32, -1.0, 0.25, 2.0, 1.0, -0.5];
    let model = batch_norm(Onnx::new(&[1, 3, 2]).floats("w", &[2, 3], &w))
        .node("MatMul", "mm", &["input", "w"], vec![])
        .node("BatchNormalization", "out", &["mm", "gamma", "beta", "mean", "var"], vec![])
        .bytes("out");
    let input = [0.5f32, -0.75, 1.25, 0.25, -1.0, 0.5];
    let expected: Vec<f64> =
        (0..3).flat_map(|c| (0..3).map(move |j| (c, j))).map(|(c, j)| affine(c, (0..2).map(|i| input[c * 2 + i] as f64 * w[i * 3 + j] as f64).sum())).collect();
    let (model, _) = check_op(&model, &input, &expected, 0.02);
    let ops: Vec<&str> = model.nodes.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops, ["MatMul", "BatchNormalization"]);
}

/// A MatMul of two constants (an unrolled recurrent cell's first step, `0 @ R^T`, or a
/// positional table) folds as numpy multiplies: a batched `[2, 2, 3] x [3]` here, added to the
/// input.
#[test]
fn a_matmul_of_constants_folds() {
    let a: Vec<f32> = (0..12).map(|i| i as f32 / 8.0).collect();
    let b = [0.5f32, -1.0, 2.0];
    let model =
        Onnx::new(&[2, 2]).floats("a", &[2, 2, 3], &a).floats("b", &[3], &b).node("MatMul", "ab", &["a", "b"], vec![]).node("Add", "out", &["input", "ab"], vec![]).bytes("out");
    let input = [0.25f32, -0.5, 1.0, 0.0];
    let expected: Vec<f64> = (0..4).map(|r| input[r] as f64 + (0..3).map(|t| a[r * 3 + t] as f64 * b[t] as f64).sum::<f64>()).collect();
    let (model, _) = check_op(&model, &input, &expected, 0.5 / 256.0);
    assert_eq!(model.nodes.iter().map(|n| n.op_type.as_str()).collect::<Vec<_>>(), ["Add"]);
}
