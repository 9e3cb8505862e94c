//! The `param dot` gate, only with private parameters or products of computed values: the dot
//! gate with the weights in advice cells, `width / 2` input and weight pairs a row, each product
//! masked by a fixed factor.

use super::dot::chunks;
use super::{fr, Columns, MlConfig};
use crate::cs::{ConstraintSystem, Selector};
use crate::layouter::{AssignedCell, Layouter};
use crate::value::Value;
use crate::Error;
use ark_bn254::Fr;
use ark_ff::Zero;
use std::collections::HashMap;

pub(super) fn configure(cs: &mut ConstraintSystem, cols: &Columns) -> Option<Selector> {
    let Columns { shape, a, acc, w, keep, bias, .. } = *cols;
    // Private parameters: input `a[i]` pairs with the weight cell `a[half + i]`, and the
    // fixed `w[i]` is 1 for a parameter, a constant `c` times a copy of the cell holding 1,
    // or 0 for an empty slot (whose advice cells are then free). Degree 4, as the element
    // gate already is.
    (shape.private_params || shape.products).then(|| {
        let q = cs.selector();
        let half = shape.width / 2;
        let sum = (0..half).fold(acc.next() - keep.cur() * acc.cur() - bias.cur(), |e, i| e - a[i].cur() * a[half + i].cur() * w[i].cur());
        cs.create_gate("param dot", vec![q.expr() * sum]);
        q
    })
}

/// One dot product with witness coefficients: `bias + sum inputs[i] * coefficients[i]`,
/// the bias fixed.
pub struct ParamDot {
    pub inputs: Vec<AssignedCell>,
    pub coefficients: Vec<Coefficient>,
    pub bias: i64,
}

/// A coefficient of the `param dot` gate. Not the compiler's `Coef`, which ops evaluate on
/// integers and intervals too: this one also takes a computed cell, which only synthesis has.
#[derive(Clone, Copy, Debug)]
pub enum Coefficient {
    /// A constant of the computation, in a fixed column.
    Constant(i64),
    /// A parameter of the model, a witness; `id` names it across products.
    Param { id: usize, value: i64 },
    /// A computed value: the product of two computed values.
    Cell(AssignedCell),
}

impl MlConfig {
    /// Dot products whose coefficients are witnesses, as `dot` lays them out but with
    /// `width / 2` inputs a row, each beside its coefficient's cell. A parameter's first use
    /// places its cell (recorded in `placed` under its id); every later use copies it, so one
    /// parameter holds one value throughout the proof. `one` is a cell holding 1, copied beside
    /// each constant coefficient.
    pub fn param_dot(&self, layouter: &mut Layouter, one: &AssignedCell, placed: &mut HashMap<usize, AssignedCell>, products: &[ParamDot]) -> Result<Vec<AssignedCell>, Error> {
        let q = self.q_param_dot.ok_or_else(|| Error::Synthesis("the circuit was configured without the param dot gate (fixed parameters, no products)".into()))?;
        let half = self.shape.width / 2;
        layouter.assign_region("param dot", |region| {
            let mut row = 0;
            region.assign_advice(self.acc, 0, Value::known(Fr::zero()))?;
            let mut outputs = Vec::with_capacity(products.len());
            for p in products {
                if p.inputs.len() != p.coefficients.len() {
                    return Err(Error::Synthesis(format!("a dot product needs as many coefficients as inputs ({} inputs, {} coefficients)", p.inputs.len(), p.coefficients.len())));
                }
                let mut value = Value::known(fr(p.bias));
                let mut result = None;
                for (c, (xs, cs)) in chunks(&p.inputs, half).zip(chunks(&p.coefficients, half)).enumerate() {
                    region.enable_selector(q, row);
                    region.assign_fixed(self.keep, row, if c == 0 { Fr::zero() } else { Fr::from(1u64) });
                    region.assign_fixed(self.bias, row, if c == 0 { fr(p.bias) } else { Fr::zero() });
                    for (k, (x, coefficient)) in xs.iter().zip(cs).enumerate() {
                        region.copy_advice(x, self.a[k], row)?;
                        let (factor, weight) = match coefficient {
                            Coefficient::Constant(c) => (*c, region.copy_advice(one, self.a[half + k], row)?),
                            Coefficient::Param { id, value } => match placed.get(id) {
                                Some(cell) => (1, region.copy_advice(cell, self.a[half + k], row)?),
                                None => {
                                    let cell = region.assign_advice(self.a[half + k], row, Value::known(fr(*value)))?;
                                    placed.insert(*id, cell);
                                    (1, cell)
                                }
                            },
                            Coefficient::Cell(cell) => (1, region.copy_advice(cell, self.a[half + k], row)?),
                        };
                        region.assign_fixed(self.w[k], row, fr(factor));
                        value = value.zip(x.value).zip(weight.value).map(|((acc, x), w)| acc + x * w * fr(factor));
                    }
                    row += 1;
                    result = Some(region.assign_advice(self.acc, row, value)?);
                }
                outputs.extend(result);
            }
            Ok(outputs)
        })
    }
}
