//! Gather of computed indices from a constant table (a token embedding) by lookup: the rows
//! against a reference and in the mock prover; an output, or an index off the grid, that a
//! prover changes after synthesis is rejected; indices the table does not hold are refused by
//! name. GatherElements and OneHot of computed indices (a tree traversal's node ids, a label's
//! encoding) read tables the same way.

mod common;

use common::*;
use zkinfer_circuits::{Failure, Fr};
use zkinfer_compiler::{CompileOptions, ParamVisibility};

/// A table of 5 rows of 3 values, read at 4 computed indices, then scaled by 2 so that the
/// gathered values also flow on through the circuit.
fn embedding() -> (Vec<u8>, Vec<f32>) {
    let table: Vec<f32> = (0..15).map(|i| (i as f32 - 7.0) / 4.0).collect();
    let bytes = Onnx::new(&[1, 4])
        .floats("table", &[5, 3], &table)
        .floats("two", &[], &[2.0])
        .node("Gather", "rows", &["table", "input"], vec![])
        .node("Mul", "out", &["rows", "two"], vec![])
        .bytes("out");
    (bytes, table)
}

#[test]
fn an_embedding_reads_rows_at_computed_indices() {
    let (bytes, table) = embedding();
    let tokens = [3.0f32, 0.0, 4.0, 3.0];
    let expected: Vec<f64> = tokens.iter().flat_map(|&t| (0..3).map(|j| 2.0 * table[t as usize * 3 + j] as f64).collect::<Vec<_>>()).collect();
    let (model, x) = check_op(&bytes, &tokens, &expected, 1e-9);
    assert_eq!(model.output_shapes(), vec![vec![1, 4, 3]]);
    assert_eq!(model.gather_tables().len(), 1);
    assert!(!failures_after_changing_output(&model, &x, 4).is_empty(), "a changed entry is rejected");
}

/// A prover who reads the key of index `x + 2^-s` (an index a step off the grid), keeping the
/// gather gate satisfied, finds no entry: the keys of one row end before the next row's begin.
#[test]
fn an_index_off_the_grid_reads_no_entry() {
    let (bytes, _) = embedding();
    let tokens = [3.0f32, 0.0, 4.0, 3.0];
    let model = compile(&bytes, &[tokens.to_vec()]).unwrap();
    let x = model.quantize_input(&tokens).unwrap();
    let width = model.settings.width;
    let (index, rc) = (0, width + 1);
    // The first gather row reads entry 0 of row 3: key 3 * 3 * 2^s.
    let key = Fr::from(3u64 * 3 * (1u64 << model.settings.scale_bits));
    let failures = failures_after(&model, &x, |synthesis, _| {
        let row = synthesis.advice[rc].iter().position(|v| *v == key).expect("the gather row's key");
        synthesis.advice[index][row] += Fr::from(1u64);
        synthesis.advice[rc][row] += Fr::from(3u64);
    });
    assert!(failures.iter().any(|f| matches!(f, Failure::Lookup { .. })), "{failures:?}");
    assert!(!gate_fails(&failures, "gather"));
}

#[test]
fn indices_outside_the_table_are_refused_by_name() {
    let (bytes, _) = embedding();
    // Without calibration: the circuit's whole range, so that only the table refuses them.
    let (settings, _) = zkinfer_compiler::compile(&bytes, &options(8), &[]).unwrap();
    let model = zkinfer_compiler::Model::from_onnx(&bytes, settings).unwrap();
    for (tokens, message) in
        [([3.0f32, 5.0, 0.0, 0.0], "index 5 is outside the table's 5 rows"), ([1.5, 0.0, 0.0, 0.0], "index 1.5 is not an integer"), ([-1.0, 0.0, 0.0, 0.0], "index -1 is negative")]
    {
        let err = model.evaluate(&model.quantize_input(&tokens).unwrap()).unwrap_err().to_string();
        assert!(err.contains(message), "{tokens:?}: {err}");
    }
    // The table sits in the verifying key, which private parameters would not reveal.
    let options = CompileOptions { param_visibility: ParamVisibility::Private, ..options(8) };
    let err = zkinfer_compiler::compile(&bytes, &options, &[vec![3.0, 0.0, 4.0, 3.0]]).unwrap_err().to_string();
    assert!(err.contains("--param-visibility fixed"), "{err}");
}

/// GatherElements of a constant `[3, 4]` along axis 1 at computed `[3, 2]` indices (each output
/// reads its own row's entry: a tree's node parameters at the node each sample reached), then
/// OneHot of the indices (depth 4, values `[0, 1]` along the last axis), summed with a constant
/// so that both flow on through the circuit. An index past the table is refused by name.
#[test]
fn gather_elements_and_one_hot_read_their_tables() {
    let data: Vec<f32> = (0..12).map(|i| (i as f32 - 5.0) / 8.0).collect();
    let bytes = Onnx::new(&[3, 2])
        .floats("data", &[3, 4], &data)
        .floats("depth", &[], &[4.0])
        .floats("values", &[2], &[0.0, 1.0])
        .floats("half", &[], &[0.5])
        .node("GatherElements", "picked", &["data", "input"], vec![int_attribute("axis", 1)])
        .node("OneHot", "hot", &["input", "depth", "values"], vec![])
        .node("Add", "shifted", &["hot", "half"], vec![])
        .bytes_with_outputs(&["picked", "shifted"]);
    let indices = [3.0f32, 0.0, 1.0, 1.0, 2.0, 3.0];
    let picked: Vec<f64> = indices.iter().enumerate().map(|(p, &i)| data[(p / 2) * 4 + i as usize] as f64).collect();
    let (model, x) = check_op(&bytes, &indices, &picked, 1e-9);
    let (outputs, _) = model.evaluate(&x).unwrap();
    let hot: Vec<f64> = indices.iter().flat_map(|&i| (0..4).map(move |k| if k == i as usize { 1.5 } else { 0.5 })).collect();
    assert_eq!(outputs[1].shape, vec![3, 2, 4]);
    assert_eq!(outputs[1].data.iter().map(|q| model.dequantize(*q)).collect::<Vec<_>>(), hot);
    assert_eq!(model.gather_tables().len(), 2);
    assert!(!failures_after_changing_output(&model, &x, 1).is_empty(), "a changed entry is rejected");
    let (settings, _) = zkinfer_compiler::compile(&bytes, &options(8), &[]).unwrap();
    let wide = zkinfer_compiler::Model::from_onnx(&bytes, settings).unwrap();
    let err = wide.evaluate(&wide.quantize_input(&[4.0, 0.0, 0.0, 0.0, 0.0, 0.0]).unwrap()).unwrap_err().to_string();
    assert!(err.contains("index 4 is outside the table's 4 rows"), "{err}");
}
