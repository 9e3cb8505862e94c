//! Support vector machines (`ai.onnx.ml` SVMRegressor and SVMClassifier, as skl2onnx writes
//! scikit-learn's SVR, LinearSVR and SVC): sums of kernels between the input and fixed support
//! vectors, weighted, plus `rho`.
//!
//! A linear kernel folds into one dot product per output (`sum_j c_j sv_j` is a weight vector).
//! An RBF kernel is `exp(-gamma |x - sv|^2)` with `|x - sv|^2 = |x|^2 - 2 x.sv + |sv|^2`: the
//! input's squares once (products of computed values), then per support vector one dot product
//! and one rescale (whose ReLU keeps the distance at least 0 through rounding) and Exp's lookup.
//! A sigmoid kernel is `tanh(gamma x.sv + coef0)`, a dot product and Tanh's lookup; a polynomial
//! kernel `(gamma x.sv + coef0)^degree`, a dot product and `degree - 1` products.
//!
//! The classifier is libsvm's one-against-one: per pair of classes `(i, j)` a decision `s`, a
//! vote for `i` where `s > 0` (exact on the grid, see `compare`), else for `j`; the label is the
//! first class with the most votes, the scores are the decisions (`[-s, s]` for two classes).

use super::compare::at_most;
use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::{ElementOp, Function};

const RESCALE: ElementOp = ElementOp { rescale: true, relu: false };

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Rbf,
    Sigmoid,
    Poly(u32),
}

/// A nonlinear kernel's parameters.
#[derive(Debug)]
struct Kernels {
    kernel: Kernel,
    /// RBF: per support vector `-2 gamma sv_j` and `gamma |sv_j|^2`; sigmoid and polynomial:
    /// `gamma sv_j` and `coef0` (each vector's row, then its constant).
    scaled: Constant,
    constants: Constant,
    /// `gamma`, the weight of `|x|^2` (RBF).
    gamma: Constant,
    /// The float kernel's own parameters, for the float semantics.
    support_vectors: Vec<f32>,
    gamma_value: f64,
    coef0: f64,
}

/// The support vectors `sv` (`n` of them) under the node's kernel; `None` for a linear kernel.
fn kernels(ctx: &NodeCtx, sv: Vec<f32>, n: usize) -> Result<Option<Kernels>, String> {
    let params = ctx.floats("kernel_params")?.unwrap_or_default();
    let param = |i: usize| params.get(i).copied().unwrap_or(0.0) as f64;
    let (gamma, coef0) = (param(0), param(1));
    let features = sv.len() / n;
    let row = |j: usize| &sv[j * features..(j + 1) * features];
    let scaled_by_gamma = || sv.iter().map(|v| (gamma * *v as f64) as f32).collect();
    let (kernel, scaled, constants): (Kernel, Vec<f32>, Vec<f32>) = match ctx.string("kernel_type")?.as_deref().unwrap_or("LINEAR") {
        "LINEAR" => return Ok(None),
        "RBF" => (
            Kernel::Rbf,
            sv.iter().map(|v| (-2.0 * gamma * *v as f64) as f32).collect(),
            (0..n).map(|j| (gamma * row(j).iter().map(|v| (*v as f64).powi(2)).sum::<f64>()) as f32).collect(),
        ),
        "SIGMOID" => (Kernel::Sigmoid, scaled_by_gamma(), vec![coef0 as f32; n]),
        "POLY" => {
            let degree = param(2);
            if degree.fract() != 0.0 || !(1.0..=8.0).contains(&degree) {
                return Err(format!("a polynomial kernel of degree {degree} is not supported (whole degrees 1 to 8 are)"));
            }
            (Kernel::Poly(degree as u32), scaled_by_gamma(), vec![coef0 as f32; n])
        }
        other => return Err(format!("kernel_type = {other} is not supported (LINEAR, RBF, POLY and SIGMOID are)")),
    };
    Ok(Some(Kernels {
        kernel,
        scaled: ctx.param(Tensor::new(vec![n, features], scaled))?,
        constants: ctx.param(Tensor::new(vec![n], constants))?,
        gamma: ctx.param(Tensor::new(vec![1], vec![gamma as f32]))?,
        support_vectors: sv,
        gamma_value: gamma,
        coef0,
    }))
}

fn rescaled(arith: &mut dyn Arith, op: ElementOp, values: Vec<Wire>) -> Result<Vec<Wire>, Error> {
    arith.element(op, values.into_iter().map(|w| (w, None)).collect())
}

impl Kernels {
    fn count(&self) -> usize {
        self.constants.values.len()
    }

    /// The kernel between `row` and each support vector, at the activation scale.
    fn apply(&self, arith: &mut dyn Arith, row: &[Wire]) -> Result<Vec<Wire>, Error> {
        let bits = arith.shape().scale_bits;
        let (n, f) = (self.count(), row.len());
        let dots = |extra: &[Wire], extra_weights: &[Coef]| -> Vec<Dot> {
            (0..n)
                .map(|j| Dot {
                    inputs: [extra, row].concat(),
                    weights: extra_weights.iter().cloned().chain((0..f).map(|k| self.scaled.coef(j * f + k, bits))).collect(),
                    bias: self.constants.coef(j, 2 * bits),
                })
                .collect()
        };
        match self.kernel {
            Kernel::Rbf => {
                // |x|^2, then gamma |x - sv|^2 = gamma |x|^2 - 2 gamma x.sv + gamma |sv|^2 per
                // vector, rescaled with a ReLU (a distance is at least 0, whatever the
                // rounding), negated, and its Exp.
                let squares = arith.products(vec![row.iter().map(|v| (v.clone(), v.clone())).collect()])?;
                let squares = rescaled(arith, RESCALE, squares)?;
                let distances = arith.dot(dots(&squares, &[self.gamma.coef(0, bits)]))?;
                let distances = rescaled(arith, ElementOp { rescale: true, relu: true }, distances)?;
                let exponents = super::negated(arith, distances)?;
                arith.function(Function::Exp, exponents)
            }
            Kernel::Sigmoid => {
                let pre = arith.dot(dots(&[], &[]))?;
                let pre = rescaled(arith, RESCALE, pre)?;
                arith.function(Function::Tanh, pre)
            }
            Kernel::Poly(degree) => {
                let pre = arith.dot(dots(&[], &[]))?;
                let base = rescaled(arith, RESCALE, pre)?;
                let mut power = base.clone();
                for _ in 1..degree {
                    let products = arith.products(power.into_iter().zip(&base).map(|(p, b)| vec![(p, b.clone())]).collect())?;
                    power = rescaled(arith, RESCALE, products)?;
                }
                Ok(power)
            }
        }
    }

    fn eval(&self, row: &[f32]) -> Vec<f64> {
        let f = row.len();
        let dot = |sv: &[f32]| row.iter().zip(sv).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>();
        (0..self.count())
            .map(|j| {
                let sv = &self.support_vectors[j * f..(j + 1) * f];
                match self.kernel {
                    Kernel::Rbf => (-self.gamma_value * row.iter().zip(sv).map(|(a, b)| (*a as f64 - *b as f64).powi(2)).sum::<f64>()).exp(),
                    Kernel::Sigmoid => (self.gamma_value * dot(sv) + self.coef0).tanh(),
                    Kernel::Poly(degree) => (self.gamma_value * dot(sv) + self.coef0).powi(degree as i32),
                }
            })
            .collect()
    }

    fn functions(&self) -> u32 {
        match self.kernel {
            Kernel::Rbf => Function::Exp.bit(),
            Kernel::Sigmoid => Function::Tanh.bit(),
            Kernel::Poly(_) => 0,
        }
    }

    fn uses_products(&self) -> bool {
        matches!(self.kernel, Kernel::Rbf | Kernel::Poly(2..))
    }
}

/// The support vectors of a node with `n` of them, and their length (the features).
fn support_vectors(ctx: &NodeCtx, n: usize) -> Result<(Vec<f32>, usize), String> {
    let sv = ctx.floats("support_vectors")?.ok_or("attribute 'support_vectors' is required")?;
    if n == 0 || sv.is_empty() || !sv.len().is_multiple_of(n) {
        return Err(format!("{} support vector values for {n} support vectors", sv.len()));
    }
    let features = sv.len() / n;
    Ok((sv, features))
}

/// The rows of an input `[N, features]`.
fn rows(input: &[usize], features: usize) -> Result<usize, String> {
    match input {
        [rows, f] if *f == features => Ok(*rows),
        _ => Err(format!("input {input:?}: the support vectors take [N, {features}]")),
    }
}

/// One decision `sum_k w_k v_k + rho`: over the input's features (a linear kernel, its
/// support vectors folded into the weights) or over the kernel values, `of` naming which.
#[derive(Debug)]
struct Decision {
    of: Vec<usize>,
    weights: Constant,
}

impl Decision {
    /// Weights over `of`, made parameters.
    fn new(ctx: &NodeCtx, of: Vec<usize>, weights: Vec<f32>) -> Result<Self, String> {
        Ok(Decision { weights: ctx.param(Tensor::new(vec![of.len()], weights))?, of })
    }

    /// A linear kernel over `features`: `sum_j c_j sv_j` over the `(j, c_j)` given.
    fn folded(ctx: &NodeCtx, sv: &[f32], features: usize, terms: &[(usize, f32)]) -> Result<Self, String> {
        let w = (0..features).map(|k| terms.iter().map(|&(j, c)| c as f64 * sv[j * features + k] as f64).sum::<f64>() as f32).collect();
        Self::new(ctx, (0..features).collect(), w)
    }

    fn dot(&self, values: &[Wire], rho: Coef, bits: u32) -> Dot {
        Dot { inputs: self.of.iter().map(|&k| values[k].clone()).collect(), weights: (0..self.of.len()).map(|k| self.weights.coef(k, bits)).collect(), bias: rho }
    }

    fn eval(&self, values: &[f64], rho: f32) -> f64 {
        self.of.iter().zip(&self.weights.values.data).map(|(&k, w)| values[k] * *w as f64).sum::<f64>() + rho as f64
    }
}

/// The values decisions weigh: the row's features, or its kernels.
fn decision_inputs(arith: &mut dyn Arith, kernels: &Option<Box<Kernels>>, row: &[Wire]) -> Result<Vec<Wire>, Error> {
    match kernels {
        None => Ok(row.to_vec()),
        Some(k) => k.apply(arith, row),
    }
}

fn decision_inputs_float(kernels: &Option<Box<Kernels>>, row: &[f32]) -> Vec<f64> {
    match kernels {
        None => row.iter().map(|v| *v as f64).collect(),
        Some(k) => k.eval(row),
    }
}

fn kernel_functions(kernels: &Option<Box<Kernels>>) -> u32 {
    kernels.as_ref().map_or(0, |k| k.functions())
}

fn kernel_products(kernels: &Option<Box<Kernels>>) -> bool {
    kernels.as_ref().is_some_and(|k| k.uses_products())
}

#[derive(Debug)]
pub struct SvmRegressor {
    features: usize,
    kernels: Option<Box<Kernels>>,
    decision: Decision,
    rho: Constant,
}

pub fn svm_regressor(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if let Some(t) = ctx.string("post_transform")?.filter(|t| t != "NONE") {
        return Err(format!("post_transform = {t} is not supported"));
    }
    if ctx.int("one_class", 0)? != 0 {
        return Err("one_class = 1 (a sign, not a regression) is not supported".into());
    }
    if ctx.int("n_targets", 1)? != 1 {
        return Err("only one target is supported".into());
    }
    let coefficients = ctx.floats("coefficients")?.ok_or("attribute 'coefficients' is required")?;
    let rho = ctx.floats("rho")?.filter(|r| r.len() == 1).ok_or("attribute 'rho' must hold one value")?;
    let rho = ctx.param(Tensor::new(vec![1], rho))?;
    let supports = ctx.int("n_supports", 0)?;
    if supports <= 0 {
        // LinearSVR: the coefficients are the weights.
        let features = coefficients.len();
        return Ok(Box::new(SvmRegressor { features, kernels: None, decision: Decision::new(ctx, (0..features).collect(), coefficients)?, rho }));
    }
    let n = supports as usize;
    let (sv, features) = support_vectors(ctx, n)?;
    if coefficients.len() != n {
        return Err(format!("{} coefficients for {n} support vectors", coefficients.len()));
    }
    let kernels = kernels(ctx, sv.clone(), n)?.map(Box::new);
    let decision = match kernels {
        None => Decision::folded(ctx, &sv, features, &coefficients.iter().copied().enumerate().collect::<Vec<_>>())?,
        Some(_) => Decision::new(ctx, (0..n).collect(), coefficients)?,
    };
    Ok(Box::new(SvmRegressor { features, kernels, decision, rho }))
}

impl Op for SvmRegressor {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(vec![rows(inputs[0], self.features)?, 1])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let n_rows = rows(&x.shape, self.features).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let mut out = Vec::with_capacity(n_rows);
        for row in x.data.chunks(self.features).take(n_rows) {
            let values = decision_inputs(arith, &self.kernels, row)?;
            let sum = arith.dot(vec![self.decision.dot(&values, self.rho.coef(0, 2 * bits), bits)])?;
            out.extend(rescaled(arith, RESCALE, sum)?);
        }
        Ok(Tensor::new(vec![n_rows, 1], out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let n_rows = rows(&x.shape, self.features).map_err(Error::Shape)?;
        let out = x.data.chunks(self.features).take(n_rows).map(|row| self.decision.eval(&decision_inputs_float(&self.kernels, row), self.rho.values.data[0]) as f32);
        Ok(Tensor::new(vec![n_rows, 1], out.collect()))
    }

    fn functions(&self) -> u32 {
        kernel_functions(&self.kernels)
    }

    fn uses_products(&self) -> bool {
        kernel_products(&self.kernels)
    }
}

/// SVMClassifier, one against one: a decision per pair of classes in libsvm's order `(0, 1),
/// (0, 2), ..., (1, 2), ...`.
#[derive(Debug)]
pub struct SvmClassifier {
    features: usize,
    classes: usize,
    kernels: Option<Box<Kernels>>,
    pairs: Vec<Decision>,
    /// One per pair.
    rho: Constant,
    label: Box<dyn Op>,
}

pub fn svm_classifier(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.node.attributes.contains_key("classlabels_strings") {
        return Err("string class labels are not supported (train on integer targets)".into());
    }
    if let Some(t) = ctx.string("post_transform")?.filter(|t| t != "NONE") {
        return Err(format!("post_transform = {t} is not supported"));
    }
    if ctx.floats("prob_a")?.is_some_and(|p| !p.is_empty()) {
        return Err("probability estimates (scikit-learn's SVC(probability=True)) couple the pairwise estimates by an iterative solver, which a circuit does not run: train with probability=False (the default); the label and the decision scores then prove".into());
    }
    let per_class = ctx
        .ints("vectors_per_class")?
        .filter(|v| !v.is_empty())
        .ok_or("only the support vector form is supported (vectors_per_class is required; scikit-learn's LinearSVC exports as LinearClassifier)")?;
    let classes = per_class.len();
    let labels = ctx.ints("classlabels_ints")?.unwrap_or_else(|| (0..classes as i64).collect());
    if classes < 2 || labels != (0..classes as i64).collect::<Vec<_>>() {
        return Err(format!("class labels {labels:?} for {classes} classes: only 0..{classes}, at least two, are supported"));
    }
    if per_class.iter().any(|&c| c < 0) {
        return Err(format!("vectors_per_class {per_class:?} holds a negative count"));
    }
    let counts: Vec<usize> = per_class.iter().map(|&c| c as usize).collect();
    let starts: Vec<usize> = counts.iter().scan(0, |s, c| Some(std::mem::replace(s, *s + c))).collect();
    let n: usize = counts.iter().sum();
    let (sv, features) = support_vectors(ctx, n)?;
    let coefficients = ctx.floats("coefficients")?.ok_or("attribute 'coefficients' is required")?;
    if coefficients.len() != (classes - 1) * n {
        return Err(format!("{} coefficients for {classes} classes and {n} support vectors: (classes - 1) x vectors are required", coefficients.len()));
    }
    let count = classes * (classes - 1) / 2;
    let rho = ctx.floats("rho")?.filter(|r| r.len() == count).ok_or(format!("attribute 'rho' must hold one value per pair of classes ({count})"))?;
    let rho = ctx.param(Tensor::new(vec![count], rho))?;
    let kernels = kernels(ctx, sv.clone(), n)?.map(Box::new);
    let mut pairs = Vec::with_capacity(count);
    for i in 0..classes {
        for j in i + 1..classes {
            // The class-i vectors weighted by row j - 1 of the coefficients, the class-j ones by row i.
            let vectors = |c: usize| starts[c]..starts[c] + counts[c];
            let terms: Vec<(usize, f32)> = vectors(i).map(|k| (k, coefficients[(j - 1) * n + k])).chain(vectors(j).map(|k| (k, coefficients[i * n + k]))).collect();
            pairs.push(match kernels {
                None => Decision::folded(ctx, &sv, features, &terms)?,
                Some(_) => Decision::new(ctx, terms.iter().map(|t| t.0).collect(), terms.iter().map(|t| t.1).collect())?,
            });
        }
    }
    Ok(Box::new(SvmClassifier { features, classes, kernels, pairs, rho, label: super::nonlinear::argmax_along(-1) }))
}

impl SvmClassifier {
    /// Per pair `(i, j)` of classes, in order.
    fn class_pairs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.classes).flat_map(move |i| (i + 1..self.classes).map(move |j| (i, j)))
    }

    /// The label and the scores, flat: the decisions, or for two classes `[-s, s]` from the
    /// decisions and their negations.
    fn outputs<T: Clone>(&self, label: Tensor<T>, decisions: Vec<T>, negated: Vec<T>) -> Tensor<T> {
        let scores: Vec<T> = match self.classes {
            2 => negated.into_iter().zip(decisions).flat_map(|(n, s)| [n, s]).collect(),
            _ => decisions,
        };
        let data: Vec<T> = label.data.into_iter().chain(scores).collect();
        Tensor::new(vec![data.len()], data)
    }
}

impl Op for SvmClassifier {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(vec![self.output_shapes(inputs)?.iter().map(|s| s.iter().product::<usize>()).sum()])
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let n = rows(inputs[0], self.features)?;
        Ok(vec![vec![n], vec![n, if self.classes == 2 { 2 } else { self.pairs.len() }]])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let n_rows = rows(&x.shape, self.features).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let (mut decisions, mut votes) = (Vec::new(), Vec::new());
        for row in x.data.chunks(self.features).take(n_rows) {
            let values = decision_inputs(arith, &self.kernels, row)?;
            let dots = self.pairs.iter().enumerate().map(|(p, d)| d.dot(&values, self.rho.coef(p, 2 * bits), bits)).collect();
            let sums = arith.dot(dots)?;
            let s = rescaled(arith, RESCALE, sums)?;
            // [s > 0] = at - above per pair (`[s <= 0]` with T = 0): a vote for i, else for j.
            let (above, at) = at_most(arith, s.iter().map(|v| (v.clone(), Coef::Const(1))).collect())?;
            let mut tallies: Vec<Dot> = (0..self.classes).map(|_| Dot { inputs: vec![], weights: vec![], bias: Coef::Const(0) }).collect();
            for (p, (i, j)) in self.class_pairs().enumerate() {
                for (class, sign) in [(i, 1), (j, -1)] {
                    let tally = &mut tallies[class];
                    tally.inputs.extend([at[p].clone(), above[p].clone()]);
                    tally.weights.extend([Coef::Const(sign), Coef::Const(-sign)]);
                    if sign < 0 {
                        tally.bias = Coef::Const(tally.bias.value() + 1);
                    }
                }
            }
            votes.extend(arith.dot(tallies)?);
            decisions.extend(s);
        }
        let label = self.label.apply(arith, &[&Tensor::new(vec![n_rows, self.classes], votes)])?;
        let negated = match self.classes {
            2 => super::negated(arith, decisions.clone())?,
            _ => vec![],
        };
        Ok(self.outputs(label, decisions, negated))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let n_rows = rows(&x.shape, self.features).map_err(Error::Shape)?;
        let (mut decisions, mut votes) = (Vec::new(), Vec::new());
        for row in x.data.chunks(self.features).take(n_rows) {
            let values = decision_inputs_float(&self.kernels, row);
            let mut tally = vec![0.0f32; self.classes];
            for (p, (i, j)) in self.class_pairs().enumerate() {
                let s = self.pairs[p].eval(&values, self.rho.values.data[p]) as f32;
                tally[if s > 0.0 { i } else { j }] += 1.0;
                decisions.push(s);
            }
            votes.extend(tally);
        }
        let label = self.label.eval_float(&[&Tensor::new(vec![n_rows, self.classes], votes)])?;
        let negated = decisions.iter().map(|v| -v).collect();
        Ok(self.outputs(label, decisions, negated))
    }

    fn functions(&self) -> u32 {
        kernel_functions(&self.kernels)
    }

    fn uses_products(&self) -> bool {
        kernel_products(&self.kernels)
    }
}
