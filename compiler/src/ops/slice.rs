//! Slice (opset 13: starts, ends, axes and steps as constant inputs; before opset 10 as
//! attributes): an index map per axis, so no constraints, the wires are selected.

use super::{axis, NodeCtx, Op};
use crate::arith::{Arith, Wire};
use crate::tensor::{gather, Tensor};
use crate::Error;

#[derive(Debug)]
pub struct Slice {
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// The sliced axes; all axes in order when absent.
    axes: Option<Vec<i64>>,
    /// 1 for every axis when absent.
    steps: Option<Vec<i64>>,
}

pub fn slice(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let (starts, ends, axes, steps) = if ctx.node.inputs.len() > 1 {
        let required = |i: usize, name: &str| ctx.int_input(i, name)?.ok_or_else(|| format!("input {i} ({name}) is required"));
        (required(1, "starts")?, required(2, "ends")?, ctx.int_input(3, "axes")?, ctx.int_input(4, "steps")?)
    } else {
        let required = |name: &str| ctx.ints(name)?.ok_or_else(|| format!("attribute '{name}' is required"));
        (required("starts")?, required("ends")?, ctx.ints("axes")?, None)
    };
    let n = starts.len();
    for (name, len) in [("ends", Some(ends.len())), ("axes", axes.as_ref().map(Vec::len)), ("steps", steps.as_ref().map(Vec::len))] {
        if len.is_some_and(|l| l != n) {
            return Err(format!("{n} starts but {} {name}", len.unwrap_or(0)));
        }
    }
    if steps.as_ref().is_some_and(|s| s.contains(&0)) {
        return Err("a step is 0".into());
    }
    Ok(Box::new(Slice { starts, ends, axes, steps }))
}

impl Slice {
    /// Per input axis, the input index of each output position, as ONNX defines it: negative
    /// starts and ends count from the end, then are clamped to the axis (to `[0, n]` for a
    /// positive step, `[0, n - 1]` and `[-1, n - 1]` for a negative one).
    fn sources(&self, shape: &[usize]) -> Result<Vec<Vec<Option<usize>>>, String> {
        let rank = shape.len();
        let mut sources: Vec<Vec<Option<usize>>> = shape.iter().map(|&n| (0..n).map(Some).collect()).collect();
        let mut sliced = vec![false; rank];
        for k in 0..self.starts.len() {
            let d = match &self.axes {
                Some(axes) => axis(axes[k], rank)?,
                None if k < rank => k,
                None => return Err(format!("{} starts for an input of rank {rank}", self.starts.len())),
            };
            if std::mem::replace(&mut sliced[d], true) {
                return Err(format!("axis {d} is sliced twice"));
            }
            let n = shape[d] as i64;
            let step = self.steps.as_ref().map_or(1, |s| s[k]);
            let from_end = |v: i64| if v < 0 { v.saturating_add(n) } else { v };
            let (start, end) = (from_end(self.starts[k]), from_end(self.ends[k]));
            let stride = step.unsigned_abs() as usize;
            let indices: Vec<Option<usize>> = if step > 0 {
                (start.clamp(0, n)..end.clamp(0, n)).step_by(stride).map(|i| Some(i as usize)).collect()
            } else {
                (end.clamp(-1, n - 1) + 1..=start.clamp(0, n - 1)).rev().step_by(stride).map(|i| Some(i as usize)).collect()
            };
            if indices.is_empty() {
                return Err(format!("the slice of axis {d} (size {n}) from {} to {} by {step} selects nothing", self.starts[k], self.ends[k]));
            }
            sources[d] = indices;
        }
        Ok(sources)
    }

    fn select<T: Clone>(&self, x: &Tensor<T>) -> Result<Tensor<T>, Error> {
        Ok(gather(x, &self.sources(&x.shape).map_err(Error::Shape)?, None))
    }
}

impl Op for Slice {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.sources(inputs[0])?.iter().map(Vec::len).collect())
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.select(inputs[0])
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.select(inputs[0])
    }
}
