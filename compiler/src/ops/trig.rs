//! Sin and Cos: the input reduced into one period, `r = x + phase - 2 pi n` for the whole
//! `n = floor((x + phase) / (2 pi) + 1/2)` (Cos's phase is `pi/2`), then one lookup of the sine's
//! table on `[-4, 4)` ([`Function::Sin`]). `r` is computed at `2^-2s` and rescaled once, so its
//! error is half a step whatever `n`; the lookup's is about a step more. `n` only has to put `r`
//! inside the table: the quantized `1 / (2 pi)` moves it by `|x| 2^-(s+1)` at most, which inputs
//! below `2^(s-2)` in magnitude keep within `[-4, 4)`; larger ones are refused by name.

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
        if let Some(v) = x.data.iter().filter_map(|v| v.value.inner()).find(|v| v.unsigned_abs() >= 1 << (2 * s - 2)) {
            let name = if self.phase == 0.0 { "Sin" } else { "Cos" };
            return Err(Error::Range(format!("{name} of {}: inputs below 2^{} in magnitude reduce into the table at the scale 2^-{s}", v as f64 / (1u64 << s) as f64, s - 2)));
        }
        let turns = (1.0 / (2.0 * PI) * (1u64 << s) as f64).round() as i64;
        let t = arith
            .dot(x.data.iter().map(|v| Dot { inputs: vec![v.clone()], weights: vec![Coef::Const(turns)], bias: Coef::Const(fine(self.phase / (2.0 * PI) + 0.5)) }).collect())?;
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
