//! Normalisations and the roots they take. Sqrt is the `sqrt` gadget: a witness root with its
//! two gaps range checked, exact to a step below. LayerNormalization over the last axes:
//! the rounded mean, the deviations (two bits finer than the scale), their squares' sum
//! (products of computed values), the variance rounded twice, `sqrt(variance + epsilon)` (a
//! quarter step below at most), each deviation divided by it (the division gadget, rounded
//! once) and the per-feature scale and bias in one rescale; InstanceNormalization and
//! GroupNormalization the same over groups of channels, with a scale and bias per channel. Pow takes the
//! exponents these need: 2 (a product), 0.5 (the root) and 1.

use super::{broadcast, quantize, Constant, NodeCtx, Op};
use crate::arith::{divide_by_constants, Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

const RESCALE: ElementOp = ElementOp { rescale: true, relu: false };

/// Bits beyond the scale at which LayerNormalization takes the deviations and the root.
const EXTRA: u32 = 2;

/// `sqrt(x)` per value, `x >= 0`.
#[derive(Debug)]
pub struct Sqrt;

/// `x * x` per value.
#[derive(Debug)]
pub struct Square;

/// `(x - mean) / sqrt(var + epsilon) * scale + bias` over each group of values; with
/// LayerNormalization's optional outputs, also the means and `1 / sqrt(var + epsilon)` (one
/// more division per group), each of the input's shape with the normalized axes 1.
#[derive(Debug)]
pub struct LayerNorm {
    groups: Grouping,
    /// The outputs the node names: 1 to 3.
    outputs: usize,
    /// At least one fixed-point step: a row of equal values divides by `sqrt(epsilon)`.
    epsilon: f32,
    scale: Constant,
    bias: Constant,
}

pub fn sqrt(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Sqrt))
}

pub fn pow(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let exponent = ctx.require_constant(1, "exponent")?;
    match exponent.data[..] {
        [2.0] => Ok(Box::new(Square)),
        [0.5] => Ok(Box::new(Sqrt)),
        [1.0] => super::shape::identity(ctx),
        [e] => super::exp_log::pow(ctx, e),
        _ => Err(format!("{} exponents, one per element: only one exponent is supported", exponent.data.len())),
    }
}

/// Which values a normalization takes together, and how its scale and bias apply.
#[derive(Debug)]
enum Grouping {
    /// LayerNormalization: the axes from this one on; scale and bias broadcast over them.
    Trailing(i64),
    /// InstanceNormalization (a group per channel) and GroupNormalization: axis 1's channels in
    /// this many groups, each with the axes after it; scale and bias per channel, or per group
    /// (GroupNormalization before opset 21).
    Channels(usize),
}

/// InstanceNormalization: each channel over the spatial axes, a scale and a bias per channel.
pub fn instance_norm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let scale = ctx.require_constant(1, "scale")?;
    channel_norm(ctx, scale.len(), scale.clone())
}

/// GroupNormalization: `num_groups` groups of axis 1's channels, each over its channels and
/// the spatial axes.
pub fn group_norm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let groups = ctx.int("num_groups", 0)?;
    if groups < 1 {
        return Err(format!("num_groups {groups} must be at least 1"));
    }
    channel_norm(ctx, groups as usize, ctx.require_constant(1, "scale")?.clone())
}

fn channel_norm(ctx: &NodeCtx, groups: usize, scale: Tensor<f32>) -> Result<Box<dyn Op>, String> {
    let bias = ctx.require_constant(2, "B")?.clone();
    let epsilon = ctx.float("epsilon", 1e-5)?;
    if !(epsilon.is_finite() && epsilon >= 0.0) {
        return Err(format!("epsilon {epsilon} is not a finite value of at least 0"));
    }
    if scale.len() != bias.len() {
        return Err(format!("scale has {} values and B {}: give one each per channel", scale.len(), bias.len()));
    }
    Ok(Box::new(LayerNorm { groups: Grouping::Channels(groups), outputs: 1, epsilon, scale: ctx.param(scale)?, bias: ctx.param(bias)? }))
}

pub fn layer_norm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let scale = ctx.param(ctx.require_constant(1, "scale")?.clone())?;
    let bias = match ctx.optional_constant(2, "B")? {
        Some(b) => ctx.param(b.clone())?,
        None => Constant::scalar(0.0),
    };
    let epsilon = ctx.float("epsilon", 1e-5)?;
    if !(epsilon.is_finite() && epsilon >= 0.0) {
        return Err(format!("epsilon {epsilon} is not a finite value of at least 0"));
    }
    let outputs = ctx.node.outputs.iter().rposition(|o| !o.is_empty()).map_or(1, |i| i + 1);
    Ok(Box::new(LayerNorm { groups: Grouping::Trailing(ctx.int("axis", -1)?), outputs, epsilon, scale, bias }))
}

impl Op for Sqrt {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        Ok(Tensor::new(x.shape.clone(), arith.sqrt(x.data.clone())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|x| x.sqrt()))
    }

    fn uses_products(&self) -> bool {
        true
    }
}

impl Op for Square {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let squares = arith.products(x.data.iter().map(|v| vec![(v.clone(), v.clone())]).collect())?;
        let squares = arith.assume(squares, 0, i64::MAX)?;
        Ok(Tensor::new(x.shape.clone(), arith.element(RESCALE, squares.into_iter().map(|s| (s, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|x| x * x))
    }

    fn uses_products(&self) -> bool {
        true
    }
}

impl LayerNorm {
    /// The first axis whose values a group takes (some of axis 1's channels, for a grouping of
    /// channels) and a group's size, for an input of shape `shape`.
    fn split(&self, shape: &[usize]) -> Result<(usize, usize), String> {
        let (axis, n) = match self.groups {
            Grouping::Trailing(axis) => {
                let rank = shape.len() as i64;
                let axis = if axis < 0 { axis + rank } else { axis };
                if !(0..rank).contains(&axis) {
                    return Err(format!("axis {axis} is out of range for rank {rank}"));
                }
                (axis as usize, shape[axis as usize..].iter().product())
            }
            Grouping::Channels(groups) => {
                if shape.len() < 2 || !shape[1].is_multiple_of(groups) {
                    return Err(format!("{groups} groups of the channels of shape {shape:?}: the channels (axis 1) must divide into them"));
                }
                (1, shape[1] / groups * shape[2..].iter().product::<usize>())
            }
        };
        if n == 0 {
            return Err("the normalized axes are empty".into());
        }
        Ok((axis, n))
    }

    /// The entries of the scale and the bias for each value of an input of shape `shape`.
    fn params(&self, shape: &[usize]) -> Result<(Vec<usize>, Vec<usize>), String> {
        let (axis, n) = self.split(shape)?;
        let len = shape.iter().product::<usize>();
        match self.groups {
            Grouping::Trailing(_) => {
                let inner = &shape[axis..];
                let (scale, bias) = (broadcast(&self.scale.values.shape, inner)?, broadcast(&self.bias.values.shape, inner)?);
                Ok(((0..len).map(|i| scale[i % n]).collect(), (0..len).map(|i| bias[i % n]).collect()))
            }
            Grouping::Channels(groups) => {
                let (channels, spatial) = (shape[1], shape[2..].iter().product::<usize>());
                let per = match self.scale.values.len() {
                    c if c == channels => 1,
                    g if g == groups => channels / groups,
                    other => return Err(format!("scale and B have {other} values for {channels} channels in {groups} groups: give one per channel (or per group)")),
                };
                let index: Vec<usize> = (0..len).map(|i| i / spatial % channels / per).collect();
                Ok((index.clone(), index))
            }
        }
    }
}

impl Op for LayerNorm {
    /// The input's shape, or with the optional outputs all of them flat.
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let shapes = self.output_shapes(inputs)?;
        Ok(match self.outputs {
            1 => shapes[0].clone(),
            _ => vec![shapes.iter().map(|s| s.iter().product::<usize>()).sum()],
        })
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let (axis, _) = self.split(inputs[0])?;
        self.params(inputs[0])?;
        let reduced: Vec<usize> = inputs[0].iter().enumerate().map(|(d, &n)| if d < axis { n } else { 1 }).collect();
        Ok([vec![inputs[0].to_vec()], vec![reduced; self.outputs - 1]].concat())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let (_, n) = self.split(&x.shape).map_err(Error::Shape)?;
        let (scale, bias) = self.params(&x.shape).map_err(Error::Shape)?;
        let groups: Vec<&[Wire]> = x.data.chunks(n).collect();

        let sums = arith.dot(groups.iter().map(|g| Dot { inputs: g.to_vec(), weights: vec![Coef::Const(1); n], bias: Coef::Const(0) }).collect())?;
        let means = divide_by_constants(arith, sums.into_iter().map(|sum| (sum, n as i64)).collect())?;
        // Deviations at EXTRA bits more than the scale, at no cost, so that the variance has
        // 2 EXTRA more and the root EXTRA more: its floor is then a quarter step.
        let fine = 1 << EXTRA;
        let deviations = arith.linear(groups.iter().zip(&means).flat_map(|(g, m)| g.iter().map(move |v| (v.clone(), fine, m.clone(), -fine))).collect())?;
        let squares = arith.products(deviations.chunks(n).map(|d| d.iter().map(|v| (v.clone(), v.clone())).collect()).collect())?;
        // A sum of squares, which interval arithmetic sees as a sum of products.
        let squares = arith.assume(squares, 0, i64::MAX)?;
        let squares = arith.element(RESCALE, squares.into_iter().map(|q| (q, None)).collect())?;
        let variances = divide_by_constants(arith, squares.into_iter().map(|q| (q, n as i64)).collect())?;
        let epsilon = quantize(self.epsilon, s + 2 * EXTRA).max(1);
        let shifted = arith.dot(variances.into_iter().map(|v| Dot { inputs: vec![v], weights: vec![Coef::Const(1)], bias: Coef::Const(epsilon) }).collect())?;
        let sigmas = arith.sqrt(shifted)?;
        // A deviation over the group's root: at most sqrt(n - 1) (one more for the roundings).
        let within = ((n as f64).sqrt() + 1.0) * (1u64 << s) as f64;
        let normalized = arith.divide(deviations.iter().enumerate().map(|(i, d)| (d.clone(), sigmas[i / n].clone())).collect(), Some(within as i64))?;
        let mut extra = Vec::new();
        if self.outputs > 1 {
            extra.extend(means.iter().cloned());
        }
        if self.outputs > 2 {
            // 1 / sigma at scale s: 2^(s + EXTRA) over sigma, at scale s + EXTRA.
            let one = arith.constant(1 << (s + EXTRA))?;
            extra.extend(arith.divide(sigmas.iter().map(|sigma| (one.clone(), sigma.clone())).collect(), None)?);
        }
        let affine =
            normalized.into_iter().enumerate().map(|(i, v)| Dot { inputs: vec![v], weights: vec![self.scale.coef(scale[i], s)], bias: self.bias.coef(bias[i], 2 * s) }).collect();
        let out = arith.dot(affine)?;
        let mut out = arith.element(RESCALE, out.into_iter().map(|v| (v, None)).collect())?;
        out.extend(extra);
        Ok(Tensor::new(self.output_shape(&[&x.shape]).map_err(Error::Shape)?, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let (_, n) = self.split(&x.shape).map_err(Error::Shape)?;
        let (scale, bias) = self.params(&x.shape).map_err(Error::Shape)?;
        let (mut out, mut means, mut inverses) = (Vec::with_capacity(x.data.len()), Vec::new(), Vec::new());
        for (k, g) in x.data.chunks(n).enumerate() {
            let mean = g.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            let var = g.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
            let sigma = (var + self.epsilon as f64).sqrt();
            out.extend(
                g.iter()
                    .enumerate()
                    .map(|(j, &v)| ((v as f64 - mean) / sigma * self.scale.values.data[scale[k * n + j]] as f64 + self.bias.values.data[bias[k * n + j]] as f64) as f32),
            );
            means.push(mean as f32);
            inverses.push((1.0 / sigma) as f32);
        }
        let extra = [means, inverses];
        out.extend(extra[..self.outputs - 1].concat());
        Ok(Tensor::new(self.output_shape(&[&x.shape]).map_err(Error::Shape)?, out))
    }

    fn uses_products(&self) -> bool {
        true
    }
}
