//! The bundled models end to end: compile, prove, verify, and compare with onnxruntime.

use rand::SeedableRng;
use serde_json::Value;
use std::path::PathBuf;
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{compile, CompileOptions, Model, Optimize, ParamVisibility, Precision, Target, Visibility};
use zkinfer_prover::{keygen, prove, Cpu, ProveOptions, Srs};
use zkinfer_test_support::mnist::upsample_28;
use zkinfer_verifier::{verify, Error as VerifyError};

fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

fn json(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(path)).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn model(name: &str, visibility: Visibility, params: ParamVisibility, optimize: Optimize) -> Model {
    model_at(name, Precision::Scale(8), visibility, params, optimize)
}

fn model_at(name: &str, precision: Precision, visibility: Visibility, params: ParamVisibility, optimize: Optimize) -> Model {
    let bytes = std::fs::read(fixture(&format!("{name}/model.onnx"))).unwrap();
    let calibration = vec![floats(&json(&format!("{name}/input.json"))["input_data"][0])];
    let options = CompileOptions { precision, input_visibility: vec![visibility], param_visibility: params, width: None, optimize, pack: None, max_memory: None };
    let (settings, _) = compile(&bytes, &options, &calibration).unwrap();
    Model::from_onnx(&bytes, settings).unwrap()
}

fn argmax(v: &[i64]) -> usize {
    (0..v.len()).max_by_key(|&i| v[i]).unwrap()
}

/// Compiles, proves the sample input and verifies; the proven outputs are within `tolerance`
/// of onnxruntime's; a proof of a changed output is rejected. Returns the verifying key.
fn prove_and_verify(name: &str, tolerance: f64, visibility: Visibility, params: ParamVisibility, optimize: Optimize) -> zkinfer_verifier::VerifyingKey {
    let model = model(name, visibility, params, optimize);
    let input = floats(&json(&format!("{name}/input.json"))["input_data"][0]);
    let x = model.quantize_input(&input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let expected = floats(&json(&format!("{name}/output.json"))["output_data"][0]);
    for (q, e) in outputs[0].data.iter().zip(&expected) {
        let got = model.dequantize(*q);
        assert!((got - *e as f64).abs() <= tolerance, "{name}: {got} vs onnxruntime {e}");
    }

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let circuit = ModelCircuit { model: &model, input: Some(&x) };
    let shape = ModelCircuit { model: &model, input: None };
    let srs = Srs::generate_insecure(1 << 13, &mut rng);
    let pk = keygen(&srs, &shape, None, 1, &Cpu).unwrap();
    let instances = ModelCircuit::instances(&model, &x, &outputs);
    let proof = prove(&pk, &circuit, &instances, &Cpu, &mut rng, ProveOptions::default()).unwrap();
    verify(&pk.vk, &instances, &proof).unwrap();

    let mut lie = instances.clone();
    lie[0][argmax(&outputs[0].data)] += zkinfer_verifier::Fr::from(1u64);
    assert!(matches!(verify(&pk.vk, &lie, &proof), Err(VerifyError::Rejected(_))), "{name}: a changed output must be rejected");
    pk.vk
}

#[test]
fn tiny_mlp_proves() {
    prove_and_verify("tiny_mlp", 0.02, Visibility::Private, ParamVisibility::Fixed, Optimize::Proving);
}

#[test]
fn digits_mlp_proves_with_a_public_input() {
    prove_and_verify("digits_mlp", 0.08, Visibility::Public, ParamVisibility::Fixed, Optimize::Proving);
}

#[test]
fn digits_cnn_proves() {
    prove_and_verify("digits_cnn", 0.08, Visibility::Private, ParamVisibility::Fixed, Optimize::Proving);
}

#[test]
fn sigmoid_tanh_mlp_proves() {
    prove_and_verify("sigmoid_tanh_mlp", 0.1, Visibility::Private, ParamVisibility::Fixed, Optimize::Proving);
}

#[test]
fn softmax_bn_proves() {
    prove_and_verify("softmax_bn", 0.02, Visibility::Private, ParamVisibility::Fixed, Optimize::Proving);
}

#[test]
fn slice_pad_proves() {
    prove_and_verify("slice_pad", 0.03, Visibility::Private, ParamVisibility::Fixed, Optimize::Proving);
}

/// The layout for on-chain verification: width 5 at 2^10 rows, where proving takes width 16
/// at 2^9.
#[test]
fn digits_mlp_proves_with_the_evm_layout() {
    assert_eq!(model("digits_mlp", Visibility::Private, ParamVisibility::Fixed, Optimize::Evm).settings.width, 5);
    prove_and_verify("digits_mlp", 0.08, Visibility::Private, ParamVisibility::Fixed, Optimize::Evm);
}

#[test]
fn digits_cnn_proves_with_private_parameters() {
    prove_and_verify("digits_cnn", 0.08, Visibility::Private, ParamVisibility::Private, Optimize::Proving);
}

/// tiny_mlp and tiny_mlp_reweighted differ only in their weights: with private parameters
/// their verifying keys are the same bytes, so a key reveals the shape and not the weights.
#[test]
fn private_parameters_keep_the_weights_out_of_the_verifying_key() {
    let vk = prove_and_verify("tiny_mlp", 0.02, Visibility::Private, ParamVisibility::Private, Optimize::Proving);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let srs = Srs::generate_insecure(1 << 13, &mut rng);
    let key = |name: &str, settings| {
        let model = Model::from_onnx(&std::fs::read(fixture(&format!("{name}/model.onnx"))).unwrap(), settings).unwrap();
        keygen(&srs, &ModelCircuit { model: &model, input: None }, None, model.settings.pack, &Cpu).unwrap().vk.to_bytes()
    };
    let private = model("tiny_mlp", Visibility::Private, ParamVisibility::Private, Optimize::Proving).settings;
    assert!(key("tiny_mlp", private.clone()) == vk.to_bytes());
    assert!(key("tiny_mlp_reweighted", private.clone()) == vk.to_bytes(), "the verifying key depends on private weights");
    let fixed = zkinfer_compiler::Settings { param_visibility: ParamVisibility::Fixed, ..private };
    assert!(key("tiny_mlp", fixed.clone()) != key("tiny_mlp_reweighted", fixed), "fixed weights are in the verifying key");
}

/// On held-out digits the quantized model predicts onnxruntime's class: every one at the
/// default target (balanced); at scale 2^-8 a few images sit within quantization error of a
/// tie, so two may differ.
fn predictions_match(name: &str, upsample: bool) {
    for (precision, misses) in [(Precision::Target(Target::Balanced), 0), (Precision::Scale(8), 2)] {
        let model = model_at(name, precision, Visibility::Private, ParamVisibility::Fixed, Optimize::Proving);
        let (agree, of) = agreement(&model, name, upsample);
        assert!(agree + misses >= of, "{name} at {precision:?}: {agree} of {of} predictions match onnxruntime");
    }
}

fn agreement(model: &Model, name: &str, upsample: bool) -> (usize, usize) {
    let test = json("digits_test.json");
    let expected: Vec<usize> = json(&format!("{name}/test_predictions.json"))["predictions"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let images = test["images"].as_array().unwrap();
    assert!(images.len() >= 100);
    let mut agree = 0;
    for (image, want) in images.iter().zip(&expected) {
        let mut pixels = floats(image);
        if upsample {
            pixels = upsample_28(&pixels);
        }
        let (out, _) = model.evaluate(&model.quantize_input(&pixels).unwrap()).unwrap();
        agree += (argmax(&out[0].data) == *want) as usize;
    }
    (agree, images.len())
}

#[test]
fn digits_mlp_predictions_match_onnxruntime() {
    predictions_match("digits_mlp", false);
}

#[test]
fn digits_cnn_predictions_match_onnxruntime() {
    predictions_match("digits_cnn", false);
}

#[test]
fn sigmoid_tanh_and_softmax_predictions_match_onnxruntime() {
    predictions_match("sigmoid_tanh_mlp", false);
    predictions_match("softmax_bn", false);
}

#[test]
fn mnist_mlp_predictions_match_onnxruntime() {
    predictions_match("mnist_mlp", true);
}
