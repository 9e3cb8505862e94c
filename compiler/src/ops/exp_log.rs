//! Exp, Log and LogSoftmax over any range, by range reduction with powers of two: a table of
//! each function over one octave, and the octave's power of two read from a fixed table at a
//! computed index (the `gather` gate).
//!
//! `e^x = 2^k e^r` for `k = ceil(x / ln 2)`, `r = x - k ln 2` in `(-ln 2, 0]`: `e^r` in `(1/2, 1]`
//! is Exp's lookup (the softmax's table, inputs at most 0), and the product with `2^k` is
//! rescaled once. Each output is within about 1.5 steps of `e^x` where `x <= 0` (`2^k <= 1`), and
//! within `1.5 * 2^k < 3 e^x` steps above: a relative error of about `3 * 2^-s`.
//!
//! `ln x = ln m + k ln 2` for `k = floor(log2 x)`, `m = x 2^-k` in `[1, 2)`: `k` counts the
//! comparisons `[x >= 2^j]` that hold (exact on the grid), `2^-k` is read from the table, `m` is
//! one product rescaled, and `ln m` a lookup of the mantissa's logarithm, within about two steps.
//! A value at or below 0 has no logarithm: refused before proving, and its mantissa (below 1)
//! has no witness in the table. LogSoftmax is `x - max - ln(sum e^(x - max))`, the sum
//! Softmax's, in `[1, n]` for a lane of `n`, so its `k` takes `log2 n` comparisons per lane where
//! Log takes `2s + 1` per value.

use super::compare::at_most;
use super::elementwise::whole_floors;
use super::nonlinear::{lanes, shifted_exps, ShiftedExps};
use super::{axis as axis_of, quantize, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::{ElementOp, Function, GatherTable};

const RESCALE: ElementOp = ElementOp { rescale: true, relu: false };
const RELU: ElementOp = ElementOp { rescale: false, relu: true };

/// `2^p` at scale `2^-s` in row `p + s + 1`, for `p` in `[-s, s]`, and 0 in row 0 (`2^-(s+1)`,
/// under half a step): the powers of two that the reductions read.
pub(super) fn powers_of_two(scale_bits: u32) -> GatherTable {
    GatherTable { row_len: 1, values: std::iter::once(0).chain((0..=2 * scale_bits).map(|i| 1i64 << i)).collect() }
}

/// Reads `2^p` per item, `index` the fixed-point wire of `p + s + 1`.
fn power(arith: &mut dyn Arith, table: &GatherTable, index: Vec<Wire>) -> Result<Vec<Wire>, Error> {
    arith.gather(table, index.into_iter().map(|i| (i, 0)).collect())
}

fn real(v: i64, s: u32) -> f64 {
    v as f64 / (1u64 << s) as f64
}

#[derive(Debug)]
pub struct Exp {
    table: GatherTable,
}

pub fn exp(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Exp { table: powers_of_two(ctx.scale_bits) }))
}

impl Op for Exp {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let ln2 = std::f64::consts::LN_2;
        if let Some(v) = x.data.iter().filter_map(|v| v.value.inner()).find(|&v| real(v, s) >= s as f64 * ln2) {
            return Err(Error::Range(format!("Exp of {}: e^x above 2^{s} is beyond what the scale 2^-{s} reads; compile with a coarser --scale", real(v, s))));
        }
        // Below -(s + 1) ln 2, e^x is under half a step: clamped there it is 0 all the same (row
        // 0 of the powers), and `k` stays within the table.
        let floor = arith.constant(-quantize(((s + 1) as f64 * ln2) as f32, s))?;
        let clamped = arith.element(RELU, x.data.iter().map(|v| (v.clone(), Some(floor.clone()))).collect())?;
        let over_ln2 = quantize((1.0 / ln2) as f32, s);
        let t = arith.dot(clamped.iter().map(|v| Dot { inputs: vec![v.clone()], weights: vec![Coef::Const(over_ln2)], bias: Coef::Const(0) }).collect())?;
        let t = arith.element(RESCALE, t.into_iter().map(|v| (v, None)).collect())?;
        // `-k = floor(-t)`, whole: one off where `x / ln 2` is within a step of an integer, which
        // leaves `r` a step outside `(-ln 2, 0]`, within Exp's table all the same.
        let minus_k = whole_floors(arith, t, -1)?;
        let ln2_fine = (ln2 * (1u64 << (2 * s)) as f64).round() as i64;
        let reduced =
            clamped.iter().zip(&minus_k).map(|(v, k)| Dot { inputs: vec![v.clone(), k.clone()], weights: vec![Coef::Const(1 << s), Coef::Const(ln2_fine)], bias: Coef::Const(0) });
        let reduced = arith.dot(reduced.collect())?;
        let reduced = arith.element(RESCALE, reduced.into_iter().map(|v| (v, None)).collect())?;
        let mantissas = arith.function(Function::Exp, reduced)?;
        let index = arith.dot(minus_k.into_iter().map(|k| Dot { inputs: vec![k], weights: vec![Coef::Const(-(1 << s))], bias: Coef::Const((s as i64 + 1) << s) }).collect())?;
        let powers = power(arith, &self.table, index)?;
        let products = arith.products(mantissas.into_iter().zip(powers).map(|(m, p)| vec![(m, p)]).collect())?;
        let out = arith.element(RESCALE, products.into_iter().map(|p| (p, None)).collect())?;
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| (x as f64).exp() as f32))
    }

    fn functions(&self) -> u32 {
        Function::Exp.bit()
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.table)
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// `ln x` per item, for values known to lie in `[2^lowest, 2^(highest + 1))`, `-s <= lowest` and
/// `highest <= s`: `k - lowest` of the comparisons `[x >= 2^j]`, `j` in `(lowest, highest + 1]`,
/// hold, the last of which must not (were it to, `2^-k` would read as 0).
pub(super) fn ln(arith: &mut dyn Arith, table: &GatherTable, x: &[Wire], lowest: i64, highest: i64) -> Result<Vec<Wire>, Error> {
    let s = arith.shape().scale_bits as i64;
    let comparisons: Vec<i64> = (lowest + 1..=highest + 1).collect();
    // `[x > 2^(j+s) - 1]` is `max(d, 1) - relu(d)` for `d = 2^(j+s) - x`, whole.
    let items = x.iter().flat_map(|v| comparisons.iter().map(move |j| (v.clone(), Coef::Const(1 << (j + s))))).collect();
    let (relus, ones) = at_most(arith, items)?;
    let (relus, ones): (Vec<&[Wire]>, Vec<&[Wire]>) = (relus.chunks(comparisons.len()).collect(), ones.chunks(comparisons.len()).collect());
    // Per item, its bits and their weights: `w` per comparison that holds.
    let counted = |i: usize, w: i64| -> (Vec<Wire>, Vec<Coef>) {
        let inputs = ones[i].iter().chain(relus[i]).cloned().collect();
        let weights = std::iter::repeat_n(Coef::Const(w), comparisons.len()).chain(std::iter::repeat_n(Coef::Const(-w), comparisons.len())).collect();
        (inputs, weights)
    };
    // `2^-k` is row `s + 1 - k` of the powers, `k = lowest + count`: row 0, 0, where the last
    // comparison holds, and the mantissa 0 has no logarithm.
    let index = (0..x.len()).map(|i| {
        let (inputs, weights) = counted(i, -(1 << s));
        Dot { inputs, weights, bias: Coef::Const((s + 1 - lowest) << s) }
    });
    let index = arith.dot(index.collect())?;
    let powers = power(arith, table, index)?;
    let products = arith.products(x.iter().zip(powers).map(|(v, p)| vec![(v.clone(), p)]).collect())?;
    let mantissas = arith.element(RESCALE, products.into_iter().map(|p| (p, None)).collect())?;
    let mantissas = arith.assume(mantissas, 1 << s, 2 << s)?;
    let negated = arith.dot(mantissas.into_iter().map(|m| Dot { inputs: vec![m], weights: vec![Coef::Const(-1)], bias: Coef::Const(0) }).collect())?;
    let logs = arith.function(Function::LnOfNegated, negated)?;
    let ln2_fine = (std::f64::consts::LN_2 * (1u64 << (2 * s)) as f64).round() as i64;
    let sums = logs.into_iter().enumerate().map(|(i, l)| {
        let (mut inputs, mut weights) = counted(i, ln2_fine);
        inputs.push(l);
        weights.push(Coef::Const(1 << s));
        Dot { inputs, weights, bias: Coef::Const(lowest * ln2_fine) }
    });
    let sums = arith.dot(sums.collect())?;
    arith.element(RESCALE, sums.into_iter().map(|v| (v, None)).collect())
}

#[derive(Debug)]
pub struct Log {
    table: GatherTable,
}

pub fn log(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Log { table: powers_of_two(ctx.scale_bits) }))
}

impl Op for Log {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        if let Some(v) = x.data.iter().filter_map(|v| v.value.inner()).find(|&v| v <= 0 || v >= 1 << (2 * s + 1)) {
            let why = if v <= 0 { "a value at or below 0 has no logarithm".to_string() } else { format!("Log reads values below 2^{} at the scale 2^-{s}", s + 1) };
            return Err(Error::Range(format!("Log of {}: {why}", real(v, s))));
        }
        let out = ln(arith, &self.table, &x.data, -(s as i64), s as i64)?;
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| (x as f64).ln() as f32))
    }

    fn functions(&self) -> u32 {
        Function::LnOfNegated.bit()
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.table)
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// The `highest` of [`ln`] for a sum of `n` exponentials, each at most 1: below
/// `2^(highest + 1)`. Lanes longer than `2^(s+1)` are refused.
pub(super) fn lane_bits(arith: &dyn Arith, n: usize) -> Result<i64, Error> {
    let s = arith.shape().scale_bits as i64;
    let highest = (0..).find(|h| 1usize << (h + 1) > n).expect("a power of two exceeds any length");
    if highest > s {
        return Err(Error::Shape(format!("a logarithm of the sum of {n} exponentials: at most 2^{} at the scale 2^-{s}", s + 1)));
    }
    Ok(highest)
}

/// Opset 13's LogSoftmax along one axis.
#[derive(Debug)]
pub struct LogSoftmax {
    axis: i64,
    table: GatherTable,
}

pub fn log_softmax(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(LogSoftmax { axis: ctx.int("axis", -1)?, table: powers_of_two(ctx.scale_bits) }))
}

impl Op for LogSoftmax {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        axis_of(self.axis, inputs[0].len())?;
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let lanes = lanes(&x.shape, axis_of(self.axis, x.shape.len()).map_err(Error::Shape)?);
        let highest = lane_bits(arith, lanes[0].len())?;
        let values: Vec<Vec<Wire>> = lanes.iter().map(|l| l.iter().map(|&i| x.data[i].clone()).collect()).collect();
        let ShiftedExps { shifted, sums, .. } = shifted_exps(arith, &values)?;
        let logs = ln(arith, &self.table, &sums, 0, highest)?;
        let out = shifted.iter().zip(&logs).flat_map(|(l, ln)| l.iter().map(move |v| (v.clone(), 1, ln.clone(), -1)));
        let mut out = arith.linear(out.collect())?.into_iter();
        let mut data = x.data.clone();
        for lane in &lanes {
            lane.iter().zip(out.by_ref()).for_each(|(&i, v)| data[i] = v);
        }
        Ok(Tensor::new(x.shape.clone(), data))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let mut data = x.data.clone();
        for lane in lanes(&x.shape, axis_of(self.axis, x.shape.len()).map_err(Error::Shape)?) {
            let max = lane.iter().map(|&i| x.data[i] as f64).fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = lane.iter().map(|&i| (x.data[i] as f64 - max).exp()).sum();
            lane.iter().for_each(|&i| data[i] = (x.data[i] as f64 - max - sum.ln()) as f32);
        }
        Ok(Tensor::new(x.shape.clone(), data))
    }

    fn functions(&self) -> u32 {
        Function::Exp.bit() | Function::LnOfNegated.bit()
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.table)
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// Sinh and Cosh, `(e^x -+ e^-x) / 2`: Exp of `x` and of `-x`, halved in one rescale; inputs
/// below `s ln 2` in magnitude (each exponential refused by name above). Within Exp's relative
/// error, about `3 * 2^-s` of `e^|x|`.
#[derive(Debug)]
pub struct Hyperbolic {
    cosh: bool,
    exp: Exp,
}

pub fn sinh(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Hyperbolic { cosh: false, exp: Exp { table: powers_of_two(ctx.scale_bits) } }))
}

pub fn cosh(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Hyperbolic { cosh: true, exp: Exp { table: powers_of_two(ctx.scale_bits) } }))
}

impl Op for Hyperbolic {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let half = 1i64 << (arith.shape().scale_bits - 1);
        let negated = Tensor::new(x.shape.clone(), super::negated(arith, x.data.clone())?);
        let (up, down) = (self.exp.apply(arith, &[x])?, self.exp.apply(arith, &[&negated])?);
        let sign = if self.cosh { 1 } else { -1 };
        let sums = up.data.into_iter().zip(down.data).map(|(u, d)| Dot { inputs: vec![u, d], weights: vec![Coef::Const(half), Coef::Const(sign * half)], bias: Coef::Const(0) });
        let sums = arith.dot(sums.collect())?;
        Ok(Tensor::new(x.shape.clone(), arith.element(RESCALE, sums.into_iter().map(|v| (v, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| if self.cosh { (x as f64).cosh() } else { (x as f64).sinh() } as f32))
    }

    fn functions(&self) -> u32 {
        self.exp.functions()
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.exp.table)
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// The inverse hyperbolic functions as logarithms of values at least 1 (or, Atanh, positive):
/// Asinh `sign(x) ln(|x| + sqrt(x^2 + 1))` (odd, so the logarithm's argument is at least 1),
/// Acosh `ln(x + sqrt(x^2 - 1))` (`x < 1` has no root: refused before proving), Atanh
/// `ln((1 + x) / (1 - x)) / 2` (`|x| >= 1` leaves a divisor at or below 0: refused). Within about
/// three steps; Atanh's grows near `|x| = 1` with the quotient's.
#[derive(Debug)]
pub struct InverseHyperbolic {
    kind: Inverse,
    table: GatherTable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inverse {
    Asinh,
    Acosh,
    Atanh,
}

fn inverse(ctx: &NodeCtx, kind: Inverse) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(InverseHyperbolic { kind, table: powers_of_two(ctx.scale_bits) }))
}

pub fn asinh(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    inverse(ctx, Inverse::Asinh)
}

pub fn acosh(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    inverse(ctx, Inverse::Acosh)
}

pub fn atanh(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    inverse(ctx, Inverse::Atanh)
}

impl Op for InverseHyperbolic {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let one = 1i64 << s;
        let outside = |v: i64| match self.kind {
            Inverse::Asinh => false,
            Inverse::Acosh => v < one,
            Inverse::Atanh => v.abs() >= one,
        };
        if let Some(v) = x.data.iter().filter_map(|v| v.value.inner()).find(|&v| outside(v)) {
            let domain = if self.kind == Inverse::Acosh { "from 1 on" } else { "on (-1, 1)" };
            return Err(Error::Range(format!("{:?} of {}: it is defined {domain}", self.kind, real(v, s))));
        }
        let arguments = match self.kind {
            Inverse::Atanh => {
                let terms = |sign: i64| x.data.iter().map(move |v| Dot { inputs: vec![v.clone()], weights: vec![Coef::Const(sign)], bias: Coef::Const(one) });
                let (above, below) = (arith.dot(terms(1).collect())?, arith.dot(terms(-1).collect())?);
                arith.divide(above.into_iter().zip(below).collect(), None)?
            }
            Inverse::Asinh | Inverse::Acosh => {
                let squares = arith.products(x.data.iter().map(|v| vec![(v.clone(), v.clone())]).collect())?;
                let shift = if self.kind == Inverse::Asinh { 1i64 } else { -1 };
                let squares = arith.dot(squares.into_iter().map(|q| Dot { inputs: vec![q], weights: vec![Coef::Const(1)], bias: Coef::Const(shift << (2 * s)) }).collect())?;
                let squares = arith.element(RESCALE, squares.into_iter().map(|v| (v, None)).collect())?;
                let roots = arith.sqrt(squares)?;
                let outer = match self.kind {
                    Inverse::Asinh => super::elementwise::Abs.apply(arith, inputs)?.data,
                    _ => x.data.clone(),
                };
                arith.linear(outer.into_iter().zip(roots).map(|(o, r)| (o, 1, r, 1)).collect())?
            }
        };
        let arguments = arith.assume(arguments, 1, i64::MAX)?;
        if let Some(v) = arguments.iter().filter_map(|v| v.value.inner()).find(|&v| v >= 1 << (2 * s + 1)) {
            return Err(Error::Range(format!("{:?}: the logarithm of {}, beyond 2^{} at the scale 2^-{s}", self.kind, real(v, s), s + 1)));
        }
        let logs = ln(arith, &self.table, &arguments, -(s as i64), s as i64)?;
        let out = match self.kind {
            Inverse::Acosh => logs,
            Inverse::Asinh => {
                let signs = super::rounding::Sign.apply(arith, inputs)?;
                let products = arith.products(logs.into_iter().zip(signs.data).map(|(l, g)| vec![(l, g)]).collect())?;
                arith.element(RESCALE, products.into_iter().map(|v| (v, None)).collect())?
            }
            Inverse::Atanh => {
                let halves = arith.dot(logs.into_iter().map(|l| Dot { inputs: vec![l], weights: vec![Coef::Const(one / 2)], bias: Coef::Const(0) }).collect())?;
                arith.element(RESCALE, halves.into_iter().map(|v| (v, None)).collect())?
            }
        };
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| {
            let x = x as f64;
            (match self.kind {
                Inverse::Asinh => x.asinh(),
                Inverse::Acosh => x.acosh(),
                Inverse::Atanh => x.atanh(),
            }) as f32
        }))
    }

    fn functions(&self) -> u32 {
        Function::LnOfNegated.bit()
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        Some(&self.table)
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// Pow with a constant exponent `p` other than 0.5, 1 and 2 (those are Sqrt, the value and a
/// square): a whole `p` by `|p| - 1` products, each rescaled (`p = 0` is 1, a negative `p` the
/// division gadget's `1 / x^|p|`, whose divisor must be positive); any other `p` as
/// `e^(p ln x)`, Log's then Exp's, for a positive base (a base at or below 0 has no real power of
/// it: refused by name).
#[derive(Debug)]
pub struct Power {
    exponent: f32,
    exp: Exp,
}

/// The most factors a whole exponent multiplies.
const MAX_FACTORS: f32 = 64.0;

pub(super) fn pow(ctx: &NodeCtx, exponent: f32) -> Result<Box<dyn Op>, String> {
    if !exponent.is_finite() || exponent.fract() == 0.0 && exponent.abs() > MAX_FACTORS {
        return Err(format!("exponent {exponent}: whole exponents up to {MAX_FACTORS} in magnitude, and finite others, are supported"));
    }
    Ok(Box::new(Power { exponent, exp: Exp { table: powers_of_two(ctx.scale_bits) } }))
}

impl Power {
    fn whole(&self) -> bool {
        self.exponent.fract() == 0.0
    }
}

impl Op for Power {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let one = 1i64 << s;
        if !self.whole() {
            if let Some(v) = x.data.iter().filter_map(|v| v.value.inner()).find(|&v| v <= 0) {
                return Err(Error::Range(format!("Pow of {} to {}: a base at or below 0 has no real power of it", real(v, s), self.exponent)));
            }
            let logs = Log { table: self.exp.table.clone() }.apply(arith, inputs)?;
            let scaled =
                arith.dot(logs.data.into_iter().map(|l| Dot { inputs: vec![l], weights: vec![Coef::Const(quantize(self.exponent, s))], bias: Coef::Const(0) }).collect())?;
            let scaled = Tensor::new(x.shape.clone(), arith.element(RESCALE, scaled.into_iter().map(|v| (v, None)).collect())?);
            return self.exp.apply(arith, &[&scaled]);
        }
        let n = self.exponent.abs() as usize;
        if n == 0 {
            let one = arith.constant(one)?;
            return Ok(Tensor::new(x.shape.clone(), vec![one; x.len()]));
        }
        let mut acc = x.data.clone();
        for _ in 1..n {
            let products = arith.products(acc.into_iter().zip(&x.data).map(|(a, v)| vec![(a, v.clone())]).collect())?;
            acc = arith.element(RESCALE, products.into_iter().map(|p| (p, None)).collect())?;
        }
        if self.exponent > 0.0 {
            return Ok(Tensor::new(x.shape.clone(), acc));
        }
        let numerator = arith.constant(one)?;
        Ok(Tensor::new(x.shape.clone(), arith.divide(acc.into_iter().map(|d| (numerator.clone(), d)).collect(), None)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| (x as f64).powf(self.exponent as f64) as f32))
    }

    fn functions(&self) -> u32 {
        if self.whole() {
            0
        } else {
            Function::Exp.bit() | Function::LnOfNegated.bit()
        }
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        (!self.whole()).then_some(&self.exp.table)
    }

    fn uses_products(&self) -> bool {
        true
    }
}
