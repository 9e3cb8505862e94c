//! Ops that the op before them takes over. A MaxPool after a Conv (with a ReLU between them or
//! not) takes the maximum of the Conv's accumulators before its rescale and ReLU, which are both
//! monotone: the outputs are the same as with the pool laid out on its own, in fewer rows. What
//! would change the result is left alone: a pool whose input is used elsewhere, a channel affine
//! (BatchNormalization) after the pool, whose scale may be negative.

mod common;

use common::*;
use onnx_protobuf::AttributeProto;
use zkinfer_circuits::{Pass, Synthesis};
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
