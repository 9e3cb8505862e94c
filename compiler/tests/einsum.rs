//! Einsum with an ellipsis (`...ij,...jk->...ik`): the axes it stands for broadcast as numpy's
//! do, with the output given or implicit, with two computed operands and with a constant one;
//! exact on values whose products lie on the grid, in the mock prover; what numpy refuses is
//! refused by name.

mod common;

use common::*;

/// `a` (`[2, 2, 3]`) times `b` (`[.., 3, 2]`, broadcast over the batch when it has none),
/// batched, in row-major order.
fn matmul(a: &[f32], b: &[f32], b_batched: bool) -> Vec<f64> {
    let mut out = Vec::new();
    for batch in 0..2 {
        let b = if b_batched { &b[batch * 6..] } else { b };
        for i in 0..2 {
            for k in 0..2 {
                out.push((0..3).map(|j| a[batch * 6 + i * 3 + j] as f64 * b[j * 2 + k] as f64).sum());
            }
        }
    }
    out
}

/// Multiples of 1/4 and 1/2: every product lies on the grid, so the one rescale is exact.
fn quarters(len: usize, from: f32) -> Vec<f32> {
    (0..len).map(|i| from + i as f32 * 0.25).collect()
}

fn product(equation: &str) -> Vec<u8> {
    Onnx::new(&[2, 2, 3]).input("b", &[3, 2]).node("Einsum", "out", &["input", "b"], vec![string_attribute("equation", equation)]).bytes("out")
}

#[test]
fn an_ellipsis_broadcasts_the_axes_it_stands_for() {
    let (a, b) = (quarters(12, -1.5), quarters(6, -0.5).iter().map(|v| v * 2.0).collect::<Vec<f32>>());
    let expected = matmul(&a, &b, false);
    let input: Vec<f32> = a.iter().chain(&b).copied().collect();
    // The output given, and implicit: the ellipsis' axes first, then `i` and `k`.
    for equation in ["...ij,...jk->...ik", "...ij,...jk"] {
        let (model, x) = check_op(&product(equation), &input, &expected, 0.0);
        assert_eq!(model.output_shapes()[0], vec![2, 2, 2]);
        assert!(!failures_after_changing_output(&model, &x, 5).is_empty(), "{equation}: a changed output passes");
    }
    // A constant operand whose ellipsis axis of size 1 broadcasts against the batch of 2.
    let constant = Onnx::new(&[2, 2, 3]).floats("b", &[1, 3, 2], &b).node("Einsum", "out", &["input", "b"], vec![string_attribute("equation", "...ij,...jk->...ik")]).bytes("out");
    check_op(&constant, &a, &expected, 0.0);
    // Batched on both sides, named after the ellipsis: `b` per batch.
    let b2: Vec<f32> = quarters(12, -1.0);
    let batched = Onnx::new(&[2, 2, 3]).input("b", &[2, 3, 2]).node("Einsum", "out", &["input", "b"], vec![string_attribute("equation", "...ij,...jk->...ik")]).bytes("out");
    let input: Vec<f32> = a.iter().chain(&b2).copied().collect();
    check_op(&batched, &input, &matmul(&a, &b2, true), 0.0);
    // Ellipses of two axes and of one align to the right: `b`'s batch of 3 is `a`'s second axis.
    let (a, b): (Vec<f32>, Vec<f32>) = (quarters(36, -4.5), quarters(18, -2.0).iter().map(|v| v * 2.0).collect());
    let expected: Vec<f64> = (0..2 * 3 * 2 * 2)
        .map(|o| {
            let (p, q, i, k) = (o / 12, o / 4 % 3, o / 2 % 2, o % 2);
            (0..3).map(|j| a[((p * 3 + q) * 2 + i) * 3 + j] as f64 * b[(q * 3 + j) * 2 + k] as f64).sum()
        })
        .collect();
    let aligned = Onnx::new(&[2, 3, 2, 3]).input("b", &[3, 3, 2]).node("Einsum", "out", &["input", "b"], vec![string_attribute("equation", "...ij,...jk->...ik")]).bytes("out");
    let input: Vec<f32> = a.iter().chain(&b).copied().collect();
    check_op(&aligned, &input, &expected, 0.0);
}

#[test]
fn an_ellipsis_of_one_operand_keeps_its_axes() {
    // The batch diagonal `...ii->...i` and a sum over the last axis `...i->...`.
    let x = quarters(18, -2.0);
    let diagonal = Onnx::new(&[2, 3, 3]).node("Einsum", "out", &["input"], vec![string_attribute("equation", "...ii->...i")]).bytes("out");
    let expected: Vec<f64> = (0..2).flat_map(|b| (0..3).map(move |i| b * 9 + i * 4)).map(|k| x[k] as f64).collect();
    check_op(&diagonal, &x, &expected, 0.0);
    let sums = Onnx::new(&[2, 3, 3]).node("Einsum", "out", &["input"], vec![string_attribute("equation", "...i->...")]).bytes("out");
    let expected: Vec<f64> = x.chunks(3).map(|row| row.iter().map(|&v| v as f64).sum()).collect();
    check_op(&sums, &x, &expected, 0.0);
}

#[test]
fn what_numpy_refuses_is_refused() {
    let refused = |bytes: &[u8], message: &str| {
        let error = compile(bytes, &[vec![0.5; 12 + 18]]).err().unwrap_or_else(|| panic!("compiled; expected {message:?}")).to_string();
        assert!(error.contains("(Einsum)") && error.contains(message), "{error}");
    };
    let batches = Onnx::new(&[2, 2, 3]).input("b", &[3, 3, 2]).node("Einsum", "out", &["input", "b"], vec![string_attribute("equation", "...ij,...jk->...ik")]).bytes("out");
    refused(&batches, "the axes under '...' have sizes 2 and 3, which do not broadcast");
    refused(&product("...ij,...jk->ik"), "the output 'ik' leaves out the 1 axes under '...'");
    refused(&product("....ij,...jk->...ik"), "'.' is not a letter");
}
