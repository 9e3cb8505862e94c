//! The arithmetic an op is written in. Each op states its quantized semantics once, against
//! [`Arith`]; [`Evaluate`] runs it on integers (the `run` command, calibration, the witness's
//! range checks) and [`Synthesize`] lays out the same steps as gadgets; [`crate::bounds`]
//! runs them on intervals.

use crate::bounds::Interval;
use crate::Error;
use rayon::prelude::*;
use std::collections::HashMap;
use zkinfer_circuits::gadgets::{divide_rounded, floor_sqrt, to_i64, Coefficient, DotProduct, ElementOp, Function, FunctionTable, GatherTable, MlConfig, ParamDot, Shape};
use zkinfer_circuits::{AssignedCell, Layouter, Value};

/// A value flowing between ops: its integer (unknown during key generation), when
/// synthesizing the cell that holds it, and in the bounds analysis the interval it lies in.
#[derive(Clone, Debug)]
pub struct Wire {
    pub value: Value<i64>,
    pub cell: Option<AssignedCell>,
    pub interval: Option<Interval>,
}

impl Wire {
    pub fn known(v: i64) -> Self {
        Wire { value: Value::known(v), cell: None, interval: None }
    }
}

/// A coefficient of a dot product, as an op states it. Not the gadgets' [`Coefficient`]: ops are
/// also evaluated on integers and on intervals, where a coefficient must be a number known before
/// synthesis, so there is no room here for a computed cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coef {
    /// A constant of the op's own definition (an averaging weight, a clipping bound, the
    /// 1 of an addition): always in the verifying key.
    Const(i64),
    /// One of the model's parameters (a weight, a bias): in the verifying key under
    /// `ParamVisibility::Fixed`, a witness under `Private`. `id` names the parameter, so
    /// every use of it reads the same cell.
    Param { id: usize, value: i64 },
}

impl Coef {
    pub fn value(&self) -> i64 {
        match self {
            Coef::Const(v) | Coef::Param { value: v, .. } => *v,
        }
    }
}

/// One dot product over wires: `bias + sum inputs[i] * weights[i]`.
pub struct Dot {
    pub inputs: Vec<Wire>,
    pub weights: Vec<Coef>,
    pub bias: Coef,
}

impl Dot {
    fn has_params(&self) -> bool {
        self.weights.iter().chain([&self.bias]).any(|c| matches!(c, Coef::Param { .. }))
    }
}

pub trait Arith {
    fn shape(&self) -> Shape;
    fn dot(&mut self, products: Vec<Dot>) -> Result<Vec<Wire>, Error>;
    /// `items` are `(x, sub)`; see [`ElementOp`].
    fn element(&mut self, op: ElementOp, items: Vec<(Wire, Option<Wire>)>) -> Result<Vec<Wire>, Error>;
    /// `c0 * a + c1 * b` per item.
    fn linear(&mut self, items: Vec<(Wire, i64, Wire, i64)>) -> Result<Vec<Wire>, Error>;
    /// `f(x)` per item from the lookup table; see [`FunctionTable`].
    fn function(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error>;
    /// `f(x)` per item of sums at the products' scale `2^-2s` (a dense layer's before its
    /// rescale, see `Model::defer_rescales`), read to a finer step than rescaling them first.
    fn function_of_sums(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error>;
    /// `sum a_i * b_i` per item of pairs `(a_i, b_i)` of computed values: products of two
    /// computed tensors.
    fn products(&mut self, items: Vec<Vec<(Wire, Wire)>>) -> Result<Vec<Wire>, Error>;
    /// `round(n * 2^scale_bits / d)` per item `(n, d)`, for a computed `d >= 1`; `within`, a
    /// bound the op knows every quotient keeps, `|q| <= within` (a share of a sum, a deviation
    /// over its norm), which interval arithmetic cannot see: the bounds analysis narrows to it,
    /// evaluation checks it.
    fn divide(&mut self, items: Vec<(Wire, Wire)>, within: Option<i64>) -> Result<Vec<Wire>, Error>;
    /// `floor(sqrt(v * 2^scale_bits))` per item `v >= 0`: the square root at the same scale.
    fn sqrt(&mut self, items: Vec<Wire>) -> Result<Vec<Wire>, Error>;
    /// Entry `j` of the row of `table` that index `x` names, per item `(x, j)`; see
    /// [`GatherTable`].
    fn gather(&mut self, table: &GatherTable, items: Vec<(Wire, usize)>) -> Result<Vec<Wire>, Error>;
    /// A wire that holds `value` in every proof.
    fn constant(&mut self, value: i64) -> Result<Wire, Error>;
    /// `items`, which the op knows lie in `[lo, hi]` from its structure where interval
    /// arithmetic cannot see it (`x - max(x) <= 0`): the bounds analysis narrows them to it,
    /// evaluation checks it, synthesis passes them on.
    fn assume(&mut self, items: Vec<Wire>, lo: i64, hi: i64) -> Result<Vec<Wire>, Error>;
}

/// `round(n / q)` per item `(n, q)`, `q >= 1` a constant, rounding half up: the division gadget
/// with the divisor `q * 2^scale_bits`, so the error is at most half a step whatever `q`. Fails,
/// naming the divisor, when that exceeds the circuit's range.
pub fn divide_by_constants(arith: &mut dyn Arith, items: Vec<(Wire, i64)>) -> Result<Vec<Wire>, Error> {
    let shape = arith.shape();
    let mut divisors: HashMap<i64, Wire> = HashMap::new();
    let mut pairs = Vec::with_capacity(items.len());
    for (n, q) in items {
        let d = match divisors.get(&q) {
            Some(d) => d.clone(),
            None => {
                let d = q.checked_mul(1 << shape.scale_bits).filter(|d| (1..=shape.bound()).contains(d)).ok_or_else(|| {
                    Error::Range(format!(
                        "dividing by {q} needs a divisor of {q} x 2^{} within the circuit's range (at most {}); compile with a smaller --scale",
                        shape.scale_bits,
                        shape.bound()
                    ))
                })?;
                divisors.entry(q).or_insert(arith.constant(d)?).clone()
            }
        };
        pairs.push((n, d));
    }
    arith.divide(pairs, None)
}

/// Integer evaluation with the circuit's range checks; records the largest magnitude an
/// element gate saw, which calibration turns into a range.
pub struct Evaluate<'a> {
    shape: Shape,
    pub largest: i64,
    limbs: ElementLimbs<'a>,
}

impl<'a> Evaluate<'a> {
    /// With `plan`, the limbs of each element step in order (`Model::element_limbs`; every
    /// step takes the shape's limbs past its end).
    pub fn new(shape: Shape, plan: &'a [usize]) -> Self {
        Evaluate { shape, largest: 0, limbs: ElementLimbs { plan, next: 0 } }
    }
}

/// The limbs of each element step, in the order a model makes them.
struct ElementLimbs<'a> {
    plan: &'a [usize],
    next: usize,
}

impl ElementLimbs<'_> {
    fn next(&mut self, shape: &Shape) -> usize {
        self.next += 1;
        self.plan.get(self.next - 1).copied().unwrap_or(shape.limbs)
    }
}

/// The integer of a wire during evaluation, where every value is known.
pub fn known(w: &Wire) -> i64 {
    w.value.inner().expect("evaluation runs on known values")
}

impl Arith for Evaluate<'_> {
    fn shape(&self) -> Shape {
        self.shape
    }

    fn dot(&mut self, products: Vec<Dot>) -> Result<Vec<Wire>, Error> {
        products
            .iter()
            .map(|p| {
                let sum = p.inputs.iter().zip(&p.weights).fold(p.bias.value() as i128, |acc, (x, w)| acc + known(x) as i128 * w.value() as i128);
                i64::try_from(sum).map(Wire::known).map_err(|_| Error::Range(format!("a dot product reached {sum}, beyond 64 bits")))
            })
            .collect()
    }

    fn element(&mut self, op: ElementOp, items: Vec<(Wire, Option<Wire>)>) -> Result<Vec<Wire>, Error> {
        let bound = self.shape.bound_at(self.limbs.next(&self.shape));
        items
            .iter()
            .map(|(x, sub)| {
                let (y, out) = op.apply(self.shape.scale_bits, known(x), sub.as_ref().map_or(0, known)).map_err(Error::Range)?;
                self.largest = self.largest.max(y.abs());
                if y < -bound || y >= bound {
                    return Err(Error::Range(format!("value {y} is outside the circuit's range [-{bound}, {bound})")));
                }
                Ok(Wire::known(out))
            })
            .collect()
    }

    fn linear(&mut self, items: Vec<(Wire, i64, Wire, i64)>) -> Result<Vec<Wire>, Error> {
        items
            .iter()
            .map(|(a, c0, b, c1)| {
                let sum = known(a) as i128 * *c0 as i128 + known(b) as i128 * *c1 as i128;
                i64::try_from(sum).map(Wire::known).map_err(|_| Error::Range(format!("a sum reached {sum}, beyond 64 bits")))
            })
            .collect()
    }

    fn products(&mut self, items: Vec<Vec<(Wire, Wire)>>) -> Result<Vec<Wire>, Error> {
        items
            .iter()
            .map(|pairs| {
                let sum = pairs.iter().fold(0i128, |acc, (a, b)| acc + known(a) as i128 * known(b) as i128);
                i64::try_from(sum).map(Wire::known).map_err(|_| Error::Range(format!("a sum of products reached {sum}, beyond 64 bits")))
            })
            .collect()
    }

    fn function(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let table = FunctionTable::new(f, self.shape).map_err(Error::Range)?;
        items.iter().map(|x| table.witness(known(x), self.shape.limbs).map(|w| Wire::known(w.out)).map_err(Error::Range)).collect()
    }

    fn function_of_sums(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let table = FunctionTable::new(f, self.shape).map_err(Error::Range)?;
        items.iter().map(|x| table.witness_of_sum(known(x), self.shape.limbs).map(|w| Wire::known(w.out)).map_err(Error::Range)).collect()
    }

    fn divide(&mut self, items: Vec<(Wire, Wire)>, within: Option<i64>) -> Result<Vec<Wire>, Error> {
        items
            .iter()
            .map(|(n, d)| {
                let (q, _) = divide_rounded(self.shape, known(n), known(d)).map_err(Error::Range)?;
                if let Some(w) = within.filter(|w| q.abs() > *w) {
                    return Err(Error::Range(format!("quotient {q} breaks the op's own bound {w} (a bug in the op: please report it)")));
                }
                self.largest = self.largest.max(known(d)).max(q.abs());
                Ok(Wire::known(q))
            })
            .collect()
    }

    fn sqrt(&mut self, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        items
            .iter()
            .map(|v| {
                let r = floor_sqrt(known(v), self.shape.scale_bits).ok_or_else(|| Error::Range(format!("the square root of {}, below 0", known(v))))?;
                self.largest = self.largest.max(r);
                Ok(Wire::known(r))
            })
            .collect()
    }

    fn gather(&mut self, table: &GatherTable, items: Vec<(Wire, usize)>) -> Result<Vec<Wire>, Error> {
        let bits = self.shape.scale_bits;
        items
            .iter()
            .map(|(x, j)| {
                let entry = table.entry(bits, known(x), *j).map_err(Error::Input)?;
                self.largest = self.largest.max(entry.abs());
                Ok(Wire::known(entry))
            })
            .collect()
    }

    fn constant(&mut self, value: i64) -> Result<Wire, Error> {
        Ok(Wire::known(value))
    }

    fn assume(&mut self, items: Vec<Wire>, lo: i64, hi: i64) -> Result<Vec<Wire>, Error> {
        match items.iter().map(known).find(|v| !(lo..=hi).contains(v)) {
            Some(v) => Err(Error::Range(format!("{v} breaks the op's own bound [{lo}, {hi}] (a bug in the op: please report it)"))),
            None => Ok(items),
        }
    }
}

/// Lays out the steps as gadgets.
pub struct Synthesize<'a, 'k> {
    config: &'a MlConfig,
    layouter: &'a mut Layouter<'k>,
    limbs: ElementLimbs<'a>,
    /// Under private parameters: the cell of every parameter placed so far, and the cell
    /// holding 1 that biases and constant coefficients multiply.
    params: HashMap<usize, AssignedCell>,
    one: Option<AssignedCell>,
}

impl<'a, 'k> Synthesize<'a, 'k> {
    /// With `plan` as for [`Evaluate::new`].
    pub fn new(config: &'a MlConfig, layouter: &'a mut Layouter<'k>, plan: &'a [usize]) -> Self {
        Synthesize { config, layouter, limbs: ElementLimbs { plan, next: 0 }, params: HashMap::new(), one: None }
    }
}

fn cell(w: &Wire) -> AssignedCell {
    w.cell.expect("synthesis gives every wire a cell")
}

pub fn wire(c: AssignedCell) -> Wire {
    let value = c.value.map(|f| to_i64(f).expect("gadget values fit in 64 bits"));
    Wire { value, cell: Some(c), interval: None }
}

impl Synthesize<'_, '_> {
    /// The cell holding 1 that constant coefficients of the `param dot` gate multiply, placed
    /// once.
    fn one(&mut self) -> Result<AssignedCell, Error> {
        Ok(match self.one {
            Some(one) => one,
            None => *self.one.insert(self.config.constant(self.layouter, 1)?),
        })
    }
}

impl Arith for Synthesize<'_, '_> {
    fn shape(&self) -> Shape {
        self.config.shape
    }

    fn dot(&mut self, products: Vec<Dot>) -> Result<Vec<Wire>, Error> {
        if !self.config.shape.private_params || !products.iter().any(Dot::has_params) {
            let products: Vec<DotProduct> = products
                .into_par_iter()
                .map(|p| DotProduct { inputs: p.inputs.iter().map(cell).collect(), weights: p.weights.iter().map(Coef::value).collect(), bias: p.bias.value() })
                .collect();
            return Ok(self.config.dot(self.layouter, &products)?.into_iter().map(wire).collect());
        }
        let one = self.one()?;
        let coefficient = |c: &Coef| match *c {
            Coef::Const(c) => Coefficient::Constant(c),
            Coef::Param { id, value } => Coefficient::Param { id, value },
        };
        let products: Vec<ParamDot> = products
            .iter()
            .map(|p| {
                let mut inputs: Vec<AssignedCell> = p.inputs.iter().map(cell).collect();
                let mut coefficients: Vec<Coefficient> = p.weights.iter().map(coefficient).collect();
                // A parameter bias is a parameter weight on the cell holding 1.
                let bias = match p.bias {
                    Coef::Const(b) => b,
                    Coef::Param { .. } => {
                        inputs.push(one);
                        coefficients.push(coefficient(&p.bias));
                        0
                    }
                };
                ParamDot { inputs, coefficients, bias }
            })
            .collect();
        Ok(self.config.param_dot(self.layouter, &one, &mut self.params, &products)?.into_iter().map(wire).collect())
    }

    fn element(&mut self, op: ElementOp, items: Vec<(Wire, Option<Wire>)>) -> Result<Vec<Wire>, Error> {
        let items: Vec<_> = items.iter().map(|(x, s)| (cell(x), s.as_ref().map(cell))).collect();
        let limbs = self.limbs.next(&self.config.shape);
        Ok(self.config.element(self.layouter, op, limbs, &items)?.into_iter().map(wire).collect())
    }

    fn linear(&mut self, items: Vec<(Wire, i64, Wire, i64)>) -> Result<Vec<Wire>, Error> {
        let items: Vec<_> = items.iter().map(|(a, c0, b, c1)| (cell(a), *c0, cell(b), *c1)).collect();
        Ok(self.config.linear(self.layouter, &items)?.into_iter().map(wire).collect())
    }

    fn products(&mut self, items: Vec<Vec<(Wire, Wire)>>) -> Result<Vec<Wire>, Error> {
        let one = self.one()?;
        let products: Vec<ParamDot> = items
            .iter()
            .map(|pairs| ParamDot { inputs: pairs.iter().map(|(a, _)| cell(a)).collect(), coefficients: pairs.iter().map(|(_, b)| Coefficient::Cell(cell(b))).collect(), bias: 0 })
            .collect();
        Ok(self.config.param_dot(self.layouter, &one, &mut self.params, &products)?.into_iter().map(wire).collect())
    }

    fn function(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let items: Vec<_> = items.iter().map(cell).collect();
        Ok(self.config.function(self.layouter, f, &items, false)?.into_iter().map(wire).collect())
    }

    fn function_of_sums(&mut self, f: Function, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let items: Vec<_> = items.iter().map(cell).collect();
        Ok(self.config.function(self.layouter, f, &items, true)?.into_iter().map(wire).collect())
    }

    fn divide(&mut self, items: Vec<(Wire, Wire)>, _: Option<i64>) -> Result<Vec<Wire>, Error> {
        let items: Vec<_> = items.iter().map(|(n, d)| (cell(n), cell(d))).collect();
        Ok(self.config.divide(self.layouter, &items)?.into_iter().map(wire).collect())
    }

    fn sqrt(&mut self, items: Vec<Wire>) -> Result<Vec<Wire>, Error> {
        let one = self.one()?;
        let items: Vec<_> = items.iter().map(cell).collect();
        Ok(self.config.sqrt(self.layouter, &one, &items)?.into_iter().map(wire).collect())
    }

    fn gather(&mut self, table: &GatherTable, items: Vec<(Wire, usize)>) -> Result<Vec<Wire>, Error> {
        let items: Vec<_> = items.iter().map(|(x, j)| (cell(x), *j)).collect();
        Ok(self.config.gather(self.layouter, table, &items)?.into_iter().map(wire).collect())
    }

    fn constant(&mut self, value: i64) -> Result<Wire, Error> {
        Ok(wire(self.config.constant(self.layouter, value)?))
    }

    fn assume(&mut self, items: Vec<Wire>, _: i64, _: i64) -> Result<Vec<Wire>, Error> {
        Ok(items)
    }
}
