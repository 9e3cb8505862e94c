//! Gemm and MatMul with a constant right-hand side: dot products with weights in fixed
//! columns, a bias at the product's scale, then one rescale (fused with a following Relu).

use super::{NodeCtx, Op};
use crate::arith::{Arith, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

#[derive(Debug)]
pub struct Dense {
    /// `weights[j]` holds the weights of output `j`, one per input feature.
    weights: Vec<Vec<i64>>,
    bias: Vec<i64>,
    inputs: usize,
    pub(crate) relu: bool,
}

pub fn gemm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.int("transA", 0)? != 0 {
        return Err("transA = 1 is not supported (the input must be [1, K])".into());
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
    let weights = (0..n).map(|j| (0..k).map(|i| ctx.quantize(alpha * at(i, j), ctx.scale_bits)).collect()).collect();
    let bias = match ctx.constant(2) {
        None => vec![0; n],
        Some(c) => super::broadcast(c, &[n])?.iter().map(|v| ctx.quantize(beta * v, 2 * ctx.scale_bits)).collect(),
    };
    Ok(Box::new(Dense { weights, bias, inputs: k, relu: false }))
}

pub fn matmul(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let b = ctx.require_constant(1, "B")?;
    if b.shape.len() != 2 {
        return Err(format!("B must be 2-D, got shape {:?}", b.shape));
    }
    let (k, n) = (b.shape[0], b.shape[1]);
    let weights = (0..n).map(|j| (0..k).map(|i| ctx.quantize(b.data[i * n + j], ctx.scale_bits)).collect()).collect();
    Ok(Box::new(Dense { weights, bias: vec![0; n], inputs: k, relu: false }))
}

impl Op for Dense {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        if s.iter().product::<usize>() != self.inputs || s.last() != Some(&self.inputs) {
            return Err(format!("input shape {s:?} does not end in the {} features the weights expect", self.inputs));
        }
        let mut out = s.to_vec();
        *out.last_mut().unwrap() = self.weights.len();
        Ok(out)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let products = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| Dot { inputs: x.data.clone(), weights: w.clone(), bias: *b })
            .collect();
        let acc = arith.dot(products)?;
        let out = arith.element(ElementOp { rescale: true, relu: self.relu }, acc.into_iter().map(|a| (a, None)).collect())?;
        Ok(Tensor::new(self.output_shape(&[&x.shape]).map_err(Error::Shape)?, out))
    }

    fn fuse_relu(&mut self) -> bool {
        self.relu = true;
        true
    }
}
