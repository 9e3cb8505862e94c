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
    /// positive step, `[0, n - 1]` and `[-1, n - 1]` for a negative one). With them, where an
    /// axis is sliced to nothing, which.
    fn sources(&self, shape: &[usize]) -> Result<Sources, String> {
        let rank = shape.len();
        let mut sources: Vec<Vec<Option<usize>>> = shape.iter().map(|&n| (0..n).map(Some).collect()).collect();
        let mut sliced = vec![false; rank];
        let mut nothing = None;
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
                nothing.get_or_insert_with(|| format!("the slice of axis {d} (size {n}) from {} to {} by {step} selects nothing", self.starts[k], self.ends[k]));
            }
            sources[d] = indices;
        }
        Ok((sources, nothing))
    }

    fn select<T: Clone>(&self, x: &Tensor<T>) -> Result<Tensor<T>, Error> {
        Ok(gather(x, &self.sources(&x.shape).map_err(Error::Shape)?.0, None))
    }
}

/// Per axis the input index of each output position, and the first axis sliced to nothing.
type Sources = (Vec<Vec<Option<usize>>>, Option<String>);

impl Op for Slice {
    fn moves_values(&self) -> bool {
        true
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.sources(inputs[0])?.0.iter().map(Vec::len).collect())
    }

    /// A computed tensor sliced to nothing is refused: no op after it could use it. (Shape
    /// arithmetic may slice a constant to nothing, as `nn.Unflatten`'s export does with the
    /// shape's empty tail; folding takes that.)
    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        if let Some(nothing) = self.sources(&inputs[0].shape).map_err(Error::Shape)?.1 {
            return Err(Error::Shape(nothing));
        }
        self.select(inputs[0])
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.select(inputs[0])
    }
}
