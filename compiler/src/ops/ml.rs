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
        (None, Some(indices)) => Ok(Box::new(super::shape::Select::Gather { axis: -1, indices: indices.clone() })),
        _ => Err("one of X and the indices must be a constant".into()),
    }
}

/// `Binarizer`: 1 where `x > threshold`, else 0, per value: the complement of `[x <= T]` (see
/// `tree::at_most`), with `T` the threshold held to the grid as a tree's BRANCH_GT holds it
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
        let shape = arith.shape();
        // x > v: a branch of mode BRANCH_GT's threshold.
        let (t, _) = super::tree::Mode::Gt.threshold(self.threshold.values.data[0], shape);
        let items = x.data.iter().map(|v| (v.clone(), self.threshold.coef_with(0, t + 1))).collect();
        let (above, at) = super::tree::at_most(arith, items)?;
        // 1 - [x <= T] = at - above, in the fixed point.
        let one = 1i64 << shape.scale_bits;
        let dots = above.into_iter().zip(at).map(|(a, b)| Dot { inputs: vec![b, a], weights: vec![Coef::Const(one), Coef::Const(-one)], bias: Coef::Const(0) }).collect();
        Ok(Tensor::new(x.shape.clone(), arith.dot(dots)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let t = self.threshold.values.data[0];
        Ok(Tensor::new(inputs[0].shape.clone(), inputs[0].data.iter().map(|v| if *v > t { 1.0 } else { 0.0 }).collect()))
    }
}

/// `Imputer`: each value equal to `replaced_value_float` becomes its feature's imputed value.
/// A replaced value of NaN (scikit-learn's SimpleImputer) never occurs in fixed point, whose
/// inputs are finite numbers, so the op is the identity; a number `v` is matched exactly,
/// `[x == V] = [x <= V] - [x <= V - 1]` with `V` its fixed point, and
/// `x + [x == V] (imputed - v)`.
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
        // [x <= V] and [x <= V - 1], each `above - at + 1`: their difference is [x == V].
        let items: Vec<(Wire, Coef)> = x.data.iter().flat_map(|w| [(w.clone(), Coef::Const(v + 1)), (w.clone(), Coef::Const(v))]).collect();
        let (above, at) = super::tree::at_most(arith, items)?;
        let dots = (0..x.len())
            .map(|i| {
                let c = super::quantize(self.imputed.values.data[self.feature(i, &x.shape)] - self.replaced, bits);
                let (a1, b1, a0, b0) = (above[2 * i].clone(), at[2 * i].clone(), above[2 * i + 1].clone(), at[2 * i + 1].clone());
                Dot { inputs: vec![x.data[i].clone(), a1, b1, a0, b0], weights: [1, c, -c, -c, c].into_iter().map(Coef::Const).collect(), bias: Coef::Const(0) }
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
