//! `SVMRegressor` (`ai.onnx.ml`, as skl2onnx writes scikit-learn's SVR and LinearSVR): a sum of
//! kernels between the input and fixed support vectors, weighted, plus `rho`. A linear kernel
//! folds into one dot product (`sum_j c_j sv_j` is a weight vector); an RBF kernel is
//! `exp(-gamma |x - sv|^2)` with `|x - sv|^2 = |x|^2 - 2 x.sv + |sv|^2`: the input's squares once
//! (products of computed values), then per support vector one dot product and one rescale
//! (whose ReLU keeps the distance at least 0 through rounding) and Exp's lookup; a sigmoid kernel
//! is `tanh(gamma x.sv + coef0)`, a dot product and Tanh's lookup.

use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::{ElementOp, Function};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernel {
    Rbf,
    Sigmoid,
}

#[derive(Debug)]
enum Form {
    /// `x . w + rho`: a linear kernel, its support vectors folded into `w`.
    Linear { w: Constant },
    /// `sum_j c_j k(x, sv_j) + rho`.
    Kernel(Box<Kernels>),
}

/// A kernel form's parameters.
#[derive(Debug)]
struct Kernels {
    kernel: Kernel,
    /// RBF: per support vector `-2 gamma sv_j` and `gamma |sv_j|^2`; sigmoid: `gamma sv_j`
    /// and `coef0` (each vector's row, then its constant).
    scaled: Constant,
    constants: Constant,
    /// `gamma`, the weight of `|x|^2` (RBF).
    gamma: Constant,
    coefficients: Constant,
    /// The float kernel's own parameters, for the float semantics.
    support_vectors: Vec<f32>,
    gamma_value: f64,
    coef0: f64,
}

#[derive(Debug)]
pub struct SvmRegressor {
    features: usize,
    form: Form,
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
    let supports = ctx.int("n_supports", 0)?;
    let params = ctx.floats("kernel_params")?.unwrap_or_default();
    let (gamma, coef0) = (params.first().copied().unwrap_or(0.0) as f64, params.get(1).copied().unwrap_or(0.0) as f64);
    let kernel = ctx.string("kernel_type")?.unwrap_or_else(|| "LINEAR".into());
    let rho = ctx.param(Tensor::new(vec![1], rho))?;
    if supports <= 0 {
        // LinearSVR: the coefficients are the weights.
        let features = coefficients.len();
        return Ok(Box::new(SvmRegressor { features, form: Form::Linear { w: ctx.param(Tensor::new(vec![features], coefficients))? }, rho }));
    }
    let n = supports as usize;
    let sv = ctx.floats("support_vectors")?.ok_or("attribute 'support_vectors' is required")?;
    if sv.len() % n != 0 || coefficients.len() != n {
        return Err(format!("{} support vector values and {} coefficients for {n} supports", sv.len(), coefficients.len()));
    }
    let features = sv.len() / n;
    let row = |j: usize| &sv[j * features..(j + 1) * features];
    let (kernel, scaled, constants): (Kernel, Vec<f32>, Vec<f32>) = match kernel.as_str() {
        "LINEAR" => {
            let w = (0..features).map(|k| (0..n).map(|j| coefficients[j] as f64 * row(j)[k] as f64).sum::<f64>() as f32).collect();
            return Ok(Box::new(SvmRegressor { features, form: Form::Linear { w: ctx.param(Tensor::new(vec![features], w))? }, rho }));
        }
        "RBF" => (
            Kernel::Rbf,
            sv.iter().map(|v| (-2.0 * gamma * *v as f64) as f32).collect(),
            (0..n).map(|j| (gamma * row(j).iter().map(|v| (*v as f64).powi(2)).sum::<f64>()) as f32).collect(),
        ),
        "SIGMOID" => (Kernel::Sigmoid, sv.iter().map(|v| (gamma * *v as f64) as f32).collect(), vec![coef0 as f32; n]),
        other => return Err(format!("kernel_type = {other} is not supported (LINEAR, RBF and SIGMOID are)")),
    };
    Ok(Box::new(SvmRegressor {
        features,
        form: Form::Kernel(Box::new(Kernels {
            kernel,
            scaled: ctx.param(Tensor::new(vec![n, features], scaled))?,
            constants: ctx.param(Tensor::new(vec![n], constants))?,
            gamma: ctx.param(Tensor::new(vec![1], vec![gamma as f32]))?,
            coefficients: ctx.param(Tensor::new(vec![n], coefficients))?,
            support_vectors: sv,
            gamma_value: gamma,
            coef0,
        })),
        rho,
    }))
}

const RESCALE: ElementOp = ElementOp { rescale: true, relu: false };

impl SvmRegressor {
    fn rows(&self, input: &[usize]) -> Result<usize, String> {
        match input {
            [rows, f] if *f == self.features => Ok(*rows),
            _ => Err(format!("input {input:?}: the support vectors take [N, {}]", self.features)),
        }
    }

    fn rescaled(arith: &mut dyn Arith, op: ElementOp, values: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        arith.element(op, values.into_iter().map(|w| (w, None)).collect())
    }
}

impl Op for SvmRegressor {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(vec![self.rows(inputs[0])?, 1])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let rows = self.rows(&x.shape).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let f = self.features;
        let mut out = Vec::with_capacity(rows);
        for row in x.data.chunks(f).take(rows) {
            let sum = match &self.form {
                Form::Linear { w } => arith.dot(vec![Dot { inputs: row.to_vec(), weights: (0..f).map(|k| w.coef(k, bits)).collect(), bias: self.rho.coef(0, 2 * bits) }])?,
                Form::Kernel(k) => {
                    let Kernels { kernel, scaled, constants, gamma, coefficients, .. } = k.as_ref();
                    let n = coefficients.values.len();
                    let kernels = match kernel {
                        Kernel::Rbf => {
                            // |x|^2, then gamma |x - sv|^2 = gamma |x|^2 - 2 gamma x.sv +
                            // gamma |sv|^2 per vector, rescaled with a ReLU (a distance is at
                            // least 0, whatever the rounding), negated, and its Exp.
                            let squares = arith.products(vec![row.iter().map(|v| (v.clone(), v.clone())).collect()])?;
                            let squares = Self::rescaled(arith, RESCALE, squares)?;
                            let dots = (0..n)
                                .map(|j| Dot {
                                    inputs: [squares.clone(), row.to_vec()].concat(),
                                    weights: std::iter::once(gamma.coef(0, bits)).chain((0..f).map(|k| scaled.coef(j * f + k, bits))).collect(),
                                    bias: constants.coef(j, 2 * bits),
                                })
                                .collect();
                            let distances = arith.dot(dots)?;
                            let distances = Self::rescaled(arith, ElementOp { rescale: true, relu: true }, distances)?;
                            let exponents = arith.dot(distances.into_iter().map(|d| Dot { inputs: vec![d], weights: vec![Coef::Const(-1)], bias: Coef::Const(0) }).collect())?;
                            arith.function(Function::Exp, exponents)?
                        }
                        Kernel::Sigmoid => {
                            let dots = (0..n)
                                .map(|j| Dot { inputs: row.to_vec(), weights: (0..f).map(|k| scaled.coef(j * f + k, bits)).collect(), bias: constants.coef(j, 2 * bits) })
                                .collect();
                            let pre = arith.dot(dots)?;
                            let pre = Self::rescaled(arith, RESCALE, pre)?;
                            arith.function(Function::Tanh, pre)?
                        }
                    };
                    arith.dot(vec![Dot { inputs: kernels, weights: (0..n).map(|j| coefficients.coef(j, bits)).collect(), bias: self.rho.coef(0, 2 * bits) }])?
                }
            };
            out.extend(Self::rescaled(arith, RESCALE, sum)?);
        }
        Ok(Tensor::new(vec![rows, 1], out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let rows = self.rows(&x.shape).map_err(Error::Shape)?;
        let f = self.features;
        let rho = self.rho.values.data[0] as f64;
        let out = x.data.chunks(f).take(rows).map(|row| {
            let s = match &self.form {
                Form::Linear { w } => row.iter().zip(&w.values.data).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>(),
                Form::Kernel(k) => (0..k.coefficients.values.len())
                    .map(|j| {
                        let sv = &k.support_vectors[j * f..(j + 1) * f];
                        let value = match k.kernel {
                            Kernel::Rbf => (-k.gamma_value * row.iter().zip(sv).map(|(a, b)| (*a as f64 - *b as f64).powi(2)).sum::<f64>()).exp(),
                            Kernel::Sigmoid => (k.gamma_value * row.iter().zip(sv).map(|(a, b)| *a as f64 * *b as f64).sum::<f64>() + k.coef0).tanh(),
                        };
                        k.coefficients.values.data[j] as f64 * value
                    })
                    .sum::<f64>(),
            };
            (s + rho) as f32
        });
        Ok(Tensor::new(vec![rows, 1], out.collect()))
    }

    fn functions(&self) -> u32 {
        match &self.form {
            Form::Linear { .. } => 0,
            Form::Kernel(k) if k.kernel == Kernel::Rbf => Function::Exp.bit(),
            Form::Kernel(_) => Function::Tanh.bit(),
        }
    }

    fn uses_products(&self) -> bool {
        matches!(&self.form, Form::Kernel(k) if k.kernel == Kernel::Rbf)
    }
}
