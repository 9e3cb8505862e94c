//! Models with several inputs: each its own tensor, in the graph's order, from one flat input
//! (the input file's lists one after another); all public when the input is public; calibration
//! samples as one list per input.

mod common;

use common::*;
use zkinfer_compiler::{CompileOptions, Model, Visibility};

fn two_inputs() -> Vec<u8> {
    Onnx::new(&[1, 3])
        .input("mask", &[1, 3])
        .floats("w", &[3, 2], &[0.5, -1.0, 0.25, 2.0, 1.0, -0.5])
        .node("Relu", "r", &["input"], vec![])
        .node("Add", "sum", &["r", "mask"], vec![])
        .node("MatMul", "out", &["sum", "w"], vec![])
        .bytes("out")
}

#[test]
fn two_inputs_prove_together() {
    let (features, mask) = ([1.5f32, -2.0, 0.75], [0.25f32, 1.0, -0.5]);
    let sum: Vec<f64> = (0..3).map(|i| (features[i].max(0.0) + mask[i]) as f64).collect();
    let w = [0.5, -1.0, 0.25, 2.0, 1.0, -0.5];
    let expected: Vec<f64> = (0..2).map(|j| (0..3).map(|i| sum[i] * w[i * 2 + j]).sum()).collect();
    let flat: Vec<f32> = features.iter().chain(&mask).copied().collect();
    let (model, _) = check_op(&two_inputs(), &flat, &expected, 0.01);
    assert_eq!(model.inputs, vec![("input".to_string(), vec![1, 3]), ("mask".to_string(), vec![1, 3])]);
    let err = model.quantize_input(&features).unwrap_err().to_string();
    assert!(err.contains("the model takes 6 values ('input' [1, 3], 'mask' [1, 3]), the input has 3"), "{err}");
    // A value out of range is named by its input and its index there.
    let err = model.quantize_input(&[0.0, 0.0, 0.0, 0.0, 1e9, 0.0]).unwrap_err().to_string();
    assert!(err.contains("value 1000000000 at index 1 of input 'mask' is outside [-0.5, 1], the range of the calibration samples"), "{err}");
    // Without calibration, the circuit's range.
    let err = compile(&two_inputs(), &[]).unwrap().quantize_input(&[0.0, 0.0, 0.0, 0.0, 1e9, 0.0]).unwrap_err().to_string();
    assert!(err.contains("value 1000000000 at index 1 of input 'mask' is outside the range the circuit was compiled for: inputs must lie strictly between -"), "{err}");
}

#[test]
fn public_inputs_are_each_a_tensor_of_the_statement_and_calibration_groups_lists() {
    let options = CompileOptions { input_visibility: vec![Visibility::Public], ..options(8) };
    let bytes = two_inputs();
    let samples = vec![vec![1.0, 2.0, 3.0], vec![0.5, 0.5, 0.5], vec![-1.0, 0.0, 1.0], vec![0.0, 0.0, 0.0]];
    let (settings, report) = zkinfer_compiler::compile(&bytes, &options, &samples).unwrap();
    assert_eq!((report.calibration_samples, report.input_shapes.clone()), (2, vec![vec![1, 3], vec![1, 3]]));
    let model = Model::from_onnx(&bytes, settings).unwrap();
    let names: Vec<(String, zkinfer_circuits::TensorKind)> = model.public_tensors().into_iter().map(|t| (t.name, t.kind)).collect();
    use zkinfer_circuits::TensorKind::{Input, Output};
    assert_eq!(names, vec![("out".into(), Output), ("input".into(), Input), ("mask".into(), Input)]);
    assert_eq!(model.public_values(), 2 + 6);
    let err = zkinfer_compiler::compile(&bytes, &options, &samples[..3]).unwrap_err().to_string();
    assert!(err.contains("calibration sample 1: give each sample as one list of all 6 input values, or as one list per input of sizes [3, 3]"), "{err}");
}

/// Each input has its own visibility: here the features stay private and the mask is public.
#[test]
fn one_input_public_and_one_private() {
    let mut options = CompileOptions { input_visibility: vec![Visibility::Private, Visibility::Public], ..options(8) };
    let bytes = two_inputs();
    let flat = vec![1.5f32, -2.0, 0.75, 0.25, 1.0, -0.5];
    let (settings, _) = zkinfer_compiler::compile(&bytes, &options, std::slice::from_ref(&flat)).unwrap();
    let model = Model::from_onnx(&bytes, settings).unwrap();
    let names: Vec<String> = model.public_tensors().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["out", "mask"]);
    let x = model.quantize_input(&flat).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let instances = zkinfer_compiler::circuit::ModelCircuit::instances(&model, &x, &outputs);
    assert_eq!(instances[0].len(), 2 + 3);
    assert_eq!(instances[0][2..], x[3..].iter().map(|&v| zkinfer_circuits::gadgets::fr(v)).collect::<Vec<_>>()[..]);
    mock_prove(&model, &x).unwrap();
    options.input_visibility = vec![Visibility::Public; 3];
    let err = zkinfer_compiler::compile(&bytes, &options, &[]).unwrap_err().to_string();
    assert!(err.contains("3 input visibilities for a model of 2 inputs"), "{err}");
}

/// A bool input (an attention or padding mask) is a condition: Where and the logical ops take
/// it once the circuit has made it 0 or 1 (`[x > 1/2]`, the identity on 0 and 1), so a prover
/// cannot pass a value between for it.
#[test]
fn a_bool_input_is_a_condition() {
    let bytes = Onnx::new(&[1, 4])
        .bool_input("keep", &[1, 4])
        .floats("zero", &[1], &[0.0])
        .node("Not", "drop", &["keep"], vec![])
        .node("Where", "kept", &["keep", "input", "zero"], vec![])
        .node("Where", "out", &["drop", "zero", "kept"], vec![])
        .bytes("out");
    let (x, keep) = ([1.5f32, -2.0, 0.75, 3.0], [1.0f32, 0.0, 0.0, 1.0]);
    let expected: Vec<f64> = (0..4).map(|i| if keep[i] == 1.0 { x[i] as f64 } else { 0.0 }).collect();
    let flat: Vec<f32> = x.iter().chain(&keep).copied().collect();
    let (model, q) = check_op(&bytes, &flat, &expected, 0.01);
    assert!(!failures_after_changing_output(&model, &q, 1).is_empty(), "a changed output is rejected");
    // A value between 0 and 1 for the bool input reads as its comparison with 1/2.
    let between: Vec<f32> = x.iter().chain(&[0.75, 0.25, 0.5, 1.0]).copied().collect();
    let (outputs, _) = model.evaluate(&model.quantize_input(&between).unwrap()).unwrap();
    let got: Vec<f64> = outputs[0].data.iter().map(|v| model.dequantize(*v)).collect();
    assert_eq!(got, vec![1.5, 0.0, 0.0, 3.0]);
}
