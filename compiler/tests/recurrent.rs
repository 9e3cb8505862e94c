//! Recurrent layers beyond the onnx operator cases (which cover forward, reverse and
//! bidirectional LSTM, GRU and RNN, peepholes, biases and sequence lengths, but whose batch-first
//! cases onnxruntime cannot run): the batch-first layout against the sequence-first one on the
//! same data, computed initial states, entries shorter than the input, the mock prover, and what
//! is refused by name.

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
        (rnn(vec![float_attribute("clip", -1.0)], None), "clip must be a positive number"),
        (rnn(vec![strings_attribute("activations", &["Affine"])], None), "activation Affine is not supported"),
        (rnn(vec![], Some(&[3.0])), "sequence_lens [3] for a batch of 1 sequences of 2"),
        (rnn(vec![], Some(&[1.0, 2.0])), "one length per entry"),
    ] {
        assert!(err.contains("(RNN)") && err.contains(message), "{err}");
    }
}

/// `clip` bounds each gate's pre-activation, not the cell state that `h` reads, as onnxruntime
/// computes it: an LSTM whose gates reach past 0.75, against onnxruntime 1.31's Y_h with and
/// without the clip (weights `values(.., seed) * 4`, the input `values(12, 4) * 2`).
#[test]
fn clip_bounds_the_gates_as_onnxruntime_does() {
    let scaled = |v: Vec<f32>, by: f32| v.into_iter().map(|x| x * by).collect::<Vec<f32>>();
    let input = scaled(values(12, 4), 2.0);
    for (clip, expected) in [(None, [-0.08289871, -0.08179447]), (Some(0.75), [-0.04997982, -0.02975263])] {
        let attributes = [vec![int_attribute("hidden_size", 2)], clip.map(|c| float_attribute("clip", c)).into_iter().collect()].concat();
        let bytes = Onnx::new(&[4, 1, 3])
            .floats("W", &[1, 8, 3], &scaled(values(24, 1), 4.0))
            .floats("R", &[1, 8, 2], &scaled(values(16, 2), 4.0))
            .floats("B", &[1, 16], &scaled(values(16, 3), 4.0))
            .node_with_outputs("LSTM", "lstm", &["input", "W", "R", "B"], &["Y", "Y_h"], attributes)
            .bytes_with_outputs(&["Y_h"]);
        check_op(&bytes, &input, &expected.map(f64::from), 4.0 / 256.0);
    }
}

/// A bidirectional LSTM over `[seq, batch, INPUT]` with zero initial states and, where given,
/// `sequence_lens` as a constant.
fn lstm_with_lengths(seq: usize, batch: usize, lens: Option<&[i64]>) -> Vec<u8> {
    let (gates, d) = (4 * HIDDEN, 2);
    let mut model = Onnx::new(&[seq as i64, batch as i64, INPUT as i64])
        .floats("W", &[d, gates as i64, INPUT as i64], &values(2 * gates * INPUT, 1))
        .floats("R", &[d, gates as i64, HIDDEN as i64], &values(2 * gates * HIDDEN, 2))
        .floats("B", &[d, 2 * gates as i64], &values(4 * gates, 3));
    if let Some(lens) = lens {
        model = model.int64s("lens", lens);
    }
    let inputs: &[&str] = if lens.is_some() { &["input", "W", "R", "B", "lens"] } else { &["input", "W", "R", "B"] };
    model
        .node_with_outputs("LSTM", "lstm", inputs, &["Y", "Y_h", "Y_c"], vec![int_attribute("hidden_size", HIDDEN as i64), string_attribute("direction", "bidirectional")])
        .bytes_with_outputs(&["Y", "Y_h", "Y_c"])
}

/// `sequence_lens` of 2 and 3 over a sequence of 3: the full entry is as without lengths; the
/// short one is as the same LSTM over its first two steps alone (the reverse direction starting
/// at its own last step), its third step's outputs zero; quantized outputs identical, in the
/// mock prover.
#[test]
fn shorter_sequences_stop_at_their_length() {
    let x = values(SEQ * BATCH * INPUT, 4);
    let run = |bytes: &[u8], x: &[f32]| {
        let model = compile(bytes, &[x.to_vec()]).unwrap();
        let q = model.quantize_input(x).unwrap();
        mock_prove(&model, &q).unwrap();
        let (outputs, _) = model.evaluate(&q).unwrap();
        outputs.into_iter().map(|t| t.data).collect::<Vec<_>>()
    };
    let short = run(&lstm_with_lengths(SEQ, BATCH, Some(&[2, 3])), &x);
    let full = run(&lstm_with_lengths(SEQ, BATCH, None), &x);
    // Entry 0's first two steps alone: [2, 1, INPUT].
    let first: Vec<f32> = (0..2).flat_map(|t| x[t * BATCH * INPUT..t * BATCH * INPUT + INPUT].to_vec()).collect();
    let alone = run(&lstm_with_lengths(2, 1, None), &first);
    // Y is [seq, 2, batch, HIDDEN]; the states [2, batch, HIDDEN].
    let y = |out: &[Vec<i64>], batch: usize, t: usize, d: usize, b: usize| out[0][((t * 2 + d) * batch + b) * HIDDEN..][..HIDDEN].to_vec();
    let state = |out: &[Vec<i64>], k: usize, batch: usize, d: usize, b: usize| out[k][(d * batch + b) * HIDDEN..][..HIDDEN].to_vec();
    for d in 0..2 {
        for t in 0..SEQ {
            assert_eq!(y(&short, BATCH, t, d, 1), y(&full, BATCH, t, d, 1), "the full entry, step {t}, direction {d}");
            let expected = if t < 2 { y(&alone, 1, t, d, 0) } else { vec![0; HIDDEN] };
            assert_eq!(y(&short, BATCH, t, d, 0), expected, "the short entry, step {t}, direction {d}");
        }
        for k in [1, 2] {
            assert_eq!(state(&short, k, BATCH, d, 1), state(&full, k, BATCH, d, 1));
            assert_eq!(state(&short, k, BATCH, d, 0), state(&alone, k, 1, d, 0), "state {k} of the short entry, direction {d}");
        }
    }
    let err = compile(&lstm_with_lengths(SEQ, BATCH, Some(&[2, 4])), std::slice::from_ref(&x)).unwrap_err().to_string();
    assert!(err.contains("(LSTM)") && err.contains("at most 3"), "{err}");
}
