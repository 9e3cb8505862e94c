//! Reading ONNX: the protobuf model becomes a flat list of nodes, constants as float
//! tensors, and the one dynamic input with its static shape (a symbolic batch is 1).
//!
//! Models come from strangers, so reading is bounded: every declared shape is checked
//! against [`MAX_ELEMENTS`] (and for overflow) before anything is allocated, a tensor's data
//! must match its shape exactly, external data is read only from inside the model's folder
//! ([`inline_external_data`]), and the graph must define each name once, use only names it
//! defines, and have no cycle.

use crate::graph::{Attribute, RawNode};
use crate::tensor::Tensor;
use crate::Error;
use onnx_protobuf::tensor_proto::{DataLocation, DataType};
use onnx_protobuf::{attribute_proto::AttributeType, AttributeProto, GraphProto, Message, ModelProto, TensorProto};
use protobuf::Enum;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// The most elements any tensor of a model (an initializer, a Constant, the input) may
/// declare: shapes past it, or whose product overflows, are refused before anything is
/// allocated.
pub const MAX_ELEMENTS: usize = 1 << 31;

/// The most bytes [`inline_external_data`] reads in all: protobuf, hence a self-contained
/// ONNX file, cannot exceed 2 GiB.
pub const MAX_INLINE_BYTES: u64 = (1 << 31) - 1;

#[derive(Clone, Debug)]
pub struct RawGraph {
    /// The graph inputs that are not initializers, with their static shapes, in file order.
    pub inputs: Vec<(String, Vec<usize>)>,
    pub outputs: Vec<String>,
    /// In topological order (ONNX requires it; a model that lists its nodes out of order is
    /// sorted).
    pub nodes: Vec<RawNode>,
    pub constants: HashMap<String, Tensor<f32>>,
    /// The constants (initializers and Constant nodes) of an integer or bool ONNX type:
    /// their values in `constants` stand for integers (see `fold::Known::integers`).
    pub integers: HashSet<String>,
    /// The inputs of ONNX type bool.
    pub boolean_inputs: HashSet<String>,
}

/// The shape of `dims` and its element count, refused when a dimension is negative or the
/// count overflows or exceeds [`MAX_ELEMENTS`].
fn element_count(what: &str, dims: &[i64]) -> Result<(Vec<usize>, usize), String> {
    let mut count: usize = 1;
    let mut shape = Vec::with_capacity(dims.len().min(64));
    for &d in dims {
        let d = usize::try_from(d).map_err(|_| format!("{what} has a negative dimension {d} in {dims:?}"))?;
        count = count
            .checked_mul(d)
            .filter(|&c| c <= MAX_ELEMENTS)
            .ok_or_else(|| format!("{what} declares shape {dims:?}, over the {MAX_ELEMENTS} elements zkinfer accepts in one tensor"))?;
        shape.push(d);
    }
    Ok((shape, count))
}

/// Whether ONNX type `data_type` holds integers (or bool).
fn is_integer_type(data_type: i32) -> bool {
    use DataType::*;
    matches!(DataType::from_i32(data_type), Some(INT8 | UINT8 | INT16 | UINT16 | INT32 | INT64 | UINT32 | UINT64 | BOOL))
}

/// Bytes per element in `raw_data`, for the types zkinfer reads.
fn raw_width(data_type: DataType) -> Option<usize> {
    use DataType::*;
    Some(match data_type {
        INT8 | UINT8 | BOOL => 1,
        FLOAT16 | BFLOAT16 | INT16 | UINT16 => 2,
        FLOAT | INT32 | UINT32 => 4,
        DOUBLE | INT64 | UINT64 => 8,
        _ => return None,
    })
}

const SUPPORTED_TYPES: &str = "float, float16, bfloat16, double, int8, int16, int32, int64, uint8, uint16, uint32, uint64 and bool";

fn data_type(t: &TensorProto) -> Result<DataType, String> {
    match DataType::from_i32(t.data_type) {
        Some(dt) if raw_width(dt).is_some() => Ok(dt),
        Some(dt) => Err(format!("tensor '{}' has data type {dt:?}; {SUPPORTED_TYPES} are supported", t.name)),
        None => Err(format!("tensor '{}' has unknown data type {}; {SUPPORTED_TYPES} are supported", t.name, t.data_type)),
    }
}

/// IEEE half precision to single (exact: every float16 is a float32).
fn f16_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let exponent = u32::from((h >> 10) & 0x1f);
    let mantissa = u32::from(h & 0x3ff);
    let magnitude = match exponent {
        // Zero and subnormals: mantissa * 2^-24, exact in f32.
        0 => mantissa as f32 * f32::from_bits(0x3380_0000),
        0x1f => f32::from_bits(0x7f80_0000 | (mantissa << 13)),
        _ => f32::from_bits(((exponent + 127 - 15) << 23) | (mantissa << 13)),
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits(u32::from(h) << 16)
}

fn is_external(t: &TensorProto) -> bool {
    t.data_location.enum_value() == Ok(DataLocation::EXTERNAL)
}

fn external_location(t: &TensorProto) -> &str {
    t.external_data.iter().find(|e| e.key == "location").map_or("", |e| e.value.as_str())
}

/// A tensor's values as f32, the crate's number type. Every type here converts exactly to
/// f32 except double (rounded), and int32, int64, uint32 and uint64 beyond 2^24 in
/// magnitude (rounded to 24 significant bits). Ops that read integer inputs (shapes, axes,
/// pads, indices) get them back through `NodeCtx::int_input`, which casts these floats to
/// i64: exact up to 2^24, and INT64_MAX and INT64_MIN (ONNX's "to the end") still saturate
/// to themselves.
fn tensor(t: &TensorProto) -> Result<Tensor<f32>, String> {
    if is_external(t) {
        return Err(format!(
            "tensor '{}' keeps its values in the external file '{}', which was not read: `zkinfer compile` reads it from the model's folder and writes a \
             self-contained model.onnx (library callers: pass the model through zkinfer_compiler::onnx::inline_external_data first)",
            t.name,
            external_location(t)
        ));
    }
    let (shape, count) = element_count(&format!("tensor '{}'", t.name), &t.dims)?;
    let dt = data_type(t)?;
    let width = raw_width(dt).expect("data_type returns readable types");
    let data: Vec<f32> = if !t.raw_data.is_empty() {
        if t.raw_data.len() != count * width {
            return Err(format!(
                "tensor '{}' ({dt:?}, shape {shape:?}) has {} bytes of raw data; its shape needs {count} x {width} = {} bytes",
                t.name,
                t.raw_data.len(),
                count * width
            ));
        }
        let le = |f: fn(&[u8]) -> f32| t.raw_data.chunks_exact(width).map(f).collect();
        use DataType::*;
        match dt {
            FLOAT => le(|b| f32::from_le_bytes(b.try_into().unwrap())),
            DOUBLE => le(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32),
            FLOAT16 => le(|b| f16_to_f32(u16::from_le_bytes(b.try_into().unwrap()))),
            BFLOAT16 => le(|b| bf16_to_f32(u16::from_le_bytes(b.try_into().unwrap()))),
            INT8 => le(|b| b[0] as i8 as f32),
            UINT8 => le(|b| b[0] as f32),
            BOOL => le(|b| if b[0] != 0 { 1.0 } else { 0.0 }),
            INT16 => le(|b| i16::from_le_bytes(b.try_into().unwrap()) as f32),
            UINT16 => le(|b| u16::from_le_bytes(b.try_into().unwrap()) as f32),
            INT32 => le(|b| i32::from_le_bytes(b.try_into().unwrap()) as f32),
            UINT32 => le(|b| u32::from_le_bytes(b.try_into().unwrap()) as f32),
            INT64 => le(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32),
            UINT64 => le(|b| u64::from_le_bytes(b.try_into().unwrap()) as f32),
            _ => unreachable!("data_type returns readable types"),
        }
    } else {
        // The typed fields, as onnx.proto assigns them: the 8- and 16-bit types and bool in
        // int32_data (float16 and bfloat16 as their bit patterns), uint32 and uint64 in
        // uint64_data.
        let stored = |len: usize| -> Result<(), String> {
            if len != count {
                return Err(format!("tensor '{}' ({dt:?}) has {len} values for shape {shape:?}, which needs {count}", t.name));
            }
            Ok(())
        };
        let int32 = |f: fn(i32) -> f32| -> Result<Vec<f32>, String> {
            stored(t.int32_data.len())?;
            Ok(t.int32_data.iter().map(|&v| f(v)).collect())
        };
        use DataType::*;
        match dt {
            FLOAT => stored(t.float_data.len()).map(|()| t.float_data.clone())?,
            DOUBLE => stored(t.double_data.len()).map(|()| t.double_data.iter().map(|&v| v as f32).collect())?,
            INT64 => stored(t.int64_data.len()).map(|()| t.int64_data.iter().map(|&v| v as f32).collect())?,
            UINT32 => stored(t.uint64_data.len()).map(|()| t.uint64_data.iter().map(|&v| v as u32 as f32).collect())?,
            UINT64 => stored(t.uint64_data.len()).map(|()| t.uint64_data.iter().map(|&v| v as f32).collect())?,
            FLOAT16 => int32(|v| f16_to_f32(v as u16))?,
            BFLOAT16 => int32(|v| bf16_to_f32(v as u16))?,
            INT8 => int32(|v| v as i8 as f32)?,
            UINT8 => int32(|v| v as u8 as f32)?,
            INT16 => int32(|v| v as i16 as f32)?,
            UINT16 => int32(|v| v as u16 as f32)?,
            INT32 => int32(|v| v as f32)?,
            BOOL => int32(|v| if v != 0 { 1.0 } else { 0.0 })?,
            _ => unreachable!("data_type returns readable types"),
        }
    };
    Ok(Tensor::new(shape, data))
}

/// Never fails: what zkinfer cannot read becomes [`Attribute::Unsupported`], an error only
/// for an op that reads it (and for Constant's value).
fn attribute(a: &AttributeProto) -> Attribute {
    match a.type_.enum_value() {
        Ok(AttributeType::INT) => Attribute::Int(a.i),
        Ok(AttributeType::FLOAT) => Attribute::Float(a.f),
        Ok(AttributeType::INTS) => Attribute::Ints(a.ints.clone()),
        Ok(AttributeType::FLOATS) => Attribute::Floats(a.floats.clone()),
        Ok(AttributeType::STRING) => Attribute::String(String::from_utf8_lossy(&a.s).into_owned()),
        Ok(AttributeType::STRINGS) => Attribute::Strings(a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect()),
        Ok(AttributeType::TENSOR) => match tensor(&a.t) {
            Ok(t) => Attribute::Tensor(t),
            Err(e) => Attribute::Unsupported(format!("TENSOR: {e}")),
        },
        Ok(other) => Attribute::Unsupported(format!("{other:?}")),
        Err(code) => Attribute::Unsupported(format!("unknown attribute type {code}")),
    }
}

/// Calls `f` on every tensor the model holds: initializers and sparse initializers, node
/// attributes (`t`, `tensors`, sparse ones) and subgraphs, in the main graph, functions and
/// training graphs: everywhere ONNX allows external data.
fn for_each_tensor(model: &mut ModelProto, f: &mut dyn FnMut(&mut TensorProto) -> Result<(), Error>) -> Result<(), Error> {
    fn sparse(s: &mut onnx_protobuf::SparseTensorProto, f: &mut dyn FnMut(&mut TensorProto) -> Result<(), Error>) -> Result<(), Error> {
        if let Some(v) = s.values.as_mut() {
            f(v)?;
        }
        if let Some(i) = s.indices.as_mut() {
            f(i)?;
        }
        Ok(())
    }
    fn attributes(attrs: &mut [AttributeProto], f: &mut dyn FnMut(&mut TensorProto) -> Result<(), Error>) -> Result<(), Error> {
        for a in attrs {
            if let Some(t) = a.t.as_mut() {
                f(t)?;
            }
            for t in &mut a.tensors {
                f(t)?;
            }
            if let Some(s) = a.sparse_tensor.as_mut() {
                sparse(s, f)?;
            }
            for s in &mut a.sparse_tensors {
                sparse(s, f)?;
            }
            if let Some(g) = a.g.as_mut() {
                graph(g, f)?;
            }
            for g in &mut a.graphs {
                graph(g, f)?;
            }
        }
        Ok(())
    }
    fn graph(g: &mut GraphProto, f: &mut dyn FnMut(&mut TensorProto) -> Result<(), Error>) -> Result<(), Error> {
        for t in &mut g.initializer {
            f(t)?;
        }
        for s in &mut g.sparse_initializer {
            sparse(s, f)?;
        }
        for n in &mut g.node {
            attributes(&mut n.attribute, f)?;
        }
        Ok(())
    }
    if let Some(g) = model.graph.as_mut() {
        graph(g, f)?;
    }
    for function in &mut model.functions {
        attributes(&mut function.attribute_proto, f)?;
        for n in &mut function.node {
            attributes(&mut n.attribute, f)?;
        }
    }
    for training in &mut model.training_info {
        for g in [training.initialization.as_mut(), training.algorithm.as_mut()].into_iter().flatten() {
            graph(g, f)?;
        }
    }
    Ok(())
}

/// Makes a model whose tensors keep their values in external files (`torch.onnx.export`'s
/// `m.onnx.data`, `onnx.save_model(..., save_as_external_data=True)`) self-contained: reads
/// each such tensor's `location`, `offset` and `length` (`checksum` is ignored) relative to
/// `model_dir`, the folder of the model file, and stores the values in `raw_data`. A model
/// without external data comes back byte for byte.
///
/// Safe on hostile files: a location must be relative, may not leave `model_dir` (by `..` or
/// by a symbolic link), must name a regular file, and `offset + length` must lie within it
/// and match the tensor's declared shape, itself bounded by [`MAX_ELEMENTS`]; at most
/// [`MAX_INLINE_BYTES`] are read in all.
pub fn inline_external_data(bytes: &[u8], model_dir: &Path) -> Result<Vec<u8>, Error> {
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(|e| Error::Onnx(format!("not a valid ONNX protobuf: {e}")))?;
    let mut external = false;
    for_each_tensor(&mut model, &mut |t| {
        external |= is_external(t);
        Ok(())
    })?;
    if !external {
        return Ok(bytes.to_vec());
    }
    let model_dir = if model_dir.as_os_str().is_empty() { Path::new(".") } else { model_dir };
    let dir = model_dir.canonicalize().map_err(|e| Error::ExternalData(format!("the model's folder {}: {e}", model_dir.display())))?;
    let mut total: u64 = 0;
    for_each_tensor(&mut model, &mut |t| {
        if is_external(t) {
            t.raw_data = read_external(t, &dir, &mut total)?;
            t.external_data.clear();
            t.data_location = DataLocation::DEFAULT.into();
        }
        Ok(())
    })?;
    model.write_to_bytes().map_err(|e| Error::Onnx(format!("writing the self-contained model: {e}")))
}

/// The model with every input dimension named `name` (a symbolic dimension, `dim_param`) of
/// size `size`, for each `(name, size)` of `dims`: a sequence length, or a batch other than 1.
pub fn bind_dims(bytes: &[u8], dims: &[(String, usize)]) -> Result<Vec<u8>, Error> {
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(|e| Error::Onnx(format!("not a valid ONNX protobuf: {e}")))?;
    let graph = model.graph.as_mut().ok_or_else(|| Error::Onnx("the model has no graph".into()))?;
    let initializers: HashSet<String> = graph.initializer.iter().map(|t| t.name.clone()).collect();
    let inputs = graph.input.iter_mut().filter(|i| !initializers.contains(&i.name));
    let mut symbolic: Vec<&mut onnx_protobuf::tensor_shape_proto::Dimension> =
        inputs.flat_map(|i| i.type_.mut_or_insert_default().mut_tensor_type().shape.mut_or_insert_default().dim.iter_mut()).filter(|d| d.has_dim_param()).collect();
    for (name, size) in dims {
        if *size == 0 || *size > MAX_ELEMENTS {
            return Err(Error::Input(format!("--dim {name}={size}: a dimension's size is 1 to {MAX_ELEMENTS}")));
        }
        let mut found = false;
        for d in symbolic.iter_mut().filter(|d| d.dim_param() == name) {
            d.set_dim_value(*size as i64);
            found = true;
        }
        if !found {
            let mut names: Vec<String> = symbolic.iter().filter(|d| d.has_dim_param()).map(|d| d.dim_param().to_string()).collect();
            names.sort();
            names.dedup();
            return Err(Error::Input(format!("--dim {name}={size}: no input has a dimension named '{name}' (its symbolic dimensions: {names:?})")));
        }
    }
    model.write_to_bytes().map_err(|e| Error::Onnx(format!("writing the model with its dimensions bound: {e}")))
}

/// The model with the inputs `fixed` names (by their index among the model's inputs, in its
/// order) turned into initializers holding `values`: fixed inputs (EZKL's `fixed` visibility)
/// are constants of the model, folded at compile time and committed to by the verifying key
/// like its weights. The model's other inputs keep their order.
pub fn fix_inputs(bytes: &[u8], fixed: &[(usize, Vec<f32>)]) -> Result<Vec<u8>, Error> {
    let inputs = parse(bytes)?.inputs;
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(|e| Error::Onnx(format!("not a valid ONNX protobuf: {e}")))?;
    let graph = model.graph.as_mut().expect("parse checked the graph");
    for (index, values) in fixed {
        let (name, shape) = inputs.get(*index).ok_or_else(|| Error::Input(format!("input {index} is fixed, but the model has {} inputs", inputs.len())))?;
        let len: usize = shape.iter().product();
        if values.len() != len {
            return Err(Error::Input(format!("fixed input '{name}' of shape {shape:?} takes {len} values; {} were given", values.len())));
        }
        let position = graph.input.iter().position(|i| &i.name == name).expect("parse found the input");
        let declared = graph.input.remove(position).type_.tensor_type().elem_type;
        let mut t = TensorProto::new();
        t.name = name.clone();
        t.dims = shape.iter().map(|&d| d as i64).collect();
        if is_integer_type(declared) {
            if let Some(v) = values.iter().find(|v| v.fract() != 0.0) {
                return Err(Error::Input(format!("fixed input '{name}' holds integers; {v} is not one")));
            }
            t.data_type = DataType::INT64 as i32;
            t.int64_data = values.iter().map(|&v| v as i64).collect();
        } else {
            t.data_type = DataType::FLOAT as i32;
            t.float_data = values.clone();
        }
        graph.initializer.push(t);
    }
    model.write_to_bytes().map_err(|e| Error::Onnx(format!("writing the model with its fixed inputs: {e}")))
}

/// The bytes of one external tensor, read from inside `dir` (canonical).
fn read_external(t: &TensorProto, dir: &Path, total: &mut u64) -> Result<Vec<u8>, Error> {
    let name = &t.name;
    let fail = |message: String| Error::ExternalData(format!("tensor '{name}': {message}"));
    let (mut location, mut offset, mut length) = (None, None, None);
    for entry in &t.external_data {
        let number = || entry.value.trim().parse::<u64>().map_err(|_| fail(format!("'{}' is '{}', not a byte count", entry.key, entry.value)));
        match entry.key.as_str() {
            "location" => location = Some(entry.value.as_str()),
            "offset" => offset = Some(number()?),
            "length" => length = Some(number()?),
            // "checksum" (an unchecked SHA-1) and "basepath" (onnx's own bookkeeping).
            _ => {}
        }
    }
    let location = location.filter(|l| !l.is_empty()).ok_or_else(|| fail("its data is external but names no location".into()))?;
    let path = resolve(location, dir).map_err(fail)?;
    let mut file = std::fs::File::open(&path).map_err(|e| fail(format!("opening external data file {}: {e}", path.display())))?;
    let size = file.metadata().map_err(|e| fail(format!("reading external data file {}: {e}", path.display())))?.len();
    let offset = offset.unwrap_or(0);
    if offset > size {
        return Err(fail(format!("offset {offset} is past the end of external data file '{location}' ({size} bytes)")));
    }
    let length = length.unwrap_or(size - offset);
    if offset.checked_add(length).is_none_or(|end| end > size) {
        return Err(fail(format!("offset {offset} + length {length} runs past the end of external data file '{location}' ({size} bytes)")));
    }
    let dt = data_type(t).map_err(Error::ExternalData)?;
    let (shape, count) = element_count(&format!("tensor '{name}'"), &t.dims).map_err(Error::ExternalData)?;
    let needed = count as u64 * raw_width(dt).expect("data_type returns readable types") as u64;
    if length != needed {
        return Err(fail(format!("its external data is {length} bytes, but {dt:?} of shape {shape:?} needs {needed}")));
    }
    *total += length;
    if *total > MAX_INLINE_BYTES {
        return Err(fail(format!("the model's external data passes {MAX_INLINE_BYTES} bytes, the most one ONNX file can hold")));
    }
    let mut data = Vec::with_capacity(length as usize);
    file.seek(SeekFrom::Start(offset)).and_then(|_| file.by_ref().take(length).read_to_end(&mut data)).map_err(|e| fail(format!("reading {}: {e}", path.display())))?;
    if data.len() as u64 != length {
        return Err(fail(format!("external data file '{location}' ended early (it changed while being read?)")));
    }
    Ok(data)
}

/// The file `location` names, inside `dir` (canonical) or refused.
fn resolve(location: &str, dir: &Path) -> Result<PathBuf, String> {
    let relative = Path::new(location);
    // `C:\\...`, `C:/...` and `\\server\\...`, absolute on Windows, where the model may have been exported.
    let windows_absolute = location.starts_with('\\') || matches!(location.as_bytes(), [letter, b':', b'\\' | b'/', ..] if letter.is_ascii_alphabetic());
    if relative.has_root() || windows_absolute {
        return Err(format!("external data location '{location}' is an absolute path; ONNX requires a path relative to the model's folder"));
    }
    let mut depth = 0usize;
    for component in relative.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => depth -= 1,
            _ => return Err(format!("external data location '{location}' leads out of the model's folder {}; it must stay inside it", dir.display())),
        }
    }
    let joined = dir.join(relative);
    let path = joined.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "its values are in the external data file '{location}', which is missing: {} does not exist; the .data file must sit beside the model, \
             in {}, with the name the export gave it",
            joined.display(),
            dir.display()
        ),
        _ => format!("external data file {}: {e}", joined.display()),
    })?;
    if !path.starts_with(dir) {
        return Err(format!(
            "external data location '{location}' resolves to {}, outside the model's folder {} (through a symbolic link); zkinfer reads external data only from inside that folder",
            path.display(),
            dir.display()
        ));
    }
    if !path.is_file() {
        return Err(format!("external data location '{location}' ({}) is not a regular file", path.display()));
    }
    Ok(path)
}

/// Who defines a name, for errors.
fn definer(kind: &str, name: &str, op: &str) -> String {
    match kind {
        "node" => format!("node '{name}' ({op})"),
        _ => format!("{kind} '{name}'"),
    }
}

pub fn parse(bytes: &[u8]) -> Result<RawGraph, Error> {
    let mut model = ModelProto::parse_from_bytes(bytes).map_err(|e| Error::Onnx(format!("not a valid ONNX protobuf: {e}")))?;
    let mut first_external = None;
    for_each_tensor(&mut model, &mut |t| {
        if is_external(t) && first_external.is_none() {
            first_external = Some((t.name.clone(), external_location(t).to_string()));
        }
        Ok(())
    })?;
    if let Some((name, location)) = first_external {
        return Err(Error::ExternalData(format!(
            "tensor '{name}' keeps its values in the external file '{location}', which was not read: `zkinfer compile` reads it from the model's folder \
             and writes a self-contained model.onnx (library callers: pass the model through zkinfer_compiler::onnx::inline_external_data first)"
        )));
    }
    let graph = model.graph.as_ref().ok_or_else(|| Error::Onnx("the model has no graph".into()))?;
    // Protobuf decoding accepts a file cut at a field boundary; a model always names its
    // opsets, nodes and outputs, so their absence means a damaged or foreign file.
    if model.opset_import.is_empty() || graph.node.is_empty() || graph.output.is_empty() {
        return Err(Error::Onnx("the model lacks its opset, nodes or outputs (is the file truncated, or not ONNX?)".into()));
    }
    if let Some(s) = graph.sparse_initializer.first() {
        return Err(Error::Onnx(format!("sparse initializer '{}' is not supported; store it dense", s.values.name)));
    }
    let node_name = |i: usize| {
        let n = &graph.node[i];
        if n.name.is_empty() {
            format!("{}_{i}", n.op_type)
        } else {
            n.name.clone()
        }
    };

    // Each name is defined once: by a graph input, an initializer (which may also be listed as
    // an input, as IR < 4 required) or one node's output.
    let mut defined: HashMap<&str, String> = HashMap::new();
    for i in &graph.input {
        if defined.insert(i.name.as_str(), definer("graph input", &i.name, "")).is_some() {
            return Err(Error::Onnx(format!("graph input '{}' is listed twice", i.name)));
        }
    }
    for t in &graph.initializer {
        if let Some(previous) = defined.insert(t.name.as_str(), definer("initializer", &t.name, "")) {
            if previous.starts_with("initializer") {
                return Err(Error::Onnx(format!("duplicate name: initializer '{}' is defined twice", t.name)));
            }
        }
    }
    for (i, n) in graph.node.iter().enumerate() {
        for o in n.output.iter().filter(|o| !o.is_empty()) {
            if let Some(previous) = defined.insert(o.as_str(), definer("node", &node_name(i), &n.op_type)) {
                return Err(Error::Onnx(format!("duplicate name: '{o}' is the output of node '{}' ({}) and also {previous}", node_name(i), n.op_type)));
            }
        }
    }
    for (i, n) in graph.node.iter().enumerate() {
        if let Some(missing) = n.input.iter().find(|x| !x.is_empty() && !defined.contains_key(x.as_str())) {
            return Err(Error::Node {
                op: n.op_type.clone(),
                node: node_name(i),
                message: format!("input '{missing}' is not defined: no node outputs it and no initializer or graph input has that name"),
            });
        }
    }
    if let Some(missing) = graph.output.iter().find(|o| !defined.contains_key(o.name.as_str())) {
        return Err(Error::Onnx(format!("graph output '{}' is not defined: no node outputs it and no initializer or graph input has that name", missing.name)));
    }
    let order = topological_order(graph, &node_name)?;

    let mut constants = HashMap::new();
    let mut integers = HashSet::new();
    for t in &graph.initializer {
        constants.insert(t.name.clone(), tensor(t).map_err(Error::Onnx)?);
        if is_integer_type(t.data_type) {
            integers.insert(t.name.clone());
        }
    }
    let mut nodes = Vec::new();
    for i in order {
        let n = &graph.node[i];
        let name = node_name(i);
        // The op before its attributes: an op zkinfer lacks is named even when its
        // attributes are of types zkinfer never reads. Of other domains, only scikit-learn's
        // ai.onnx.ml has ops in the registry (found there by their op_type).
        let registered = || crate::ops::REGISTRY.iter().any(|(op, _)| *op == n.op_type);
        if !(n.domain.is_empty() || n.domain == "ai.onnx" || n.domain == "ai.onnx.ml" && registered()) {
            return Err(Error::UnsupportedOp { op: format!("{}:{}", n.domain, n.op_type), node: name, supported: crate::ops::supported() });
        }
        let attributes: HashMap<String, Attribute> = n.attribute.iter().map(|a| (a.name.clone(), attribute(a))).collect();
        if n.op_type == "Constant" {
            let value = match attributes.get("value") {
                Some(Attribute::Tensor(t)) => t.clone(),
                Some(Attribute::Unsupported(why)) => return Err(Error::Node { op: "Constant".into(), node: name, message: format!("attribute 'value' is {why}") }),
                _ => match (attributes.get("value_float"), attributes.get("value_floats"), attributes.get("value_int"), attributes.get("value_ints")) {
                    (Some(Attribute::Float(v)), ..) => Tensor::new(vec![], vec![*v]),
                    (_, Some(Attribute::Floats(v)), ..) => Tensor::new(vec![v.len()], v.clone()),
                    (_, _, Some(Attribute::Int(v)), _) => Tensor::new(vec![], vec![*v as f32]),
                    (.., Some(Attribute::Ints(v))) => Tensor::new(vec![v.len()], v.iter().map(|x| *x as f32).collect()),
                    _ => {
                        let given: Vec<&str> = n.attribute.iter().map(|a| a.name.as_str()).collect();
                        return Err(Error::Node {
                            op: "Constant".into(),
                            node: name,
                            message: format!("no supported value attribute (it has {given:?}; value, value_float(s) and value_int(s) are supported)"),
                        });
                    }
                },
            };
            let Some(output) = n.output.first().filter(|o| !o.is_empty()) else {
                return Err(Error::Node { op: "Constant".into(), node: name, message: "it has no output".into() });
            };
            let integer = match n.attribute.iter().find(|a| a.name == "value") {
                Some(a) => is_integer_type(a.t.data_type),
                None => n.attribute.iter().any(|a| a.name == "value_int" || a.name == "value_ints"),
            };
            if integer {
                integers.insert(output.clone());
            }
            constants.insert(output.clone(), value);
            continue;
        }
        nodes.push(RawNode { name, op_type: n.op_type.clone(), inputs: n.input.clone(), outputs: n.output.clone(), attributes });
    }
    let dynamic: Vec<_> = graph.input.iter().filter(|i| !constants.contains_key(&i.name)).collect();
    if dynamic.is_empty() {
        return Err(Error::Onnx("the model has no input (every graph input is an initializer)".into()));
    }
    let inputs = dynamic.iter().map(|input| input_shape(input).map(|shape| (input.name.clone(), shape))).collect::<Result<_, _>>()?;
    let boolean_inputs = dynamic.iter().filter(|i| i.type_.tensor_type().elem_type == DataType::BOOL as i32).map(|i| i.name.clone()).collect();
    Ok(RawGraph { inputs, outputs: graph.output.iter().map(|o| o.name.clone()).collect(), nodes, constants, integers, boolean_inputs })
}

/// A graph input's static shape: a symbolic first dimension (the batch) is 1; any other
/// symbolic dimension is refused by name.
fn input_shape(input: &onnx_protobuf::ValueInfoProto) -> Result<Vec<usize>, Error> {
    let dims = &input.type_.tensor_type().shape.dim;
    if !input.type_.has_tensor_type() || dims.is_empty() {
        return Err(Error::Onnx(format!("input '{}' has no static tensor shape", input.name)));
    }
    let dims: Vec<i64> = dims
        .iter()
        .enumerate()
        .map(|(i, d)| match (d.has_dim_value(), d.dim_value()) {
            (true, v) if v > 0 => Ok(v),
            (true, v) => Err(Error::Onnx(format!("input '{}' has dimension {i} of size {v}: empty inputs are not supported", input.name))),
            _ if i == 0 => Ok(1),
            _ if d.has_dim_param() => Err(Error::Onnx(format!(
                "input '{}' has dimension {i} named '{}' and no size: give it one with `--dim {}=N` (library: onnx::bind_dims)",
                input.name,
                d.dim_param(),
                d.dim_param()
            ))),
            _ => Err(Error::Onnx(format!("input '{}' has dimension {i} with neither a size nor a name; only the first (the batch, bound to 1) may", input.name))),
        })
        .collect::<Result<_, _>>()?;
    Ok(element_count(&format!("input '{}'", input.name), &dims).map_err(Error::Onnx)?.0)
}

/// The nodes' indices in an order where each comes after the producers of its inputs: the
/// file's own order when it is already one (as ONNX requires). A cycle is an error naming
/// its nodes.
fn topological_order(graph: &GraphProto, node_name: &dyn Fn(usize) -> String) -> Result<Vec<usize>, Error> {
    let producer: HashMap<&str, usize> = graph.node.iter().enumerate().flat_map(|(i, n)| n.output.iter().filter(|o| !o.is_empty()).map(move |o| (o.as_str(), i))).collect();
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; graph.node.len()];
    let mut order = Vec::with_capacity(graph.node.len());
    // Depth first without recursion (a hostile chain may be long): (node, next input).
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..graph.node.len() {
        if state[start] != NEW {
            continue;
        }
        state[start] = OPEN;
        stack.push((start, 0));
        while let Some((v, next)) = stack.last_mut() {
            let v = *v;
            let Some(input) = graph.node[v].input.get(*next) else {
                state[v] = DONE;
                order.push(v);
                stack.pop();
                continue;
            };
            *next += 1;
            let Some(&p) = producer.get(input.as_str()) else { continue };
            match state[p] {
                NEW => {
                    state[p] = OPEN;
                    stack.push((p, 0));
                }
                OPEN => {
                    // p is on the stack, each node above it produces an input of the one
                    // below, and v, on top, consumes p: in data-flow order, v ... p v.
                    let from = stack.iter().position(|(n, _)| *n == p).expect("an open node is on the stack");
                    let cycle: Vec<String> = stack[from..].iter().rev().chain(stack.last()).map(|(n, _)| format!("'{}' ({})", node_name(*n), graph.node[*n].op_type)).collect();
                    return Err(Error::Onnx(format!("the graph has a cycle: {}", cycle.join(" -> "))));
                }
                _ => {}
            }
        }
    }
    Ok(order)
}
