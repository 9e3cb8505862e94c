//! Slice and Pad: ONNX's index rules (negative indices, clamping, steps, crop, reflect and
//! edge) against index lists worked out by hand, onnxruntime on the slice_pad fixture, the
//! circuit in the mock prover, and the errors for what is not supported.

mod common;

use common::*;

/// `x[i] = i / 8` for an input of `len` values: distinct and exact at scale 2^8.
fn ramp(len: usize) -> Vec<f32> {
    (0..len).map(|i| i as f32 / 8.0).collect()
}

/// Per axis, the input index each output position reads; `None` reads the fill value.
type Picks = Vec<Vec<Option<usize>>>;

/// The elements of a row-major tensor of shape `shape` at every combination of the
/// per-axis indices `picks` (`None`: the fill value).
fn pick(values: &[f32], shape: &[usize], picks: &[Vec<Option<usize>>], fill: f32) -> Vec<f64> {
    let mut out = vec![Vec::<usize>::new()];
    for axis in picks {
        out = out.iter().flat_map(|prefix| axis.iter().map(move |i| prefix.iter().copied().chain([i.map_or(usize::MAX, |i| i)]).collect())).collect();
    }
    out.iter()
        .map(|index| {
            if index.contains(&usize::MAX) {
                return fill as f64;
            }
            let flat = index.iter().zip(shape).fold(0, |acc, (i, n)| acc * n + i);
            values[flat] as f64
        })
        .collect()
}

fn all(n: usize) -> Vec<Option<usize>> {
    (0..n).map(Some).collect()
}

fn some(v: &[usize]) -> Vec<Option<usize>> {
    v.iter().map(|&i| Some(i)).collect()
}

/// A model `Slice(input, starts, ends[, axes[, steps]])` on a [1, 3, 4, 5] input.
fn slice_model(starts: &[i64], ends: &[i64], axes: Option<&[i64]>, steps: Option<&[i64]>) -> Vec<u8> {
    let mut model = Onnx::new(&[1, 3, 4, 5]).int64s("starts", starts).int64s("ends", ends);
    let mut inputs = vec!["input", "starts", "ends"];
    if let Some(a) = axes {
        model = model.int64s("axes", a);
        inputs.push("axes");
    }
    if let Some(s) = steps {
        if axes.is_none() {
            inputs.push("");
        }
        model = model.int64s("steps", s);
        inputs.push("steps");
    }
    model.node("Slice", "slice", &inputs, vec![]).bytes("slice")
}

#[test]
fn slice_follows_onnx_indexing() {
    let shape = [1, 3, 4, 5];
    let x = ramp(60);
    let cases: Vec<(Vec<u8>, Picks)> = vec![
        // Axis 1 from -1 (2) down to -100 (clamped to before 0) by 2: 2, 0. Axis 3 from 1 to
        // INT64_MAX (clamped to 5) by 2: 1, 3.
        (slice_model(&[-1, 1], &[-100, i64::MAX], Some(&[1, 3]), Some(&[-2, 2])), vec![all(1), some(&[2, 0]), all(4), some(&[1, 3])]),
        // No axes: starts and ends apply to axes 0 and 1; -2 is 1, 100 is clamped to 3.
        (slice_model(&[0, -2], &[1, 100], None, None), vec![all(1), some(&[1, 2]), all(4), all(5)]),
        // Reversed: INT64_MAX clamps to the last index, INT64_MIN to before the first.
        (slice_model(&[i64::MAX], &[i64::MIN], Some(&[2]), Some(&[-1])), vec![all(1), all(3), some(&[3, 2, 1, 0]), all(5)]),
        // Axis -1 from 0 to -1 (4) by 3, steps given without axes.
        (slice_model(&[0, 0, 0, 0], &[1, 3, 4, -1], None, Some(&[1, 1, 1, 3])), vec![all(1), all(3), all(4), some(&[0, 3])]),
    ];
    for (bytes, picks) in cases {
        let expected = pick(&x, &shape, &picks, 0.0);
        let (model, _) = check_op(&bytes, &x, &expected, 0.0);
        let want: Vec<usize> = picks.iter().map(Vec::len).collect();
        assert_eq!(model.output_shapes(), vec![want]);
    }
}

/// Slice before opset 10: starts, ends and axes as attributes.
#[test]
fn slice_reads_attributes_of_old_opsets() {
    let attributes = vec![ints_attribute("starts", &[1]), ints_attribute("ends", &[-1]), ints_attribute("axes", &[2])];
    let bytes = Onnx::new(&[1, 3, 4, 5]).node("Slice", "slice", &["input"], attributes).bytes("slice");
    let x = ramp(60);
    check_op(&bytes, &x, &pick(&x, &[1, 3, 4, 5], &[all(1), all(3), some(&[1, 2]), all(5)], 0.0), 0.0);
}

fn slice_error(bytes: &[u8]) -> String {
    compile(bytes, &[]).unwrap_err().to_string()
}

#[test]
fn slice_refuses_what_onnx_forbids() {
    let message = slice_error(&slice_model(&[0], &[4], Some(&[2]), Some(&[0])));
    assert!(message.contains("node 'slice' (Slice): a step is 0"), "{message}");
    let message = slice_error(&slice_model(&[3], &[1], Some(&[2]), None));
    assert!(message.contains("the slice of axis 2 (size 4) from 3 to 1 by 1 selects nothing"), "{message}");
    let message = slice_error(&slice_model(&[0, 1], &[1, 2], Some(&[1, -3]), None));
    assert!(message.contains("axis 1 is sliced twice"), "{message}");
    let message = slice_error(&slice_model(&[0], &[1], Some(&[4]), None));
    assert!(message.contains("axis 4 is out of range for rank 4"), "{message}");
    // `starts` computed by the graph: only constants are supported.
    let bytes =
        Onnx::new(&[1, 3, 4, 5]).int64s("ends", &[1]).node("Relu", "computed", &["input"], vec![]).node("Slice", "slice", &["input", "computed", "ends"], vec![]).bytes("slice");
    let message = slice_error(&bytes);
    assert!(message.contains("input 1 (starts) must be a constant initializer"), "{message}");
}

/// A model `Pad(input, pads[, value[, axes]])` in `mode` on a [1, 2, 3] input.
fn pad_model(mode: &str, pads: &[i64], value: Option<f32>, axes: Option<&[i64]>) -> Vec<u8> {
    let mut model = Onnx::new(&[1, 2, 3]).int64s("pads", pads);
    let mut inputs = vec!["input", "pads"];
    if let Some(v) = value {
        model = model.floats("value", &[], &[v]);
        inputs.push("value");
    }
    if let Some(a) = axes {
        if value.is_none() {
            inputs.push("");
        }
        model = model.int64s("axes", a);
        inputs.push("axes");
    }
    model.node("Pad", "pad", &inputs, vec![string_attribute("mode", mode)]).bytes("pad")
}

#[test]
fn pad_follows_onnx_modes() {
    let shape = [1, 2, 3];
    let x: Vec<f32> = vec![-1.5, 0.25, 2.0, 3.125, -0.5, 1.0];
    let cases: Vec<(Vec<u8>, Picks, f32)> = vec![
        // One row before axis 1, two columns before and one after axis 2, filled with 0.75.
        (pad_model("constant", &[0, 1, 2, 0, 0, 1], Some(0.75), None), vec![all(1), vec![None, Some(0), Some(1)], vec![None, None, Some(0), Some(1), Some(2), None]], 0.75),
        // Negative pads crop: the last row, the first column; a column of zeros after.
        (pad_model("constant", &[0, 0, -1, 0, -1, 1], None, None), vec![all(1), some(&[0]), vec![Some(1), Some(2), None]], 0.0),
        // Reflect mirrors without repeating the edge.
        (pad_model("reflect", &[0, 0, 2, 0, 1, 2], None, None), vec![all(1), some(&[0, 1, 0]), some(&[2, 1, 0, 1, 2, 1, 0])], 0.0),
        // Edge repeats the edge.
        (pad_model("edge", &[0, 1, 1, 0, 0, 3], None, None), vec![all(1), some(&[0, 0, 1]), some(&[0, 0, 1, 2, 2, 2, 2])], 0.0),
        // Opset 18's axes: the pads apply to the last axis only.
        (pad_model("constant", &[1, 2], Some(-2.0), Some(&[-1])), vec![all(1), all(2), vec![None, Some(0), Some(1), Some(2), None, None]], -2.0),
    ];
    for (bytes, picks, fill) in cases {
        let expected = pick(&x, &shape, &picks, fill);
        let (model, _) = check_op(&bytes, &x, &expected, 0.0);
        let want: Vec<usize> = picks.iter().map(Vec::len).collect();
        assert_eq!(model.output_shapes(), vec![want]);
    }
}

/// Pad before opset 11: pads and value as attributes.
#[test]
fn pad_reads_attributes_of_old_opsets() {
    let attributes = vec![ints_attribute("pads", &[0, 0, 1, 0, 0, 0]), float_attribute("value", 1.5)];
    let bytes = Onnx::new(&[1, 2, 3]).node("Pad", "pad", &["input"], attributes).bytes("pad");
    let x = ramp(6);
    check_op(&bytes, &x, &pick(&x, &[1, 2, 3], &[all(1), all(2), vec![None, Some(0), Some(1), Some(2)]], 1.5), 0.0);
}

/// Every padded position reads one cell that the dot gate fixes to the value: a prover
/// cannot claim another.
#[test]
fn padded_values_are_constrained() {
    let bytes = pad_model("constant", &[0, 0, 1, 0, 0, 0], Some(0.5), None);
    let x = ramp(6);
    let model = compile(&bytes, std::slice::from_ref(&x)).unwrap();
    let q = model.quantize_input(&x).unwrap();
    assert!(gate_fails(&failures_after_changing_output(&model, &q, 0), "dot"));
}

#[test]
fn pad_refuses_unsupported_modes_and_sizes() {
    let message = slice_error(&pad_model("wrap", &[0, 0, 1, 0, 0, 1], None, None));
    assert!(message.contains("node 'pad' (Pad): mode 'wrap' is not supported; constant, reflect and edge are"), "{message}");
    let message = slice_error(&pad_model("reflect", &[0, 0, 3, 0, 0, 0], None, None));
    assert!(message.contains("reflect padding of 3 on axis 2 needs more than 3 values"), "{message}");
    let message = slice_error(&pad_model("edge", &[0, 0, -1, 0, 0, 0], None, None));
    assert!(message.contains("cropping) are supported in constant mode only, not in mode 'edge'"), "{message}");
    let message = slice_error(&pad_model("constant", &[0, 0, -2, 0, 0, -1], None, None));
    assert!(message.contains("pads -2 and -1 leave nothing of axis 2 (size 3)"), "{message}");
    let message = slice_error(&pad_model("constant", &[0, 0, 1, 0, 0], None, None));
    assert!(message.contains("5 pads for 3 axes"), "{message}");
}

/// Slices and pads of every kind around a Conv, against onnxruntime.
#[test]
fn slice_pad_matches_onnxruntime() {
    matches_onnxruntime("slice_pad", 0.03);
}
