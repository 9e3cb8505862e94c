//! What the compiler's tests share: the fixtures, ONNX models built node by node, and the
//! mock prover's verdicts.

// Each test file uses its own part of this module.
#![allow(dead_code)]

// The fixtures' MNIST input rule, shared with the workspace's model tests (float.rs uses it).
#[allow(unused_imports)]
pub use zkinfer_test_support::mnist;

use onnx_protobuf::{attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::Dimension};
use onnx_protobuf::{AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, ValueInfoProto};
use protobuf::MessageField;
use std::path::PathBuf;
use zkinfer_circuits::{check, ColumnKind, Columns, Failure, Fr, MockProver, Pass, Synthesis};
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{CompileOptions, Error, Model, Optimize, ParamVisibility, Precision, Settings, SettingsFormat, Visibility};

pub fn fixture(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn fixture_bytes(path: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every number in the JSON array that follows `"key":` (nested arrays flattened): the
/// fixtures are plain arrays of numbers, and this crate has no JSON parser.
pub fn numbers(json: &str, key: &str) -> Vec<f64> {
    let start = json.find(&format!("\"{key}\"")).unwrap_or_else(|| panic!("no key {key}")) + key.len() + 2;
    let open = start + json[start..].find('[').unwrap();
    let mut depth = 0;
    let end = open
        + json[open..]
            .char_indices()
            .find(|&(_, c)| {
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

pub fn floats(v: &[f64]) -> Vec<f32> {
    v.iter().map(|x| *x as f32).collect()
}

/// The tests' compile options: scale 2^-`scale_bits`, width 8, the input private, the
/// parameters fixed; a test changes what it needs with `..options(s)`.
pub fn options(scale_bits: u32) -> CompileOptions {
    CompileOptions {
        precision: Precision::Scale(scale_bits),
        input_visibility: vec![Visibility::Private],
        param_visibility: ParamVisibility::Fixed,
        width: Some(8),
        optimize: Optimize::Proving,
        pack: None,
        max_memory: None,
    }
}

/// Settings that need no compile, for `inputs` private inputs: scale 2^8, limbs of 8 bits,
/// width 8, no input ranges.
pub fn settings(inputs: usize) -> Settings {
    Settings {
        format: SettingsFormat::CURRENT,
        scale_bits: 8,
        limb_bits: 8,
        width: 8,
        limbs: 3,
        input_visibility: vec![Visibility::Private; inputs],
        param_visibility: ParamVisibility::Fixed,
        pack: 1,
        input_ranges: Vec::new(),
    }
}

/// Compiled as `zkinfer compile --calibration` does, at scale 2^8 and width 8.
pub fn compile(bytes: &[u8], calibration: &[Vec<f32>]) -> Result<Model, Error> {
    compile_with(bytes, calibration, ParamVisibility::Fixed)
}

pub fn compile_with(bytes: &[u8], calibration: &[Vec<f32>], params: ParamVisibility) -> Result<Model, Error> {
    let options = CompileOptions { param_visibility: params, ..options(8) };
    Model::from_onnx(bytes, zkinfer_compiler::compile(bytes, &options, calibration)?.0)
}

pub fn fixture_input(name: &str) -> Vec<f32> {
    floats(&numbers(&fixture(&format!("{name}/input.json")), "input_data"))
}

/// A fixture's model compiled on its sample input, and that input.
pub fn fixture_model(name: &str) -> (Model, Vec<f32>) {
    let input = fixture_input(name);
    (compile(&fixture_bytes(&format!("{name}/model.onnx")), std::slice::from_ref(&input)).unwrap(), input)
}

/// The mock prover's verdict on the honest witness, and the circuit's degree.
pub fn mock_prove(model: &Model, x: &[i64]) -> Result<(), Vec<Failure>> {
    let (outputs, _) = model.evaluate(x).unwrap();
    let instances = ModelCircuit::instances(model, x, &outputs);
    let prover = MockProver::run(None, &ModelCircuit { model, input: Some(x) }, instances).unwrap();
    // Degree 5 would still fit the extended domain of 4n the element gate already needs.
    assert!(prover.description.required_degree() <= 5, "degree {}", prover.description.required_degree());
    prover.verify()
}

/// Synthesizes the honest witness, lets `change` alter it and the public values, and returns
/// the failures that follow.
pub fn failures_after(model: &Model, x: &[i64], change: impl FnOnce(&mut Synthesis, &mut [Fr])) -> Vec<Failure> {
    let (outputs, _) = model.evaluate(x).unwrap();
    let mut instances = ModelCircuit::instances(model, x, &outputs);
    let mut synthesis = Synthesis::run(&ModelCircuit { model, input: Some(x) }, Pass::Mock).unwrap();
    let k = synthesis.min_k(instances[0].len());
    synthesis.pad(k, instances[0].len()).unwrap();
    change(&mut synthesis, &mut instances[0]);
    instances[0].resize(1 << k, Fr::from(0u64));
    let usable = (1 << k) - synthesis.cs.reserved_rows();
    let columns = Columns { fixed: &synthesis.fixed, advice: &synthesis.advice, instance: &instances };
    check(&synthesis.cs.description(k), usable, &columns, &synthesis.permutation(k).unwrap())
}

/// Adds one to the cell behind public output `i` and to that public value, as a prover
/// claiming another output would: the failures that follow.
pub fn failures_after_changing_output(model: &Model, x: &[i64], i: usize) -> Vec<Failure> {
    failures_after(model, x, |synthesis, instances| {
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
        instances[i] += Fr::from(1u64);
    })
}

pub fn gate_fails(failures: &[Failure], name: &str) -> bool {
    failures.iter().any(|f| matches!(f, Failure::Gate { gate, .. } if gate == name))
}

/// The sample input's outputs are within `tolerance` of onnxruntime's, and the circuit holds.
pub fn matches_onnxruntime(name: &str, tolerance: f64) {
    let (model, input) = fixture_model(name);
    let x = model.quantize_input(&input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let expected = numbers(&fixture(&format!("{name}/output.json")), "output_data");
    assert_eq!(outputs[0].len(), expected.len());
    for (q, e) in outputs[0].data.iter().zip(&expected) {
        let got = model.dequantize(*q);
        assert!((got - e).abs() <= tolerance, "{name}: {got} vs onnxruntime {e}");
    }
    mock_prove(&model, &x).unwrap();
}

/// Runs a model on `input`, checks its quantized outputs against `reference` to within
/// `tolerance`, its float outputs to within 1e-5, and the circuit in the mock prover; returns
/// the model and quantized input.
pub fn check_op(bytes: &[u8], input: &[f32], reference: &[f64], tolerance: f64) -> (Model, Vec<i64>) {
    let model = compile(bytes, &[input.to_vec()]).unwrap();
    let x = model.quantize_input(input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let float = model.evaluate_float(input).unwrap();
    assert_eq!(outputs[0].len(), reference.len());
    assert_eq!(float[0].shape, outputs[0].shape);
    for (i, ((q, f), e)) in outputs[0].data.iter().zip(&float[0].data).zip(reference).enumerate() {
        let got = model.dequantize(*q);
        assert!((got - e).abs() <= tolerance, "output {i}: got {got}, expected {e}");
        assert!((*f as f64 - e).abs() <= 1e-5 * e.abs().max(1.0), "output {i}: float {f}, expected {e}");
    }
    mock_prove(&model, &x).unwrap();
    (model, x)
}

pub fn int_attribute(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INT.into();
    a.i = v;
    a
}

pub fn float_attribute(name: &str, v: f32) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOAT.into();
    a.f = v;
    a
}

pub fn ints_attribute(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::INTS.into();
    a.ints = v.to_vec();
    a
}

pub fn string_attribute(name: &str, v: &str) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::STRING.into();
    a.s = v.as_bytes().to_vec();
    a
}

/// An opset-13 ONNX model with one input, `input`, built node by node; each node's output
/// is named after the node.
pub struct Onnx {
    graph: GraphProto,
}

impl Onnx {
    pub fn new(shape: &[i64]) -> Self {
        let mut graph = GraphProto::new();
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
        Onnx { graph }
    }

    /// Another graph input, after those before.
    pub fn input(mut self, name: &str, shape: &[i64]) -> Self {
        let mut first = self.graph.input[0].clone();
        first.name = name.into();
        let dims = &mut first.type_.mut_or_insert_default().mut_tensor_type().shape.mut_or_insert_default().dim;
        dims.clear();
        for &d in shape {
            let mut dim = Dimension::new();
            dim.set_dim_value(d);
            dims.push(dim);
        }
        self.graph.input.push(first);
        self
    }

    /// Another graph input of ONNX type bool.
    pub fn bool_input(self, name: &str, shape: &[i64]) -> Self {
        let mut model = self.input(name, shape);
        let input = model.graph.input.last_mut().expect("just added");
        input.type_.mut_or_insert_default().mut_tensor_type().elem_type = DataType::BOOL as i32;
        model
    }

    pub fn floats(mut self, name: &str, dims: &[i64], data: &[f32]) -> Self {
        let mut t = TensorProto::new();
        t.name = name.into();
        t.dims = dims.to_vec();
        t.data_type = DataType::FLOAT as i32;
        t.float_data = data.to_vec();
        self.graph.initializer.push(t);
        self
    }

    /// A 1-D INT64 initializer, as exporters write Slice's and Pad's index inputs.
    pub fn int64s(mut self, name: &str, data: &[i64]) -> Self {
        let mut t = TensorProto::new();
        t.name = name.into();
        t.dims = vec![data.len() as i64];
        t.data_type = DataType::INT64 as i32;
        t.int64_data = data.to_vec();
        self.graph.initializer.push(t);
        self
    }

    pub fn node(mut self, op: &str, name: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> Self {
        let mut node = NodeProto::new();
        node.op_type = op.into();
        node.name = name.into();
        node.input = inputs.iter().map(|s| s.to_string()).collect();
        node.output = vec![name.into()];
        node.attribute = attributes;
        self.graph.node.push(node);
        self
    }

    /// A node with several outputs, named as given.
    pub fn node_with_outputs(mut self, op: &str, name: &str, inputs: &[&str], outputs: &[&str], attributes: Vec<AttributeProto>) -> Self {
        self = self.node(op, name, inputs, attributes);
        self.graph.node.last_mut().expect("just pushed").output = outputs.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn bytes(self, output: &str) -> Vec<u8> {
        self.bytes_with_outputs(&[output])
    }

    pub fn bytes_with_outputs(mut self, outputs: &[&str]) -> Vec<u8> {
        for output in outputs {
            let mut out = ValueInfoProto::new();
            out.name = output.to_string();
            self.graph.output.push(out);
        }
        let mut model = ModelProto::new();
        let mut opset = OperatorSetIdProto::new();
        opset.version = 13;
        model.opset_import.push(opset);
        model.graph = MessageField::some(self.graph);
        model.write_to_bytes().unwrap()
    }
}

/// A one-node model `op(input, c0, c1, ...)` with float constants, input shape `shape`.
pub fn one_op(op: &str, attributes: Vec<AttributeProto>, constants: &[(Vec<i64>, Vec<f32>)], shape: &[i64]) -> Vec<u8> {
    let name = op.to_lowercase();
    let names: Vec<String> = (0..constants.len()).map(|i| format!("c{i}")).collect();
    let mut model = Onnx::new(shape);
    for (n, (dims, data)) in names.iter().zip(constants) {
        model = model.floats(n, dims, data);
    }
    let inputs: Vec<&str> = std::iter::once("input").chain(names.iter().map(String::as_str)).collect();
    model.node(op, &name, &inputs, attributes).bytes(&name)
}
