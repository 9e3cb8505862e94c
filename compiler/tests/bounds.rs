//! The range guarantee (docs/circuits.md, "Which inputs prove"): compiled with calibration,
//! every input within the samples' ranges proves, because interval bounds, not the values the
//! samples happened to reach, size each range check; inputs outside the ranges are refused
//! before proving.

mod common;

use common::*;
use rand::{Rng, SeedableRng};
use zkinfer_compiler::{CompileOptions, Model};

/// The MNIST MLP at 2^-20, calibrated on one sample with a single lit pixel: the samples' range
/// is [0, 1] but the sample's values stay below 0.4. Sized by the sample (twice its largest
/// value, the rule before the bounds) the range would hold ±8, which random inputs in [0, 1]
/// pass; sized by the bounds, every one of them evaluates and proves.
#[test]
fn every_input_within_the_calibrated_range_proves() {
    let bytes = fixture_bytes("mnist_mlp/model.onnx");
    let mut sample = vec![0.0f32; 784];
    sample[400] = 1.0;
    let (settings, report) = zkinfer_compiler::compile(&bytes, &CompileOptions { width: None, ..options(20) }, &[sample]).unwrap();
    assert_eq!(settings.input_ranges, vec![[0.0, 1.0]]);
    let bounded = report.bounded_largest.expect("an MLP's values are bounded");
    assert!(bounded < report.range_bound && 20 * report.calibration_largest < bounded, "{report:?}");
    let model = Model::from_onnx(&bytes, settings).unwrap();

    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(14);
    let mut inputs: Vec<Vec<f32>> = vec![vec![0.0; 784], vec![1.0; 784]];
    inputs.extend((0..60).map(|_| (0..784).map(|_| rng.gen::<f32>()).collect::<Vec<f32>>()));
    inputs.extend((0..60).map(|_| (0..784).map(|_| rng.gen_range(0..2) as f32).collect::<Vec<f32>>()));
    let mut reached = 0;
    for x in &inputs {
        let (_, largest) = model.evaluate(&model.quantize_input(x).unwrap()).unwrap();
        reached = reached.max(largest);
    }
    assert!(reached > 8 << 20 && reached <= bounded, "reached {reached}, bounded {bounded}");
    mock_prove(&model, &model.quantize_input(&inputs[2]).unwrap()).unwrap();

    let mut beyond = vec![0.5f32; 784];
    beyond[10] = 1.5;
    let err = model.quantize_input(&beyond).unwrap_err().to_string();
    assert!(err.contains("value 1.5 at index 10 of input 'input' is outside [0, 1], the range of the calibration samples"), "{err}");
}

/// Each bundled model (Softmax and the lane maxima included, which need the ops' own bounds:
/// `x - max(x) <= 0` and a sum of exponentials at least 1): bounded, and no perturbation of its
/// sample within the range meets more than the bounds.
#[test]
fn the_bounds_hold_what_evaluation_meets() {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(15);
    for name in ["tiny_mlp", "digits_mlp", "digits_cnn", "sigmoid_tanh_mlp", "softmax_bn", "slice_pad"] {
        let bytes = fixture_bytes(&format!("{name}/model.onnx"));
        let sample = fixture_input(name);
        let (settings, report) = zkinfer_compiler::compile(&bytes, &options(16), std::slice::from_ref(&sample)).unwrap();
        let bounded = report.bounded_largest.unwrap_or_else(|| panic!("{name}: {:?}", report.unbounded));
        assert!(report.calibration_largest <= bounded && bounded < report.range_bound, "{name}: {report:?}");
        let model = Model::from_onnx(&bytes, settings).unwrap();
        let [lo, hi] = model.settings.input_ranges[0];
        for _ in 0..20 {
            let x: Vec<f32> = sample.iter().map(|v| (v + rng.gen_range(-0.5..0.5) * (hi - lo)).clamp(lo, hi)).collect();
            let (_, largest) = model.evaluate(&model.quantize_input(&x).unwrap()).unwrap();
            assert!(largest <= bounded, "{name}: {largest} > {bounded}");
        }
    }
}

/// Steps whose values stay small take fewer limbs: on the MNIST MLP at 2^-16 the two hidden
/// layers (bounded by 20 and 98) fit two limbs of 12 bits, the logits (683) take three. A step
/// given fewer limbs than its values need is refused when the witness is made.
#[test]
fn steps_take_the_limbs_their_bounds_need() {
    let bytes = fixture_bytes("mnist_mlp/model.onnx");
    let input = fixture_input("mnist_mlp");
    let options = CompileOptions { width: None, ..options(16) };
    let (settings, _) = zkinfer_compiler::compile(&bytes, &options, std::slice::from_ref(&input)).unwrap();
    assert_eq!((settings.limb_bits, settings.limbs), (12, 3));
    let model = Model::from_onnx(&bytes, settings.clone()).unwrap();
    assert_eq!(model.element_limbs, vec![2, 2, 3]);
    let x = model.quantize_input(&input).unwrap();
    mock_prove(&model, &x).unwrap();

    // With limbs of 8 bits two hold ±0.5, below the hidden layers' values.
    let settings = zkinfer_compiler::Settings { limb_bits: 8, limbs: 4, ..settings };
    let mut model = Model::from_onnx(&bytes, settings).unwrap();
    assert_eq!(model.element_limbs, vec![3, 3, 4]);
    model.element_limbs = vec![2, 3, 4];
    let err = model.evaluate(&x).unwrap_err().to_string();
    assert!(err.contains("outside the circuit's range [-32768, 32768)"), "{err}");
}

/// An L1 normalisation divides by a sum that is 0 for a row of zeros: no bounds, said so with
/// the node, and the range follows the samples as before.
#[test]
fn a_divisor_that_may_be_zero_is_named() {
    let bytes = fixture_bytes("exports/sk_logreg/model.onnx");
    let sample = fixture_input("exports/sk_logreg");
    let (settings, report) = zkinfer_compiler::compile(&bytes, &options(16), &[sample]).unwrap();
    assert_eq!(report.bounded_largest, None);
    let why = report.unbounded.unwrap();
    assert!(why.contains("node 'Normalizer' (Normalizer): a divisor may be 0, below 1"), "{why}");
    assert!(settings.shape().bound() > 2 * report.calibration_largest);
    assert!(Model::from_onnx(&bytes, settings).unwrap().element_limbs.is_empty());
}
