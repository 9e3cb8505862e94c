//! Nonlinear ops. Sigmoid, Tanh and Erf are table lookups (and Elu, Selu and Celu Exp of
//! `min(x, 0)` beside `relu(x)`, Softplus and Mish `log(1 + e^-|x|)` beside it); Softmax
//! subtracts each lane's maximum (so Exp's inputs are at most 0), sums the exponentials and
//! divides; LeakyRelu and PRelu are `relu(x) + slope * (x - relu(x))`; ArgMax marks where each
//! lane reaches its maximum and counts the positions before the first mark.

use super::{axis as axis_of, broadcast, quantize, Constant, Epilogue, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::{strides, Tensor};
use crate::Error;
use zkinfer_circuits::gadgets::{ElementOp, Function};

const RELU: ElementOp = ElementOp { rescale: false, relu: true };

#[derive(Debug)]
pub struct Lookup {
    function: Function,
    /// The input is sums at the products' scale (see `Model::defer_rescales`).
    sums: bool,
}

#[derive(Debug)]
pub struct Softmax {
    pub(super) axis: i64,
}

/// LeakyRelu (one slope, a constant of the op) and PRelu (slopes that are parameters,
/// broadcast to the input).
#[derive(Debug)]
pub struct Leaky {
    slope: Constant,
}

#[derive(Debug)]
pub struct ArgMax {
    axis: i64,
    keepdims: bool,
    /// `select_last_index`: ties go to the last maximum instead of the first.
    last: bool,
    /// ArgMin: the maximum of the negated values.
    min: bool,
}

/// A table function applied element-wise: Sigmoid, Tanh and Erf, and inside ops built from others.
pub(super) fn lookup(function: Function) -> Box<dyn Op> {
    Box::new(Lookup { function, sums: false })
}

pub(super) fn softmax_along(axis: i64) -> Box<dyn Op> {
    Box::new(Softmax { axis })
}

pub(super) fn argmax_along(axis: i64) -> Box<dyn Op> {
    Box::new(ArgMax { axis, keepdims: false, last: false, min: false })
}

pub fn sigmoid(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(lookup(Function::Sigmoid))
}

pub fn tanh(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(lookup(Function::Tanh))
}

/// The error function, GELU's: `x * (1 + erf(x / sqrt 2)) / 2` as exporters write it.
pub fn erf(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(lookup(Function::Erf))
}

/// GELU, `x Phi(x)` (opset 20's Gelu): the gate `Phi`, or its tanh form for `approximate =
/// "tanh"`, by one lookup, times `x`, a product of computed values, rescaled once: within a
/// step plus `|x|` times the table's error (half a step of `Phi`).
#[derive(Debug)]
pub struct Gelu {
    gate: Function,
}

pub fn gelu(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let gate = match ctx.string("approximate")?.as_deref() {
        None | Some("none") => Function::NormalCdf,
        Some("tanh") => Function::NormalCdfTanh,
        Some(other) => return Err(format!("approximate = '{other}': Gelu knows 'none' and 'tanh'")),
    };
    Ok(Box::new(Gelu { gate }))
}

impl Op for Gelu {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let gates = arith.function(self.gate, x.data.clone())?;
        let products = arith.products(x.data.iter().zip(gates).map(|(a, g)| vec![(a.clone(), g)]).collect())?;
        Ok(Tensor::new(x.shape.clone(), arith.element(ElementOp { rescale: true, relu: false }, products.into_iter().map(|p| (p, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| (x as f64 * self.gate.eval(x as f64)) as f32))
    }

    fn functions(&self) -> u32 {
        self.gate.bit()
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// `softplus(x) = relu(x) + log(1 + e^-|x|)`, the second part by table (it lies between 0 and
/// `ln 2`, where softplus grows without limit); Mish is `x tanh(softplus(x))`, one more lookup
/// and a product of computed values.
#[derive(Debug)]
pub struct Softplus {
    mish: bool,
}

pub fn softplus(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Softplus { mish: false }))
}

pub fn mish(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Softplus { mish: true }))
}

impl Op for Softplus {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let positive = arith.element(RELU, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        let tails = arith.function(Function::SoftplusTail, x.data.clone())?;
        let softplus = arith.linear(positive.into_iter().zip(tails).map(|(r, t)| (r, 1, t, 1)).collect())?;
        if !self.mish {
            return Ok(Tensor::new(x.shape.clone(), softplus));
        }
        let gates = arith.function(Function::Tanh, softplus)?;
        let products = arith.products(x.data.iter().zip(gates).map(|(a, g)| vec![(a.clone(), g)]).collect())?;
        Ok(Tensor::new(x.shape.clone(), arith.element(ElementOp { rescale: true, relu: false }, products.into_iter().map(|p| (p, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| {
            let x = x as f64;
            let softplus = x.max(0.0) + Function::SoftplusTail.eval(x);
            (if self.mish { x * Function::Tanh.eval(softplus) } else { softplus }) as f32
        }))
    }

    fn functions(&self) -> u32 {
        Function::SoftplusTail.bit() | if self.mish { Function::Tanh.bit() } else { 0 }
    }

    fn uses_products(&self) -> bool {
        self.mish
    }
}

/// `a relu(x) + b exp(inner min(x, 0)) + c`: Elu (`a = 1, b = alpha, c = -alpha`), Selu
/// (`gamma` times Elu's) and Celu (`inner = 1 / alpha`). `min(x, 0) = x - relu(x)` is at most
/// 0, inside Exp's table; one rescale at the end.
#[derive(Debug)]
pub struct ExpLinear {
    a: f32,
    b: f32,
    c: f32,
    inner: f32,
}

pub fn elu(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    Ok(Box::new(ExpLinear { a: 1.0, b: alpha, c: -alpha, inner: 1.0 }))
}

pub fn selu(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let (alpha, gamma) = (ctx.float("alpha", 1.673_263_2)?, ctx.float("gamma", 1.050_701)?);
    Ok(Box::new(ExpLinear { a: gamma, b: gamma * alpha, c: -gamma * alpha, inner: 1.0 }))
}

pub fn celu(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(format!("alpha {alpha} is not positive"));
    }
    Ok(Box::new(ExpLinear { a: 1.0, b: alpha, c: -alpha, inner: 1.0 / alpha }))
}

impl Op for ExpLinear {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let rescale = ElementOp { rescale: true, relu: false };
        let positive = arith.element(RELU, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        let negative = arith.linear(x.data.iter().zip(&positive).map(|(v, r)| (v.clone(), 1, r.clone(), -1)).collect())?;
        let negative = match self.inner {
            1.0 => negative,
            inner => {
                let scaled = arith.dot(negative.into_iter().map(|v| Dot { inputs: vec![v], weights: vec![Coef::Const(quantize(inner, s))], bias: Coef::Const(0) }).collect())?;
                arith.element(rescale, scaled.into_iter().map(|v| (v, None)).collect())?
            }
        };
        // `x - relu(x)` is at most 0, which the intervals of the difference do not show.
        let negative = arith.assume(negative, i64::MIN, 0)?;
        let exps = arith.function(Function::Exp, negative)?;
        let (a, b, c) = (quantize(self.a, s), quantize(self.b, s), quantize(self.c, 2 * s));
        let sums = positive.into_iter().zip(exps).map(|(r, e)| Dot { inputs: vec![r, e], weights: vec![Coef::Const(a), Coef::Const(b)], bias: Coef::Const(c) });
        let sums = arith.dot(sums.collect())?;
        Ok(Tensor::new(x.shape.clone(), arith.element(rescale, sums.into_iter().map(|v| (v, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let (a, b, c, inner) = (self.a as f64, self.b as f64, self.c as f64, self.inner as f64);
        Ok(inputs[0].map(|&x| {
            let x = x as f64;
            (a * x.max(0.0) + b * (inner * x.min(0.0)).exp() + c) as f32
        }))
    }

    fn functions(&self) -> u32 {
        Function::Exp.bit()
    }
}

/// Opset 13's Softmax along one axis (earlier opsets flatten from `axis` on, which is the
/// same for the usual `[1, N]` input).
pub fn softmax(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Softmax { axis: ctx.int("axis", -1)? }))
}

pub fn leaky_relu(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Leaky { slope: Constant::scalar(ctx.float("alpha", 0.01)?) }))
}

pub fn prelu(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Leaky { slope: ctx.param(ctx.require_constant(1, "slope")?.clone())? }))
}

pub fn argmax(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(ArgMax { axis: ctx.int("axis", 0)?, keepdims: ctx.int("keepdims", 1)? != 0, last: ctx.int("select_last_index", 0)? != 0, min: false }))
}

pub fn argmin(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(ArgMax { axis: ctx.int("axis", 0)?, keepdims: ctx.int("keepdims", 1)? != 0, last: ctx.int("select_last_index", 0)? != 0, min: true }))
}

/// The flat indices of every lane along `axis`, each in order along it; lanes come in the
/// row-major order of the other dimensions.
pub(super) fn lanes(shape: &[usize], axis: usize) -> Vec<Vec<usize>> {
    let stride = strides(shape)[axis];
    let n = shape[axis];
    (0..shape.iter().product::<usize>()).filter(|i| (i / stride).is_multiple_of(n)).map(|i| (0..n).map(|k| i + k * stride).collect()).collect()
}

/// Each lane's maximum, `m + relu(x - m)`, one position at a time for all lanes at once.
pub(super) fn lane_maxima(arith: &mut dyn Arith, lanes: &[Vec<Wire>]) -> Result<Vec<Wire>, Error> {
    let mut best: Vec<Wire> = lanes.iter().map(|l| l[0].clone()).collect();
    // Lanes may differ in length (a masked softmax's): step k takes those longer than k.
    for k in 1..lanes.iter().map(Vec::len).max().unwrap_or(0) {
        let longer: Vec<usize> = (0..lanes.len()).filter(|&i| lanes[i].len() > k).collect();
        let maxima = arith.element(RELU, longer.iter().map(|&i| (lanes[i][k].clone(), Some(best[i].clone()))).collect())?;
        longer.into_iter().zip(maxima).for_each(|(i, m)| best[i] = m);
    }
    Ok(best)
}

/// Each lane's maximum, and `seen[k]`: 1 where the lane's first maximum is at or before position
/// `k`, else 0. Every lane has the same length `n`, at least 1.
pub(super) fn first_maxima(arith: &mut dyn Arith, values: &[Vec<Wire>], n: usize) -> Result<(Vec<Wire>, Vec<Vec<Wire>>), Error> {
    let maxima = lane_maxima(arith, values)?;
    let gaps = values
        .iter()
        .zip(&maxima)
        .flat_map(|(l, m)| l.iter().map(|v| Dot { inputs: vec![v.clone(), m.clone()], weights: vec![Coef::Const(1), Coef::Const(-1)], bias: Coef::Const(1) }));
    let gaps = arith.dot(gaps.collect())?;
    let at_max = arith.element(RELU, gaps.into_iter().map(|g| (g, None)).collect())?;
    // Values are integers at most their lane's maximum: `relu(x - m + 1)` is 1 exactly at a
    // maximum, 0 elsewhere, which the intervals of the difference do not show.
    let at_max = arith.assume(at_max, 0, 1)?;
    let mut seen: Vec<Vec<Wire>> = at_max.chunks(n).map(|l| vec![l[0].clone()]).collect();
    for k in 1..n {
        let items = at_max.chunks(n).zip(&seen).map(|(l, s)| (l[k].clone(), Some(s[k - 1].clone()))).collect();
        for (s, v) in seen.iter_mut().zip(arith.element(RELU, items)?) {
            s.push(v);
        }
    }
    Ok((maxima, seen))
}

impl Op for Lookup {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let y = if self.sums { arith.function_of_sums(self.function, x.data.clone())? } else { arith.function(self.function, x.data.clone())? };
        Ok(Tensor::new(x.shape.clone(), y))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| self.function.eval(x as f64) as f32))
    }

    fn functions(&self) -> u32 {
        self.function.bit()
    }

    fn reads_sums(&mut self) -> Option<&mut bool> {
        Some(&mut self.sums)
    }
}

impl Softmax {
    /// The softmax of `x`, leaving out the entries that `kept` marks false (a mask's -inf, whose
    /// exponential is 0): they are 0, and the others' shares are of the kept entries' sum.
    pub(super) fn masked(&self, arith: &mut dyn Arith, x: &Tensor<Wire>, kept: Option<&[bool]>) -> Result<Tensor<Wire>, Error> {
        let axis = axis_of(self.axis, x.shape.len()).map_err(Error::Shape)?;
        let lanes: Vec<Vec<usize>> = lanes(&x.shape, axis).into_iter().map(|l| l.into_iter().filter(|&i| kept.is_none_or(|k| k[i])).collect()).collect();
        if lanes.iter().any(Vec::is_empty) {
            return Err(Error::Shape("a softmax lane is masked entirely (its float output is NaN)".into()));
        }
        let values: Vec<Vec<Wire>> = lanes.iter().map(|l| l.iter().map(|&i| x.data[i].clone()).collect()).collect();
        let ShiftedExps { exps, sums, .. } = shifted_exps(arith, &values)?;
        let shares = exps.iter().zip(&sums).flat_map(|(e, s)| e.iter().map(move |v| (v.clone(), s.clone()))).collect();
        // Each exponential's share of the lane's sum: at most 1.
        let mut shares = arith.divide(shares, Some((1 << arith.shape().scale_bits) + 1))?.into_iter();
        let mut data = match kept {
            Some(_) => vec![arith.constant(0)?; x.len()],
            None => x.data.clone(),
        };
        for lane in &lanes {
            lane.iter().zip(shares.by_ref()).for_each(|(&i, v)| data[i] = v);
        }
        Ok(Tensor::new(x.shape.clone(), data))
    }
}

/// Per lane, its values less the lane's maximum, their exponentials and the exponentials' sum.
pub(super) struct ShiftedExps {
    pub maxima: Vec<Wire>,
    pub shifted: Vec<Vec<Wire>>,
    pub exps: Vec<Vec<Wire>>,
    /// At least 1: the maximum's exponential is exactly 1 (0 is a sample of Exp's table).
    pub sums: Vec<Wire>,
}

/// The steps softmax and its logarithm share, for lanes of any lengths.
pub(super) fn shifted_exps(arith: &mut dyn Arith, values: &[Vec<Wire>]) -> Result<ShiftedExps, Error> {
    let maxima = lane_maxima(arith, values)?;
    let shifted = values.iter().zip(&maxima).flat_map(|(l, m)| l.iter().map(move |v| (v.clone(), 1, m.clone(), -1)));
    // Every value is at most its lane's maximum, which interval arithmetic cannot see.
    let shifted = arith.linear(shifted.collect())?;
    let shifted = arith.assume(shifted, i64::MIN, 0)?;
    let mut exps = arith.function(Function::Exp, shifted.clone())?.into_iter();
    let exps: Vec<Vec<Wire>> = values.iter().map(|l| exps.by_ref().take(l.len()).collect()).collect();
    let sums = arith.dot(exps.iter().map(|e| Dot { inputs: e.clone(), weights: vec![Coef::Const(1); e.len()], bias: Coef::Const(0) }).collect())?;
    let sums = arith.assume(sums, 1 << arith.shape().scale_bits, i64::MAX)?;
    let mut shifted = shifted.into_iter();
    let shifted = values.iter().map(|l| shifted.by_ref().take(l.len()).collect()).collect();
    Ok(ShiftedExps { maxima, shifted, exps, sums })
}

impl Op for Softmax {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        axis_of(self.axis, inputs[0].len())?;
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.masked(arith, inputs[0], None)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let axis = axis_of(self.axis, x.shape.len()).map_err(Error::Shape)?;
        let mut data = x.data.clone();
        for lane in lanes(&x.shape, axis) {
            let max = lane.iter().map(|&i| x.data[i] as f64).fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = lane.iter().map(|&i| (x.data[i] as f64 - max).exp()).collect();
            let sum: f64 = exps.iter().sum();
            lane.iter().zip(exps).for_each(|(&i, e)| data[i] = (e / sum) as f32);
        }
        Ok(Tensor::new(x.shape.clone(), data))
    }

    fn epilogue(&self) -> Option<Epilogue<'_>> {
        Some(Epilogue::Softmax(self.axis))
    }

    fn functions(&self) -> u32 {
        Function::Exp.bit()
    }
}

impl Op for Leaky {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        broadcast(&self.slope.values.shape, inputs[0])?;
        Ok(inputs[0].to_vec())
    }

    /// `(2^s relu(x) + a (x - relu(x))) / 2^s` with the slope `a` at scale `2^s`: exact for
    /// `x >= 0`, `a x` rounded once otherwise. The slope multiplies a cell of its own, so a
    /// PRelu slope is one coefficient, which private parameters can hold as a witness.
    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let slopes = broadcast(&self.slope.values.shape, &x.shape).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let positive = arith.element(RELU, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        let negative = arith.linear(x.data.iter().zip(&positive).map(|(x, p)| (x.clone(), 1, p.clone(), -1)).collect())?;
        let products = positive
            .into_iter()
            .zip(negative)
            .zip(&slopes)
            .map(|((p, n), &a)| Dot { inputs: vec![p, n], weights: vec![Coef::Const(1 << bits), self.slope.coef(a, bits)], bias: Coef::Const(0) })
            .collect();
        let sums = arith.dot(products)?;
        let out = arith.element(ElementOp { rescale: true, relu: false }, sums.into_iter().map(|s| (s, None)).collect())?;
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let slopes = broadcast(&self.slope.values.shape, &x.shape).map_err(Error::Shape)?;
        let out = x.data.iter().zip(slopes).map(|(&x, a)| if x < 0.0 { self.slope.values.data[a] * x } else { x });
        Ok(Tensor::new(x.shape.clone(), out.collect()))
    }
}

impl Op for ArgMax {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        let axis = axis_of(self.axis, s.len())?;
        if s[axis] == 0 {
            return Err(format!("axis {axis} of shape {s:?} is empty"));
        }
        Ok(s.iter().enumerate().filter_map(|(d, &n)| if d != axis { Some(n) } else { self.keepdims.then_some(1) }).collect())
    }

    /// The index comes out at the activation scale (`index * 2^s`), so it dequantizes to the
    /// index itself.
    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shape = self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let negated;
        let x = match self.min {
            false => inputs[0],
            true => {
                negated = Tensor::new(inputs[0].shape.clone(), super::negated(arith, inputs[0].data.clone())?);
                &negated
            }
        };
        let axis = axis_of(self.axis, x.shape.len()).map_err(Error::Shape)?;
        let n = x.shape[axis];
        // Ties go to the first maximum in the order scanned: reversed for the last one.
        let values: Vec<Vec<Wire>> = lanes(&x.shape, axis)
            .iter()
            .map(|l| {
                let mut lane: Vec<Wire> = l.iter().map(|&i| x.data[i].clone()).collect();
                if self.last {
                    lane.reverse();
                }
                lane
            })
            .collect();
        let (_, seen) = first_maxima(arith, &values, n)?;
        // The first maximum's position is the number of zeros in `seen`; scanned from the end,
        // its index is `n - 1` minus that.
        let one = 1i64 << arith.shape().scale_bits;
        let (weight, bias) = if self.last { (one, -one) } else { (-one, n as i64 * one) };
        let index = arith.dot(seen.into_iter().map(|s| Dot { weights: vec![Coef::Const(weight); n], inputs: s, bias: Coef::Const(bias) }).collect())?;
        Ok(Tensor::new(shape, index))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let axis = axis_of(self.axis, x.shape.len()).map_err(Error::Shape)?;
        let index = lanes(&x.shape, axis)
            .into_iter()
            .map(|lane| {
                let value = |i: usize| if self.min { -x.data[i] } else { x.data[i] };
                let best = lane.iter().map(|&i| value(i)).fold(f32::NEG_INFINITY, f32::max);
                let mut hits = (0..lane.len()).filter(|&k| value(lane[k]) == best);
                (if self.last { hits.next_back() } else { hits.next() }).unwrap_or(0) as f32
            })
            .collect();
        Ok(Tensor::new(shape, index))
    }
}
