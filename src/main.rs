//! The zkinfer command line: compile an ONNX model into a circuit, set up keys, prove an
//! inference, verify a proof.

#![forbid(unsafe_code)]

mod done;
mod files;
mod term;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use done::SrsIdentity;
use done::{Bench, BenchRow, Calldata, Compiled, ContractWritten, Done, KeysWritten, ProveSeconds, Proved, Ran, SrsWritten, Verified};
use files::{read_input, read_settings, Output, SettingsFile};
use rand::rngs::OsRng;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use term::Term;
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{CompileOptions, Model, Optimize, ParamVisibility, Precision, Report, Target, Visibility};
use zkinfer_prover::select::{select, BackendChoice, Selection};
use zkinfer_prover::{keygen, prove, proving_key_for, Backend, ProveOptions, Srs, SrsError};
use zkinfer_verifier::description::MAX_K;
use zkinfer_verifier::{ProofFile, TensorKind, VerifyingKey};

#[derive(Parser)]
#[command(name = "zkinfer", version, about = "Prove that an ONNX model computed an output, without revealing its input")]
struct Cli {
    /// Print one JSON object on stdout (errors included) instead of text, and no spinners.
    #[arg(long, global = true)]
    json: bool,
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
        /// The ONNX model, as PyTorch, scikit-learn or Keras export it; external data
        /// (`model.onnx.data`) is read from beside it and inlined into the compiled directory.
        model: PathBuf,
        /// The directory to write: model.onnx and settings.json (setup adds the keys).
        #[arg(short, long)]
        out: PathBuf,
        /// Sample inputs ({"input_data": [[...], [...]]}) that set the value range; without
        /// it the range is the widest the circuit allows. For a model with several inputs,
        /// each sample is that many consecutive lists, one per input in the model's order.
        #[arg(long)]
        calibration: Option<PathBuf>,
        /// Whether the inputs stay hidden (private), become public values of the proof, or are
        /// fixed: constants of the model, given by --fixed-data and committed to by the
        /// verifying key. One for all inputs, or one per input in the graph's order
        /// (`private,public`).
        #[arg(long, value_enum, value_delimiter = ',', default_value = "private")]
        input_visibility: Vec<VisibilityArg>,
        /// The size of a symbolic input dimension, by its name in the model (`--dim seq=16`;
        /// repeat for several). An unnamed or unbound first dimension (the batch) is 1.
        #[arg(long = "dim", value_name = "NAME=SIZE", value_parser = parse_dim)]
        dims: Vec<(String, usize)>,
        /// The values of the fixed inputs ({"input_data": [[...], ...]}, one list per fixed
        /// input in the graph's order). Proofs then take only the other inputs.
        #[arg(long)]
        fixed_data: Option<PathBuf>,
        /// Weights and biases fixed in the verifying key, or private witnesses known only to
        /// the prover (the key then reveals only the model's shape).
        #[arg(long, value_enum, default_value = "fixed")]
        param_visibility: ParamVisibilityArg,
        /// Fixed-point scale: values are multiples of 2^-scale (2 to 20). Without it the scale
        /// follows --target, or --max-error.
        #[arg(long, conflicts_with_all = ["target", "max_error"])]
        scale: Option<u32>,
        /// What the scale is chosen for: `balanced` (2^-16), `accuracy` (2^-20, about the
        /// same rows; 4 times them for a model with Sigmoid, Tanh, Erf, Gelu or Softmax, whose tables
        /// take more samples) or `resources` (2^-8: the fewest rows).
        #[arg(long, default_value = "balanced", conflicts_with = "max_error")]
        target: TargetArg,
        /// The coarsest scale whose largest error on the calibration samples (against the
        /// float model) is at most this.
        #[arg(long, requires = "calibration")]
        max_error: Option<f64>,
        /// Inputs per dot-product row (at least 5); chosen for --optimize when absent.
        #[arg(long)]
        width: Option<usize>,
        /// What the width is chosen for: `proving` (the least proving time) or `evm` (the
        /// least gas of the Solidity verifier, with at most four times the rows).
        #[arg(long, default_value = "proving", conflicts_with = "width")]
        optimize: Optimize,
        /// Polynomials per commitment, a power of two up to 64: more makes the Solidity
        /// verifier cheaper and the prover slower (docs/evm.md). Default: 1 with `--optimize
        /// proving`, 16 with `--optimize evm`.
        #[arg(long)]
        pack: Option<usize>,
        /// The most memory a proof may take, in GiB: a circuit whose estimated peak is larger is
        /// refused here rather than killed mid-proof. Default: this machine's memory.
        #[arg(long, value_name = "GIB")]
        max_memory: Option<f64>,
    },
    /// Make the proving and verifying keys of a compiled model.
    Setup {
        /// The compiled directory (from `zkinfer compile`); vk.bin and srs.bin are written there.
        dir: PathBuf,
        /// A powers-of-tau file: a snarkjs .ptau (prepared or not), or one from `zkinfer srs
        /// import` or `zkinfer srs gen`.
        #[arg(long, conflicts_with = "dev_srs")]
        srs: Option<PathBuf>,
        /// Generate an INSECURE development SRS on the spot.
        #[arg(long)]
        dev_srs: bool,
        /// Where MSMs, NTTs and the quotient run: the GPU when `auto` finds a hardware one.
        #[arg(long, default_value = "auto", value_parser = backend_values())]
        backend: BackendChoice,
    },
    /// Run the quantized model and prove its output.
    Prove {
        /// The compiled directory, with the keys from `zkinfer setup`.
        dir: PathBuf,
        /// The input ({"input_data": [[...flat floats...]]}).
        #[arg(long)]
        input: PathBuf,
        /// Where to write the proof file (proof.json).
        #[arg(short, long)]
        out: PathBuf,
        /// Where MSMs, NTTs and the quotient run: the GPU when `auto` finds a hardware one.
        #[arg(long, default_value = "auto", value_parser = backend_values())]
        backend: BackendChoice,
    },
    /// Verify a proof: exit code 0 only when it is valid. The outputs shown are decoded from the
    /// proven public values with the key's statement, never read from the file.
    Verify {
        /// The verifying key: vk.bin, or the compiled directory that holds it; or give --vk.
        vk_path: Option<PathBuf>,
        /// The proof file (proof.json).
        proof: Option<PathBuf>,
        /// The verifying key, as an option.
        #[arg(long = "vk")]
        vk_flag: Option<PathBuf>,
        /// Require the key to come from this SRS (0x + 64 hex digits, as `verify` prints it):
        /// a key from any other powers of tau is rejected.
        #[arg(long)]
        srs_id: Option<String>,
    },
    /// Write a Solidity verifier contract for a verifying key.
    EvmVerifier {
        /// The verifying key: vk.bin, or the compiled directory that holds it.
        vk: PathBuf,
        /// Where to write the contract (a .sol file).
        #[arg(short, long)]
        out: PathBuf,
        /// The contract's name: give each model its own when one project deploys several.
        #[arg(long, default_value = zkinfer_verifier::evm::CONTRACT_NAME)]
        contract_name: String,
    },
    /// Write the calldata of `verifyProof(bytes, uint256[])` for a proof file, as hex.
    EvmCalldata {
        /// The proof file (proof.json).
        proof: PathBuf,
        /// Where to write the hex; printed when absent.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// The quantized model's output beside the float model's, without proving.
    Run {
        /// The compiled directory.
        dir: PathBuf,
        /// The input ({"input_data": [[...flat floats...]]}).
        #[arg(long)]
        input: PathBuf,
    },
    /// Time proofs of a compiled model on one backend or several (`--backend cpu --backend
    /// gpu`): the key rebuild, a warm-up proof, then `--runs` proofs, each verified; with the
    /// GPU's split (calls, transfers, device time) and the peak memory.
    Bench {
        /// The compiled directory, with the keys from `zkinfer setup`.
        dir: PathBuf,
        /// The input ({"input_data": [[...flat floats...]]}).
        #[arg(long)]
        input: PathBuf,
        /// A backend to time; repeat it to compare several.
        #[arg(long, default_value = "auto", value_parser = backend_values())]
        backend: Vec<BackendChoice>,
        /// Timed proofs per backend, after one warm-up proof.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

#[derive(Subcommand)]
enum SrsCommand {
    /// Generate an INSECURE development SRS (its secret existed on this machine).
    Gen {
        /// For circuits of up to 2^k rows (1 to 26; `zkinfer compile` reports the k it needs).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_K as i64))]
        k: u32,
        /// Where to write the SRS file.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Import a snarkjs powers-of-tau ceremony file (.ptau), keeping what 2^k rows need.
    Import {
        /// The ceremony file, e.g. powersOfTau28_hez_final_17.ptau.
        ptau: PathBuf,
        /// For circuits of up to 2^k rows (1 to 26; `zkinfer compile` reports the k it needs).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_K as i64))]
        k: u32,
        /// Where to write the SRS file.
        #[arg(short, long)]
        out: PathBuf,
    },
}

/// The backend for `choice`, with selection's notice on stderr.
fn backend_for(choice: BackendChoice) -> Result<Box<dyn Backend>> {
    let Selection { backend, notice } = select(choice)?;
    if let Some(notice) = notice {
        eprintln!("notice: {notice}");
    }
    Ok(backend)
}

/// `--backend`, with its values listed in the help and in errors.
fn backend_values() -> impl clap::builder::TypedValueParser<Value = BackendChoice> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["cpu", "gpu", "auto"]).map(|s| s.parse().expect("a listed backend parses"))
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum VisibilityArg {
    Private,
    Public,
    Fixed,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum TargetArg {
    Accuracy,
    Balanced,
    Resources,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ParamVisibilityArg {
    Fixed,
    Private,
}

const UNKNOWN_SRS: &str = "WARNING: the key's SRS is from no public ceremony zkinfer knows (a development SRS, or one of unknown origin): whoever made it may know its secret and forge proofs. Pass --srs-id with the SRS you trust to require it.";

const INSECURE: &str = "WARNING: development SRS: its secret was known to one machine; anyone holding it can forge proofs. Use `zkinfer srs import` with a real ceremony file for anything that matters.";

fn main() {
    quiet_vulkan_probe();
    let cli = Cli::parse();
    let term = Term::new(cli.json);
    let verifying = matches!(cli.command, Command::Verify { .. });
    let printed = match run(cli.command, &term) {
        Ok(done) if term.json => term.print(&format!("{}\n", serde_json::to_string(&done).expect("results serialize"))),
        Ok(done) => term.print(&done.to_string()),
        Err(e) => {
            let message = format!("{e:#}");
            if term.json {
                let mut object = serde_json::json!({ "error": message });
                if verifying {
                    object["verified"] = false.into();
                }
                let _ = term.print(&format!("{object}\n"));
            } else {
                term.warn(&format!("error: {message}"));
            }
            std::process::exit(1);
        }
    };
    if let Err(e) = printed {
        term.warn(&format!("error: writing the result: {e}"));
        std::process::exit(1);
    }
}

fn run(command: Command, term: &Term) -> Result<Done> {
    Ok(match command {
        Command::Srs { command: SrsCommand::Gen { k, out } } => {
            term.warn(INSECURE);
            let srs = term.step(&format!("generating an insecure SRS for 2^{k} rows"), || Srs::generate_insecure(1 << k, &mut OsRng));
            write(&out, &srs.to_bytes())?;
            Done::Srs(SrsWritten { path: out, k, insecure: true, from: None })
        }
        Command::Srs { command: SrsCommand::Import { ptau, k, out } } => {
            let bytes = std::fs::read(&ptau).with_context(|| format!("reading {}", ptau.display()))?;
            let srs = term.step(&format!("importing {} for 2^{k} rows", ptau.display()), || Srs::from_ptau(&bytes, 1 << k, 1 << k))?;
            write(&out, &srs.to_bytes())?;
            Done::Srs(SrsWritten { path: out, k, insecure: false, from: Some(ptau) })
        }
        Command::Compile { model, out, calibration, input_visibility, dims, fixed_data, param_visibility, scale, target, max_error, width, optimize, pack, max_memory } => {
            let param_visibility = match param_visibility {
                ParamVisibilityArg::Fixed => ParamVisibility::Fixed,
                ParamVisibilityArg::Private => ParamVisibility::Private,
            };
            // Filled in by `compile` once the fixed inputs are bound.
            let precision = match (scale, max_error, target) {
                (Some(scale), ..) => Precision::Scale(scale),
                (None, Some(error), _) => Precision::MaxError(error),
                (None, None, TargetArg::Accuracy) => Precision::Target(Target::Accuracy),
                (None, None, TargetArg::Balanced) => Precision::Target(Target::Balanced),
                (None, None, TargetArg::Resources) => Precision::Target(Target::Resources),
            };
            let max_memory = match max_memory {
                Some(gib) if !(gib.is_finite() && gib > 0.0) => bail!("--max-memory {gib}: give a positive number of GiB"),
                Some(gib) => Some((gib * (1u64 << 30) as f64) as u64),
                None => machine_memory(),
            };
            let options = CompileOptions { precision, input_visibility: Vec::new(), param_visibility, width, optimize, pack, max_memory };
            Done::Compiled(Box::new(compile(term, model, out, calibration.as_deref(), &input_visibility, &dims, fixed_data.as_deref(), options)?))
        }
        Command::Setup { dir, srs, dev_srs, backend } => Done::Setup(setup(term, &dir, srs.as_deref(), dev_srs, backend)?),
        Command::Prove { dir, input, out, backend } => Done::Proved(prove_command(term, &dir, &input, out, backend)?),
        Command::Verify { vk_path, proof, vk_flag, srs_id } => {
            let (vk, proof) = match (vk_flag, vk_path, proof) {
                (Some(vk), Some(proof), None) => (vk, proof),
                (None, Some(vk), Some(proof)) => (vk, proof),
                _ => bail!("usage: zkinfer verify VK PROOF.json, or zkinfer verify --vk VK PROOF.json"),
            };
            let srs_id = srs_id.as_deref().map(parse_srs_id).transpose()?;
            Done::Verified(verify_command(term, &vk, &proof, srs_id)?)
        }
        Command::EvmVerifier { vk, out, contract_name } => {
            let key = read_vk(&vk)?;
            let source = zkinfer_verifier::evm::solidity_verifier(&key, &contract_name)?;
            write(&out, source.as_bytes())?;
            let srs = SrsIdentity::of(&key);
            if !srs.known {
                term.warn(UNKNOWN_SRS);
            }
            Done::EvmVerifier(ContractWritten { path: out, contract: contract_name, public_values: key.statement().counts.iter().sum(), srs })
        }
        Command::EvmCalldata { proof, out } => {
            let file = files::read_proof_file(&proof)?;
            let calldata = files::hex0x(&zkinfer_verifier::evm::calldata(&file.proof, &file.instances));
            if let Some(path) = &out {
                write(path, calldata.as_bytes())?;
            }
            Done::EvmCalldata(Calldata { path: out, calldata })
        }
        Command::Bench { dir, input, backend, runs } => Done::Benched(bench_command(term, &dir, &input, &backend, runs)?),
        Command::Run { dir, input } => {
            let (model, _) = load_model(&dir)?;
            let input = read_input(&input, model.inputs.len())?;
            let x = model.quantize_input(&input)?;
            let (outputs, _) = term.step("running the quantized model", || model.evaluate(&x))?;
            let float = model.evaluate_float(&input)?;
            let float_outputs = model
                .outputs
                .iter()
                .zip(float)
                .map(|((name, _), t)| Output { name: name.clone(), shape: t.shape, scale_bits: None, values: t.data.iter().map(|v| widen(*v)).collect() })
                .collect();
            Done::Ran(Ran { outputs: outputs_of(&model, &outputs), float_outputs })
        }
    })
}

/// Mesa's Vulkan driver prints "XDG_RUNTIME_DIR is invalid or not set" on every adapter probe
/// where the variable is unset or names no directory (ssh, docker, CI), though nothing is wrong.
/// Give it a private directory of our own before any thread starts.
fn quiet_vulkan_probe() {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    if std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).is_dir()) {
        return;
    }
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("zkinfer-runtime-{uid}"));
    let _ = std::fs::DirBuilder::new().mode(0o700).create(&dir);
    // Only a directory that is ours and private: another user's would not be.
    if std::fs::metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid && m.mode() & 0o077 == 0) {
        std::env::set_var("XDG_RUNTIME_DIR", &dir);
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// `NAME=SIZE` of `--dim`.
fn parse_dim(s: &str) -> Result<(String, usize), String> {
    let (name, size) = s.split_once('=').ok_or_else(|| format!("'{s}': give NAME=SIZE, for example seq=16"))?;
    let size = size.parse().map_err(|_| format!("'{s}': the size '{size}' is not a positive integer"))?;
    Ok((name.to_string(), size))
}

/// The lists of an input file's `input_data`.
fn read_input_data(path: &Path) -> Result<Vec<Vec<f32>>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    serde_json::from_value(v["input_data"].clone()).with_context(|| format!("{}: expected {{\"input_data\": [[...], ...]}}", path.display()))
}

#[allow(clippy::too_many_arguments)]
fn compile(
    term: &Term,
    model: PathBuf,
    out: PathBuf,
    calibration: Option<&Path>,
    visibility: &[VisibilityArg],
    dims: &[(String, usize)],
    fixed_data: Option<&Path>,
    mut options: CompileOptions,
) -> Result<Compiled> {
    let mut bytes = read_model(&model)?;
    if !dims.is_empty() {
        bytes = zkinfer_compiler::onnx::bind_dims(&bytes, dims)?;
    }
    let inputs = zkinfer_compiler::onnx::parse(&bytes)?.inputs;
    let visibility = match visibility {
        [one] => vec![*one; inputs.len()],
        per_input if per_input.len() == inputs.len() => per_input.to_vec(),
        other => bail!("{} input visibilities for a model of {} inputs: give one for all of them, or one per input in the graph's order", other.len(), inputs.len()),
    };
    let fixed: Vec<usize> = (0..inputs.len()).filter(|&i| matches!(visibility[i], VisibilityArg::Fixed)).collect();
    let mut fixed_inputs = Vec::new();
    match (fixed.is_empty(), fixed_data) {
        (true, None) => {}
        (true, Some(_)) => bail!("--fixed-data is given, but no input is fixed: mark them with --input-visibility (for example private,fixed)"),
        (false, None) => bail!("inputs marked fixed take their values from --fixed-data FILE ({{\"input_data\": [[...], ...]}}, one list per fixed input)"),
        (false, Some(_)) if fixed.len() == inputs.len() => bail!("every input is fixed: a model needs at least one input that a proof takes"),
        (false, Some(_)) if options.param_visibility == ParamVisibility::Private => {
            bail!("fixed inputs are constants of the model, which --param-visibility private makes witnesses: make the input private instead")
        }
        (false, Some(path)) => {
            let lists = read_input_data(path)?;
            if lists.len() != fixed.len() {
                bail!("{}: {} lists for {} fixed inputs; give one list per fixed input in the graph's order", path.display(), lists.len(), fixed.len());
            }
            fixed_inputs = fixed.iter().map(|&i| inputs[i].0.clone()).collect();
            bytes = zkinfer_compiler::onnx::fix_inputs(&bytes, &fixed.iter().copied().zip(lists).collect::<Vec<_>>())?;
        }
    }
    options.input_visibility = visibility
        .iter()
        .filter_map(|v| match v {
            VisibilityArg::Private => Some(Visibility::Private),
            VisibilityArg::Public => Some(Visibility::Public),
            VisibilityArg::Fixed => None,
        })
        .collect();
    let samples: Vec<Vec<f32>> = match calibration {
        Some(p) => read_input_data(p)?,
        None => Vec::new(),
    };
    let (settings, report) = term.step(&format!("compiling {}", model.display()), || zkinfer_compiler::compile(&bytes, &options, &samples))?;
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let settings_file = out.join("settings.json");
    let file = SettingsFile { settings, report };
    let text = serde_json::to_string_pretty(&file)?;
    // Keys from a setup of another compilation would only fail at the next proof: retire them.
    let vk = out.join("vk.bin");
    let unchanged = std::fs::read(out.join("model.onnx")).is_ok_and(|old| old == bytes) && std::fs::read_to_string(&settings_file).is_ok_and(|old| old == text);
    let retired_key =
        (vk.exists() && !unchanged).then(|| std::fs::remove_file(&vk).map(|()| vk.clone())).transpose().with_context(|| format!("removing the stale {}", vk.display()))?;
    write(&out.join("model.onnx"), &bytes)?;
    write(&settings_file, text.as_bytes())?;
    Ok(Compiled { model, settings_file, settings: file.settings, report: file.report, fixed_inputs, retired_key })
}

/// The model at `path` as one self-contained ONNX file: tensors kept in external data files
/// (`torch.onnx.export`'s `m.onnx.data`) are read, from the model's folder only, once here, so
/// the compiled directory's model.onnx is all that setup, prove and run read.
fn read_model(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    zkinfer_compiler::onnx::inline_external_data(&bytes, folder).with_context(|| path.display().to_string())
}

fn load_model(dir: &Path) -> Result<(Model, Report)> {
    let SettingsFile { settings, report } = read_settings(dir)?;
    let path = dir.join("model.onnx");
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok((Model::from_onnx(&bytes, settings)?, report))
}

fn setup(term: &Term, dir: &Path, srs_path: Option<&Path>, dev_srs: bool, backend: BackendChoice) -> Result<KeysWritten> {
    let (model, report) = load_model(dir)?;
    let k = report.k;
    let pack = model.settings.pack;
    // Packed commitments have degree up to t n (docs/protocol.md §3.7); reports from before
    // packing do not say, and needed 2^k + 1.
    let powers = if report.srs_powers > 0 { report.srs_powers } else { (1 << k) + 1 };
    let srs = match (srs_path, dev_srs) {
        (Some(p), false) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            // The SRS cut to the circuit, with the Lagrange basis of its rows that proving uses:
            // read from a prepared ptau file, or else a G1 FFT (seconds at 2^13), once here
            // instead of at every proof.
            term.step(&format!("reading the SRS {} and its Lagrange basis for 2^{k} rows", p.display()), || -> Result<Srs, SrsError> {
                let srs = if bytes.starts_with(b"ptau") { Srs::from_ptau(&bytes, powers - 1, 1 << k)? } else { Srs::from_bytes(&bytes)? };
                srs.for_circuit(k, powers)
            })?
        }
        (None, true) => term.step(&format!("generating an insecure SRS for 2^{k} rows"), || Srs::generate_insecure_for(k, powers, &mut OsRng)),
        _ => bail!("give --srs FILE (a snarkjs .ptau, or from `zkinfer srs import`) or --dev-srs"),
    };
    if srs.is_insecure() {
        term.warn(INSECURE);
    }
    let backend = backend_for(backend)?;
    let start = Instant::now();
    let pk = term
        .step(&format!("generating keys for 2^{k} rows on {}", backend.name()), || keygen(&srs, &ModelCircuit { model: &model, input: None }, Some(k), pack, backend.as_ref()))
        .map_err(|e| settings_mismatch(dir, e))?;
    let keygen_time = start.elapsed();
    let (vk, srs_file) = (dir.join("vk.bin"), dir.join("srs.bin"));
    write(&vk, &pk.vk.to_bytes())?;
    write(&srs_file, &srs.to_bytes())?;
    Ok(KeysWritten { vk, srs: srs_file, k, backend: backend.name().to_string(), insecure_srs: srs.is_insecure(), keygen_time })
}

/// The quantized model's outputs as the CLI shows them.
fn outputs_of(model: &Model, outputs: &[zkinfer_compiler::tensor::Tensor<i64>]) -> Vec<Output> {
    model
        .outputs
        .iter()
        .zip(outputs)
        .map(|((name, _), t)| Output {
            name: name.clone(),
            shape: t.shape.clone(),
            scale_bits: Some(model.settings.scale_bits),
            values: t.data.iter().map(|v| model.dequantize(*v)).collect(),
        })
        .collect()
}

/// The `f64` that prints as `v` does: a bare cast would print an `f32`'s binary expansion
/// (0.1f32 as 0.10000000149011612).
fn widen(v: f32) -> f64 {
    v.to_string().parse().expect("an f32 prints as a decimal")
}

/// What a proof of a compiled model on an input starts from: the model run on the input (its
/// range checks are the circuit's, so a value outside the compiled range is named here, before
/// any proving work), the time that took, and the keys' files.
struct ProofInputs {
    model: Model,
    report: Report,
    x: Vec<i64>,
    outputs: Vec<zkinfer_compiler::tensor::Tensor<i64>>,
    evaluate: Duration,
    vk: VerifyingKey,
    srs: Srs,
}

fn proof_inputs(term: &Term, dir: &Path, input: &Path) -> Result<ProofInputs> {
    let (model, report) = load_model(dir)?;
    let x = model.quantize_input(&read_input(input, model.inputs.len())?)?;
    let start = Instant::now();
    let (outputs, _) = term.step("running the quantized model", || model.evaluate(&x)).context("the input cannot be proven with this compiled model")?;
    let evaluate = start.elapsed();
    let vk = read_vk(dir)?;
    let srs = Srs::from_bytes(&std::fs::read(dir.join("srs.bin")).context("reading srs.bin (run `zkinfer setup` first)")?)?;
    if srs.is_insecure() {
        term.warn(INSECURE);
    }
    Ok(ProofInputs { model, report, x, outputs, evaluate, vk, srs })
}

fn prove_command(term: &Term, dir: &Path, input: &Path, out: PathBuf, backend: BackendChoice) -> Result<Proved> {
    let ProofInputs { model, x, outputs, evaluate, vk, srs, .. } = proof_inputs(term, dir, input)?;
    let insecure_srs = srs.is_insecure();
    let backend = backend_for(backend)?;
    let circuit = ModelCircuit { model: &model, input: Some(&x) };
    let start = Instant::now();
    let pk = term
        .step("rebuilding the proving key", || proving_key_for(&srs, &ModelCircuit { model: &model, input: None }, vk, backend.as_ref()))
        .map_err(|e| settings_mismatch(dir, e))?;
    // The proving key holds the powers it uses; the SRS's copy would only add to the peak.
    drop(srs);
    let keys = start.elapsed();
    let instances = ModelCircuit::instances(&model, &x, &outputs);
    let start = Instant::now();
    let proof = term.step(&format!("proving on {} (witness, commitments, openings)", backend.name()), || {
        prove(&pk, &circuit, &instances, backend.as_ref(), &mut OsRng, ProveOptions::default())
    })?;
    let proving = start.elapsed();
    let proof_bytes = proof.len();
    let file = ProofFile::new(&pk.vk, instances, proof);
    write(&out, file.to_json().as_bytes())?;
    Ok(Proved {
        proof_file: out,
        proof_bytes,
        outputs: files::outputs(file.shown.as_deref().unwrap_or_default(), TensorKind::Output),
        backend: backend.name().to_string(),
        insecure_srs,
        seconds: ProveSeconds { evaluate, keys, prove: proving },
    })
}

/// What to do when the compiled directory's files disagree: a circuit that does not fit the rows
/// its settings name (settings.json edited by hand), or keys made for another compilation.
fn settings_mismatch(dir: &Path, e: zkinfer_prover::Error) -> anyhow::Error {
    let d = dir.display();
    match e {
        zkinfer_prover::Error::Synthesis(e @ zkinfer_circuits::Error::NotEnoughRows { .. }) => {
            anyhow::anyhow!("{e}: {d}/settings.json does not match {d}/model.onnx (edited by hand?); run `zkinfer compile` again")
        }
        e @ zkinfer_prover::Error::NotTheKeysCircuit(_) => anyhow::anyhow!("{e}: {d}/vk.bin comes from a setup of another compilation; run `zkinfer setup {d}` again"),
        e => e.into(),
    }
}

/// `--srs-id`: 0x and 64 hex digits.
fn parse_srs_id(text: &str) -> Result<[u8; 32]> {
    let bytes = text.strip_prefix("0x").and_then(|h| hex::decode(h).ok()).filter(|b| b.len() == 32);
    bytes.map(|b| b.try_into().expect("32 bytes")).with_context(|| format!("--srs-id {text:?} is not 0x followed by 64 hex digits (as `zkinfer verify` prints it)"))
}

/// A verifying key from vk.bin or from the compiled directory that holds it.
fn read_vk(path: &Path) -> Result<VerifyingKey> {
    let file = if path.is_dir() { path.join("vk.bin") } else { path.to_path_buf() };
    let bytes = std::fs::read(&file).with_context(|| format!("reading {} (run `zkinfer setup` first)", file.display()))?;
    VerifyingKey::from_bytes(&bytes).with_context(|| format!("reading {}", file.display()))
}

fn verify_command(term: &Term, vk_path: &Path, proof_path: &Path, srs_id: Option<[u8; 32]>) -> Result<Verified> {
    let vk = read_vk(vk_path)?;
    let file = files::read_proof_file(proof_path)?;
    if let Some(id) = &srs_id {
        zkinfer_verifier::srs::require(&vk, id).context("rejected")?;
    }
    let start = Instant::now();
    let tensors = zkinfer_verifier::verify_file(&vk, &file).context("rejected")?;
    let verify_time = start.elapsed();
    let srs = SrsIdentity::of(&vk);
    // An SRS the user named with --srs-id is the one they trust.
    if !srs.known && srs_id.is_none() {
        term.warn(UNKNOWN_SRS);
    }
    Ok(Verified { verified: true, error: None, outputs: files::outputs(&tensors, TensorKind::Output), inputs: files::outputs(&tensors, TensorKind::Input), srs, verify_time })
}

fn bench_command(term: &Term, dir: &Path, input: &Path, choices: &[BackendChoice], runs: usize) -> Result<Bench> {
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let ProofInputs { model, report, x, outputs, vk, srs, .. } = proof_inputs(term, dir, input)?;
    let instances = ModelCircuit::instances(&model, &x, &outputs);
    let circuit = ModelCircuit { model: &model, input: Some(&x) };
    let mut rows = Vec::new();
    for &choice in choices {
        let backend = backend_for(choice)?;
        let name = backend.name();
        let start = Instant::now();
        let pk =
            term.step(&format!("rebuilding the proving key on {name}"), || proving_key_for(&srs, &ModelCircuit { model: &model, input: None }, vk.clone(), backend.as_ref()))?;
        let keys = start.elapsed();
        let mut times = Vec::with_capacity(runs);
        for run in 0..=runs {
            if run == 1 {
                // The warm-up proof builds the device's pipelines and caches; count from here.
                backend.take_stats();
            }
            let start = Instant::now();
            let proof = term.step(&format!("proof {run} of {runs} on {name}"), || prove(&pk, &circuit, &instances, backend.as_ref(), &mut OsRng, ProveOptions::default()))?;
            if run > 0 {
                times.push(start.elapsed());
            }
            zkinfer_verifier::verify(&pk.vk, &instances, &proof).with_context(|| format!("a proof made on {name} was rejected"))?;
        }
        times.sort();
        rows.push(BenchRow { backend: name, keys, median: times[runs / 2], fastest: times[0], device: backend.take_stats().map(|s| s.to_string()) });
    }
    Ok(Bench { k: vk.description().k, rows_used: report.rows_used, runs, rows, peak_rss_mib: peak_rss_mib() })
}

/// The process's peak resident memory, where the system tells it (Linux's `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib / 1024.0)
}

/// This machine's memory (`MemTotal` of /proc/meminfo), in bytes; `None` where it cannot be read.
fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = info.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib * 1024)
}
