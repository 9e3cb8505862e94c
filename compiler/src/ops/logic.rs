//! Logical ops and Where with a computed condition, on values known to be 0 or 1 (fixed-point 0
//! and `2^s`): those a comparison or a logical op gives, as the model's build tracks them
//! (`Op::boolean`). On such values Or is `max(a, b)`, And `a + b - max(a, b)`, Xor
//! `2 max(a, b) - a - b` and Not `1 - a`, all exact; Where is `y + c (x - y)`, a product that
//! one rescale makes exact. An operand not known to be 0 or 1 is refused by name: on any other
//! value these formulas would prove something that is not the op.

use super::{broadcast_all, quantize, ConstantCells, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::{broadcast_shape, Tensor};
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Logic {
    Not,
    And,
    Or,
    Xor,
}

/// A logical op (or Where, `select`) over its operands, computed ones in order and constants in
/// place (`None` for the next computed input), broadcast numpy-style.
#[derive(Debug)]
pub struct Logical {
    logic: Option<Logic>,
    operands: Vec<Option<Tensor<f32>>>,
}

pub fn not(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    logical(ctx, Some(Logic::Not), &[0])
}

pub fn and(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    logical(ctx, Some(Logic::And), &[0, 1])
}

pub fn or(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    logical(ctx, Some(Logic::Or), &[0, 1])
}

pub fn xor(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    logical(ctx, Some(Logic::Xor), &[0, 1])
}

/// Where with a computed condition: the condition must be 0 or 1; the branches are anything.
pub fn select(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    logical(ctx, None, &[0])
}

/// `booleans`: the operands that must be 0 or 1.
fn logical(ctx: &NodeCtx, logic: Option<Logic>, booleans: &[usize]) -> Result<Box<dyn Op>, String> {
    for &i in booleans {
        if !ctx.is_boolean(i) {
            let what = if logic.is_some() { format!("operand {i}") } else { "the condition".into() };
            return Err(format!("{what} is not known to be 0 or 1: a comparison or a logical op gives such values (so does a bool model input; a Cast to bool does not yet)"));
        }
    }
    let operands: Vec<Option<Tensor<f32>>> = (0..ctx.node.inputs.len()).map(|i| ctx.constant(i).cloned()).collect();
    if operands.iter().all(Option::is_some) {
        return Err("every operand is a constant; constant-fold the model before export".into());
    }
    if let Some(v) = operands.iter().flatten().flat_map(|t| &t.data).find(|v| !v.is_finite()) {
        return Err(format!("a constant operand holds {v}, which fixed point cannot hold"));
    }
    Ok(Box::new(Logical { logic, operands }))
}

impl Logical {
    /// Every operand's shape, computed ones taken from `inputs`.
    fn shapes<'a>(&'a self, inputs: &[&'a [usize]]) -> Result<Vec<&'a [usize]>, String> {
        let mut computed = inputs.iter();
        self.operands
            .iter()
            .map(|o| o.as_ref().map(|t| t.shape.as_slice()).or_else(|| computed.next().copied()).ok_or_else(|| "a computed operand is missing".to_string()))
            .collect()
    }

    /// Each operand broadcast to the output's shape, `value` turning constants into values.
    fn broadcast<T: Clone>(&self, inputs: &[&Tensor<T>], value: &mut dyn FnMut(f32) -> Result<T, Error>) -> Result<(Vec<usize>, Vec<Vec<T>>), Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, indices) = broadcast_all(&self.shapes(&shapes).map_err(Error::Shape)?).map_err(Error::Shape)?;
        let mut computed = inputs.iter();
        let mut operands = Vec::with_capacity(indices.len());
        for (operand, index) in self.operands.iter().zip(indices) {
            operands.push(match operand {
                Some(t) => index.iter().map(|&i| value(t.data[i])).collect::<Result<Vec<T>, Error>>()?,
                None => {
                    let t = computed.next().expect("counted by shapes");
                    index.iter().map(|&i| t.data[i].clone()).collect()
                }
            });
        }
        Ok((shape, operands))
    }
}

impl Op for Logical {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        broadcast_shape(&self.shapes(inputs)?)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let s = arith.shape().scale_bits;
        let one = 1i64 << s;
        let mut cells = ConstantCells::default();
        let (shape, operands) = self.broadcast(inputs, &mut |v| cells.cell(arith, quantize(v, s)))?;
        let dot = |terms: Vec<(&Wire, i64)>, bias: i64| Dot {
            inputs: terms.iter().map(|(w, _)| (*w).clone()).collect(),
            weights: terms.iter().map(|(_, c)| Coef::Const(*c)).collect(),
            bias: Coef::Const(bias),
        };
        let out = match self.logic {
            Some(Logic::Not) => arith.dot(operands[0].iter().map(|a| dot(vec![(a, -1)], one)).collect())?,
            Some(logic) => {
                let (a, b) = (&operands[0], &operands[1]);
                let max = arith.element(ElementOp { rescale: false, relu: true }, a.iter().zip(b).map(|(a, b)| (a.clone(), Some(b.clone()))).collect())?;
                match logic {
                    Logic::Or => max,
                    Logic::And => arith.dot(a.iter().zip(b).zip(&max).map(|((a, b), m)| dot(vec![(a, 1), (b, 1), (m, -1)], 0)).collect())?,
                    _ => arith.dot(a.iter().zip(b).zip(&max).map(|((a, b), m)| dot(vec![(m, 2), (a, -1), (b, -1)], 0)).collect())?,
                }
            }
            None => {
                let (c, x, y) = (&operands[0], &operands[1], &operands[2]);
                let differences = arith.linear(x.iter().zip(y).map(|(x, y)| (x.clone(), 1, y.clone(), -1)).collect())?;
                let chosen = arith.products(c.iter().zip(differences).map(|(c, d)| vec![(c.clone(), d)]).collect())?;
                // c is 0 or 2^s: the rescale is exact.
                let chosen = arith.element(ElementOp { rescale: true, relu: false }, chosen.into_iter().map(|p| (p, None)).collect())?;
                arith.linear(y.iter().zip(chosen).map(|(y, p)| (y.clone(), 1, p, 1)).collect())?
            }
        };
        Ok(Tensor::new(shape, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let (shape, operands) = self.broadcast(inputs, &mut |v| Ok(v))?;
        let truth = |v: f32| v != 0.0;
        let out = (0..shape.iter().product())
            .map(|i| match self.logic {
                Some(Logic::Not) => !truth(operands[0][i]) as u8 as f32,
                Some(Logic::And) => (truth(operands[0][i]) && truth(operands[1][i])) as u8 as f32,
                Some(Logic::Or) => (truth(operands[0][i]) || truth(operands[1][i])) as u8 as f32,
                Some(Logic::Xor) => (truth(operands[0][i]) != truth(operands[1][i])) as u8 as f32,
                None => operands[if truth(operands[0][i]) { 1 } else { 2 }][i],
            })
            .collect();
        Ok(Tensor::new(shape, out))
    }

    /// A logical op's result is 0 or 1; Where's is where both branches are.
    fn boolean(&self, inputs: &[bool]) -> bool {
        match self.logic {
            Some(_) => true,
            None => {
                let mut computed = inputs.iter();
                let known: Vec<bool> =
                    self.operands.iter().map(|o| o.as_ref().map_or_else(|| *computed.next().unwrap_or(&false), |t| t.data.iter().all(|v| *v == 0.0 || *v == 1.0))).collect();
                known[1] && known[2]
            }
        }
    }

    fn uses_products(&self) -> bool {
        self.logic.is_none()
    }
}
