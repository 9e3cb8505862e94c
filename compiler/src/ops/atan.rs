//! Atan: softsign's `u = x / (1 + |x|)`, exactly as Softsign computes it (one rounded
//! division), then one lookup of `atan(u / (1 - |u|))` ([`Function::Atan`]), whose inputs
//! thus all lie in `[-1, 1]`: atan itself nears `±pi/2` too slowly for a table to reach them.
//! The division's half step costs at most a step through the function's slope (2 at most).

use super::elementwise::Softsign;
use super::{NodeCtx, Op};
use crate::arith::{Arith, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::Function;

#[derive(Debug)]
pub struct Atan;

pub fn atan(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Atan))
}

impl Op for Atan {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let u = Softsign.apply(arith, inputs)?;
        Ok(Tensor::new(u.shape.clone(), arith.function(Function::Atan, u.data)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|&x| Function::Atan.eval(x as f64 / (1.0 + (x as f64).abs())) as f32))
    }

    fn functions(&self) -> u32 {
        Function::Atan.bit()
    }
}
