//! The files zkinfer reads and writes: input JSON (EZKL's format), the compiled directory,
//! and the proof JSON a person can read.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use zkinfer_compiler::{Report, Settings};
use zkinfer_verifier::{ProofFile, TensorKind, TensorValues};

/// `{"input_data": [[...flat floats...]]}`, as EZKL reads it.
#[derive(Deserialize)]
struct InputFile {
    input_data: Vec<Vec<f32>>,
}

/// The input for a model with `inputs` inputs: one flat list of floats per input in
/// `input_data`, in the model's order, returned one after another.
pub fn read_input(path: &Path, inputs: usize) -> Result<Vec<f32>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    // JSON has no NaN or Infinity, and a proof of one would prove nothing: name them rather than
    // leave serde's "expected value".
    if let Some(word) = ["NaN", "Infinity"].into_iter().find(|w| text.contains(w)) {
        bail!("{}: the input holds {word}, which JSON cannot carry and a fixed-point circuit cannot prove; give finite numbers", path.display());
    }
    let file: InputFile = serde_json::from_str(&text).with_context(|| format!("{} is not an input file of the form {{\"input_data\": [[...floats...]]}}", path.display()))?;
    if file.input_data.len() != inputs {
        bail!("{}: input_data must hold one flat list of floats per model input ({inputs}), it holds {}", path.display(), file.input_data.len());
    }
    Ok(file.input_data.concat())
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

/// A named tensor as the CLI shows it: dequantized values with their fixed-point scale (none
/// for the float model's outputs).
#[derive(Serialize)]
pub struct Output {
    pub name: String,
    pub shape: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_bits: Option<u32>,
    pub values: Vec<f64>,
}

impl From<&TensorValues> for Output {
    fn from(t: &TensorValues) -> Self {
        Output { name: t.tensor.name.clone(), shape: t.tensor.shape.clone(), scale_bits: Some(t.tensor.scale_bits), values: t.values.clone() }
    }
}

/// The tensors of `kind`, as the CLI shows them.
pub fn outputs(tensors: &[TensorValues], kind: TensorKind) -> Vec<Output> {
    tensors.iter().filter(|t| t.tensor.kind == kind).map(Output::from).collect()
}

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

/// Reads a proof file with the verifier crate's reader, the one every front end uses.
pub fn read_proof_file(path: &Path) -> Result<ProofFile> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    ProofFile::parse(&bytes).with_context(|| format!("{} is not a zkinfer proof file", path.display()))
}
