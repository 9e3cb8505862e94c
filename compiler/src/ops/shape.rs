//! Ops that only move values: no constraints, the wires are rearranged.

use super::{axis, Epilogue, NodeCtx, Op};
use crate::arith::{Arith, Wire};
use crate::tensor::{strides, Tensor};
use crate::Error;

#[derive(Debug)]
pub enum Rearrange {
    Identity,
    Flatten(i64),
    /// ONNX Reshape's target: 0 copies the input's dimension, -1 is inferred.
    Reshape(Vec<i64>),
    Squeeze(Option<Vec<i64>>),
    Unsqueeze(Vec<i64>),
    Transpose(Option<Vec<usize>>),
}

#[derive(Debug)]
pub struct Concat {
    axis: i64,
}

/// Opset 13 moved `axes` from an attribute to input 1.
fn axes_input(ctx: &NodeCtx) -> Result<Option<Vec<i64>>, String> {
    match ctx.int_input(1, "axes")? {
        Some(axes) => Ok(Some(axes)),
        None => ctx.ints("axes"),
    }
}

pub fn identity(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Rearrange::Identity))
}

/// Dropout at inference is the identity, with its mask (all true) when the node asks for it.
/// In training mode a nonzero ratio drops values at random, which a proof cannot reproduce.
pub fn dropout(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if ctx.optional_constant(2, "training_mode")?.is_some_and(|t| t.data.iter().any(|v| *v != 0.0)) {
        let ratio = match ctx.optional_constant(1, "ratio")? {
            Some(r) => r.data.first().copied().unwrap_or(0.5),
            None => 0.5,
        };
        if ratio != 0.0 {
            return Err(format!("training_mode = true with ratio {ratio} drops values at random; export the model in inference mode (model.eval())"));
        }
    }
    Ok(Box::new(Dropout { mask: ctx.node.outputs.get(1).is_some_and(|o| !o.is_empty()) }))
}

/// The identity and, when `mask`, a second output of ones (ONNX's all-true mask).
#[derive(Debug)]
pub struct Dropout {
    mask: bool,
}

impl Dropout {
    fn with_mask<T: Clone>(x: &Tensor<T>, one: T) -> Tensor<T> {
        let data: Vec<T> = x.data.iter().cloned().chain(std::iter::repeat_n(one, x.len())).collect();
        Tensor::new(vec![data.len()], data)
    }
}

impl Op for Dropout {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let len: usize = inputs[0].iter().product();
        Ok(if self.mask { vec![2 * len] } else { inputs[0].to_vec() })
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        Ok(vec![inputs[0].to_vec(); 1 + self.mask as usize])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        if !self.mask {
            return Ok(inputs[0].clone());
        }
        let one = arith.constant(1 << arith.shape().scale_bits)?;
        Ok(Self::with_mask(inputs[0], one))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(if self.mask { Self::with_mask(inputs[0], 1.0) } else { inputs[0].clone() })
    }
}

pub fn flatten(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Rearrange::Flatten(ctx.int("axis", 1)?)))
}

/// `allowzero = 1` only changes what a 0 in the target means (a zero-sized dimension instead
/// of the input's): without a 0 it changes nothing.
pub fn reshape(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let target: Vec<i64> = ctx.require_constant(1, "shape")?.data.iter().map(|v| *v as i64).collect();
    if ctx.int("allowzero", 0)? != 0 && target.contains(&0) {
        return Err(format!("allowzero = 1 with a 0 in the target {target:?} makes an empty tensor, which is not supported"));
    }
    Ok(Box::new(Rearrange::Reshape(target)))
}

pub fn squeeze(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Rearrange::Squeeze(axes_input(ctx)?)))
}

pub fn unsqueeze(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Rearrange::Unsqueeze(axes_input(ctx)?.ok_or("axes are required")?)))
}

pub fn transpose(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(Rearrange::Transpose(ctx.ints("perm")?.map(|p| p.iter().map(|v| *v as usize).collect()))))
}

pub fn concat(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    if (0..ctx.node.inputs.len()).any(|i| ctx.constant(i).is_some()) {
        return Err("constant operands of Concat are not supported".into());
    }
    Ok(Box::new(Concat { axis: ctx.int("axis", 0)? }))
}

impl Op for Rearrange {
    fn moves_values(&self) -> bool {
        true
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        let total: usize = s.iter().product();
        match self {
            Rearrange::Identity => Ok(s.to_vec()),
            Rearrange::Flatten(a) => {
                let a = if *a == s.len() as i64 { s.len() } else { axis(*a, s.len())? };
                Ok(vec![s[..a].iter().product(), s[a..].iter().product()])
            }
            Rearrange::Reshape(target) => {
                let mut out: Vec<usize> = Vec::new();
                let mut infer = None;
                for (i, &d) in target.iter().enumerate() {
                    match d {
                        0 => out.push(*s.get(i).ok_or("a 0 in the target shape has no input dimension to copy")?),
                        -1 if infer.is_none() => {
                            infer = Some(i);
                            out.push(1);
                        }
                        d if d > 0 => out.push(d as usize),
                        d => return Err(format!("invalid target dimension {d}")),
                    }
                }
                let known: usize = out.iter().product();
                if let Some(i) = infer {
                    if known == 0 || !total.is_multiple_of(known) {
                        return Err(format!("cannot reshape {s:?} to {target:?}"));
                    }
                    out[i] = total / known;
                }
                if out.iter().product::<usize>() != total {
                    return Err(format!("cannot reshape {s:?} ({total} values) to {out:?}"));
                }
                Ok(out)
            }
            Rearrange::Squeeze(axes) => {
                let axes: Vec<usize> = match axes {
                    None => (0..s.len()).filter(|&d| s[d] == 1).collect(),
                    Some(a) => a.iter().map(|&a| axis(a, s.len())).collect::<Result<_, _>>()?,
                };
                if let Some(&d) = axes.iter().find(|&&d| s[d] != 1) {
                    return Err(format!("cannot squeeze axis {d} of size {}", s[d]));
                }
                Ok(s.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &n)| n).collect())
            }
            Rearrange::Unsqueeze(axes) => {
                let rank = s.len() + axes.len();
                let axes: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect::<Result<_, _>>()?;
                let mut rest = s.iter();
                Ok((0..rank).map(|d| if axes.contains(&d) { 1 } else { *rest.next().unwrap_or(&1) }).collect())
            }
            Rearrange::Transpose(perm) => {
                let perm = self.permutation(perm.as_deref(), s.len())?;
                Ok(perm.iter().map(|&p| s[p]).collect())
            }
        }
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.rearrange(inputs[0])
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.rearrange(inputs[0])
    }
}

impl Rearrange {
    fn rearrange<T: Clone>(&self, x: &Tensor<T>) -> Result<Tensor<T>, Error> {
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        match self {
            Rearrange::Transpose(perm) => {
                let perm = self.permutation(perm.as_deref(), x.shape.len()).map_err(Error::Shape)?;
                let (in_st, out_st) = (strides(&x.shape), strides(&shape));
                let data = (0..x.len())
                    .map(|o| {
                        let src: usize = (0..shape.len()).map(|d| (o / out_st[d]) % shape[d] * in_st[perm[d]]).sum();
                        x.data[src].clone()
                    })
                    .collect();
                Ok(Tensor::new(shape, data))
            }
            _ => Ok(x.clone().reshape(shape)),
        }
    }

    fn permutation(&self, perm: Option<&[usize]>, rank: usize) -> Result<Vec<usize>, String> {
        let perm: Vec<usize> = perm.map_or_else(|| (0..rank).rev().collect(), <[usize]>::to_vec);
        let mut sorted = perm.clone();
        sorted.sort();
        if sorted != (0..rank).collect::<Vec<_>>() {
            return Err(format!("perm {perm:?} is not a permutation of 0..{rank}"));
        }
        Ok(perm)
    }
}

impl Op for Concat {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let first = inputs[0];
        let a = axis(self.axis, first.len())?;
        let mut out = first.to_vec();
        for s in &inputs[1..] {
            if s.len() != first.len() || (0..s.len()).any(|d| d != a && s[d] != first[d]) {
                return Err(format!("cannot concatenate shapes {first:?} and {s:?} on axis {a}"));
            }
            out[a] += s[a];
        }
        Ok(out)
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.concat(inputs)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.concat(inputs)
    }
}

impl Concat {
    fn concat<T: Clone>(&self, inputs: &[&Tensor<T>]) -> Result<Tensor<T>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let shape = self.output_shape(&shapes).map_err(Error::Shape)?;
        let a = axis(self.axis, shape.len()).map_err(Error::Shape)?;
        let outer: usize = shape[..a].iter().product();
        let mut data = Vec::with_capacity(shape.iter().product());
        for o in 0..outer {
            for t in inputs {
                let block: usize = t.shape[a..].iter().product();
                data.extend_from_slice(&t.data[o * block..(o + 1) * block]);
            }
        }
        Ok(Tensor::new(shape, data))
    }
}

/// Ops that select or repeat the values of a computed tensor at indices fixed when the model is
/// compiled: each output is a copy of an input wire, so they cost copy constraints and no rows.
#[derive(Debug)]
pub enum Select {
    /// Gather along an axis: the positions, and the shape that replaces the axis.
    Gather { axis: i64, indices: Tensor<f32> },
    /// GatherElements: per output position, the input at that position with its coordinate
    /// along the axis replaced by the index there.
    GatherElements { axis: i64, indices: Tensor<f32> },
    /// Expand to a shape (numpy's broadcast of the input and the target).
    Expand(Vec<usize>),
    /// Tile by repeats per axis.
    Tile(Vec<usize>),
}

/// Gather of constant indices moves values; of computed indices into a constant table (an
/// embedding), it is a lookup (`lookup.rs`).
pub fn gather(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    match (ctx.constant(0), ctx.constant(1)) {
        (_, Some(indices)) => Ok(Box::new(Select::Gather { axis: ctx.int("axis", 0)?, indices: indices.clone() })),
        (Some(data), None) => super::lookup::table_gather(ctx, data),
        (None, None) => Err("a Gather of computed indices from a computed tensor is not supported; the data must be a constant (an embedding table)".into()),
    }
}

/// GatherElements of constant indices moves values; of computed indices into constant data, it
/// is a lookup (`lookup.rs`).
pub fn gather_elements(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    match (ctx.constant(0), ctx.constant(1)) {
        (_, Some(indices)) => Ok(Box::new(Select::GatherElements { axis: ctx.int("axis", 0)?, indices: indices.clone() })),
        (Some(data), None) => super::lookup::table_gather_elements(ctx, data),
        (None, None) => Err("a GatherElements of computed indices from a computed tensor is not supported; the data must be a constant".into()),
    }
}

pub fn expand(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let shape = ctx.require_constant(1, "shape")?;
    Ok(Box::new(Select::Expand(shape.data.iter().map(|v| (*v as i64).max(0) as usize).collect())))
}

pub fn tile(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let repeats = ctx.int_input(1, "repeats")?.ok_or("repeats must be a constant initializer")?;
    if repeats.iter().any(|&r| r < 0) {
        return Err(format!("repeats {repeats:?} must not be negative"));
    }
    Ok(Box::new(Select::Tile(repeats.iter().map(|&r| r as usize).collect())))
}

/// A Cast between float types changes nothing a fixed-point circuit holds; one to an integer
/// type truncates toward zero, as onnxruntime does (`elementwise::Truncate`). A Cast to bool
/// is not supported.
pub fn cast(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    const FLOATS: [i64; 4] = [1, 10, 11, 16];
    const INTEGERS: [i64; 8] = [2, 3, 4, 5, 6, 7, 12, 13];
    match ctx.int("to", 1)? {
        // Half precision keeps 10 or 7 bits of mantissa: the float reference rounds to them, the
        // fixed-point value stays what it is (closer to the real value than the half is).
        10 => Ok(Box::new(Half { mantissa_bits: 10, min_exponent: -14, max: 65504.0 })),
        16 => Ok(Box::new(Half { mantissa_bits: 7, min_exponent: -126, max: f32::MAX })),
        t if FLOATS.contains(&t) => Ok(Box::new(Rearrange::Identity)),
        t if INTEGERS.contains(&t) => Ok(Box::new(super::elementwise::Truncate)),
        t => Err(format!("a Cast of a computed tensor to data type {t} is not supported; only to float and integer types")),
    }
}

impl Select {
    fn select<T: Clone>(&self, x: &Tensor<T>) -> Result<Tensor<T>, String> {
        match self {
            Select::Gather { axis: a, indices } => {
                let a = axis(*a, x.shape.len())?;
                let picks = crate::tensor::gather_indices(indices, x.shape[a])?;
                Ok(crate::tensor::gather_axis(x, a, &picks, &indices.shape))
            }
            Select::GatherElements { axis: a, indices } => {
                let sources = super::lookup::gather_elements_sources(&x.shape, axis(*a, x.shape.len())?, indices)?;
                Ok(Tensor::new(indices.shape.clone(), sources.iter().map(|&i| x.data[i].clone()).collect()))
            }
            Select::Expand(target) => {
                let shape = crate::tensor::broadcast_shape(&[&x.shape, target])?;
                let index = super::broadcast(&x.shape, &shape)?;
                Ok(Tensor::new(shape, index.iter().map(|&i| x.data[i].clone()).collect()))
            }
            Select::Tile(repeats) => {
                if repeats.len() != x.shape.len() {
                    return Err(format!("{} repeats for an input of rank {}", repeats.len(), x.shape.len()));
                }
                let sources: Vec<Vec<Option<usize>>> = x.shape.iter().zip(repeats).map(|(&n, &r)| (0..n * r).map(|i| Some(i % n)).collect()).collect();
                Ok(crate::tensor::gather(x, &sources, None))
            }
        }
    }
}

impl Op for Select {
    fn moves_values(&self) -> bool {
        true
    }

    /// From the sizes alone, so that a hostile repeat count is refused before any allocation.
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let s = inputs[0];
        match self {
            Select::Gather { axis: a, indices } => {
                let a = axis(*a, s.len())?;
                Ok(s[..a].iter().chain(&indices.shape).chain(&s[a + 1..]).copied().collect())
            }
            Select::GatherElements { axis: a, indices } => {
                super::lookup::gather_elements_sources(s, axis(*a, s.len())?, indices)?;
                Ok(indices.shape.clone())
            }
            Select::Expand(target) => crate::tensor::broadcast_shape(&[s, target]),
            Select::Tile(repeats) if repeats.len() == s.len() => {
                s.iter().zip(repeats).map(|(&n, &r)| n.checked_mul(r).ok_or_else(|| format!("tiling {s:?} by {repeats:?} overflows"))).collect()
            }
            Select::Tile(repeats) => Err(format!("{} repeats for an input of rank {}", repeats.len(), s.len())),
        }
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.select(inputs[0]).map_err(Error::Shape)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.select(inputs[0]).map_err(Error::Shape)
    }
}

/// One output of a node with several: `shape` from `offset` of their flat concatenation.
#[derive(Debug)]
pub struct Part {
    pub offset: usize,
    pub shape: Vec<usize>,
}

impl Part {
    fn part<T: Clone>(&self, x: &Tensor<T>) -> Tensor<T> {
        let len = self.shape.iter().product::<usize>();
        Tensor::new(self.shape.clone(), x.data[self.offset..self.offset + len].to_vec())
    }
}

impl Op for Part {
    fn moves_values(&self) -> bool {
        true
    }

    fn output_shape(&self, _: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.shape.clone())
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        Ok(self.part(inputs[0]))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(self.part(inputs[0]))
    }
}

/// Split along an axis into the outputs' sizes (input 1 or the `split` attribute, or equal
/// parts, the last smaller, as opset 18's `num_outputs` says): copies, no rows.
#[derive(Debug)]
pub struct Split {
    axis: i64,
    sizes: Option<Vec<usize>>,
    parts: usize,
}

pub fn split(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let sizes = match ctx.int_input(1, "split")? {
        Some(s) => Some(s),
        None => ctx.ints("split")?,
    };
    if sizes.as_ref().is_some_and(|s| s.iter().any(|&v| v < 0)) {
        return Err(format!("split sizes {sizes:?} must not be negative"));
    }
    let parts = ctx.node.outputs.len();
    Ok(Box::new(Split { axis: ctx.int("axis", 0)?, sizes: sizes.map(|s| s.iter().map(|&v| v as usize).collect()), parts }))
}

impl Split {
    fn sizes(&self, shape: &[usize]) -> Result<(usize, Vec<usize>), String> {
        let a = axis(self.axis, shape.len())?;
        let n = shape[a];
        let sizes = match &self.sizes {
            Some(s) => s.clone(),
            None => {
                let each = n.div_ceil(self.parts.max(1));
                (0..self.parts).map(|i| each.min(n.saturating_sub(i * each))).collect()
            }
        };
        if sizes.len() != self.parts || sizes.iter().sum::<usize>() != n {
            return Err(format!("split sizes {sizes:?} do not cut axis {a} of {shape:?} into {} parts", self.parts));
        }
        Ok((a, sizes))
    }

    /// The parts one after another, flat.
    fn split<T: Clone>(&self, x: &Tensor<T>) -> Result<Tensor<T>, String> {
        let (a, sizes) = self.sizes(&x.shape)?;
        let mut data = Vec::with_capacity(x.len());
        let mut start = 0;
        for n in sizes {
            let sources: Vec<Vec<Option<usize>>> =
                x.shape.iter().enumerate().map(|(d, &len)| if d == a { (start..start + n).map(Some).collect() } else { (0..len).map(Some).collect() }).collect();
            data.extend(crate::tensor::gather(x, &sources, None).data);
            start += n;
        }
        Ok(Tensor::new(vec![data.len()], data))
    }
}

impl Op for Split {
    fn moves_values(&self) -> bool {
        true
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(vec![inputs[0].iter().product()])
    }

    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        let (a, sizes) = self.sizes(inputs[0])?;
        Ok(sizes
            .into_iter()
            .map(|n| {
                let mut s = inputs[0].to_vec();
                s[a] = n;
                s
            })
            .collect())
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.split(inputs[0]).map_err(Error::Shape)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.split(inputs[0]).map_err(Error::Shape)
    }
}

/// Where with a constant condition: each output copies the element of X or Y it selects; a
/// constant operand's values become constant cells (one per distinct value). A computed
/// condition is not supported.
#[derive(Debug)]
pub struct Where {
    condition: Tensor<f32>,
    /// X and Y: a constant, or `None` for the next computed input.
    branches: [Option<Tensor<f32>>; 2],
    /// The Softmax after a Where whose constant masks entries with -inf (`masked_fill(mask,
    /// -inf)` before attention's softmax): the two are one op, the softmax of the entries kept.
    /// A -inf that reaches anything else is refused.
    softmax: Option<super::nonlinear::Softmax>,
}

pub fn where_(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let Some(condition) = ctx.constant(0).cloned() else {
        return super::logic::select(ctx);
    };
    let branches = [ctx.constant(1).cloned(), ctx.constant(2).cloned()];
    if let Some(v) = branches.iter().flatten().flat_map(|t| &t.data).find(|v| !v.is_finite() && **v != f32::NEG_INFINITY) {
        return Err(format!("a constant operand holds {v}, which fixed point cannot hold"));
    }
    Ok(Box::new(Where { condition, branches, softmax: None }))
}

impl Where {
    fn masks(&self) -> bool {
        self.branches.iter().flatten().any(|t| t.data.contains(&f32::NEG_INFINITY))
    }

    /// The output shape, and the branches' shapes with computed ones taken from `inputs`.
    fn shapes(&self, inputs: &[&[usize]]) -> Result<(Vec<usize>, [Vec<usize>; 2]), String> {
        let mut computed = inputs.iter();
        let mut branch = |b: &Option<Tensor<f32>>| -> Result<Vec<usize>, String> {
            match b {
                Some(t) => Ok(t.shape.clone()),
                None => computed.next().map(|s| s.to_vec()).ok_or_else(|| "a computed operand is missing".to_string()),
            }
        };
        let shapes = [branch(&self.branches[0])?, branch(&self.branches[1])?];
        let out = crate::tensor::broadcast_shape(&[&self.condition.shape, &shapes[0], &shapes[1]])?;
        Ok((out, shapes))
    }

    fn select<T: Clone>(&self, inputs: &[&Tensor<T>], constant: &mut dyn FnMut(f32) -> Result<T, Error>) -> Result<Tensor<T>, Error> {
        let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
        let (shape, branch_shapes) = self.shapes(&shapes).map_err(Error::Shape)?;
        let cond = super::broadcast(&self.condition.shape, &shape).map_err(Error::Shape)?;
        let mut computed = inputs.iter();
        let mut sources = Vec::new();
        for (b, s) in self.branches.iter().zip(&branch_shapes) {
            let index = super::broadcast(s, &shape).map_err(Error::Shape)?;
            let branch = match b {
                Some(t) => Branch::Constant(t),
                None => Branch::Computed(computed.next().expect("counted by shapes")),
            };
            sources.push((branch, index));
        }
        let mut out = Vec::with_capacity(shape.iter().product());
        for (o, &c) in cond.iter().enumerate() {
            let (branch, index) = &sources[if self.condition.data[c] != 0.0 { 0 } else { 1 }];
            out.push(match branch {
                Branch::Computed(t) => t.data[index[o]].clone(),
                Branch::Constant(t) => constant(t.data[index[o]])?,
            });
        }
        Ok(Tensor::new(shape, out))
    }
}

/// An operand of Where.
enum Branch<'a, T> {
    Computed(&'a Tensor<T>),
    Constant(&'a Tensor<f32>),
}

impl Op for Where {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.shapes(inputs)?.0)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let bits = arith.shape().scale_bits;
        let mut cells = super::ConstantCells::default();
        if self.masks() && self.softmax.is_none() {
            return Err(Error::Shape("a constant operand holds -inf, which fixed point cannot hold; only a Softmax right after the Where can take it (as a mask)".into()));
        }
        // -inf stands for an entry the softmax leaves out; its cell is never read.
        let computed: Vec<Tensor<bool>> = inputs.iter().map(|t| t.map(|_| true)).collect();
        let kept = self.select(&computed.iter().collect::<Vec<_>>(), &mut |v| Ok(v != f32::NEG_INFINITY))?;
        let selected = self.select(inputs, &mut |v| cells.cell(arith, if v == f32::NEG_INFINITY { 0 } else { super::quantize(v, bits) }))?;
        match &self.softmax {
            Some(softmax) => softmax.masked(arith, &selected, Some(&kept.data)),
            None => Ok(selected),
        }
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let selected = self.select(inputs, &mut |v| Ok(v))?;
        match &self.softmax {
            Some(softmax) => softmax.eval_float(&[&selected]),
            None => Ok(selected),
        }
    }

    fn absorb(&mut self, epilogue: &Epilogue, _: &[usize]) -> bool {
        match epilogue {
            Epilogue::Softmax(axis) if self.masks() => self.softmax = Some(super::nonlinear::Softmax { axis: *axis }),
            _ => return false,
        }
        true
    }

    fn functions(&self) -> u32 {
        self.softmax.as_ref().map_or(0, |s| s.functions())
    }
}

/// Trilu: the upper (`upper = 1`, entries with `j - i >= k`) or lower (`j - i <= k`) triangle
/// of the last two axes, the rest 0; `k` a constant (0 when absent).
#[derive(Debug)]
pub struct Trilu {
    upper: bool,
    k: i64,
}

pub fn trilu(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let k = match ctx.int_input(1, "k")?.as_deref() {
        None => 0,
        Some([k]) => *k,
        Some(other) => return Err(format!("k must be one value, found {}", other.len())),
    };
    Ok(Box::new(Trilu { upper: ctx.int("upper", 1)? != 0, k }))
}

impl Trilu {
    /// Whether each entry of a tensor of `shape` is kept.
    fn kept(&self, shape: &[usize]) -> Vec<bool> {
        let (rows, cols) = (shape[shape.len() - 2], shape[shape.len() - 1]);
        let len = shape.iter().product::<usize>();
        (0..len)
            .map(|i| {
                let (r, c) = ((i / cols % rows) as i64, (i % cols) as i64);
                if self.upper {
                    c - r >= self.k
                } else {
                    c - r <= self.k
                }
            })
            .collect()
    }
}

impl Op for Trilu {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        if inputs[0].len() < 2 {
            return Err(format!("Trilu needs at least two axes, found shape {:?}", inputs[0]));
        }
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let zero = arith.constant(0)?;
        let data = x.data.iter().zip(self.kept(&x.shape)).map(|(v, keep)| if keep { v.clone() } else { zero.clone() });
        Ok(Tensor::new(x.shape.clone(), data.collect()))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let data = x.data.iter().zip(self.kept(&x.shape)).map(|(v, keep)| if keep { *v } else { 0.0 });
        Ok(Tensor::new(x.shape.clone(), data.collect()))
    }
}

/// A Cast to float16 or bfloat16: the float semantics round to the type's precision (round to
/// nearest even, subnormals below `2^min_exponent`, infinity past `max`); the quantized value is
/// left as it is.
#[derive(Debug)]
pub struct Half {
    mantissa_bits: i32,
    min_exponent: i32,
    max: f32,
}

impl Half {
    fn round(&self, x: f32) -> f32 {
        if x == 0.0 || !x.is_finite() {
            return x;
        }
        let exponent = (x.abs() as f64).log2().floor().max(self.min_exponent as f64) as i32;
        let step = 2f64.powi(exponent - self.mantissa_bits);
        let rounded = ((x as f64 / step).round_ties_even() * step) as f32;
        if rounded.abs() > self.max {
            f32::INFINITY.copysign(x)
        } else {
            rounded
        }
    }
}

impl Op for Half {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(inputs[0].to_vec())
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        Ok(inputs[0].clone())
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(inputs[0].map(|v| self.round(*v)))
    }
}

/// DepthToSpace and SpaceToDepth on [N, C, H, W]: blocks of `block` x `block` values move
/// between the channels and the plane. A channel of the deep side holds the block's row `i`,
/// column `j` and channel `c` of the wide side at `(i * block + j) * C' + c` in DCR order (depth,
/// column, row: the default) or `c * block^2 + i * block + j` in CRD. Copies, no rows.
#[derive(Debug)]
pub struct Blocks {
    block: usize,
    crd: bool,
    /// DepthToSpace (channels into the plane) rather than SpaceToDepth.
    to_space: bool,
}

pub fn depth_to_space(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    blocks(ctx, true)
}

/// SpaceToDepth's `mode` is opset 28's; before it the order was DCR.
pub fn space_to_depth(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    blocks(ctx, false)
}

fn blocks(ctx: &NodeCtx, to_space: bool) -> Result<Box<dyn Op>, String> {
    let block = ctx.int("blocksize", 0)?;
    // No axis is longer than MAX_COMPUTED, which also keeps block^2 from overflowing.
    if !(1..=crate::MAX_COMPUTED as i64).contains(&block) {
        return Err(format!("blocksize {block} is not between 1 and {} (the attribute is required)", crate::MAX_COMPUTED));
    }
    let crd = match ctx.string("mode")?.as_deref() {
        None | Some("DCR") => false,
        Some("CRD") => true,
        Some(other) => return Err(format!("mode '{other}' is not DCR or CRD")),
    };
    Ok(Box::new(Blocks { block: block as usize, crd, to_space }))
}

impl Blocks {
    fn rearrange<T: Clone>(&self, input: &Tensor<T>) -> Result<Tensor<T>, String> {
        let shape = self.output_shape(&[&input.shape])?;
        let b = self.block;
        let (deep, wide) = if self.to_space { (&input.shape, &shape) } else { (&shape, &input.shape) };
        let (depth, height, width) = (wide[1], deep[2], deep[3]);
        // Every value's index on either side; each output reads the input's.
        let mut source = vec![0; input.len()];
        for n in 0..deep[0] {
            for (i, j, c) in (0..b).flat_map(|i| (0..b).flat_map(move |j| (0..depth).map(move |c| (i, j, c)))) {
                let channel = if self.crd { c * b * b + i * b + j } else { (i * b + j) * depth + c };
                for (y, x) in (0..height).flat_map(|y| (0..width).map(move |x| (y, x))) {
                    let deep_at = ((n * deep[1] + channel) * height + y) * width + x;
                    let wide_at = ((n * depth + c) * wide[2] + y * b + i) * wide[3] + x * b + j;
                    let (to, from) = if self.to_space { (wide_at, deep_at) } else { (deep_at, wide_at) };
                    source[to] = from;
                }
            }
        }
        Ok(Tensor::new(shape, source.iter().map(|&i| input.data[i].clone()).collect()))
    }
}

impl Op for Blocks {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let [n, c, h, w] = *inputs[0] else { return Err(format!("input must be 4-D [N, C, H, W], got {:?}", inputs[0])) };
        let b = self.block;
        if self.to_space {
            if !c.is_multiple_of(b * b) {
                return Err(format!("{c} channels do not divide into blocks of {b} x {b}"));
            }
            Ok(vec![n, c / (b * b), h * b, w * b])
        } else {
            if !h.is_multiple_of(b) || !w.is_multiple_of(b) {
                return Err(format!("a {h} x {w} plane does not divide into blocks of {b} x {b}"));
            }
            Ok(vec![n, c * b * b, h / b, w / b])
        }
    }

    fn apply(&self, _: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.rearrange(inputs[0]).map_err(Error::Shape)
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.rearrange(inputs[0]).map_err(Error::Shape)
    }
}
