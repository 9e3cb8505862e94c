//! The float reference evaluation against onnxruntime: on every fixture's sample input, and
//! on the held-out digits for every digits model.

mod common;

use common::mnist::upsample_28;
use common::*;
use std::path::PathBuf;
use zkinfer_compiler::Model;

/// Float evaluation does not depend on the settings; these are the CLI's defaults.
fn model(name: &str) -> Model {
    let settings = settings(1);
    Model::from_onnx(&fixture_bytes(&format!("{name}/model.onnx")), settings).unwrap()
}

fn assert_close(name: &str, got: &[f32], expected: &[f64]) {
    assert_eq!(got.len(), expected.len(), "{name}");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!((*g as f64 - e).abs() <= 1e-4, "{name}: output {i} is {g}, onnxruntime {e}");
    }
}

/// Every directory of `fixtures/` with a model and onnxruntime's output for its sample.
#[test]
fn float_evaluation_matches_onnxruntime_on_every_fixture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("model.onnx").exists() && p.join("output.json").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 7, "fixtures found: {names:?}");
    for name in &names {
        let model = model(name);
        let input = floats(&numbers(&fixture(&format!("{name}/input.json")), "input_data"));
        let outputs = model.evaluate_float(&input).unwrap();
        let shape = numbers(&fixture(&format!("{name}/output.json")), "output_shapes");
        assert_eq!(outputs[0].shape, shape.iter().map(|d| *d as usize).collect::<Vec<_>>(), "{name}");
        assert_close(name, &outputs[0].data, &numbers(&fixture(&format!("{name}/output.json")), "output_data"));
    }
}

#[test]
fn float_evaluation_matches_onnxruntime_on_held_out_digits() {
    let images = numbers(&fixture("digits_test.json"), "images");
    for name in ["digits_mlp", "digits_cnn", "sigmoid_tanh_mlp", "softmax_bn", "mnist_mlp"] {
        let model = model(name);
        let expected = numbers(&fixture(&format!("{name}/test_predictions.json")), "outputs");
        assert_eq!(expected.len(), 120 * 10);
        for (image, want) in images.chunks(64).zip(expected.chunks(10)) {
            let pixels = floats(image);
            let input = if name == "mnist_mlp" { upsample_28(&pixels) } else { pixels };
            assert_close(name, &model.evaluate_float(&input).unwrap()[0].data, want);
        }
    }
}

#[test]
fn float_evaluation_refuses_a_wrong_shape_input() {
    let message = model("tiny_mlp").evaluate_float(&[0.5; 5]).unwrap_err().to_string();
    assert!(message.contains("the model takes 4 values ('input' [1, 4]), the input has 5"), "{message}");
}
