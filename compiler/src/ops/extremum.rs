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
