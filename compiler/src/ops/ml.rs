//! scikit-learn's ONNX ops (the `ai.onnx.ml` domain, as skl2onnx writes them) that are linear
//! maps, and the preprocessing ops that compare (Binarizer, Imputer): they lower to the gadgets
//! of the ops they are special cases of, and to the comparisons of the tree ensembles.

use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

/// `Scaler`: `(x - offset) * scale` per feature, an affine map `x * scale - offset * scale`.
pub fn scaler(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let scale = ctx.floats("scale")?.unwrap_or_else(|| vec![1.0]);
    let offset = ctx.floats("offset")?.unwrap_or_else(|| vec![0.0]);
    let n = scale.len().max(offset.len());
    let at = |v: &[f32], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    if ![1, n].contains(&scale.len()) || ![1, n].contains(&offset.len()) {
        return Err(format!("{} scales and {} offsets: each must be one or one per feature", scale.len(), offset.len()));
    }
    let weight: Vec<f32> = (0..n).map(|i| at(&scale, i)).collect();
    let bias: Vec<f32> = (0..n).map(|i| -at(&offset, i) * at(&scale, i)).collect();
    Ok(super::elementwise::affine(ctx.param(Tensor::new(vec![n], weight))?, ctx.param(Tensor::new(vec![n], bias))?))
}

/// `LinearRegressor`: `x coefficients^T + intercepts` for `targets` outputs; no post transform.
pub fn linear_regressor(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if let Some(t) = ctx.string("post_transform")?.filter(|t| t != "NONE") {
        return Err(format!("post_transform = {t} is not supported"));
    }
    let coefficients = ctx.floats("coefficients")?.ok_or("coefficients are required")?;
    let targets = ctx.int("targets", 1)?;
    if targets < 1 || coefficients.is_empty() || !coefficients.len().is_multiple_of(targets as usize) {
        return Err(format!("{} coefficients for {targets} targets", coefficients.len()));
    }
    let targets = targets as usize;
    let features = coefficients.len() / targets;
    let intercepts = ctx.floats("intercepts")?.unwrap_or_else(|| vec![0.0; targets]);
    if intercepts.len() != targets {
        return Err(format!("{} intercepts for {targets} targets", intercepts.len()));
    }
    Ok(super::gemm::dense(ctx.param(Tensor::new(vec![targets, features], coefficients))?, ctx.param(Tensor::new(vec![targets], intercepts))?))
}

/// `LinearClassifier`: the scores `x coefficients^T + intercepts`, their post transform (none,
/// LOGISTIC per class, or SOFTMAX over the classes), and the label, the class of the highest
/// score. Two outputs: the label and the probabilities (scores). Class labels must be the
/// integers 0..C, as skl2onnx writes them for integer targets.
#[derive(Debug)]
pub struct LinearClassifier {
    scores: Box<dyn Op>,
    post: Option<Box<dyn Op>>,
    label: Box<dyn Op>,
}

pub fn linear_classifier(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.node.attributes.contains_key("classlabels_strings") {
        return Err("string class labels are not supported (train on integer targets)".into());
    }
    let coefficients = ctx.floats("coefficients")?.ok_or("coefficients are required")?;
    let intercepts = ctx.floats("intercepts")?.ok_or("intercepts are required")?;
    let classes = intercepts.len();
    if classes < 2 || coefficients.is_empty() || coefficients.len() % classes != 0 {
        return Err(format!("{} coefficients and {classes} intercepts: one row of coefficients per class is supported", coefficients.len()));
    }
    let labels = ctx.ints("classlabels_ints")?.unwrap_or_else(|| (0..classes as i64).collect());
    if labels != (0..classes as i64).collect::<Vec<_>>() {
        return Err(format!("class labels {labels:?}: only 0..{classes} are supported"));
    }
    let post = match ctx.string("post_transform")?.as_deref() {
        None | Some("NONE") => None,
        Some("LOGISTIC") => Some(super::nonlinear::lookup(zkinfer_circuits::gadgets::Function::Sigmoid)),
        Some("SOFTMAX") => Some(super::nonlinear::softmax_along(-1)),
        Some(other) => return Err(format!("post_transform = {other} is not supported")),
    };
    let features = coefficients.len() / classes;
    let scores = super::gemm::dense(ctx.param(Tensor::new(vec![classes, features], coefficients))?, ctx.param(Tensor::new(vec![classes], intercepts))?);
    Ok(Box::new(LinearClassifier { scores, post, label: super::nonlinear::argmax_along(-1) }))
}

impl LinearClassifier {
    fn run<T: Clone>(&self, inputs: &[&Tensor<T>], mut apply: impl FnMut(&dyn Op, &[&Tensor<T>]) -> Result<Tensor<T>, Error>) -> Result<Tensor<T>, Error> {
        let scores = apply(self.scores.as_ref(), inputs)?;
        let label = apply(self.label.as_ref(), &[&scores])?;
        let probabilities = match &self.post {
            Some(post) => apply(post.as_ref(), &[&scores])?,
            None => scores,
        };
        let data: Vec<T> = label.data.into_iter().chain(probabilities.data).collect();
        Ok(Tensor::new(vec![data.len()], data))
    }
}

impl Op for LinearClassifier {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(vec![self.output_shapes(inputs)?.iter().map(|s| s.iter().product::<usize>()).sum()])
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let scores = self.scores.output_shape(inputs)?;
        Ok(vec![self.label.output_shape(&[&scores])?, scores])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.run(inputs, |op, x| op.apply(arith, x))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.run(inputs, |op, x| op.eval_float(x))
    }

    fn functions(&self) -> u32 {
        self.post.as_ref().map_or(0, |p| p.functions())
    }
}

/// `Normalizer` with the L1 norm: each row divided by the sum of its absolute values,
/// `|x| = 2 relu(x) - x`, the sum exact, one rounded division per value. MAX and L2 are not
/// supported.
#[derive(Debug)]
pub struct Normalizer;

pub fn normalizer(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    match ctx.string("norm")?.as_deref() {
        Some("L1") => Ok(Box::new(Normalizer)),
        other => Err(format!("norm = {} is not supported (only L1)", other.unwrap_or("MAX"))),
    }
}

impl Op for Normalizer {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        match inputs[0].last() {
            Some(&n) if n > 0 => Ok(inputs[0].to_vec()),
            _ => Err(format!("input {:?} has no features to normalize", inputs[0])),
        }
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let n = *x.shape.last().expect("checked by output_shape");
        let relu = arith.element(ElementOp { rescale: false, relu: true }, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        let sums = arith.dot(
            x.data
                .chunks(n)
                .zip(relu.chunks(n))
                .map(|(row, r)| Dot { inputs: r.iter().chain(row).cloned().collect(), weights: [vec![Coef::Const(2); n], vec![Coef::Const(-1); n]].concat(), bias: Coef::Const(0) })
                .collect(),
        )?;
        // Sums of magnitudes, which interval arithmetic cannot see from `2 relu(x) - x`.
        let sums = arith.assume(sums, 0, i64::MAX)?;
        let items = x.data.iter().enumerate().map(|(i, v)| (v.clone(), sums[i / n].clone())).collect();
        // Each value's share of the row's magnitude: at most 1.
        Ok(Tensor::new(x.shape.clone(), arith.divide(items, Some((1 << arith.shape().scale_bits) + 1))?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let n = *x.shape.last().expect("checked by output_shape");
        let out = x.data.chunks(n).flat_map(|row| {
            let norm: f64 = row.iter().map(|v| v.abs() as f64).sum();
            row.iter().map(move |v| (*v as f64 / norm) as f32)
        });
        Ok(Tensor::new(x.shape.clone(), out.collect()))
    }
}

/// `ZipMap` turns probabilities into a list of maps from label to probability; a circuit proves
/// the probabilities themselves, so the map is dropped and the tensor passes through.
pub fn zipmap(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(super::shape::Rearrange::Identity))
}

/// `ArrayFeatureExtractor(X, indices)`: the entries of `X` at `indices` along its last axis.
/// With `X` the constant class list `0..C` and computed indices (skl2onnx's label after an
/// ArgMax), it is the indices themselves; with constant indices, a Gather.
pub fn array_feature_extractor(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    match (ctx.constant(0), ctx.constant(1)) {
        (Some(x), None) if x.data.iter().enumerate().all(|(i, v)| *v == i as f32) => Ok(Box::new(super::shape::Rearrange::Identity)),
        (Some(x), None) => Err(format!("class list {:?}: only the classes 0..{} are supported", &x.data[..x.data.len().min(8)], x.data.len())),
        // The indices count as a list whatever their shape: the last axis keeps one entry per index.
        (None, Some(indices)) => Ok(Box::new(super::shape::Select::Gather { axis: -1, indices: Tensor::new(vec![indices.len()], indices.data.clone()) })),
        _ => Err("one of X and the indices must be a constant".into()),
    }
}

/// `Binarizer`: 1 where `x > threshold`, else 0, per value: the complement of `[x <= T]` (see
/// `compare::indicator`), with `T` the threshold held to the grid as a tree's BRANCH_GT holds it
/// (exact for every value the grid holds), scaled to the fixed point.
#[derive(Debug)]
pub struct Binarizer {
    threshold: Constant,
}

pub fn binarizer(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Binarizer { threshold: ctx.param(Tensor::new(vec![1], vec![ctx.float("threshold", 0.0)?]))? }))
}

impl Op for Binarizer {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        // x > v: a branch of mode BRANCH_GT's threshold.
        let (t, _) = super::compare::Mode::Gt.threshold(self.threshold.values.data[0], arith.shape());
        let items = x.data.iter().map(|v| (v.clone(), self.threshold.coef_with(0, t + 1), false)).collect();
        Ok(Tensor::new(x.shape.clone(), super::compare::indicator(arith, items)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let t = self.threshold.values.data[0];
        Ok(Tensor::new(inputs[0].shape.clone(), inputs[0].data.iter().map(|v| if *v > t { 1.0 } else { 0.0 }).collect()))
    }
}

/// `Imputer`: each value equal to `replaced_value_float` becomes its feature's imputed value.
/// A replaced value of NaN (scikit-learn's SimpleImputer) never occurs in fixed point, whose
/// inputs are finite numbers, so the op is the identity; a number `v` is matched exactly,
/// `[x == V]` with `V` its fixed point (`compare::equal_terms`), and `x + [x == V] (imputed - v)`.
#[derive(Debug)]
pub struct Imputer {
    replaced: f32,
    /// One per feature (the last axis), or one for all.
    imputed: Constant,
}

pub fn imputer(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.node.attributes.contains_key("imputed_value_int64s") || ctx.node.attributes.contains_key("replaced_value_int64") {
        return Err("integer imputation is not supported (float features are)".into());
    }
    let replaced = ctx.float("replaced_value_float", 0.0)?;
    if replaced.is_nan() {
        return Ok(Box::new(super::shape::Rearrange::Identity));
    }
    let imputed = ctx.floats("imputed_value_floats")?.filter(|v| !v.is_empty()).ok_or("attribute 'imputed_value_floats' is required")?;
    Ok(Box::new(Imputer { replaced, imputed: ctx.param(Tensor::new(vec![imputed.len()], imputed))? }))
}

impl Imputer {
    fn feature(&self, i: usize, shape: &[usize]) -> usize {
        if self.imputed.values.len() == 1 {
            0
        } else {
            i % shape.last().copied().unwrap_or(1)
        }
    }
}

impl Op for Imputer {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        match (self.imputed.values.len(), inputs[0].last()) {
            (1, _) => Ok(inputs[0].to_vec()),
            (n, Some(&f)) if n == f => Ok(inputs[0].to_vec()),
            (n, last) => Err(format!("{n} imputed values for features {last:?}")),
        }
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let bits = arith.shape().scale_bits;
        let v = super::quantize(self.replaced, bits);
        let terms = super::compare::equal_terms(arith, x.data.iter().map(|w| (w.clone(), Coef::Const(v + 1))).collect())?;
        let dots = terms
            .into_iter()
            .enumerate()
            .map(|(i, terms)| {
                let c = super::quantize(self.imputed.values.data[self.feature(i, &x.shape)] - self.replaced, bits);
                let weights = std::iter::once(1).chain(super::compare::EQUAL_WEIGHTS.map(|w| w * c)).map(Coef::Const).collect();
                Dot { inputs: std::iter::once(x.data[i].clone()).chain(terms).collect(), weights, bias: Coef::Const(0) }
            })
            .collect();
        Ok(Tensor::new(x.shape.clone(), arith.dot(dots)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let out = x.data.iter().enumerate().map(|(i, v)| if *v == self.replaced { self.imputed.values.data[self.feature(i, &x.shape)] } else { *v });
        Ok(Tensor::new(x.shape.clone(), out.collect()))
    }
}

/// `OneHotEncoder` with integer categories: per value, one output per category, 1 where the
/// value equals it (`compare::equal_to`). A value in no category encodes as zeros (`zeros =
/// 1`); with `zeros = 0` onnxruntime fails on such a value instead, a refusal the circuit cannot
/// express, so that form is refused.
#[derive(Debug)]
pub struct OneHotEncoder {
    categories: Vec<i64>,
}

pub fn one_hot_encoder(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.node.attributes.contains_key("cats_strings") {
        return Err("string categories are not supported (encode the categories as integers)".into());
    }
    let categories = ctx.ints("cats_int64s")?.filter(|c| !c.is_empty()).ok_or("attribute 'cats_int64s' is required")?;
    if ctx.int("zeros", 1)? == 0 {
        return Err(
            "zeros = 0 (a value in no category is an error, which a proof cannot show) is not supported: export the encoder with handle_unknown='ignore' (zeros = 1)".into()
        );
    }
    Ok(Box::new(OneHotEncoder { categories }))
}

impl Op for OneHotEncoder {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].iter().copied().chain([self.categories.len()]).collect())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = arith.shape();
        let grid: Vec<Option<i64>> = self.categories.iter().map(|&c| super::compare::on_grid(c as f64, shape)).collect();
        let items = x.data.iter().flat_map(|w| grid.iter().map(move |v| (w.clone(), v.map(|v| Coef::Const(v + 1))))).collect();
        Ok(Tensor::new(self.output_shape(&[&x.shape]).map_err(Error::Shape)?, super::compare::equal_to(arith, items)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let out = x.data.iter().flat_map(|v| self.categories.iter().map(move |&c| if *v as f64 == c as f64 { 1.0 } else { 0.0 })).collect();
        Ok(Tensor::new(self.output_shape(&[&x.shape]).map_err(Error::Shape)?, out))
    }
}

/// `LabelEncoder` with numeric keys and values: `default + sum_k [x == k] (value_k - default)`
/// per value, each `[x == k]` exact on the grid (`compare::equal_terms`), the values held to it.
#[derive(Debug)]
pub struct LabelEncoder {
    keys: Vec<f64>,
    /// The values, then the default, as parameters.
    values: Constant,
}

pub fn label_encoder(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ["keys_strings", "values_strings"].iter().any(|a| ctx.node.attributes.contains_key(*a)) {
        return Err("string keys or values are not supported (numeric ones are)".into());
    }
    let numbers = |floats: &str, ints: &str| -> Result<Option<Vec<f64>>, String> {
        Ok(match (ctx.floats_or_tensor(floats)?, ctx.ints(ints)?) {
            (Some(f), _) => Some(f.into_iter().map(f64::from).collect()),
            (None, Some(i)) => Some(i.into_iter().map(|v| v as f64).collect()),
            (None, None) => None,
        })
    };
    let keys = numbers("keys_floats", "keys_int64s")?.ok_or("numeric keys (keys_floats or keys_int64s) are required")?;
    let values = numbers("values_floats", "values_int64s")?.ok_or("numeric values (values_floats or values_int64s) are required")?;
    if keys.len() != values.len() || keys.is_empty() {
        return Err(format!("{} keys and {} values: one value per key is required", keys.len(), values.len()));
    }
    let default = match ctx.node.attributes.contains_key("values_int64s") {
        true => ctx.int("default_int64", -1)? as f64,
        false => ctx.float("default_float", -0.0)? as f64,
    };
    let values = values.into_iter().chain([default]).map(|v| v as f32).collect::<Vec<_>>();
    Ok(Box::new(LabelEncoder { keys, values: ctx.param(Tensor::new(vec![values.len()], values))? }))
}

impl Op for LabelEncoder {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = arith.shape();
        let bits = shape.scale_bits;
        let values = &self.values.values.data;
        let default = values[self.keys.len()];
        // Keys no fixed-point value equals contribute nothing.
        let keys: Vec<(usize, i64)> = self.keys.iter().enumerate().filter_map(|(k, &key)| super::compare::on_grid(key, shape).map(|v| (k, v))).collect();
        let items = x.data.iter().flat_map(|w| keys.iter().map(move |(_, v)| (w.clone(), Coef::Const(v + 1)))).collect();
        // Each [x == k] on its own (0 or 1), so that key k's weight is read once per use: a
        // parameter's cell holds one value.
        let terms = super::compare::equal_terms(arith, items)?;
        let equal =
            arith.dot(terms.into_iter().map(|t| Dot { inputs: t.to_vec(), weights: super::compare::EQUAL_WEIGHTS.map(Coef::Const).to_vec(), bias: Coef::Const(0) }).collect())?;
        let bias = self.values.coef_with(self.keys.len(), super::quantize(default, bits));
        let dots = (0..x.len())
            .map(|i| Dot {
                inputs: equal[i * keys.len()..(i + 1) * keys.len()].to_vec(),
                weights: keys.iter().map(|&(k, _)| self.values.coef_with(k, super::quantize(values[k] - default, bits))).collect(),
                bias,
            })
            .collect();
        Ok(Tensor::new(x.shape.clone(), arith.dot(dots)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let values = &self.values.values.data;
        let lookup = |x: &f32| self.keys.iter().position(|k| *k == *x as f64).map_or(values[self.keys.len()], |k| values[k]);
        Ok(inputs[0].map(lookup))
    }
}
