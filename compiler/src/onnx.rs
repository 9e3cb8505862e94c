//! Reading ONNX: the protobuf model becomes a flat list of nodes, constants as float
//! tensors, and the one dynamic input with its static shape (a symbolic batch is 1).

use crate::ops::NodeCtx;
use crate::tensor::Tensor;
use crate::Error;
use onnx_protobuf::{attribute_proto::AttributeType, tensor_proto::DataType, Message, ModelProto, TensorProto};
use protobuf::Enum;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Attribute {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
    String(String),
    Tensor(Tensor<f32>),
}

#[derive(Clone, Debug)]
pub struct RawNode {
    pub name: String,
    pub op_type: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: HashMap<String, Attribute>,
}

#[derive(Clone, Debug)]
pub struct RawGraph {
    pub input: (String, Vec<usize>),
    pub outputs: Vec<String>,
    pub nodes: Vec<RawNode>,
    pub constants: HashMap<String, Tensor<f32>>,
}

fn tensor(t: &TensorProto) -> Result<Tensor<f32>, String> {
    let shape: Vec<usize> = t.dims.iter().map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}"))).collect::<Result<_, _>>()?;
    let raw = |width: usize| -> Result<Vec<&[u8]>, String> {
        if !t.raw_data.len().is_multiple_of(width) {
            return Err(format!("tensor '{}' has {} raw bytes, not a multiple of {width}", t.name, t.raw_data.len()));
        }
        Ok(t.raw_data.chunks(width).collect())
    };
    let data: Vec<f32> = match DataType::from_i32(t.data_type) {
        Some(DataType::FLOAT) if t.raw_data.is_empty() => t.float_data.clone(),
        Some(DataType::FLOAT) => raw(4)?.iter().map(|b| f32::from_le_bytes(b[..4].try_into().unwrap())).collect(),
        Some(DataType::DOUBLE) if t.raw_data.is_empty() => t.double_data.iter().map(|v| *v as f32).collect(),
        Some(DataType::DOUBLE) => raw(8)?.iter().map(|b| f64::from_le_bytes(b[..8].try_into().unwrap()) as f32).collect(),
        Some(DataType::INT64) if t.raw_data.is_empty() => t.int64_data.iter().map(|v| *v as f32).collect(),
        Some(DataType::INT64) => raw(8)?.iter().map(|b| i64::from_le_bytes(b[..8].try_into().unwrap()) as f32).collect(),
        Some(DataType::INT32) if t.raw_data.is_empty() => t.int32_data.iter().map(|v| *v as f32).collect(),
        Some(DataType::INT32) => raw(4)?.iter().map(|b| i32::from_le_bytes(b[..4].try_into().unwrap()) as f32).collect(),
        other => return Err(format!("tensor '{}' has data type {other:?}; float, double, int32 and int64 are supported", t.name)),
    };
    if data.len() != shape.iter().product::<usize>() {
        return Err(format!("tensor '{}' has {} values for shape {shape:?}", t.name, data.len()));
    }
    Ok(Tensor::new(shape, data))
}

fn attribute(a: &onnx_protobuf::AttributeProto) -> Result<Attribute, String> {
    Ok(match a.type_.enum_value() {
        Ok(AttributeType::INT) => Attribute::Int(a.i),
        Ok(AttributeType::FLOAT) => Attribute::Float(a.f),
        Ok(AttributeType::INTS) => Attribute::Ints(a.ints.clone()),
        Ok(AttributeType::FLOATS) => Attribute::Floats(a.floats.clone()),
        Ok(AttributeType::STRING) => Attribute::String(String::from_utf8_lossy(&a.s).into_owned()),
        Ok(AttributeType::TENSOR) => Attribute::Tensor(tensor(&a.t)?),
        other => return Err(format!("attribute '{}' has an unsupported type {other:?}", a.name)),
    })
}

pub fn parse(bytes: &[u8]) -> Result<RawGraph, Error> {
    let model = ModelProto::parse_from_bytes(bytes).map_err(|e| Error::Onnx(format!("not a valid ONNX protobuf: {e}")))?;
    let graph = model.graph.as_ref().ok_or_else(|| Error::Onnx("the model has no graph".into()))?;
    // Protobuf decoding accepts a file cut at a field boundary; a model always names its
    // opsets, nodes and outputs, so their absence means a damaged or foreign file.
    if model.opset_import.is_empty() || graph.node.is_empty() || graph.output.is_empty() {
        return Err(Error::Onnx("the model lacks its opset, nodes or outputs (is the file truncated, or not ONNX?)".into()));
    }
    let mut constants = HashMap::new();
    for t in &graph.initializer {
        constants.insert(t.name.clone(), tensor(t).map_err(Error::Onnx)?);
    }
    let mut nodes = Vec::new();
    for (i, n) in graph.node.iter().enumerate() {
        let name = if n.name.is_empty() { format!("{}_{i}", n.op_type) } else { n.name.clone() };
        let attributes: HashMap<String, Attribute> = n
            .attribute
            .iter()
            .map(|a| attribute(a).map(|v| (a.name.clone(), v)))
            .collect::<Result<_, _>>()
            .map_err(|message| Error::Node { op: n.op_type.clone(), node: name.clone(), message })?;
        if !n.domain.is_empty() && n.domain != "ai.onnx" {
            return Err(Error::UnsupportedOp { op: format!("{}:{}", n.domain, n.op_type), node: name, supported: crate::ops::supported() });
        }
        if n.op_type == "Constant" {
            let value = match attributes.get("value") {
                Some(Attribute::Tensor(t)) => t.clone(),
                _ => match (attributes.get("value_float"), attributes.get("value_floats"), attributes.get("value_int"), attributes.get("value_ints")) {
                    (Some(Attribute::Float(v)), ..) => Tensor::new(vec![], vec![*v]),
                    (_, Some(Attribute::Floats(v)), ..) => Tensor::new(vec![v.len()], v.clone()),
                    (_, _, Some(Attribute::Int(v)), _) => Tensor::new(vec![], vec![*v as f32]),
                    (.., Some(Attribute::Ints(v))) => Tensor::new(vec![v.len()], v.iter().map(|x| *x as f32).collect()),
                    _ => return Err(Error::Node { op: "Constant".into(), node: name, message: "no supported value attribute".into() }),
                },
            };
            constants.insert(n.output[0].clone(), value);
            continue;
        }
        nodes.push(RawNode { name, op_type: n.op_type.clone(), inputs: n.input.clone(), outputs: n.output.clone(), attributes });
    }
    let dynamic: Vec<_> = graph.input.iter().filter(|i| !constants.contains_key(&i.name)).collect();
    let [input] = dynamic.as_slice() else {
        let names: Vec<&str> = dynamic.iter().map(|i| i.name.as_str()).collect();
        return Err(Error::Onnx(format!("the model must have exactly one input, it has {}: {names:?}", names.len())));
    };
    let dims = &input.type_.tensor_type().shape.dim;
    if !input.type_.has_tensor_type() || dims.is_empty() {
        return Err(Error::Onnx(format!("input '{}' has no static tensor shape", input.name)));
    }
    let shape = dims
        .iter()
        .enumerate()
        .map(|(i, d)| match (d.has_dim_value(), d.dim_value()) {
            (true, v) if v > 0 => Ok(v as usize),
            _ if i == 0 => Ok(1),
            _ => Err(Error::Onnx(format!("input '{}' has a symbolic dimension {i}; only the batch may be symbolic", input.name))),
        })
        .collect::<Result<_, _>>()?;
    Ok(RawGraph {
        input: (input.name.clone(), shape),
        outputs: graph.output.iter().map(|o| o.name.clone()).collect(),
        nodes,
        constants,
    })
}

/// The per-channel `(a, b)` with `y = a x + b` of inference-mode BatchNormalization.
pub fn batch_norm_affine(ctx: &NodeCtx) -> Result<(Tensor<f32>, Tensor<f32>), String> {
    let eps = ctx.float("epsilon", 1e-5)?;
    let [gamma, beta, mean, var] = [1, 2, 3, 4].map(|i| ctx.require_constant(i, ["", "scale", "B", "mean", "var"][i]));
    let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
    let c = gamma.len();
    if [beta.len(), mean.len(), var.len()].iter().any(|&l| l != c) {
        return Err("scale, B, mean and var must have one value per channel".into());
    }
    let a: Vec<f32> = (0..c).map(|i| gamma.data[i] / (var.data[i] + eps).sqrt()).collect();
    let b: Vec<f32> = (0..c).map(|i| beta.data[i] - a[i] * mean.data[i]).collect();
    Ok((Tensor::new(vec![c], a), Tensor::new(vec![c], b)))
}

impl RawGraph {
    /// Folds each BatchNormalization whose input comes only from a Conv or Gemm with constant
    /// weights into that node's weights and bias.
    pub fn fold_batch_norms(&mut self, scale_bits: u32) {
        let mut i = 0;
        while i < self.nodes.len() {
            if self.nodes[i].op_type == "BatchNormalization" {
                if let Some(p) = self.producer_for_fold(i) {
                    let ctx = NodeCtx { node: &self.nodes[i], constants: &self.constants, scale_bits, params: &std::cell::Cell::new(0) };
                    if let Ok((a, b)) = batch_norm_affine(&ctx) {
                        if self.fold_into(p, &a, &b) {
                            let bn = self.nodes.remove(i);
                            let conv_output = self.nodes[p].outputs[0].clone();
                            self.rename(&bn.outputs[0], &conv_output);
                            continue;
                        }
                    }
                }
            }
            i += 1;
        }
    }

    fn producer_for_fold(&self, bn: usize) -> Option<usize> {
        let x = &self.nodes[bn].inputs[0];
        let p = self.nodes.iter().position(|n| n.outputs.first() == Some(x))?;
        let consumers = self.nodes.iter().filter(|n| n.inputs.contains(x)).count() + self.outputs.iter().filter(|o| *o == x).count();
        (consumers == 1 && matches!(self.nodes[p].op_type.as_str(), "Conv" | "Gemm")).then_some(p)
    }

    /// Scales output channel `c` of the producer's weights by `a[c]` and maps its bias to
    /// `a[c] * bias + b[c]`. Gemm must have transB = 1 (weights [N, K]) or 0 ([K, N]).
    fn fold_into(&mut self, p: usize, a: &Tensor<f32>, b: &Tensor<f32>) -> bool {
        let node = &self.nodes[p];
        let Some(w) = node.inputs.get(1).and_then(|n| self.constants.get(n)) else { return false };
        let channels = a.len();
        let mut w = w.clone();
        match node.op_type.as_str() {
            "Conv" if w.shape[0] == channels => {
                let per = w.len() / channels;
                w.data.iter_mut().enumerate().for_each(|(i, v)| *v *= a.data[i / per]);
            }
            "Gemm" if w.shape.len() == 2 => {
                let trans_b = matches!(node.attributes.get("transB"), Some(Attribute::Int(1)));
                let n = if trans_b { w.shape[0] } else { w.shape[1] };
                if n != channels {
                    return false;
                }
                let cols = w.shape[1];
                w.data.iter_mut().enumerate().for_each(|(i, v)| *v *= a.data[if trans_b { i / cols } else { i % cols }]);
            }
            _ => return false,
        }
        let bias: Vec<f32> = match node.inputs.get(2).filter(|n| !n.is_empty()).map(|n| self.constants.get(n)) {
            Some(None) => return false,
            Some(Some(t)) if t.len() == channels => (0..channels).map(|c| a.data[c] * t.data[c] + b.data[c]).collect(),
            Some(Some(_)) => return false,
            None => b.data.clone(),
        };
        let (wn, bn) = (format!("{}__folded_w", node.name), format!("{}__folded_b", node.name));
        self.constants.insert(wn.clone(), w);
        self.constants.insert(bn.clone(), Tensor::new(vec![channels], bias));
        let node = &mut self.nodes[p];
        node.inputs.resize(3, String::new());
        node.inputs[1] = wn;
        node.inputs[2] = bn;
        true
    }

    fn rename(&mut self, from: &str, to: &str) {
        for n in &mut self.nodes {
            n.inputs.iter_mut().filter(|i| *i == from).for_each(|i| *i = to.to_string());
        }
        self.outputs.iter_mut().filter(|o| *o == from).for_each(|o| *o = to.to_string());
    }
}
