//! Resize, Upsample, DepthToSpace and SpaceToDepth: nearest resizing and the rearrangements cost
//! no rows; bilinear resizing is within half a step of a hand-computed reference and proves, and
//! a region of equal values comes out exact where weights rounded one by one would not sum to
//! one; Resize-10 and Upsample round positions as onnxruntime does; cubic and antialias are
//! refused by name.

mod common;

use common::*;
use onnx_protobuf::{attribute_proto::AttributeType, AttributeProto};
use zkinfer_circuits::{Pass, Synthesis};
use zkinfer_compiler::circuit::ModelCircuit;

/// Half a step at scale 2^8, and a little for the f64 reference's own rounding.
const HALF_STEP: f64 = 0.5 / 256.0 + 1e-9;

/// The rows the gadgets take: the tallest advice column (`rows_used` also counts the lookup
/// tables, which are taller here).
fn rows(bytes: &[u8], input: &[f32]) -> usize {
    let model = compile(bytes, &[input.to_vec()]).unwrap();
    let x = model.quantize_input(input).unwrap();
    let synthesis = Synthesis::run(&ModelCircuit { model: &model, input: Some(&x) }, Pass::Mock).unwrap();
    synthesis.advice.iter().map(Vec::len).max().unwrap_or(0)
}

/// An opset-11+ Resize by `scales` of an input of shape `shape`.
fn resize(attributes: Vec<AttributeProto>, scales: &[f32], shape: &[i64]) -> Vec<u8> {
    Onnx::new(shape).floats("scales", &[scales.len() as i64], scales).node("Resize", "resize", &["input", "", "scales"], attributes).bytes("resize")
}

fn floats_attribute(name: &str, v: &[f32]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOATS.into();
    a.floats = v.to_vec();
    a
}

/// Distinct values an odd number of steps apart, so that weights of a quarter leave fractions
/// of a step for the rescale to round.
fn values(len: usize) -> Vec<f32> {
    (0..len).map(|i| ((i * 37 % 101) as f32 - 50.0) / 256.0).collect()
}

/// `w x w^T` for a square plane `x` and the 1-D weights `w` (one row per output position).
fn separable(w: &[Vec<f64>], x: &[f32]) -> Vec<f64> {
    let n = w[0].len();
    let at = |i: usize, j: usize| x[i * n + j] as f64;
    (0..w.len()).flat_map(|row| (0..w.len()).map(move |col| (0..n).flat_map(|i| (0..n).map(move |j| w[row][i] * w[col][j] * at(i, j))).sum())).collect()
}

#[test]
fn nearest_upsample_costs_no_rows() {
    let input = values(4);
    let nearest = resize(vec![string_attribute("mode", "nearest")], &[1.0, 1.0, 2.0, 2.0], &[1, 1, 2, 2]);
    let expected: Vec<f64> = (0..16).map(|o| input[(o / 8) * 2 + (o % 4) / 2] as f64).collect();
    check_op(&nearest, &input, &expected, 0.0);
    // The same 16 copies made by Tile, which costs no rows (docs/circuits.md), and by an Identity
    // of the input: the rows are the input's alone.
    let tile = Onnx::new(&[1, 1, 2, 2]).int64s("repeats", &[1, 1, 2, 2]).node("Tile", "tile", &["input", "repeats"], vec![]).bytes("tile");
    let identity = one_op("Identity", vec![], &[], &[1, 1, 2, 2]);
    assert_eq!(rows(&nearest, &input), rows(&tile, &input));
    assert_eq!(rows(&nearest, &input), rows(&identity, &input));
    // Linear weighs cells: the comparison sees rows where there are some.
    let linear = resize(vec![string_attribute("mode", "linear")], &[1.0, 1.0, 2.0, 2.0], &[1, 1, 2, 2]);
    assert!(rows(&linear, &input) > rows(&nearest, &input));
}

#[test]
fn bilinear_upsample_is_within_half_a_step() {
    // half_pixel at scale 2 on 3 cells: output x reads (x + 0.5) / 2 - 0.5, clamped into [0, 2].
    let w = vec![vec![1.0, 0.0, 0.0], vec![0.75, 0.25, 0.0], vec![0.25, 0.75, 0.0], vec![0.0, 0.75, 0.25], vec![0.0, 0.25, 0.75], vec![0.0, 0.0, 1.0]];
    let input = values(9);
    let model = resize(vec![string_attribute("mode", "linear")], &[1.0, 1.0, 2.0, 2.0], &[1, 1, 3, 3]);
    check_op(&model, &input, &separable(&w, &input), HALF_STEP);
    // align_corners to 5 cells by sizes: output x reads x / 2, so every other output is a cell.
    let w = vec![vec![1.0, 0.0, 0.0], vec![0.5, 0.5, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.5, 0.5], vec![0.0, 0.0, 1.0]];
    let attributes = vec![string_attribute("mode", "linear"), string_attribute("coordinate_transformation_mode", "align_corners")];
    let model = Onnx::new(&[1, 1, 3, 3]).int64s("sizes", &[1, 1, 5, 5]).node("Resize", "resize", &["input", "", "", "sizes"], attributes).bytes("resize");
    check_op(&model, &input, &separable(&w, &input), HALF_STEP);
}

#[test]
fn equal_values_come_out_exact() {
    // Asymmetric at scale 2.5: output 1 reads 0.4, and the weights 0.36, 0.24, 0.24, 0.16 round
    // one by one to 92 + 61 + 61 + 41 = 255 / 256, which would make 100.25 about 100 steps low.
    let attributes = vec![string_attribute("mode", "linear"), string_attribute("coordinate_transformation_mode", "asymmetric")];
    let model = resize(attributes, &[1.0, 1.0, 2.5, 2.5], &[1, 1, 2, 2]);
    check_op(&model, &[100.25; 4], &[100.25; 25], 0.0);
}

#[test]
fn resize_10_and_upsample_round_as_onnxruntime_does() {
    // onnxruntime 1.31.1's outputs for each model.
    let input = [1.0, 2.0, 3.0, 4.0];
    let scales = [1.0, 1.0, 1.0, 0.75];
    // Resize-10 (X, scales): asymmetric, and the ceiling when shrinking: 0, 1.33, 2.67 read 0, 2, 3.
    let model = Onnx::new(&[1, 1, 1, 4]).floats("scales", &[4], &scales).node("Resize", "resize", &["input", "scales"], vec![]).bytes("resize");
    check_op(&model, &input, &[1.0, 3.0, 4.0], 0.0);
    // From opset 11, half_pixel and round_prefer_floor: 0.17, 1.5, 2.83 read 0, 1, 3.
    check_op(&resize(vec![], &scales, &[1, 1, 1, 4]), &input, &[1.0, 2.0, 4.0], 0.0);
    // Upsample-7 (scales an attribute), linear: asymmetric, 0, 0.5, 1, 1.5 clamped to 1.
    let model = one_op("Upsample", vec![string_attribute("mode", "linear"), floats_attribute("scales", &[1.0, 1.0, 1.0, 2.0])], &[], &[1, 1, 1, 2]);
    check_op(&model, &[1.0, 3.0], &[1.0, 2.0, 3.0, 3.0], 0.0);
    // Upsample-9 (scales input 1), nearest: truncated.
    let model = one_op("Upsample", vec![], &[(vec![4], vec![1.0, 1.0, 1.0, 3.0])], &[1, 1, 1, 2]);
    check_op(&model, &[1.0, 3.0], &[1.0, 1.0, 1.0, 3.0, 3.0, 3.0], 0.0);
}

#[test]
fn depth_to_space_and_back_are_copies() {
    let input: Vec<f32> = (0..8).map(|i| i as f32).collect();
    let identity = one_op("Identity", vec![], &[], &[1, 8, 1, 1]);
    // Two channels of 2 x 2 blocks: DCR keeps the channel innermost, CRD outermost.
    for (mode, expected) in [("DCR", [0.0, 2.0, 4.0, 6.0, 1.0, 3.0, 5.0, 7.0]), ("CRD", [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])] {
        let attributes = || vec![int_attribute("blocksize", 2), string_attribute("mode", mode)];
        let model = one_op("DepthToSpace", attributes(), &[], &[1, 8, 1, 1]);
        check_op(&model, &input, &expected, 0.0);
        assert_eq!(rows(&model, &input), rows(&identity, &input));
        let there_and_back = Onnx::new(&[1, 8, 1, 1]).node("DepthToSpace", "d2s", &["input"], attributes()).node("SpaceToDepth", "s2d", &["d2s"], attributes()).bytes("s2d");
        check_op(&there_and_back, &input, &input.iter().map(|v| *v as f64).collect::<Vec<_>>(), 0.0);
    }
}

#[test]
fn cubic_and_antialias_are_refused_by_name() {
    let error = |attributes| compile(&resize(attributes, &[1.0, 1.0, 2.0, 2.0], &[1, 1, 2, 2]), &[values(4)]).unwrap_err().to_string();
    let cubic = error(vec![string_attribute("mode", "cubic")]);
    assert!(cubic.contains("Resize mode cubic is not supported; export with mode nearest or linear"), "{cubic}");
    let antialias = error(vec![string_attribute("mode", "linear"), int_attribute("antialias", 1)]);
    assert!(antialias.contains("antialias = 1 is not supported"), "{antialias}");
}
