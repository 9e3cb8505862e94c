//! Gemm and MatMul with a constant right-hand side: dot products with the weights as
//! coefficients (fixed columns, or witnesses under private parameters), a bias at the
//! product's scale, then one rescale (fused with a following Relu). MatMul broadcasts as numpy
//! does: every row of the input (all its leading dimensions: a sequence of tokens, a batch) is
//! multiplied by the weights of its batch of B, and a 1-D operand is a row or a column.
//!
//! A constant left-hand side (`A x`, as hummingbird's GEMM trees write it) is the same dot
//! products on the columns of `x`: `(A x)^T = x^T A^T`, transposed back (a copy).

use super::shape::Rearrange;
use super::{broadcast, rescaled, Constant, Epilogue, NodeCtx, Op};
use crate::arith::{Arith, Coef, Dot, Wire};
use crate::tensor::Tensor;
use crate::Error;
use rayon::prelude::*;

#[derive(Clone, Debug)]
pub struct Dense {
    /// `[batches, outputs, inputs]`: row `j` of batch `b` holds the weights of output `j`.
    weights: Constant,
    /// B's leading (batch) dimensions, which broadcast against the input's.
    batch: Vec<usize>,
    /// B was 1-D (a column): the output drops its last dimension.
    column: bool,
    /// Gemm's transA: the input is `[K, M]`.
    trans_a: bool,
    /// The bias, broadcast onto the output (`None` when the node has none).
    bias: Option<Constant>,
    pub(crate) relu: bool,
    /// The output is the sums before the rescale, which the lookups reading it take over.
    deferred: bool,
}

/// `A x` for a constant `A` and a computed `x`: a Dense with `A`'s rows as its weights over
/// `x`'s columns (numpy's batch broadcasting as MatMul's), whose `[.., N, M]` output is
/// transposed in its last two dimensions.
#[derive(Debug)]
pub struct Transposed {
    dense: Dense,
}

/// `A`'s rows as weights `[batches, M, K]`, scaled by `alpha`, and A's leading (batch)
/// dimensions; with `trans` A is `[K, M]`.
fn left_weights(ctx: &NodeCtx, a: &Tensor<f32>, trans: bool, alpha: f32) -> Result<(Constant, Vec<usize>), String> {
    let r = a.shape.len();
    if r < 2 {
        return Err(format!("a constant left operand must have at least two dimensions, got shape {:?}", a.shape));
    }
    let (rows, cols) = (a.shape[r - 2], a.shape[r - 1]);
    let (m, k) = if trans { (cols, rows) } else { (rows, cols) };
    let batches: usize = a.shape[..r - 2].iter().product();
    let at = |b: usize, i: usize, j: usize| a.data[b * rows * cols + if trans { j * cols + i } else { i * cols + j }];
    let w = (0..batches).flat_map(|b| (0..m).flat_map(move |i| (0..k).map(move |j| alpha * at(b, i, j)))).collect();
    Ok((ctx.param(Tensor::new(vec![batches, m, k], w))?, a.shape[..r - 2].to_vec()))
}

/// The Transpose of the last two of `rank` dimensions (copies of wires: no rows).
fn swap_last_two(rank: usize) -> Rearrange {
    Rearrange::Transpose(Some((0..rank - 2).chain([rank - 1, rank - 2]).collect()))
}

impl Op for Transposed {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        if inputs[0].len() < 2 {
            return Err(format!("with a constant left operand the computed one must have at least two dimensions, got {:?}", inputs[0]));
        }
        let mut s = self.dense.output_shape(inputs)?;
        let r = s.len();
        s.swap(r - 2, r - 1);
        Ok(s)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let y = self.dense.apply(arith, inputs)?;
        swap_last_two(y.shape.len()).apply(arith, &[&y])
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        self.output_shape(&[&inputs[0].shape]).map_err(Error::Shape)?;
        let y = self.dense.eval_float(inputs)?;
        swap_last_two(y.shape.len()).eval_float(&[&y])
    }
}

/// Gemm with a constant A and a computed B: `alpha op(A) op(B) + beta C` as [`Transposed`], C
/// (broadcast onto `[M, N]`) transposed into the Dense's bias.
fn gemm_left(ctx: &NodeCtx, a: &Tensor<f32>, alpha: f32, beta: f32) -> Result<Box<dyn Op>, String> {
    if a.shape.len() != 2 {
        return Err(format!("A must be 2-D, got shape {:?}", a.shape));
    }
    let (weights, _) = left_weights(ctx, a, ctx.int("transA", 0)? != 0, alpha)?;
    let m = weights.values.shape[1];
    let bias = match ctx.constant(2) {
        None => None,
        Some(c) => {
            // The Dense's output is [N, M], N unknown until the input's shape is: C of one
            // entry per output row (a scalar or [M, 1]) is its bias per column.
            let per_row = match c.shape.as_slice() {
                [] | [1] | [1, 1] => vec![beta * c.data[0]; m],
                [rows, 1] if *rows == m => c.data.iter().map(|v| beta * v).collect(),
                other => return Err(format!("C of shape {other:?} with a constant A: only a scalar or [M, 1] is supported")),
            };
            Some(ctx.param(Tensor::new(vec![1, m], per_row))?)
        }
    };
    // op(B)^T is B itself when transB = 1, else B read by columns (the Dense's transA).
    let trans_a = ctx.int("transB", 0)? == 0;
    Ok(Box::new(Transposed { dense: Dense { weights, batch: vec![], column: false, trans_a, bias, relu: false, deferred: false } }))
}

pub fn gemm(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    let alpha = ctx.float("alpha", 1.0)?;
    let beta = ctx.float("beta", 1.0)?;
    // The ops below read only A (or B) as computed: a computed C would be left out.
    if ctx.node.inputs.get(2).is_some_and(|c| !c.is_empty()) && ctx.constant(2).is_none() {
        return Err("C is computed: only a constant C is supported (write the Gemm as a MatMul and an Add)".into());
    }
    if let (Some(a), None) = (ctx.constant(0), ctx.constant(1)) {
        return gemm_left(ctx, a, alpha, beta);
    }
    let b = ctx.require_constant(1, "B")?;
    if b.shape.len() != 2 {
        return Err(format!("B must be 2-D, got shape {:?}", b.shape));
    }
    let trans_b = ctx.int("transB", 0)? != 0;
    let (k, n) = if trans_b { (b.shape[1], b.shape[0]) } else { (b.shape[0], b.shape[1]) };
    let at = |i: usize, j: usize| if trans_b { b.data[j * k + i] } else { b.data[i * n + j] };
    let weights = (0..n).flat_map(|j| (0..k).map(move |i| alpha * at(i, j))).collect();
    // C broadcasts onto [M, N] (checked against M in `output_shape`).
    let bias = ctx.constant(2).map(|c| ctx.param(c.map(|v| beta * v))).transpose()?;
    if let Some(c) = &bias {
        if c.values.shape.len() > 2 || c.values.shape.last().is_some_and(|&d| d != 1 && d != n) {
            return Err(format!("C of shape {:?} does not broadcast to [M, {n}]", c.values.shape));
        }
    }
    let weights = ctx.param(Tensor::new(vec![1, n, k], weights))?;
    Ok(Box::new(Dense { weights, batch: vec![], column: false, trans_a: ctx.int("transA", 0)? != 0, bias, relu: false, deferred: false }))
}

/// `x W^T + b` for weights `[outputs, inputs]` and a bias of one entry per output.
pub(super) fn dense(weights: Constant, bias: Constant) -> Box<dyn Op> {
    let (n, k) = (weights.values.shape[0], weights.values.shape[1]);
    let weights = Constant { values: weights.values.reshape(vec![1, n, k]), ..weights };
    Box::new(Dense { weights, batch: vec![], column: false, trans_a: false, bias: Some(bias), relu: false, deferred: false })
}

pub fn matmul(ctx: &NodeCtx) -> Result<Box<dyn Op>, String> {
    match (ctx.constant(0), ctx.constant(1)) {
        (None, None) => return Ok(Box::new(super::product::MatMulProduct)),
        (Some(a), None) => {
            let (weights, batch) = left_weights(ctx, a, false, 1.0)?;
            // x read by columns: the Dense's transA.
            return Ok(Box::new(Transposed { dense: Dense { weights, batch, column: false, trans_a: true, bias: None, relu: false, deferred: false } }));
        }
        _ => {}
    }
    let b = ctx.require_constant(1, "B (or A and B both computed)")?;
    let column = b.shape.len() == 1;
    let (batch, k, n) = match b.shape.as_slice() {
        [] => return Err("B must have at least one dimension, got a scalar".into()),
        [k] => (vec![], *k, 1),
        [batch @ .., k, n] => (batch.to_vec(), *k, *n),
    };
    let batches: usize = batch.iter().product();
    let weights = (0..batches).flat_map(|m| (0..n).flat_map(move |j| (0..k).map(move |i| b.data[m * k * n + i * n + j]))).collect();
    let weights = ctx.param(Tensor::new(vec![batches, n, k], weights))?;
    Ok(Box::new(Dense { weights, batch, column, trans_a: false, bias: None, relu: false, deferred: false }))
}

/// Where the dot products of a Dense read: per row of the output (all but its last
/// dimension), the input's offset and stride over the `k` inputs and the first weight of its
/// batch of B.
struct Rows {
    shape: Vec<usize>,
    rows: Vec<(usize, usize, usize)>,
}

impl Dense {
    fn inputs(&self) -> usize {
        self.weights.values.shape[2]
    }

    fn outputs(&self) -> usize {
        self.weights.values.shape[1]
    }

    fn rows(&self, input: &[usize]) -> Result<Rows, String> {
        let (k, n) = (self.inputs(), self.outputs());
        // transA: the input is [.., K, M], its columns the rows multiplied.
        let features = if self.trans_a { input.len().checked_sub(2).map(|d| input[d]) } else { input.last().copied() };
        if features != Some(k) {
            let side = if self.trans_a { "have, second to last (transA = 1)," } else { "end in" };
            return Err(format!("input shape {input:?} does not {side} the {k} features the weights expect"));
        }
        // A 1-D input is one row whose dimension the output drops.
        let a: Vec<usize> = if input.len() == 1 { vec![1, k] } else { input.to_vec() };
        let (a_batch, m) = (&a[..a.len() - 2], if self.trans_a { a[a.len() - 1] } else { a[a.len() - 2] });
        let rank = a_batch.len().max(self.batch.len());
        let pad = |s: &[usize]| std::iter::repeat_n(1, rank - s.len()).chain(s.iter().copied()).collect::<Vec<_>>();
        let (pa, pb) = (pad(a_batch), pad(&self.batch));
        let mut out_batch = Vec::with_capacity(rank);
        for (x, y) in pa.iter().zip(&pb) {
            out_batch.push(match (x, y) {
                (x, y) if x == y || *y == 1 => *x,
                (1, y) => *y,
                _ => return Err(format!("the input's batch dimensions {a_batch:?} do not broadcast with B's {:?}", self.batch)),
            });
        }
        let (a_index, b_index) = (broadcast(a_batch, &out_batch)?, broadcast(&self.batch, &out_batch)?);
        let trans_a = self.trans_a;
        let row = move |ab: usize, r: usize| if trans_a { (ab * m * k + r, m) } else { ((ab * m + r) * k, 1) };
        let rows = a_index.iter().zip(&b_index).flat_map(|(&ab, &bb)| (0..m).map(move |r| (row(ab, r).0, row(ab, r).1, bb * n * k))).collect();
        let mut shape = out_batch;
        if input.len() > 1 {
            shape.push(m);
        }
        if !self.column {
            shape.push(n);
        }
        self.with_bias(Rows { shape, rows })
    }

    fn with_bias(&self, rows: Rows) -> Result<Rows, String> {
        if let Some(c) = &self.bias {
            broadcast(&c.values.shape, &rows.shape)?;
        }
        Ok(rows)
    }

    /// Per output, its dot product with the bias at the products' scale, and the output's shape.
    fn products(&self, x: &Tensor<Wire>, bits: u32) -> Result<(Vec<usize>, Vec<Dot>), Error> {
        let Rows { shape, rows } = self.rows(&x.shape).map_err(Error::Shape)?;
        let bias = bias_index(self.bias.as_ref(), &shape);
        let (k, n) = (self.inputs(), self.outputs());
        let products = (0..rows.len() * n)
            .into_par_iter()
            .map(|o| {
                let ((start, stride, w), j) = (rows[o / n], o % n);
                Dot {
                    inputs: (0..k).map(|i| x.data[start + i * stride].clone()).collect(),
                    weights: (0..k).map(|i| self.weights.coef(w + j * k + i, bits)).collect(),
                    bias: bias.as_ref().map_or(Coef::Const(0), |(b, index)| b.coef(index[o], 2 * bits)),
                }
            })
            .collect();
        Ok((shape, products))
    }

    /// Per output, its value in floats before any ReLU, and the output's shape.
    fn float_sums(&self, x: &Tensor<f32>) -> Result<(Vec<usize>, Vec<f64>), Error> {
        let Rows { shape, rows } = self.rows(&x.shape).map_err(Error::Shape)?;
        let bias = bias_index(self.bias.as_ref(), &shape);
        let (k, n, w) = (self.inputs(), self.outputs(), &self.weights.values.data);
        let sums = (0..rows.len() * n)
            .map(|o| {
                let ((start, stride, wb), j) = (rows[o / n], o % n);
                let b = bias.as_ref().map_or(0.0, |(b, index)| b.values.data[index[o]] as f64);
                (0..k).fold(b, |acc, i| acc + w[wb + j * k + i] as f64 * x.data[start + i * stride] as f64)
            })
            .collect();
        Ok((shape, sums))
    }
}

/// Per output element, the entry of `bias` it adds.
fn bias_index<'a>(bias: Option<&'a Constant>, shape: &[usize]) -> Option<(&'a Constant, Vec<usize>)> {
    bias.map(|c| (c, broadcast(&c.values.shape, shape).expect("checked against the output's shape")))
}

/// `a + b` for biases of an output of shape `output`, each broadcast onto it (`a` absent: `b`).
/// The sum is held in the parameters of the operand whose shape it has, so it takes no new
/// parameter numbers (the other's are no longer read); `None` where neither has its shape.
fn summed_bias(a: Option<&Constant>, b: &Constant, output: &[usize]) -> Option<Constant> {
    let Some(a) = a else {
        return broadcast(&b.values.shape, output).is_ok().then(|| b.clone());
    };
    let shape = crate::tensor::broadcast_shape(&[&a.values.shape, &b.values.shape]).ok()?;
    broadcast(&shape, output).ok()?;
    let owner = [a, b].into_iter().find(|c| c.values.shape == shape)?;
    let (ia, ib) = (broadcast(&a.values.shape, &shape).ok()?, broadcast(&b.values.shape, &shape).ok()?);
    let values = ia.iter().zip(&ib).map(|(&i, &j)| a.values.data[i] + b.values.data[j]).collect();
    Some(Constant { values: Tensor::new(shape, values), ..owner.clone() })
}

/// Dense layers of several inputs summed, `x_1 W_1 + x_2 W_2 + .. + b` (an unrolled recurrent
/// cell's `x W^T + h R^T + b`): one dot product per output over all the inputs and one
/// rescale, where apart each layer rescales and each sum takes a row per value.
#[derive(Debug)]
pub struct DenseSum {
    /// One per input, in the node's input order, without biases.
    parts: Vec<Dense>,
    bias: Option<Constant>,
    relu: bool,
    /// As [`Dense`]'s.
    deferred: bool,
}

impl DenseSum {
    /// `a + sign b` of the ops `a` and `b` compute, when each is a dense layer (or a sum of
    /// them) without a ReLU and both give `output`'s shape, as one op over their inputs (`a`'s,
    /// then `b`'s); `None` otherwise.
    pub fn of(a: &dyn Op, b: &dyn Op, sign: i64, output: &[usize]) -> Option<Self> {
        let terms = |op: &dyn Op| -> Option<(Vec<Dense>, Option<Constant>)> {
            let op: &dyn std::any::Any = op;
            if let Some(d) = op.downcast_ref::<Dense>().filter(|d| !d.relu) {
                return Some((vec![Dense { bias: None, ..d.clone() }], d.bias.clone()));
            }
            let s = op.downcast_ref::<DenseSum>().filter(|s| !s.relu)?;
            Some((s.parts.clone(), s.bias.clone()))
        };
        let (mut parts, bias_a) = terms(a)?;
        let (mut more, mut bias_b) = terms(b)?;
        if sign < 0 {
            for c in more.iter_mut().map(|d| &mut d.weights).chain(bias_b.as_mut()) {
                c.values.data.iter_mut().for_each(|v| *v = -*v);
            }
        }
        parts.append(&mut more);
        let bias = match (bias_a, bias_b) {
            (None, None) => None,
            (a, Some(b)) | (Some(b), a) => Some(summed_bias(a.as_ref(), &b, output)?),
        };
        Some(DenseSum { parts, bias, relu: false, deferred: false })
    }
}

impl Op for DenseSum {
    fn deferred_rescale(&mut self) -> Option<&mut bool> {
        (!self.relu).then_some(&mut self.deferred)
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let shapes = self.parts.iter().zip(inputs).map(|(d, x)| d.rows(x).map(|r| r.shape)).collect::<Result<Vec<_>, _>>()?;
        if shapes.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("the summed dense layers give shapes {shapes:?}, which differ"));
        }
        if let Some(c) = &self.bias {
            broadcast(&c.values.shape, &shapes[0])?;
        }
        Ok(shapes[0].clone())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let shape = self.output_shape(&inputs.iter().map(|x| x.shape.as_slice()).collect::<Vec<_>>()).map_err(Error::Shape)?;
        let bits = arith.shape().scale_bits;
        let mut sums: Vec<Dot> = Vec::new();
        for (d, x) in self.parts.iter().zip(inputs) {
            let (_, products) = d.products(x, bits)?;
            if sums.is_empty() {
                sums = products;
                continue;
            }
            for (sum, p) in sums.iter_mut().zip(products) {
                sum.inputs.extend(p.inputs);
                sum.weights.extend(p.weights);
            }
        }
        if let Some((b, index)) = bias_index(self.bias.as_ref(), &shape) {
            sums.iter_mut().enumerate().for_each(|(o, sum)| sum.bias = b.coef(index[o], 2 * bits));
        }
        let acc = arith.dot(sums)?;
        Ok(Tensor::new(shape, rescaled(arith, acc, self.relu, self.deferred)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let shape = self.output_shape(&inputs.iter().map(|x| x.shape.as_slice()).collect::<Vec<_>>()).map_err(Error::Shape)?;
        let mut sums = vec![0f64; shape.iter().product()];
        for (d, x) in self.parts.iter().zip(inputs) {
            sums.iter_mut().zip(d.float_sums(x)?.1).for_each(|(s, v)| *s += v);
        }
        if let Some((b, index)) = bias_index(self.bias.as_ref(), &shape) {
            sums.iter_mut().zip(index).for_each(|(s, i)| *s += b.values.data[i] as f64);
        }
        Ok(Tensor::new(shape, sums.into_iter().map(|y| (if self.relu { y.max(0.0) } else { y }) as f32).collect()))
    }

    fn absorb(&mut self, epilogue: &Epilogue, output: &[usize]) -> bool {
        match epilogue {
            Epilogue::Relu => self.relu = true,
            Epilogue::Bias(c) if !self.relu => match summed_bias(self.bias.as_ref(), c, output) {
                Some(b) => self.bias = Some(b),
                None => return false,
            },
            _ => return false,
        }
        true
    }
}

impl Op for Dense {
    fn deferred_rescale(&mut self) -> Option<&mut bool> {
        (!self.relu).then_some(&mut self.deferred)
    }

    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(self.rows(inputs[0])?.shape)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let (shape, products) = self.products(inputs[0], arith.shape().scale_bits)?;
        let acc = arith.dot(products)?;
        Ok(Tensor::new(shape, rescaled(arith, acc, self.relu, self.deferred)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let (shape, sums) = self.float_sums(inputs[0])?;
        Ok(Tensor::new(shape, sums.into_iter().map(|y| (if self.relu { y.max(0.0) } else { y }) as f32).collect()))
    }

    /// ReLU; a bias added after it; a channel affine where the output is `[M, N]` (its channels are the outputs) and
    /// the bias one per output.
    fn absorb(&mut self, epilogue: &Epilogue, output: &[usize]) -> bool {
        match epilogue {
            Epilogue::Relu => self.relu = true,
            Epilogue::ChannelAffine { scale, shift } => {
                let n = self.outputs();
                let per_output = self.bias.as_ref().is_none_or(|b| b.values.len() == 1 || b.values.len() == n && b.values.shape.last() == Some(&n));
                if output.len() != 2 || self.column || self.weights.values.shape[0] != 1 || shift.values.len() != n || !per_output || self.relu {
                    return false;
                }
                let k = self.inputs();
                self.weights.values.data.iter_mut().enumerate().for_each(|(i, w)| *w *= scale.values.data[i / k]);
                let old = |c: usize| self.bias.as_ref().map_or(0.0, |b| b.values.data[if b.values.len() == 1 { 0 } else { c }]);
                let bias = Epilogue::bias(scale, shift, old);
                self.bias = Some(bias);
            }
            Epilogue::Bias(c) if !self.relu => match summed_bias(self.bias.as_ref(), c, output) {
                Some(b) => self.bias = Some(b),
                None => return false,
            },
            Epilogue::MaxPool(_) | Epilogue::Softmax(_) | Epilogue::Bias(_) => return false,
        }
        true
    }
}
