//! Recurrent layers beyond the onnx operator cases (which cover forward, reverse and
//! bidirectional LSTM, GRU and RNN, peepholes, biases and sequence lengths, but whose batch-first
//! cases onnxruntime cannot run): the batch-first layout against the sequence-first one on the
//! same data, computed initial states, the mock prover, and what is refused by name.

mod common;

use common::*;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::AttributeProto;

fn strings_attribute(name: &str, v: &[&str]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::STRINGS.into();
    a.strings = v.iter().map(|s| s.as_bytes().to_vec()).collect();
    a
}

fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len).map(|i| (((i + seed) * 37 % 101) as f32 - 50.0) / 80.0).collect()
}

const SEQ: usize = 3;
const BATCH: usize = 2;
const INPUT: usize = 3;
const HIDDEN: usize = 2;

/// A bidirectional LSTM with biases, its initial states as a second and third model input;
/// `layout` 0 takes `[seq, batch, input]`, 1 `[batch, seq, input]`.
fn lstm(layout: i64) -> Vec<u8> {
    let (gates, d) = (4 * HIDDEN, 2);
    let x: &[i64] = if layout == 0 { &[SEQ as i64, BATCH as i64, INPUT as i64] } else { &[BATCH as i64, SEQ as i64, INPUT as i64] };
    let state: &[i64] = if layout == 0 { &[d, BATCH as i64, HIDDEN as i64] } else { &[BATCH as i64, d, HIDDEN as i64] };
    Onnx::new(x)
        .input("h0", state)
        .input("c0", state)
        .floats("W", &[d, gates as i64, INPUT as i64], &values(2 * gates * INPUT, 1))
        .floats("R", &[d, gates as i64, HIDDEN as i64], &values(2 * gates * HIDDEN, 2))
        .floats("B", &[d, 2 * gates as i64], &values(4 * gates, 3))
        .node_with_outputs(
            "LSTM",
            "lstm",
            &["input", "W", "R", "B", "", "h0", "c0"],
            &["Y", "Y_h", "Y_c"],
            vec![int_attribute("hidden_size", HIDDEN as i64), string_attribute("direction", "bidirectional"), int_attribute("layout", layout)],
        )
        .bytes_with_outputs(&["Y", "Y_h", "Y_c"])
}

/// `[a, b, rest]` to `[b, a, rest]`.
fn swap(v: &[f32], a: usize, b: usize) -> Vec<f32> {
    let rest = v.len() / (a * b);
    (0..b).flat_map(|j| (0..a).flat_map(move |i| (0..rest).map(move |k| (i * b + j) * rest + k))).map(|i| v[i]).collect()
}

#[test]
fn batch_first_is_the_same_lstm() {
    let (x, h0, c0) = (values(SEQ * BATCH * INPUT, 4), values(2 * BATCH * HIDDEN, 5), values(2 * BATCH * HIDDEN, 6));
    let sequence_first = [x.clone(), h0.clone(), c0.clone()].concat();
    let batch_first = [swap(&x, SEQ, BATCH), swap(&h0, 2, BATCH), swap(&c0, 2, BATCH)].concat();
    let run = |bytes: &[u8], input: &[f32]| {
        let model = compile(bytes, &[input.to_vec()]).unwrap();
        let q = model.quantize_input(input).unwrap();
        mock_prove(&model, &q).unwrap();
        let (out, _) = model.evaluate(&q).unwrap();
        let float = model.evaluate_float(input).unwrap();
        let quantized: Vec<Vec<f32>> = out.iter().map(|t| t.data.iter().map(|v| model.dequantize(*v) as f32).collect()).collect();
        (quantized, float.into_iter().map(|t| t.data).collect::<Vec<_>>())
    };
    let (q0, f0) = run(&lstm(0), &sequence_first);
    let (q1, f1) = run(&lstm(1), &batch_first);
    // Y [seq, d, batch, h] against [batch, seq, d, h]; Y_h and Y_c [d, batch, h] against
    // [batch, d, h].
    let y = |v: &[f32]| swap(v, SEQ * 2, BATCH);
    assert_eq!((y(&q0[0]), swap(&q0[1], 2, BATCH), swap(&q0[2], 2, BATCH)), (q1[0].clone(), q1[1].clone(), q1[2].clone()));
    assert_eq!((y(&f0[0]), swap(&f0[1], 2, BATCH), swap(&f0[2], 2, BATCH)), (f1[0].clone(), f1[1].clone(), f1[2].clone()));
    // And the quantized within a few steps of the float, initial states and all.
    for (q, f) in q0.iter().flatten().zip(f0.iter().flatten()) {
        assert!((q - f).abs() < 8.0 / 256.0, "{q} against {f}");
    }
}

#[test]
fn what_a_recurrent_layer_cannot_do_is_refused_by_name() {
    let rnn = |attributes: Vec<AttributeProto>, lens: Option<&[f32]>| {
        let mut model = Onnx::new(&[2, 1, 2]).floats("W", &[1, 2, 2], &values(4, 1)).floats("R", &[1, 2, 2], &values(4, 2));
        let mut inputs = vec!["input", "W", "R"];
        if let Some(lens) = lens {
            model = model.floats("lens", &[lens.len() as i64], lens);
            inputs.extend(["", "lens"]);
        }
        let bytes = model.node_with_outputs("RNN", "rnn", &inputs, &["Y", "Y_h"], [vec![int_attribute("hidden_size", 2)], attributes].concat()).bytes_with_outputs(&["Y_h"]);
        compile(&bytes, &[vec![0.1, 0.2, 0.3, 0.4]]).unwrap_err().to_string()
    };
    for (err, message) in [
        (rnn(vec![float_attribute("clip", 1.0)], None), "clip is not supported"),
        (rnn(vec![strings_attribute("activations", &["Affine"])], None), "activation Affine is not supported"),
        (rnn(vec![], Some(&[1.0])), "sequence_lens 1 for a sequence of 2"),
    ] {
        assert!(err.contains("(RNN)") && err.contains(message), "{err}");
    }
}
