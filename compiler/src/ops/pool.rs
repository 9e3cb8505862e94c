//! Pooling and reductions. Max is `m + relu(x - m)` through the element gate, one window
//! position at a time for all windows at once; sums are dot products with weights of one, and
//! averages divide a sum by its count exactly (the division gadget: at most half a step off,
//! whatever the count).

use super::conv::{check_rank, Window};
use super::{NodeCtx, Op};
use crate::arith::{divide_by_constants, Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::ElementOp;

#[derive(Debug)]
pub struct MaxPool {
    window: Window,
}

#[derive(Debug)]
pub struct AveragePool {
    /// `None` for GlobalAveragePool: the window is every spatial axis whole.
    window: Option<Window>,
    count_include_pad: bool,
}

#[derive(Debug)]
pub struct Reduce {
    axes: Option<Vec<i64>>,
    keepdims: bool,
    mean: bool,
}

fn kernel(ctx: &NodeCtx) -> Result<Vec<usize>, String> {
    match ctx.ints("kernel_shape")? {
        Some(k) if !k.is_empty() && k.iter().all(|v| *v >= 1) => Ok(k.iter().map(|v| *v as usize).collect()),
        other => Err(format!("kernel_shape {other:?} is not positive integers, one per spatial axis of the input")),
    }
}

pub fn max_pool(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.int("storage_order", 0)? != 0 {
        return Err("storage_order = 1 is not supported".into());
    }
    Ok(Box::new(MaxPool { window: Window::from_ctx(ctx, kernel(ctx)?)? }))
}

pub fn average_pool(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let window = Window::from_ctx(ctx, kernel(ctx)?)?;
    Ok(Box::new(AveragePool { window: Some(window), count_include_pad: ctx.int("count_include_pad", 0)? != 0 }))
}

pub fn global_average_pool(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(AveragePool { window: None, count_include_pad: false }))
}

/// Axes as an attribute (opsets before 18) or an input (18 on). No axes, or an empty list,
/// reduce over every axis, unless `noop_with_empty_axes` makes an empty list reduce none.
fn reduce(ctx: &NodeCtx, mean: bool) -> Result<Box<dyn Op>, String> {
    let axes = match ctx.int_input(1, "axes")? {
        Some(axes) => Some(axes),
        None => ctx.ints("axes")?,
    };
    let noop = ctx.int("noop_with_empty_axes", 0)? != 0;
    let axes = match axes {
        Some(a) if a.is_empty() && !noop => None,
        None if noop => Some(vec![]),
        other => other,
    };
    Ok(Box::new(Reduce { axes, keepdims: ctx.int("keepdims", 1)? != 0, mean }))
}

pub fn reduce_mean(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, true)
}

pub fn reduce_sum(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, false)
}

/// The output's shape for an input of shape `s`, [N, C] and one spatial axis per axis of the
/// window (any number, at least one, for a global pool: each becomes 1).
fn pooled_shape(s: &[usize], window: Option<&Window>) -> Result<Vec<usize>, String> {
    let spatial = match window {
        Some(win) => {
            check_rank(s, &win.kernel)?;
            win.output_size(&s[2..])?
        }
        None if s.len() >= 3 => vec![1; s.len() - 2],
        None => return Err(format!("input must be [N, C] then at least one spatial axis, got {s:?}")),
    };
    Ok([&s[..2], &spatial].concat())
}

impl Op for MaxPool {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        pooled_shape(inputs[0], Some(&self.window))
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let windows: Vec<Vec<Wire>> = windows(&self.window, &x.shape, &shape).iter().map(|win| win.iter().map(|&i| x.data[i].clone()).collect()).collect();
        let mut best: Vec<Wire> = windows.iter().map(|win| win[0].clone()).collect();
        let longest = windows.iter().map(Vec::len).max().unwrap_or(0);
        for step in 1..longest {
            let active: Vec<usize> = (0..windows.len()).filter(|&i| step < windows[i].len()).collect();
            let items = active.iter().map(|&i| (windows[i][step].clone(), Some(best[i].clone()))).collect();
            let maxima = arith.element(ElementOp { rescale: false, relu: true }, items)?;
            for (i, m) in active.into_iter().zip(maxima) {
                best[i] = m;
            }
        }
        Ok(Tensor::new(shape, best))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let out = windows(&self.window, &x.shape, &shape).iter().map(|win| win.iter().map(|&i| x.data[i]).fold(f32::NEG_INFINITY, f32::max)).collect();
        Ok(Tensor::new(shape, out))
    }
}

/// The input indices each output of a window op covers, outputs in row-major order: every
/// window of a plane (a batch entry's channel), plane after plane.
fn windows(window: &Window, input: &[usize], output: &[usize]) -> Vec<Vec<usize>> {
    let size: usize = input[2..].iter().product();
    let positions = window.taps(&input[2..], &output[2..]);
    (0..input[0] * input[1]).flat_map(|plane| positions.iter().map(move |taps| taps.iter().map(|&(i, _)| plane * size + i).collect())).collect()
}

impl Op for AveragePool {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        pooled_shape(inputs[0], self.window.as_ref())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let groups = self.windows(&x.shape, &shape).into_iter().map(|(cells, count)| (cells.iter().map(|&i| x.data[i].clone()).collect(), count));
        Ok(Tensor::new(shape, means(arith, groups.collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let out = self.windows(&x.shape, &shape).into_iter().map(|(cells, count)| (cells.iter().map(|&i| x.data[i] as f64).sum::<f64>() / count as f64) as f32);
        Ok(Tensor::new(shape, out.collect()))
    }
}

impl AveragePool {
    /// Per output: the input indices it averages and the count it divides by.
    fn windows(&self, input: &[usize], output: &[usize]) -> Vec<(Vec<usize>, usize)> {
        let size: usize = input[2..].iter().product();
        match &self.window {
            None => (0..input[0] * input[1]).map(|plane| ((plane * size..(plane + 1) * size).collect(), size)).collect(),
            Some(win) => {
                // Per window position, the same in every plane.
                let padded = self.count_include_pad.then(|| win.padded_counts(&input[2..], &output[2..]));
                let with_count = |(i, cells): (usize, Vec<usize>)| {
                    let n = padded.as_ref().map_or(cells.len(), |counts| counts[i % counts.len()]);
                    (cells, n)
                };
                windows(win, input, output).into_iter().enumerate().map(with_count).collect()
            }
        }
    }
}

fn sum_of(cells: Vec<Wire>) -> Dot {
    Dot { weights: vec![Coef::Const(1); cells.len()], inputs: cells, bias: Coef::Const(0) }
}

/// `round(sum(cells) / count)` per group: the exact sum, then one rounded division.
fn means(arith: &mut dyn Arith, groups: Vec<(Vec<Wire>, usize)>) -> Result<Vec<Wire>, Error> {
    let counts: Vec<i64> = groups.iter().map(|(_, count)| *count as i64).collect();
    let sums = arith.dot(groups.into_iter().map(|(cells, _)| sum_of(cells)).collect())?;
    divide_by_constants(arith, sums.into_iter().zip(counts).collect())
}

impl Reduce {
    /// Per output, the input indices it reduces.
    fn groups(&self, input: &[usize]) -> Result<Vec<Vec<usize>>, String> {
        Ok(crate::tensor::reduction_groups(input, &self.axes(input.len())?))
    }

    fn axes(&self, rank: usize) -> Result<Vec<usize>, String> {
        let axes: Vec<usize> = match &self.axes {
            None => (0..rank).collect(),
            Some(a) => a
                .iter()
                .map(|&v| {
                    let v = if v < 0 { v + rank as i64 } else { v };
                    (0..rank as i64).contains(&v).then_some(v as usize).ok_or_else(|| format!("axis {v} is out of range for rank {rank}"))
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(axes)
    }
}

impl Op for Reduce {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        let axes = self.axes(s.len())?;
        Ok(s.iter()
            .enumerate()
            .filter_map(|(d, &n)| match (axes.contains(&d), self.keepdims) {
                (true, true) => Some(1),
                (true, false) => None,
                (false, _) => Some(n),
            })
            .collect())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let groups = self.groups(&x.shape).map_err(Error::Shape)?;
        let cells = |g: &[usize]| g.iter().map(|&i| x.data[i].clone()).collect::<Vec<Wire>>();
        // No axis reduced (noop_with_empty_axes): the input as it is.
        if groups.iter().all(|g| g.len() == 1) {
            return Ok(Tensor::new(shape, groups.iter().map(|g| x.data[g[0]].clone()).collect()));
        }
        let out = if self.mean { means(arith, groups.iter().map(|g| (cells(g), g.len())).collect())? } else { arith.dot(groups.iter().map(|g| sum_of(cells(g))).collect())? };
        Ok(Tensor::new(shape, out))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let groups = self.groups(&x.shape).map_err(Error::Shape)?;
        let out = groups.iter().map(|g| {
            let sum: f64 = g.iter().map(|&i| x.data[i] as f64).sum();
            (if self.mean { sum / g.len() as f64 } else { sum }) as f32
        });
        Ok(Tensor::new(shape, out.collect()))
    }
}
