//! Round and Sign: whole numbers from fixed-point values, exact. Each is a few comparisons of the
//! value with the grid points where its result changes, as element steps that round nothing.

use super::compare::at_most;
use super::elementwise::whole_floors;
use super::{NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

/// Round to the nearest integer, halves to the even one (ONNX's, numpy's): the element gate's
/// rescale rounds halves up, which `x.5` cases would show, so the parity is taken apart. With
/// `g = floor(x / 2)` (two [`whole_floors`]: `floor(x)`, then half of it), the remainder
/// `r = x - 2g` lies in `[0, 2)` and the result is `2g + [r > 1/2] + [r >= 3/2]`: `r = 1/2` rounds
/// to the even `2g`, `r = 3/2` to the even `2g + 2`. Both comparisons are exact on the grid.
#[derive(Debug)]
pub struct Round;

/// -1, 0 or 1 as `x` is below, at or above 0: for the grid's integer `v = x 2^s` it is
/// `min(max(v, -1), 1) = 1 - relu(2 - relu(v + 1))`, two exact element steps, and 0 at 0.
#[derive(Debug)]
pub struct Sign;

pub fn round(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Round))
}

pub fn sign(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Sign))
}

const RELU: ElementOp = ElementOp { rescale: false, relu: true };

impl Op for Round {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let (one, half) = (1i64 << s, 1i64 << (s - 1));
        let floors = whole_floors(arith, x.data.clone(), 1)?;
        // floor(floor(x) / 2): the whole floor as a fixed-point half, floored again.
        let halves = arith.dot(floors.into_iter().map(|f| Dot { inputs: vec![f], weights: vec![Coef::Const(half)], bias: Coef::Const(0) }).collect())?;
        let pairs = whole_floors(arith, halves, 1)?;
        let remainders =
            x.data.iter().zip(&pairs).map(|(v, g)| Dot { inputs: vec![v.clone(), g.clone()], weights: vec![Coef::Const(1), Coef::Const(-2 * one)], bias: Coef::Const(0) });
        let remainders = arith.dot(remainders.collect())?;
        // `x - 2 floor(x / 2)` lies in [0, 2), which the intervals of the difference do not show.
        let remainders = arith.assume(remainders, 0, 2 * one - 1)?;
        // [r > 1/2] and [r > 3/2 - 2^-s], each `max(d, 1) - relu(d)` for `d = T + 1 - r`.
        let thresholds = [half, 3 * half - 1];
        let items = remainders.iter().flat_map(|r| thresholds.map(|t| (r.clone(), Coef::Const(t + 1)))).collect();
        let (relus, ones) = at_most(arith, items)?;
        let dots = pairs
            .into_iter()
            .zip(relus.chunks(2).zip(ones.chunks(2)))
            .map(|(g, (a, b))| Dot {
                inputs: vec![g, b[0].clone(), a[0].clone(), b[1].clone(), a[1].clone()],
                weights: vec![Coef::Const(2 * one), Coef::Const(one), Coef::Const(-one), Coef::Const(one), Coef::Const(-one)],
                bias: Coef::Const(0),
            })
            .collect();
        Ok(Tensor::new(x.shape.clone(), arith.dot(dots)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|v| v.round_ties_even()))
    }
}

impl Op for Sign {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let one = 1i64 << arith.shape().scale_bits;
        // `a = relu(x + 1) = max(x, -1) + 1` and `b = relu(2 - a) = 1 - min(max(x, -1), 1)`.
        let shifted = arith.dot(x.data.iter().map(|v| Dot { inputs: vec![v.clone()], weights: vec![Coef::Const(1)], bias: Coef::Const(1) }).collect())?;
        let a = arith.element(RELU, shifted.into_iter().map(|v| (v, None)).collect())?;
        let flipped = arith.dot(a.into_iter().map(|v| Dot { inputs: vec![v], weights: vec![Coef::Const(-1)], bias: Coef::Const(2) }).collect())?;
        let b = arith.element(RELU, flipped.into_iter().map(|v| (v, None)).collect())?;
        let out = arith.dot(b.into_iter().map(|v| Dot { inputs: vec![v], weights: vec![Coef::Const(-one)], bias: Coef::Const(one) }).collect())?;
        Ok(Tensor::new(x.shape.clone(), arith.assume(out, -one, one)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        // `f32::signum` is 1 at 0; ONNX's Sign is 0 there (and NaN at NaN).
        Ok(inputs[0].map(|&v| if v == 0.0 || v.is_nan() { v } else { v.signum() }))
    }
}
