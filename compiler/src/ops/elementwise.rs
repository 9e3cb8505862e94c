//! Element-wise ops. With a constant operand they become one-input dot products (the
//! constant broadcast into weights or biases); two computed operands use the linear gate.

use super::{broadcast, Constant, Epilogue, NodeCtx, Op};
use crate::arith::{divide_by_constants, Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

/// `x * weight + bias` per element with constants broadcast to the input's shape; `weight`
/// is at the activation scale, so the product is rescaled, and `bias` at the product scale.
#[derive(Debug)]
pub struct Affine {
    weight: Constant,
    bias: Constant,
    /// Per-channel constants (BatchNormalization) broadcast along axis 1, not numpy-style.
    per_channel: bool,
    rescale: bool,
    relu: bool,
}

/// `x * c` or `x / c` for a constant `c` (broadcast). Division by integers `c` is exact
/// (`p = ±1`, `q = |c|`, through the division gadget): at most half a step off. Otherwise each
/// factor `w` (`c` or `1 / c`) is held to `2^-2s` in two parts, `w 2^2s ≈ p 2^s + p'` with
/// `|p'| <= 2^(s-1)`: `x p'` rescaled once is a value at `2^-2s`, small as `x` is, and `x p` plus
/// it rescaled once more is the output. Each rescale is the element gate's, so no step needs a
/// range beyond the values' own (a divisor of `2^2s` did, and failed at `2^-16`): at most half a
/// step, plus `2^-(s+1)` of one, plus `|x| 2^-(2s+1)` off. A factor that rounds to 0 even
/// there is refused by name rather than proved as 0. Under private parameters `c` is a
/// witness, so division uses the second form too (an integer divisor would sit in the key), and
/// each factor is two parameters, one per part.
#[derive(Debug)]
pub struct Scale {
    constant: Constant,
    /// The same values, numbered again: the parameters of the factors' low parts `p'`.
    low: Constant,
    divide: bool,
}

#[derive(Debug)]
pub struct Linear {
    pub(super) c0: i64,
    pub(super) c1: i64,
}

/// `Sum`: its operands added element-wise, broadcast numpy-style, in one dot product per
/// output; the constant operands, added together, are its bias.
#[derive(Debug)]
pub struct Sum {
    bias: Option<Constant>,
}

#[derive(Debug)]
pub struct Relu;

/// `2 relu(x) - x`.
#[derive(Debug)]
pub struct Abs;

/// Softsign, `x / (1 + |x|)`: `|x|` as Abs takes it, one more for the 1 (the bias of the same
/// dot row), and the division gadget, rounded once; the divisor is at least 1.
#[derive(Debug)]
pub struct Softsign;

/// `clip(alpha x + beta, 0, 1)`: the affine step with the lower bound as its ReLU, then the
/// upper bound as Clip takes it.
#[derive(Debug)]
pub struct HardSigmoid {
    affine: Affine,
    clip: Clip,
}

/// `x clip(x + 3, 0, 6) / 6`, which needs no constant off the grid: the exact sum and clip, a
/// product of computed values rescaled, and one rounded division by 6.
#[derive(Debug)]
pub struct HardSwish;

/// Floor (`ceil`: Ceil, `-floor(-x)`): [`whole_floors`], scaled back: exact.
#[derive(Debug)]
pub struct Floor {
    ceil: bool,
}

pub fn floor(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Floor { ceil: false }))
}

pub fn ceil(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Floor { ceil: true }))
}

/// `floor(sign x)` in whole units (not fixed point) per value: the element gate's rescale of
/// `sign x - 1/2`, which rounds half up, so the half cancels.
pub(super) fn whole_floors(arith: &mut dyn Arith, values: Vec<Wire>, sign: i64) -> Result<Vec<Wire>, Error> {
    let half = 1i64 << (arith.shape().scale_bits - 1);
    let shifted = arith.dot(values.into_iter().map(|v| Dot { inputs: vec![v], weights: vec![Coef::Const(sign)], bias: Coef::Const(-half) }).collect())?;
    arith.element(ElementOp { rescale: true, relu: false }, shifted.into_iter().map(|w| (w, None)).collect())
}

impl Op for Floor {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let one = 1i64 << arith.shape().scale_bits;
        let sign = if self.ceil { -1 } else { 1 };
        let floors = whole_floors(arith, x.data.clone(), sign)?;
        let out = arith.dot(floors.into_iter().map(|f| Dot { inputs: vec![f], weights: vec![Coef::Const(sign * one)], bias: Coef::Const(0) }).collect())?;
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|v| if self.ceil { v.ceil() } else { v.floor() }))
    }
}

/// Truncation toward zero, `floor(relu(x)) - floor(relu(-x))`: each floor [`whole_floors`],
/// scaled back.
#[derive(Debug)]
pub struct Truncate;

#[derive(Debug)]
pub struct Clip {
    min: Option<f32>,
    max: Option<f32>,
}

/// `a + b`, `a - b` with at most one constant operand, which is a parameter (a bias).
fn add_sub(ctx: &NodeCtx, sign: f32) -> Result<Box<dyn Op>, String> {
    let affine = |weight: f32, bias: Constant| Affine { weight: Constant::scalar(weight), bias, per_channel: false, rescale: false, relu: false };
    let (weight, added) = match (ctx.constant(0), ctx.constant(1)) {
        (None, None) => return Ok(Box::new(Linear { c0: 1, c1: if sign > 0.0 { 1 } else { -1 } })),
        (None, Some(c)) => (1.0, c.map(|v| sign * v)),
        (Some(c), None) => (sign, c.clone()),
        (Some(_), Some(_)) => return Err("both operands are constants; constant-fold the model before export".into()),
    };
    if !added.data.contains(&f32::NEG_INFINITY) {
        return Ok(Box::new(affine(weight, ctx.param(added)?)));
    }
    // A float attention mask (torch's causal mask): -inf leaves an entry out of the softmax.
    let finite = added.map(|&v| if v == f32::NEG_INFINITY { 0.0 } else { v });
    Ok(Box::new(MaskedAdd { finite: affine(weight, ctx.param(finite)?), exact: affine(weight, Constant::fixed(added)), softmax: None }))
}

/// `x + c` with a constant `c` that masks entries with -inf (a float attention mask, as
/// nn.Transformer's causal mask is added to the scores), before a Softmax: the two are one op,
/// the softmax of the kept entries of `x + c`. A -inf that reaches anything else is refused.
#[derive(Debug)]
pub struct MaskedAdd {
    /// `x + c` with the -inf entries 0, for the quantized semantics, and with them, for the float.
    finite: Affine,
    exact: Affine,
    softmax: Option<super::nonlinear::Softmax>,
}

impl Op for MaskedAdd {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        self.exact.output_shape(inputs)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let Some(softmax) = &self.softmax else {
            return Err(Error::Shape("a constant operand holds -inf, which fixed point cannot hold; only a Softmax right after the Add can take it (as a mask)".into()));
        };
        let at = self.exact.indices(&inputs[0].shape).map_err(Error::Shape)?;
        let kept: Vec<bool> = at.bias.iter().map(|&i| self.exact.bias.values.data[i] != f32::NEG_INFINITY).collect();
        let sums = self.finite.apply(arith, inputs)?;
        softmax.masked(arith, &sums, Some(&kept))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let sums = self.exact.eval_float(inputs)?;
        match &self.softmax {
            Some(softmax) => softmax.eval_float(&[&sums]),
            None => Ok(sums),
        }
    }

    fn absorb(&mut self, epilogue: &Epilogue, _: &[usize]) -> bool {
        match epilogue {
            Epilogue::Softmax(axis) => self.softmax = Some(super::nonlinear::Softmax { axis: *axis }),
            _ => return false,
        }
        true
    }

    fn functions(&self) -> u32 {
        self.softmax.as_ref().map_or(0, |s| s.functions())
    }
}

/// `x * weight + bias` with constants broadcast numpy-style (scikit-learn's Scaler).
pub(super) fn affine(weight: Constant, bias: Constant) -> Box<dyn Op> {
    Box::new(Affine { weight, bias, per_channel: false, rescale: true, relu: false })
}

pub fn add(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    add_sub(ctx, 1.0)
}

pub fn sub(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    add_sub(ctx, -1.0)
}

/// A product with a constant that the activation scale holds exactly is an [`Affine`] (one
/// rescale); any other product, and every division by a constant, is a [`Scale`].
fn scaled(ctx: &NodeCtx, reciprocal: bool) -> Result<Box<dyn Op>, String> {
    let c = match (ctx.constant(0), ctx.constant(1)) {
        (None, Some(c)) => c,
        (Some(c), None) if !reciprocal => c,
        (None, None) if !reciprocal => return Ok(Box::new(super::product::Product { terms: 1 })),
        (None, None) => return Ok(Box::new(super::product::Quotient)),
        (Some(_), Some(_)) => return Err("both operands are constants; constant-fold the model before export".into()),
        // The numerator sits in the verifying key (a constant cell), as an op's own constants do.
        (Some(c), None) => return Ok(Box::new(super::product::ConstantOver { numerator: Constant::fixed(c.clone()) })),
    };
    if reciprocal && c.data.contains(&0.0) {
        return Err("division by a constant zero".into());
    }
    let step = (1u64 << ctx.scale_bits) as f64;
    if !reciprocal && c.data.iter().all(|&v| (v as f64 * step).fract() == 0.0) {
        return Ok(Box::new(Affine { weight: ctx.param(c.clone())?, bias: Constant::scalar(0.0), per_channel: false, rescale: true, relu: false }));
    }
    Ok(Box::new(Scale { constant: ctx.param(c.clone())?, low: ctx.param(c.clone())?, divide: reciprocal }))
}

pub fn sum(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let constants: Vec<&Tensor<f32>> = (0..ctx.node.inputs.len()).filter_map(|i| ctx.constant(i)).collect();
    if constants.len() == ctx.node.inputs.len() {
        return Err("every operand is a constant; constant-fold the model before export".into());
    }
    let bias = match constants.is_empty() {
        true => None,
        false => {
            let shapes: Vec<&[usize]> = constants.iter().map(|c| c.shape.as_slice()).collect();
            let shape = crate::tensor::broadcast_shape(&shapes)?;
            let mut total = vec![0.0f32; shape.iter().product()];
            for c in &constants {
                for (t, &i) in total.iter_mut().zip(&broadcast(&c.shape, &shape)?) {
                    *t += c.data[i];
                }
            }
            Some(ctx.param(Tensor::new(shape, total))?)
        }
    };
    Ok(Box::new(Sum { bias }))
}

impl Sum {
    /// The output shape, and per operand (the bias last) the index it reads for each output.
    fn indices(&self, inputs: &[&[usize]]) -> Result<(Vec<usize>, Vec<Vec<usize>>), String> {
        let shapes: Vec<&[usize]> = inputs.iter().copied().chain(self.bias.as_ref().map(|b| b.values.shape.as_slice())).collect();
        super::broadcast_all(&shapes)
    }
}

impl Op for Sum {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.indices(inputs)?.0)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, indices) = self.indices(&shapes).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let dots = (0..shape.iter().product())
            .map(|o| Dot {
                inputs: inputs.iter().zip(&indices).map(|(t, index)| t.data[index[o]].clone()).collect(),
                weights: vec![Coef::Const(1); inputs.len()],
                bias: self.bias.as_ref().map_or(Coef::Const(0), |b| b.coef(indices[inputs.len()][o], bits)),
            })
            .collect();
        Ok(Tensor::new(shape, arith.dot(dots)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, indices) = self.indices(&shapes).map_err(Error::Shape)?;
        let out = (0..shape.iter().product())
            .map(|o| inputs.iter().zip(&indices).map(|(t, index)| t.data[index[o]]).sum::<f32>() + self.bias.as_ref().map_or(0.0, |b| b.values.data[indices[inputs.len()][o]]))
            .collect();
        Ok(Tensor::new(shape, out))
    }
}

pub fn mul(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    scaled(ctx, false)
}

pub fn div(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    scaled(ctx, true)
}

/// The per-channel `(a, b)` with `y = a x + b` of inference-mode BatchNormalization.
fn batch_norm_affine(ctx: &NodeCtx) -> Result<(Tensor<f32>, Tensor<f32>), String> {
    if ctx.int("training_mode", 0)? != 0 {
        return Err("training_mode = 1 normalizes by the batch's own statistics; export the model in inference mode (model.eval())".into());
    }
    let eps = ctx.float("epsilon", 1e-5)?;
    let [gamma, beta, mean, var] = [1, 2, 3, 4].map(|i| ctx.require_constant(i, ["", "scale", "B", "mean", "var"][i]));
    let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
    let c = gamma.len();
    if [beta.len(), mean.len(), var.len()].iter().any(|&l| l != c) {
        return Err("scale, B, mean and var must have one value per channel".into());
    }
    let a: Vec<f32> = (0..c).map(|i| gamma.data[i] / (var.data[i] + eps).sqrt()).collect();
    let b: Vec<f32> = (0..c).map(|i| beta.data[i] - a[i] * mean.data[i]).collect();
    Ok((Tensor::new(vec![c], a), Tensor::new(vec![c], b)))
}

/// Inference-mode batch normalization: `gamma (x - mean) / sqrt(var + eps) + beta` per
/// channel. Compilation folds it into a preceding Conv or Gemm when it can; this is the
/// stand-alone form.
pub fn batch_norm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let (a, b) = batch_norm_affine(ctx)?;
    Ok(Box::new(Affine { weight: ctx.param(a)?, bias: ctx.param(b)?, per_channel: true, rescale: true, relu: false }))
}

pub fn relu(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Relu))
}

pub fn neg(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Affine { weight: Constant::scalar(-1.0), bias: Constant::scalar(0.0), per_channel: false, rescale: false, relu: false }))
}

pub fn abs(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Abs))
}

pub fn hard_sigmoid(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let (alpha, beta) = (ctx.float("alpha", 0.2)?, ctx.float("beta", 0.5)?);
    let affine = Affine { weight: Constant::scalar(alpha), bias: Constant::scalar(beta), per_channel: false, rescale: true, relu: true };
    Ok(Box::new(HardSigmoid { affine, clip: Clip { min: None, max: Some(1.0) } }))
}

pub fn hard_swish(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(HardSwish))
}

pub fn clip(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if let Some(op) = super::extremum::computed_clip(ctx)? {
        return Ok(op);
    }
    let bound = |attr: &str, input: usize| -> Result<Option<f32>, String> {
        let v = match ctx.constant(input) {
            Some(t) if t.data.len() == 1 => Some(t.data[0]),
            Some(_) => return Err(format!("{attr} must be a scalar")),
            None => ctx.node.attributes.contains_key(attr).then(|| ctx.float(attr, 0.0)).transpose()?,
        };
        Ok(v.filter(|v| v.is_finite() && v.abs() < 1e30))
    };
    Ok(Box::new(Clip { min: bound("min", 1)?, max: bound("max", 2)? }))
}

/// Which entries each output of an [`Affine`] reads: its shape, and per output the input's,
/// the weight's and the bias's entry.
struct AffineIndices {
    shape: Vec<usize>,
    x: Vec<usize>,
    weight: Vec<usize>,
    bias: Vec<usize>,
}

impl Affine {
    /// For an input of shape `shape`: numpy's broadcast of the input, the weight and the bias
    /// (a constant of more axes than the input widens the output, as a bias `[1, 1, n]` added to
    /// `[1, n]` does), or the input's own shape per channel.
    fn indices(&self, shape: &[usize]) -> Result<AffineIndices, String> {
        if self.per_channel {
            let channels = self.weight.values.len();
            if shape.len() < 2 || shape[1] != channels {
                return Err(format!("input {shape:?} does not have {channels} channels on axis 1"));
            }
            let inner: usize = shape[2..].iter().product();
            let index: Vec<usize> = (0..shape.iter().product()).map(|i| (i / inner) % channels).collect();
            let x = (0..index.len()).collect();
            Ok(AffineIndices { shape: shape.to_vec(), x, weight: index.clone(), bias: index })
        } else {
            let out = crate::tensor::broadcast_shape(&[shape, &self.weight.values.shape, &self.bias.values.shape])?;
            Ok(AffineIndices { x: broadcast(shape, &out)?, weight: broadcast(&self.weight.values.shape, &out)?, bias: broadcast(&self.bias.values.shape, &out)?, shape: out })
        }
    }
}

impl Op for Affine {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.indices(inputs[0])?.shape)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let at = self.indices(&x.shape).map_err(Error::Shape)?;
        let s = arith.shape().scale_bits;
        let (weight_bits, bias_bits) = if self.rescale { (s, 2 * s) } else { (0, s) };
        let products = (0..at.x.len())
            .map(|i| Dot { inputs: vec![x.data[at.x[i]].clone()], weights: vec![self.weight.coef(at.weight[i], weight_bits)], bias: self.bias.coef(at.bias[i], bias_bits) })
            .collect();
        let mut out = arith.dot(products)?;
        if self.rescale || self.relu {
            let op = ElementOp { rescale: self.rescale, relu: self.relu };
            out = arith.element(op, out.into_iter().map(|v| (v, None)).collect())?;
        }
        Ok(Tensor::new(at.shape, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let at = self.indices(&x.shape).map_err(Error::Shape)?;
        let (w, b) = (&self.weight.values.data, &self.bias.values.data);
        let out = (0..at.x.len()).map(|i| {
            let y = x.data[at.x[i]] as f64 * w[at.weight[i]] as f64 + b[at.bias[i]] as f64;
            (if self.relu { y.max(0.0) } else { y }) as f32
        });
        Ok(Tensor::new(at.shape, out.collect()))
    }

    fn epilogue(&self) -> Option<Epilogue<'_>> {
        if self.per_channel {
            return (!self.relu).then_some(Epilogue::ChannelAffine { scale: &self.weight, shift: &self.bias });
        }
        // `x + c`, as an Add of a constant is built.
        let added = !self.rescale && !self.relu && self.weight.values.data == [1.0];
        added.then_some(Epilogue::Bias(&self.bias))
    }

    fn absorb(&mut self, epilogue: &Epilogue, _: &[usize]) -> bool {
        match epilogue {
            Epilogue::Relu => self.relu = true,
            Epilogue::ChannelAffine { .. } | Epilogue::MaxPool(_) | Epilogue::Softmax(_) | Epilogue::Bias(_) => return false,
        }
        true
    }
}

impl Scale {
    fn factor(&self, c: f32) -> f64 {
        if self.divide {
            1.0 / c as f64
        } else {
            c as f64
        }
    }
}

impl Op for Scale {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        broadcast(&self.constant.values.shape, inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let index = broadcast(&self.constant.values.shape, &x.shape).map_err(Error::Shape)?;
        let shape = arith.shape();
        let values = &self.constant.values.data;
        let whole = |c: f32| c.fract() == 0.0 && (c.abs() as i64).checked_mul(1 << shape.scale_bits).is_some_and(|d| d <= shape.bound());
        if self.divide && !shape.private_params && values.iter().all(|&c| whole(c)) {
            let products = x.data.iter().zip(&index).map(|(x, &j)| Dot { inputs: vec![x.clone()], weights: vec![Coef::Const(values[j].signum() as i64)], bias: Coef::Const(0) });
            let n = arith.dot(products.collect())?;
            let divisors = index.iter().map(|&j| values[j].abs() as i64);
            return Ok(Tensor::new(x.shape.clone(), divide_by_constants(arith, n.into_iter().zip(divisors).collect())?));
        }
        let one = (1u64 << shape.scale_bits) as f64;
        let (mut high, mut low) = (Vec::with_capacity(x.len()), Vec::with_capacity(x.len()));
        for (x, &j) in x.data.iter().zip(&index) {
            let (c, w) = (values[j], self.factor(values[j]));
            let p = (w * one).round();
            let p_low = ((w * one - p) * one).round();
            if (p == 0.0 && p_low == 0.0 && w != 0.0) || !p.is_finite() || p.abs() >= (1u64 << 62) as f64 {
                return Err(Error::Range(format!(
                    "{} {c}: the factor {w} is beyond what 2^-{} steps hold; rescale the model's constants or compile with other --scale",
                    if self.divide { "dividing by" } else { "multiplying by" },
                    2 * shape.scale_bits
                )));
            }
            high.push((x.clone(), self.constant.coef_with(j, p as i64)));
            low.push(Dot { inputs: vec![x.clone()], weights: vec![self.low.coef_with(j, p_low as i64)], bias: Coef::Const(0) });
        }
        let rescale = ElementOp { rescale: true, relu: false };
        let sums = match low.iter().all(|d| d.weights[0].value() == 0) {
            true => high.into_iter().map(|(x, p)| Dot { inputs: vec![x], weights: vec![p], bias: Coef::Const(0) }).collect(),
            false => {
                let low = arith.dot(low)?;
                let low = arith.element(rescale, low.into_iter().map(|v| (v, None)).collect())?;
                high.into_iter().zip(low).map(|((x, p), l)| Dot { inputs: vec![x, l], weights: vec![p, Coef::Const(1)], bias: Coef::Const(0) }).collect()
            }
        };
        let sums = arith.dot(sums)?;
        Ok(Tensor::new(x.shape.clone(), arith.element(rescale, sums.into_iter().map(|v| (v, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let index = broadcast(&self.constant.values.shape, &x.shape).map_err(Error::Shape)?;
        let out = x.data.iter().zip(&index).map(|(v, &j)| (*v as f64 * self.factor(self.constant.values.data[j])) as f32);
        Ok(Tensor::new(x.shape.clone(), out.collect()))
    }
}

/// Numpy broadcasting between the two operands (a row minus its mean).
impl Op for Linear {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        crate::tensor::broadcast_shape(&[inputs[0], inputs[1]])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let pairs = super::product::elementwise(inputs[0], inputs[1])?;
        let items = pairs.data.into_iter().map(|(a, b)| (a, self.c0, b, self.c1)).collect();
        Ok(Tensor::new(pairs.shape, arith.linear(items)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(super::product::elementwise(inputs[0], inputs[1])?.map(|(a, b)| self.c0 as f32 * a + self.c1 as f32 * b))
    }
}

impl Op for HardSigmoid {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let y = self.affine.apply(arith, inputs)?;
        self.clip.apply(arith, &[&y])
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let (alpha, beta) = (self.affine.weight.values.data[0], self.affine.bias.values.data[0]);
        Ok(inputs[0].map(|&x| (alpha * x + beta).clamp(0.0, 1.0)))
    }
}

impl Op for HardSwish {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let three = super::quantize(3.0, arith.shape().scale_bits);
        let shifted = arith.dot(x.data.iter().map(|v| Dot { inputs: vec![v.clone()], weights: vec![Coef::Const(1)], bias: Coef::Const(three) }).collect())?;
        let gate = Clip { min: Some(0.0), max: Some(6.0) }.apply(arith, &[&Tensor::new(x.shape.clone(), shifted)])?;
        let products = arith.products(x.data.iter().zip(gate.data).map(|(a, b)| vec![(a.clone(), b)]).collect())?;
        let products = arith.element(ElementOp { rescale: true, relu: false }, products.into_iter().map(|p| (p, None)).collect())?;
        Ok(Tensor::new(x.shape.clone(), divide_by_constants(arith, products.into_iter().map(|p| (p, 6)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| x * (x + 3.0).clamp(0.0, 6.0) / 6.0))
    }

    fn uses_products(&self) -> bool {
        true
    }
}

impl Op for Abs {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let relu = arith.element(ElementOp { rescale: false, relu: true }, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        let out = arith.linear(relu.into_iter().zip(&x.data).map(|(r, v)| (r, 2, v.clone(), -1)).collect())?;
        // Magnitudes, which the intervals of `2 relu(x) - x` do not show.
        Ok(Tensor::new(x.shape.clone(), arith.assume(out, 0, i64::MAX)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|x| x.abs()))
    }
}

pub fn softsign(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Softsign))
}

impl Op for Softsign {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let one = 1i64 << arith.shape().scale_bits;
        let relu = arith.element(ElementOp { rescale: false, relu: true }, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        let divisors = relu.into_iter().zip(&x.data).map(|(r, v)| Dot { inputs: vec![r, v.clone()], weights: vec![Coef::Const(2), Coef::Const(-1)], bias: Coef::Const(one) });
        let divisors = arith.dot(divisors.collect())?;
        // 1 + |x|, which the intervals of `2 relu(x) - x + 1` do not show.
        let divisors = arith.assume(divisors, one, i64::MAX)?;
        // The quotient's magnitude stays below 1.
        Ok(Tensor::new(x.shape.clone(), arith.divide(x.data.iter().cloned().zip(divisors).collect(), Some(one))?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|x| x / (1.0 + x.abs())))
    }
}

impl Op for Relu {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn epilogue(&self) -> Option<Epilogue<'_>> {
        Some(Epilogue::Relu)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let out = arith.element(ElementOp { rescale: false, relu: true }, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|v| v.max(0.0)))
    }
}

impl Op for Truncate {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let one = 1i64 << arith.shape().scale_bits;
        let relu = ElementOp { rescale: false, relu: true };
        let positive = arith.element(relu, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        // relu(-x) = relu(x) - x.
        let negative = arith.dot(
            positive.iter().zip(&x.data).map(|(p, v)| Dot { inputs: vec![p.clone(), v.clone()], weights: vec![Coef::Const(1), Coef::Const(-1)], bias: Coef::Const(0) }).collect(),
        )?;
        let (up, down) = (whole_floors(arith, positive, 1)?, whole_floors(arith, negative, 1)?);
        let out =
            arith.dot(up.into_iter().zip(down).map(|(u, d)| Dot { inputs: vec![u, d], weights: vec![Coef::Const(one), Coef::Const(-one)], bias: Coef::Const(0) }).collect())?;
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|v| v.trunc()))
    }
}

impl Clip {
    /// `[lo, hi]`, for ops that clip their own values (a recurrent layer's gates).
    pub(super) fn between(lo: f32, hi: f32) -> Self {
        Clip { min: Some(lo), max: Some(hi) }
    }
}

impl Op for Clip {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    /// `max(x, lo) = lo + relu(x - lo)` and `min(y, hi) = hi - relu(hi - y)`.
    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let bits = arith.shape().scale_bits;
        let mut y = x.data.clone();
        let relu = ElementOp { rescale: false, relu: true };
        for (bound, sign) in [(self.min, 1), (self.max, -1)] {
            if let Some(c) = bound {
                let c = super::quantize(c, bits);
                let shift = |v: Vec<Wire>, arith: &mut dyn Arith| {
                    arith.dot(v.into_iter().map(|w| Dot { inputs: vec![w], weights: vec![Coef::Const(sign)], bias: Coef::Const(-sign * c) }).collect())
                };
                let d = shift(y, arith)?;
                let r = arith.element(relu, d.into_iter().map(|v| (v, None)).collect())?;
                y = arith.dot(r.into_iter().map(|w| Dot { inputs: vec![w], weights: vec![Coef::Const(sign)], bias: Coef::Const(c) }).collect())?;
            }
        }
        Ok(Tensor::new(x.shape.clone(), y))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&v| {
            let v = self.min.map_or(v, |lo| v.max(lo));
            self.max.map_or(v, |hi| v.min(hi))
        }))
    }
}
