//! Gemm and MatMul with a constant right-hand side: dot products with the weights as
//! coefficients (fixed columns, or witnesses under private parameters), a bias at the
//! product's scale, then one rescale (fused with a following Relu). Every row of the input (all
//! its leading dimensions: a sequence of tokens, a batch) is multiplied by the same weights.

use super::{Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use rayon::prelude::*;
use zkinfer_circuits::gadgets::ElementOp;

#[derive(Debug)]
pub struct Dense {
    /// `[outputs, inputs]`: row `j` holds the weights of output `j`.
    weights: Constant,
    /// The bias (`None` when the node has none) and, per output, the entry it adds (ONNX
    /// broadcasts C).
    bias: Option<(Constant, Vec<usize>)>,
    pub(crate) relu: bool,
}

pub fn gemm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.int("transA", 0)? != 0 {
        return Err("transA = 1 is not supported (the input must be [M, K])".into());
    }
    let alpha = ctx.float("alpha", 1.0)?;
    let beta = ctx.float("beta", 1.0)?;
    let b = ctx.require_constant(1, "B")?;
    if b.shape.len() != 2 {
        return Err(format!("B must be 2-D, got shape {:?}", b.shape));
    }
    let trans_b = ctx.int("transB", 0)? != 0;
    let (k, n) = if trans_b { (b.shape[1], b.shape[0]) } else { (b.shape[0], b.shape[1]) };
    let at = |i: usize, j: usize| if trans_b { b.data[j * k + i] } else { b.data[i * n + j] };
    let weights = (0..n).flat_map(|j| (0..k).map(move |i| alpha * at(i, j))).collect();
    let bias = match ctx.constant(2) {
        None => None,
        // C as exporters write it: [N], [1, N] or a scalar, one entry per output.
        Some(c) => {
            let shape: Vec<usize> = c.shape.iter().copied().skip_while(|&d| d == 1).collect();
            Some((ctx.param(c.map(|v| beta * v))?, super::broadcast(&shape, &[n]).map_err(|_| format!("C of shape {:?} is not one bias per output ({n})", c.shape))?))
        }
    };
    Ok(Box::new(Dense { weights: ctx.param(Tensor::new(vec![n, k], weights))?, bias, relu: false }))
}

/// `x W^T + b` for weights `[outputs, inputs]` and a bias of one entry per output.
pub(super) fn dense(weights: Constant, bias: Constant) -> Box<dyn Op> {
    let index = (0..weights.values.shape[0]).collect();
    Box::new(Dense { weights, bias: Some((bias, index)), relu: false })
}

pub fn matmul(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let b = ctx.require_constant(1, "B")?;
    if b.shape.len() != 2 {
        return Err(format!("B must be 2-D, got shape {:?}", b.shape));
    }
    let (k, n) = (b.shape[0], b.shape[1]);
    let weights = (0..n).flat_map(|j| (0..k).map(move |i| b.data[i * n + j])).collect();
    Ok(Box::new(Dense { weights: ctx.param(Tensor::new(vec![n, k], weights))?, bias: None, relu: false }))
}

impl Dense {
    fn inputs(&self) -> usize {
        self.weights.values.shape[1]
    }

    fn outputs(&self) -> usize {
        self.weights.values.shape[0]
    }
}

impl Op for Dense {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        if s.last() != Some(&self.inputs()) {
            return Err(format!("input shape {s:?} does not end in the {} features the weights expect", self.inputs()));
        }
        let mut out = s.to_vec();
        *out.last_mut().unwrap() = self.outputs();
        Ok(out)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let bits = arith.shape().limb_bits;
        let (k, n) = (self.inputs(), self.outputs());
        let products = (0..x.len() / k * n)
            .into_par_iter()
            .map(|o| {
                let (row, j) = (o / n, o % n);
                Dot {
                    inputs: x.data[row * k..(row + 1) * k].to_vec(),
                    weights: (0..k).map(|i| self.weights.coef(j * k + i, bits)).collect(),
                    bias: self.bias.as_ref().map_or(Coef::Const(0), |(b, index)| b.coef(index[j], 2 * bits)),
                }
            })
            .collect();
        let acc = arith.dot(products)?;
        let out = arith.element(ElementOp { rescale: true, relu: self.relu }, acc.into_iter().map(|a| (a, None)).collect())?;
        Ok(Tensor::new(shape, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let w = &self.weights.values.data;
        let out = x
            .data
            .chunks(self.inputs())
            .flat_map(|input| {
                w.chunks(self.inputs()).enumerate().map(move |(j, row)| {
                    let bias = self.bias.as_ref().map_or(0.0, |(b, index)| b.values.data[index[j]] as f64);
                    let y = row.iter().zip(input).fold(bias, |acc, (w, x)| acc + *w as f64 * *x as f64);
                    (if self.relu { y.max(0.0) } else { y }) as f32
                })
            })
            .collect();
        Ok(Tensor::new(shape, out))
    }

    fn fuse_relu(&mut self) -> bool {
        self.relu = true;
        true
    }
}
