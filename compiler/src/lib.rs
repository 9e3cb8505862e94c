//! zkinfer's compiler: ONNX to a graph of ops with static shapes, fixed-point quantization
//! and calibration, and the circuit that proves one inference.

pub mod arith;
pub mod bounds;
pub mod circuit;
pub mod cost;
pub mod fold;
pub mod onnx;
pub mod ops;
pub mod tensor;

use arith::{Arith, Evaluate, Wire};
use circuit::ModelCircuit;
use ops::{NodeCtx, Op};
use serde::{Deserialize, Serialize};
use tensor::Tensor;
use zkinfer_circuits::gadgets::Shape;
use zkinfer_circuits::{Pass, PublicTensor, Synthesis, TensorKind};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid ONNX model: {0}")]
    Onnx(String),
    /// A tensor's values in an external file (`model.onnx.data`) that is missing, out of
    /// bounds, outside the model's folder, or not yet read (see `onnx::inline_external_data`).
    #[error("external data: {0}")]
    ExternalData(String),
    #[error("unsupported op '{op}' at node '{node}'; supported ops: {supported}")]
    UnsupportedOp { op: String, node: String, supported: String },
    #[error("node '{node}' ({op}): {message}")]
    Node { op: String, node: String, message: String },
    #[error("shape mismatch: {0}")]
    Shape(String),
    #[error("out of range: {0}")]
    Range(String),
    #[error("input: {0}")]
    Input(String),
    #[error(transparent)]
    Circuit(#[from] zkinfer_circuits::Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    Private,
    Public,
}

/// Where the model's parameters (weights, biases) live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamVisibility {
    /// In fixed columns: the verifying key commits to them, so a proof is of this model.
    #[default]
    Fixed,
    /// In advice cells, hidden by the proof's blinding: the verifying key reveals only the
    /// model's shape, and a proof shows the output of some parameters of that shape that the
    /// prover knows (see docs/circuits.md).
    Private,
}

/// The choices compilation makes; saved beside the model so setup and proving rebuild the
/// same circuit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Fixed point: a value `v` is the integer `round(v * 2^scale_bits)`.
    pub scale_bits: u32,
    /// The width of a range-check limb: the range table has `2^limb_bits` rows.
    pub limb_bits: u32,
    /// Inputs per dot-product row (advice columns of the dot gate).
    pub width: usize,
    /// Limbs per range check: values lie in `[-2^(limbs*limb_bits-1), 2^(limbs*limb_bits-1))`.
    pub limbs: usize,
    /// Per input of the model, in the graph's order: whether it is a public value of the proof.
    pub input_visibility: Vec<Visibility>,
    /// Absent from settings written before parameters could be private.
    #[serde(default)]
    pub param_visibility: ParamVisibility,
    /// At most this many polynomials share a commitment (a power of two; docs/protocol.md
    /// §3.7): 1 proves fastest, more makes the Solidity verifier cheaper. Absent from settings
    /// written before packing, which had none.
    #[serde(default = "no_packing")]
    pub pack: usize,
    /// Per input of the model, in the graph's order: the least and greatest value of the
    /// calibration samples. Inputs outside it are refused before proving; every input within it
    /// proves where the report has `bounded_largest`. Empty without calibration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_ranges: Vec<[f32; 2]>,
}

fn no_packing() -> usize {
    1
}

impl Settings {
    /// `input_ranges` in fixed point: any input within them quantizes within these.
    pub fn input_ranges(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        let one = (1u64 << self.scale_bits) as f64;
        self.input_ranges.iter().map(move |[lo, hi]| ((*lo as f64 * one).round() as i64, (*hi as f64 * one).round() as i64))
    }

    /// The column layout these settings give; the model adds the gate of products of computed
    /// tensors and the function tables where its ops need them (`Model::shape`).
    pub fn shape(&self) -> Shape {
        let spans = self.input_ranges().map(|(lo, hi)| (hi - lo).max(1) as u64);
        let input_limbs = spans.map(|span| (u64::BITS - span.leading_zeros()).div_ceil(self.limb_bits) as usize).max().map_or(self.limbs, |m| m.min(self.limbs));
        Shape {
            width: self.width,
            scale_bits: self.scale_bits,
            limb_bits: self.limb_bits,
            limbs: self.limbs,
            input_limbs,
            element_limbs: Shape::only(self.limbs),
            private_params: self.param_visibility == ParamVisibility::Private,
            products: false,
            functions: 0,
        }
    }
}

#[derive(Debug)]
pub struct Node {
    pub name: String,
    pub op_type: String,
    pub op: Box<dyn Op>,
    /// Value ids: 0 is the model input, node `i` produces value `i + 1`.
    pub inputs: Vec<usize>,
    pub shape: Vec<usize>,
}

#[derive(Debug)]
pub struct Model {
    /// The graph's inputs, with their shapes: values `0..inputs.len()`; node `j` computes value
    /// `inputs.len() + j`. A flat input (`quantize_input`, `evaluate`) holds them one after
    /// another in this order.
    pub inputs: Vec<(String, Vec<usize>)>,
    pub nodes: Vec<Node>,
    /// Graph outputs: name and value id.
    pub outputs: Vec<(String, usize)>,
    pub settings: Settings,
    /// The limbs of each element step's range check, in the order `run` makes them: the fewest
    /// that hold every value an input within the settings' ranges can give it (interval bounds).
    /// Empty without ranges, or where they cannot be bounded: then every step takes `limbs`.
    pub element_limbs: Vec<usize>,
}

/// The most elements an input or a computed tensor may have: every one is a cell of the
/// circuit, and circuits stop at 2^26 rows; a hostile model must not make compilation allocate
/// (or spend) without bound.
pub const MAX_COMPUTED: usize = 1 << 24;

impl Model {
    /// Parses, drops nodes no output needs, folds every node whose inputs are known at compile
    /// time (`fold`), builds each other op, infers shapes, and lets each op take over an
    /// epilogue after it (a ReLU into its rescale, a BatchNormalization into its weights).
    pub fn from_onnx(bytes: &[u8], settings: Settings) -> Result<Self, Error> {
        let mut graph = onnx::parse(bytes)?;
        let params = std::cell::Cell::new(0);

        let producer = |name: &str| graph.nodes.iter().position(|n| n.outputs.iter().any(|o| o == name));
        let mut needed = vec![false; graph.nodes.len()];
        let mut stack: Vec<String> = graph.outputs.clone();
        while let Some(name) = stack.pop() {
            if let Some(p) = producer(&name) {
                if !needed[p] {
                    needed[p] = true;
                    stack.extend(graph.nodes[p].inputs.iter().filter(|i| !i.is_empty()).cloned());
                }
            }
        }

        let mut uses: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        // An omitted optional input is an empty name, which names no output.
        for name in graph.nodes.iter().zip(&needed).filter(|(_, n)| **n).flat_map(|(r, _)| &r.inputs).chain(&graph.outputs).filter(|n| !n.is_empty()) {
            *uses.entry(name.as_str()).or_default() += 1;
        }
        if settings.input_visibility.len() != graph.inputs.len() {
            return Err(Error::Input(format!(
                "the settings give {} input visibilities for the model's {} inputs; compile it again",
                settings.input_visibility.len(),
                graph.inputs.len()
            )));
        }
        if let Some((name, shape)) = graph.inputs.iter().find(|(_, s)| s.iter().product::<usize>() > MAX_COMPUTED) {
            return Err(Error::Onnx(format!("input '{name}' of shape {shape:?} exceeds {MAX_COMPUTED} elements")));
        }
        let first = graph.inputs.len();
        let mut ids: std::collections::HashMap<String, usize> = graph.inputs.iter().enumerate().map(|(i, (name, _))| (name.clone(), i)).collect();
        let mut nodes: Vec<Node> = Vec::new();
        let mut shapes: Vec<Vec<usize>> = graph.inputs.iter().map(|(_, shape)| shape.clone()).collect();
        let mut integers = graph.integers.clone();
        for raw in graph.nodes.iter().zip(&needed).filter(|(_, n)| **n).map(|(r, _)| r) {
            let node_error = |message: String| Error::Node { op: raw.op_type.clone(), node: raw.name.clone(), message };
            let known = fold::Known { values: &graph.constants, integers: &integers };
            if let Some(values) = fold::fold(raw, &known, &|name| ids.get(name).map(|&i| shapes[i].clone())).map_err(node_error)? {
                for (name, (value, integer)) in raw.outputs.iter().zip(values) {
                    if integer {
                        integers.insert(name.clone());
                    }
                    graph.constants.insert(name.clone(), value);
                }
                continue;
            }
            let ctx = NodeCtx { node: raw, constants: &graph.constants, scale_bits: settings.scale_bits, params: &params };
            let op = ops::build(&ctx)?;
            let mut inputs = Vec::new();
            for name in raw.inputs.iter().filter(|n| !n.is_empty() && !graph.constants.contains_key(*n)) {
                inputs.push(*ids.get(name).ok_or_else(|| Error::Node {
                    op: raw.op_type.clone(),
                    node: raw.name.clone(),
                    message: format!("input '{name}' is not produced by any node (is it a second output of a node?)"),
                })?);
            }
            if inputs.is_empty() {
                return Err(node_error("it reads no value, constant or computed".into()));
            }
            let input_shapes: Vec<&[usize]> = inputs.iter().map(|&i| shapes[i].as_slice()).collect();
            let shape = op.output_shape(&input_shapes).map_err(node_error)?;
            // Bounded before any op allocates it: a hostile Tile or Expand asks for anything.
            if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_none_or(|n| n > MAX_COMPUTED) {
                return Err(node_error(format!("its output of shape {shape:?} exceeds {MAX_COMPUTED} elements")));
            }
            // An epilogue (ReLU, an inference BatchNormalization, a max pool) that the op
            // computing its only input takes over: this node's output is then that op's, and costs nothing.
            let only_first_output_used = raw.outputs.iter().skip(1).all(|o| !uses.contains_key(o.as_str()));
            if let (Some(epilogue), Some(&src), true) = (op.epilogue(), inputs.first(), only_first_output_used) {
                let input = raw.inputs.iter().find(|n| !n.is_empty() && !graph.constants.contains_key(*n)).expect("inputs is not empty");
                if src >= first && uses[input.as_str()] == 1 && nodes[src - first].op.absorb(&epilogue, &shapes[src]) {
                    // A pool taken over changes the op's output shape.
                    shapes[src] = shape.clone();
                    nodes[src - first].shape = shape;
                    ids.insert(raw.outputs[0].clone(), src);
                    continue;
                }
            }
            let parts = op.output_shapes(&input_shapes).map_err(node_error)?;
            let id = first + nodes.len();
            shapes.push(shape.clone());
            nodes.push(Node { name: raw.name.clone(), op_type: raw.op_type.clone(), op, inputs, shape });
            if parts.len() == 1 {
                if let Some((i, name)) = raw.outputs.iter().enumerate().skip(1).find(|(_, o)| uses.contains_key(o.as_str())) {
                    return Err(node_error(format!("its output {i} ('{name}') is used, but zkinfer computes only its first output")));
                }
                ids.insert(raw.outputs[0].clone(), id);
                continue;
            }
            // Several outputs: each a part of the node's flat result, at no cost.
            let mut offset = 0;
            for (name, shape) in raw.outputs.iter().zip(parts) {
                let len = shape.iter().product::<usize>();
                if !name.is_empty() {
                    ids.insert(name.clone(), first + nodes.len());
                    shapes.push(shape.clone());
                    let op = Box::new(ops::shape::Part { offset, shape: shape.clone() });
                    nodes.push(Node { name: format!("{}:{name}", raw.name), op_type: "Part".into(), op, inputs: vec![id], shape });
                }
                offset += len;
            }
        }
        let outputs = graph
            .outputs
            .iter()
            .map(|o| ids.get(o).map(|&i| (o.clone(), i)).ok_or_else(|| Error::Onnx(format!("output '{o}' is not computed from the input"))))
            .collect::<Result<_, _>>()?;
        let mut model = Model { inputs: graph.inputs, nodes, outputs, settings, element_limbs: Vec::new() };
        if !model.settings.input_ranges.is_empty() {
            let shape = model.shape();
            if let Ok(steps) = model.bounds(shape, &model.settings.input_ranges).map(|b| b.elements) {
                model.element_limbs = steps.iter().map(|&b| (2..shape.limbs).find(|&m| shape.bound_at(m) > b).unwrap_or(shape.limbs)).collect();
            }
        }
        Ok(model)
    }

    /// The number of input values, all inputs together.
    pub fn input_len(&self) -> usize {
        self.inputs.iter().map(|(_, s)| s.iter().product::<usize>()).sum()
    }

    /// A flat input cut into the model's input tensors.
    pub fn split_input<T: Clone>(&self, flat: Vec<T>) -> Vec<Tensor<T>> {
        let mut rest = flat.into_iter();
        self.inputs.iter().map(|(_, shape)| Tensor::new(shape.clone(), rest.by_ref().take(shape.iter().product()).collect())).collect()
    }

    /// Public values: the outputs, then the public inputs.
    pub fn public_values(&self) -> usize {
        let outputs: usize = self.output_shapes().iter().map(|s| s.iter().product::<usize>()).sum();
        outputs + self.public_inputs().map(|r| r.len()).sum::<usize>()
    }

    /// Where the public inputs lie in a flat input, in the graph's order.
    pub fn public_inputs(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let mut start = 0;
        self.inputs.iter().zip(&self.settings.input_visibility).filter_map(move |((_, shape), v)| {
            let range = start..start + shape.iter().product::<usize>();
            start = range.end;
            (*v == Visibility::Public).then_some(range)
        })
    }

    /// The tensors a proof's public values encode, in instance order: the outputs, then the
    /// input when it is public. The verifying key carries them (`Statement`).
    pub fn public_tensors(&self) -> Vec<PublicTensor> {
        let tensor = |name: &str, kind, shape: Vec<usize>| PublicTensor { name: name.into(), kind, shape, scale_bits: self.settings.scale_bits };
        let mut tensors: Vec<PublicTensor> = self.outputs.iter().zip(self.output_shapes()).map(|((name, _), shape)| tensor(name, TensorKind::Output, shape)).collect();
        let public = self.inputs.iter().zip(&self.settings.input_visibility).filter(|(_, v)| **v == Visibility::Public);
        tensors.extend(public.map(|((name, shape), _)| tensor(name, TensorKind::Input, shape.clone())));
        tensors
    }

    pub fn output_shapes(&self) -> Vec<Vec<usize>> {
        let first = self.inputs.len();
        self.outputs.iter().map(|(_, id)| if *id < first { self.inputs[*id].1.clone() } else { self.nodes[id - first].shape.clone() }).collect()
    }

    /// Runs every node on `arith`, naming the node in any error.
    pub fn run(&self, arith: &mut dyn Arith, inputs: Vec<Tensor<Wire>>) -> Result<Vec<Tensor<Wire>>, Error> {
        self.each_node(inputs, |node, inputs| node.op.apply(arith, inputs))
    }

    /// The model in floats with its ONNX constants, as onnxruntime runs it: the reference
    /// beside which `zkinfer run` shows the quantized output. BatchNormalization taken over by
    /// a Conv or Gemm changes the float rounding by about one part in 10^7.
    pub fn evaluate_float(&self, input: &[f32]) -> Result<Vec<Tensor<f32>>, Error> {
        self.check_input_len(input)?;
        self.each_node(self.split_input(input.to_vec()), |node, inputs| node.op.eval_float(inputs))
    }

    /// Evaluates the nodes in order with `apply`, naming the node in any error; returns the
    /// graph's outputs.
    fn each_node<T: Clone>(&self, inputs: Vec<Tensor<T>>, mut apply: impl FnMut(&Node, &[&Tensor<T>]) -> Result<Tensor<T>, Error>) -> Result<Vec<Tensor<T>>, Error> {
        let mut values: Vec<Tensor<T>> = inputs;
        for node in &self.nodes {
            let inputs: Vec<&Tensor<T>> = node.inputs.iter().map(|&i| &values[i]).collect();
            let out = apply(node, &inputs).map_err(|e| match e {
                Error::Range(m) | Error::Shape(m) => Error::Node { op: node.op_type.clone(), node: node.name.clone(), message: m },
                Error::Circuit(c) => Error::Node { op: node.op_type.clone(), node: node.name.clone(), message: c.to_string() },
                other => other,
            })?;
            values.push(out);
        }
        Ok(self.outputs.iter().map(|(_, id)| values[*id].clone()).collect())
    }

    fn check_input_len(&self, input: &[f32]) -> Result<(), Error> {
        if input.len() != self.input_len() {
            let inputs: Vec<String> = self.inputs.iter().map(|(name, shape)| format!("'{name}' {shape:?}")).collect();
            return Err(Error::Input(format!("the model takes {} values ({}), the input has {}", self.input_len(), inputs.join(", "), input.len())));
        }
        Ok(())
    }

    /// Fixed-point input: `round(x * 2^scale_bits)`, refusing values outside the calibrated
    /// ranges or the circuit's range.
    pub fn quantize_input(&self, input: &[f32]) -> Result<Vec<i64>, Error> {
        self.check_input_len(input)?;
        let bound = self.settings.shape().bound();
        // Named by its input and its index there: a model may take several.
        let locate = |i: usize| {
            let (mut input, mut index) = (0, i);
            while index >= self.inputs[input].1.iter().product::<usize>() {
                index -= self.inputs[input].1.iter().product::<usize>();
                input += 1;
            }
            (input, index)
        };
        input
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let (input, index) = locate(i);
                let name = &self.inputs[input].0;
                if let Some([lo, hi]) = self.settings.input_ranges.get(input).filter(|[lo, hi]| !(*lo..=*hi).contains(&x)) {
                    return Err(Error::Input(format!(
                        "value {x} at index {index} of input '{name}' is outside [{lo}, {hi}], the range of the calibration samples, for which the circuit was sized; \
                         compile again with --calibration samples that cover your inputs"
                    )));
                }
                let q = (x as f64 * (1u64 << self.settings.scale_bits) as f64).round();
                if !q.is_finite() || q.abs() >= bound as f64 {
                    let limit = bound as f64 / (1u64 << self.settings.scale_bits) as f64;
                    return Err(Error::Input(format!(
                        "value {x} at index {index} of input '{name}' is outside the range the circuit was compiled for: inputs must lie strictly between -{limit} and {limit}; \
                         compile again with --calibration samples that cover your inputs (or a smaller --scale)"
                    )));
                }
                Ok(q as i64)
            })
            .collect()
    }

    /// The largest magnitude any range check of the circuit at `shape` can meet for inputs
    /// within `ranges` (one per input), overall and per element step: interval bounds
    /// ([`bounds`]), or why there are none.
    pub fn bounds(&self, shape: Shape, ranges: &[[f32; 2]]) -> Result<bounds::Bounds, Error> {
        let mut arith = bounds::Bounds::new(shape);
        let ranges = Settings { input_ranges: ranges.to_vec(), ..self.settings.clone() };
        let inputs = self.inputs.iter().zip(ranges.input_ranges()).map(|((_, shape), (lo, hi))| {
            let interval = bounds::Interval { lo, hi };
            arith.largest = arith.largest.max(interval.lo.abs()).max(interval.hi.abs());
            Tensor::new(shape.clone(), vec![bounds::wire(interval); shape.iter().product()])
        });
        let inputs = inputs.collect();
        self.run(&mut arith, inputs)?;
        Ok(arith)
    }

    /// The quantized model on integers, with every range check the circuit makes; returns
    /// the outputs and the largest magnitude a range check saw.
    pub fn evaluate(&self, input: &[i64]) -> Result<(Vec<Tensor<i64>>, i64), Error> {
        let mut arith = Evaluate::new(self.shape(), &self.element_limbs);
        let input_largest = input.iter().map(|v| v.abs()).max().unwrap_or(0);
        let outputs = self.run(&mut arith, self.split_input(input.iter().map(|&v| Wire::known(v)).collect()))?;
        let outputs = outputs.iter().map(|t| t.map(arith::known)).collect();
        Ok((outputs, arith.largest.max(input_largest)))
    }

    pub fn dequantize(&self, v: i64) -> f64 {
        v as f64 / (1u64 << self.settings.scale_bits) as f64
    }
}

/// What compilation chose and measured, saved beside the settings for people to read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub k: u32,
    pub rows_used: usize,
    pub usable_rows: usize,
    pub advice_columns: usize,
    pub fixed_columns: usize,
    pub lookups: usize,
    pub permutation_columns: usize,
    pub max_degree: usize,
    pub input_shapes: Vec<Vec<usize>>,
    pub output_shapes: Vec<Vec<usize>>,
    pub public_values: usize,
    /// The largest magnitude a range check saw on the calibration data, and the bound the
    /// circuit allows.
    pub calibration_largest: i64,
    pub range_bound: i64,
    pub calibration_samples: usize,
    /// What the width was chosen for; `None` when it was given. Reports written before the
    /// choice existed read as `None`.
    #[serde(default)]
    pub width_chosen_for: Option<Optimize>,
    /// The cost model's estimates for this layout (docs/circuits.md): CPU seconds of one
    /// proof on the 2-core development machine, and gas of one call to the Solidity verifier.
    #[serde(default)]
    pub estimated_prove_cpu_seconds: f64,
    #[serde(default)]
    pub estimated_verify_gas: u64,
    /// Powers of tau the layout needs (`Layout::srs_powers`); 0 in reports written before
    /// packing, whose layouts needed `2^k + 1`.
    #[serde(default)]
    pub srs_powers: usize,
    /// The quantized model against the float model on the calibration samples; `None`
    /// without samples.
    #[serde(default)]
    pub accuracy: Option<Accuracy>,
    /// The largest magnitude any range check can meet for an input within
    /// `Settings::input_ranges` (interval bounds), which the range holds: then every such
    /// input proves. `None` where they could not be bounded, with the reason in `unbounded`.
    #[serde(default)]
    pub bounded_largest: Option<i64>,
    #[serde(default)]
    pub unbounded: Option<String>,
}

/// How far the quantized model's outputs are from the float model's (onnxruntime's
/// semantics) on the calibration samples: what a proof's outputs will be off by on similar
/// inputs, known before anyone pays for a proof.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Per output: the largest absolute error over every value of every sample.
    pub max_error: Vec<f64>,
    /// Per output: the mean absolute error.
    pub mean_error: Vec<f64>,
    /// Samples whose first output has its largest value at the same index in both models (a
    /// classifier's class), and the samples; `None` for an output of one value.
    pub argmax_agreement: Option<(usize, usize)>,
}

impl Accuracy {
    /// The largest error of any output.
    pub fn worst(&self) -> f64 {
        self.max_error.iter().copied().fold(0.0, f64::max)
    }
}

impl Model {
    /// [`Accuracy`] on `samples` (flat inputs).
    pub fn accuracy(&self, samples: &[Vec<f32>]) -> Result<Accuracy, Error> {
        let outputs = self.outputs.len();
        let (mut max_error, mut sum, mut count) = (vec![0.0f64; outputs], vec![0.0f64; outputs], vec![0usize; outputs]);
        let mut agree = 0;
        let argmax = |v: &mut dyn Iterator<Item = f64>| v.enumerate().fold((0, f64::NEG_INFINITY), |best, (i, x)| if x > best.1 { (i, x) } else { best }).0;
        for (i, sample) in samples.iter().enumerate() {
            let context = |e: Error| Error::Input(format!("calibration sample {i}: {e}"));
            let (quantized, _) = self.evaluate(&self.quantize_input(sample).map_err(context)?).map_err(context)?;
            let float = self.evaluate_float(sample).map_err(context)?;
            for (o, (q, f)) in quantized.iter().zip(&float).enumerate() {
                for (a, b) in q.data.iter().zip(&f.data) {
                    let e = (self.dequantize(*a) - *b as f64).abs();
                    max_error[o] = max_error[o].max(e);
                    sum[o] += e;
                    count[o] += 1;
                }
            }
            let (q, f) = (&quantized[0].data, &float[0].data);
            agree += (argmax(&mut q.iter().map(|&v| v as f64)) == argmax(&mut f.iter().map(|&v| v as f64))) as usize;
        }
        let mean_error = sum.iter().zip(&count).map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 }).collect();
        let argmax_agreement = (self.output_shapes()[0].iter().product::<usize>() > 1).then_some((agree, samples.len()));
        Ok(Accuracy { max_error, mean_error, argmax_agreement })
    }

    /// The circuit's column layout: the settings', with the gate for products of computed
    /// tensors and the function tables where an op needs them.
    pub fn shape(&self) -> Shape {
        let shape = self.settings.shape();
        let element_limbs = self.element_limbs.iter().fold(shape.element_limbs, |mask, m| mask | Shape::only(*m));
        let functions = self.nodes.iter().fold(0, |bits, n| bits | n.op.functions());
        Shape { products: self.nodes.iter().any(|n| n.op.uses_products()), functions, element_limbs, ..shape }
    }

    /// Whether any op looks a function up in a table (Sigmoid, Tanh, Exp, Softmax), which takes
    /// a scale of at most one limb.
    pub fn uses_functions(&self) -> bool {
        self.nodes.iter().any(|n| n.op.functions() != 0)
    }

    /// Whether some op range checks values at the products' scale (see `Op::checks_products`).
    fn checks_products(&self) -> bool {
        self.nodes.iter().any(|n| n.op.checks_products())
    }
}

/// What `compile` chooses the width for when none is given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimize {
    /// The least proving time.
    #[default]
    Proving,
    /// The least gas of the Solidity verifier (fewer committed columns), among layouts with at
    /// most four times the rows of the `Proving` choice, packed by `EVM_PACK` unless told.
    Evm,
}

impl std::str::FromStr for Optimize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "proving" => Ok(Self::Proving),
            "evm" => Ok(Self::Evm),
            _ => Err(format!("'{s}': choose proving or evm")),
        }
    }
}

/// How fine the fixed point is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Precision {
    /// Values are multiples of `2^-s`.
    Scale(u32),
    /// The scale a target implies (EZKL's names): see [`Target`].
    Target(Target),
    /// The coarsest (cheapest) scale whose largest error on the calibration samples is at most
    /// this.
    MaxError(f64),
}

/// What the scale is chosen for when none is given (EZKL's accuracy and resources, and a
/// default between them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// The finest scale, 2^-20: about as many rows as the default (a model with function tables:
    /// 4 times the rows, for its tables' samples), and 5-50x less error on the bundled models.
    Accuracy,
    /// 2^-16 (limbs of 8 bits): errors below EZKL's on the bundled models.
    #[default]
    Balanced,
    /// The coarsest sensible scale, 2^-8: the fewest rows.
    Resources,
}

/// The scales `--max-error` tries, coarsest first.
const SCALES: [u32; 8] = [8, 10, 12, 13, 14, 16, 18, 20];

pub struct CompileOptions {
    pub precision: Precision,
    /// One visibility for every input, or one per input in the graph's order.
    pub input_visibility: Vec<Visibility>,
    pub param_visibility: ParamVisibility,
    /// Inputs per dot-product row; `None` chooses it for `optimize`.
    pub width: Option<usize>,
    pub optimize: Optimize,
    /// Polynomials per commitment; `None` chooses it for `optimize`: 1 for proving,
    /// `EVM_PACK` for the EVM.
    pub pack: Option<usize>,
}

/// The finest fixed point `compile` takes: values are multiples of `2^-MAX_SCALE`.
pub const MAX_SCALE: u32 = 20;

/// The widest limb: the range table has `2^limb_bits` rows, which every circuit pays for.
const MAX_LIMB_BITS: u32 = 12;

/// The limb width for a scale: the scale itself up to [`MAX_LIMB_BITS`] (one limb holds a
/// rescale's remainder), beyond it the scale split evenly over the fewest limbs that hold it;
/// for a model with function tables the widest limb, whose tables sample finely enough.
pub fn limb_bits_for(scale: u32, functions: bool) -> u32 {
    match functions {
        true => scale.min(MAX_LIMB_BITS),
        false => scale.div_ceil(scale.div_ceil(MAX_LIMB_BITS)),
    }
}

/// The packing `--optimize evm` chooses (docs/evm.md): enough for a model's key to fit in one
/// or two commitments.
pub const EVM_PACK: usize = 16;

/// How many more `k` than the fastest layout `--optimize evm` may take.
const EVM_EXTRA_K: u32 = 2;

/// The cost model is within about 10% of measured proving times (docs/circuits.md): within
/// that margin of the fastest layout, the narrowest is chosen for its smaller key and proof.
const PROVING_MARGIN: f64 = 1.1;

/// The widths `compile` chooses from. Below 5 the element gate has no room for its constants;
/// past 64 the Solidity verifier, which holds the key's commitments in its code, would outgrow
/// EIP-170's 24,576 bytes (docs/evm.md).
const WIDTHS: std::ops::RangeInclusive<usize> = 5..=64;

/// Chooses the settings for a model: the value range from calibration samples (twice the
/// largest value seen, so inputs a little beyond them still prove; without samples, 24 bits)
/// and the layout width for `options.optimize` (see docs/circuits.md).
/// Calibration samples as flat inputs. A list that holds every input's values is a sample; for
/// a model with several inputs a sample may also be that many consecutive lists, one per input
/// in the model's order (as an input file writes them).
fn samples(model: &Model, lists: &[Vec<f32>]) -> Result<Vec<Vec<f32>>, Error> {
    let sizes: Vec<usize> = model.inputs.iter().map(|(_, s)| s.iter().product()).collect();
    let mut out = Vec::new();
    let mut rest = lists;
    while let Some(first) = rest.first() {
        let take = if first.len() == model.input_len() { 1 } else { sizes.len() };
        let group = rest.get(..take).filter(|g| take == 1 || g.iter().map(Vec::len).eq(sizes.iter().copied())).ok_or_else(|| {
            Error::Input(format!(
                "calibration sample {}: give each sample as one list of all {} input values, or as one list per input of sizes {sizes:?}",
                out.len(),
                model.input_len()
            ))
        })?;
        out.push(group.concat());
        rest = &rest[take..];
    }
    Ok(out)
}

pub fn compile(bytes: &[u8], options: &CompileOptions, calibration: &[Vec<f32>]) -> Result<(Settings, Report), Error> {
    if let Some(width) = options.width.filter(|w| *w < *WIDTHS.start()) {
        return Err(Error::Input(format!("width {width}: choose at least {} (the element gate keeps 5 constants in the weight columns)", WIDTHS.start())));
    }
    let pack = match (options.pack, options.optimize) {
        (Some(pack), _) if !zkinfer_circuits::is_valid_pack(pack) => return Err(Error::Input(format!("pack {pack}: choose a power of two up to {}", zkinfer_circuits::MAX_PACK))),
        (Some(pack), _) => pack,
        (None, Optimize::Proving) => 1,
        (None, Optimize::Evm) => EVM_PACK,
    };
    let inputs = onnx::parse(bytes)?.inputs.len();
    let input_visibility = match options.input_visibility.as_slice() {
        [one] => vec![*one; inputs],
        per_input if per_input.len() == inputs => per_input.to_vec(),
        other => {
            return Err(Error::Input(format!("{} input visibilities for a model of {inputs} inputs: give one for all of them, or one per input in the graph's order", other.len())))
        }
    };
    let widest = |limb_bits: u32| (62 / limb_bits as usize).min(8);
    let settings_at = |scale: u32, limb_bits: u32, width: usize, limbs: usize| Settings {
        scale_bits: scale,
        limb_bits,
        width,
        limbs,
        input_visibility: input_visibility.clone(),
        param_visibility: options.param_visibility,
        pack,
        input_ranges: Vec::new(),
    };
    // A model at a scale with the widest range: for choosing the scale and calibrating.
    let probe_at = |scale: u32, functions: bool| {
        let limb_bits = limb_bits_for(scale, functions);
        Model::from_onnx(bytes, settings_at(scale, limb_bits, options.width.unwrap_or(8), widest(limb_bits)))
    };
    // At 2^-8 the limb is the same with or without function tables.
    let coarse = probe_at(8, false)?;
    let calibration = samples(&coarse, calibration)?;
    let functions = coarse.uses_functions();
    let scale = match options.precision {
        Precision::Scale(scale) if !(2..=MAX_SCALE).contains(&scale) => return Err(Error::Input(format!("scale {scale}: choose 2 to {MAX_SCALE}"))),
        Precision::Scale(scale) => scale,
        Precision::Target(Target::Accuracy) => MAX_SCALE,
        Precision::Target(Target::Balanced) => 16,
        Precision::Target(Target::Resources) => 8,
        Precision::MaxError(target) => {
            if calibration.is_empty() {
                return Err(Error::Input("--max-error measures the error on the calibration samples: give --calibration".into()));
            }
            let mut best: Option<(u32, f64)> = None;
            let mut chosen = None;
            for scale in SCALES {
                // A scale whose range cannot hold the samples is skipped, not fatal.
                let Ok(error) = probe_at(scale, functions).and_then(|m| m.accuracy(&calibration)).map(|a| a.worst()) else { continue };
                if best.is_none_or(|(_, e)| error < e) {
                    best = Some((scale, error));
                }
                if error <= target {
                    chosen = Some(scale);
                    break;
                }
            }
            chosen.ok_or_else(|| {
                Error::Range(match best {
                    Some((scale, error)) => format!("no scale reaches an error of {target} on the calibration samples; the finest, 2^-{scale}, is off by {error:.3e}"),
                    None => "no scale holds the calibration samples in its range".into(),
                })
            })?
        }
    };
    let probe = if scale == 8 { coarse } else { probe_at(scale, functions)? };
    let mut largest = 0;
    for (i, sample) in calibration.iter().enumerate() {
        let x = probe.quantize_input(sample).map_err(|e| Error::Input(format!("calibration sample {i}: {e}")))?;
        largest = largest.max(probe.evaluate(&x).map_err(|e| Error::Input(format!("calibration sample {i}: {e}")))?.1);
    }
    let accuracy = (!calibration.is_empty()).then(|| probe.accuracy(&calibration)).transpose()?;
    let input_ranges: Vec<[f32; 2]> = match calibration.is_empty() {
        true => Vec::new(),
        false => (0..probe.inputs.len())
            .map(|i| {
                let values = calibration.iter().flat_map(|sample| probe.split_input(sample.clone()).swap_remove(i).data);
                values.fold([f32::INFINITY, f32::NEG_INFINITY], |[lo, hi], v| [lo.min(v), hi.max(v)])
            })
            .collect(),
    };

    // Each limb width the scale allows, laid out; the cheapest for `optimize` wins.
    let mut best: Option<(Settings, Report)> = None;
    let mut first_error = None;
    // Without function tables the bounds do not depend on the limb.
    let value_bits = match (calibration.is_empty(), functions) {
        (false, false) => probe.bounds(probe.shape(), &input_ranges).ok().map(|b| u64::BITS - (b.largest as u64).leading_zeros() + 1),
        _ => None,
    };
    for limb_bits in limb_candidates(scale, functions, value_bits) {
        // With calibration, the fewest limbs whose range holds every value that any input
        // within the samples' ranges can reach; where the intervals cannot say, twice the largest
        // value the samples reached.
        let range = |m: usize| 1i64 << (m * limb_bits as usize - 1);
        let (limbs, bounded) = match calibration.is_empty() {
            // Values up to 2^16 in real units: at 2^-s, or at 2^-2s where an op compares products.
            true => {
                let bits = scale + 16 + if probe.checks_products() { scale } else { 0 };
                (Some((bits.div_ceil(limb_bits) as usize).max(2)), Err("without --calibration there are no input ranges to bound".to_string()))
            }
            false => {
                let mut bounded = Err(String::new());
                let sound = (2..=widest(limb_bits)).find(|&m| {
                    bounded = probe.bounds(Shape { limb_bits, limbs: m, ..probe.shape() }, &input_ranges).map(|b| b.largest).map_err(|e| e.to_string());
                    bounded.as_ref().is_ok_and(|&b| range(m) > b)
                });
                match (sound, bounded) {
                    (Some(m), bounded) => (Some(m), bounded),
                    (None, Ok(b)) => ((2..=widest(limb_bits)).find(|&m| range(m) > 2 * largest), Err(format!("values may reach {b}, beyond every range the circuit supports"))),
                    (None, Err(e)) => ((2..=widest(limb_bits)).find(|&m| range(m) > 2 * largest), Err(e)),
                }
            }
        };
        let Some(limbs) = limbs else {
            first_error.get_or_insert(Error::Range(format!("calibration reached {largest}, beyond every range the circuit supports")));
            continue;
        };
        let lay_out = |width: usize| -> Result<(Settings, Report), Error> {
            let settings = Settings { input_ranges: input_ranges.clone(), ..settings_at(scale, limb_bits, width, limbs) };
            let model = Model::from_onnx(bytes, settings.clone())?;
            let synthesis = Synthesis::run(&ModelCircuit { model: &model, input: None }, Pass::Key)?;
            let public_values = model.public_values();
            let k = synthesis.min_k(public_values);
            let d = synthesis.cs.description(k);
            let layout = d.layout(pack);
            let report = Report {
                k,
                rows_used: synthesis.rows,
                usable_rows: layout.usable_rows,
                advice_columns: d.num_advice,
                fixed_columns: d.num_fixed,
                lookups: d.lookups.len(),
                permutation_columns: d.permutation.len(),
                max_degree: layout.degree,
                input_shapes: model.inputs.iter().map(|(_, shape)| shape.clone()).collect(),
                output_shapes: model.output_shapes(),
                public_values,
                calibration_largest: largest,
                range_bound: settings.shape().bound(),
                calibration_samples: calibration.len(),
                width_chosen_for: None,
                estimated_prove_cpu_seconds: cost::prove_seconds(&layout, &d),
                estimated_verify_gas: cost::verify_gas(&layout, &synthesis.fixed, public_values),
                srs_powers: layout.srs_powers(),
                accuracy: accuracy.clone(),
                bounded_largest: bounded.clone().ok(),
                unbounded: bounded.clone().err(),
            };
            Ok((settings, report))
        };
        let laid_out = match options.width {
            Some(width) => lay_out(width),
            None => choose_width(options.optimize, lay_out),
        };
        match laid_out {
            Ok(candidate) => {
                let cost = |r: &Report| match options.optimize {
                    Optimize::Proving => (r.estimated_prove_cpu_seconds, r.estimated_verify_gas as f64),
                    Optimize::Evm => (r.estimated_verify_gas as f64, r.estimated_prove_cpu_seconds),
                };
                if best.as_ref().is_none_or(|(_, b)| cost(&candidate.1) < cost(b)) {
                    best = Some(candidate);
                }
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let (settings, mut report) = best.ok_or_else(|| first_error.expect("every scale has a limb width"))?;
    // A narrower limb samples the function tables differently: the error the report gives is
    // the chosen circuit's.
    if functions && settings.limb_bits != probe.settings.limb_bits && !calibration.is_empty() {
        report.accuracy = Some(Model::from_onnx(bytes, settings.clone())?.accuracy(&calibration)?);
    }
    Ok((settings, report))
}

/// The limb widths worth laying out for a scale: one limb holding a rescale's remainder up to
/// 12 bits; beyond it the scale split evenly into two or three limbs, and the widest limb
/// (fewer range limbs per value, a larger table); and the range of values (`value_bits`, sign
/// included, where known) split evenly into two or three limbs. A model with function tables
/// takes the widest, which its tables sample most cheaply, and beyond one limb of scale also
/// one or two bits narrower: its tables then take more samples, but the range table half or a
/// quarter of the rows (softmax_bn at 2^-16: 2^12 rows instead of 2^13). Widths whose tables
/// would grow too large are refused when laid out.
fn limb_candidates(scale: u32, functions: bool, value_bits: Option<u32>) -> Vec<u32> {
    if functions {
        let widest = limb_bits_for(scale, functions);
        return match scale > MAX_LIMB_BITS {
            true => vec![widest - 2, widest - 1, widest],
            false => vec![widest],
        };
    }
    let for_scale = match scale <= MAX_LIMB_BITS {
        true => vec![scale],
        false => vec![scale.div_ceil(2), scale.div_ceil(3), MAX_LIMB_BITS],
    };
    let for_values = value_bits.into_iter().flat_map(|v| [v.div_ceil(2), v.div_ceil(3)]);
    let mut widths: Vec<u32> = for_scale.into_iter().chain(for_values).filter(|&b| (2..=MAX_LIMB_BITS).contains(&b)).collect();
    widths.sort_unstable();
    widths.dedup();
    widths
}

/// The layout for `optimize` among the narrowest width at each circuit size (a narrower
/// layout of the same `2^k` rows has fewer columns of every kind, so it is cheaper to prove
/// and to verify): for proving, the narrowest within `PROVING_MARGIN` of the fastest; for the
/// EVM, the least gas with at most two more `k` than that (the narrowest layouts, with the fewest
/// evaluations, often need them).
fn choose_width(optimize: Optimize, lay_out: impl Fn(usize) -> Result<(Settings, Report), Error>) -> Result<(Settings, Report), Error> {
    let mut layouts: std::collections::BTreeMap<usize, (Settings, Report)> = Default::default();
    let mut k_at = |width: usize| -> Result<u32, Error> {
        Ok(match layouts.entry(width) {
            std::collections::btree_map::Entry::Occupied(e) => e.get().1.k,
            std::collections::btree_map::Entry::Vacant(e) => e.insert(lay_out(width)?).1.k,
        })
    };
    let (narrowest, widest) = (*WIDTHS.start(), *WIDTHS.end());
    let (k_narrowest, k_widest) = (k_at(narrowest)?, k_at(widest)?);
    let mut candidates = Vec::new();
    for k in k_widest.min(k_narrowest)..=k_widest.max(k_narrowest) {
        // Rows shrink as the width grows: the narrowest width that fits in 2^k rows.
        let (mut low, mut high) = (narrowest, widest);
        while low < high {
            let mid = (low + high) / 2;
            if k_at(mid)? <= k {
                high = mid;
            } else {
                low = mid + 1;
            }
        }
        if !candidates.contains(&high) {
            candidates.push(high);
        }
    }
    let report = |width: &usize| &layouts[width].1;
    let time = |width: &usize| report(width).estimated_prove_cpu_seconds;
    let fastest = candidates.iter().map(time).fold(f64::INFINITY, f64::min);
    let proving = *candidates.iter().filter(|w| time(w) <= PROVING_MARGIN * fastest).min().expect("the fastest layout qualifies");
    let chosen = match optimize {
        Optimize::Proving => proving,
        Optimize::Evm => {
            let most_rows = report(&proving).k + EVM_EXTRA_K;
            *candidates
                .iter()
                .filter(|w| report(w).k <= most_rows)
                .min_by(|a, b| report(a).estimated_verify_gas.cmp(&report(b).estimated_verify_gas).then(time(a).total_cmp(&time(b))))
                .expect("the proving layout qualifies")
        }
    };
    let (settings, mut report) = layouts.remove(&chosen).expect("every candidate was laid out");
    report.width_chosen_for = Some(optimize);
    Ok((settings, report))
}
