//! Max and Min of several tensors, element-wise with numpy broadcasting: one element step per
//! operand after the first, `m + relu(x - m)` (the max pool's step), exact; Min takes `m + x -
//! max(m, x)` with one dot row more. Constant operands are combined into one at compile time.

use super::{broadcast, broadcast_all, quantize, ConstantCells, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::{broadcast_shape, Tensor};
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

const RELU: ElementOp = ElementOp { rescale: false, relu: true };

#[derive(Debug)]
pub struct Extremum {
    max: bool,
    /// The constant operands' extremum, broadcast among themselves; `None` without any.
    constant: Option<Tensor<f32>>,
}

pub fn max(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    extremum(ctx, true)
}

pub fn min(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    extremum(ctx, false)
}

fn extremum(ctx: &NodeCtx, max: bool) -> Result<Box<dyn Op>, String> {
    let pick = |a: f32, b: f32| if max { a.max(b) } else { a.min(b) };
    let mut constant: Option<Tensor<f32>> = None;
    for c in (0..ctx.node.inputs.len()).filter_map(|i| ctx.constant(i)) {
        constant = Some(match constant {
            None => c.clone(),
            Some(t) => {
                let shape = broadcast_shape(&[&t.shape, &c.shape])?;
                let (ti, ci) = (broadcast(&t.shape, &shape)?, broadcast(&c.shape, &shape)?);
                Tensor::new(shape, ti.iter().zip(&ci).map(|(&a, &b)| pick(t.data[a], c.data[b])).collect())
            }
        });
    }
    if let Some(v) = constant.iter().flat_map(|t| &t.data).find(|v| !v.is_finite()) {
        return Err(format!("a constant operand holds {v}, which fixed point cannot hold"));
    }
    Ok(Box::new(Extremum { max, constant }))
}

impl Extremum {
    /// The output shape, and each operand's (the constant last) index of every output.
    fn indices(&self, inputs: &[&[usize]]) -> Result<(Vec<usize>, Vec<Vec<usize>>), String> {
        let shapes: Vec<&[usize]> = inputs.iter().copied().chain(self.constant.as_ref().map(|c| c.shape.as_slice())).collect();
        broadcast_all(&shapes)
    }
}

impl Op for Extremum {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.indices(inputs)?.0)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, indices) = self.indices(&shapes).map_err(Error::Shape)?;
        // Every operand as wires of the output's shape; the constant's values as one cell each.
        let mut operands: Vec<Vec<Wire>> = inputs.iter().zip(&indices).map(|(t, index)| index.iter().map(|&i| t.data[i].clone()).collect()).collect();
        if let Some(c) = &self.constant {
            let bits = arith.shape().scale_bits;
            let mut cells = ConstantCells::default();
            let wires = indices[inputs.len()].iter().map(|&i| cells.cell(arith, quantize(c.data[i], bits)));
            operands.push(wires.collect::<Result<_, _>>()?);
        }
        let mut best = operands[0].clone();
        for next in &operands[1..] {
            let maxima = arith.element(RELU, next.iter().zip(&best).map(|(x, m)| (x.clone(), Some(m.clone()))).collect())?;
            best = match self.max {
                true => maxima,
                false => {
                    let minima = best.iter().zip(next).zip(maxima).map(|((m, x), top)| Dot {
                        inputs: vec![m.clone(), x.clone(), top],
                        weights: vec![Coef::Const(1), Coef::Const(1), Coef::Const(-1)],
                        bias: Coef::Const(0),
                    });
                    arith.dot(minima.collect())?
                }
            };
        }
        Ok(Tensor::new(shape, best))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, indices) = self.indices(&shapes).map_err(Error::Shape)?;
        let operands: Vec<&Tensor<f32>> = inputs.iter().copied().chain(self.constant.as_ref()).collect();
        let out = (0..shape.iter().product())
            .map(|o| {
                let values = operands.iter().zip(&indices).map(|(t, index)| t.data[index[o]]);
                values.reduce(|a, b| if self.max { a.max(b) } else { a.min(b) }).expect("at least one operand")
            })
            .collect();
        Ok(Tensor::new(shape, out))
    }
}

/// Clip with a computed bound, `min(max(x, lo), hi)`: Max's step with the lower bound, then
/// Min's with the upper (as np.clip, the upper wins where they cross); a constant bound is its
/// step's constant. ONNX's bounds are scalars.
#[derive(Debug)]
pub struct ComputedClip {
    /// Per bound, lower then upper: its step, and whether the bound is a computed input (the
    /// node's computed inputs are `x`, then the computed bounds in this order).
    steps: Vec<(Extremum, bool)>,
}

/// `None` where neither bound is computed (Clip's own op takes constant bounds).
pub(super) fn computed_clip(ctx: &NodeCtx) -> Result<Option<Box<dyn Op>>, String> {
    let given = |i: usize| ctx.node.inputs.get(i).is_some_and(|n| !n.is_empty());
    if !(1..=2).any(|i| given(i) && ctx.constant(i).is_none()) {
        return Ok(None);
    }
    let mut steps = Vec::new();
    for (i, max) in [(1, true), (2, false)].into_iter().filter(|(i, _)| given(*i)) {
        let constant = ctx.constant(i).cloned();
        if let Some(v) = constant.iter().flat_map(|t| &t.data).find(|v| !v.is_finite()) {
            return Err(format!("a constant bound holds {v}, which fixed point cannot hold"));
        }
        steps.push((Extremum { max, constant: constant.clone() }, constant.is_none()));
    }
    Ok(Some(Box::new(ComputedClip { steps })))
}

impl ComputedClip {
    /// Each step's operands: the value so far, then its bound where computed.
    fn run<T: Clone>(&self, inputs: &[&Tensor<T>], mut step: impl FnMut(&Extremum, &[&Tensor<T>]) -> Result<Tensor<T>, Error>) -> Result<Tensor<T>, Error> {
        let mut bounds = inputs[1..].iter();
        let mut y = inputs[0].clone();
        for (op, computed) in &self.steps {
            let bound = if *computed { bounds.next().copied() } else { None };
            y = step(op, &[&y].into_iter().chain(bound).collect::<Vec<_>>())?;
        }
        Ok(y)
    }
}

impl Op for ComputedClip {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let mut bounds = inputs[1..].iter();
        let mut shape = inputs[0].to_vec();
        for (op, computed) in &self.steps {
            let bound = if *computed { bounds.next().copied() } else { None };
            shape = op.output_shape(&[shape.as_slice()].into_iter().chain(bound).collect::<Vec<_>>())?;
        }
        Ok(shape)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.run(inputs, |op, operands| op.apply(arith, operands))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.run(inputs, |op, operands| op.eval_float(operands))
    }
}
