//! What each command did: written as text for people, or as one JSON object (`--json`).

use crate::files::Output;
use serde::{Serialize, Serializer};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use zkinfer_compiler::{ParamVisibility, Report, Settings};
use zkinfer_verifier::VerifyingKey;

#[derive(Serialize)]
#[serde(untagged)]
pub enum Done {
    Srs(SrsWritten),
    /// Boxed: the report is large beside the other outcomes.
    Compiled(Box<Compiled>),
    Setup(KeysWritten),
    Proved(Proved),
    Verified(Verified),
    EvmVerifier(ContractWritten),
    EvmCalldata(Calldata),
    Ran(Ran),
    Benched(Bench),
}

#[derive(Serialize)]
pub struct Bench {
    pub k: u32,
    pub rows_used: usize,
    /// Timed proofs per backend, after one warm-up proof.
    pub runs: usize,
    pub rows: Vec<BenchRow>,
    /// The whole process's, every backend's keys and proofs included; absent where the system
    /// does not tell it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak_rss_mib: Option<f64>,
}

#[derive(Serialize)]
pub struct BenchRow {
    pub backend: String,
    /// The proving key rebuilt from the SRS and the verifying key.
    #[serde(serialize_with = "seconds")]
    pub keys: Duration,
    #[serde(serialize_with = "seconds")]
    pub median: Duration,
    #[serde(serialize_with = "seconds")]
    pub fastest: Duration,
    /// The device's counters over the timed proofs, for a backend that keeps them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

#[derive(Serialize)]
pub struct SrsWritten {
    pub path: PathBuf,
    pub k: u32,
    pub insecure: bool,
    /// The ceremony file it was imported from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<PathBuf>,
}

#[derive(Serialize)]
pub struct Compiled {
    pub model: PathBuf,
    pub settings_file: PathBuf,
    pub settings: Settings,
    pub report: Report,
    /// The inputs compiled into the model as constants (`--input-visibility fixed`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixed_inputs: Vec<String>,
    /// The verifying key of an earlier setup, removed: it was made for another compilation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired_key: Option<PathBuf>,
}

#[derive(Serialize)]
pub struct KeysWritten {
    pub vk: PathBuf,
    pub srs: PathBuf,
    pub k: u32,
    pub backend: String,
    pub insecure_srs: bool,
    #[serde(rename = "keygen_seconds", serialize_with = "seconds")]
    pub keygen_time: Duration,
}

#[derive(Serialize)]
pub struct Proved {
    pub proof_file: PathBuf,
    pub proof_bytes: usize,
    pub outputs: Vec<Output>,
    pub backend: String,
    pub insecure_srs: bool,
    pub seconds: ProveSeconds,
}

#[derive(Serialize)]
pub struct ProveSeconds {
    /// The quantized model on integers, with its range checks.
    #[serde(serialize_with = "seconds")]
    pub evaluate: Duration,
    /// The proving key rebuilt from the SRS and the verifying key.
    #[serde(serialize_with = "seconds")]
    pub keys: Duration,
    /// Witness, commitments and openings.
    #[serde(serialize_with = "seconds")]
    pub prove: Duration,
}

#[derive(Serialize)]
pub struct Verified {
    pub verified: bool,
    /// Always present, so that a reader finds the same keys whether the proof passed or not.
    pub error: Option<String>,
    /// Decoded from the proven public values with the key's statement.
    pub outputs: Vec<Output>,
    /// The public input, for a model compiled with `--input-visibility public`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Output>,
    pub srs: SrsIdentity,
    #[serde(rename = "verify_seconds", serialize_with = "seconds")]
    pub verify_time: Duration,
}

/// Which SRS a key was made from, by the digest of its `[tau]_2`.
#[derive(Serialize)]
pub struct SrsIdentity {
    /// Keccak-256 of `[tau]_2`: what `verify --srs-id` requires.
    pub id: String,
    /// "key from ceremony X", or "unknown or development SRS".
    pub description: String,
    /// Whether it is a public ceremony zkinfer knows.
    pub known: bool,
}

impl SrsIdentity {
    pub fn of(vk: &VerifyingKey) -> Self {
        let id = vk.srs_id();
        SrsIdentity { id: crate::files::hex0x(&id), description: zkinfer_verifier::srs::describe(&id), known: zkinfer_verifier::srs::ceremony(&id).is_some() }
    }
}

#[derive(Serialize)]
pub struct ContractWritten {
    pub path: PathBuf,
    pub contract: String,
    pub public_values: usize,
    pub srs: SrsIdentity,
}

#[derive(Serialize)]
pub struct Calldata {
    /// Where it was written; printed instead when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    pub calldata: String,
}

#[derive(Serialize)]
pub struct Ran {
    pub outputs: Vec<Output>,
    /// The model in floats, as onnxruntime runs it: what quantization costs, before proving.
    pub float_outputs: Vec<Output>,
}

impl Ran {
    /// The largest difference between a quantized output and its float counterpart.
    fn largest_error(&self) -> f64 {
        let pairs = self.outputs.iter().zip(&self.float_outputs).flat_map(|(q, f)| q.values.iter().zip(&f.values));
        pairs.map(|(q, f)| (q - f).abs()).fold(0.0, f64::max)
    }
}

fn seconds<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn outputs(f: &mut fmt::Formatter, outputs: &[Output]) -> fmt::Result {
    for o in outputs {
        writeln!(f, "{} {:?}: {:?}", o.name, o.shape, o.values)?;
    }
    Ok(())
}

impl fmt::Display for Done {
    /// Lines for people, each ending in a newline.
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Done::Srs(s) => match &s.from {
                Some(ptau) => writeln!(f, "wrote {} (2^{} rows, from {})", s.path.display(), s.k, ptau.display()),
                None => writeln!(f, "wrote {} (2^{} rows, insecure)", s.path.display(), s.k),
            },
            Done::Compiled(c) => {
                let (r, s) = (&c.report, &c.settings);
                writeln!(
                    f,
                    "compiled {}: 2^{} rows ({} used), {} advice / {} fixed columns, width {}, scale 2^-{} (limbs of {} bits), values within ±{}",
                    c.model.display(),
                    r.k,
                    r.rows_used,
                    r.advice_columns,
                    r.fixed_columns,
                    s.width,
                    s.scale_bits,
                    s.limb_bits,
                    r.range_bound as f64 / (1u64 << s.scale_bits) as f64
                )?;
                if r.estimated_prove_memory_bytes > 0 {
                    writeln!(f, "a proof takes about {} MiB at its peak (estimated)", r.estimated_prove_memory_bytes >> 20)?;
                }
                if s.param_visibility == ParamVisibility::Private {
                    writeln!(f, "parameters private: the verifying key holds only the model's shape")?;
                }
                if !c.fixed_inputs.is_empty() {
                    writeln!(f, "fixed inputs {:?}: constants of the model, committed to by the verifying key; proofs take the other inputs", c.fixed_inputs)?;
                }
                match &r.accuracy {
                    None => writeln!(f, "no --calibration: using the default range, error not measured; calibrate to size the range to your data and see the error")?,
                    Some(a) => {
                        let errors: Vec<String> = a.max_error.iter().zip(&a.mean_error).map(|(m, e)| format!("max {m:.2e}, mean {e:.2e}")).collect();
                        write!(f, "error against the float model on {} calibration samples: {}", r.calibration_samples, errors.join("; "))?;
                        match a.argmax_agreement {
                            Some((agree, of)) => writeln!(f, "; argmax agrees on {agree} of {of}")?,
                            None => writeln!(f)?,
                        }
                    }
                }
                let ranges: Vec<String> = s.input_ranges.iter().map(|[lo, hi]| format!("[{lo}, {hi}]")).collect();
                match (&r.bounded_largest, &r.unbounded) {
                    (Some(b), _) => writeln!(
                        f,
                        "every input within {} (the calibration samples' range) proves: no value can pass ±{} (interval bounds); others are refused before proving",
                        ranges.join(", "),
                        *b as f64 / (1u64 << s.scale_bits) as f64
                    )?,
                    (None, Some(why)) if !ranges.is_empty() => {
                        writeln!(f, "inputs within {} may still fail to prove: {why}; the range is twice the largest value the samples reached", ranges.join(", "))?
                    }
                    _ => (),
                }
                writeln!(f, "wrote {}", c.settings_file.display())?;
                match &c.retired_key {
                    Some(vk) => writeln!(f, "removed {}, made for the earlier compilation: run `zkinfer setup` again", vk.display()),
                    None => Ok(()),
                }
            }
            Done::Setup(k) => writeln!(f, "keys for 2^{} rows in {:.2?} on {}; wrote {} and {}", k.k, k.keygen_time, k.backend, k.vk.display(), k.srs.display()),
            Done::Proved(p) => {
                outputs(f, &p.outputs)?;
                let s = &p.seconds;
                writeln!(
                    f,
                    "proved in {:.2?} (quantized run {:.2?}, keys loaded in {:.2?}) on {}; wrote {} ({} proof bytes)",
                    s.prove,
                    s.evaluate,
                    s.keys,
                    p.backend,
                    p.proof_file.display(),
                    p.proof_bytes
                )
            }
            Done::Verified(v) => {
                outputs(f, &v.outputs)?;
                for i in &v.inputs {
                    writeln!(f, "public input {} {:?}: {:?}", i.name, i.shape, i.values)?;
                }
                writeln!(f, "SRS: {} (srs id {})", v.srs.description, v.srs.id)?;
                writeln!(f, "verified ({:.2?})", v.verify_time)
            }
            Done::EvmVerifier(c) => {
                writeln!(f, "wrote {} (contract {}, {} public values; SRS: {}, srs id {})", c.path.display(), c.contract, c.public_values, c.srs.description, c.srs.id)
            }
            Done::EvmCalldata(c) => match &c.path {
                Some(path) => writeln!(f, "wrote {}", path.display()),
                None => writeln!(f, "{}", c.calldata),
            },
            Done::Ran(r) => {
                outputs(f, &r.outputs)?;
                for o in &r.float_outputs {
                    writeln!(f, "{} {:?} in floats: {:?}", o.name, o.shape, o.values)?;
                }
                writeln!(f, "largest quantization error: {:.6}", r.largest_error())
            }
            Done::Benched(b) => {
                writeln!(f, "2^{} rows ({} used), {} timed proofs per backend after a warm-up, each verified", b.k, b.rows_used, b.runs)?;
                let first = b.rows[0].median.as_secs_f64();
                for row in &b.rows {
                    writeln!(
                        f,
                        "{}: prove median {:.3?}, fastest {:.3?} ({:.2}x the first), keys rebuilt in {:.3?}",
                        row.backend,
                        row.median,
                        row.fastest,
                        first / row.median.as_secs_f64(),
                        row.keys
                    )?;
                    if let Some(device) = &row.device {
                        writeln!(f, "  over the {} timed proofs: {}", b.runs, device.replace('\n', "\n  "))?;
                    }
                }
                match b.peak_rss_mib {
                    Some(mib) => writeln!(f, "peak resident memory {mib:.0} MiB"),
                    None => Ok(()),
                }
            }
        }
    }
}
