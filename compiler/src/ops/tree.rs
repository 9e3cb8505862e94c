//! Tree ensembles: `ai.onnx.ml` TreeEnsembleClassifier and TreeEnsembleRegressor, as skl2onnx
//! writes them for scikit-learn's decision trees, random forests, extra trees and gradient
//! boosting, and onnxmltools for XGBoost and LightGBM; and opset 5's TreeEnsemble.
//!
//! Each comparison is computed once for all the trees that make it: for the integer
//! `d = T - x` (`x` the feature in fixed point, `T` the threshold held to the grid as the
//! branch's mode asks), `[x <= T] = relu(d + 1) - relu(d)`, two exact element steps; an equality
//! (BRANCH_EQ, BRANCH_NEQ, opset 5's set membership, the categorical splits of LightGBM) is
//! `[x == V]`, three exact steps per value, a set the sum over its values. A leaf is
//! reached when every comparison on its path goes its way, that is when the sum over the path
//! of each comparison (or its complement) is the path's length: `relu(sum - length + 1)` is the
//! leaf's indicator, 0 or 1. Each score is then a dot product of the indicators with the leaves'
//! weights at the fixed-point scale, plus the base value: no rescale, no product of computed
//! values, no lookup but the range checks (and the post transform's).

use super::compare::{at_most, equal_terms, on_grid, Mode, EQUAL_WEIGHTS};
use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use std::collections::HashMap;
use zkinfer_circuits::gadgets::{ElementOp, Function};

/// A leaf: the branches on its path from the root (indices into `branches`), each with the
/// way the path goes (to the true child or not), and its votes (output, index into `weights`).
#[derive(Debug)]
struct Leaf {
    path: Vec<(usize, bool)>,
    votes: Vec<(usize, usize)>,
}

/// How a classifier's scores become its probabilities.
#[derive(Debug)]
enum Post {
    /// One score `s` for two classes: `[1 - s, s]` (`complement`) or `[-s, s]`, then `post`.
    Binary {
        complement: bool,
        post: Option<Box<dyn Op>>,
    },
    Classes {
        post: Option<Box<dyn Op>>,
    },
}

/// What a branch node tests of its feature: a comparison with its threshold, or whether the
/// feature is one of its values (BRANCH_EQ one value, a set membership several), or not
/// (BRANCH_NEQ).
#[derive(Clone, Copy, Debug)]
enum Test {
    Compare(Mode),
    In { negated: bool },
}

impl Test {
    /// A node's test from its mode's name in TreeEnsembleClassifier and TreeEnsembleRegressor;
    /// `None` for a leaf.
    fn parse(mode: &str) -> Result<Option<Self>, String> {
        Ok(Some(match mode {
            "BRANCH_EQ" => Test::In { negated: false },
            "BRANCH_NEQ" => Test::In { negated: true },
            other => return Mode::parse(other).map(|m| m.map(Test::Compare)),
        }))
    }
}

/// A branch node: its feature, its test, and its threshold or values (entries of `thresholds`).
#[derive(Clone, Debug)]
struct Branch {
    feature: usize,
    test: Test,
    values: std::ops::Range<usize>,
}

impl Branch {
    /// The float semantics, as onnxruntime compares float32 values.
    fn holds(&self, x: f32, thresholds: &[f32]) -> bool {
        match self.test {
            Test::Compare(mode) => mode.holds(x, thresholds[self.values.start]),
            Test::In { negated } => thresholds[self.values.clone()].contains(&x) != negated,
        }
    }
}

/// Whether a branch goes true, `bias + sum sign * test`: each test `[x <= T]` (an index into the
/// comparisons) or `[x == V]` (into the equalities, flagged).
type Form = (i64, Vec<(bool, usize, i64)>);

/// The tests a row makes, each once: `(threshold entry, feature, grid value)`.
#[derive(Default)]
struct Tests {
    items: Vec<(usize, usize, i64)>,
    slot: HashMap<(Option<usize>, usize, i64), usize>,
}

impl Tests {
    /// The test of `feature` against grid value `v` (entry `e` of the thresholds), added where
    /// new: one per entry under private parameters.
    fn index(&mut self, e: usize, feature: usize, v: i64, private: bool) -> usize {
        let key = if private { (Some(e), 0, 0) } else { (None, feature, v) };
        *self.slot.entry(key).or_insert_with(|| {
            self.items.push((e, feature, v));
            self.items.len() - 1
        })
    }
}

#[derive(Debug)]
pub struct TreeEnsemble {
    /// The branch nodes, their thresholds (or values) in `thresholds`.
    branches: Vec<Branch>,
    thresholds: Constant,
    leaves: Vec<Leaf>,
    weights: Constant,
    /// Per score, added to it.
    base: Option<Constant>,
    scores: usize,
    /// `None` for a regressor; a classifier's label is the ArgMax of its probabilities.
    classifier: Option<(Post, Box<dyn Op>)>,
}

/// Each leaf's path from its tree's root, by (tree, node): its branches, each with the way the
/// path goes.
type Paths = HashMap<(i64, i64), Vec<(usize, bool)>>;

/// The trees as `nodes_*` give them.
struct Nodes {
    trees: usize,
    branches: Vec<Branch>,
    thresholds: Vec<f32>,
    paths: Paths,
}

fn nodes(ctx: &NodeCtx) -> Result<Nodes, String> {
    let ints = |name: &str| ctx.ints(name)?.ok_or_else(|| format!("attribute '{name}' is required"));
    let (trees, ids, features, yes, no) = (ints("nodes_treeids")?, ints("nodes_nodeids")?, ints("nodes_featureids")?, ints("nodes_truenodeids")?, ints("nodes_falsenodeids")?);
    let modes = ctx.strings("nodes_modes")?.ok_or("attribute 'nodes_modes' is required")?;
    let values = ctx.floats_or_tensor("nodes_values")?.ok_or("attribute 'nodes_values' is required")?;
    let n = trees.len();
    if [ids.len(), features.len(), yes.len(), no.len(), modes.len(), values.len()].iter().any(|&len| len != n) {
        return Err(format!("the nodes_* attributes have different lengths ({n} tree ids, {} modes, {} values)", modes.len(), values.len()));
    }
    let index: HashMap<(i64, i64), usize> = (0..n).map(|i| ((trees[i], ids[i]), i)).collect();
    if index.len() != n {
        return Err("a (tree, node) pair appears twice in the nodes_* attributes".into());
    }
    let modes = modes.iter().map(|m| Test::parse(m)).collect::<Result<Vec<_>, _>>()?;
    // Each tree's root is its first node, as onnxruntime takes it.
    let mut roots: Vec<usize> = Vec::new();
    for i in 0..n {
        if !roots.iter().any(|&r| trees[r] == trees[i]) {
            roots.push(i);
        }
    }
    let tree_count = roots.len();
    let (mut branches, mut thresholds, mut paths) = (Vec::new(), Vec::new(), HashMap::new());
    for root in roots {
        // Depth first, each node with its path; a node seen twice (a cycle, or two parents)
        // would be counted twice, so it is refused.
        let mut seen = vec![false; n];
        let mut stack = vec![(root, Vec::new())];
        while let Some((i, path)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!("node {} of tree {} is reached twice", ids[i], trees[i]));
            }
            let Some(test) = modes[i] else {
                paths.insert((trees[i], ids[i]), path);
                continue;
            };
            let feature = usize::try_from(features[i]).map_err(|_| format!("node {} of tree {} reads feature {}", ids[i], trees[i], features[i]))?;
            branches.push(Branch { feature, test, values: thresholds.len()..thresholds.len() + 1 });
            thresholds.push(values[i]);
            let b = branches.len() - 1;
            for (child, went) in [(yes[i], true), (no[i], false)] {
                let c = *index.get(&(trees[i], child)).ok_or_else(|| format!("node {} of tree {} has no node {child} as a child", ids[i], trees[i]))?;
                stack.push((c, [path.as_slice(), &[(b, went)]].concat()));
            }
        }
    }
    Ok(Nodes { trees: tree_count, branches, thresholds, paths })
}

/// The leaves' votes from `{prefix}_treeids`, `_nodeids`, `_ids` and `_weights` (`class` or
/// `target`): `(leaves, weights)`, and the largest output id voted for.
fn votes(ctx: &NodeCtx, prefix: &str, paths: Paths, scale: f64) -> Result<(Vec<Leaf>, Vec<f32>, usize), String> {
    let ints = |name: &str| ctx.ints(&format!("{prefix}_{name}"))?.ok_or_else(|| format!("attribute '{prefix}_{name}' is required"));
    let (trees, nodes, outputs) = (ints("treeids")?, ints("nodeids")?, ints("ids")?);
    let weights = ctx.floats_or_tensor(&format!("{prefix}_weights"))?.ok_or_else(|| format!("attribute '{prefix}_weights' is required"))?;
    if [nodes.len(), outputs.len(), weights.len()].iter().any(|&len| len != trees.len()) {
        return Err(format!("the {prefix}_* attributes have different lengths"));
    }
    let mut order: Vec<(i64, i64)> = paths.keys().copied().collect();
    order.sort_unstable();
    let slot: HashMap<(i64, i64), usize> = order.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut leaves: Vec<Leaf> = order.iter().map(|k| Leaf { path: paths[k].clone(), votes: Vec::new() }).collect();
    let mut most = 0;
    for i in 0..trees.len() {
        let leaf = *slot.get(&(trees[i], nodes[i])).ok_or_else(|| format!("a vote for node {} of tree {}, which is not a leaf", nodes[i], trees[i]))?;
        let output = usize::try_from(outputs[i]).map_err(|_| format!("a vote for output {}", outputs[i]))?;
        most = most.max(output);
        leaves[leaf].votes.push((output, i));
    }
    Ok((leaves, weights.iter().map(|w| (*w as f64 * scale) as f32).collect(), most))
}

fn ensemble(ctx: &NodeCtx, prefix: &str, outputs: Option<usize>, average: bool) -> Result<TreeEnsemble, String> {
    let Nodes { trees, branches, thresholds, paths } = nodes(ctx)?;
    let scale = if average { 1.0 / trees.max(1) as f64 } else { 1.0 };
    let (leaves, weights, most) = votes(ctx, prefix, paths, scale)?;
    let scores = outputs.unwrap_or(most + 1).max(most + 1);
    let base = ctx.floats_or_tensor("base_values")?.filter(|b| !b.is_empty());
    let base = match base {
        Some(b) if b.len() == scores => Some(ctx.param(Tensor::new(vec![b.len()], b))?),
        // onnxruntime reads one base value of several scores its own ways (class 0's alone, or
        // none), the ONNX reference for every score.
        Some(b) => return Err(format!("{} base values for {scores} scores: give one per score", b.len())),
        None => None,
    };
    Ok(TreeEnsemble {
        thresholds: ctx.param(Tensor::new(vec![thresholds.len()], thresholds))?,
        weights: ctx.param(Tensor::new(vec![weights.len()], weights))?,
        branches,
        leaves,
        base,
        scores,
        classifier: None,
    })
}

/// `TreeEnsemble` (ai.onnx.ml opset 5): nodes indexed from `tree_roots`, each child a node or,
/// flagged in `nodes_trueleafs` / `nodes_falseleafs`, a leaf of `leaf_targetids` and
/// `leaf_weights`. Every node mode: LEQ, LT, GTE and GT (0 to 3), EQ, NEQ and set membership (4
/// to 6, the sets from `membership_values`, each ended by a NaN); SUM or AVERAGE; no post
/// transform.
pub fn tree_ensemble(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.int("post_transform", 0)? != 0 {
        return Err(format!("post_transform = {} is not supported (0, none, is)", ctx.int("post_transform", 0)?));
    }
    let average = match ctx.int("aggregate_function", 1)? {
        1 => false,
        0 => true,
        other => return Err(format!("aggregate_function = {other} is not supported (1, SUM, and 0, AVERAGE, are)")),
    };
    let targets = ctx.int("n_targets", 1)?;
    let scores = usize::try_from(targets).ok().filter(|t| *t >= 1).ok_or_else(|| format!("n_targets = {targets}"))?;
    let ints = |name: &str| ctx.ints(name)?.ok_or_else(|| format!("attribute '{name}' is required"));
    let tensor = |name: &str| ctx.tensor(name)?.ok_or_else(|| format!("attribute '{name}' is required"));
    let (features, yes, yes_leaf, no, no_leaf, roots) =
        (ints("nodes_featureids")?, ints("nodes_truenodeids")?, ints("nodes_trueleafs")?, ints("nodes_falsenodeids")?, ints("nodes_falseleafs")?, ints("tree_roots")?);
    let (splits, modes_raw, targets_of, leaf_weights) = (tensor("nodes_splits")?, tensor("nodes_modes")?, ints("leaf_targetids")?, tensor("leaf_weights")?);
    let n = features.len();
    if [yes.len(), yes_leaf.len(), no.len(), no_leaf.len(), splits.len(), modes_raw.len()].iter().any(|&len| len != n) || targets_of.len() != leaf_weights.len() {
        return Err("the nodes_* (or leaf_*) attributes have different lengths".into());
    }
    let modes = modes_raw
        .iter()
        .map(|&m| match m as i64 {
            0 => Ok(Test::Compare(Mode::Leq)),
            1 => Ok(Test::Compare(Mode::Lt)),
            2 => Ok(Test::Compare(Mode::Gte)),
            3 => Ok(Test::Compare(Mode::Gt)),
            4 | 6 => Ok(Test::In { negated: false }),
            5 => Ok(Test::In { negated: true }),
            other => Err(format!("node mode {other} is not an ONNX TreeEnsemble mode (0 to 6)")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The sets of the membership nodes, in their order among the nodes.
    let mut sets = ctx.tensor("membership_values")?.unwrap_or_default().split(|v| v.is_nan()).map(<[f32]>::to_vec).collect::<Vec<_>>().into_iter();
    let mut set_of = Vec::with_capacity(n);
    for (i, &m) in modes_raw.iter().enumerate() {
        set_of.push(match m as i64 {
            6 => Some(sets.next().filter(|s| !s.is_empty()).ok_or_else(|| format!("node {i} tests set membership, but membership_values holds no set for it"))?),
            _ => None,
        });
    }
    let index = |id: i64, len: usize, what: &str| usize::try_from(id).ok().filter(|&i| i < len).ok_or_else(|| format!("{what} {id} of {len}"));
    let (mut branches, mut thresholds) = (Vec::<Branch>::new(), Vec::new());
    // Per leaf, its path once reached.
    let mut paths: Vec<Option<Vec<(usize, bool)>>> = vec![None; targets_of.len()];
    for &root in &roots {
        // Depth first; a node or leaf reached twice would be counted twice, so it is refused.
        let mut seen = vec![false; n];
        let mut stack = vec![(index(root, n, "tree root")?, Vec::new())];
        while let Some((i, path)) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                return Err(format!("node {i} is reached twice"));
            }
            let feature = usize::try_from(features[i]).map_err(|_| format!("node {i} reads feature {}", features[i]))?;
            let values = set_of[i].clone().unwrap_or_else(|| vec![splits[i]]);
            branches.push(Branch { feature, test: modes[i], values: thresholds.len()..thresholds.len() + values.len() });
            thresholds.extend(values);
            let b = branches.len() - 1;
            for (child, leaf, went) in [(yes[i], yes_leaf[i], true), (no[i], no_leaf[i], false)] {
                let path = [path.as_slice(), &[(b, went)]].concat();
                if leaf != 0 {
                    let l = index(child, targets_of.len(), "leaf")?;
                    if paths[l].replace(path).is_some() {
                        return Err(format!("leaf {l} is reached twice"));
                    }
                } else {
                    stack.push((index(child, n, "node")?, path));
                }
            }
        }
    }
    let scale = if average { 1.0 / roots.len().max(1) as f64 } else { 1.0 };
    let mut leaves = Vec::new();
    for (l, path) in paths.into_iter().enumerate() {
        let target = index(targets_of[l], scores, "a vote for target")?;
        if let Some(path) = path {
            leaves.push(Leaf { path, votes: vec![(target, l)] });
        }
    }
    let weights = leaf_weights.iter().map(|w| (*w as f64 * scale) as f32).collect::<Vec<_>>();
    Ok(Box::new(TreeEnsemble {
        thresholds: ctx.param(Tensor::new(vec![thresholds.len()], thresholds))?,
        weights: ctx.param(Tensor::new(vec![weights.len()], weights))?,
        branches,
        leaves,
        base: None,
        scores,
        classifier: None,
    }))
}

/// `TreeEnsembleRegressor`: SUM or AVERAGE over the trees, no post transform.
pub fn tree_ensemble_regressor(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if let Some(t) = ctx.string("post_transform")?.filter(|t| t != "NONE") {
        return Err(format!("post_transform = {t} is not supported"));
    }
    let average = match ctx.string("aggregate_function")?.as_deref() {
        None | Some("SUM") => false,
        Some("AVERAGE") => true,
        Some(other) => return Err(format!("aggregate_function = {other} is not supported (SUM and AVERAGE are)")),
    };
    let targets = ctx.int("n_targets", 1)?;
    let targets = usize::try_from(targets).ok().filter(|t| *t >= 1).ok_or_else(|| format!("n_targets = {targets}"))?;
    let ensemble = ensemble(ctx, "target", Some(targets), average)?;
    if ensemble.scores != targets {
        return Err(format!("a vote for target {} of {targets}", ensemble.scores - 1));
    }
    Ok(Box::new(ensemble))
}

/// `TreeEnsembleClassifier`: the class scores, their post transform (none, LOGISTIC or
/// SOFTMAX), and the label, the class of the highest probability. Two outputs: the label and
/// the probabilities. With votes for one class only and two classes (binary gradient boosting,
/// XGBoost), the score `s` stands for `[1 - s, s]` (no transform) or `[-s, s]`, as onnxruntime
/// reads it. Class labels must be the integers 0..C.
pub fn tree_ensemble_classifier(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.node.attributes.contains_key("classlabels_strings") {
        return Err("string class labels are not supported (train on integer targets)".into());
    }
    let labels = ctx.ints("classlabels_int64s")?.ok_or("attribute 'classlabels_int64s' is required")?;
    let classes = labels.len();
    if classes < 2 || labels != (0..classes as i64).collect::<Vec<_>>() {
        return Err(format!("class labels {labels:?}: only 0..C for at least two classes are supported"));
    }
    let transform = ctx.string("post_transform")?;
    let post = match transform.as_deref() {
        None | Some("NONE") => None,
        Some("LOGISTIC") => Some(super::nonlinear::lookup(Function::Sigmoid)),
        Some("SOFTMAX") => Some(super::nonlinear::softmax_along(-1)),
        Some(other) => return Err(format!("post_transform = {other} is not supported (NONE, LOGISTIC and SOFTMAX are)")),
    };
    let class_ids: std::collections::HashSet<i64> = ctx.ints("class_ids")?.unwrap_or_default().into_iter().collect();
    let binary = class_ids.len() == 1;
    if binary && class_ids != [0].into() {
        return Err(format!("votes for class {:?} alone: a binary score is read from votes for class 0", class_ids.iter().next()));
    }
    let mut ensemble = ensemble(ctx, "class", Some(if binary { 1 } else { classes }), false)?;
    // The forms onnxruntime and the ONNX reference read alike: `[1 - s, s]` without a
    // transform and with no negative vote (a forest's probability), `[-s, s]` then the
    // transform with some (gradient boosting's margin). In the other two they differ.
    let negative = ensemble.weights.values.data.iter().any(|w| *w < 0.0);
    let post = match binary {
        true if classes == 2 && post.is_none() != negative => Post::Binary { complement: post.is_none(), post },
        true if classes == 2 => {
            return Err(format!(
                "a binary score with post_transform = {} and {} negative votes: onnxruntime and the ONNX reference read it differently",
                transform.as_deref().unwrap_or("NONE"),
                if negative { "some" } else { "no" }
            ))
        }
        true => return Err(format!("votes for one class of {classes}: only two classes can be read from one score")),
        false if ensemble.scores == classes => Post::Classes { post },
        false => return Err(format!("a vote for class {} of {classes}", ensemble.scores - 1)),
    };
    ensemble.classifier = Some((post, super::nonlinear::argmax_along(-1)));
    Ok(Box::new(ensemble))
}

impl TreeEnsemble {
    fn rows_and_features(&self, input: &[usize]) -> Result<(usize, usize), String> {
        let [rows, features] = input else {
            return Err(format!("input {input:?}: a tree ensemble takes [N, features]"));
        };
        match self.branches.iter().map(|b| b.feature).max() {
            Some(f) if f >= *features => Err(format!("a node reads feature {f} of {features}")),
            _ => Ok((*rows, *features)),
        }
    }

    /// The scores per row, `[N, scores]`: each test once per row (per threshold under private
    /// parameters, whose values the verifying key must not reveal as equal), the leaves'
    /// indicators, and one dot product per score.
    fn scores(&self, arith: &mut dyn Arith, x: &Tensor<Wire>) -> Result<Tensor<Wire>, Error> {
        let (rows, features) = self.rows_and_features(&x.shape).map_err(Error::Shape)?;
        let shape = arith.shape();
        let bits = shape.scale_bits;
        let thresholds = &self.thresholds.values.data;
        let (mut compared, mut equal) = (Tests::default(), Tests::default());
        let mut forms: Vec<Form> = Vec::with_capacity(self.branches.len());
        for branch in &self.branches {
            forms.push(match branch.test {
                Test::Compare(mode) => {
                    let e = branch.values.start;
                    let (t, at_most) = mode.threshold(thresholds[e], shape);
                    let c = compared.index(e, branch.feature, t, shape.private_params);
                    if at_most {
                        (0, vec![(false, c, 1)])
                    } else {
                        (1, vec![(false, c, -1)])
                    }
                }
                Test::In { negated } => {
                    // The layout must not depend on private values, nor a prover's choice of them
                    // make a set count a feature twice: one value on the grid each there.
                    if shape.private_params && (branch.values.len() > 1 || on_grid(thresholds[branch.values.start] as f64, shape).is_none()) {
                        return Err(Error::Input(
                            "a tree's set of several values, or a value off the fixed-point grid, under private parameters (the verifying key would show which values are equal, or a prover could make one count twice): compile with --param-visibility fixed".into(),
                        ));
                    }
                    // A value off the grid equals no feature; one listed twice counts once.
                    let mut values: Vec<(i64, usize)> = branch.values.clone().filter_map(|e| on_grid(thresholds[e] as f64, shape).map(|v| (v, e))).collect();
                    values.sort_unstable();
                    values.dedup_by_key(|(v, _)| *v);
                    let sign = if negated { -1 } else { 1 };
                    (negated as i64, values.into_iter().map(|(v, e)| (true, equal.index(e, branch.feature, v, shape.private_params), sign)).collect())
                }
            });
        }
        let mut scores = Vec::with_capacity(rows * self.scores);
        let relu = ElementOp { rescale: false, relu: true };
        for row in 0..rows {
            let item = |&(e, feature, v): &(usize, usize, i64)| (x.data[row * features + feature].clone(), self.thresholds.coef_with(e, v + 1));
            let (above, at) = if compared.items.is_empty() { (Vec::new(), Vec::new()) } else { at_most(arith, compared.items.iter().map(item).collect())? };
            let equals = if equal.items.is_empty() { Vec::new() } else { equal_terms(arith, equal.items.iter().map(item).collect())? };
            // [x <= T] = above - at + 1, [x == V] the equal terms weighed; a leaf's sum of its
            // branches' ways (a branch's form, or its complement) less its length, plus one.
            let mut by_length: std::collections::BTreeMap<usize, Vec<(usize, Dot)>> = Default::default();
            for (l, leaf) in self.leaves.iter().enumerate() {
                let (mut inputs, mut weights, mut bias) = (Vec::new(), Vec::new(), 1 - leaf.path.len() as i64);
                for &(b, went) in &leaf.path {
                    let (form_bias, terms) = &forms[b];
                    let way = if went { 1 } else { -1 };
                    bias += if went { *form_bias } else { 1 - form_bias };
                    for &(is_equal, i, sign) in terms {
                        let s = way * sign;
                        if is_equal {
                            inputs.extend(equals[i].iter().cloned());
                            weights.extend(EQUAL_WEIGHTS.map(|w| Coef::Const(s * w)));
                        } else {
                            inputs.extend([above[i].clone(), at[i].clone()]);
                            weights.extend([Coef::Const(s), Coef::Const(-s)]);
                            bias += s;
                        }
                    }
                }
                by_length.entry(leaf.path.len()).or_default().push((l, Dot { inputs, weights, bias: Coef::Const(bias) }));
            }
            let mut reached: Vec<Option<Wire>> = vec![None; self.leaves.len()];
            for (length, dots) in by_length {
                let (ids, dots): (Vec<usize>, Vec<Dot>) = dots.into_iter().unzip();
                // Each comparison is 0 or 1, which the intervals cannot see from above - at.
                let sums = arith.dot(dots)?;
                let sums = arith.assume(sums, 1 - length as i64, 1)?;
                let leaves = arith.element(relu, sums.into_iter().map(|s| (s, None)).collect())?;
                for (l, w) in ids.into_iter().zip(leaves) {
                    reached[l] = Some(w);
                }
            }
            let reached: Vec<Wire> = reached.into_iter().map(|w| w.expect("every leaf has a path length")).collect();
            let mut dots: Vec<Dot> = (0..self.scores)
                .map(|s| Dot { inputs: vec![], weights: vec![], bias: self.base.as_ref().map_or(Coef::Const(0), |b| b.coef(if b.values.len() == 1 { 0 } else { s }, bits)) })
                .collect();
            for (leaf, indicator) in self.leaves.iter().zip(&reached) {
                for &(output, w) in &leaf.votes {
                    dots[output].inputs.push(indicator.clone());
                    dots[output].weights.push(self.weights.coef(w, bits));
                }
            }
            scores.extend(arith.dot(dots)?);
        }
        Ok(Tensor::new(vec![rows, self.scores], scores))
    }

    fn scores_float(&self, x: &Tensor<f32>) -> Result<Tensor<f32>, Error> {
        let (rows, features) = self.rows_and_features(&x.shape).map_err(Error::Shape)?;
        let mut out = Vec::with_capacity(rows * self.scores);
        for row in x.data.chunks(features).take(rows) {
            let mut scores: Vec<f64> = (0..self.scores).map(|s| self.base.as_ref().map_or(0.0, |b| b.values.data[if b.values.len() == 1 { 0 } else { s }] as f64)).collect();
            let holds = |b: usize| self.branches[b].holds(row[self.branches[b].feature], &self.thresholds.values.data);
            for leaf in self.leaves.iter().filter(|leaf| leaf.path.iter().all(|&(b, went)| holds(b) == went)) {
                for &(output, w) in &leaf.votes {
                    scores[output] += self.weights.values.data[w] as f64;
                }
            }
            out.extend(scores.into_iter().map(|s| s as f32));
        }
        Ok(Tensor::new(vec![rows, self.scores], out))
    }

    /// The label and probabilities from the scores, flat (as LinearClassifier gives them).
    fn classify<T: Clone>(
        post: &Post,
        label: &dyn Op,
        scores: Tensor<T>,
        mut negate: impl FnMut(Tensor<T>, bool) -> Result<Tensor<T>, Error>,
        mut apply: impl FnMut(&dyn Op, &[&Tensor<T>]) -> Result<Tensor<T>, Error>,
    ) -> Result<Tensor<T>, Error> {
        let (scores, post) = match post {
            Post::Classes { post } => (scores, post),
            Post::Binary { complement, post } => {
                let rows = scores.shape[0];
                let other = negate(scores.clone(), *complement)?;
                let data = other.data.into_iter().zip(scores.data).flat_map(|(a, b)| [a, b]).collect();
                (Tensor::new(vec![rows, 2], data), post)
            }
        };
        let probabilities = match post {
            Some(post) => apply(post.as_ref(), &[&scores])?,
            None => scores,
        };
        let label = apply(label, &[&probabilities])?;
        let data: Vec<T> = label.data.into_iter().chain(probabilities.data).collect();
        Ok(Tensor::new(vec![data.len()], data))
    }
}

impl Op for TreeEnsemble {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let shapes = self.output_shapes(inputs)?;
        Ok(match shapes.len() {
            1 => shapes[0].clone(),
            _ => vec![shapes.iter().map(|s| s.iter().product::<usize>()).sum()],
        })
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let (rows, _) = self.rows_and_features(inputs[0])?;
        Ok(match &self.classifier {
            None => vec![vec![rows, self.scores]],
            Some((Post::Binary { .. }, _)) => vec![vec![rows], vec![rows, 2]],
            Some((Post::Classes { .. }, _)) => vec![vec![rows], vec![rows, self.scores]],
        })
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let scores = self.scores(arith, inputs[0])?;
        let Some((post, label)) = &self.classifier else { return Ok(scores) };
        let one = 1i64 << arith.shape().scale_bits;
        let arith = std::cell::RefCell::new(arith);
        let negate = |s: Tensor<Wire>, complement: bool| -> Result<Tensor<Wire>, Error> {
            let dots = s.data.into_iter().map(|v| Dot { inputs: vec![v], weights: vec![Coef::Const(-1)], bias: Coef::Const(if complement { one } else { 0 }) }).collect();
            Ok(Tensor::new(s.shape, arith.borrow_mut().dot(dots)?))
        };
        Self::classify(post, label.as_ref(), scores, negate, |op, x| op.apply(&mut **arith.borrow_mut(), x))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let scores = self.scores_float(inputs[0])?;
        let Some((post, label)) = &self.classifier else { return Ok(scores) };
        let negate = |s: Tensor<f32>, complement: bool| Ok(Tensor::new(s.shape, s.data.into_iter().map(|v| if complement { 1.0 - v } else { -v }).collect()));
        Self::classify(post, label.as_ref(), scores, negate, |op, x| op.eval_float(x))
    }

    fn functions(&self) -> u32 {
        match &self.classifier {
            Some((Post::Binary { post: Some(post), .. } | Post::Classes { post: Some(post) }, _)) => post.functions(),
            _ => 0,
        }
    }
}
