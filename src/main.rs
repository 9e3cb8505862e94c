//! The zkinfer command line: compile an ONNX model into a circuit, set up keys, prove an
//! inference, verify a proof.

mod files;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use files::{read_input, read_settings, Output, ProofFile, SettingsFile};
use rand::rngs::OsRng;
use std::path::{Path, PathBuf};
use std::time::Instant;
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{CompileOptions, Model, Report, Visibility};
use zkinfer_prover::gpu::{select, BackendChoice};
use zkinfer_prover::{keygen, proving_key_for, prove, ProveOptions, Srs};
use zkinfer_verifier::VerifyingKey;

#[derive(Parser)]
#[command(name = "zkinfer", version, about = "Prove that an ONNX model computed an output, without revealing its input")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Structured reference strings (powers of tau) for KZG.
    Srs {
        #[command(subcommand)]
        command: SrsCommand,
    },
    /// Quantize an ONNX model and lay it out as a circuit.
    Compile {
        model: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
        /// Sample inputs ({"input_data": [[...], [...]]}) that set the value range; without
        /// it the range is the widest the circuit allows.
        #[arg(long)]
        calibration: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "private")]
        input_visibility: VisibilityArg,
        /// Fixed-point scale: values are multiples of 2^-scale.
        #[arg(long, default_value_t = 8)]
        scale: u32,
        /// Inputs per dot-product row; chosen by cost when absent.
        #[arg(long)]
        width: Option<usize>,
    },
    /// Make the proving and verifying keys of a compiled model.
    Setup {
        dir: PathBuf,
        /// A powers-of-tau file from `zkinfer srs import` or `zkinfer srs gen`.
        #[arg(long, conflicts_with = "dev_srs")]
        srs: Option<PathBuf>,
        /// Generate an INSECURE development SRS on the spot.
        #[arg(long)]
        dev_srs: bool,
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
    },
    /// Run the quantized model and prove its output.
    Prove {
        dir: PathBuf,
        #[arg(long)]
        input: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
        #[arg(long, default_value = "auto")]
        backend: BackendChoice,
    },
    /// Verify a proof: exit code 0 only when it is valid.
    Verify {
        /// The verifying key (DIR/vk.bin); or give --vk.
        vk_path: Option<PathBuf>,
        proof: Option<PathBuf>,
        #[arg(long = "vk")]
        vk_flag: Option<PathBuf>,
    },
    /// Write a Solidity verifier contract for a verifying key.
    EvmVerifier {
        vk: PathBuf,
        #[arg(short, long)]
        out: PathBuf,
        /// Public values per proof; read from settings.json beside the key when absent.
        #[arg(long)]
        public_values: Option<usize>,
    },
    /// Write the calldata of `verifyProof(bytes, uint256[])` for a proof file, as hex.
    EvmCalldata {
        proof: PathBuf,
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// The quantized model's output, without proving.
    Run {
        dir: PathBuf,
        #[arg(long)]
        input: PathBuf,
    },
}

#[derive(Subcommand)]
enum SrsCommand {
    /// Generate an INSECURE development SRS (its secret existed on this machine).
    Gen {
        #[arg(long)]
        k: u32,
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Import a snarkjs powers-of-tau ceremony file (.ptau), keeping what 2^k rows need.
    Import {
        ptau: PathBuf,
        #[arg(long)]
        k: u32,
        #[arg(short, long)]
        out: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum VisibilityArg {
    Private,
    Public,
}

const INSECURE: &str = "WARNING: development SRS: its secret was known to one machine; anyone holding it can forge proofs. Use `zkinfer srs import` with a real ceremony file for anything that matters.";

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Srs { command: SrsCommand::Gen { k, out } } => {
            eprintln!("{INSECURE}");
            let srs = Srs::generate_insecure(1 << k, &mut OsRng);
            write(&out, &srs.to_bytes())?;
            println!("wrote {} (2^{k} rows, insecure)", out.display());
        }
        Command::Srs { command: SrsCommand::Import { ptau, k, out } } => {
            let bytes = std::fs::read(&ptau).with_context(|| format!("reading {}", ptau.display()))?;
            let srs = Srs::from_ptau(&bytes, 1 << k)?;
            write(&out, &srs.to_bytes())?;
            println!("wrote {} (2^{k} rows, from {})", out.display(), ptau.display());
        }
        Command::Compile { model, out, calibration, input_visibility, scale, width } => {
            let visibility = match input_visibility {
                VisibilityArg::Private => Visibility::Private,
                VisibilityArg::Public => Visibility::Public,
            };
            compile(&model, &out, calibration.as_deref(), visibility, scale, width)?
        }
        Command::Setup { dir, srs, dev_srs, backend } => setup(&dir, srs.as_deref(), dev_srs, backend)?,
        Command::Prove { dir, input, out, backend } => prove_command(&dir, &input, &out, backend)?,
        Command::Verify { vk_path, proof, vk_flag } => {
            let (vk, proof) = match (vk_flag, vk_path, proof) {
                (Some(vk), Some(proof), None) => (vk, proof),
                (None, Some(vk), Some(proof)) => (vk, proof),
                _ => bail!("usage: zkinfer verify VK PROOF.json, or zkinfer verify --vk VK PROOF.json"),
            };
            verify_command(&vk, &proof)?
        }
        Command::EvmVerifier { vk, out, public_values } => {
            let key = VerifyingKey::from_bytes(&std::fs::read(&vk).with_context(|| format!("reading {}", vk.display()))?)?;
            let count = match public_values {
                Some(n) => n,
                None => read_settings(vk.parent().unwrap_or(Path::new(".")))
                    .context("give --public-values, or keep settings.json beside the key")?
                    .report
                    .public_values,
            };
            let source = zkinfer_verifier::evm::solidity_verifier(&key, &[count])?;
            write(&out, source.as_bytes())?;
            if key.insecure_srs {
                eprintln!("{INSECURE}");
            }
            println!("wrote {} (contract {}, {count} public values)", out.display(), zkinfer_verifier::evm::CONTRACT_NAME);
        }
        Command::EvmCalldata { proof, out } => {
            let file = ProofFile::read(&proof)?;
            let calldata = zkinfer_verifier::evm::calldata(&files::unhex(&file.proof, "proof")?, &file.instances()?);
            match out {
                Some(path) => write(&path, files::hex0x(&calldata).as_bytes())?,
                None => println!("{}", files::hex0x(&calldata)),
            }
        }
        Command::Run { dir, input } => {
            let (model, _) = load_model(&dir)?;
            let x = model.quantize_input(&read_input(&input)?)?;
            let (outputs, _) = model.evaluate(&x)?;
            for o in outputs_of(&model, &outputs) {
                println!("{} {:?}: {:?}", o.name, o.shape, o.values);
            }
        }
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn compile(path: &Path, out: &Path, calibration: Option<&Path>, input_visibility: Visibility, scale_bits: u32, width: Option<usize>) -> Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let samples: Vec<Vec<f32>> = match calibration {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))?;
            serde_json::from_value(v["input_data"].clone()).with_context(|| format!("{}: expected {{\"input_data\": [[...], ...]}}", p.display()))?
        }
        None => Vec::new(),
    };
    let (settings, report) = zkinfer_compiler::compile(&bytes, &CompileOptions { scale_bits, input_visibility, width }, &samples)?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    write(&out.join("model.onnx"), &bytes)?;
    println!(
        "compiled {}: 2^{} rows ({} used), {} advice / {} fixed columns, width {}, range ±{} at scale 2^{}",
        path.display(),
        report.k,
        report.rows_used,
        report.advice_columns,
        report.fixed_columns,
        settings.width,
        report.range_bound,
        scale_bits
    );
    if samples.is_empty() {
        println!("no --calibration: using the default range; calibrate to size it to your data");
    }
    write(&out.join("settings.json"), serde_json::to_string_pretty(&SettingsFile { settings, report })?.as_bytes())?;
    println!("wrote {}/settings.json", out.display());
    Ok(())
}

fn load_model(dir: &Path) -> Result<(Model, Report)> {
    let SettingsFile { settings, report } = read_settings(dir)?;
    let path = dir.join("model.onnx");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((Model::from_onnx(&bytes, settings)?, report))
}

fn setup(dir: &Path, srs_path: Option<&Path>, dev_srs: bool, backend: BackendChoice) -> Result<()> {
    let (model, report) = load_model(dir)?;
    let srs = match (srs_path, dev_srs) {
        (Some(p), false) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            Srs::from_bytes(&bytes)?.for_rows(report.k)?
        }
        (None, true) => Srs::generate_insecure(1 << report.k, &mut OsRng),
        _ => bail!("give --srs FILE (from `zkinfer srs import`) or --dev-srs"),
    };
    if srs.is_insecure() {
        eprintln!("{INSECURE}");
    }
    let backend = select(backend)?;
    let start = Instant::now();
    let pk = keygen(&srs, &ModelCircuit { model: &model, input: None }, Some(report.k), backend.as_ref())?;
    write(&dir.join("vk.bin"), &pk.vk.to_bytes())?;
    write(&dir.join("srs.bin"), &srs.to_bytes())?;
    println!("keys for 2^{} rows in {:.2?} on {}; wrote {}/vk.bin and {}/srs.bin", report.k, start.elapsed(), backend.name(), dir.display(), dir.display());
    Ok(())
}

fn outputs_of(model: &Model, outputs: &[zkinfer_compiler::tensor::Tensor<i64>]) -> Vec<Output> {
    model
        .outputs
        .iter()
        .zip(outputs)
        .map(|((name, _), t)| Output { name: name.clone(), shape: t.shape.clone(), values: t.data.iter().map(|v| model.dequantize(*v)).collect() })
        .collect()
}

fn prove_command(dir: &Path, input: &Path, out: &Path, backend: BackendChoice) -> Result<()> {
    let (model, _) = load_model(dir)?;
    let x = model.quantize_input(&read_input(input)?)?;
    // The quantized run makes every range check the circuit makes, so a value outside the
    // compiled range is named here, before any proving work.
    let (outputs, _) = model.evaluate(&x).context("the input cannot be proven with this compiled model")?;
    let vk = VerifyingKey::from_bytes(&std::fs::read(dir.join("vk.bin")).context("reading vk.bin (run `zkinfer setup` first)")?)?;
    let srs = Srs::from_bytes(&std::fs::read(dir.join("srs.bin")).context("reading srs.bin (run `zkinfer setup` first)")?)?;
    if srs.is_insecure() {
        eprintln!("{INSECURE}");
    }
    let backend = select(backend)?;
    let circuit = ModelCircuit { model: &model, input: Some(&x) };
    let start = Instant::now();
    let pk = proving_key_for(&srs, &ModelCircuit { model: &model, input: None }, vk, backend.as_ref())?;
    let keys = start.elapsed();
    let instances = ModelCircuit::instances(&model, &x, &outputs);
    let proof = prove(&pk, &circuit, &instances, backend.as_ref(), &mut OsRng, ProveOptions::default())?;
    let file = ProofFile::new(pk.vk.digest(), &instances, outputs_of(&model, &outputs), &proof);
    write(out, serde_json::to_string_pretty(&file)?.as_bytes())?;
    for o in &file.outputs {
        println!("{} {:?}: {:?}", o.name, o.shape, o.values);
    }
    println!("proved in {:.2?} (keys loaded in {keys:.2?}) on {}; wrote {} ({} proof bytes)", start.elapsed(), backend.name(), out.display(), proof.len());
    Ok(())
}

fn verify_command(vk_path: &Path, proof_path: &Path) -> Result<()> {
    let vk = VerifyingKey::from_bytes(&std::fs::read(vk_path).with_context(|| format!("reading {}", vk_path.display()))?)?;
    let file = ProofFile::read(proof_path)?;
    if files::unhex(&file.vk_digest, "vk_digest")? != vk.digest() {
        bail!("rejected: the proof was made for a different verifying key (digest {}, this key's is {})", file.vk_digest, files::hex0x(vk.digest()));
    }
    let proof = files::unhex(&file.proof, "proof")?;
    let start = Instant::now();
    zkinfer_verifier::verify(&vk, &file.instances()?, &proof).context("rejected")?;
    let took = start.elapsed();
    for o in &file.outputs {
        println!("{} {:?}: {:?}", o.name, o.shape, o.values);
    }
    if vk.insecure_srs {
        eprintln!("{INSECURE}");
    }
    println!("verified ({took:.2?})");
    Ok(())
}
