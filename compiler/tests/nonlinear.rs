//! Sigmoid, Tanh, Exp, Softmax, LeakyRelu, PRelu and ArgMax: the quantized evaluation against
//! onnxruntime (the fixtures) and exact references, the circuit in the mock prover, and
//! witnesses changed after synthesis that the constraints must reject.

use onnx_protobuf::{attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::Dimension};
use onnx_protobuf::{AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, ValueInfoProto};
use protobuf::MessageField;
use std::path::PathBuf;
use zkinfer_circuits::{check, ColumnKind, Columns, Failure, Fr, MockProver, Synthesis};
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{CompileOptions, Error, Model, Visibility};

fn fixture(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every number in the JSON array that follows `"key":` (nested arrays flattened): the
/// fixtures are plain arrays of numbers, and this crate has no JSON parser.
fn numbers(json: &str, key: &str) -> Vec<f64> {
    let start = json.find(&format!("\"{key}\"")).unwrap_or_else(|| panic!("no key {key}")) + key.len() + 2;
    let open = start + json[start..].find('[').unwrap();
    let mut depth = 0;
    let end = open + json[open..].char_indices().find(|&(_, c)| {
        depth += match c {
            '[' => 1,
            ']' => -1,
            _ => 0,
        };
        depth == 0
    })
    .unwrap()
    .0;
    json[open..end].split(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
}

fn floats(v: &[f64]) -> Vec<f32> {
    v.iter().map(|x| *x as f32).collect()
}

/// Compiled as `zkinfer compile --calibration` does, at scale 2^8 and width 8.
fn compile(bytes: &[u8], calibration: &[Vec<f32>]) -> Result<Model, Error> {
    let options = CompileOptions { scale_bits: 8, input_visibility: Visibility::Private, width: Some(8) };
    Model::from_onnx(bytes, zkinfer_compiler::compile(bytes, &options, calibration)?.0)
}

fn fixture_model(name: &str) -> (Model, Vec<f32>) {
    let input = floats(&numbers(&fixture(&format!("{name}/input.json")), "input_data"));
    let bytes = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../fixtures/{name}/model.onnx"))).unwrap();
    (compile(&bytes, &[input.clone()]).unwrap(), input)
}

/// The mock prover's verdict on the honest witness, and the circuit's degree.
fn mock_prove(model: &Model, x: &[i64]) -> Result<(), Vec<Failure>> {
    let (outputs, _) = model.evaluate(x).unwrap();
    let instances = ModelCircuit::instances(model, x, &outputs);
    let prover = MockProver::run(None, &ModelCircuit { model, input: Some(x) }, instances).unwrap();
    // Degree 5 would still fit the extended domain of 4n the element gate already needs.
    assert!(prover.description.required_degree() <= 5, "degree {}", prover.description.required_degree());
    prover.verify()
}

/// Synthesizes the honest witness, then adds one to the cell behind public output `i` and to
/// that public value, as a prover claiming another output would: the failures that follow.
fn failures_after_changing_output(model: &Model, x: &[i64], i: usize) -> Vec<Failure> {
    let (outputs, _) = model.evaluate(x).unwrap();
    let mut instances = ModelCircuit::instances(model, x, &outputs);
    let mut synthesis = Synthesis::run(&ModelCircuit { model, input: Some(x) }, true).unwrap();
    let k = synthesis.min_k(instances[0].len());
    synthesis.pad(k, instances[0].len()).unwrap();
    let cell = synthesis
        .copies
        .iter()
        .find_map(|(a, b)| match (a.column.kind, b.column.kind) {
            (_, ColumnKind::Instance) if b.row == i => Some(*a),
            (ColumnKind::Instance, _) if a.row == i => Some(*b),
            _ => None,
        })
        .expect("every output is copied to the instance column");
    synthesis.advice[cell.column.index][cell.row] += Fr::from(1u64);
    instances[0][i] += Fr::from(1u64);
    instances[0].resize(1 << k, Fr::from(0u64));
    let usable = (1 << k) - synthesis.cs.reserved_rows();
    let columns = Columns { fixed: &synthesis.fixed, advice: &synthesis.advice, instance: &instances };
    check(&synthesis.cs.description(k), usable, &columns, &synthesis.copies)
}

fn gate_fails(failures: &[Failure], name: &str) -> bool {
    failures.iter().any(|f| matches!(f, Failure::Gate { gate, .. } if gate == name))
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

/// The sample input's outputs are within `tolerance` of onnxruntime's, and the circuit holds.
fn matches_onnxruntime(name: &str, tolerance: f64) {
    let (model, input) = fixture_model(name);
    let x = model.quantize_input(&input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let expected = numbers(&fixture(&format!("{name}/output.json")), "output_data");
    for (q, e) in outputs[0].data.iter().zip(&expected) {
        let got = model.dequantize(*q);
        assert!((got - e).abs() <= tolerance, "{name}: {got} vs onnxruntime {e}");
    }
    mock_prove(&model, &x).unwrap();
}

/// On the 120 held-out digits the quantized model picks onnxruntime's class; a few images
/// are within quantization error of a tie.
fn predictions_match(name: &str) {
    let (model, _) = fixture_model(name);
    let images = numbers(&fixture("digits_test.json"), "images");
    let expected = numbers(&fixture(&format!("{name}/test_predictions.json")), "predictions");
    let agree = images
        .chunks(64)
        .zip(&expected)
        .filter(|(image, class)| {
            let (outputs, _) = model.evaluate(&model.quantize_input(&floats(image)).unwrap()).unwrap();
            let values: Vec<f64> = outputs[0].data.iter().map(|v| model.dequantize(*v)).collect();
            argmax(&values) == **class as usize
        })
        .count();
    assert_eq!(expected.len(), 120);
    assert!(agree >= 115, "{name}: {agree}/120 predictions agree with onnxruntime");
}

#[test]
fn sigmoid_tanh_mlp_matches_onnxruntime() {
    // Logits up to about 11: quantized weights and activations, not only the tables.
    matches_onnxruntime("sigmoid_tanh_mlp", 0.1);
}

#[test]
fn softmax_bn_matches_onnxruntime() {
    matches_onnxruntime("softmax_bn", 0.02);
}

#[test]
fn sigmoid_tanh_mlp_predicts_like_onnxruntime() {
    predictions_match("sigmoid_tanh_mlp");
}

#[test]
fn softmax_bn_predicts_like_onnxruntime() {
    predictions_match("softmax_bn");
}

fn int_attribute(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

fn float_attribute(name: &str, v: f32) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOAT.into();
    a.f = v;
    a
}

/// A one-node opset-13 model `op(input, constants...)` with input shape `shape`.
fn one_op(op: &str, attributes: Vec<AttributeProto>, constants: &[(Vec<i64>, Vec<f32>)], shape: &[i64]) -> Vec<u8> {
    let mut graph = GraphProto::new();
    let mut node = NodeProto::new();
    node.op_type = op.into();
    node.name = op.to_lowercase();
    node.input = vec!["input".into()];
    node.output = vec!["output".into()];
    node.attribute = attributes;
    for (i, (dims, data)) in constants.iter().enumerate() {
        let mut t = TensorProto::new();
        t.name = format!("c{i}");
        t.dims = dims.clone();
        t.data_type = DataType::FLOAT as i32;
        t.float_data = data.clone();
        node.input.push(t.name.clone());
        graph.initializer.push(t);
    }
    graph.node.push(node);
    let mut input = ValueInfoProto::new();
    input.name = "input".into();
    let tensor = input.type_.mut_or_insert_default().mut_tensor_type();
    tensor.elem_type = DataType::FLOAT as i32;
    for &d in shape {
        let mut dim = Dimension::new();
        dim.set_dim_value(d);
        tensor.shape.mut_or_insert_default().dim.push(dim);
    }
    graph.input.push(input);
    let mut output = ValueInfoProto::new();
    output.name = "output".into();
    graph.output.push(output);
    let mut model = ModelProto::new();
    let mut opset = OperatorSetIdProto::new();
    opset.version = 13;
    model.opset_import.push(opset);
    model.graph = MessageField::some(graph);
    model.write_to_bytes().unwrap()
}

/// Inputs on the fixed-point grid, across and beyond each table's interval.
fn spread() -> Vec<f32> {
    vec![-20.0, -9.5, -7.9, -6.25, -4.0, -3.5, -2.125, -1.0, -0.5, -0.0625, 0.0, 0.03125, 0.25, 0.75, 1.5, 2.0, 3.0, 3.984375, 4.5, 7.0, 8.25, 30.0]
}

/// Runs a one-op model on `input`, checks its outputs against `reference` to within
/// `tolerance` and the circuit in the mock prover; returns the model and quantized input.
fn check_op(bytes: &[u8], input: &[f32], reference: &[f64], tolerance: f64) -> (Model, Vec<i64>) {
    let model = compile(bytes, &[input.to_vec()]).unwrap();
    let x = model.quantize_input(input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    assert_eq!(outputs[0].len(), reference.len());
    for ((q, e), x) in outputs[0].data.iter().zip(reference).zip(input.iter().cycle()) {
        let got = model.dequantize(*q);
        assert!((got - e).abs() <= tolerance, "got {got}, expected {e} (input {x})");
    }
    mock_prove(&model, &x).unwrap();
    (model, x)
}

/// Within about one fixed-point step of the exact function, saturating beyond the table;
/// a changed output breaks the function gate.
#[test]
fn sigmoid_and_tanh_follow_the_exact_functions() {
    let input = spread();
    let n = input.len() as i64;
    let sigmoid: Vec<f64> = input.iter().map(|x| 1.0 / (1.0 + (-*x as f64).exp())).collect();
    let (model, x) = check_op(&one_op("Sigmoid", vec![], &[], &[1, n]), &input, &sigmoid, 1.1 / 256.0);
    let tanh: Vec<f64> = input.iter().map(|x| (*x as f64).tanh()).collect();
    check_op(&one_op("Tanh", vec![], &[], &[1, n]), &input, &tanh, 1.1 / 256.0);
    for i in [0, 9, 21] {
        assert!(gate_fails(&failures_after_changing_output(&model, &x, i), "function output"));
    }
}

#[test]
fn exp_refuses_inputs_beyond_its_table_before_proving() {
    let input: Vec<f32> = vec![-12.0, -6.0, -1.0, -0.25, 0.0, 0.0625];
    let reference: Vec<f64> = input.iter().map(|x| (*x as f64).exp()).collect();
    let bytes = one_op("Exp", vec![], &[], &[1, 6]);
    check_op(&bytes, &input, &reference, 1.1 / 256.0);

    let model = compile(&bytes, &[input]).unwrap();
    let x = model.quantize_input(&[0.0, 0.0, 0.0, 0.0, 0.0, 1.0]).unwrap();
    let message = model.evaluate(&x).unwrap_err().to_string();
    assert!(message.contains("node 'exp' (Exp): Exp input 1 is at or above 0.125"), "{message}");
}

#[test]
fn softmax_sums_to_one_along_its_axis() {
    let input: Vec<f32> = vec![1.0, 2.0, 3.0, -4.0, 0.5, 0.5, 12.0, -12.0, 0.0];
    let reference: Vec<f64> = input
        .chunks(3)
        .flat_map(|lane| {
            let e: Vec<f64> = lane.iter().map(|v| (*v as f64).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| v / s)
        })
        .collect();
    let (model, x) = check_op(&one_op("Softmax", vec![int_attribute("axis", -1)], &[], &[1, 3, 3]), &input, &reference, 2.0 / 256.0);
    assert!(gate_fails(&failures_after_changing_output(&model, &x, 0), "divide"));

    // Along the middle axis of [1, 3, 3]: lanes are the columns.
    let transposed: Vec<f64> = (0..9).map(|i| reference[(i % 3) * 3 + i / 3]).collect();
    let columns: Vec<f32> = (0..9).map(|i| input[(i % 3) * 3 + i / 3]).collect();
    check_op(&one_op("Softmax", vec![int_attribute("axis", 1)], &[], &[1, 3, 3]), &columns, &transposed, 2.0 / 256.0);
}

#[test]
fn leaky_relu_and_prelu_scale_negative_inputs() {
    let input: Vec<f32> = vec![-3.0, -0.5, 0.0, 0.25, 2.0, -10.0];
    let leaky: Vec<f64> = input.iter().map(|x| if *x < 0.0 { 0.1 * *x as f64 } else { *x as f64 }).collect();
    // The slope is quantized to 26/256: 0.0016 away from 0.1.
    check_op(&one_op("LeakyRelu", vec![float_attribute("alpha", 0.1)], &[], &[1, 6]), &input, &leaky, 0.02);

    let slopes = [0.25f32, 0.5, 0.0, 1.0, 2.0, -0.5];
    let prelu: Vec<f64> = input.iter().zip(slopes).map(|(x, a)| if *x < 0.0 { (a * x) as f64 } else { *x as f64 }).collect();
    check_op(&one_op("PRelu", vec![], &[(vec![6], slopes.to_vec())], &[1, 6]), &input, &prelu, 1.0 / 256.0);
}

/// The index dequantizes to itself; ties go to the first (or, with select_last_index, the
/// last) maximum as in onnxruntime; a changed index breaks the sum that counts positions.
#[test]
fn argmax_gives_the_index_of_the_maximum() {
    let input: Vec<f32> = vec![0.5, 2.0, -1.0, 2.0, 0.25, -3.0, -2.0, -2.5, -2.0, -9.0];
    let rows = |last: bool| -> Vec<f64> {
        input
            .chunks(5)
            .map(|lane| {
                let best = lane.iter().cloned().fold(f32::MIN, f32::max);
                let hits: Vec<usize> = (0..5).filter(|&i| lane[i] == best).collect();
                (if last { *hits.last().unwrap() } else { hits[0] }) as f64
            })
            .collect()
    };
    let (model, x) = check_op(&one_op("ArgMax", vec![int_attribute("axis", -1), int_attribute("keepdims", 1)], &[], &[1, 2, 5]), &input, &rows(false), 0.0);
    assert_eq!(model.output_shapes(), vec![vec![1, 2, 1]]);
    assert!(gate_fails(&failures_after_changing_output(&model, &x, 1), "dot"));
    let attributes = vec![int_attribute("axis", 2), int_attribute("keepdims", 0), int_attribute("select_last_index", 1)];
    let (model, _) = check_op(&one_op("ArgMax", attributes, &[], &[1, 2, 5]), &input, &rows(true), 0.0);
    assert_eq!(model.output_shapes(), vec![vec![1, 2]]);
}
