//! Products of two computed tensors (attention's `Q K^T` and `A V`, gating, `x * sigmoid(x)`):
//! each output is a sum of products of pairs of computed values, laid out by the `param dot`
//! gate with the second factor in a weight's cell (`width / 2` pairs a row), then one rescale.
//! Mul broadcasts as numpy does; MatMul takes numpy's batched form, a 1-D operand a row or a
//! column. Div of two computed tensors (a positive divisor) is the division gadget, and so are
//! Reciprocal and Div of a constant by a computed tensor.

use super::{broadcast, quantize, Constant, NodeCtx, Op};
use crate::arith::{Arith, Wire};
use crate::tensor::{broadcast_shape, Tensor};
use crate::Error;
use std::collections::HashMap;
use zkinfer_circuits::gadgets::ElementOp;

const RESCALE: ElementOp = ElementOp { rescale: true, relu: false };

/// `a * b`, both computed; or, an Add of such products taken over (an LSTM's `f c + i g`),
/// the sum of `terms` of them over the inputs in pairs, `a_1 b_1 + a_2 b_2 + ..`: one sum of
/// products and one rescale per output, where apart each product rescales and each sum takes
/// a row.
#[derive(Debug)]
pub struct Product {
    pub(super) terms: usize,
}

impl Product {
    /// `a + b` of the ops `a` and `b` compute, when each is a product (or a sum of them), as one
    /// product over their inputs (`a`'s, then `b`'s); `None` otherwise.
    pub fn of(a: &dyn Op, b: &dyn Op) -> Option<Self> {
        let terms = |op: &dyn Op| (op as &dyn std::any::Any).downcast_ref::<Product>().map(|p| p.terms);
        Some(Product { terms: terms(a)? + terms(b)? })
    }

    /// Per output, its pairs of factors, and the output's shape: every term gives it.
    fn pairs(&self, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Vec<(Wire, Wire)>>, Error> {
        let mut sums: Option<Tensor<Vec<(Wire, Wire)>>> = None;
        for term in inputs.chunks(2) {
            let pairs = elementwise(term[0], term[1])?;
            match &mut sums {
                None => sums = Some(pairs.map(|p| vec![p.clone()])),
                Some(s) if s.shape == pairs.shape => s.data.iter_mut().zip(pairs.data).for_each(|(s, p)| s.push(p)),
                Some(s) => return Err(Error::Shape(format!("the summed products give shapes {:?} and {:?}, which differ", s.shape, pairs.shape))),
            }
        }
        sums.ok_or_else(|| Error::Shape("a product of no factors".into()))
    }
}

/// `A B`, both computed.
#[derive(Debug)]
pub struct MatMulProduct;

/// `a / b`, both computed, `b` positive (a normalisation's `x / sigma`): the division gadget,
/// rounded once; a divisor below 2^-scale (zero or negative) is refused before proving.
#[derive(Debug)]
pub struct Quotient;

/// `c / x` with `c` constant and `x` computed and positive (Reciprocal; a normalisation's
/// `1 / sqrt(...)`): the division gadget with the constant, held to the grid, in a cell of the
/// verifying key (also under private parameters: it is the op's own constant).
#[derive(Debug)]
pub struct ConstantOver {
    pub numerator: Constant,
}

pub fn reciprocal(_: &NodeCtx) -> Result<Box<dyn Op>, String> {
    Ok(Box::new(ConstantOver { numerator: Constant::scalar(1.0) }))
}

impl Op for ConstantOver {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        broadcast_shape(&[&self.numerator.values.shape, inputs[0]])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let x = inputs[0];
        let s = arith.shape().scale_bits;
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let (numerators, divisors) = (broadcast(&self.numerator.values.shape, &shape).map_err(Error::Shape)?, broadcast(&x.shape, &shape).map_err(Error::Shape)?);
        let mut cells: HashMap<i64, Wire> = HashMap::new();
        let mut pairs = Vec::with_capacity(numerators.len());
        for (&i, &j) in numerators.iter().zip(&divisors) {
            let n = quantize(self.numerator.values.data[i], s);
            let cell = match cells.get(&n) {
                Some(c) => c.clone(),
                None => cells.entry(n).or_insert(arith.constant(n)?).clone(),
            };
            pairs.push((cell, x.data[j].clone()));
        }
        Ok(Tensor::new(shape, arith.divide(pairs, None)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let x = inputs[0];
        let shape = self.output_shape(&[&x.shape]).map_err(Error::Shape)?;
        let (numerators, divisors) = (broadcast(&self.numerator.values.shape, &shape).map_err(Error::Shape)?, broadcast(&x.shape, &shape).map_err(Error::Shape)?);
        Ok(Tensor::new(shape, numerators.iter().zip(&divisors).map(|(&i, &j)| self.numerator.values.data[i] / x.data[j]).collect()))
    }
}

/// Two computed tensors broadcast together, numpy-style: each output's pair of operands.
pub(super) fn elementwise<T: Clone>(a: &Tensor<T>, b: &Tensor<T>) -> Result<Tensor<(T, T)>, Error> {
    let shape = broadcast_shape(&[&a.shape, &b.shape]).map_err(Error::Shape)?;
    let (ia, ib) = (broadcast(&a.shape, &shape).map_err(Error::Shape)?, broadcast(&b.shape, &shape).map_err(Error::Shape)?);
    Ok(Tensor::new(shape, ia.iter().zip(&ib).map(|(&i, &j)| (a.data[i].clone(), b.data[j].clone())).collect()))
}

impl Op for Quotient {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        broadcast_shape(&[inputs[0], inputs[1]])
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let pairs = elementwise(inputs[0], inputs[1])?;
        Ok(Tensor::new(pairs.shape, arith.divide(pairs.data, None)?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        Ok(elementwise(inputs[0], inputs[1])?.map(|(a, b)| a / b))
    }
}

impl Op for Product {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        let shapes = inputs.chunks(2).map(broadcast_shape).collect::<Result<Vec<_>, _>>()?;
        if shapes.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("the summed products give shapes {shapes:?}, which differ"));
        }
        Ok(shapes[0].clone())
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let pairs = self.pairs(inputs)?;
        let products = arith.products(pairs.data)?;
        Ok(Tensor::new(pairs.shape, arith.element(RESCALE, products.into_iter().map(|p| (p, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let mut sums: Option<Tensor<f32>> = None;
        for term in inputs.chunks(2) {
            let products = elementwise(term[0], term[1])?.map(|(a, b)| a * b);
            sums = Some(match sums {
                None => products,
                Some(s) => Tensor::new(s.shape, s.data.iter().zip(&products.data).map(|(s, p)| s + p).collect()),
            });
        }
        sums.ok_or_else(|| Error::Shape("a product of no factors".into()))
    }

    fn uses_products(&self) -> bool {
        true
    }
}

/// Per output, the flat indices of its pairs of factors in `A` and `B`.
type Pairs = Vec<Vec<(usize, usize)>>;

/// The shape of `A B` and, per output, the flat indices of its `k` pairs of factors.
fn matmul_pairs(a: &[usize], b: &[usize]) -> Result<(Vec<usize>, Pairs), String> {
    // A 1-D A is a row [1, K], a 1-D B a column [K, 1]; the output drops what they add.
    let a2: Vec<usize> = if a.len() == 1 { vec![1, a[0]] } else { a.to_vec() };
    let b2: Vec<usize> = if b.len() == 1 { vec![b[0], 1] } else { b.to_vec() };
    if a2.len() < 2 || b2.len() < 2 {
        return Err(format!("MatMul needs operands of at least one dimension, got {a:?} and {b:?}"));
    }
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (kb, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if k != kb {
        return Err(format!("MatMul of {a:?} and {b:?}: A has {k} columns, B {kb} rows"));
    }
    let (batch_a, batch_b) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
    let batch = broadcast_shape(&[batch_a, batch_b])?;
    let (ia, ib) = (broadcast(batch_a, &batch)?, broadcast(batch_b, &batch)?);
    let mut pairs = Vec::with_capacity(ia.len() * m * n);
    for (&ba, &bb) in ia.iter().zip(&ib) {
        for r in 0..m {
            for c in 0..n {
                pairs.push((0..k).map(|i| ((ba * m + r) * k + i, (bb * k + i) * n + c)).collect());
            }
        }
    }
    let mut shape = batch;
    if a.len() > 1 {
        shape.push(m);
    }
    if b.len() > 1 {
        shape.push(n);
    }
    Ok((shape, pairs))
}

impl Op for MatMulProduct {
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String> {
        Ok(matmul_pairs(inputs[0], inputs[1])?.0)
    }

    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error> {
        let (a, b) = (inputs[0], inputs[1]);
        let (shape, pairs) = matmul_pairs(&a.shape, &b.shape).map_err(Error::Shape)?;
        let pairs = pairs.iter().map(|p| p.iter().map(|&(i, j)| (a.data[i].clone(), b.data[j].clone())).collect()).collect();
        let sums = arith.products(pairs)?;
        Ok(Tensor::new(shape, arith.element(RESCALE, sums.into_iter().map(|s| (s, None)).collect())?))
    }

    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error> {
        let (a, b) = (inputs[0], inputs[1]);
        let (shape, pairs) = matmul_pairs(&a.shape, &b.shape).map_err(Error::Shape)?;
        Ok(Tensor::new(shape, pairs.iter().map(|p| p.iter().map(|&(i, j)| a.data[i] as f64 * b.data[j] as f64).sum::<f64>() as f32).collect()))
    }

    fn uses_products(&self) -> bool {
        true
    }
}
