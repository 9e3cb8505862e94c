//! Comparisons of computed values, with constants or with each other, exact on the grid: the
//! tree ensembles' branches, Binarizer and Imputer, and the ONNX ops Less, LessOrEqual,
//! Greater, GreaterOrEqual and Equal (whose 0/1 results are fixed-point 0 and 1).
//!
//! Every comparison is `[x <= T]` for an integer `T` in grid units (see [`Mode::threshold`]): for
//! the integer `d = T + 1 - x`, `relu(d)` and `max(d, 1)` are two exact element steps whose
//! difference is `[x > T]`; an equality takes `max(d, 2)` as well (see [`equal_terms`]). Two
//! computed operands compare their difference with zero.

use super::{broadcast, Constant, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::{broadcast_shape, Tensor};
use crate::Error;
use zkinfer_circuits::gadgets::{ElementOp, Shape};

/// How a value `x` is compared with a threshold `v` (a tree branch's mode, Less and its kin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
}

impl Mode {
    /// A node's mode; `None` for a leaf.
    pub(super) fn parse(mode: &str) -> Result<Option<Self>, String> {
        Ok(Some(match mode {
            "BRANCH_LEQ" => Mode::Leq,
            "BRANCH_LT" => Mode::Lt,
            "BRANCH_GTE" => Mode::Gte,
            "BRANCH_GT" => Mode::Gt,
            "LEAF" => return Ok(None),
            other => return Err(format!("node mode {other} is not supported (BRANCH_LEQ, BRANCH_LT, BRANCH_GTE, BRANCH_GT, BRANCH_EQ, BRANCH_NEQ and LEAF are)")),
        }))
    }

    /// The float semantics, as onnxruntime compares float32 values.
    pub(super) fn holds(self, x: f32, v: f32) -> bool {
        match self {
            Mode::Leq => x <= v,
            Mode::Lt => x < v,
            Mode::Gte => x >= v,
            Mode::Gt => x > v,
        }
    }

    /// The comparison on fixed-point features of a circuit of shape `shape`:
    /// `(T, true_when_at_most)`, the branch going true exactly when `x <= T` (or exactly when
    /// not). Exact for every feature the grid holds: `x <= v` is `x <= floor(v 2^s)`, `x < v` is
    /// `x <= ceil(v 2^s) - 1`, and the other two their complements. No feature leaves the
    /// circuit's range, so a threshold beyond it is clamped to it: it compares the same.
    pub(super) fn threshold(self, v: f32, shape: Shape) -> (i64, bool) {
        let scaled = v as f64 * (1u64 << shape.scale_bits) as f64;
        let (t, at_most) = match self {
            Mode::Leq => (scaled.floor() as i64, true),
            Mode::Gt => (scaled.floor() as i64, false),
            Mode::Lt => (scaled.ceil() as i64 - 1, true),
            Mode::Gte => (scaled.ceil() as i64 - 1, false),
        };
        (t.clamp(-shape.bound(), shape.bound()), at_most)
    }
}

/// For each item `(x, T + 1)`, a fixed-point value and a threshold's successor as a
/// coefficient, the integer `d = T + 1 - x` through `max(d, f)` for each floor `f` (0: a ReLU):
/// exact element steps, one list per floor.
fn floored(arith: &mut dyn Arith, items: Vec<(Wire, Coef)>, floors: &[i64]) -> Result<Vec<Vec<Wire>>, Error> {
    let floors = floors.iter().map(|&f| if f == 0 { Ok(None) } else { arith.constant(f).map(Some) }).collect::<Result<Vec<_>, _>>()?;
    let shifted = arith.dot(items.into_iter().map(|(x, successor)| Dot { inputs: vec![x], weights: vec![Coef::Const(-1)], bias: successor }).collect())?;
    let relu = ElementOp { rescale: false, relu: true };
    floors.into_iter().map(|floor| arith.element(relu, shifted.iter().map(|d| (d.clone(), floor.clone())).collect())).collect()
}

/// `[x <= T]` per item `(x, T + 1)`: the pair `relu(d)` and `max(d, 1)` for `d = T + 1 - x`,
/// whose difference plus one is the comparison, 0 or 1 (`max(d, 1) - relu(d)` is 1 exactly
/// when `d <= 0`, that is `x > T`).
pub(super) fn at_most(arith: &mut dyn Arith, items: Vec<(Wire, Coef)>) -> Result<(Vec<Wire>, Vec<Wire>), Error> {
    let mut steps = floored(arith, items, &[0, 1])?.into_iter();
    Ok((steps.next().expect("two floors"), steps.next().expect("two floors")))
}

/// `[x > T]` in fixed point (0 or `2^scale`) per item `(x, T + 1)`, or its complement `[x <= T]`
/// where the item's flag is set.
pub(super) fn indicator(arith: &mut dyn Arith, items: Vec<(Wire, Coef, bool)>) -> Result<Vec<Wire>, Error> {
    let one = 1i64 << arith.shape().scale_bits;
    let complements: Vec<bool> = items.iter().map(|(_, _, c)| *c).collect();
    let (above, at) = at_most(arith, items.into_iter().map(|(x, t, _)| (x, t)).collect())?;
    let dots = above
        .into_iter()
        .zip(at)
        .zip(complements)
        .map(|((a, b), complement)| {
            let sign = if complement { -one } else { one };
            Dot { inputs: vec![b, a], weights: vec![Coef::Const(sign), Coef::Const(-sign)], bias: Coef::Const(if complement { one } else { 0 }) }
        })
        .collect();
    let out = arith.dot(dots)?;
    arith.assume(out, 0, one)
}

/// `[x == V]` in grid units per item `(x, V + 1)` (the successor as a coefficient): for the
/// integer `d = V + 1 - x`, the exact steps `max(d, 0)`, `max(d, 1)` and `max(d, 2)` weighed by
/// [`EQUAL_WEIGHTS`] sum to 1 exactly at `d = 1` (`[d <= 1] - [d <= 0]`), else to 0.
pub(super) fn equal_terms(arith: &mut dyn Arith, items: Vec<(Wire, Coef)>) -> Result<Vec<[Wire; 3]>, Error> {
    let mut steps = floored(arith, items, &[0, 1, 2])?.into_iter();
    let (a, b, c) = (steps.next().expect("three floors"), steps.next().expect("three floors"), steps.next().expect("three floors"));
    Ok(a.into_iter().zip(b).zip(c).map(|((a, b), c)| [a, b, c]).collect())
}

/// The weights of [`equal_terms`]' wires.
pub(super) const EQUAL_WEIGHTS: [i64; 3] = [1, -2, 1];

/// The grid value of a constant `k` compared for equality, `None` where no fixed-point value
/// equals it (off the grid, or beyond the circuit's range).
pub(super) fn on_grid(k: f64, shape: Shape) -> Option<i64> {
    let v = k * (1u64 << shape.scale_bits) as f64;
    (v.fract() == 0.0 && v.abs() <= shape.bound() as f64).then_some(v as i64)
}

/// `[x == V]` in fixed point (0 or `2^scale`) per item `(x, V + 1)`; an item without a
/// successor (a constant [`on_grid`] finds no grid value for) is a constant 0.
pub(super) fn equal_to(arith: &mut dyn Arith, items: Vec<(Wire, Option<Coef>)>) -> Result<Vec<Wire>, Error> {
    let one = 1i64 << arith.shape().scale_bits;
    let on_grid: Vec<bool> = items.iter().map(|(_, v)| v.is_some()).collect();
    let compared = items.into_iter().filter_map(|(x, v)| v.map(|v| (x, v))).collect();
    let dots = equal_terms(arith, compared)?
        .into_iter()
        .map(|terms| Dot { inputs: terms.to_vec(), weights: EQUAL_WEIGHTS.map(|w| Coef::Const(w * one)).to_vec(), bias: Coef::Const(0) })
        .collect();
    let out = arith.dot(dots)?;
    let mut equal = arith.assume(out, 0, one)?.into_iter();
    let zero = if on_grid.contains(&false) { Some(arith.constant(0)?) } else { None };
    Ok(on_grid.into_iter().map(|g| if g { equal.next().expect("one per item on the grid") } else { zero.clone().expect("made for the items off it") }).collect())
}

/// What a comparison op compares its (first) computed operand with.
#[derive(Debug)]
enum Other {
    /// A constant, broadcast numpy-style.
    Constant(Constant),
    /// The second computed operand: their difference is compared with zero.
    Computed,
}

/// Less, LessOrEqual, Greater, GreaterOrEqual (`mode`) and Equal (`mode` None): 1 where the
/// comparison holds, else 0.
#[derive(Debug)]
pub struct Compare {
    mode: Option<Mode>,
    other: Other,
}

/// `a mode b`; a constant first operand turns the comparison around (`c < x` is `x > c`).
fn compare(ctx: &NodeCtx, mode: Option<Mode>) -> Result<Box<dyn Op>, String> {
    let flipped = mode.map(|m| match m {
        Mode::Lt => Mode::Gt,
        Mode::Gt => Mode::Lt,
        Mode::Leq => Mode::Gte,
        Mode::Gte => Mode::Leq,
    });
    let (mode, other) = match (ctx.constant(0), ctx.constant(1)) {
        (None, None) => (mode, Other::Computed),
        (None, Some(c)) => (mode, Other::Constant(ctx.param(c.clone())?)),
        (Some(c), None) => (flipped, Other::Constant(ctx.param(c.clone())?)),
        (Some(_), Some(_)) => return Err("both operands are constants; constant-fold the model before export".into()),
    };
    Ok(Box::new(Compare { mode, other }))
}

/// `[x > 1/2]`: a bool model input made 0 or 1 in the circuit, as the logical ops and Where
/// require of their operands (a prover could otherwise give any value in range). On the
/// input's own values, 0 and 1, it is the identity.
pub fn booleanized() -> Box<dyn Op> {
    Box::new(Compare { mode: Some(Mode::Gt), other: Other::Constant(Constant::fixed(Tensor::new(vec![], vec![0.5]))) })
}

pub fn less(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    compare(ctx, Some(Mode::Lt))
}

pub fn less_or_equal(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    compare(ctx, Some(Mode::Leq))
}

pub fn greater(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    compare(ctx, Some(Mode::Gt))
}

pub fn greater_or_equal(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    compare(ctx, Some(Mode::Gte))
}

pub fn equal(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    compare(ctx, None)
}

impl Compare {
    /// The computed values to compare, each with the index of its constant (0 when comparing a
    /// difference with zero), and the output shape.
    fn operands<T: Clone>(&self, inputs: &[&Tensor<T>], difference: impl Fn(T, T) -> T) -> Result<Tensor<(T, usize)>, Error> {
        match &self.other {
            Other::Computed => Ok(super::product::elementwise(inputs[0], inputs[1])?.map(|(a, b)| (difference(a.clone(), b.clone()), 0))),
            Other::Constant(c) => {
                let x = inputs[0];
                let shape = broadcast_shape(&[&x.shape, &c.values.shape]).map_err(Error::Shape)?;
                let (ix, ic) = (broadcast(&x.shape, &shape).map_err(Error::Shape)?, broadcast(&c.values.shape, &shape).map_err(Error::Shape)?);
                Ok(Tensor::new(shape, ix.iter().zip(&ic).map(|(&i, &j)| (x.data[i].clone(), j)).collect()))
            }
        }
    }

    /// The constant compared with at index `j`.
    fn threshold(&self, j: usize) -> f32 {
        match &self.other {
            Other::Constant(c) => c.values.data[j],
            Other::Computed => 0.0,
        }
    }

    /// The coefficient of the integer `t` derived from the constant at `j`: a parameter's
    /// cell under private parameters, as the constant is.
    fn coef(&self, j: usize, t: i64) -> Coef {
        match &self.other {
            Other::Constant(c) => c.coef_with(j, t),
            Other::Computed => Coef::Const(t),
        }
    }
}

impl Op for Compare {
    fn boolean(&self, _: &[bool]) -> bool {
        true
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        match &self.other {
            Other::Computed => broadcast_shape(&[inputs[0], inputs[1]]),
            Other::Constant(c) => broadcast_shape(&[inputs[0], &c.values.shape]),
        }
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shape = arith.shape();
        let operands = match &self.other {
            Other::Computed => {
                let pairs = super::product::elementwise(inputs[0], inputs[1])?;
                let differences = arith.linear(pairs.data.into_iter().map(|(a, b)| (a, 1, b, -1)).collect())?;
                Tensor::new(pairs.shape, differences.into_iter().map(|d| (d, 0)).collect())
            }
            Other::Constant(_) => self.operands(inputs, |a, _| a)?,
        };
        let out = match self.mode {
            Some(mode) => {
                let items = operands
                    .data
                    .into_iter()
                    .map(|(x, j)| {
                        let (t, at_most) = mode.threshold(self.threshold(j), shape);
                        (x, self.coef(j, t + 1), at_most)
                    })
                    .collect();
                indicator(arith, items)?
            }
            None => {
                let items = operands.data.into_iter().map(|(x, j)| (x, on_grid(self.threshold(j) as f64, shape).map(|v| self.coef(j, v + 1)))).collect();
                equal_to(arith, items)?
            }
        };
        Ok(Tensor::new(operands.shape, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let operands = self.operands(inputs, |a, b| a - b)?;
        let holds = |(x, j): &(f32, usize)| {
            let v = self.threshold(*j);
            match self.mode {
                Some(mode) => mode.holds(*x, v),
                None => *x == v,
            }
        };
        Ok(Tensor::new(operands.shape.clone(), operands.data.iter().map(|o| if holds(o) { 1.0 } else { 0.0 }).collect()))
    }
}
