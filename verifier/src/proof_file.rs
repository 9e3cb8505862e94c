//! The proof file, `proof.json`: JSON a person can read, and the one reader of it that the
//! CLI, the library and the WebAssembly package all use, so that every front end gives every
//! file the same verdict.
//!
//! ```json
//! {
//!   "version": 1,
//!   "protocol": "zkinfer-plonk-kzg-bn254-keccak/3",
//!   "vk_digest": "0x<64 hex digits>",
//!   "instances": [["0x<64 hex digits>", ...]],
//!   "outputs": [{"name": "logits", "shape": [1, 10], "scale_bits": 8, "values": [0.5, ...]}],
//!   "inputs": [...],
//!   "proof": "0x<hex>"
//! }
//! ```
//! `instances` are the public values, one array per instance column: they are what the proof
//! proves. `outputs` (and `inputs`, for a model compiled with a public input) show them as the
//! verifying key's named tensors for people; a verifier derives what it shows from the
//! instances and the key, and rejects a file whose `outputs` say anything else.

use crate::encoding::{fr_to_bytes, Reader};
use crate::error::Error;
use crate::json::{quote, Json};
use crate::statement::{PublicTensor, TensorKind, TensorValues};
use crate::verify::verify;
use crate::vk::VerifyingKey;
use ark_bn254::Fr;

/// The proof system a proof file names.
pub const PROTOCOL: &str = "zkinfer-plonk-kzg-bn254-keccak/3";
/// The proof file version this crate reads and writes.
pub const PROOF_FILE_VERSION: u32 = 1;

/// A proof file, read and checked against its format (not yet verified).
#[derive(Clone, Debug, PartialEq)]
pub struct ProofFile {
    /// Keccak-256 of the verifying key the proof was made for.
    pub vk_digest: [u8; 32],
    /// The public values, one vector per instance column.
    pub instances: Vec<Vec<Fr>>,
    /// What the file shows as `outputs`, then `inputs`; `None` when it shows neither.
    pub shown: Option<Vec<TensorValues>>,
    /// The proof's bytes.
    pub proof: Vec<u8>,
}

fn malformed(message: impl core::fmt::Display) -> Error {
    Error::Malformed(format!("proof file: {message}"))
}

impl ProofFile {
    /// The file for a proof under `vk`: it shows the tensors the key's statement decodes from
    /// `instances`.
    pub fn new(vk: &VerifyingKey, instances: Vec<Vec<Fr>>, proof: Vec<u8>) -> Self {
        let shown = vk.statement().decode(&instances);
        Self { vk_digest: *vk.digest(), instances, shown: (!shown.is_empty()).then_some(shown), proof }
    }

    /// Reads a proof file from its bytes. Anything that does not follow the format is
    /// `Error::Malformed`, naming the field.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let text = core::str::from_utf8(bytes).map_err(|_| malformed("not UTF-8 text (is it a verifying key or a binary proof?)"))?;
        let json = Json::parse(text).map_err(|e| malformed(format!("not JSON: {e}")))?;
        let Json::Object(members) = json else {
            return Err(malformed(format!("expected a JSON object, found {}", json.kind())));
        };
        const KNOWN: [&str; 7] = ["version", "protocol", "vk_digest", "instances", "outputs", "inputs", "proof"];
        if let Some((key, _)) = members.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
            return Err(malformed(format!("unknown field \"{key}\" (the fields are {})", KNOWN.join(", "))));
        }
        let field = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let required = |name: &str| field(name).ok_or_else(|| malformed(format!("the field \"{name}\" is missing")));

        let version = integer(required("version")?, "version")?;
        if version != PROOF_FILE_VERSION as u64 {
            return Err(malformed(format!("version {version}; this verifier reads version {PROOF_FILE_VERSION}")));
        }
        let protocol = string(required("protocol")?, "protocol")?;
        if protocol != PROTOCOL {
            return Err(malformed(format!("protocol {}; this verifier checks {PROTOCOL}", quote(protocol))));
        }
        let vk_digest = hex(required("vk_digest")?, "vk_digest", Some(32))?.try_into().expect("32 bytes");
        let instances = array(required("instances")?, "instances")?
            .iter()
            .enumerate()
            .map(|(c, column)| {
                array(column, &format!("instances[{c}]"))?
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let what = format!("instances[{c}][{i}]");
                        let bytes = hex(v, &what, Some(32))?;
                        Reader::new(&bytes, "public input").fr().map_err(|_| malformed(format!("{what} is not below the scalar field's modulus")))
                    })
                    .collect()
            })
            .collect::<Result<_, Error>>()?;
        let mut shown: Option<Vec<TensorValues>> = None;
        for (name, kind) in [("outputs", TensorKind::Output), ("inputs", TensorKind::Input)] {
            if let Some(list) = field(name) {
                let tensors = array(list, name)?.iter().enumerate().map(|(i, t)| tensor(t, &format!("{name}[{i}]"), kind));
                shown.get_or_insert_with(Vec::new).extend(tensors.collect::<Result<Vec<_>, _>>()?);
            }
        }
        let proof = hex(required("proof")?, "proof", None)?;
        Ok(Self { vk_digest, instances, shown, proof })
    }

    /// The file as pretty-printed JSON, ending in a newline.
    pub fn to_json(&self) -> String {
        let hex0x = |bytes: &[u8]| quote(&format!("0x{}", to_hex(bytes)));
        let mut out = format!("{{\n  \"version\": {PROOF_FILE_VERSION},\n  \"protocol\": {},\n  \"vk_digest\": {},\n  \"instances\": [", quote(PROTOCOL), hex0x(&self.vk_digest));
        let columns: Vec<String> =
            self.instances.iter().map(|c| format!("\n    [{}\n    ]", c.iter().map(|v| format!("\n      {}", hex0x(&fr_to_bytes(v)))).collect::<Vec<_>>().join(","))).collect();
        out += &columns.join(",");
        out += if columns.is_empty() { "],\n" } else { "\n  ],\n" };
        for (name, kind) in [("outputs", TensorKind::Output), ("inputs", TensorKind::Input)] {
            let tensors: Vec<String> = self.shown.iter().flatten().filter(|t| t.tensor.kind == kind).map(tensor_json).collect();
            if !tensors.is_empty() {
                out += &format!("  \"{name}\": [\n    {}\n  ],\n", tensors.join(",\n    "));
            }
        }
        out + &format!("  \"proof\": {}\n}}\n", hex0x(&self.proof))
    }
}

/// Verifies a proof file under `vk` and returns the public tensors its public values encode:
/// what a front end shows as the result. A file made for another key, or one whose `outputs`
/// or `inputs` are not exactly those tensors, is rejected even when the proof itself is valid.
pub fn verify_file(vk: &VerifyingKey, file: &ProofFile) -> Result<Vec<TensorValues>, Error> {
    if file.vk_digest != *vk.digest() {
        return Err(Error::Statement(format!("the proof was made for verifying key 0x{}, this key is 0x{}", to_hex(&file.vk_digest), to_hex(vk.digest()))));
    }
    verify(vk, &file.instances, &file.proof)?;
    let proven = vk.statement().decode(&file.instances);
    if let Some(shown) = &file.shown {
        for kind in [TensorKind::Output, TensorKind::Input] {
            let of_kind = |list: &[TensorValues]| list.iter().filter(|t| t.tensor.kind == kind).cloned().collect::<Vec<_>>();
            let (shown, proven) = (of_kind(shown), of_kind(&proven));
            if shown != proven {
                return Err(Error::Statement(format!("the file's {}s are not the proven values: {}", kind.name(), difference(&shown, &proven))));
            }
        }
    }
    Ok(proven)
}

/// The first place where what a file shows differs from what is proven, for the message.
fn difference(shown: &[TensorValues], proven: &[TensorValues]) -> String {
    if shown.len() != proven.len() {
        return format!("it shows {} tensors, the key's statement has {}", shown.len(), proven.len());
    }
    for (s, p) in shown.iter().zip(proven) {
        let (a, b) = (&s.tensor, &p.tensor);
        if a != b {
            return format!("it shows '{}' {:?} at scale 2^-{}, the key has '{}' {:?} at scale 2^-{}", a.name, a.shape, a.scale_bits, b.name, b.shape, b.scale_bits);
        }
        if s.values.len() != p.values.len() {
            return format!("'{}' shows {} values, the proof has {}", a.name, s.values.len(), p.values.len());
        }
        if let Some(i) = (0..s.values.len()).find(|&i| s.values[i] != p.values[i]) {
            return format!("'{}'[{i}] shows {}, the proven value is {}", a.name, number(s.values[i]), number(p.values[i]));
        }
    }
    "they differ".into()
}

/// `tensors` of `kind` as a JSON array: `[{"name": ..., "shape": [...], "scale_bits": ...,
/// "values": [...]}, ...]`, the form a proof file's `outputs` and `inputs` take. The
/// WebAssembly API's results show tensors this way.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub fn tensors_json(tensors: &[TensorValues], kind: TensorKind) -> String {
    let list: Vec<String> = tensors.iter().filter(|t| t.tensor.kind == kind).map(tensor_json).collect();
    format!("[{}]", list.join(", "))
}

fn tensor_json(t: &TensorValues) -> String {
    let dims: Vec<String> = t.tensor.shape.iter().map(|d| d.to_string()).collect();
    let values: Vec<String> = t.values.iter().map(|v| number(*v)).collect();
    format!("{{\"name\": {}, \"shape\": [{}], \"scale_bits\": {}, \"values\": [{}]}}", quote(&t.tensor.name), dims.join(", "), t.tensor.scale_bits, values.join(", "))
}

/// A dequantized value as JSON: Rust prints the shortest decimal that reads back as the same
/// `f64`, so the file's text is the value exactly. (Values come from integers, never NaN.)
fn number(v: f64) -> String {
    format!("{v:?}")
}

fn tensor(v: &Json, what: &str, kind: TensorKind) -> Result<TensorValues, Error> {
    let Json::Object(members) = v else {
        return Err(malformed(format!("{what} must be an object {{name, shape, scale_bits, values}}, found {}", v.kind())));
    };
    const KNOWN: [&str; 4] = ["name", "shape", "scale_bits", "values"];
    if let Some((key, _)) = members.iter().find(|(k, _)| !KNOWN.contains(&k.as_str())) {
        return Err(malformed(format!("{what}: unknown field \"{key}\"")));
    }
    let get = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, v)| v).ok_or_else(|| malformed(format!("{what}: the field \"{name}\" is missing")));
    let name = string(get("name")?, &format!("{what}.name"))?.to_string();
    let shape = array(get("shape")?, &format!("{what}.shape"))?.iter().map(|d| integer(d, &format!("{what}.shape")).map(|d| d as usize)).collect::<Result<Vec<_>, _>>()?;
    let scale_bits = integer(get("scale_bits")?, &format!("{what}.scale_bits"))?;
    let values = array(get("values")?, &format!("{what}.values"))?
        .iter()
        .map(|x| match x {
            Json::Number(text) => text.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| malformed(format!("{what}.values: {text} is not a finite number"))),
            other => Err(malformed(format!("{what}.values must hold numbers, found {}", other.kind()))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let scale_bits = u32::try_from(scale_bits).map_err(|_| malformed(format!("{what}.scale_bits is too large")))?;
    Ok(TensorValues { tensor: PublicTensor { name, kind, shape, scale_bits }, values })
}

fn integer(v: &Json, what: &str) -> Result<u64, Error> {
    match v {
        Json::Number(text) => text.parse::<u32>().map(u64::from).map_err(|_| malformed(format!("{what} must be a whole number below 2^32, found {text}"))),
        other => Err(malformed(format!("{what} must be a number, found {}", other.kind()))),
    }
}

fn string<'a>(v: &'a Json, what: &str) -> Result<&'a str, Error> {
    match v {
        Json::String(s) => Ok(s),
        other => Err(malformed(format!("{what} must be a string, found {}", other.kind()))),
    }
}

fn array<'a>(v: &'a Json, what: &str) -> Result<&'a [Json], Error> {
    match v {
        Json::Array(items) => Ok(items),
        other => Err(malformed(format!("{what} must be an array, found {}", other.kind()))),
    }
}

/// `0x` and hex digits (lower or upper case), `bytes` bytes long when given.
fn hex(v: &Json, what: &str, bytes: Option<usize>) -> Result<Vec<u8>, Error> {
    let expected = match bytes {
        Some(n) => format!("0x followed by {} hex digits", 2 * n),
        None => "0x followed by an even number of hex digits".into(),
    };
    let Json::String(s) = v else {
        return Err(malformed(format!("{what} must be a string of {expected}, found {}", v.kind())));
    };
    let digits = s.strip_prefix("0x").ok_or_else(|| malformed(format!("{what} must be {expected}; it does not start with 0x")))?;
    if digits.len() % 2 != 0 || bytes.is_some_and(|n| digits.len() != 2 * n) || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed(format!("{what} must be {expected}")));
    }
    Ok((0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).expect("hex digits")).collect())
}

/// Lower-case hex without a prefix.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
