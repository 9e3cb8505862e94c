//! MaxUnpool with constant indices: each value moved to the position its index names, zeros
//! elsewhere, in the mock prover (onnx's own cases are in conformance.rs); what it cannot take is
//! refused by name, before any allocation for a hostile output shape.

mod common;

use common::*;

/// A `[1, 1, 2, 2]` input unpooled by a 2x2 kernel of stride 2 to `[1, 1, 4, 4]` (or
/// `output_shape`), at the flat positions 0, 3, 9 and 15; `computed_shape` makes the output
/// shape a model input.
fn unpool(output_shape: Option<&[i64]>, computed_shape: bool) -> Vec<u8> {
    let attributes = vec![ints_attribute("kernel_shape", &[2, 2]), ints_attribute("strides", &[2, 2])];
    let mut model = Onnx::new(&[1, 1, 2, 2]).floats("indices", &[1, 1, 2, 2], &[0.0, 3.0, 9.0, 15.0]);
    let mut inputs = vec!["input", "indices"];
    if let Some(s) = output_shape {
        model = model.int64s("shape", s);
        inputs.push("shape");
    }
    if computed_shape {
        model = model.input("shape_in", &[4]);
        inputs.push("shape_in");
    }
    model.node("MaxUnpool", "out", &inputs, attributes).bytes("out")
}

#[test]
fn max_unpool_moves_values_to_their_indices() {
    let x = [0.5f32, -1.25, 2.0, 0.75];
    let expected = |len: usize| {
        let mut e = vec![0.0f64; len];
        for (i, v) in [0, 3, 9, 15].iter().zip(x) {
            e[*i] = v as f64;
        }
        e
    };
    let (model, _) = check_op(&unpool(None, false), &x, &expected(16), 0.0);
    assert_eq!(model.output_shapes(), vec![vec![1, 1, 4, 4]]);
    let (model, _) = check_op(&unpool(Some(&[1, 1, 4, 5]), false), &x, &expected(20), 0.0);
    assert_eq!(model.output_shapes(), vec![vec![1, 1, 4, 5]]);
    let err = compile(&unpool(Some(&[1, 1, 1 << 40, 1 << 40]), false), &[]).unwrap_err().to_string();
    assert!(err.contains("exceeds") || err.contains("overflows"), "{err}");
    let err = compile(&unpool(None, true), &[]).unwrap_err().to_string();
    assert!(err.contains("output_shape") && err.contains("constant"), "{err}");
}
