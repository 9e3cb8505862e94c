//! Tree ensembles (`ai.onnx.ml` TreeEnsembleClassifier and TreeEnsembleRegressor, and opset 5's
//! TreeEnsemble): ensembles
//! built by hand whose outputs are known (every branch mode, features exactly at a threshold, a
//! tree that is one leaf, base values, AVERAGE, the binary score of gradient boosting), in the
//! mock prover, with a changed output refused; and the real exports (skl2onnx's trees, forests
//! and gradient boosting, XGBoost and LightGBM through onnxmltools) predicting onnxruntime's
//! class on the 100 held-out digits.

mod common;

use common::*;
use onnx_protobuf::attribute_proto::AttributeType;
use onnx_protobuf::AttributeProto;
use zkinfer_compiler::Model;

fn floats_attribute(name: &str, v: &[f32]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::FLOATS.into();
    a.floats = v.to_vec();
    a
}

fn strings_attribute(name: &str, v: &[&str]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::STRINGS.into();
    a.strings = v.iter().map(|s| s.as_bytes().to_vec()).collect();
    a
}

/// One node of a hand-built ensemble: (tree, node, mode, feature, threshold, true child,
/// false child).
type Node = (i64, i64, &'static str, i64, f32, i64, i64);

/// Six trees over two features: every branch mode, and a tree that is a single leaf.
const NODES: [Node; 18] = [
    (0, 0, "BRANCH_LEQ", 0, 0.5, 1, 2),
    (0, 1, "LEAF", 0, 0.0, 0, 0),
    (0, 2, "LEAF", 0, 0.0, 0, 0),
    (1, 0, "BRANCH_LT", 1, 0.25, 1, 2),
    (1, 1, "LEAF", 0, 0.0, 0, 0),
    (1, 2, "LEAF", 0, 0.0, 0, 0),
    (2, 0, "BRANCH_GTE", 0, -0.5, 1, 2),
    (2, 1, "BRANCH_GT", 1, 0.75, 3, 4),
    (2, 2, "LEAF", 0, 0.0, 0, 0),
    (2, 3, "LEAF", 0, 0.0, 0, 0),
    (2, 4, "LEAF", 0, 0.0, 0, 0),
    (3, 0, "LEAF", 0, 0.0, 0, 0),
    (4, 0, "BRANCH_EQ", 0, 0.5, 1, 2),
    (4, 1, "LEAF", 0, 0.0, 0, 0),
    (4, 2, "LEAF", 0, 0.0, 0, 0),
    (5, 0, "BRANCH_NEQ", 1, 0.25, 1, 2),
    (5, 1, "LEAF", 0, 0.0, 0, 0),
    (5, 2, "LEAF", 0, 0.0, 0, 0),
];

/// The leaves' votes: (tree, node, weight).
const VOTES: [(i64, i64, f32); 12] =
    [(0, 1, 1.0), (0, 2, 2.0), (1, 1, 10.0), (1, 2, 20.0), (2, 2, 300.0), (2, 3, 100.0), (2, 4, 200.0), (3, 0, 0.125), (4, 1, 0.5), (4, 2, 1.0), (5, 1, 2.0), (5, 2, 4.0)];

fn node_attributes() -> Vec<AttributeProto> {
    let column = |f: fn(&Node) -> i64| NODES.iter().map(f).collect::<Vec<_>>();
    vec![
        ints_attribute("nodes_treeids", &column(|n| n.0)),
        ints_attribute("nodes_nodeids", &column(|n| n.1)),
        strings_attribute("nodes_modes", &NODES.iter().map(|n| n.2).collect::<Vec<_>>()),
        ints_attribute("nodes_featureids", &column(|n| n.3)),
        floats_attribute("nodes_values", &NODES.iter().map(|n| n.4).collect::<Vec<_>>()),
        ints_attribute("nodes_truenodeids", &column(|n| n.5)),
        ints_attribute("nodes_falsenodeids", &column(|n| n.6)),
    ]
}

/// The nodes and the votes of a regressor of one target.
fn regressor() -> Vec<AttributeProto> {
    let mut attributes = node_attributes();
    attributes.extend([
        ints_attribute("target_treeids", &VOTES.map(|v| v.0)),
        ints_attribute("target_nodeids", &VOTES.map(|v| v.1)),
        ints_attribute("target_ids", &[0; 12]),
        floats_attribute("target_weights", &VOTES.map(|v| v.2)),
    ]);
    attributes
}

/// Each tree's vote for `x`, walked from the root as onnxruntime does.
fn walk(x: [f32; 2]) -> Vec<f64> {
    (0..6)
        .map(|tree| {
            let mut node = 0;
            loop {
                let n = NODES.iter().find(|n| n.0 == tree && n.1 == node).unwrap();
                let v = x[n.3 as usize];
                node = match n.2 {
                    "LEAF" => return VOTES.iter().find(|w| w.0 == tree && w.1 == node).unwrap().2 as f64,
                    "BRANCH_LEQ" if v <= n.4 => n.5,
                    "BRANCH_LT" if v < n.4 => n.5,
                    "BRANCH_GTE" if v >= n.4 => n.5,
                    "BRANCH_GT" if v > n.4 => n.5,
                    "BRANCH_EQ" if v == n.4 => n.5,
                    "BRANCH_NEQ" if v != n.4 => n.5,
                    _ => n.6,
                };
            }
        })
        .collect()
}

/// Features at the thresholds, either side of them, and beyond.
const INPUTS: [[f32; 2]; 6] = [[0.5, 0.25], [0.5, 0.75], [-0.5, 0.8], [0.51, -1.0], [-0.75, 0.24], [2.0, 3.0]];

fn run(model: &Model, x: &[f32]) -> Vec<Vec<f64>> {
    let q = model.quantize_input(x).unwrap();
    mock_prove(model, &q).unwrap();
    let (outputs, _) = model.evaluate(&q).unwrap();
    outputs.iter().map(|t| t.data.iter().map(|v| model.dequantize(*v)).collect()).collect()
}

#[test]
fn a_regressor_follows_every_branch_mode() {
    for aggregate in ["SUM", "AVERAGE"] {
        let mut attributes = regressor();
        attributes.extend([floats_attribute("base_values", &[0.5]), string_attribute("aggregate_function", aggregate)]);
        let bytes = Onnx::new(&[1, 2]).node("TreeEnsembleRegressor", "out", &["input"], attributes).bytes("out");
        for x in INPUTS {
            let model = compile(&bytes, &[x.to_vec()]).unwrap();
            let votes: f64 = walk(x).iter().sum();
            let expected = 0.5 + if aggregate == "SUM" { votes } else { votes / 6.0 };
            let got = run(&model, &x)[0][0];
            // The weights over 6 are off the 2^-8 grid by at most half a step each.
            assert!((got - expected).abs() <= 6.0 / 512.0, "{aggregate} {x:?}: {got}, expected {expected}");
            let float = model.evaluate_float(&x).unwrap()[0].data[0] as f64;
            assert!((float - expected).abs() < 1e-4, "{aggregate} {x:?}: float {float}, expected {expected}");
            // BRANCH_EQ and BRANCH_NEQ of values on the grid prove under private parameters too.
            let private = compile_with(&bytes, &[x.to_vec()], zkinfer_compiler::ParamVisibility::Private).unwrap();
            assert_eq!(run(&private, &x)[0][0], got, "private {aggregate} {x:?}");
        }
    }
}

/// A tensor attribute of floats (`uint8`: modes) for opset 5's TreeEnsemble.
fn tensor_attribute(name: &str, v: &[f32], uint8: bool) -> AttributeProto {
    let mut t = onnx_protobuf::TensorProto::new();
    t.dims = vec![v.len() as i64];
    if uint8 {
        t.data_type = onnx_protobuf::tensor_proto::DataType::UINT8 as i32;
        t.int32_data = v.iter().map(|m| *m as i32).collect();
    } else {
        t.data_type = onnx_protobuf::tensor_proto::DataType::FLOAT as i32;
        t.float_data = v.to_vec();
    }
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.type_ = AttributeType::TENSOR.into();
    a.t = protobuf::MessageField::some(t);
    a
}

/// Opset 5's TreeEnsemble holding the first three trees of `NODES` (a tree of one leaf has no
/// root node there): leaves by index, each child a node or a flagged leaf; SUM and AVERAGE.
#[test]
fn opset_5_tree_ensemble_follows_every_branch_mode() {
    // Nodes: tree 0's root, tree 1's, tree 2's and its GT child.
    let (features, splits, modes) = ([0i64, 1, 0, 1], [0.5f32, 0.25, -0.5, 0.75], [0.0f32, 1.0, 2.0, 3.0]);
    let (yes, yes_leaf, no, no_leaf) = ([0i64, 2, 3, 5], [1i64, 1, 0, 1], [1i64, 3, 4, 6], [1i64, 1, 1, 1]);
    let weights = [1.0f32, 2.0, 10.0, 20.0, 300.0, 100.0, 200.0];
    for (aggregate, code) in [("SUM", 1), ("AVERAGE", 0)] {
        let attributes = vec![
            ints_attribute("nodes_featureids", &features),
            tensor_attribute("nodes_splits", &splits, false),
            tensor_attribute("nodes_modes", &modes, true),
            ints_attribute("nodes_truenodeids", &yes),
            ints_attribute("nodes_trueleafs", &yes_leaf),
            ints_attribute("nodes_falsenodeids", &no),
            ints_attribute("nodes_falseleafs", &no_leaf),
            ints_attribute("tree_roots", &[0, 1, 2]),
            ints_attribute("leaf_targetids", &[0; 7]),
            tensor_attribute("leaf_weights", &weights, false),
            int_attribute("n_targets", 1),
            int_attribute("aggregate_function", code),
        ];
        let bytes = Onnx::new(&[1, 2]).node("TreeEnsemble", "out", &["input"], attributes).bytes("out");
        for x in INPUTS {
            let model = compile(&bytes, &[x.to_vec()]).unwrap();
            let votes: f64 = walk(x)[..3].iter().sum();
            let expected = if aggregate == "SUM" { votes } else { votes / 3.0 };
            let got = run(&model, &x)[0][0];
            assert!((got - expected).abs() <= 3.0 / 512.0, "{aggregate} {x:?}: {got}, expected {expected}");
        }
    }
}

/// Opset 5's equality modes: a set membership (mode 6, its set from `membership_values`, which
/// also holds a value off the grid and one listed twice), EQ (4) and NEQ (5), against a walk by
/// hand, in the mock prover. Under private parameters a set of several values is refused by
/// name: the key would show which are equal, and a prover could make two equal.
#[test]
fn opset_5_tree_ensemble_tests_equality_and_sets() {
    let attributes = vec![
        ints_attribute("nodes_featureids", &[0, 1, 1]),
        tensor_attribute("nodes_splits", &[0.0, 3.0, 0.25], false),
        tensor_attribute("nodes_modes", &[6.0, 4.0, 5.0], true),
        tensor_attribute("membership_values", &[0.5, -0.5, 0.3, 2.0, 0.5, f32::NAN], false),
        ints_attribute("nodes_truenodeids", &[0, 2, 4]),
        ints_attribute("nodes_trueleafs", &[1, 1, 1]),
        ints_attribute("nodes_falsenodeids", &[1, 3, 5]),
        ints_attribute("nodes_falseleafs", &[1, 1, 1]),
        ints_attribute("tree_roots", &[0, 1, 2]),
        ints_attribute("leaf_targetids", &[0; 6]),
        tensor_attribute("leaf_weights", &[1.0, 2.0, 10.0, 20.0, 100.0, 200.0], false),
        int_attribute("n_targets", 1),
    ];
    let bytes = Onnx::new(&[1, 2]).node("TreeEnsemble", "out", &["input"], attributes).bytes("out");
    for x in [[0.5f32, 3.0], [-0.5, 0.25], [2.0, 0.5], [0.3, 3.0], [0.75, -1.0]] {
        let member = [0.5, -0.5, 0.3, 2.0].contains(&x[0]);
        let expected = (if member { 1.0 } else { 2.0 }) + (if x[1] == 3.0 { 10.0 } else { 20.0 }) + if x[1] != 0.25 { 100.0 } else { 200.0 };
        let model = compile(&bytes, &[x.to_vec()]).unwrap();
        assert_eq!(model.evaluate_float(&x).unwrap()[0].data, vec![expected as f32], "{x:?}");
        // 0.3 is off the 2^-8 grid: the fixed-point feature nearest it is not a member.
        let expected = if x[0] == 0.3 { expected + 1.0 } else { expected };
        assert_eq!(run(&model, &x)[0][0], expected, "{x:?}");
        let err = compile_with(&bytes, &[x.to_vec()], zkinfer_compiler::ParamVisibility::Private).unwrap_err().to_string();
        assert!(err.contains("a tree's set of several values") && err.contains("--param-visibility fixed"), "{err}");
    }
}

/// A binary classifier: votes for class 0 only, two class labels, the given weights, transform
/// and base values.
fn binary(weights: &[f32], transform: &str, base: &[f32]) -> Vec<u8> {
    let mut attributes = node_attributes();
    attributes.extend([
        ints_attribute("class_treeids", &VOTES.map(|v| v.0)),
        ints_attribute("class_nodeids", &VOTES.map(|v| v.1)),
        ints_attribute("class_ids", &[0; 12]),
        floats_attribute("class_weights", weights),
        floats_attribute("base_values", base),
        ints_attribute("classlabels_int64s", &[0, 1]),
        string_attribute("post_transform", transform),
    ]);
    Onnx::new(&[1, 2]).node_with_outputs("TreeEnsembleClassifier", "trees", &["input"], &["label", "probabilities"], attributes).bytes_with_outputs(&["label", "probabilities"])
}

/// Gradient boosting's binary form: votes for one class (some negative), two class labels,
/// LOGISTIC: the probabilities are `[sigmoid(-s), sigmoid(s)]`, the label the larger's class.
/// The forms that onnxruntime and the ONNX reference read differently are refused by name.
#[test]
fn a_binary_classifier_reads_one_score_as_two() {
    // The one-leaf tree's vote negative: the margin is the walk's sum less twice it.
    let mut scaled = VOTES.map(|v| v.2 / 100.0);
    scaled[7] = -scaled[7];
    let bytes = binary(&scaled, "LOGISTIC", &[-2.0]);
    let mut labels = [0, 0];
    for x in INPUTS {
        let model = compile(&bytes, &[x.to_vec()]).unwrap();
        let s = -2.0 + (walk(x).iter().sum::<f64>() - 2.0 * 0.125) / 100.0;
        let p = 1.0 / (1.0 + (-s).exp());
        let outputs = run(&model, &x);
        let label = (p > 0.5) as usize;
        labels[label] += 1;
        assert_eq!(outputs[0], vec![label as f64], "{x:?}");
        for (got, want) in outputs[1].iter().zip([1.0 - p, p]) {
            assert!((got - want).abs() < 0.01, "{x:?}: {:?}, expected {}", outputs[1], p);
        }
        for i in 0..3 {
            assert!(!failures_after_changing_output(&model, &model.quantize_input(&x).unwrap(), i).is_empty(), "output {i} changed");
        }
    }
    assert!(labels[0] > 0 && labels[1] > 0, "both classes: {labels:?}");
    let positive = VOTES.map(|v| v.2 / 100.0);
    for (bytes, message) in [
        (binary(&positive, "LOGISTIC", &[-2.0]), "a binary score with post_transform = LOGISTIC and no negative votes"),
        (binary(&scaled, "NONE", &[-2.0]), "a binary score with post_transform = NONE and some negative votes"),
        (binary(&scaled, "LOGISTIC", &[-2.0, 1.0]), "2 base values for 1 scores"),
    ] {
        let err = compile(&bytes, &[vec![0.0, 0.0]]).unwrap_err().to_string();
        assert!(err.contains(message), "{err}");
    }
}

/// A vote for a branch node, a child that does not exist and an unknown mode are refused by
/// name.
#[test]
fn malformed_ensembles_are_refused_by_name() {
    let mut modes = NODES.map(|n| n.2);
    modes[0] = "BRANCH_MEMBER";
    let cases = [
        (ints_attribute("target_nodeids", &[0, 2, 1, 2, 2, 3, 4, 0, 1, 2, 1, 2]), "a vote for node 0 of tree 0, which is not a leaf"),
        (ints_attribute("nodes_falsenodeids", &[9, 0, 0, 2, 0, 0, 2, 4, 0, 0, 0, 0, 2, 0, 0, 2, 0, 0]), "node 0 of tree 0 has no node 9 as a child"),
        (strings_attribute("nodes_modes", &modes), "node mode BRANCH_MEMBER is not supported"),
    ];
    for (changed, message) in cases {
        let mut attributes = regressor();
        let slot = attributes.iter().position(|a| a.name == changed.name).unwrap();
        attributes[slot] = changed;
        let bytes = Onnx::new(&[1, 2]).node("TreeEnsembleRegressor", "out", &["input"], attributes).bytes("out");
        let err = compile(&bytes, &[vec![0.0, 0.0]]).unwrap_err().to_string();
        assert!(err.contains("(TreeEnsembleRegressor)") && err.contains(message), "{err}");
    }
}

/// The real exports give onnxruntime's class on at least 99 of the 100 held-out digits
/// (`test_predictions.json`), compiled as `zkinfer compile --calibration input.json` does.
#[test]
fn exported_ensembles_predict_onnxruntimes_class() {
    for name in ["sk_tree", "sk_forest", "sk_gboost", "sk_gboost_binary", "xgb_classifier", "lgbm_classifier"] {
        let folder = format!("exports/{name}");
        let bytes = fixture_bytes(&format!("{folder}/model.onnx"));
        let model = Model::from_onnx(&bytes, zkinfer_compiler::compile(&bytes, &options(16), &[fixture_input(&folder)]).unwrap().0).unwrap();
        let held_out: serde_json::Value = serde_json::from_str(&fixture(&format!("{folder}/test_predictions.json"))).unwrap();
        let inputs = held_out["inputs"].as_array().unwrap();
        let predictions = held_out["predictions"].as_array().unwrap();
        let agree = inputs
            .iter()
            .zip(predictions)
            .filter(|(x, p)| {
                let x: Vec<f32> = x.as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
                let (outputs, _) = model.evaluate(&model.quantize_input(&x).unwrap()).unwrap();
                model.dequantize(outputs[0].data[0]) == p.as_f64().unwrap()
            })
            .count();
        assert!(agree >= 99 && inputs.len() == 100, "{name}: {agree} of {} agree", inputs.len());
    }
}
