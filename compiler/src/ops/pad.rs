//! Pad (opset 11+: pads, constant value and, from opset 18, axes as constant inputs; before
//! as attributes): an index map per axis. Reflect and edge padding repeat input wires; in
//! constant mode every padded position reads one cell fixed to the value (two rows).

use super::{axis, quantize, NodeCtx, Op};
use crate::arith::{Arith, Wire};
use crate::tensor::{gather, Tensor};
use crate::Error;

/// The longest padded axis accepted: a circuit of 2^28 rows could not hold more.
const MAX_AXIS: i64 = 1 << 28;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Constant,
    Reflect,
    Edge,
}

#[derive(Debug)]
pub struct Pad {
    /// Begins for each padded axis, then ends; negative values crop (constant mode only).
    pads: Vec<i64>,
    /// The padded axes; all axes in order when absent.
    axes: Option<Vec<i64>>,
    mode: Mode,
    /// Constant mode's value: a constant of the op, in the verifying key.
    value: f32,
}

pub fn pad(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let name = ctx.string("mode")?.unwrap_or_else(|| "constant".into());
    let mode = match name.as_str() {
        "constant" => Mode::Constant,
        "reflect" => Mode::Reflect,
        "edge" => Mode::Edge,
        other => return Err(format!("mode '{other}' is not supported; constant, reflect and edge are")),
    };
    let (pads, value, axes) = if ctx.node.inputs.len() > 1 {
        let pads = ctx.int_input(1, "pads")?.ok_or("input 1 (pads) is required")?;
        let value = match ctx.optional_constant(2, "constant_value")? {
            Some(t) if t.len() == 1 => t.data[0],
            Some(t) => return Err(format!("constant_value must be one value, it has shape {:?}", t.shape)),
            None => 0.0,
        };
        (pads, value, ctx.int_input(3, "axes")?)
    } else {
        (ctx.ints("pads")?.ok_or("attribute 'pads' is required")?, ctx.float("value", 0.0)?, None)
    };
    if mode != Mode::Constant && pads.iter().any(|p| *p < 0) {
        return Err(format!("negative pads {pads:?} (cropping) are supported in constant mode only, not in mode '{name}'"));
    }
    if !value.is_finite() {
        return Err(format!("the pad value {value} has no fixed-point value"));
    }
    if let Some(p) = pads.iter().find(|p| p.unsigned_abs() > crate::MAX_COMPUTED as u64) {
        return Err(format!("a pad of {p} exceeds the {} elements a computed tensor may have", crate::MAX_COMPUTED));
    }
    Ok(Box::new(Pad { pads, axes, mode, value }))
}

impl Pad {
    /// Per input axis, the input index each output position reads; `None` reads the
    /// constant value.
    fn sources(&self, shape: &[usize]) -> Result<Vec<Vec<Option<usize>>>, String> {
        let rank = shape.len();
        let axes: Vec<usize> = match &self.axes {
            Some(a) => a.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()?,
            None => (0..rank).collect(),
        };
        if self.pads.len() != 2 * axes.len() {
            return Err(format!("{} pads for {} axes; expected a begin and an end for each", self.pads.len(), axes.len()));
        }
        let mut sources: Vec<Vec<Option<usize>>> = shape.iter().map(|&n| (0..n).map(Some).collect()).collect();
        let mut padded = vec![false; rank];
        for (k, &d) in axes.iter().enumerate() {
            if std::mem::replace(&mut padded[d], true) {
                return Err(format!("axis {d} is padded twice"));
            }
            let n = shape[d] as i64;
            let (begin, end) = (self.pads[k], self.pads[k + axes.len()]);
            let len = n.saturating_add(begin).saturating_add(end);
            if len < 1 {
                return Err(format!("pads {begin} and {end} leave nothing of axis {d} (size {n})"));
            }
            if len > MAX_AXIS {
                return Err(format!("pads {begin} and {end} make axis {d} {len} long, beyond any circuit"));
            }
            if self.mode == Mode::Reflect && begin.max(end) >= n {
                return Err(format!("reflect padding of {} on axis {d} needs more than {} values", begin.max(end), n));
            }
            sources[d] = (-begin..n + end)
                .map(|i| match self.mode {
                    _ if (0..n).contains(&i) => Some(i as usize),
                    Mode::Constant => None,
                    Mode::Edge => Some(i.clamp(0, n - 1) as usize),
                    Mode::Reflect if i < 0 => Some(-i as usize),
                    Mode::Reflect => Some((2 * (n - 1) - i) as usize),
                })
                .collect();
        }
        Ok(sources)
    }
}

impl Op for Pad {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.sources(inputs[0])?.iter().map(Vec::len).collect())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let sources = self.sources(&x.shape).map_err(Error::Shape)?;
        let fill = match sources.iter().flatten().any(Option::is_none) {
            true => Some(arith.constant(quantize(self.value, arith.shape().scale_bits))?),
            false => None,
        };
        Ok(gather(x, &sources, fill.as_ref()))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        Ok(gather(x, &self.sources(&x.shape).map_err(Error::Shape)?, Some(&self.value)))
    }
}
