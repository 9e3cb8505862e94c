//! The graph's nodes as the ONNX reader gives them to the ops: an op's type, its inputs and
//! outputs by name, and its attributes, read once.

use crate::tensor::Tensor;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub enum Attribute {
    Int(i64),
    Float(f32),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
    String(String),
    Strings(Vec<String>),
    Tensor(Tensor<f32>),
    /// An attribute zkinfer cannot read (TENSORS, GRAPH, SPARSE_TENSOR, a tensor of
    /// strings, ...), kept so that only an op that reads it fails: an unsupported op is
    /// named first. Holds the attribute's type and, for a tensor, why it could not be read.
    Unsupported(String),
}

#[derive(Clone, Debug)]
pub struct RawNode {
    pub name: String,
    pub op_type: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: HashMap<String, Attribute>,
}
