//! The files zkinfer reads and writes: input JSON (EZKL's format), the compiled directory,
//! and the proof JSON a person can read.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use zkinfer_compiler::{Report, Settings};
use zkinfer_circuits::gadgets::to_i64;
use zkinfer_verifier::encoding::{fr_to_bytes, Reader};
use zkinfer_verifier::Fr;

/// `{"input_data": [[...flat floats...]]}`, as EZKL reads it.
#[derive(Deserialize)]
struct InputFile {
    input_data: Vec<Vec<f32>>,
}

pub fn read_input(path: &Path) -> Result<Vec<f32>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: InputFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an input file of the form {{\"input_data\": [[...floats...]]}}", path.display()))?;
    match file.input_data.as_slice() {
        [one] => Ok(one.clone()),
        other => bail!("{}: input_data must hold exactly one flat list of floats (the model has one input), it holds {}", path.display(), other.len()),
    }
}

/// `settings.json` in a compiled directory: the settings that rebuild the circuit and a
/// report of what compilation chose and measured.
#[derive(Serialize, Deserialize)]
pub struct SettingsFile {
    pub settings: Settings,
    pub report: Report,
}

pub fn read_settings(dir: &Path) -> Result<SettingsFile> {
    let path = dir.join("settings.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {} (run `zkinfer compile` first)", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

pub const PROTOCOL: &str = "zkinfer-plonk-kzg-bn254-keccak/3";

#[derive(Serialize, Deserialize)]
pub struct ProofFile {
    pub version: u32,
    pub protocol: String,
    pub vk_digest: String,
    /// Public inputs per instance column, 32-byte big-endian hex.
    pub instances: Vec<Vec<String>>,
    /// The model's outputs dequantized, for people; the instances are what is proven. The
    /// outputs are the first public values of column 0, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Output>,
    pub proof: String,
}

#[derive(Serialize, Deserialize)]
pub struct Output {
    pub name: String,
    pub shape: Vec<usize>,
    /// Fixed point: `values[i] * 2^scale_bits` is the signed integer the public value encodes.
    /// Absent in files written before it was recorded; then the values cannot be checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_bits: Option<u32>,
    pub values: Vec<f64>,
}

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub fn unhex(s: &str, what: &str) -> Result<Vec<u8>> {
    hex::decode(s.strip_prefix("0x").unwrap_or(s)).with_context(|| format!("{what} is not hex"))
}

impl ProofFile {
    pub fn new(vk_digest: &[u8; 32], instances: &[Vec<Fr>], outputs: Vec<Output>, proof: &[u8]) -> Self {
        ProofFile {
            version: 1,
            protocol: PROTOCOL.into(),
            vk_digest: hex0x(vk_digest),
            instances: instances.iter().map(|c| c.iter().map(|v| hex0x(&fr_to_bytes(v))).collect()).collect(),
            outputs,
            proof: hex0x(proof),
        }
    }

    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let file: ProofFile = serde_json::from_str(&text).with_context(|| format!("{} is not a zkinfer proof file", path.display()))?;
        if file.version != 1 || file.protocol != PROTOCOL {
            bail!("{}: proof file version {} / protocol {:?}; this zkinfer reads version 1 / {PROTOCOL}", path.display(), file.version, file.protocol);
        }
        Ok(file)
    }

    pub fn instances(&self) -> Result<Vec<Vec<Fr>>> {
        self.instances
            .iter()
            .map(|c| {
                c.iter()
                    .map(|h| {
                        let bytes = unhex(h, "a public input")?;
                        let mut r = Reader::new(&bytes, "public input");
                        let v = r.fr()?;
                        r.finish()?;
                        Ok(v)
                    })
                    .collect()
            })
            .collect()
    }

    /// Checks that every dequantized output is the public value it stands for. Returns false
    /// when the outputs carry no scale, so there is nothing to check them against.
    pub fn check_outputs(&self, instances: &[Vec<Fr>]) -> Result<bool> {
        let scaled = self.outputs.iter().filter(|o| o.scale_bits.is_some()).count();
        if scaled == 0 {
            return Ok(false);
        }
        if scaled != self.outputs.len() {
            bail!("some outputs carry scale_bits and some do not");
        }
        let public = instances.first().map(Vec::as_slice).unwrap_or_default();
        let mut at = 0;
        for o in &self.outputs {
            let scale_bits = o.scale_bits.expect("checked above");
            if o.values.len() != o.shape.iter().product::<usize>() {
                bail!("output '{}' has {} values for shape {:?}", o.name, o.values.len(), o.shape);
            }
            if scale_bits > 62 {
                bail!("output '{}' has scale_bits {scale_bits}; fixed-point scales stop at 62", o.name);
            }
            let scale = (1u64 << scale_bits) as f64;
            for (i, &value) in o.values.iter().enumerate() {
                let Some(&proven) = public.get(at) else {
                    bail!("the outputs hold more values than the {} public values of the proof", public.len());
                };
                let q = to_i64(proven).with_context(|| format!("public value {at} is not a fixed-point number"))?;
                // `value * scale` is exact; the tolerance only absorbs a decimal parser that is
                // off by an ulp or two.
                if (value * scale - q as f64).abs() > 4.0 * f64::EPSILON * (q.unsigned_abs() as f64).max(1.0) {
                    bail!("output '{}'[{i}] says {value}, but the proven public value is {} ({q} at scale 2^-{scale_bits})", o.name, q as f64 / scale);
                }
                at += 1;
            }
        }
        Ok(true)
    }
}
