//! Element-wise ops. With a constant operand they become one-input dot products (the
//! constant broadcast into weights or biases); two computed operands use the linear gate.

use super::{broadcast, NodeCtx, Op};
use crate::arith::{Arith, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

/// `x * weight + bias` per element with constants broadcast to the input's shape; `weight`
/// is at the activation scale, so the product is rescaled, and `bias` at the product scale.
#[derive(Debug)]
pub struct Affine {
    weight: Tensor<f32>,
    bias: Tensor<f32>,
    scale_bits: u32,
    /// Per-channel constants (BatchNormalization) broadcast along axis 1, not numpy-style.
    per_channel: bool,
    rescale: bool,
    relu: bool,
}

#[derive(Debug)]
pub struct Linear {
    c0: i64,
    c1: i64,
}

#[derive(Debug)]
pub struct Relu;

#[derive(Debug)]
pub struct Clip {
    min: Option<i64>,
    max: Option<i64>,
}

fn scalar(x: f32) -> Tensor<f32> {
    Tensor::new(vec![], vec![x])
}

/// `a + b`, `a - b` with at most one constant operand.
fn add_sub(ctx: &NodeCtx, sign: f32) -> Result<Box<dyn Op>, String> {
    match (ctx.constant(0), ctx.constant(1)) {
        (None, None) => Ok(Box::new(Linear { c0: 1, c1: if sign > 0.0 { 1 } else { -1 } })),
        (None, Some(c)) => {
            Ok(Box::new(Affine { weight: scalar(1.0), bias: c.map(|v| sign * v), scale_bits: ctx.scale_bits, per_channel: false, rescale: false, relu: false }))
        }
        (Some(c), None) => {
            Ok(Box::new(Affine { weight: scalar(sign), bias: c.clone(), scale_bits: ctx.scale_bits, per_channel: false, rescale: false, relu: false }))
        }
        (Some(_), Some(_)) => Err("both operands are constants; constant-fold the model before export".into()),
    }
}

pub fn add(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    add_sub(ctx, 1.0)
}

pub fn sub(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    add_sub(ctx, -1.0)
}

fn scaled(ctx: &NodeCtx, reciprocal: bool) -> Result<Box<dyn Op>, String> {
    let c = match (ctx.constant(0), ctx.constant(1)) {
        (None, Some(c)) => c,
        (Some(c), None) if !reciprocal => c,
        _ => return Err("only products with (or divisions by) a constant are supported".into()),
    };
    if reciprocal && c.data.contains(&0.0) {
        return Err("division by a constant zero".into());
    }
    let weight = if reciprocal { c.map(|v| 1.0 / v) } else { c.clone() };
    Ok(Box::new(Affine { weight, bias: scalar(0.0), scale_bits: ctx.scale_bits, per_channel: false, rescale: true, relu: false }))
}

pub fn mul(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    scaled(ctx, false)
}

pub fn div(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    scaled(ctx, true)
}

/// Inference-mode batch normalization: `gamma (x - mean) / sqrt(var + eps) + beta` per
/// channel. Compilation folds it into a preceding Conv or Gemm when it can; this is the
/// stand-alone form.
pub fn batch_norm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let (a, b) = super::super::onnx::batch_norm_affine(ctx)?;
    Ok(Box::new(Affine { weight: a, bias: b, scale_bits: ctx.scale_bits, per_channel: true, rescale: true, relu: false }))
}

pub fn relu(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Relu))
}

pub fn clip(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let bound = |attr: &str, input: usize| -> Result<Option<i64>, String> {
        let v = match ctx.constant(input) {
            Some(t) if t.data.len() == 1 => Some(t.data[0]),
            Some(_) => return Err(format!("{attr} must be a scalar")),
            None if ctx.node.inputs.get(input).is_some_and(|n| !n.is_empty()) => return Err(format!("{attr} must be a constant")),
            None => ctx.node.attributes.contains_key(attr).then(|| ctx.float(attr, 0.0)).transpose()?,
        };
        Ok(v.filter(|v| v.is_finite() && v.abs() < 1e30).map(|v| ctx.quantize(v, ctx.scale_bits)))
    };
    Ok(Box::new(Clip { min: bound("min", 1)?, max: bound("max", 2)? }))
}

impl Op for Affine {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        if self.per_channel {
            if s.len() < 2 || s[1] != self.weight.len() {
                return Err(format!("input {s:?} does not have {} channels on axis 1", self.weight.len()));
            }
        } else {
            broadcast(&self.weight, s)?;
            broadcast(&self.bias, s)?;
        }
        Ok(s.to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let (weights, biases) = if self.per_channel {
            let inner: usize = x.shape[2..].iter().product();
            let at = |t: &Tensor<f32>| (0..x.len()).map(|i| t.data[(i / inner) % x.shape[1]]).collect::<Vec<f32>>();
            (at(&self.weight), at(&self.bias))
        } else {
            (broadcast(&self.weight, &x.shape).map_err(Error::Shape)?, broadcast(&self.bias, &x.shape).map_err(Error::Shape)?)
        };
        let s = self.scale_bits;
        let (weight_bits, bias_bits) = if self.rescale { (s, 2 * s) } else { (0, s) };
        let q = |v: f32, bits: u32| (v as f64 * (1u64 << bits) as f64).round() as i64;
        let products = x
            .data
            .iter()
            .zip(weights.iter().zip(&biases))
            .map(|(x, (w, b))| Dot { inputs: vec![x.clone()], weights: vec![q(*w, weight_bits)], bias: q(*b, bias_bits) })
            .collect();
        let mut out = arith.dot(products)?;
        if self.rescale || self.relu {
            let op = ElementOp { rescale: self.rescale, relu: self.relu };
            out = arith.element(op, out.into_iter().map(|v| (v, None)).collect())?;
        }
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn fuse_relu(&mut self) -> bool {
        self.relu = true;
        true
    }
}

impl Op for Linear {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        if inputs[0] != inputs[1] {
            return Err(format!("operands of shapes {:?} and {:?}: broadcasting two computed tensors is not supported", inputs[0], inputs[1]));
        }
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let (a, b) = (inputs[0], inputs[1]);
        let shape = self.output_shape(&[&a.shape, &b.shape]).map_err(Error::Shape)?;
        let items = a.data.iter().zip(&b.data).map(|(a, b)| (a.clone(), self.c0, b.clone(), self.c1)).collect();
        Ok(Tensor::new(shape, arith.linear(items)?))
    }
}

impl Op for Relu {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let out = arith.element(ElementOp { rescale: false, relu: true }, x.data.iter().map(|v| (v.clone(), None)).collect())?;
        Ok(Tensor::new(x.shape.clone(), out))
    }
}

impl Op for Clip {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    /// `max(x, lo) = lo + relu(x - lo)` and `min(y, hi) = hi - relu(hi - y)`.
    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let mut y = x.data.clone();
        let relu = ElementOp { rescale: false, relu: true };
        for (bound, sign) in [(self.min, 1), (self.max, -1)] {
            if let Some(c) = bound {
                let shift = |v: Vec<Wire>, arith: &mut dyn Arith| {
                    arith.dot(v.into_iter().map(|w| Dot { inputs: vec![w], weights: vec![sign], bias: -sign * c }).collect())
                };
                let d = shift(y, arith)?;
                let r = arith.element(relu, d.into_iter().map(|v| (v, None)).collect())?;
                y = arith.dot(r.into_iter().map(|w| Dot { inputs: vec![w], weights: vec![sign], bias: c }).collect())?;
            }
        }
        Ok(Tensor::new(x.shape.clone(), y))
    }
}
