//! Reading models as exporters write them and as strangers might: external data (read once,
//! from inside the model's folder only), every tensor type ONNX stores, attributes zkinfer
//! never reads, and hostile files (escaping paths, data past the end of its file, huge shapes,
//! cycles, dangling inputs, duplicate names), each refused with an error that names the
//! problem. Fixtures: fixtures/loading/, written by fixtures/make_loading.py.

mod common;

use common::*;
use onnx_protobuf::{attribute_proto::AttributeType, tensor_proto::DataLocation, AttributeProto, Message, ModelProto};
use std::path::{Path, PathBuf};
use zkinfer_compiler::onnx::{inline_external_data, parse, MAX_ELEMENTS};
use zkinfer_compiler::{Error, Model};

fn loading(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/loading").join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(loading(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture's model with its external data read from its own folder.
fn inlined(path: &str) -> Result<Vec<u8>, Error> {
    let path = loading(path);
    inline_external_data(&std::fs::read(&path).unwrap(), path.parent().unwrap())
}

fn error_of<T>(result: Result<T, Error>) -> String {
    match result {
        Ok(_) => panic!("the model should be refused"),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "the error should mention {part:?}: {message}");
    }
}

/// A fresh empty folder under the system's temporary folder.
fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkinfer-loading-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tiny_input() -> Vec<f32> {
    floats(&numbers(&fixture("loading/tiny/input.json"), "input_data"))
}

/// Quantized and float outputs of a model compiled on the tiny input, with its settings and
/// report as JSON.
fn outcome(bytes: &[u8]) -> (Vec<i64>, Vec<f32>, String) {
    let input = tiny_input();
    let (settings, report) = zkinfer_compiler::compile(bytes, &options(8), std::slice::from_ref(&input)).unwrap();
    let model = Model::from_onnx(bytes, settings.clone()).unwrap();
    let x = model.quantize_input(&input).unwrap();
    let (q, _) = model.evaluate(&x).unwrap();
    mock_prove(&model, &x).unwrap();
    let f = model.evaluate_float(&input).unwrap();
    (q[0].data.clone(), f[0].data.clone(), serde_json::to_string(&(settings, report)).unwrap())
}

// ---------------------------------------------------------------- external data

#[test]
fn external_data_is_inlined_and_compiles_as_the_inline_model() {
    let bytes = inlined("external/tiny.onnx").unwrap();
    // Self-contained: no tensor, initializer or Constant attribute, points elsewhere.
    let model = ModelProto::parse_from_bytes(&bytes).unwrap();
    let graph = model.graph.as_ref().unwrap();
    let attribute_tensors = graph.node.iter().flat_map(|n| &n.attribute).filter_map(|a| a.t.as_ref());
    let tensors: Vec<_> = graph.initializer.iter().chain(attribute_tensors).collect();
    assert_eq!(tensors.len(), 4);
    for t in tensors {
        assert_eq!(t.data_location.enum_value(), Ok(DataLocation::DEFAULT), "{}", t.name);
        assert!(t.external_data.is_empty() && !t.raw_data.is_empty(), "{}", t.name);
    }

    let (q, f, settings) = outcome(&bytes);
    let (q_inline, f_inline, settings_inline) = outcome(&read("tiny/model.onnx"));
    assert_eq!((q, &f, settings), (q_inline, &f_inline, settings_inline));
    let expected = numbers(&fixture("loading/tiny/output.json"), "output_data");
    for (got, e) in f.iter().zip(&expected) {
        assert!((*got as f64 - e).abs() <= 1e-6, "{got} vs numpy {e}");
    }
}

#[test]
fn a_model_without_external_data_passes_through_byte_for_byte() {
    let bytes = read("tiny/model.onnx");
    // The folder is not even looked at.
    assert_eq!(inline_external_data(&bytes, Path::new("/no/such/folder")).unwrap(), bytes);
}

#[test]
fn external_data_not_yet_read_is_named_as_such() {
    // What zkinfer said before: "tensor 'fc1.weight' has 0 values for shape [8, 4]".
    let message = error_of(parse(&read("external/tiny.onnx")));
    assert_mentions(&message, &["external data", "'fc1.weight'", "external file 'tiny.onnx.data'", "zkinfer compile", "inline_external_data"]);
}

#[test]
fn a_missing_data_file_names_the_file_the_tensor_and_where_it_must_be() {
    let message = error_of(inlined("hostile/missing.onnx"));
    let folder = loading("hostile").canonicalize().unwrap();
    assert_mentions(&message, &["'fc1.weight'", "'missing.onnx.data'", "is missing", "must sit beside the model", &folder.display().to_string()]);

    // The model copied without its .data file, as users do.
    let dir = temp("alone");
    std::fs::copy(loading("external/tiny.onnx"), dir.join("tiny.onnx")).unwrap();
    let message = error_of(inline_external_data(&std::fs::read(dir.join("tiny.onnx")).unwrap(), &dir));
    assert_mentions(&message, &["'fc1.weight'", "'tiny.onnx.data'", "is missing", "must sit beside the model"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn float16_weights_read_exactly() {
    let bytes = inlined("float16/tiny.onnx").unwrap();
    let (_, f, _) = outcome(&bytes);
    // numpy's float32 forward pass of the float16 weights.
    let expected = numbers(&fixture("loading/float16/output.json"), "output_data");
    assert_eq!(f.len(), expected.len());
    for (got, e) in f.iter().zip(&expected) {
        assert!((*got as f64 - e).abs() <= 1e-6, "{got} vs numpy {e}");
    }
}

// ---------------------------------------------------------------- hostile external data

#[test]
fn a_location_leaving_the_folder_is_refused_even_when_the_file_exists() {
    // ../external/tiny.onnx.data exists: the location alone is refused.
    assert!(loading("external/tiny.onnx.data").exists());
    let message = error_of(inlined("hostile/escape.onnx"));
    assert_mentions(&message, &["'fc1.weight'", "'../external/tiny.onnx.data'", "leads out of the model's folder"]);
}

#[test]
fn an_absolute_location_is_refused() {
    let message = error_of(inlined("hostile/absolute.onnx"));
    assert_mentions(&message, &["'fc1.weight'", "'/etc/passwd'", "is an absolute path", "relative to the model's folder"]);
}

#[test]
fn offsets_and_lengths_past_the_end_of_the_file_are_refused() {
    let size = std::fs::metadata(loading("hostile/tiny.onnx.data")).unwrap().len();
    let message = error_of(inlined("hostile/past_end.onnx"));
    assert_mentions(&message, &["'fc1.weight'", &format!("offset {} + length 128 runs past the end", size - 64), &format!("({size} bytes)")]);
    let message = error_of(inlined("hostile/offset_past_end.onnx"));
    assert_mentions(&message, &["'fc1.weight'", &format!("offset {} is past the end", size + 4096)]);
    // Within the file, but not the 8 x 4 floats the tensor declares.
    let message = error_of(inlined("hostile/wrong_length.onnx"));
    assert_mentions(&message, &["'fc1.weight'", "external data is 64 bytes", "FLOAT of shape [8, 4] needs 128"]);
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_of_the_folder_is_refused_and_one_inside_it_followed() {
    let dir = temp("symlink");
    std::fs::copy(loading("external/tiny.onnx"), dir.join("tiny.onnx")).unwrap();
    let outside = loading("external/tiny.onnx.data").canonicalize().unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("tiny.onnx.data")).unwrap();
    let bytes = std::fs::read(dir.join("tiny.onnx")).unwrap();
    let message = error_of(inline_external_data(&bytes, &dir));
    assert_mentions(&message, &["'fc1.weight'", &format!("resolves to {}", outside.display()), "outside the model's folder", "symbolic link"]);

    // A link that stays inside the folder is an ordinary file.
    std::fs::remove_file(dir.join("tiny.onnx.data")).unwrap();
    std::fs::create_dir(dir.join("weights")).unwrap();
    std::fs::copy(&outside, dir.join("weights/real.data")).unwrap();
    std::os::unix::fs::symlink("weights/real.data", dir.join("tiny.onnx.data")).unwrap();
    assert_eq!(inline_external_data(&bytes, &dir).unwrap(), inlined("external/tiny.onnx").unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- hostile shapes and graphs

#[test]
fn huge_declared_shapes_are_errors_before_any_allocation() {
    let message = error_of(parse(&read("hostile/huge_dims.onnx")));
    assert_mentions(&message, &["tensor 'huge'", "declares shape [1000000, 1000000]", &format!("over the {MAX_ELEMENTS} elements")]);
    // 2^32 x 2^32 wraps to 0 elements in 64-bit arithmetic, which its (absent) data matched.
    let message = error_of(parse(&read("hostile/overflow_dims.onnx")));
    assert_mentions(&message, &["tensor 'wraps'", "declares shape [4294967296, 4294967296]"]);
    // Before, the input was accepted and compiling it allocated 10^12 values.
    let message = error_of(parse(&read("hostile/huge_input.onnx")));
    assert_mentions(&message, &["input 'input'", "declares shape [1, 1000000, 1000000]"]);
}

#[test]
fn raw_data_must_match_the_shape() {
    let message = error_of(parse(&read("hostile/bad_raw.onnx")));
    assert_mentions(&message, &["tensor 'bad'", "has 3 bytes of raw data", "needs 1 x 4 = 4 bytes"]);
}

#[test]
fn cycles_are_named() {
    let message = error_of(parse(&read("hostile/cycle.onnx")));
    assert_mentions(&message, &["the graph has a cycle", "'first' (Add)", "'second' (Relu)"]);
}

#[test]
fn dangling_inputs_are_named() {
    let message = error_of(parse(&read("hostile/dangling.onnx")));
    assert_mentions(&message, &["node 'add' (Add)", "input 'ghost' is not defined", "no initializer or graph input"]);
}

#[test]
fn duplicate_names_are_errors() {
    let message = error_of(parse(&read("hostile/duplicate_initializer.onnx")));
    assert_mentions(&message, &["duplicate name", "initializer 'one' is defined twice"]);
    let message = error_of(parse(&read("hostile/duplicate_output.onnx")));
    assert_mentions(&message, &["duplicate name", "'h' is the output of node 'second' (Add)", "node 'first' (Relu)"]);
    let message = error_of(parse(&read("hostile/redefined_input.onnx")));
    assert_mentions(&message, &["duplicate name", "'input' is the output of node 'relu' (Relu)", "graph input 'input'"]);
}

#[test]
fn nodes_listed_out_of_order_are_read_in_order() {
    assert_eq!(outcome(&read("hostile/unsorted.onnx")), outcome(&read("tiny/model.onnx")));
}

// ---------------------------------------------------------------- tensor types

/// The values make_loading.py writes for each type, as f32.
fn expected_values(name: &str) -> Vec<f32> {
    match name {
        "float" => vec![1.5, -0.25, 3.0e38],
        "double" => vec![0.1f64 as f32, -2.5, f32::INFINITY],
        // The smallest subnormal, 2^-24, and 0.1 rounded to float16.
        "float16" => vec![1.5, -2.0, 65504.0, 1.0 / 16777216.0, 3276.0 / 32768.0],
        "bfloat16" => vec![1.0, -3.140625, 0.0078125],
        "int8" => vec![-128.0, -1.0, 0.0, 127.0],
        "uint8" => vec![0.0, 1.0, 200.0, 255.0],
        "int16" => vec![-32768.0, -2.0, 32767.0],
        "uint16" => vec![0.0, 40000.0, 65535.0],
        "int32" => vec![-2147483648.0, -7.0, 16777216.0],
        "int64" => vec![-16777216.0, 5.0, 16777216.0],
        "uint32" => vec![0.0, 7.0, 16777216.0],
        "uint64" => vec![0.0, 9.0, 16777216.0],
        "bool" => vec![1.0, 0.0, 1.0],
        _ => unreachable!(),
    }
}

#[test]
fn every_tensor_type_reads_from_raw_data_and_from_its_typed_field() {
    let graph = parse(&read("dtypes/model.onnx")).unwrap();
    for name in ["float", "double", "float16", "bfloat16", "int8", "uint8", "int16", "uint16", "int32", "int64", "uint32", "uint64", "bool"] {
        let expected = expected_values(name);
        for form in ["raw", "typed"] {
            let t = &graph.constants[&format!("{name}_{form}")];
            assert_eq!(t.shape, vec![expected.len()], "{name}_{form}");
            assert_eq!(t.data, expected, "{name}_{form}");
        }
    }
    // A Constant node's int8 value.
    let t = &graph.constants["int8_constant"];
    assert_eq!((t.shape.clone(), t.data.clone()), (vec![2, 2], vec![-3.0, 4.0, 100.0, -100.0]));
    // Which constants stand for integers.
    let mut integers: Vec<&str> = graph.integers.iter().map(String::as_str).collect();
    integers.sort();
    let mut expected: Vec<String> = ["int8", "uint8", "int16", "uint16", "int32", "int64", "uint32", "uint64", "bool"]
        .iter()
        .flat_map(|n| [format!("{n}_raw"), format!("{n}_typed")])
        .chain(["int8_constant".to_string()])
        .collect();
    expected.sort();
    assert_eq!(integers, expected);
}

#[test]
fn int8_uint8_and_bool_constants_are_consumed_through_cast() {
    let bytes = read("dtypes/consumed.onnx");
    let input = tiny_input();
    let model = compile(&bytes, std::slice::from_ref(&input)).unwrap();
    let x = model.quantize_input(&input).unwrap();
    let (q, _) = model.evaluate(&x).unwrap();
    let got: Vec<f64> = q[0].data.iter().map(|v| model.dequantize(*v)).collect();
    // Exact at scale 2^8: input * float(mask) + float(uint8) + float(int8).
    assert_eq!(got, numbers(&fixture("loading/dtypes/consumed_output.json"), "output_data"));
    mock_prove(&model, &x).unwrap();
}

// ---------------------------------------------------------------- attributes and unsupported ops

/// The tree ensemble that stood for an unsupported ai.onnx.ml op (zkinfer said "attribute
/// 'nodes_modes' has an unsupported type", then "unsupported op") now reads, STRINGS attribute
/// and all: one branch, `x0 <= 0.5`, to class 0 or class 1.
#[test]
fn a_tree_ensemble_reads_its_strings_attribute() {
    let bytes = read("unsupported/tree_ensemble.onnx");
    for (x0, class) in [(0.5f32, 0.0), (0.75, 1.0)] {
        let input = vec![x0, 0.0, 0.0, 0.0];
        let model = compile(&bytes, std::slice::from_ref(&input)).unwrap();
        let (q, _) = model.evaluate(&model.quantize_input(&input).unwrap()).unwrap();
        let probabilities = if class == 0.0 { [1.0, 0.0] } else { [0.0, 1.0] };
        assert_eq!(q.iter().map(|t| t.data.iter().map(|v| model.dequantize(*v)).collect::<Vec<_>>()).collect::<Vec<_>>(), vec![vec![class], probabilities.to_vec()]);
    }
}

/// The LSTM that stood for an op of the default domain with a STRINGS attribute (activations)
/// that zkinfer lacked now reads and runs: its quantized output near its float one.
#[test]
fn an_lstm_reads_its_strings_attribute() {
    let input = vec![0.25f32, -0.5, 0.75, 0.125];
    let model = compile(&read("unsupported/lstm.onnx"), std::slice::from_ref(&input)).unwrap();
    let (q, _) = model.evaluate(&model.quantize_input(&input).unwrap()).unwrap();
    let float = model.evaluate_float(&input).unwrap();
    for (q, f) in q[0].data.iter().zip(&float[0].data) {
        assert!((model.dequantize(*q) - *f as f64).abs() < 4.0 / 256.0, "{} against {f}", model.dequantize(*q));
    }
}

#[test]
fn an_attribute_of_a_type_zkinfer_cannot_read_fails_only_where_an_op_reads_it() {
    let tensors = |name: &str| {
        let mut a = AttributeProto::new();
        a.name = name.into();
        a.type_ = AttributeType::TENSORS.into();
        a.tensors = vec![Default::default()];
        a
    };
    // Relu reads no attribute: an unexpected one is ignored.
    let relu = Onnx::new(&[1, 4]).node("Relu", "relu", &["input"], vec![tensors("note")]).bytes("relu");
    compile(&relu, &[]).unwrap();
    // Transpose reads perm.
    let transpose = Onnx::new(&[1, 4]).node("Transpose", "t", &["input"], vec![tensors("perm")]).bytes("t");
    let message = error_of(compile(&transpose, &[]));
    assert_mentions(&message, &["node 't' (Transpose)", "attribute 'perm' should be a list of integers", "TENSORS"]);
}

#[test]
fn training_mode_is_refused_by_name_and_a_dropout_of_ratio_zero_is_the_identity() {
    let dropout = |ratio: f32| one_op("Dropout", vec![], &[(vec![], vec![ratio]), (vec![], vec![1.0])], &[1, 4]);
    assert_mentions(&error_of(compile(&dropout(0.5), &[])), &["(Dropout)", "training_mode = true with ratio 0.5", "model.eval()"]);
    compile(&dropout(0.0), &[]).unwrap();
    let mut bn = one_op(
        "BatchNormalization",
        vec![int_attribute("training_mode", 1)],
        &[(vec![2], vec![1.0; 2]), (vec![2], vec![0.0; 2]), (vec![2], vec![0.0; 2]), (vec![2], vec![1.0; 2])],
        &[1, 2, 2, 2],
    );
    assert_mentions(&error_of(compile(&bn, &[])), &["(BatchNormalization)", "training_mode = 1", "model.eval()"]);
    bn = one_op("BatchNormalization", vec![], &[(vec![2], vec![1.0; 2]), (vec![2], vec![0.0; 2]), (vec![2], vec![0.0; 2]), (vec![2], vec![1.0; 2])], &[1, 2, 2, 2]);
    compile(&bn, &[]).unwrap();
}
