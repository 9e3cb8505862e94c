//! Pooling and reductions. Max is `m + relu(x - m)` through the element gate, one window
//! position at a time for all windows at once (a MaxPool after a Conv pools the Conv's
//! accumulators instead, before its rescale); sums are dot products with weights of one, and
//! averages divide a sum by its count exactly (the division gadget: at most half a step off,
//! whatever the count).

use super::conv::{check_rank, Window};
use super::exp_log::{lane_bits, ln, powers_of_two};
use super::nonlinear::{shifted_exps, ShiftedExps};
use super::{Epilogue, NodeCtx, Op};
use crate::arith::{divide_by_constants, Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use zkinfer_circuits::gadgets::{ElementOp, Function, GatherTable};

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

/// LpPool and GlobalLpPool (`None`: every spatial axis whole), `p` 1 or 2: each window's L1 or
/// L2 norm, as ReduceL1 and ReduceL2 compute a group's (padding contributes nothing).
#[derive(Debug)]
pub struct LpPool {
    window: Option<Window>,
    norm: Reduction,
}

#[derive(Debug)]
pub struct Reduce {
    axes: Option<Vec<i64>>,
    keepdims: bool,
    kind: Reduction,
    /// The powers of two a logarithm reads (ReduceLogSumExp's).
    powers: Option<GatherTable>,
}

/// What a reduction computes over each group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reduction {
    Sum,
    /// The exact sum divided by the count, rounded once.
    Mean,
    /// Through the element gate, one position at a time for all groups at once: `m +
    /// relu(x - m)`; the minimum as `-max(-x)`.
    Max,
    Min,
    /// `sum 2 relu(x) - x`.
    L1,
    /// Products of computed values, rescaled once; the L2 norm its square root.
    SumSquare,
    L2,
    /// One factor at a time for all groups at once: a product of computed values rescaled
    /// after each, so that every partial product stays at the activation scale.
    Prod,
    /// `max + ln(sum e^(x - max))`: Softmax's sum, then LogSoftmax's logarithm of it.
    LogSumExp,
}

impl Reduction {
    /// Each group's reduction, the groups' input indices into `x`.
    fn apply(self, arith: &mut dyn Arith, x: &Tensor<Wire>, groups: &[Vec<usize>]) -> Result<Vec<Wire>, Error> {
        let cells = |g: &[usize]| g.iter().map(|&i| x.data[i].clone()).collect::<Vec<Wire>>();
        Ok(match self {
            Reduction::LogSumExp => {
                let values: Vec<Vec<Wire>> = groups.iter().map(|g| cells(g)).collect();
                let highest = lane_bits(arith, values[0].len())?;
                let ShiftedExps { maxima, sums, .. } = shifted_exps(arith, &values)?;
                let powers = powers_of_two(arith.shape().scale_bits);
                let logs = ln(arith, &powers, &sums, 0, highest)?;
                arith.linear(maxima.into_iter().zip(logs).map(|(m, l)| (m, 1, l, 1)).collect())?
            }
            Reduction::Sum => arith.dot(groups.iter().map(|g| sum_of(cells(g))).collect())?,
            Reduction::Mean => means(arith, groups.iter().map(|g| (cells(g), g.len())).collect())?,
            Reduction::Max => maxima(arith, groups.iter().map(|g| cells(g)).collect())?,
            // `-max(-x)`, whose intervals stay exact.
            Reduction::Min => {
                let negative = super::negated(arith, x.data.clone())?;
                let groups = groups.iter().map(|g| g.iter().map(|&i| negative[i].clone()).collect()).collect();
                let maxima = maxima(arith, groups)?;
                super::negated(arith, maxima)?
            }
            Reduction::L1 => {
                let relu = arith.element(ElementOp { rescale: false, relu: true }, x.data.iter().map(|v| (v.clone(), None)).collect())?;
                let sums = groups.iter().map(|g| Dot {
                    inputs: g.iter().map(|&i| relu[i].clone()).chain(cells(g)).collect(),
                    weights: [vec![Coef::Const(2); g.len()], vec![Coef::Const(-1); g.len()]].concat(),
                    bias: Coef::Const(0),
                });
                let sums = arith.dot(sums.collect())?;
                // Sums of magnitudes, which the intervals of `2 relu(x) - x` do not show.
                arith.assume(sums, 0, i64::MAX)?
            }
            Reduction::SumSquare | Reduction::L2 => {
                let squares = arith.products(groups.iter().map(|g| g.iter().map(|&i| (x.data[i].clone(), x.data[i].clone())).collect()).collect())?;
                let squares = arith.assume(squares, 0, i64::MAX)?;
                let sums = arith.element(ElementOp { rescale: true, relu: false }, squares.into_iter().map(|s| (s, None)).collect())?;
                if self == Reduction::L2 {
                    arith.sqrt(sums)?
                } else {
                    sums
                }
            }
            Reduction::Prod => {
                let mut products: Vec<Wire> = groups.iter().map(|g| x.data[g[0]].clone()).collect();
                for step in 1..groups.iter().map(Vec::len).max().unwrap_or(0) {
                    let active: Vec<usize> = (0..groups.len()).filter(|&i| step < groups[i].len()).collect();
                    let pairs = active.iter().map(|&i| vec![(products[i].clone(), x.data[groups[i][step]].clone())]).collect();
                    let unscaled = arith.products(pairs)?;
                    let rescaled = arith.element(ElementOp { rescale: true, relu: false }, unscaled.into_iter().map(|p| (p, None)).collect())?;
                    active.into_iter().zip(rescaled).for_each(|(i, p)| products[i] = p);
                }
                products
            }
        })
    }

    fn eval(self, x: &Tensor<f32>, groups: &[Vec<usize>]) -> Vec<f32> {
        groups
            .iter()
            .map(|g| {
                let values = g.iter().map(|&i| x.data[i] as f64);
                let sum = |f: fn(f64) -> f64| values.clone().map(f).sum::<f64>();
                (match self {
                    Reduction::Sum => sum(|v| v),
                    Reduction::Mean => sum(|v| v) / g.len() as f64,
                    Reduction::Max => values.clone().fold(f64::NEG_INFINITY, f64::max),
                    Reduction::Min => values.clone().fold(f64::INFINITY, f64::min),
                    Reduction::L1 => sum(f64::abs),
                    Reduction::SumSquare => sum(|v| v * v),
                    Reduction::L2 => sum(|v| v * v).sqrt(),
                    Reduction::Prod => values.clone().product(),
                    Reduction::LogSumExp => {
                        let max = values.clone().fold(f64::NEG_INFINITY, f64::max);
                        max + values.clone().map(|v| (v - max).exp()).sum::<f64>().ln()
                    }
                }) as f32
            })
            .collect()
    }

    fn uses_products(self) -> bool {
        matches!(self, Reduction::SumSquare | Reduction::L2 | Reduction::Prod | Reduction::LogSumExp)
    }
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

/// MaxUnpool with constant indices (a pool's positions known when the model is compiled): each
/// input value moved to the flat output position its index names, 0 elsewhere; copies, no rows.
/// Indices that a MaxPool of the same model computes are refused there (zkinfer computes only
/// a MaxPool's first output).
#[derive(Debug)]
pub struct MaxUnpool {
    window: Window,
    indices: Tensor<f32>,
    /// The output's shape where the node gives it (input 2).
    shape: Option<Vec<usize>>,
}

pub fn max_unpool(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let indices = ctx.constant(1).ok_or("the indices (input 1) are computed: only constant indices are supported")?.clone();
    let shape =
        ctx.int_input(2, "output_shape")?.map(|s| s.iter().map(|&d| usize::try_from(d).map_err(|_| format!("output_shape {s:?} holds a negative size"))).collect()).transpose()?;
    Ok(Box::new(MaxUnpool { window: Window::from_ctx(ctx, kernel(ctx)?)?, indices, shape }))
}

impl MaxUnpool {
    /// The output's shape: the node's, or the pool's input size it undoes; no allocation, so
    /// that the model bounds it first.
    fn shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        let rank = self.window.kernel.len();
        if input.len() != rank + 2 || self.indices.shape != input || input.contains(&0) {
            return Err(format!(
                "input of shape {input:?} and indices of shape {:?}: both must be [N, C, spatial...] of the {rank}-D kernel's rank, the same, none empty",
                self.indices.shape
            ));
        }
        let (strides, kernel, pads) = (&self.window.strides, &self.window.kernel, &self.window.pads);
        let size = |d: usize| (input[d + 2] - 1).checked_mul(strides[d]).and_then(|v| v.checked_add(kernel[d])).map(|v| v.saturating_sub(pads[d] + pads[d + rank]));
        let default: Option<Vec<usize>> = input[..2].iter().map(|&n| Some(n)).chain((0..rank).map(size)).collect();
        let shape = match &self.shape {
            Some(s) => s.clone(),
            None => default.ok_or_else(|| format!("the output of an input of shape {input:?} overflows"))?,
        };
        shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| format!("output_shape {shape:?} overflows"))?;
        Ok(shape)
    }

    /// Per output position, the input position moved there (the last where several are).
    fn sources(&self, input: &[usize]) -> Result<(Vec<usize>, Vec<Option<usize>>), String> {
        let shape = self.shape(input)?;
        let len: usize = shape.iter().product();
        let mut sources = vec![None; len];
        for (k, &i) in self.indices.data.iter().enumerate() {
            let i = i as i64;
            let slot = sources.get_mut(usize::try_from(i).unwrap_or(len)).ok_or_else(|| format!("index {i} is outside the output's {len} values (shape {shape:?})"))?;
            *slot = Some(k);
        }
        Ok((shape, sources))
    }
}

impl Op for MaxUnpool {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        self.shape(inputs[0])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let (shape, sources) = self.sources(&inputs[0].shape).map_err(Error::Shape)?;
        let zero = arith.constant(0)?;
        Ok(Tensor::new(shape, sources.iter().map(|s| s.map_or_else(|| zero.clone(), |k| inputs[0].data[k].clone())).collect()))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let (shape, sources) = self.sources(&inputs[0].shape).map_err(Error::Shape)?;
        Ok(Tensor::new(shape, sources.iter().map(|s| s.map_or(0.0, |k| inputs[0].data[k])).collect()))
    }
}

pub fn average_pool(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let window = Window::from_ctx(ctx, kernel(ctx)?)?;
    Ok(Box::new(AveragePool { window: Some(window), count_include_pad: ctx.int("count_include_pad", 0)? != 0 }))
}

pub fn global_average_pool(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(AveragePool { window: None, count_include_pad: false }))
}

fn lp_norm(ctx: &NodeCtx) -> Result<Reduction, String> {
    match ctx.int("p", 2)? {
        1 => Ok(Reduction::L1),
        2 => Ok(Reduction::L2),
        p => Err(format!("p = {p} is not supported (1 and 2 are)")),
    }
}

pub fn lp_pool(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(LpPool { window: Some(Window::from_ctx(ctx, kernel(ctx)?)?), norm: lp_norm(ctx)? }))
}

pub fn global_lp_pool(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(LpPool { window: None, norm: lp_norm(ctx)? }))
}

impl LpPool {
    fn groups(&self, input: &[usize], output: &[usize]) -> Vec<Vec<usize>> {
        pooled(self.window.as_ref(), input, output)
    }
}

impl Op for LpPool {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        pooled_shape(inputs[0], self.window.as_ref())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        Ok(Tensor::new(shape.clone(), self.norm.apply(arith, x, &self.groups(&x.shape, &shape))?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        Ok(Tensor::new(shape.clone(), self.norm.eval(x, &self.groups(&x.shape, &shape))))
    }

    fn uses_products(&self) -> bool {
        self.norm.uses_products()
    }
}

/// Axes as an attribute (opsets before 18) or an input (18 on). No axes, or an empty list,
/// reduce over every axis, unless `noop_with_empty_axes` makes an empty list reduce none.
fn reduce(ctx: &NodeCtx, kind: Reduction) -> Result<Box<dyn Op>, String> {
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
    let powers = (kind == Reduction::LogSumExp).then(|| powers_of_two(ctx.scale_bits));
    Ok(Box::new(Reduce { axes, keepdims: ctx.int("keepdims", 1)? != 0, kind, powers }))
}

pub fn reduce_mean(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::Mean)
}

pub fn reduce_sum(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::Sum)
}

pub fn reduce_max(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::Max)
}

pub fn reduce_min(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::Min)
}

pub fn reduce_l1(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::L1)
}

pub fn reduce_sum_square(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::SumSquare)
}

pub fn reduce_l2(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::L2)
}

pub fn reduce_prod(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::Prod)
}

pub fn reduce_log_sum_exp(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    reduce(ctx, Reduction::LogSumExp)
}

/// The output's shape for an input of shape `s`, [N, C] and one spatial axis per axis of the
/// window (any number, at least one, for a global pool: each becomes 1).
pub(super) fn pooled_shape(s: &[usize], window: Option<&Window>) -> Result<Vec<usize>, String> {
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
    fn epilogue(&self) -> Option<Epilogue<'_>> {
        Some(Epilogue::MaxPool(&self.window))
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        pooled_shape(inputs[0], Some(&self.window))
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let windows: Vec<Vec<Wire>> = windows(&self.window, &x.shape, &shape).iter().map(|win| win.iter().map(|&i| x.data[i].clone()).collect()).collect();
        Ok(Tensor::new(shape, maxima(arith, windows)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let out = windows(&self.window, &x.shape, &shape).iter().map(|win| win.iter().map(|&i| x.data[i]).fold(f32::NEG_INFINITY, f32::max)).collect();
        Ok(Tensor::new(shape, out))
    }
}

/// The input indices each output of a pool covers: its window's, or (`None`, a global pool)
/// its whole plane.
fn pooled(window: Option<&Window>, input: &[usize], output: &[usize]) -> Vec<Vec<usize>> {
    match window {
        Some(win) => windows(win, input, output),
        None => {
            let size: usize = input[2..].iter().product();
            (0..input[0] * input[1]).map(|plane| (plane * size..(plane + 1) * size).collect()).collect()
        }
    }
}

/// The input indices each output of a window op covers, outputs in row-major order: every
/// window of a plane (a batch entry's channel), plane after plane.
pub(super) fn windows(window: &Window, input: &[usize], output: &[usize]) -> Vec<Vec<usize>> {
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
        // Per window position, the same in every plane.
        let padded = self.window.as_ref().filter(|_| self.count_include_pad).map(|win| win.padded_counts(&input[2..], &output[2..]));
        let with_count = |(i, cells): (usize, Vec<usize>)| {
            let n = padded.as_ref().map_or(cells.len(), |counts| counts[i % counts.len()]);
            (cells, n)
        };
        pooled(self.window.as_ref(), input, output).into_iter().enumerate().map(with_count).collect()
    }
}

fn sum_of(cells: Vec<Wire>) -> Dot {
    Dot { weights: vec![Coef::Const(1); cells.len()], inputs: cells, bias: Coef::Const(0) }
}

/// Each group's (window's) maximum, one position at a time for all groups at once: `m +
/// relu(x - m)`.
pub(super) fn maxima(arith: &mut dyn Arith, groups: Vec<Vec<Wire>>) -> Result<Vec<Wire>, Error> {
    let mut best: Vec<Wire> = groups.iter().map(|g| g[0].clone()).collect();
    let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
    for step in 1..longest {
        let active: Vec<usize> = (0..groups.len()).filter(|&i| step < groups[i].len()).collect();
        let items = active.iter().map(|&i| (groups[i][step].clone(), Some(best[i].clone()))).collect();
        for (i, m) in active.into_iter().zip(arith.element(ElementOp { rescale: false, relu: true }, items)?) {
            best[i] = m;
        }
    }
    Ok(best)
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
        // No axis reduced (noop_with_empty_axes): the input as it is.
        if groups.iter().all(|g| g.len() == 1) {
            return Ok(Tensor::new(shape, groups.iter().map(|g| x.data[g[0]].clone()).collect()));
        }
        Ok(Tensor::new(shape, self.kind.apply(arith, x, &groups)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let groups = self.groups(&x.shape).map_err(Error::Shape)?;
        Ok(Tensor::new(shape, self.kind.eval(x, &groups)))
    }

    fn uses_products(&self) -> bool {
        self.kind.uses_products()
    }

    fn functions(&self) -> u32 {
        match self.kind {
            Reduction::LogSumExp => Function::Exp.bit() | Function::LnOfNegated.bit(),
            _ => 0,
        }
    }

    fn gather_table(&self) -> Option<&GatherTable> {
        self.powers.as_ref()
    }
}
