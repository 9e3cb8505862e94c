//! The op registry. Each op lives in one module with its shape rule, its quantized semantics
//! (written once against [`Arith`]) and so its gadgets; adding an op is one module and one
//! line in [`REGISTRY`].

mod conv;
mod elementwise;
mod gemm;
mod nonlinear;
mod pool;
mod shape;

use crate::arith::{Arith, Wire};
use crate::onnx::{Attribute, RawNode};
use crate::tensor::Tensor;
use crate::Error;
use std::collections::HashMap;
use std::fmt::Debug;

pub trait Op: Debug + Send + Sync {
    /// Output shape from the shapes of the dynamic (non-constant) inputs.
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String>;
    /// Quantized semantics over the dynamic inputs.
    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error>;
    /// Makes the op's final rescale also apply ReLU, so a following Relu costs nothing.
    fn fuse_relu(&mut self) -> bool {
        false
    }
}

/// What an op's constructor sees of its node: attributes, constant inputs (initializers and
/// Constant nodes, as floats) and the fixed-point scale for quantizing them.
pub struct NodeCtx<'a> {
    pub node: &'a RawNode,
    pub constants: &'a HashMap<String, Tensor<f32>>,
    pub scale_bits: u32,
}

impl NodeCtx<'_> {
    fn attr(&self, name: &str) -> Option<&Attribute> {
        self.node.attributes.get(name)
    }

    pub fn int(&self, name: &str, default: i64) -> Result<i64, String> {
        match self.attr(name) {
            None => Ok(default),
            Some(Attribute::Int(v)) => Ok(*v),
            Some(other) => Err(format!("attribute '{name}' should be an integer, found {other:?}")),
        }
    }

    pub fn float(&self, name: &str, default: f32) -> Result<f32, String> {
        match self.attr(name) {
            None => Ok(default),
            Some(Attribute::Float(v)) => Ok(*v),
            Some(other) => Err(format!("attribute '{name}' should be a float, found {other:?}")),
        }
    }

    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attribute::Ints(v)) => Ok(Some(v.clone())),
            Some(other) => Err(format!("attribute '{name}' should be a list of integers, found {other:?}")),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attribute::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("attribute '{name}' should be a string, found {other:?}")),
        }
    }

    /// Input `i` when it is a constant; `None` when it is computed by the graph or absent.
    pub fn constant(&self, i: usize) -> Option<&Tensor<f32>> {
        self.node.inputs.get(i).filter(|n| !n.is_empty()).and_then(|n| self.constants.get(n))
    }

    pub fn require_constant(&self, i: usize, what: &str) -> Result<&Tensor<f32>, String> {
        self.constant(i).ok_or_else(|| format!("input {i} ({what}) must be a constant initializer"))
    }

    /// `round(x * 2^bits)`.
    pub fn quantize(&self, x: f32, bits: u32) -> i64 {
        (x as f64 * (1u64 << bits) as f64).round() as i64
    }
}

type Constructor = fn(&NodeCtx) -> Result<Box<dyn Op>, String>;

/// Every supported ONNX op. Constant, Identity, Dropout and the shape-only ops need no
/// constraints; the others lower to the gadgets of [`Arith`].
pub const REGISTRY: &[(&str, Constructor)] = &[
    ("Add", elementwise::add),
    ("ArgMax", nonlinear::argmax),
    ("AveragePool", pool::average_pool),
    ("BatchNormalization", elementwise::batch_norm),
    ("Clip", elementwise::clip),
    ("Concat", shape::concat),
    ("Conv", conv::conv),
    ("Div", elementwise::div),
    ("Dropout", shape::identity),
    ("Exp", nonlinear::exp),
    ("Flatten", shape::flatten),
    ("Gemm", gemm::gemm),
    ("GlobalAveragePool", pool::global_average_pool),
    ("Identity", shape::identity),
    ("LeakyRelu", nonlinear::leaky_relu),
    ("MatMul", gemm::matmul),
    ("MaxPool", pool::max_pool),
    ("Mul", elementwise::mul),
    ("PRelu", nonlinear::prelu),
    ("ReduceMean", pool::reduce_mean),
    ("ReduceSum", pool::reduce_sum),
    ("Relu", elementwise::relu),
    ("Reshape", shape::reshape),
    ("Sigmoid", nonlinear::sigmoid),
    ("Softmax", nonlinear::softmax),
    ("Squeeze", shape::squeeze),
    ("Sub", elementwise::sub),
    ("Tanh", nonlinear::tanh),
    ("Transpose", shape::transpose),
    ("Unsqueeze", shape::unsqueeze),
];

pub fn supported() -> String {
    let mut names: Vec<&str> = REGISTRY.iter().map(|(n, _)| *n).chain(["Constant"]).collect();
    names.sort();
    names.join(", ")
}

pub fn build(ctx: &NodeCtx) -> Result<Box<dyn Op>, Error> {
    let node = ctx.node;
    let constructor = REGISTRY.iter().find(|(name, _)| *name == node.op_type).map(|(_, c)| c).ok_or_else(|| {
        Error::UnsupportedOp { op: node.op_type.clone(), node: node.name.clone(), supported: supported() }
    })?;
    constructor(ctx).map_err(|message| Error::Node { op: node.op_type.clone(), node: node.name.clone(), message })
}

/// Broadcasts a constant (per ONNX's numpy rules) to `shape`, in row-major order.
pub fn broadcast(c: &Tensor<f32>, shape: &[usize]) -> Result<Vec<f32>, String> {
    if c.shape.len() > shape.len() {
        return Err(format!("cannot broadcast shape {:?} to {shape:?}", c.shape));
    }
    let pad = shape.len() - c.shape.len();
    let cs: Vec<usize> = std::iter::repeat(1).take(pad).chain(c.shape.iter().copied()).collect();
    for (a, b) in cs.iter().zip(shape) {
        if *a != 1 && a != b {
            return Err(format!("cannot broadcast shape {:?} to {shape:?}", c.shape));
        }
    }
    let strides = crate::tensor::strides(&cs);
    let out_strides = crate::tensor::strides(shape);
    let total: usize = shape.iter().product();
    Ok((0..total)
        .map(|i| {
            let idx: usize = (0..shape.len()).map(|d| if cs[d] == 1 { 0 } else { (i / out_strides[d]) % shape[d] * strides[d] }).sum();
            c.data[idx]
        })
        .collect())
}
