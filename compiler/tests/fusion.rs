//! Ops that the op before them takes over. A MaxPool after a Conv (with a ReLU between them or
//! not) takes the maximum of the Conv's accumulators before its rescale and ReLU, which are both
//! monotone: the outputs are the same as with the pool laid out on its own, in fewer rows. What
//! would change the result is left alone: a pool whose input is used elsewhere, a channel affine
//! (BatchNormalization) after the pool, whose scale may be negative.

mod common;

use common::*;
use onnx_protobuf::AttributeProto;
use zkinfer_circuits::{Fr, Pass, Synthesis};
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::Model;

fn input() -> Vec<f32> {
    (0..2 * 36).map(|i| ((i * 29 % 53) as f32 - 26.0) / 13.0).collect()
}

/// Conv (2 to 3 channels, 3x3, pads 1) on a `[1, 2, 6, 6]` input, `then` (a chain of nodes,
/// each reading the one before), with the graph's outputs `outputs`.
fn after_conv(then: &[(&str, Vec<AttributeProto>)], outputs: &[&str]) -> Vec<u8> {
    let w: Vec<f32> = (0..3 * 2 * 9).map(|i| ((i * 17 % 31) as f32 - 15.0) / 20.0).collect();
    let mut model = Onnx::new(&[1, 2, 6, 6]).floats("w", &[3, 2, 3, 3], &w).floats("b", &[3], &[0.1, -0.2, 0.05]).node(
        "Conv",
        "conv",
        &["input", "w", "b"],
        vec![ints_attribute("pads", &[1, 1, 1, 1])],
    );
    let mut last = "conv".to_string();
    for (i, (op, attributes)) in then.iter().enumerate() {
        let name = format!("{}{i}", op.to_lowercase());
        model = match *op {
            "BatchNormalization" => model
                .floats("scale", &[3], &[1.5, -0.75, 0.5])
                .floats("shift", &[3], &[0.25, 0.5, -0.125])
                .floats("mean", &[3], &[0.0; 3])
                .floats("var", &[3], &[1.0; 3])
                .node(op, &name, &[&last, "scale", "shift", "mean", "var"], attributes.clone()),
            _ => model.node(op, &name, &[&last], attributes.clone()),
        };
        last = name;
    }
    model.bytes_with_outputs(outputs)
}

fn rows(model: &Model) -> usize {
    Synthesis::run(&ModelCircuit { model, input: None }, Pass::Key).unwrap().rows
}

fn outputs(model: &Model, x: &[f32]) -> (Vec<i64>, Vec<usize>) {
    let (outputs, _) = model.evaluate(&model.quantize_input(x).unwrap()).unwrap();
    (outputs[0].data.clone(), outputs[0].shape.clone())
}

fn pools() -> Vec<Vec<AttributeProto>> {
    vec![
        vec![ints_attribute("kernel_shape", &[2, 2]), ints_attribute("strides", &[2, 2])],
        vec![ints_attribute("kernel_shape", &[3, 3]), ints_attribute("strides", &[2, 2]), ints_attribute("pads", &[1, 1, 1, 1])],
        vec![ints_attribute("kernel_shape", &[3, 3]), ints_attribute("strides", &[2, 2]), int_attribute("ceil_mode", 1)],
    ]
}

#[test]
fn a_max_pool_after_a_conv_pools_its_accumulators() {
    let x = input();
    for pool in pools() {
        for relu in [true, false] {
            let chain: Vec<(&str, _)> = [("Relu", vec![])].into_iter().filter(|_| relu).chain([("MaxPool", pool.clone())]).collect();
            let last = format!("maxpool{}", chain.len() - 1);
            let fused = compile(&after_conv(&chain, &[&last]), std::slice::from_ref(&x)).unwrap();
            // The pool's input also a graph output: the pool is laid out on its own.
            let before = if relu { "relu0" } else { "conv" };
            let apart = compile(&after_conv(&chain, &[&last, before]), std::slice::from_ref(&x)).unwrap();
            assert_eq!(outputs(&fused, &x), outputs(&apart, &x), "{pool:?}, relu {relu}");
            assert!(rows(&fused) < rows(&apart), "{pool:?}, relu {relu}: {} rows, {} apart", rows(&fused), rows(&apart));
            let float = fused.evaluate_float(&x).unwrap();
            let (q, shape) = outputs(&fused, &x);
            assert_eq!(float[0].shape, shape);
            for (q, f) in q.iter().zip(&float[0].data) {
                assert!((fused.dequantize(*q) - *f as f64).abs() < 0.02, "{pool:?}: {} against {f}", fused.dequantize(*q));
            }
            mock_prove(&fused, &fused.quantize_input(&x).unwrap()).unwrap();
        }
    }
}

/// A channel affine with a negative scale after the pool does not commute with the maximum:
/// it stays a node of its own, and the outputs follow the float model.
#[test]
fn a_batch_norm_after_the_pool_is_not_folded_into_the_conv() {
    let x = input();
    let chain = [("MaxPool", pools().swap_remove(0)), ("BatchNormalization", vec![])];
    let model = compile(&after_conv(&chain, &["batchnormalization1"]), std::slice::from_ref(&x)).unwrap();
    let float = model.evaluate_float(&x).unwrap();
    let (q, _) = outputs(&model, &x);
    for (q, f) in q.iter().zip(&float[0].data) {
        assert!((model.dequantize(*q) - *f as f64).abs() < 0.02, "{} against {f}", model.dequantize(*q));
    }
    let reference = by_hand(&x);
    for (f, r) in float[0].data.iter().zip(&reference) {
        assert!((*f as f64 - r).abs() < 1e-4, "{f} against {r}");
    }
}

/// The reference by hand: the Conv, the 2x2 pool, then `scale * y + shift` per channel.
fn by_hand(x: &[f32]) -> Vec<f64> {
    let w: Vec<f64> = (0..3 * 2 * 9).map(|i| ((i * 17 % 31) as f64 - 15.0) / 20.0).collect();
    let (b, scale, shift) = ([0.1, -0.2, 0.05], [1.5, -0.75, 0.5], [0.25, 0.5, -0.125]);
    let conv = |c: usize, y: i64, z: i64| -> f64 {
        let mut acc = b[c];
        for ic in 0..2 {
            for ky in 0..3 {
                for kx in 0..3 {
                    let (iy, ix) = (y + ky - 1, z + kx - 1);
                    if (0..6).contains(&iy) && (0..6).contains(&ix) {
                        acc += w[((c * 2 + ic) * 3 + ky as usize) * 3 + kx as usize] * x[ic * 36 + iy as usize * 6 + ix as usize] as f64;
                    }
                }
            }
        }
        acc
    };
    let mut out = Vec::new();
    for c in 0..3 {
        for py in 0..3 {
            for px in 0..3 {
                let m = (0..4).map(|k| conv(c, 2 * py + k / 2, 2 * px + k % 2)).fold(f64::NEG_INFINITY, f64::max);
                out.push(scale[c] * m / (1.0f64 + 1e-5).sqrt() + shift[c]);
            }
        }
    }
    out
}

/// Without calibration the range is sized for values up to 2^16 in real units: at the products'
/// scale too where a pool compares the Conv's accumulators, so large windows still prove.
#[test]
fn an_uncalibrated_fused_pool_holds_its_accumulators() {
    let x: Vec<f32> = input().iter().map(|v| v * 100.0).collect();
    let model = compile(&after_conv(&[("MaxPool", pools().swap_remove(0))], &["maxpool0"]), &[]).unwrap();
    mock_prove(&model, &model.quantize_input(&x).unwrap()).unwrap();
}

fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| (((i + seed) * 37 % 101) as f32 - 50.0) / 40.0).collect()
}

/// `x W + b + (h R + c)` (an unrolled recurrent cell's gates), or `x W - h R`: `sign` picks
/// which; `extra` names graph outputs besides `out`.
fn two_dense(sign: &str, biases: bool, extra: &[&str]) -> (Vec<u8>, Vec<f32>, Vec<f64>) {
    let (w, r, b, c) = (values(8 * 4, 1), values(4 * 4, 2), values(4, 3), values(4, 4));
    let mut model = Onnx::new(&[1, 8]).input("h", &[1, 4]).floats("w", &[8, 4], &w).floats("r", &[4, 4], &r).floats("b", &[4], &b).floats("c", &[4], &c);
    model = model.node("MatMul", "xw", &["input", "w"], vec![]).node("MatMul", "hr", &["h", "r"], vec![]);
    let (left, right) = if biases {
        model = model.node("Add", "xwb", &["xw", "b"], vec![]).node("Add", "hrc", &["c", "hr"], vec![]);
        ("xwb", "hrc")
    } else {
        ("xw", "hr")
    };
    let bytes = model.node(sign, "out", &[left, right], vec![]).bytes_with_outputs(&[&["out"], extra].concat());
    let (x, h) = (values(8, 5), values(4, 6));
    let s = if sign == "Add" { 1.0 } else { -1.0 };
    let bias = |v: &[f32], j: usize| if biases { v[j] as f64 } else { 0.0 };
    let expected = (0..4)
        .map(|j| {
            let xw: f64 = (0..8).map(|i| x[i] as f64 * w[i * 4 + j] as f64).sum::<f64>() + bias(&b, j);
            let hr: f64 = (0..4).map(|i| h[i] as f64 * r[i * 4 + j] as f64).sum::<f64>() + bias(&c, j);
            xw + s * hr
        })
        .collect();
    (bytes, [x, h].concat(), expected)
}

/// A sum (or difference) of two dense layers, each read only by it, and the biases added to
/// them are one op: one dot product over both inputs and one rescale per output. It proves, in
/// fewer rows than with one layer's output also read elsewhere (then nothing is fused), and
/// under private parameters (the two biases summed into one's parameters).
#[test]
fn a_sum_of_two_dense_layers_is_one_dot_product() {
    for (sign, biases) in [("Add", true), ("Add", false), ("Sub", true), ("Sub", false)] {
        let (bytes, input, expected) = two_dense(sign, biases, &[]);
        let (fused, x) = check_op(&bytes, &input, &expected, 0.01);
        assert_eq!(fused.nodes.len(), 1, "{sign}, biases {biases}: {:?}", fused.nodes);
        assert!(!failures_after_changing_output(&fused, &x, 2).is_empty(), "a changed output is rejected");
        let (apart_bytes, _, _) = two_dense(sign, biases, &["xw"]);
        let apart = compile(&apart_bytes, std::slice::from_ref(&input)).unwrap();
        assert!(apart.nodes.len() > 1 && rows(&fused) < rows(&apart), "{sign}: {} rows, {} apart", rows(&fused), rows(&apart));
        let (q, _) = outputs(&apart, &input);
        for (q, e) in q.iter().zip(&expected) {
            assert!((apart.dequantize(*q) - e).abs() < 0.01, "apart: {} against {e}", apart.dequantize(*q));
        }
        let private = compile_with(&bytes, std::slice::from_ref(&input), zkinfer_compiler::ParamVisibility::Private).unwrap();
        let x = private.quantize_input(&input).unwrap();
        assert_eq!(outputs(&private, &input), outputs(&fused, &input));
        mock_prove(&private, &x).unwrap();
    }
}

/// `a b + c d` of computed tensors (an LSTM's `f c + i g`): one sum of products, one rescale.
#[test]
fn a_sum_of_two_products_is_one_sum_of_products() {
    let bytes = Onnx::new(&[1, 6])
        .input("b", &[1, 6])
        .input("c", &[1, 6])
        .input("d", &[1, 6])
        .node("Mul", "ab", &["input", "b"], vec![])
        .node("Mul", "cd", &["c", "d"], vec![])
        .node("Add", "out", &["ab", "cd"], vec![])
        .bytes("out");
    let v: Vec<Vec<f32>> = (0..4).map(|i| values(6, 3 * i)).collect();
    let expected: Vec<f64> = (0..6).map(|j| v[0][j] as f64 * v[1][j] as f64 + v[2][j] as f64 * v[3][j] as f64).collect();
    let (model, x) = check_op(&bytes, &v.concat(), &expected, 0.01);
    assert_eq!(model.nodes.len(), 1, "{:?}", model.nodes);
    assert!(!failures_after_changing_output(&model, &x, 3).is_empty(), "a changed output is rejected");
}

/// A bias added after a MatMul is the dense layer's own; after its ReLU it is not.
#[test]
fn a_bias_after_a_matmul_is_its_own() {
    let (w, b) = (values(8 * 4, 1), values(4, 3));
    let x = values(8, 5);
    let dense = |j: usize| (0..8).map(|i| x[i] as f64 * w[i * 4 + j] as f64).sum::<f64>();
    for relu in [false, true] {
        let mut model = Onnx::new(&[1, 8]).floats("w", &[8, 4], &w).floats("b", &[4], &b).node("MatMul", "xw", &["input", "w"], vec![]);
        let mut last = "xw";
        if relu {
            model = model.node("Relu", "r", &["xw"], vec![]);
            last = "r";
        }
        let bytes = model.node("Add", "out", &[last, "b"], vec![]).bytes("out");
        let expected: Vec<f64> = (0..4).map(|j| if relu { dense(j).max(0.0) } else { dense(j) } + b[j] as f64).collect();
        let (model, _) = check_op(&bytes, &x, &expected, 0.01);
        assert_eq!(model.nodes.len(), if relu { 2 } else { 1 }, "relu {relu}: {:?}", model.nodes);
    }
}

/// An LSTM cell's gates as exporters write them, for 6 inputs of 8: `x W + b` sliced along its
/// last axis into `i` and `g`, then `sigmoid(i) tanh(g)`; `extra` names graph outputs besides
/// `out`.
fn gates(extra: &[&str]) -> (Vec<u8>, Vec<f32>, Vec<f64>) {
    let (w, b, x) = (values(8 * 8, 1), values(8, 3), values(6 * 8, 5));
    let bytes = Onnx::new(&[6, 8])
        .floats("w", &[8, 8], &w)
        .floats("b", &[8], &b)
        .int64s("zero", &[0])
        .int64s("four", &[4])
        .int64s("eight", &[8])
        .int64s("last", &[1])
        .node("MatMul", "xw", &["input", "w"], vec![])
        .node("Add", "gates", &["xw", "b"], vec![])
        .node("Slice", "i", &["gates", "zero", "four", "last"], vec![])
        .node("Slice", "g", &["gates", "four", "eight", "last"], vec![])
        .node("Sigmoid", "input_gate", &["i"], vec![])
        .node("Tanh", "candidate", &["g"], vec![])
        .node("Mul", "out", &["input_gate", "candidate"], vec![])
        .bytes_with_outputs(&[&["out"], extra].concat());
    let gate = |r: usize, j: usize| (0..8).map(|k| x[r * 8 + k] as f64 * w[k * 8 + j] as f64).sum::<f64>() + b[j] as f64;
    let expected = (0..6 * 4).map(|o| gate(o / 4, o % 4 + 4).tanh() / (1.0 + (-gate(o / 4, o % 4)).exp())).collect();
    (bytes, x, expected)
}

/// The dense layer's rescale is left to the lookups that alone read it, through the slices: they
/// read its sums, to a finer step, in fewer rows than the same model whose gates are also an
/// output (then each gate is rescaled, and the lookups read that). Both prove, also under private
/// parameters; the outputs are as close to the float model; a changed output is rejected, and so
/// is any changed cell of a row that looks the table up.
#[test]
fn gate_lookups_read_the_dense_layers_sums() {
    let (bytes, input, expected) = gates(&[]);
    let (deferred, x) = check_op(&bytes, &input, &expected, 0.01);
    let (apart_bytes, _, _) = gates(&["gates"]);
    let apart = compile(&apart_bytes, std::slice::from_ref(&input)).unwrap();
    assert!(rows(&deferred) + 24 < rows(&apart), "{} rows, {} with the gates rescaled", rows(&deferred), rows(&apart));
    let error = |model: &Model| outputs(model, &input).0.iter().zip(&expected).map(|(q, e)| (model.dequantize(*q) - e).abs()).fold(0.0, f64::max);
    assert!(error(&deferred) <= error(&apart) + 2e-5, "error {} against {} rescaled first", error(&deferred), error(&apart));
    mock_prove(&apart, &apart.quantize_input(&input).unwrap()).unwrap();
    assert!(!failures_after_changing_output(&deferred, &x, 1).is_empty(), "a changed output is rejected");

    let private = compile_with(&bytes, std::slice::from_ref(&input), zkinfer_compiler::ParamVisibility::Private).unwrap();
    assert_eq!(outputs(&private, &input), outputs(&deferred, &input));
    mock_prove(&private, &x).unwrap();

    // MlConfig::configure's order: advice `a` (width), acc, rc; fixed `w` (width), keep, bias,
    // then the selectors q_dot and q_rc.
    let width = deferred.shape().width;
    let (rc, q_rc) = (width + 1, width + 3);
    let synthesis = Synthesis::run(&ModelCircuit { model: &deferred, input: Some(&x) }, Pass::Mock).unwrap();
    let looked_up: Vec<usize> = (0..synthesis.rows).filter(|&r| synthesis.fixed[q_rc][r] == Fr::from(1u64)).collect();
    assert!(looked_up.len() > 100, "{} lookup rows", looked_up.len());
    for row in looked_up {
        let failures = failures_after(&deferred, &x, |s, _| s.advice[rc][row] += Fr::from(1u64));
        assert!(!failures.is_empty(), "a changed range-checked cell at row {row} passes");
    }
}

/// A Conv (and a Conv with a max pool taken over) read only by a Sigmoid leaves its rescale to
/// the lookup, as a dense layer does: fewer rows than with the Conv also an output, the same
/// outputs within a step of the float model's, and the circuit holds.
#[test]
fn a_sigmoid_reads_a_convs_sums() {
    let x = input();
    for then in [vec![("Sigmoid", vec![])], vec![("MaxPool", pools().swap_remove(0)), ("Sigmoid", vec![])]] {
        let last = format!("sigmoid{}", then.len() - 1);
        let deferred = compile(&after_conv(&then, &[&last]), std::slice::from_ref(&x)).unwrap();
        let apart = compile(&after_conv(&then, &[&last, "conv"]), std::slice::from_ref(&x)).unwrap();
        assert!(rows(&deferred) < rows(&apart), "{} rows, {} with the Conv rescaled", rows(&deferred), rows(&apart));
        let (q, _) = outputs(&deferred, &x);
        let float = deferred.evaluate_float(&x).unwrap();
        for (q, f) in q.iter().zip(&float[0].data) {
            assert!((deferred.dequantize(*q) - *f as f64).abs() <= 2.0 / 256.0, "{} against {f}", deferred.dequantize(*q));
        }
        mock_prove(&deferred, &deferred.quantize_input(&x).unwrap()).unwrap();
    }
}
