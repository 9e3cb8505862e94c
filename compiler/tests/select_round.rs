//! Round, Sign, Hardmax, TopK and ReduceProd on their edge cases (halves, zero, ties), exact on
//! the grid (scale 2^-8 here) against the ONNX definitions, in the mock prover; a changed output
//! must break the circuit; what is not supported is refused by name.

mod common;

use common::*;
use zkinfer_compiler::Model;

/// Every output of `bytes` on `input`, quantized and in floats, equals `expected` (one list per
/// output) exactly, and the circuit holds; a changed first output breaks it.
fn exact(bytes: &[u8], input: &[f32], expected: &[Vec<f64>]) {
    let model = compile(bytes, &[input.to_vec()]).unwrap();
    let x = model.quantize_input(input).unwrap();
    let (outputs, _) = model.evaluate(&x).unwrap();
    let float = model.evaluate_float(input).unwrap();
    assert_eq!(outputs.len(), expected.len());
    for (o, want) in expected.iter().enumerate() {
        let got: Vec<f64> = outputs[o].data.iter().map(|q| model.dequantize(*q)).collect();
        assert_eq!(&got, want, "output {o}, quantized");
        let got: Vec<f64> = float[o].data.iter().map(|&f| f as f64).collect();
        assert_eq!(&got, want, "output {o}, floats");
    }
    mock_prove(&model, &x).unwrap();
    assert!(!failures_after_changing_output(&model, &x, 0).is_empty(), "a changed output passes");
}

fn refused(bytes: &[u8], shape: usize, message: &str) {
    let error = compile(bytes, &[vec![0.5; shape]]).err().unwrap_or_else(|| panic!("compiled; expected {message:?}")).to_string();
    assert!(error.contains(message), "{error}");
}

#[test]
fn round_takes_halves_to_the_even_integer() {
    let input = [0.5f32, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, -3.5, 0.49609375, 0.50390625, -0.49609375, -0.50390625, 0.0, 2.0, -7.0, 6.75, -6.25];
    let expected: Vec<f64> = input.iter().map(|v| v.round_ties_even() as f64).collect();
    assert_eq!(&expected[..8], &[0.0, 2.0, 2.0, 4.0, -0.0, -2.0, -2.0, -4.0]);
    let bytes = Onnx::new(&[input.len() as i64]).node("Round", "round", &["input"], vec![]).bytes("round");
    exact(&bytes, &input, &[expected]);
}

#[test]
fn sign_is_zero_at_zero() {
    let input = [-5.0f32, -0.00390625, 0.0, 0.00390625, 2.5];
    let bytes = Onnx::new(&[5]).node("Sign", "sign", &["input"], vec![]).bytes("sign");
    exact(&bytes, &input, &[vec![-1.0, -1.0, 0.0, 1.0, 1.0]]);
}

#[test]
fn hardmax_marks_the_first_maximum() {
    let input = [1.0f32, 3.0, 3.0, 0.0, -1.0, -1.0, -1.0, -1.0];
    let rows = Onnx::new(&[2, 4]).node("Hardmax", "hardmax", &["input"], vec![]).bytes("hardmax");
    exact(&rows, &input, &[vec![0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]]);
    // Along axis 0: each column's first maximum (ties in columns 1 to 3 go to row 0).
    let columns = Onnx::new(&[2, 4]).node("Hardmax", "hardmax", &["input"], vec![int_attribute("axis", 0)]).bytes("hardmax");
    exact(&columns, &input, &[vec![1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]]);
    // Its 0/1 output is a mask that the logical ops take.
    let not = Onnx::new(&[2, 4]).node("Hardmax", "hardmax", &["input"], vec![]).node("Not", "not", &["hardmax"], vec![]).bytes("not");
    exact(&not, &input, &[vec![1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]]);
}

fn top_k(k: i64, attributes: Vec<onnx_protobuf::AttributeProto>) -> Vec<u8> {
    Onnx::new(&[2, 5]).int64s("k", &[k]).node_with_outputs("TopK", "topk", &["input", "k"], &["values", "indices"], attributes).bytes_with_outputs(&["values", "indices"])
}

const TIES: [f32; 10] = [1.0, 3.0, 3.0, 0.0, 3.0, 2.0, -1.0, 2.0, -1.0, 5.0];

#[test]
fn top_k_puts_the_lower_index_first_among_ties() {
    exact(&top_k(3, vec![int_attribute("axis", 1)]), &TIES, &[vec![3.0, 3.0, 3.0, 5.0, 2.0, 2.0], vec![1.0, 2.0, 4.0, 4.0, 0.0, 2.0]]);
    let smallest = top_k(3, vec![int_attribute("largest", 0)]);
    exact(&smallest, &TIES, &[vec![0.0, 1.0, 3.0, -1.0, -1.0, 2.0], vec![3.0, 0.0, 1.0, 1.0, 3.0, 0.0]]);
    // k = n: the whole lane sorted.
    exact(&top_k(5, vec![]), &TIES, &[vec![3.0, 3.0, 3.0, 1.0, 0.0, 5.0, 2.0, 2.0, -1.0, -1.0], vec![1.0, 2.0, 4.0, 0.0, 3.0, 4.0, 0.0, 2.0, 1.0, 3.0]]);
}

/// The `k` largest (or smallest) of each lane and their indices, ties to the lower index: a
/// stable sort.
fn sorted_picks(lanes: &[Vec<f32>], k: usize, largest: bool) -> (Vec<f64>, Vec<f64>) {
    let (mut values, mut indices) = (Vec::new(), Vec::new());
    for lane in lanes {
        let mut order: Vec<usize> = (0..lane.len()).collect();
        order.sort_by(|&a, &b| if largest { lane[b].total_cmp(&lane[a]) } else { lane[a].total_cmp(&lane[b]) });
        values.extend(order[..k].iter().map(|&i| lane[i] as f64));
        indices.extend(order[..k].iter().map(|&i| i as f64));
    }
    (values, indices)
}

/// Lanes of 40 along axis 0 of `[40, 2]` (many repeated values), the 5 largest and smallest.
#[test]
fn top_k_along_a_longer_lane() {
    let input: Vec<f32> = (0..80).map(|i| ((i * 37 + 11) % 23) as f32 * 0.25 - 2.5).collect();
    let lanes: Vec<Vec<f32>> = (0..2).map(|c| (0..40).map(|r| input[r * 2 + c]).collect()).collect();
    for largest in [1, 0] {
        let bytes = Onnx::new(&[40, 2])
            .int64s("k", &[5])
            .node_with_outputs("TopK", "topk", &["input", "k"], &["values", "indices"], vec![int_attribute("axis", 0), int_attribute("largest", largest)])
            .bytes_with_outputs(&["values", "indices"]);
        let (values, indices) = sorted_picks(&lanes, 5, largest == 1);
        // Outputs are `[5, 2]`: rank-major, the two lanes side by side.
        let interleave = |v: &[f64]| (0..10).map(|i| v[(i % 2) * 5 + i / 2]).collect::<Vec<f64>>();
        exact(&bytes, &input, &[interleave(&values), interleave(&indices)]);
    }
}

#[test]
fn top_k_refuses_what_it_cannot_select() {
    refused(&top_k(6, vec![]), 10, "k = 6 is more than the 5 entries along axis 1");
    refused(&top_k(0, vec![]), 10, "k = 0: at least one entry must be selected");
    let computed =
        Onnx::new(&[2, 5]).input("k", &[1]).node_with_outputs("TopK", "topk", &["input", "k"], &["values", "indices"], vec![]).bytes_with_outputs(&["values", "indices"]);
    let Err(error) = Model::from_onnx(&computed, settings(2)) else { panic!("a computed K is refused") };
    let error = error.to_string();
    assert!(error.contains("(TopK)") && error.contains("input 1 (K) must be a constant initializer"), "{error}");
}

#[test]
fn reduce_prod_multiplies_each_group() {
    let input = [0.5f32, 2.0, -1.5, 1.25, -0.5, 4.0];
    let along = |axes: &[i64], keepdims: i64| {
        Onnx::new(&[2, 3]).int64s("axes", axes).node("ReduceProd", "prod", &["input", "axes"], vec![int_attribute("keepdims", keepdims)]).bytes("prod")
    };
    // Every partial product lies on the grid, so each rescale is exact.
    exact(&along(&[1], 0), &input, &[vec![-1.5, -2.5]]);
    exact(&along(&[0], 1), &input, &[vec![0.625, -1.0, -6.0]]);
    exact(&along(&[-1, 0], 1), &input, &[vec![3.75]]);
}
