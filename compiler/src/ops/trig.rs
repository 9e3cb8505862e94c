//! Sin and Cos: the input reduced into one period, `r = x + phase - 2 pi n` for the whole
//! `n = floor((x + phase) / (2 pi) + 1/2)` (Cos's phase is `pi/2`), then one lookup of the sine's
//! table on `[-4, 4)` ([`Function::Sin`]). `r` is computed at `2^-2s` and rescaled once, so its
//! error is half a step plus `|n|` times half of `2^-2s` (2 pi's); the lookup's is about a step
//! more. The table has no limit
//! below it, so `n` must put `r` inside it for every input the circuit accepts, not only for
//! honest ones: `1 / (2 pi)` is held to `2^-3s` in three parts, each product rescaled in turn,
//! which leaves `t` within about a step of `(x + phase) / (2 pi) + 1/2` over any range the
//! circuit's values can span, and `r` within a few steps of `[-pi, pi]`.

use super::elementwise::whole_floors;
use super::{NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use std::f64::consts::{FRAC_PI_2, PI};
use zkinfer_circuits::gadgets::{ElementOp, Function};

const RESCALE: ElementOp = ElementOp { rescale: true, relu: false };

/// `sin(x + phase)`.
#[derive(Debug)]
pub struct Sine {
    phase: f64,
}

pub fn sin(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Sine { phase: 0.0 }))
}

pub fn cos(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Sine { phase: FRAC_PI_2 }))
}

impl Op for Sine {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let fine = |v: f64| (v * (1u64 << (2 * s)) as f64).round() as i64;
        // `1 / (2 pi)` at 2^-3s as `high 2^2s + mid 2^s + low`: `t 2^2s = x high + (x mid + x low
        // 2^-s) 2^-s`, each part rescaled in turn, so that `|x| 2^-(3s+1)` is all the constant costs.
        let turns = (1.0 / (2.0 * PI) * (1u64 << (3 * s)) as f64).round() as i64;
        let part = |v: i64| (v + (1 << (s - 1))) >> s;
        let (high, rest) = (part(part(turns)), turns - (part(part(turns)) << (2 * s)));
        let (mid, low) = (part(rest), rest - (part(rest) << s));
        let times = |arith: &mut dyn Arith, c: i64, added: Option<Vec<Wire>>| -> Result<Vec<Wire>, Error> {
            let dots = x.data.iter().enumerate().map(|(i, v)| match &added {
                Some(a) => Dot { inputs: vec![v.clone(), a[i].clone()], weights: vec![Coef::Const(c), Coef::Const(1)], bias: Coef::Const(0) },
                None => Dot { inputs: vec![v.clone()], weights: vec![Coef::Const(c)], bias: Coef::Const(0) },
            });
            let dots = arith.dot(dots.collect())?;
            arith.element(RESCALE, dots.into_iter().map(|v| (v, None)).collect())
        };
        let low = times(arith, low, None)?;
        let mid = times(arith, mid, Some(low))?;
        let t = x.data.iter().zip(mid).map(|(v, m)| Dot {
            inputs: vec![v.clone(), m],
            weights: vec![Coef::Const(high), Coef::Const(1)],
            bias: Coef::Const(fine(self.phase / (2.0 * PI) + 0.5)),
        });
        let t = arith.dot(t.collect())?;
        let t = arith.element(RESCALE, t.into_iter().map(|v| (v, None)).collect())?;
        let n = whole_floors(arith, t, 1)?;
        let reduced = x.data.iter().zip(n).map(|(v, n)| Dot {
            inputs: vec![v.clone(), n],
            weights: vec![Coef::Const(1 << s), Coef::Const(-fine(2.0 * PI))],
            bias: Coef::Const(fine(self.phase)),
        });
        let reduced = arith.dot(reduced.collect())?;
        let reduced = arith.element(RESCALE, reduced.into_iter().map(|v| (v, None)).collect())?;
        Ok(Tensor::new(x.shape.clone(), arith.function(Function::Sin, reduced)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| if self.phase == 0.0 { (x as f64).sin() } else { (x as f64).cos() } as f32))
    }

    fn functions(&self) -> u32 {
        Function::Sin.bit()
    }
}

/// Tan, `sin x / cos x`: the division gadget takes a positive divisor, so both are first
/// multiplied by the cosine's sign (exact); a cosine within a step of 0, a pole, is refused
/// before proving. The error grows as `1 / cos^2 x` near the poles: about `1.5 / cos^2 x` steps.
#[derive(Debug)]
pub struct Tangent;

pub fn tan(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Tangent))
}

impl Op for Tangent {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let (sin, cos) = (Sine { phase: 0.0 }.apply(arith, inputs)?, Sine { phase: FRAC_PI_2 }.apply(arith, inputs)?);
        let sign = super::rounding::Sign.apply(arith, &[&cos])?;
        let pairs = sin.data.iter().chain(&cos.data).zip(sign.data.iter().chain(&sign.data)).map(|(v, s)| vec![(v.clone(), s.clone())]).collect();
        let signed = arith.products(pairs)?;
        let mut signed = arith.element(RESCALE, signed.into_iter().map(|v| (v, None)).collect())?;
        let magnitudes = arith.assume(signed.split_off(sin.len()), 0, i64::MAX)?;
        Ok(Tensor::new(sin.shape.clone(), arith.divide(signed.into_iter().zip(magnitudes).collect(), None)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| (x as f64).tan() as f32))
    }

    fn functions(&self) -> u32 {
        Function::Sin.bit()
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// Asin (and Acos, `pi/2 - asin x`) through Atan's table: `asin x = atan(x / sqrt(1 - x^2))`,
/// which softsign makes `u = x / (sqrt(1 - x^2) + |x|)`, a divisor of at least `1/sqrt 2` and no
/// pole; `|x| > 1` has no root and is refused before proving. Within about two steps.
#[derive(Debug)]
pub struct ArcSine {
    acos: bool,
}

pub fn asin(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(ArcSine { acos: false }))
}

pub fn acos(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(ArcSine { acos: true }))
}

impl Op for ArcSine {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        if let Some(v) = x.data.iter().filter_map(|v| v.value.inner()).find(|v| v.abs() > 1 << s) {
            let name = if self.acos { "Acos" } else { "Asin" };
            return Err(Error::Range(format!("{name} of {}: it is defined on [-1, 1]", v as f64 / (1u64 << s) as f64)));
        }
        let squares = arith.products(x.data.iter().map(|v| vec![(v.clone(), v.clone())]).collect())?;
        let rest = arith.dot(squares.into_iter().map(|q| Dot { inputs: vec![q], weights: vec![Coef::Const(-1)], bias: Coef::Const(1 << (2 * s)) }).collect())?;
        let rest = arith.element(RESCALE, rest.into_iter().map(|v| (v, None)).collect())?;
        let roots = arith.sqrt(rest)?;
        let magnitudes = super::elementwise::Abs.apply(arith, inputs)?;
        let divisors = arith.linear(roots.into_iter().zip(magnitudes.data).map(|(r, m)| (r, 1, m, 1)).collect())?;
        // sqrt(1 - x^2) + |x| is at least 1/sqrt 2, which the intervals do not show.
        let divisors = arith.assume(divisors, 1, i64::MAX)?;
        let u = arith.divide(x.data.iter().cloned().zip(divisors).collect(), Some(1 << s))?;
        let asin = arith.function(Function::Atan, u)?;
        let out = match self.acos {
            false => asin,
            true => arith.dot(
                asin.into_iter().map(|a| Dot { inputs: vec![a], weights: vec![Coef::Const(-1)], bias: Coef::Const((FRAC_PI_2 * (1u64 << s) as f64).round() as i64) }).collect(),
            )?,
        };
        Ok(Tensor::new(x.shape.clone(), out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| if self.acos { (x as f64).acos() } else { (x as f64).asin() } as f32))
    }

    fn functions(&self) -> u32 {
        Function::Atan.bit()
    }

    fn uses_products(&self) -> bool {
        true
    }
}
