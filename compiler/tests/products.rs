//! Products of two computed tensors: Mul with numpy broadcasting, batched MatMul (attention's
//! `Q K^T`), Einsum, and SiLU `x * sigmoid(x)`, each against a reference and in the mock
//! prover, and an output changed after synthesis that the constraints reject.

mod common;

use common::*;

fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| (((i + seed) * 37 % 101) as f32 - 50.0) / 40.0).collect()
}

#[test]
fn mul_of_two_computed_tensors_broadcasts() {
    let model = Onnx::new(&[2, 1, 3]).input("b", &[1, 4, 3]).node("Mul", "out", &["input", "b"], vec![]).bytes("out");
    let (a, b) = (values(6, 0), values(12, 5));
    let expected: Vec<f64> = (0..2).flat_map(|i| (0..4).flat_map(move |j| (0..3).map(move |k| (i, j, k)))).map(|(i, j, k)| a[i * 3 + k] as f64 * b[j * 3 + k] as f64).collect();
    let input: Vec<f32> = a.iter().chain(&b).copied().collect();
    let (model, x) = check_op(&model, &input, &expected, 0.01);
    assert_eq!(model.output_shapes(), vec![vec![2, 4, 3]]);
    assert!(model.shape().products && !model.settings.shape().products, "the model's shape adds the products' gate");
    assert!(!failures_after_changing_output(&model, &x, 5).is_empty(), "a changed product is rejected");
}

/// `[heads, seq, d] x [heads, d, seq]`: one sum of products per output, batched over heads.
#[test]
fn batched_matmul_of_two_computed_tensors() {
    let model = Onnx::new(&[2, 3, 4]).input("k", &[2, 4, 3]).node("MatMul", "out", &["input", "k"], vec![]).bytes("out");
    let (q, k) = (values(24, 0), values(24, 7));
    let expected: Vec<f64> = (0..2)
        .flat_map(|h| (0..3).flat_map(move |r| (0..3).map(move |c| (h, r, c))))
        .map(|(h, r, c)| (0..4).map(|i| q[(h * 3 + r) * 4 + i] as f64 * k[(h * 4 + i) * 3 + c] as f64).sum())
        .collect();
    let input: Vec<f32> = q.iter().chain(&k).copied().collect();
    let (model, x) = check_op(&model, &input, &expected, 0.01);
    assert_eq!(model.output_shapes(), vec![vec![2, 3, 3]]);
    assert!(!failures_after_changing_output(&model, &x, 4).is_empty(), "a changed product is rejected");
}

/// SiLU as torch exports it: `x * sigmoid(x)`.
#[test]
fn silu_is_a_product_with_its_own_sigmoid() {
    let model = Onnx::new(&[1, 8]).node("Sigmoid", "s", &["input"], vec![]).node("Mul", "out", &["input", "s"], vec![]).bytes("out");
    let x = values(8, 3);
    let expected: Vec<f64> = x.iter().map(|&v| v as f64 / (1.0 + (-v as f64).exp())).collect();
    check_op(&model, &x, &expected, 0.02);
}

/// `x / sigma` as a normalisation writes it: a positive computed divisor, broadcast over a row;
/// rounded once (half a step). A divisor that is not positive is refused before proving.
#[test]
fn division_by_a_positive_computed_tensor() {
    let bytes = Onnx::new(&[2, 3]).input("sigma", &[2, 1]).node("Div", "out", &["input", "sigma"], vec![]).bytes("out");
    let (x, sigma) = (values(6, 1), [0.75f32, 2.5]);
    let expected: Vec<f64> = (0..6).map(|i| x[i] as f64 / sigma[i / 3] as f64).collect();
    let input: Vec<f32> = x.iter().chain(&sigma).copied().collect();
    let (model, x) = check_op(&bytes, &input, &expected, 0.5 / 256.0 + 1e-6);
    assert!(!failures_after_changing_output(&model, &x, 2).is_empty(), "a changed quotient is rejected");
    // Outside the calibrated range of the divisor: refused as such; without calibration, by the
    // division.
    let negative: Vec<f32> = values(6, 1).into_iter().chain([0.75, -2.5]).collect();
    let err = model.quantize_input(&negative).unwrap_err().to_string();
    assert!(err.contains("input 'sigma' is outside [0.75, 2.5]"), "{err}");
    let model = compile(&bytes, &[]).unwrap();
    let err = model.evaluate(&model.quantize_input(&negative).unwrap()).unwrap_err().to_string();
    assert!(err.contains("(Div)") && err.contains("divisor") && err.contains("not positive"), "{err}");
}

/// A constant over a computed tensor (Reciprocal; `Div(c, x)`, a normalisation's `1 / sqrt(...)`):
/// the division gadget with the constant in a cell, rounded once, numpy broadcasting.
#[test]
fn a_constant_over_a_computed_tensor() {
    let x: Vec<f32> = vec![0.5, 1.25, 2.0, 3.5, 7.0, 0.75];
    let expected: Vec<f64> = x.iter().map(|&v| 1.0 / v as f64).collect();
    let (model, q) = check_op(&one_op("Reciprocal", vec![], &[], &[1, 6]), &x, &expected, 0.5 / 256.0 + 1e-6);
    assert!(!failures_after_changing_output(&model, &q, 3).is_empty());
    let bytes = Onnx::new(&[2, 3]).floats("c", &[3], &[1.5, -2.0, 4.0]).node("Div", "out", &["c", "input"], vec![]).bytes("out");
    let expected: Vec<f64> = x.iter().enumerate().map(|(i, &v)| [1.5, -2.0, 4.0][i % 3] / v as f64).collect();
    check_op(&bytes, &x, &expected, 0.5 / 256.0 + 1e-6);
}

/// A constant left operand (`A x`, hummingbird's GEMM trees): MatMul batched over A's leading
/// dimension, and Gemm with transA, transB, alpha and a bias per output row, against the
/// products computed here.
#[test]
fn a_constant_left_operand_multiplies_columns() {
    let a = values(2 * 3 * 4, 3);
    let x = values(2 * 4 * 5, 11);
    let model = Onnx::new(&[2, 4, 5]).floats("a", &[2, 3, 4], &a).node("MatMul", "out", &["a", "input"], vec![]).bytes("out");
    let expected: Vec<f64> = (0..2)
        .flat_map(|b| (0..3).flat_map(move |i| (0..5).map(move |j| (b, i, j))))
        .map(|(b, i, j)| (0..4).map(|k| a[(b * 3 + i) * 4 + k] as f64 * x[(b * 4 + k) * 5 + j] as f64).sum())
        .collect();
    let (model, _) = check_op(&model, &x, &expected, 0.02);
    assert_eq!(model.output_shapes(), vec![vec![2, 3, 5]]);

    // Gemm: alpha A^T B^T + beta C, A [K=4, M=3] constant, B [N=5, K=4] computed, C [M, 1].
    let (alpha, beta, c) = (0.5f32, 2.0f32, [0.25f32, -0.5, 1.0]);
    let gemm = Onnx::new(&[5, 4])
        .floats("a", &[4, 3], &a[..12])
        .floats("c", &[3, 1], &c)
        .node("Gemm", "out", &["a", "input", "c"], vec![int_attribute("transA", 1), int_attribute("transB", 1), float_attribute("alpha", alpha), float_attribute("beta", beta)])
        .bytes("out");
    let x = &x[..20];
    let expected: Vec<f64> = (0..3)
        .flat_map(|i| (0..5).map(move |j| (i, j)))
        .map(|(i, j)| alpha as f64 * (0..4).map(|k| a[k * 3 + i] as f64 * x[j * 4 + k] as f64).sum::<f64>() + (beta * c[i]) as f64)
        .collect();
    let (model, _) = check_op(&gemm, x, &expected, 0.02);
    assert_eq!(model.output_shapes(), vec![vec![3, 5]]);
}

/// Einsum as attention writes it, `bhqd,bhkd->bhqk` of two computed tensors, and a projection
/// by a constant, `bqd,ed->bqe`: each output a sum over the contracted letters, rescaled once.
#[test]
fn einsum_contracts_the_letters_the_output_drops() {
    let attention = Onnx::new(&[1, 2, 3, 4]).input("k", &[1, 2, 3, 4]).node("Einsum", "out", &["input", "k"], vec![string_attribute("equation", "bhqd,bhkd->bhqk")]).bytes("out");
    let (q, k) = (values(24, 0), values(24, 9));
    let expected: Vec<f64> = (0..2)
        .flat_map(|h| (0..3).flat_map(move |i| (0..3).map(move |j| (h, i, j))))
        .map(|(h, i, j)| (0..4).map(|d| q[(h * 3 + i) * 4 + d] as f64 * k[(h * 3 + j) * 4 + d] as f64).sum())
        .collect();
    let input: Vec<f32> = q.iter().chain(&k).copied().collect();
    let (model, x) = check_op(&attention, &input, &expected, 0.02);
    assert_eq!(model.output_shapes(), vec![vec![1, 2, 3, 3]]);
    assert!(!failures_after_changing_output(&model, &x, 3).is_empty(), "a changed output is rejected");

    let w = values(8, 3);
    let projection = Onnx::new(&[1, 3, 4]).floats("w", &[2, 4], &w).node("Einsum", "out", &["input", "w"], vec![string_attribute("equation", "bqd,ed->bqe")]).bytes("out");
    let x = values(12, 5);
    let expected: Vec<f64> = (0..3).flat_map(|i| (0..2).map(move |e| (i, e))).map(|(i, e)| (0..4).map(|d| x[i * 4 + d] as f64 * w[e * 4 + d] as f64).sum()).collect();
    check_op(&projection, &x, &expected, 0.02);
}

/// Clip with computed bounds (a lower one, an upper one, or both; the other a constant or
/// absent): `min(max(x, lo), hi)`, exact, as np.clip where the bounds cross.
#[test]
fn clip_with_computed_bounds() {
    let x = values(6, 1);
    for (lo, hi) in [(Some(-0.5f32), None), (None, Some(0.25f32)), (Some(-0.25), Some(0.5)), (Some(0.5), Some(-0.25))] {
        let mut model = Onnx::new(&[1, 6]);
        let mut names = vec!["input".to_string()];
        let mut input = x.clone();
        for (name, bound) in [("lo", lo), ("hi", hi)] {
            match bound {
                Some(v) => {
                    model = model.input(name, &[1]);
                    names.push(name.into());
                    input.push(v);
                }
                None => names.push(String::new()),
            }
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let bytes = model.node("Clip", "out", &names, vec![]).bytes("out");
        let expected: Vec<f64> = x.iter().map(|&v| v.max(lo.unwrap_or(f32::MIN)).min(hi.unwrap_or(f32::MAX)) as f64).collect();
        // Exact on the grid: within the input's own rounding, half a step.
        let (model, q) = check_op(&bytes, &input, &expected, 0.5 / 256.0);
        assert!(!failures_after_changing_output(&model, &q, 2).is_empty(), "{lo:?} {hi:?}: a changed output is rejected");
    }
}

/// A Gemm whose C is computed is refused by name: its ops read only the computed A.
#[test]
fn gemm_with_a_computed_c_is_refused() {
    let bytes = Onnx::new(&[1, 3]).input("c", &[1, 2]).floats("b", &[3, 2], &values(6, 2)).node("Gemm", "out", &["input", "b", "c"], vec![]).bytes("out");
    let err = compile(&bytes, &[]).unwrap_err().to_string();
    assert!(err.contains("C is computed: only a constant C is supported"), "{err}");
}
