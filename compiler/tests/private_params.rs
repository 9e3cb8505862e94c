//! Private parameters: the same quantized outputs as fixed ones, circuits that hold, a
//! layout and fixed columns that do not depend on the weights, and one value per parameter.

mod common;

use common::*;
use onnx_protobuf::{tensor_proto::DataType, Message, ModelProto};
use zkinfer_circuits::{ColumnKind, Failure, Fr, Pass, Synthesis};
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{Model, ParamVisibility, Settings};

/// Compiled with private parameters, the model computes exactly what it computes with fixed
/// ones, and the circuit holds.
fn same_outputs_and_holds(bytes: &[u8], input: &[f32]) -> Model {
    let fixed = compile(bytes, &[input.to_vec()]).unwrap();
    let private = compile_with(bytes, &[input.to_vec()], ParamVisibility::Private).unwrap();
    assert_eq!(private.settings.param_visibility, ParamVisibility::Private);
    let x = private.quantize_input(input).unwrap();
    assert_eq!(private.evaluate(&x).unwrap().0, fixed.evaluate(&x).unwrap().0);
    mock_prove(&private, &x).unwrap();
    private
}

#[test]
fn fixtures_hold_with_private_parameters() {
    for name in ["tiny_mlp", "digits_mlp", "digits_cnn", "sigmoid_tanh_mlp", "softmax_bn", "slice_pad"] {
        same_outputs_and_holds(&fixture_bytes(&format!("{name}/model.onnx")), &fixture_input(name));
    }
}

/// Every op with parameters: Add, Sub, Mul and Div by constants, a stand-alone
/// BatchNormalization, PRelu, MatMul, and a Conv whose bias is one value broadcast.
#[test]
fn every_op_with_parameters_holds() {
    let x: Vec<f32> = vec![-1.5, 0.25, 2.0, 3.125, -0.5, 1.0, 0.75, -2.25];
    let c: Vec<f32> = vec![0.5, -1.25, 2.0, 0.125];
    for op in ["Add", "Sub", "Mul", "Div"] {
        same_outputs_and_holds(&one_op(op, vec![], &[(vec![4], c.clone())], &[1, 2, 4]), &x);
    }
    let bn = [(vec![2], vec![1.5, 0.5]), (vec![2], vec![0.25, -0.5]), (vec![2], vec![0.1, -0.2]), (vec![2], vec![0.8, 1.2])];
    same_outputs_and_holds(&one_op("BatchNormalization", vec![], &bn, &[1, 2, 2, 2]), &x);
    same_outputs_and_holds(&one_op("PRelu", vec![], &[(vec![4], c.clone())], &[1, 2, 4]), &x);
    let b: Vec<f32> = c.iter().chain(&c).chain(&c).chain(&c).copied().collect();
    same_outputs_and_holds(&one_op("MatMul", vec![], &[(vec![8, 2], b)], &[1, 8]), &x);
    let conv = [(vec![1, 2, 2, 2], c.iter().chain(&c).copied().collect()), (vec![1], vec![0.375])];
    same_outputs_and_holds(&one_op("Conv", vec![], &conv, &[1, 2, 2, 2]), &x);
}

/// The model with every float initializer `v` but those named in `keep` replaced by
/// `1.25 v + 0.0625`.
fn other_weights(bytes: &[u8], keep: &[&str]) -> Vec<u8> {
    let mut model = ModelProto::parse_from_bytes(bytes).unwrap();
    let change = |v: f32| 1.25 * v + 0.0625;
    for t in &mut model.graph.mut_or_insert_default().initializer {
        if t.data_type != DataType::FLOAT as i32 || keep.contains(&t.name.as_str()) {
            continue;
        }
        t.float_data.iter_mut().for_each(|v| *v = change(*v));
        t.raw_data = t.raw_data.chunks(4).flat_map(|b| change(f32::from_le_bytes(b.try_into().unwrap())).to_le_bytes()).collect();
    }
    model.write_to_bytes().unwrap()
}

/// What key generation sees: the layout without a witness.
fn layout(bytes: &[u8], params: ParamVisibility) -> Synthesis {
    let settings = Settings { param_visibility: params, ..settings(1) };
    let model = Model::from_onnx(bytes, settings).unwrap();
    Synthesis::run(&ModelCircuit { model: &model, input: None }, Pass::Key).unwrap()
}

/// The verifying key commits to the fixed columns, the copy constraints and the constraint
/// system: with private parameters none of them changes when the weights do. (Constants of
/// an op, such as slice_pad's padding value, stay in the key.)
#[test]
fn the_verifying_key_does_not_depend_on_private_weights() {
    for name in ["tiny_mlp", "digits_cnn", "softmax_bn", "slice_pad"] {
        let bytes = fixture_bytes(&format!("{name}/model.onnx"));
        let other = other_weights(&bytes, &["p2.value"]);
        let (a, b) = (layout(&bytes, ParamVisibility::Private), layout(&other, ParamVisibility::Private));
        assert!(a.fixed == b.fixed, "{name}: the fixed columns depend on the weights");
        assert_eq!(a.copies, b.copies, "{name}");
        assert_eq!(format!("{:?}", a.cs.description(12)), format!("{:?}", b.cs.description(12)), "{name}");
        let (a, b) = (layout(&bytes, ParamVisibility::Fixed), layout(&other, ParamVisibility::Fixed));
        assert!(a.fixed != b.fixed, "{name}: fixed parameters must change the fixed columns");
    }
}

/// A Conv uses each weight at every output position: the first use places it, the others
/// copy it, so a prover cannot use one value here and another there.
#[test]
fn a_parameter_holds_one_value_throughout() {
    let w: Vec<f32> = vec![0.5, -1.25, 2.0, 0.125];
    let bytes = one_op("Conv", vec![], &[(vec![1, 1, 2, 2], w), (vec![1], vec![0.25])], &[1, 1, 3, 3]);
    let input: Vec<f32> = vec![-1.5, 0.25, 2.0, 3.125, -0.5, 1.0, 0.75, -2.25, 1.5];
    let model = compile_with(&bytes, std::slice::from_ref(&input), ParamVisibility::Private).unwrap();
    let x = model.quantize_input(&input).unwrap();
    // Weight cells sit in advice columns `width / 2..width`; a copy between two of them is a
    // later use of a parameter.
    let half = model.settings.width / 2;
    let failures = failures_after(&model, &x, |synthesis, _| {
        let (_, reuse) = *synthesis
            .copies
            .iter()
            .rev()
            .find(|(a, b)| [a, b].iter().all(|c| c.column.kind == ColumnKind::Advice && c.column.index == half))
            .expect("the conv reuses its first weight");
        synthesis.advice[reuse.column.index][reuse.row] += Fr::from(1u64);
    });
    assert!(failures.iter().any(|f| matches!(f, Failure::Copy { .. })), "{failures:?}");
}
