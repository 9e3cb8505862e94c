//! Constant folding, between parsing and lowering: a node whose inputs are all known when the
//! model is compiled (initializers, Constant nodes, earlier folded nodes, and the Shape of a
//! tensor whose shape is static) is evaluated once, with ONNX's semantics, and replaced by its
//! value. The shape arithmetic that exporters write (`Shape`, `Gather`, `Cast`, `Concat`,
//! `Unsqueeze`, `Reshape`, ...) then costs nothing in the circuit, and users need not fold
//! their models before compiling them.
//!
//! Values are the crate's `f32` tensors; which of them stand for integer tensors (a Shape, a
//! Cast to an integer type, an initializer of an integer type, and what is computed from them)
//! is tracked beside them, for the ops whose integer semantics differ (`Div` truncates).

use crate::graph::{Attribute, RawNode};
use crate::ops::{axis, broadcast, NodeCtx};
use crate::tensor::{broadcast_shape, Tensor};
use std::collections::{HashMap, HashSet};

/// ONNX's TensorProto data types that hold integers (and bool).
const INTEGER_TYPES: [i64; 9] = [2, 3, 4, 5, 6, 7, 9, 12, 13];

/// The constants known so far: their values, and which hold integers.
pub struct Known<'a> {
    pub values: &'a HashMap<String, Tensor<f32>>,
    pub integers: &'a HashSet<String>,
}

/// A folded output: its value and whether it holds integers.
pub type Value = (Tensor<f32>, bool);

/// The outputs of `node` if it can be folded: `Ok(None)` when an input is computed from the
/// model's input (or, for Shape, has no static shape). `shape_of` gives the static shape of a
/// computed tensor.
pub fn fold(node: &RawNode, known: &Known, shape_of: &dyn Fn(&str) -> Option<Vec<usize>>) -> Result<Option<Vec<Value>>, String> {
    let inputs: Vec<Option<&Tensor<f32>>> = node.inputs.iter().map(|n| if n.is_empty() { None } else { known.values.get(n) }).collect();
    let computed = |i: usize| node.inputs.get(i).is_some_and(|n| !n.is_empty()) && inputs[i].is_none();
    if node.op_type == "Shape" && computed(0) {
        return Ok(shape_of(&node.inputs[0]).map(|s| vec![(shape_tensor(node, &s), true)]));
    }
    if (0..node.inputs.len()).any(computed) || node.inputs.iter().all(String::is_empty) {
        return Ok(None);
    }
    let integer = node.inputs.iter().any(|n| known.integers.contains(n));
    let op = Fold { node, inputs: &inputs };
    let one = |t: Tensor<f32>, int: bool| Ok(Some(vec![(t, int)]));
    match node.op_type.as_str() {
        // The ops that only move (or zero) their first input's values: the registry's own op, run on it
        // once its output's size is known to be bounded.
        "Identity" | "Dropout" | "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" | "Transpose" | "Slice" | "Gather" | "Expand" | "Tile" | "Trilu" => {
            let params = std::cell::Cell::new(0);
            let ctx = NodeCtx { node, constants: known.values, scale_bits: 0, params: &params, booleans: &Default::default() };
            let moved = crate::ops::build(&ctx).map_err(|e| e.to_string())?;
            let x = op.input(0)?;
            check_len(moved.output_shape(&[&x.shape])?.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or("the shape overflows")?)?;
            let flat = moved.eval_float(&[x]).map_err(|e| e.to_string())?;
            // Each output a part of the flat result; only Dropout has a second, its boolean mask.
            let mut offset = 0;
            let parts = moved.output_shapes(&[&x.shape])?.into_iter().enumerate().map(|(i, shape)| {
                let len = shape.iter().product::<usize>();
                offset += len;
                (Tensor::new(shape, flat.data[offset - len..offset].to_vec()), i > 0 || node.inputs.first().is_some_and(|n| known.integers.contains(n)))
            });
            Ok(Some(parts.collect()))
        }
        "Shape" => one(shape_tensor(node, &op.input(0)?.shape), true),
        "Size" => one(Tensor::new(vec![], vec![op.input(0)?.len() as f32]), true),
        "Cast" => {
            let to = op.int("to", 1)?;
            let x = op.input(0)?;
            let out = match to {
                9 => x.map(|v| (*v != 0.0) as u8 as f32),
                t if INTEGER_TYPES.contains(&t) => x.map(|v| v.trunc()),
                _ => x.clone(),
            };
            one(out, INTEGER_TYPES.contains(&to))
        }
        "Neg" | "Abs" | "Sqrt" | "Reciprocal" | "Floor" | "Ceil" | "Exp" | "Log" | "Not" | "Relu" => {
            let f: fn(f64) -> f64 = match node.op_type.as_str() {
                "Neg" => |v| -v,
                "Abs" => f64::abs,
                "Sqrt" => f64::sqrt,
                "Reciprocal" => |v| 1.0 / v,
                "Floor" => f64::floor,
                "Ceil" => f64::ceil,
                "Exp" => f64::exp,
                "Log" => f64::ln,
                "Not" => |v| (v == 0.0) as u8 as f64,
                _ => |v| v.max(0.0),
            };
            one(op.input(0)?.map(|v| f(*v as f64) as f32), integer || node.op_type == "Not")
        }
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Mod" | "Equal" | "Less" | "Greater" | "LessOrEqual" | "GreaterOrEqual" | "And" | "Or" | "Xor" => {
            let fmod = node.op_type == "Mod" && op.int("fmod", 0)? != 0;
            let f: fn(f64, f64, bool) -> f64 = match node.op_type.as_str() {
                "Add" => |a, b, _| a + b,
                "Sub" => |a, b, _| a - b,
                "Mul" => |a, b, _| a * b,
                // Integer division truncates toward zero, as C and onnxruntime do.
                "Div" => |a, b, int| if int { (a / b).trunc() } else { a / b },
                "Pow" => |a, b, _| a.powf(b),
                // fmod = 1: the sign of the dividend, as C's fmod (Rust's % on floats).
                "Mod" if fmod => |a, b, _| a % b,
                // fmod = 0: the sign of the divisor, as Python's %.
                "Mod" => |a, b, _| a - b * (a / b).floor(),
                "Equal" => |a, b, _| (a == b) as u8 as f64,
                "Less" => |a, b, _| (a < b) as u8 as f64,
                "Greater" => |a, b, _| (a > b) as u8 as f64,
                "LessOrEqual" => |a, b, _| (a <= b) as u8 as f64,
                "GreaterOrEqual" => |a, b, _| (a >= b) as u8 as f64,
                "And" => |a, b, _| (a != 0.0 && b != 0.0) as u8 as f64,
                "Xor" => |a, b, _| ((a != 0.0) != (b != 0.0)) as u8 as f64,
                _ => |a, b, _| (a != 0.0 || b != 0.0) as u8 as f64,
            };
            let (a, b) = (op.input(0)?, op.input(1)?);
            let compares = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"].contains(&node.op_type.as_str());
            one(elementwise(&[a, b], |v| f(v[0], v[1], integer))?, integer || compares)
        }
        "Min" | "Max" | "Sum" | "Mean" => {
            let all: Vec<&Tensor<f32>> = (0..node.inputs.len()).map(|i| op.input(i)).collect::<Result<_, _>>()?;
            let f: fn(&[f64]) -> f64 = match node.op_type.as_str() {
                "Min" => |v| v.iter().copied().fold(f64::INFINITY, f64::min),
                "Max" => |v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                "Sum" => |v| v.iter().sum(),
                _ => |v| v.iter().sum::<f64>() / v.len() as f64,
            };
            one(elementwise(&all, f)?, integer)
        }
        "Where" => {
            let (c, a, b) = (op.input(0)?, op.input(1)?, op.input(2)?);
            let ints = node.inputs[1..].iter().any(|n| known.integers.contains(n));
            one(elementwise(&[c, a, b], |v| if v[0] != 0.0 { v[1] } else { v[2] })?, ints)
        }
        "Concat" => {
            // The registry's Concat, built without the constants it refuses as operands.
            let (params, none) = (std::cell::Cell::new(0), HashMap::new());
            let concat = crate::ops::build(&NodeCtx { node, constants: &none, scale_bits: 0, params: &params, booleans: &Default::default() }).map_err(|e| e.to_string())?;
            let all: Vec<&Tensor<f32>> = (0..node.inputs.len()).filter(|&i| !node.inputs[i].is_empty()).map(|i| op.input(i)).collect::<Result<_, _>>()?;
            one(concat.eval_float(&all).map_err(|e| e.to_string())?, integer)
        }
        "Range" => {
            let scalar = |i: usize| -> Result<f64, String> { op.input(i)?.data.first().map(|v| *v as f64).ok_or_else(|| format!("Range input {i} is empty")) };
            let (start, limit, delta) = (scalar(0)?, scalar(1)?, scalar(2)?);
            if delta == 0.0 {
                return Err("Range with a delta of 0".into());
            }
            let n = ((limit - start) / delta).ceil().max(0.0) as usize;
            check_len(n)?;
            one(Tensor::new(vec![n], (0..n).map(|i| (start + i as f64 * delta) as f32).collect()), integer)
        }
        "ConstantOfShape" => {
            let shape: Vec<usize> = op.ints(0)?.iter().map(|&d| usize::try_from(d).map_err(|_| format!("negative dimension {d}"))).collect::<Result<_, _>>()?;
            check_len(shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or("the shape overflows")?)?;
            let value = match node.attributes.get("value") {
                Some(Attribute::Tensor(t)) => t.data.first().copied().unwrap_or(0.0),
                None => 0.0,
                Some(other) => return Err(format!("attribute 'value' should be a tensor, found {other:?}")),
            };
            one(Tensor::new(shape.clone(), vec![value; shape.iter().product()]), value.fract() == 0.0)
        }
        "Split" => {
            // The registry's Split, its flat result cut into the outputs.
            let params = std::cell::Cell::new(0);
            let split = crate::ops::build(&NodeCtx { node, constants: known.values, scale_bits: 0, params: &params, booleans: &Default::default() }).map_err(|e| e.to_string())?;
            let x = op.input(0)?;
            let flat = split.eval_float(&[x]).map_err(|e| e.to_string())?;
            let mut rest = flat.data.into_iter();
            let parts = split.output_shapes(&[&x.shape])?;
            Ok(Some(parts.into_iter().map(|shape| (Tensor::new(shape.clone(), rest.by_ref().take(shape.iter().product()).collect()), integer)).collect()))
        }
        "ReduceSum" | "ReduceProd" | "ReduceMax" | "ReduceMin" | "ReduceMean" => {
            let x = op.input(0)?;
            let noop = op.int("noop_with_empty_axes", 0)? != 0;
            let axes: Vec<usize> = match op.ints_input_or_attr(1, "axes")? {
                Some(a) if !a.is_empty() => a.iter().map(|&a| axis(a, x.shape.len())).collect::<Result<_, _>>()?,
                Some(_) | None if noop => vec![],
                _ => (0..x.shape.len()).collect(),
            };
            let f: fn(&[f64]) -> f64 = match node.op_type.as_str() {
                "ReduceSum" => |v| v.iter().sum(),
                "ReduceProd" => |v| v.iter().product(),
                "ReduceMax" => |v| v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                "ReduceMin" => |v| v.iter().copied().fold(f64::INFINITY, f64::min),
                _ => |v| v.iter().sum::<f64>() / v.len() as f64,
            };
            one(reduce(x, &axes, op.int("keepdims", 1)? != 0, f), integer)
        }
        "MatMul" => one(matmul(op.input(0)?, op.input(1)?)?, integer),
        other => Err(format!("all its inputs are constants, and folding {other} is not supported")),
    }
}

/// A node's attributes and constant inputs.
struct Fold<'a> {
    node: &'a RawNode,
    inputs: &'a [Option<&'a Tensor<f32>>],
}

impl<'a> Fold<'a> {
    fn input(&self, i: usize) -> Result<&'a Tensor<f32>, String> {
        self.inputs.get(i).copied().flatten().ok_or_else(|| format!("input {i} is missing"))
    }

    fn int(&self, name: &str, default: i64) -> Result<i64, String> {
        match self.node.attributes.get(name) {
            None => Ok(default),
            Some(Attribute::Int(v)) => Ok(*v),
            Some(other) => Err(format!("attribute '{name}' should be an integer, found {other:?}")),
        }
    }

    fn ints_attr(&self, name: &str) -> Result<Option<Vec<i64>>, String> {
        match self.node.attributes.get(name) {
            None => Ok(None),
            Some(Attribute::Ints(v)) => Ok(Some(v.clone())),
            Some(other) => Err(format!("attribute '{name}' should be a list of integers, found {other:?}")),
        }
    }

    /// Input `i` as integers. ONNX integer inputs arrive as floats; `as` saturates INT64_MAX
    /// and INT64_MIN, which ONNX uses for "to the end".
    fn ints(&self, i: usize) -> Result<Vec<i64>, String> {
        Ok(self.input(i)?.data.iter().map(|v| *v as i64).collect())
    }

    /// Input `i` (newer opsets) or else the attribute (older ones), as integers.
    fn ints_input_or_attr(&self, i: usize, name: &str) -> Result<Option<Vec<i64>>, String> {
        match self.inputs.get(i).copied().flatten() {
            Some(t) => Ok(Some(t.data.iter().map(|v| *v as i64).collect())),
            None => self.ints_attr(name),
        }
    }
}

/// The most elements a folded tensor may have: shape arithmetic is small, and a hostile model
/// must not make the compiler allocate without bound.
const MAX_FOLDED: usize = 1 << 24;

/// numpy's matmul: a 1-D operand is a row (first) or a column (second), dropped from the result;
/// the leading axes broadcast. Sums in f64, as onnxruntime's float32 products rounded once.
fn matmul(a: &Tensor<f32>, b: &Tensor<f32>) -> Result<Tensor<f32>, String> {
    let (mut sa, mut sb) = (a.shape.clone(), b.shape.clone());
    let (row, column) = (sa.len() == 1, sb.len() == 1);
    if row {
        sa.insert(0, 1);
    }
    if column {
        sb.push(1);
    }
    if sa.len() < 2 || sb.len() < 2 {
        return Err("MatMul of a scalar".into());
    }
    let (m, k, n) = (sa[sa.len() - 2], sa[sa.len() - 1], sb[sb.len() - 1]);
    if sb[sb.len() - 2] != k {
        return Err(format!("MatMul of shapes {:?} and {:?}: the inner dimensions differ", a.shape, b.shape));
    }
    let (ba, bb) = (&sa[..sa.len() - 2], &sb[..sb.len() - 2]);
    let batch = broadcast_shape(&[ba, bb])?;
    let (ia, ib) = (broadcast(ba, &batch)?, broadcast(bb, &batch)?);
    check_len(ia.len().checked_mul(m * n).ok_or("the shape overflows")?)?;
    let mut out = Vec::with_capacity(ia.len() * m * n);
    for (&pa, &pb) in ia.iter().zip(&ib) {
        for i in 0..m {
            for j in 0..n {
                let sum: f64 = (0..k).map(|t| a.data[(pa * m + i) * k + t] as f64 * b.data[(pb * k + t) * n + j] as f64).sum();
                out.push(sum as f32);
            }
        }
    }
    let shape: Vec<usize> = batch.iter().copied().chain((!row).then_some(m)).chain((!column).then_some(n)).collect();
    Ok(Tensor::new(shape, out))
}

fn check_len(n: usize) -> Result<(), String> {
    if n > MAX_FOLDED {
        return Err(format!("a folded tensor of {n} elements exceeds {MAX_FOLDED}"));
    }
    Ok(())
}

fn shape_tensor(node: &RawNode, shape: &[usize]) -> Tensor<f32> {
    let rank = shape.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + rank } else { v }).clamp(0, rank) as usize;
    let start = match node.attributes.get("start") {
        Some(Attribute::Int(v)) => clamp(*v),
        _ => 0,
    };
    let end = match node.attributes.get("end") {
        Some(Attribute::Int(v)) => clamp(*v),
        _ => shape.len(),
    };
    let dims: Vec<f32> = shape[start..end.max(start)].iter().map(|&d| d as f32).collect();
    Tensor::new(vec![dims.len()], dims)
}

/// `f` of the broadcast inputs, element by element, in f64.
fn elementwise(inputs: &[&Tensor<f32>], f: impl Fn(&[f64]) -> f64) -> Result<Tensor<f32>, String> {
    let shapes: Vec<&[usize]> = inputs.iter().map(|t| t.shape.as_slice()).collect();
    let shape = broadcast_shape(&shapes)?;
    check_len(shape.iter().product())?;
    let indices: Vec<Vec<usize>> = inputs.iter().map(|t| broadcast(&t.shape, &shape)).collect::<Result<_, _>>()?;
    let mut args = vec![0.0; inputs.len()];
    let data = (0..shape.iter().product())
        .map(|o| {
            for (k, t) in inputs.iter().enumerate() {
                args[k] = t.data[indices[k][o]] as f64;
            }
            f(&args) as f32
        })
        .collect();
    Ok(Tensor::new(shape, data))
}

fn reduce(x: &Tensor<f32>, axes: &[usize], keepdims: bool, f: fn(&[f64]) -> f64) -> Tensor<f32> {
    if axes.is_empty() {
        return x.clone();
    }
    let groups = crate::tensor::reduction_groups(&x.shape, axes);
    let shape = (0..x.shape.len()).filter_map(|d| if axes.contains(&d) { keepdims.then_some(1) } else { Some(x.shape[d]) }).collect();
    Tensor::new(shape, groups.iter().map(|g| f(&g.iter().map(|&i| x.data[i] as f64).collect::<Vec<_>>()) as f32).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, inputs: &[&str], attributes: Vec<(&str, Attribute)>) -> RawNode {
        RawNode {
            name: op.to_lowercase(),
            op_type: op.into(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec!["out".into()],
            attributes: attributes.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    }

    fn run(n: &RawNode, values: &[(&str, Tensor<f32>, bool)]) -> Result<Option<Vec<Value>>, String> {
        let map: HashMap<String, Tensor<f32>> = values.iter().map(|(k, t, _)| (k.to_string(), t.clone())).collect();
        let ints: HashSet<String> = values.iter().filter(|v| v.2).map(|v| v.0.to_string()).collect();
        fold(n, &Known { values: &map, integers: &ints }, &|name| (name == "x").then(|| vec![1, 3, 4, 4]))
    }

    fn t(shape: &[usize], data: &[f32]) -> Tensor<f32> {
        Tensor::new(shape.to_vec(), data.to_vec())
    }

    #[test]
    fn the_flatten_pattern_of_the_legacy_exporter_folds() {
        // Shape(x) -> Gather(0) -> Unsqueeze -> Concat with -1 -> the Reshape target [1, -1].
        let shape = run(&node("Shape", &["x"], vec![]), &[]).unwrap().unwrap();
        assert_eq!(shape[0], (t(&[4], &[1.0, 3.0, 4.0, 4.0]), true));
        let batch = run(&node("Gather", &["s", "i"], vec![]), &[("s", shape[0].0.clone(), true), ("i", t(&[], &[0.0]), true)]).unwrap().unwrap();
        assert_eq!(batch[0].0, t(&[], &[1.0]));
        let axes = Attribute::Ints(vec![0]);
        let u = run(&node("Unsqueeze", &["b"], vec![("axes", axes)]), &[("b", batch[0].0.clone(), true)]).unwrap().unwrap();
        let target = run(&node("Concat", &["u", "m"], vec![("axis", Attribute::Int(0))]), &[("u", u[0].0.clone(), true), ("m", t(&[1], &[-1.0]), true)]).unwrap().unwrap();
        assert_eq!(target[0].0, t(&[2], &[1.0, -1.0]));
    }

    #[test]
    fn integer_division_truncates_and_float_division_does_not() {
        let values = [("a", t(&[2], &[-3.0, 7.0]), true), ("b", t(&[], &[2.0]), false)];
        let out = run(&node("Div", &["a", "b"], vec![]), &values).unwrap().unwrap();
        assert_eq!(out[0], (t(&[2], &[-1.0, 3.0]), true));
        let values = [("a", t(&[2], &[-3.0, 7.0]), false), ("b", t(&[], &[2.0]), false)];
        assert_eq!(run(&node("Div", &["a", "b"], vec![]), &values).unwrap().unwrap()[0].0, t(&[2], &[-1.5, 3.5]));
    }

    #[test]
    fn a_computed_input_is_not_folded_and_an_unknown_op_is_named() {
        assert!(run(&node("Relu", &["x"], vec![]), &[]).unwrap().is_none());
        let err = run(&node("Einsum", &["a"], vec![]), &[("a", t(&[1], &[1.0]), false)]).unwrap_err();
        assert!(err.contains("folding Einsum is not supported"), "{err}");
        let err = run(&node("ConstantOfShape", &["s"], vec![]), &[("s", t(&[2], &[1e6, 1e6]), true)]).unwrap_err();
        assert!(err.contains("exceeds"), "{err}");
    }

    #[test]
    fn slices_gathers_and_transposes_follow_onnx() {
        let x = t(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let starts = t(&[1], &[-1.0]);
        let ends = t(&[1], &[-4.0]);
        let axes = t(&[1], &[1.0]);
        let steps = t(&[1], &[-1.0]);
        let out =
            run(&node("Slice", &["x0", "s", "e", "a", "p"], vec![]), &[("x0", x.clone(), false), ("s", starts, true), ("e", ends, true), ("a", axes, true), ("p", steps, true)])
                .unwrap()
                .unwrap();
        assert_eq!(out[0].0, t(&[2, 3], &[2.0, 1.0, 0.0, 5.0, 4.0, 3.0]));
        let out = run(&node("Gather", &["x0", "i"], vec![("axis", Attribute::Int(1))]), &[("x0", x.clone(), false), ("i", t(&[2], &[2.0, -3.0]), true)]).unwrap().unwrap();
        assert_eq!(out[0].0, t(&[2, 2], &[2.0, 0.0, 5.0, 3.0]));
        let out = run(&node("Transpose", &["x0"], vec![]), &[("x0", x, false)]).unwrap().unwrap();
        assert_eq!(out[0].0, t(&[3, 2], &[0.0, 3.0, 1.0, 4.0, 2.0, 5.0]));
    }
}
