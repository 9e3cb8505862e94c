//! Gather of computed indices from a constant table (a token embedding) by lookup: the rows
//! against a reference and in the mock prover; an output, or an index off the grid, that a
//! prover changes after synthesis is rejected; indices the table does not hold are refused by
//! name.

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
