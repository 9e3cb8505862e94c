//! The op registry. Each op lives in one module with its shape rule, its quantized semantics
//! (written once against [`Arith`], and so its gadgets) and its float semantics; adding an op
//! is one module and one line in [`REGISTRY`].

mod atan;
mod compare;
mod conv;
mod einsum;
mod elementwise;
mod exp_log;
mod extremum;
mod gemm;
mod logic;
mod lookup;
mod ml;
mod nonlinear;
mod norm;
mod pad;
mod pool;
mod product;
mod recurrent;
mod resize;
mod rounding;
mod select;
pub mod shape;

pub use compare::booleanized;
mod slice;
mod svm;
mod tree;
mod trig;

use crate::arith::{Arith, Coef, Dot, Wire};
use crate::graph::{Attribute, RawNode};
use crate::tensor::{strides, Tensor};
use crate::Error;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use zkinfer_circuits::gadgets::{ElementOp, GatherTable};

pub trait Op: Debug + Send + Sync + std::any::Any {
    /// Output shape from the shapes of the dynamic (non-constant) inputs.
    fn output_shape(&self, inputs: &[&[usize]]) -> Result<Vec<usize>, String>;
    /// Quantized semantics over the dynamic inputs.
    fn apply(&self, arith: &mut dyn Arith, inputs: &[&Tensor<Wire>]) -> Result<Tensor<Wire>, Error>;
    /// Float semantics over the dynamic inputs with the model's float constants, as
    /// onnxruntime computes them: the reference that shows what quantization costs.
    fn eval_float(&self, inputs: &[&Tensor<f32>]) -> Result<Tensor<f32>, Error>;
    /// The shapes of the node's outputs when it has several: `output_shape` is then their
    /// total, flat, and `apply` and `eval_float` return them concatenated in order; the model
    /// reads each as a part (`shape::Part`, no rows). One output by default.
    fn output_shapes(&self, inputs: &[&[usize]]) -> Result<Vec<Vec<usize>>, String> {
        Ok(vec![self.output_shape(inputs)?])
    }
    /// What this op is as an [`Epilogue`] that the op before it may take over.
    fn epilogue(&self) -> Option<Epilogue<'_>> {
        None
    }
    /// Takes `epilogue` over into this op, whose output has shape `output`, so that the node
    /// that was it costs nothing; false where it cannot.
    fn absorb(&mut self, _epilogue: &Epilogue, _output: &[usize]) -> bool {
        false
    }
    /// The function tables the op looks up, a bit each (`Function::bit`; see `Model::shape`).
    fn functions(&self) -> u32 {
        0
    }
    /// The fixed table the op reads at computed indices (see `Model::gather_tables`).
    fn gather_table(&self) -> Option<&GatherTable> {
        None
    }
    /// Whether every value of the output is 0 or 1 (fixed-point 0 and `2^s`), given which of the
    /// computed inputs are: what the logical ops and Where's condition require. Moved values are
    /// what they were.
    fn boolean(&self, inputs: &[bool]) -> bool {
        self.moves_values() && inputs[0]
    }
    /// Whether the output is values of the one computed input, moved (a reshape, a slice, a
    /// split, a gather at constant indices): no arithmetic, so each value is what it was, a bool
    /// or a sum at the products' scale.
    fn moves_values(&self) -> bool {
        false
    }
    /// The switch that leaves out the op's final rescale, where its readers may take it over:
    /// its output is then sums at the products' scale (see `Model::defer_rescales`).
    fn deferred_rescale(&mut self) -> Option<&mut bool> {
        None
    }
    /// The switch that makes the op read its input as sums at the products' scale, where it
    /// can (a function lookup, which reads them to a finer step than their rescale for fewer
    /// rows).
    fn reads_sums(&mut self) -> Option<&mut bool> {
        None
    }
    /// Whether the op multiplies two computed values (see `Model::shape`).
    fn uses_products(&self) -> bool {
        false
    }
    /// Whether the op range checks values at the products' scale `2^2s` (a pool taken over by a
    /// Conv compares its accumulators): without calibration the range must hold them.
    fn checks_products(&self) -> bool {
        false
    }
}

/// The sums `acc` rescaled (and through a ReLU), or as they are where the rescale is deferred
/// (see `Op::deferred_rescale`).
fn rescaled(arith: &mut dyn Arith, acc: Vec<Wire>, relu: bool, deferred: bool) -> Result<Vec<Wire>, Error> {
    if deferred {
        return Ok(acc);
    }
    arith.element(ElementOp { rescale: true, relu }, acc.into_iter().map(|a| (a, None)).collect())
}

/// An op that the op before it can apply at no cost (in its final rescale, or folded into its
/// weights), or for less than on its own (a pooling before the rescale).
pub enum Epilogue<'a> {
    /// `max(0, y)`: the rescale's ReLU.
    Relu,
    /// `y * scale[c] + shift[c]` per channel `c` of axis 1 (inference BatchNormalization):
    /// folded into a producer's weights and bias, the shift's parameters becoming its bias.
    ChannelAffine { scale: &'a Constant, shift: &'a Constant },
    /// The maximum over each window (MaxPool): before the rescale and the ReLU, both monotone,
    /// so that only the window's maximum is rescaled.
    MaxPool(&'a conv::Window),
    /// Softmax along an axis: taken over by a Where that masks entries with -inf (attention's
    /// causal mask), which fixed point cannot hold but the softmax can leave out.
    Softmax(i64),
    /// `y + c` for a constant `c` (a bias added after a MatMul): the producer's own bias.
    Bias(&'a Constant),
}

impl Epilogue<'_> {
    /// The bias that absorbing a channel affine leaves, per channel: `scale[c] * old(c) +
    /// shift[c]`, held in the shift's parameters.
    fn bias(scale: &Constant, shift: &Constant, old: impl Fn(usize) -> f32) -> Constant {
        let values = (0..shift.values.len()).map(|c| scale.values.data[c] * old(c) + shift.values.data[c]).collect();
        Constant { values: Tensor::new(vec![shift.values.len()], values), ..shift.clone() }
    }
}

/// The op that computes `op` of the outputs of `a` and `b` directly from their inputs (`a`'s,
/// then `b`'s), for less, when there is one: a sum of two dense layers (see
/// [`gemm::DenseSum`]) or of two products of computed tensors (see [`product::Product`]). `output` is the shape of all three.
pub fn fuse_sum(op: &dyn Op, a: &dyn Op, b: &dyn Op, output: &[usize]) -> Option<Box<dyn Op>> {
    let op: &dyn std::any::Any = op;
    let sum = op.downcast_ref::<elementwise::Linear>().filter(|l| l.c0 == 1)?;
    if let Some(dense) = gemm::DenseSum::of(a, b, sum.c1, output) {
        return Some(Box::new(dense));
    }
    let added = sum.c1 == 1;
    added.then(|| product::Product::of(a, b)).flatten().map(|p| Box::new(p) as Box<dyn Op>)
}

/// What an op's constructor sees of its node: attributes, constant inputs (initializers and
/// Constant nodes, as floats), the fixed-point scale for quantizing them, and the count of
/// the model's parameters so far, from which [`NodeCtx::param`] numbers new ones.
pub struct NodeCtx<'a> {
    pub node: &'a RawNode,
    pub constants: &'a HashMap<String, Tensor<f32>>,
    pub scale_bits: u32,
    pub params: &'a Cell<usize>,
    /// The computed tensors known to hold only 0 and 1 (see [`Op::boolean`]).
    pub booleans: &'a HashSet<String>,
}

/// `round(x * 2^bits)`.
pub fn quantize(x: f32, bits: u32) -> i64 {
    (x as f64 * (1u64 << bits) as f64).round() as i64
}

/// A constant tensor of an op in the model's floats. The model's parameters (weights,
/// biases) carry an id per entry, which names the entry's cell under private parameters;
/// constants of the op's own definition have none and always sit in the verifying key.
#[derive(Clone, Debug)]
pub struct Constant {
    pub values: Tensor<f32>,
    first_param: Option<usize>,
}

impl Constant {
    pub fn fixed(values: Tensor<f32>) -> Self {
        Constant { values, first_param: None }
    }

    pub fn scalar(value: f32) -> Self {
        Self::fixed(Tensor::new(vec![], vec![value]))
    }

    /// Entry `i` at scale `2^bits`, as a dot-product coefficient.
    pub fn coef(&self, i: usize, bits: u32) -> Coef {
        self.coef_with(i, quantize(self.values.data[i], bits))
    }

    /// Entry `i` as a dot-product coefficient of an integer the op derived from it.
    pub fn coef_with(&self, i: usize, value: i64) -> Coef {
        match self.first_param {
            Some(first) => Coef::Param { id: first + i, value },
            None => Coef::Const(value),
        }
    }
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

    pub fn floats(&self, name: &str) -> Result<Option<Vec<f32>>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attribute::Floats(v)) => Ok(Some(v.clone())),
            Some(other) => Err(format!("attribute '{name}' should be a list of floats, found {other:?}")),
        }
    }

    pub fn strings(&self, name: &str) -> Result<Option<Vec<String>>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attribute::Strings(v)) => Ok(Some(v.clone())),
            Some(other) => Err(format!("attribute '{name}' should be a list of strings, found {other:?}")),
        }
    }

    /// A tensor attribute's values, as floats.
    pub fn tensor(&self, name: &str) -> Result<Option<Vec<f32>>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attribute::Tensor(t)) => Ok(Some(t.data.clone())),
            Some(other) => Err(format!("attribute '{name}' should be a tensor, found {other:?}")),
        }
    }

    /// A list of floats given as `name`, or as the tensor `name_as_tensor` (ONNX-ML's doubles).
    pub fn floats_or_tensor(&self, name: &str) -> Result<Option<Vec<f32>>, String> {
        match (self.floats(name)?, self.attr(&format!("{name}_as_tensor"))) {
            (Some(v), _) => Ok(Some(v)),
            (None, None) => Ok(None),
            (None, Some(Attribute::Tensor(t))) => Ok(Some(t.data.clone())),
            (None, Some(other)) => Err(format!("attribute '{name}_as_tensor' should be a tensor, found {other:?}")),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, String> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attribute::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!("attribute '{name}' should be a string, found {other:?}")),
        }
    }

    /// Whether input `i` holds only 0 and 1: a constant that does, or a computed tensor known to.
    pub fn is_boolean(&self, i: usize) -> bool {
        match self.constant(i) {
            Some(t) => t.data.iter().all(|v| *v == 0.0 || *v == 1.0),
            None => self.node.inputs.get(i).is_some_and(|n| self.booleans.contains(n)),
        }
    }

    /// Input `i` when it is a constant; `None` when it is computed by the graph or absent.
    pub fn constant(&self, i: usize) -> Option<&Tensor<f32>> {
        self.node.inputs.get(i).filter(|n| !n.is_empty()).and_then(|n| self.constants.get(n))
    }

    pub fn require_constant(&self, i: usize, what: &str) -> Result<&Tensor<f32>, String> {
        self.constant(i).ok_or_else(|| format!("input {i} ({what}) must be a constant initializer"))
    }

    /// Input `i`, which must be a constant when the node gives it; `None` when it does not.
    pub fn optional_constant(&self, i: usize, what: &str) -> Result<Option<&Tensor<f32>>, String> {
        match self.node.inputs.get(i).filter(|n| !n.is_empty()) {
            None => Ok(None),
            Some(_) => self.require_constant(i, what).map(Some),
        }
    }

    /// [`NodeCtx::optional_constant`] as integers (axes, indices, pads). Integer inputs arrive
    /// as floats; `as` saturates INT64_MAX and INT64_MIN, which ONNX uses for "to the end".
    pub fn int_input(&self, i: usize, what: &str) -> Result<Option<Vec<i64>>, String> {
        Ok(self.optional_constant(i, what)?.map(|t| t.data.iter().map(|v| *v as i64).collect()))
    }

    /// Makes `values` parameters of the model, numbered after those before. An infinity or NaN
    /// (a folded ReduceMax of nothing, an overflowing export) has no fixed-point value: refused
    /// rather than saturated into a wrong one.
    pub fn param(&self, values: Tensor<f32>) -> Result<Constant, String> {
        if let Some(v) = values.data.iter().find(|v| !v.is_finite()) {
            return Err(format!("a constant holds {v}, which fixed point cannot hold"));
        }
        let first = self.params.get();
        self.params.set(first + values.len());
        Ok(Constant { values, first_param: Some(first) })
    }
}

type Constructor = fn(&NodeCtx) -> Result<Box<dyn Op>, String>;

/// Every supported ONNX op. Constant, Identity, Dropout and the shape-only ops need no
/// constraints; the others lower to the gadgets of [`Arith`].
pub const REGISTRY: &[(&str, Constructor)] = &[
    ("Abs", elementwise::abs),
    ("Acos", trig::acos),
    ("Acosh", exp_log::acosh),
    ("Add", elementwise::add),
    ("And", logic::and),
    ("ArgMax", nonlinear::argmax),
    ("ArgMin", nonlinear::argmin),
    ("ArrayFeatureExtractor", ml::array_feature_extractor),
    ("Asin", trig::asin),
    ("Asinh", exp_log::asinh),
    ("Atan", atan::atan),
    ("Atanh", exp_log::atanh),
    ("AveragePool", pool::average_pool),
    ("BatchNormalization", elementwise::batch_norm),
    ("Binarizer", ml::binarizer),
    ("Cast", shape::cast),
    ("Ceil", elementwise::ceil),
    ("Celu", nonlinear::celu),
    ("Clip", elementwise::clip),
    ("Concat", shape::concat),
    ("Conv", conv::conv),
    ("ConvTranspose", conv::conv_transpose),
    ("Cos", trig::cos),
    ("Cosh", exp_log::cosh),
    ("DepthToSpace", shape::depth_to_space),
    ("Div", elementwise::div),
    ("Dropout", shape::dropout),
    ("Einsum", einsum::einsum),
    ("Elu", nonlinear::elu),
    ("Equal", compare::equal),
    ("Erf", nonlinear::erf),
    ("Exp", exp_log::exp),
    ("Expand", shape::expand),
    ("Flatten", shape::flatten),
    ("Floor", elementwise::floor),
    ("Gather", shape::gather),
    ("GatherElements", shape::gather_elements),
    ("Gelu", nonlinear::gelu),
    ("GRU", recurrent::gru),
    ("Greater", compare::greater),
    ("GroupNormalization", norm::group_norm),
    ("GreaterOrEqual", compare::greater_or_equal),
    ("Gemm", gemm::gemm),
    ("GlobalAveragePool", pool::global_average_pool),
    ("GlobalLpPool", pool::global_lp_pool),
    ("HardSigmoid", elementwise::hard_sigmoid),
    ("HardSwish", elementwise::hard_swish),
    ("Hardmax", select::hardmax),
    ("Identity", shape::identity),
    ("Imputer", ml::imputer),
    ("InstanceNormalization", norm::instance_norm),
    ("LSTM", recurrent::lstm),
    ("LabelEncoder", ml::label_encoder),
    ("LayerNormalization", norm::layer_norm),
    ("LeakyRelu", nonlinear::leaky_relu),
    ("Less", compare::less),
    ("LessOrEqual", compare::less_or_equal),
    ("LinearClassifier", ml::linear_classifier),
    ("Log", exp_log::log),
    ("LogSoftmax", exp_log::log_softmax),
    ("LpPool", pool::lp_pool),
    ("LinearRegressor", ml::linear_regressor),
    ("MatMul", gemm::matmul),
    ("Max", extremum::max),
    ("MaxPool", pool::max_pool),
    ("MaxUnpool", pool::max_unpool),
    ("Min", extremum::min),
    ("Neg", elementwise::neg),
    ("Normalizer", ml::normalizer),
    ("Not", logic::not),
    ("OneHot", lookup::one_hot),
    ("OneHotEncoder", ml::one_hot_encoder),
    ("Or", logic::or),
    ("Mish", nonlinear::mish),
    ("Mul", elementwise::mul),
    ("PRelu", nonlinear::prelu),
    ("Pad", pad::pad),
    ("Pow", norm::pow),
    ("Reciprocal", product::reciprocal),
    ("RNN", recurrent::rnn),
    ("ReduceL1", pool::reduce_l1),
    ("ReduceL2", pool::reduce_l2),
    ("ReduceLogSumExp", pool::reduce_log_sum_exp),
    ("ReduceMax", pool::reduce_max),
    ("ReduceMean", pool::reduce_mean),
    ("ReduceMin", pool::reduce_min),
    ("ReduceProd", pool::reduce_prod),
    ("ReduceSum", pool::reduce_sum),
    ("ReduceSumSquare", pool::reduce_sum_square),
    ("Relu", elementwise::relu),
    ("Resize", resize::resize),
    ("Round", rounding::round),
    ("Scaler", ml::scaler),
    ("Reshape", shape::reshape),
    ("Selu", nonlinear::selu),
    ("Sigmoid", nonlinear::sigmoid),
    ("Sign", rounding::sign),
    ("Sin", trig::sin),
    ("Sinh", exp_log::sinh),
    ("Slice", slice::slice),
    ("Softmax", nonlinear::softmax),
    ("Softplus", nonlinear::softplus),
    ("Softsign", elementwise::softsign),
    ("SpaceToDepth", shape::space_to_depth),
    ("Sqrt", norm::sqrt),
    ("SVMClassifier", svm::svm_classifier),
    ("SVMRegressor", svm::svm_regressor),
    ("Split", shape::split),
    ("Squeeze", shape::squeeze),
    ("Sub", elementwise::sub),
    ("Sum", elementwise::sum),
    ("Tan", trig::tan),
    ("Tanh", nonlinear::tanh),
    ("Tile", shape::tile),
    ("TopK", select::top_k),
    ("Transpose", shape::transpose),
    ("TreeEnsemble", tree::tree_ensemble),
    ("Trilu", shape::trilu),
    ("TreeEnsembleClassifier", tree::tree_ensemble_classifier),
    ("TreeEnsembleRegressor", tree::tree_ensemble_regressor),
    ("Unsqueeze", shape::unsqueeze),
    ("Upsample", resize::upsample),
    ("Where", shape::where_),
    ("Xor", logic::xor),
    ("ZipMap", ml::zipmap),
];

pub fn supported() -> String {
    let mut names: Vec<&str> = REGISTRY.iter().map(|(n, _)| *n).chain(["Constant"]).collect();
    names.sort();
    names.join(", ")
}

pub fn build(ctx: &NodeCtx) -> Result<Box<dyn Op>, Error> {
    let node = ctx.node;
    let constructor = REGISTRY.iter().find(|(name, _)| *name == node.op_type).map(|(_, c)| c).ok_or_else(|| Error::UnsupportedOp {
        op: node.op_type.clone(),
        node: node.name.clone(),
        supported: supported(),
    })?;
    constructor(ctx).map_err(|message| Error::Node { op: node.op_type.clone(), node: node.name.clone(), message })
}

/// For each element of `shape` in row-major order, the index of the element of a tensor of
/// shape `from` that broadcasts (per ONNX's numpy rules) onto it.
pub fn broadcast(from: &[usize], shape: &[usize]) -> Result<Vec<usize>, String> {
    if from.len() > shape.len() {
        return Err(format!("cannot broadcast shape {from:?} to {shape:?}"));
    }
    let pad = shape.len() - from.len();
    let cs: Vec<usize> = std::iter::repeat_n(1, pad).chain(from.iter().copied()).collect();
    for (a, b) in cs.iter().zip(shape) {
        if *a != 1 && a != b {
            return Err(format!("cannot broadcast shape {from:?} to {shape:?}"));
        }
    }
    let from_strides = strides(&cs);
    let out_strides = strides(shape);
    let total: usize = shape.iter().product();
    Ok((0..total).map(|i| (0..shape.len()).map(|d| if cs[d] == 1 { 0 } else { (i / out_strides[d]) % shape[d] * from_strides[d] }).sum()).collect())
}

/// numpy's broadcast of several shapes: the result, and per shape the index it reads for each
/// entry of the result.
pub(super) fn broadcast_all(shapes: &[&[usize]]) -> Result<(Vec<usize>, Vec<Vec<usize>>), String> {
    let shape = crate::tensor::broadcast_shape(shapes)?;
    let indices = shapes.iter().map(|s| broadcast(s, &shape)).collect::<Result<_, _>>()?;
    Ok((shape, indices))
}

/// The cells of an op's own constants (a Where's branch, a Max's bound), one per distinct value,
/// each in the verifying key.
#[derive(Default)]
pub(super) struct ConstantCells(HashMap<i64, Wire>);

impl ConstantCells {
    /// The cell holding the fixed-point `value`, placed the first time it is asked for.
    pub(super) fn cell(&mut self, arith: &mut dyn Arith, value: i64) -> Result<Wire, Error> {
        if let Some(w) = self.0.get(&value) {
            return Ok(w.clone());
        }
        let w = arith.constant(value)?;
        Ok(self.0.entry(value).or_insert(w).clone())
    }
}

/// `-x` per value: a dot product of one input.
pub(super) fn negated(arith: &mut dyn Arith, values: Vec<Wire>) -> Result<Vec<Wire>, Error> {
    arith.dot(values.into_iter().map(|v| Dot { inputs: vec![v], weights: vec![Coef::Const(-1)], bias: Coef::Const(0) }).collect())
}

/// A normalized axis: `a` counts from the end when negative.
pub fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let v = if a < 0 { a + rank as i64 } else { a };
    (0..rank as i64).contains(&v).then_some(v as usize).ok_or_else(|| format!("axis {a} is out of range for rank {rank}"))
}
