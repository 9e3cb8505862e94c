//! A model: its graph of ops with static shapes, at the settings' fixed point, and what runs
//! it (quantized evaluation, the float reference, the circuit).

use crate::arith::{Arith, Evaluate, Wire};
use crate::ops::{NodeCtx, Op};
use crate::tensor::Tensor;
use crate::{arith, bounds, fold, onnx, ops, Error, Settings, Visibility};
use serde::{Deserialize, Serialize};
use zkinfer_circuits::gadgets::{GatherTable, Shape};
use zkinfer_circuits::{PublicTensor, TensorKind};

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

/// The nodes that some output reads, with the value ids renumbered to match: a fusion leaves
/// behind the nodes it took over, which would otherwise still be laid out.
fn drop_unused(nodes: Vec<Node>, outputs: Vec<(String, usize)>, first: usize) -> (Vec<Node>, Vec<(String, usize)>) {
    let mut live = vec![false; nodes.len()];
    let mut stack: Vec<usize> = outputs.iter().map(|(_, id)| *id).collect();
    while let Some(id) = stack.pop() {
        if id >= first && !std::mem::replace(&mut live[id - first], true) {
            stack.extend(&nodes[id - first].inputs);
        }
    }
    let mut renumbered: Vec<usize> = (0..first).collect();
    let mut kept = Vec::new();
    for (node, live) in nodes.into_iter().zip(live) {
        renumbered.push(first + kept.len());
        if live {
            kept.push(node);
        }
    }
    kept.iter_mut().for_each(|n| n.inputs.iter_mut().for_each(|i| *i = renumbered[*i]));
    (kept, outputs.into_iter().map(|(name, id)| (name, renumbered[id])).collect())
}

/// Leaves out the final rescale of each op whose output only function lookups read, directly
/// or through ops that move values (an LSTM cell's gates: one dense layer, sliced four ways into
/// Sigmoid and Tanh): the lookups read the sums at the products' scale, to a finer step, in
/// `remainder_limbs` more rows each where the rescale took `limbs + remainder_limbs`. A value
/// the model outputs, or that any other op reads, keeps its rescale.
fn defer_rescales(nodes: &mut [Node], outputs: &[(String, usize)], first: usize) {
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for &input in node.inputs.iter().filter(|&&input| input >= first) {
            readers[input - first].push(i);
        }
    }
    for i in 0..nodes.len() {
        if nodes[i].op.deferred_rescale().is_none() {
            continue;
        }
        let (mut lookups, mut stack, mut deferrable) = (Vec::new(), vec![i], true);
        while let Some(j) = stack.pop() {
            deferrable &= !outputs.iter().any(|(_, id)| *id == first + j);
            for &r in &readers[j] {
                let single = nodes[r].inputs.len() == 1;
                if single && nodes[r].op.moves_values() {
                    stack.push(r);
                } else if single && nodes[r].op.reads_sums().is_some() {
                    lookups.push(r);
                } else {
                    deferrable = false;
                }
            }
        }
        if deferrable && !lookups.is_empty() {
            *nodes[i].op.deferred_rescale().expect("checked above") = true;
            for r in lookups {
                *nodes[r].op.reads_sums().expect("checked above") = true;
            }
        }
    }
}

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
        let mut booleans = std::collections::HashSet::new();
        // A bool input is booleanized first: its consumers read the comparison's 0 or 1.
        for (i, (name, shape)) in graph.inputs.iter().enumerate().filter(|(_, (name, _))| graph.boolean_inputs.contains(name)) {
            ids.insert(name.clone(), first + nodes.len());
            shapes.push(shape.clone());
            booleans.insert(name.clone());
            nodes.push(Node { name: format!("{name}:bool"), op_type: "Greater".into(), op: ops::booleanized(), inputs: vec![i], shape: shape.clone() });
        }
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
            let ctx = NodeCtx { node: raw, constants: &graph.constants, scale_bits: settings.scale_bits, params: &params, booleans: &booleans };
            let op = ops::build(&ctx)?;
            let computed: Vec<&String> = raw.inputs.iter().filter(|n| !n.is_empty() && !graph.constants.contains_key(*n)).collect();
            let mut inputs = Vec::new();
            for name in &computed {
                inputs.push(*ids.get(*name).ok_or_else(|| Error::Node {
                    op: raw.op_type.clone(),
                    node: raw.name.clone(),
                    message: format!("input '{name}' is not produced by any node (is it a second output of a node?)"),
                })?);
            }
            if inputs.is_empty() {
                return Err(node_error("it reads no value, constant or computed".into()));
            }
            if op.boolean(&computed.iter().map(|n| booleans.contains(*n)).collect::<Vec<bool>>()) {
                booleans.insert(raw.outputs[0].clone());
            }
            let input_shapes: Vec<&[usize]> = inputs.iter().map(|&i| shapes[i].as_slice()).collect();
            let shape = op.output_shape(&input_shapes).map_err(node_error)?;
            // Bounded before any op allocates it: a hostile Tile or Expand asks for anything.
            if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).is_none_or(|n| n > MAX_COMPUTED) {
                return Err(node_error(format!("its output of shape {shape:?} exceeds {MAX_COMPUTED} elements")));
            }
            // A sum of two values, each computed for this sum alone (`x W^T + h R^T`), that
            // one op computes from their inputs for less: that op replaces the later of the two
            // (whose inputs come before it), and the earlier is dropped as unused.
            if let (&[a, b], 1, true) = (&inputs[..], raw.outputs.len(), computed.iter().all(|n| uses[n.as_str()] == 1)) {
                if a >= first && b >= first && shapes[a] == shape && shapes[b] == shape {
                    if let Some(fused) = ops::fuse_sum(op.as_ref(), nodes[a - first].op.as_ref(), nodes[b - first].op.as_ref(), &shape) {
                        let inputs = [nodes[a - first].inputs.clone(), nodes[b - first].inputs.clone()].concat();
                        nodes[a.max(b) - first] = Node { name: raw.name.clone(), op_type: raw.op_type.clone(), op: fused, inputs, shape };
                        ids.insert(raw.outputs[0].clone(), a.max(b));
                        continue;
                    }
                }
            }
            // An epilogue (ReLU, an inference BatchNormalization, a max pool) that the op
            // computing its only input takes over: this node's output is then that op's, and costs nothing.
            let only_first_output_used = raw.outputs.iter().skip(1).all(|o| !uses.contains_key(o.as_str()));
            if let (Some(epilogue), Some(&src), true) = (op.epilogue(), inputs.first(), only_first_output_used) {
                if src >= first && uses[computed[0].as_str()] == 1 && nodes[src - first].op.absorb(&epilogue, &shapes[src]) {
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
        let (mut nodes, outputs) = drop_unused(nodes, outputs, first);
        defer_rescales(&mut nodes, &outputs, first);
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

    /// The fixed tables that ops read at computed indices, each once (a table that two ops read
    /// is one table), in the order the ops come: the lookup table holds them.
    pub fn gather_tables(&self) -> Vec<GatherTable> {
        let mut tables: Vec<GatherTable> = Vec::new();
        for table in self.nodes.iter().filter_map(|n| n.op.gather_table()) {
            if !tables.contains(table) {
                tables.push(table.clone());
            }
        }
        tables
    }

    /// Whether any op looks a function up in a table (Sigmoid, Tanh, Exp, Softmax), which takes
    /// a scale of at most one limb.
    pub fn uses_functions(&self) -> bool {
        self.nodes.iter().any(|n| n.op.functions() != 0)
    }

    /// Whether some op range checks values at the products' scale (see `Op::checks_products`).
    pub(crate) fn checks_products(&self) -> bool {
        self.nodes.iter().any(|n| n.op.checks_products())
    }
}
