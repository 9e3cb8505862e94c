//! Scales beyond the limb: the fixed point (`--scale`) and the range table's limb are separate,
//! so a model can be proved at 2^-20 with a table of 2^10 rows. A rescale's remainder then
//! spans several limbs, the top one checked against its own narrow range.

mod common;

use common::*;
use zkinfer_circuits::gadgets::Function;
use zkinfer_circuits::{ColumnKind, Failure, Fr};
use zkinfer_compiler::{limb_bits_for, CompileOptions, Model};

fn compiled(bytes: &[u8], input: &[f32], scale_bits: u32) -> (Model, Vec<i64>) {
    let (settings, _) = zkinfer_compiler::compile(bytes, &options(scale_bits), &[input.to_vec()]).unwrap();
    let model = Model::from_onnx(bytes, settings).unwrap();
    let x = model.quantize_input(input).unwrap();
    (model, x)
}

#[test]
fn limbs_split_scales_beyond_twelve_bits_evenly() {
    let limbs: Vec<u32> = [8, 12, 13, 16, 20].map(|s| limb_bits_for(s, false)).to_vec();
    assert_eq!(limbs, [8, 12, 7, 8, 10]);
    // With function tables: the widest limb, for the tables' resolution.
    assert_eq!([8, 12, 16].map(|s| limb_bits_for(s, true)), [8, 12, 12]);
}

/// The MNIST MLP at finer scales: each step of scale shrinks the error against onnxruntime,
/// and the circuit holds at each (beyond 12 the remainder takes two limbs, the top one narrow
/// where the limb does not divide the scale).
#[test]
fn finer_scales_are_more_accurate_and_prove() {
    let bytes = fixture_bytes("mnist_mlp/model.onnx");
    let input = fixture_input("mnist_mlp");
    let expected = numbers(&fixture("mnist_mlp/output.json"), "output_data");
    let mut errors = Vec::new();
    for scale in [8, 13, 16, 20] {
        let (model, x) = compiled(&bytes, &input, scale);
        // The limb is chosen for cost among those the scale or the values' range allow.
        let limb = model.settings.limb_bits;
        assert!(limb <= 12 && scale.div_ceil(limb) <= 3, "scale {scale}: limb {limb}");
        let (outputs, _) = model.evaluate(&x).unwrap();
        errors.push(outputs[0].data.iter().zip(&expected).map(|(q, e)| (model.dequantize(*q) - e).abs()).fold(0.0, f64::max));
        mock_prove(&model, &x).unwrap();
    }
    // Measured: 0.138, 0.0025, 0.00037, 0.00002.
    assert!(errors.windows(2).all(|w| w[1] < w[0] / 4.0), "{errors:?}");
    assert!(errors[2] < 0.001 && errors[3] < 0.0001, "{errors:?}");
}

/// A prover who rounds an output one step down must add `2^scale` to the remainder: at scale
/// 13 with limbs of 7 bits its top limb (6 bits) becomes 64 to 127, which a 7-bit range check
/// would pass. The narrow range refuses it, and nothing else does.
#[test]
fn the_remainders_top_limb_is_checked_against_its_narrow_range() {
    let w = [0.37f32, -1.21, 0.66, 0.05, -0.48, 0.91];
    let bytes = one_op("MatMul", vec![], &[(vec![3, 2], w.to_vec())], &[1, 3]);
    let input = [0.813f32, -0.274, 0.552];
    let (settings, _) = zkinfer_compiler::compile(&bytes, &options(13), &[input.to_vec()]).unwrap();
    // Limbs of 7 bits, whichever compile chose: 13 = 7 + 6.
    let settings = zkinfer_compiler::Settings { limb_bits: 7, limbs: 4, ..settings };
    let model = Model::from_onnx(&bytes, settings).unwrap();
    let x = model.quantize_input(&input).unwrap();
    let shape = model.settings.shape();
    assert_eq!((shape.limb_bits, shape.remainder_limbs(), shape.top_remainder_bits()), (7, 2, 6));
    mock_prove(&model, &x).unwrap();
    let (rc, rc_msb) = (shape.width + 1, shape.width + 2);
    let failures = model_failures(&model, &x, |advice, instances| {
        let (column, row) = output_cell(advice.1, 0);
        assert_eq!(column, 2, "the output is the element gate's `out`");
        let advice = advice.0;
        let y = to_i64(advice[1][row]) - 1;
        for (col, v) in [(1, y), (2, y)] {
            advice[col][row] = zkinfer_circuits::gadgets::fr(v);
        }
        instances[0] -= Fr::from(1u64);
        // The step's own limbs, which its bounds chose, then the remainder's.
        let limbs = model.element_limbs[0];
        let bound = shape.bound_at(limbs);
        for j in 0..limbs {
            let limb = ((y + bound) >> (7 * j)) & 127;
            advice[rc][row + j] = Fr::from(limb as u64);
            advice[rc_msb][row + j] = Fr::from((limb >> 6) as u64);
        }
        advice[rc][row + limbs + 1] += Fr::from(1u64 << 6);
        // Its top bit, as a full limb's range check reads it.
        advice[rc_msb][row + limbs + 1] = Fr::from(1u64);
    });
    assert!(!failures.is_empty(), "one step down must not prove");
    assert!(failures.iter().all(|f| matches!(f, Failure::Lookup { .. })), "only the narrow range catches it: {failures:?}");
}

fn to_i64(f: Fr) -> i64 {
    zkinfer_circuits::gadgets::to_i64(f).unwrap()
}

type Advice<'a> = (&'a mut Vec<Vec<Fr>>, &'a [(zkinfer_circuits::Cell, zkinfer_circuits::Cell)]);

/// The failures after `change` edits the honest witness's advice columns and public values.
fn model_failures(model: &Model, x: &[i64], change: impl FnOnce(Advice, &mut [Fr])) -> Vec<Failure> {
    failures_after(model, x, |synthesis, instances| change((&mut synthesis.advice, &synthesis.copies), instances))
}

/// The advice cell copied to public value `i`.
fn output_cell(copies: &[(zkinfer_circuits::Cell, zkinfer_circuits::Cell)], i: usize) -> (usize, usize) {
    copies
        .iter()
        .find_map(|(a, b)| match (a.column.kind, b.column.kind) {
            (_, ColumnKind::Instance) if b.row == i => Some((a.column.index, a.row)),
            (ColumnKind::Instance, _) if a.row == i => Some((b.column.index, b.row)),
            _ => None,
        })
        .expect("every output is copied to the instance column")
}

/// Function tables beyond one limb: Sigmoid and Tanh at 2^-16 prove and are 11x closer to
/// onnxruntime than at 2^-12 (measured 2.0e-3 and 1.7e-4); at 2^-20, with
/// tables of up to 2^14 samples (more than one limb indexes), 19x closer again (9.1e-6: the
/// last layer's ten outputs reach 10.8, and its weights carry each step's rounding).
#[test]
fn functions_beyond_a_limb_prove_finer() {
    let bytes = fixture_bytes("sigmoid_tanh_mlp/model.onnx");
    let input = fixture_input("sigmoid_tanh_mlp");
    let expected = numbers(&fixture("sigmoid_tanh_mlp/output.json"), "output_data");
    let error = |scale: u32| {
        let (model, x) = compiled(&bytes, &input, scale);
        mock_prove(&model, &x).unwrap();
        let (outputs, _) = model.evaluate(&x).unwrap();
        (model.settings.limb_bits, outputs[0].data.iter().zip(&expected).map(|(q, e)| (model.dequantize(*q) - e).abs()).fold(0.0, f64::max))
    };
    let ((limb12, at12), (limb16, at16), (limb20, at20)) = (error(12), error(16), error(20));
    // At 2^-16 the limb of 11 bits is cheapest: the range table's 2^11 rows beside 1025
    // samples of Sigmoid's (which Tanh reads too) take 2^12 rows.
    assert_eq!((limb12, limb16, limb20), (12, 11, 12));
    assert!(at16 * 8.0 < at12 && at16 < 5e-4 && at20 * 12.0 < at16, "{at12} {at16} {at20}");
}

/// The limb is laid out at each width the scale or the values' range split evenly allows, and
/// the cheapest kept: the MNIST MLP at 2^-16, whose values the interval bounds keep below 683
/// (27 bits with the sign), takes limbs of 12 bits (three for the logits, two for the hidden
/// layers), 2^13 rows like 2^-8; the digits CNN at 2^-8, whose max pool compares the Conv's
/// accumulators at 2^-16 (25 bits), two limbs of 11 bits: 2^12 rows, where limbs of 8 bits take
/// more rows than 2^11 holds.
#[test]
fn the_limb_is_chosen_for_cost() {
    for (name, scale, chosen) in [("mnist_mlp", 16, (12, 3, 13)), ("digits_cnn", 8, (11, 2, 12))] {
        let options = CompileOptions { width: None, ..options(scale) };
        let (settings, report) = zkinfer_compiler::compile(&fixture_bytes(&format!("{name}/model.onnx")), &options, &[fixture_input(name)]).unwrap();
        assert_eq!((settings.limb_bits, settings.limbs, report.k), chosen, "{name}");
    }
}

/// Each function's table sits in the lookup table only for a model that looks it up: the
/// digits CNN has none, sigmoid_tanh_mlp Sigmoid's and Tanh's (1025 rows each at 2^-16 and limbs
/// of 12 bits), softmax_bn Exp's.
#[test]
fn function_tables_only_where_used() {
    let compiled = |name: &str| {
        let bytes = fixture_bytes(&format!("{name}/model.onnx"));
        let (settings, report) = zkinfer_compiler::compile(&bytes, &CompileOptions { width: None, ..options(16) }, &[fixture_input(name)]).unwrap();
        (Model::from_onnx(&bytes, settings).unwrap(), report)
    };
    let (cnn, _) = compiled("digits_cnn");
    assert_eq!(cnn.shape().functions, 0);
    let (sigmoid, report) = compiled("sigmoid_tanh_mlp");
    assert_eq!(sigmoid.shape().functions, Function::Sigmoid.bit() | Function::Tanh.bit());
    assert!(report.rows_used < 4096 + 3 * 1025, "{} rows", report.rows_used);
    let (softmax, report) = compiled("softmax_bn");
    assert_eq!(softmax.shape().functions, Function::Exp.bit());
    assert!(report.rows_used < 4096 + 2 * 1025, "{} rows", report.rows_used);
}

/// Attention's `q * 1/sqrt(d)`: a constant factor that is no multiple of a step compiles at every
/// scale, with or without calibration, within about half a step. Its divisor once grew with the
/// scale to 2^47 at 2^-16, beyond the range, and a TransformerEncoder failed to compile.
#[test]
fn a_constant_factor_keeps_half_a_step_at_every_scale() {
    let factor = 0.353_553_4f32;
    let input = [7.93f32, -5.21, 0.377, -0.0041];
    for op in ["Mul", "Div"] {
        let c = if op == "Mul" { factor } else { 1.0 / factor };
        let bytes = one_op(op, vec![], &[(vec![1], vec![c])], &[1, 4]);
        for scale in [8, 16, 20] {
            for calibration in [vec![input.to_vec()], vec![]] {
                let (settings, _) = zkinfer_compiler::compile(&bytes, &options(scale), &calibration).unwrap_or_else(|e| panic!("{op} at 2^-{scale}: {e}"));
                let model = Model::from_onnx(&bytes, settings).unwrap();
                let x = model.quantize_input(&input).unwrap();
                let (outputs, _) = model.evaluate(&x).unwrap();
                for (q, v) in outputs[0].data.iter().zip(input) {
                    let steps = (model.dequantize(*q) - v as f64 * factor as f64).abs() * (1u64 << scale) as f64;
                    assert!(steps <= 0.51, "{op} at 2^-{scale}: {steps} steps off for {v}");
                }
                mock_prove(&model, &x).unwrap();
            }
        }
    }
}
