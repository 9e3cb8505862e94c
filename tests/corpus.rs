//! The corpus of real exports (`fixtures/exports/`, written by `fixtures/make_exports.py`):
//! PyTorch models through the default dynamo exporter (external data) and `dynamo=False`
//! (convolutional networks, MLPs, recurrent layers, a transformer encoder, LayerNorm with GELU
//! and SiLU, a GPT-style decoder on token ids), scikit-learn models through skl2onnx (linear models, an MLP, decision trees, random and
//! extra forests, gradient boosting, support vector machines), XGBoost and LightGBM through
//! onnxmltools, and trees as hummingbird's GEMM tensors, each with a sample input and
//! onnxruntime's outputs.
//! No Python runs here.
//!
//! `EXPECTED` is the front end's progress record: for every model in the corpus it says whether
//! `zkinfer compile` takes it today (`Expect::Compiles`, with the largest difference allowed
//! between the quantized outputs and onnxruntime's) or which error it gives
//! (`Expect::Fails`, a substring of today's message). The test demands that each outcome match
//! its entry exactly, in both directions: a fix that makes a model compile makes this test fail
//! until its entry becomes `Compiles` (with a tolerance measured then), and a regression that
//! breaks a model that compiled fails it too. A model folder with no entry, or an entry with no
//! folder, fails it as well. Every mismatch is listed in one failure message.
//!
//! For each model that compiles: `zkinfer run` on `input.json`, the quantized outputs against
//! onnxruntime's `output.json` within the entry's tolerance, and the float interpretation of the
//! graph within `FLOAT_TOL`; for classifiers, `zkinfer run` on the first `CLASS_SAMPLES` held-out
//! digits of `test_predictions.json`, whose classes must agree with onnxruntime's on all but at
//! most `CLASS_MISSES` (the issue asks for 99 of 100; 20 are run here to keep the test short).
//! Proving every model would take minutes: only the compiled model with the fewest rows, and
//! `PROVED_EXPORTS` (a torch export with external data, a tree ensemble, an SVC), go through `setup --dev-srs`, `prove`
//! and `verify` (on the CPU backend).
//!
//! Run it alone: `cargo test --release --test corpus` (about 20 s on 2 cores, once built).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Compiles; the quantized outputs are within `atol` (absolute) of onnxruntime's.
    Compiles { atol: f64 },
    /// `zkinfer compile` fails with a message containing this.
    // Every export compiles today; the next model that does not is recorded with it.
    #[allow(dead_code)]
    Fails(&'static str),
}
use Expect::{Compiles, Fails};

/// Today's outcome of `zkinfer compile MODEL --calibration input.json` for every model in
/// `fixtures/exports/`. Tolerances are about 1.5x to 4x the largest difference measured when the
/// entry was set (fixed-point scale 2^-8, the default), shown in the comments. The PyTorch
/// classifiers output logits of range about +-15; `sk_logreg` a label and probabilities;
/// `sk_linreg` a value in 0..9.
const EXPECTED: &[(&str, Expect)] = &[
    // measured 0.034
    ("cnn_bn_dynamo", Compiles { atol: 0.05 }),
    ("cnn_bn_torchscript", Compiles { atol: 0.05 }),
    // measured 0.0089 (ConvTranspose)
    ("conv_autoencoder_dynamo", Compiles { atol: 0.02 }),
    // At 2^-16: measured 0.0002 (Conv1d, logits), under 5e-5 (the generator's ConvTranspose
    // and Tanh; the upsampler's bilinear Resize and Sigmoid, values in [0, 1]).
    ("conv1d_dynamo", Compiles { atol: 0.001 }),
    ("conv1d_torchscript", Compiles { atol: 0.001 }),
    ("generator_dynamo", Compiles { atol: 0.0005 }),
    ("generator_torchscript", Compiles { atol: 0.0005 }),
    ("upsampler_dynamo", Compiles { atol: 0.0005 }),
    ("upsampler_torchscript", Compiles { atol: 0.0005 }),
    ("conv_autoencoder_torchscript", Compiles { atol: 0.02 }),
    // measured 0.103 (2^16 rows)
    ("lenet5_dynamo", Compiles { atol: 0.15 }),
    ("lenet5_torchscript", Compiles { atol: 0.15 }),
    // Recurrent layers over the digit's 8 rows (ONNX LSTM and GRU, both exporters), at 2^-16:
    // measured 0.0002 (GRU) and 0.0006 (LSTM), logits of range about +-10.
    ("gru_dynamo", Compiles { atol: 0.001 }),
    ("gru_torchscript", Compiles { atol: 0.001 }),
    ("lstm_dynamo", Compiles { atol: 0.002 }),
    ("lstm_torchscript", Compiles { atol: 0.002 }),
    // Issue 15's transformer-era layers, at 2^-16: a one-layer nn.TransformerEncoder (d_model 32,
    // 4 heads) over the 8 rows, measured 0.00045 (2^16 rows), logits of range about +-5; LayerNorm,
    // GELU and SiLU in an MLP, measured 0.00056, logits of range about +-12.
    ("transformer_dynamo", Compiles { atol: 0.001 }),
    ("transformer_torchscript", Compiles { atol: 0.001 }),
    ("gelu_mlp_dynamo", Compiles { atol: 0.0015 }),
    ("gelu_mlp_torchscript", Compiles { atol: 0.0015 }),
    // The classic PyTorch classifier ending in LogSoftmax (log-probabilities of range about
    // -20 to 0), at 2^-16: measured 0.00012.
    ("logsoftmax_mlp_dynamo", Compiles { atol: 0.0005 }),
    ("logsoftmax_mlp_torchscript", Compiles { atol: 0.0005 }),
    // The nanoGPT-style decoder: the token embedding a Gather at the input's token ids (a
    // lookup), the causal mask a Where of -inf before the softmax; measured 0.00016 (2^18 rows),
    // logits of range about +-10.
    ("gpt_dynamo", Compiles { atol: 0.0005 }),
    ("gpt_torchscript", Compiles { atol: 0.0005 }),
    // measured 0.042
    ("mlp_dynamo", Compiles { atol: 0.075 }),
    ("mlp_torchscript", Compiles { atol: 0.075 }),
    // measured 0.048 (2^18 rows)
    ("mobilenet_block_dynamo", Compiles { atol: 0.075 }),
    ("mobilenet_block_torchscript", Compiles { atol: 0.075 }),
    ("mobilenet_block_torchscript_dynamic", Compiles { atol: 0.075 }),
    // measured 0.095
    ("resnet_block_dynamo", Compiles { atol: 0.15 }),
    ("resnet_block_torchscript", Compiles { atol: 0.15 }),
    // measured 0.0012
    ("sk_linreg", Compiles { atol: 0.01 }),
    // measured: label exact, probabilities 0.0026
    ("sk_logreg", Compiles { atol: 0.01 }),
    // measured: label exact, probabilities 0.0026
    ("sk_logreg_zipmap", Compiles { atol: 0.01 }),
    // measured: label exact, probabilities 0.0020
    ("sk_mlp", Compiles { atol: 0.01 }),
    ("sk_scaler_logreg", Compiles { atol: 0.01 }),
    // OneHotEncoder (handle_unknown='ignore') on four categorical columns of a ColumnTransformer,
    // LogisticRegression: the encoding exact; measured: label exact, probabilities under 5e-5.
    ("sk_onehot_logreg", Compiles { atol: 0.001 }),
    // SimpleImputer (NaN: the identity), Binarizer (0.5), LogisticRegression: measured: label
    // exact, probabilities under 5e-5.
    ("sk_impute_binarize_logreg", Compiles { atol: 0.001 }),
    // Support vector regression (values 0..9) at 2^-16: measured 0.0005 (RBF: 485 kernels, each
    // within a few steps), under 5e-5 (LinearSVR, a LinearRegressor).
    ("sk_svr", Compiles { atol: 0.002 }),
    ("sk_linear_svr", Compiles { atol: 0.0005 }),
    // Support vector classifiers, one against one (scale 2^-16): labels exact; measured under
    // 5e-5 on SVC's scores (votes plus skl2onnx's confidence term, RBF kernel) and LinearSVC's,
    // 0.0019 on the cubic kernel's decisions (values about +-3, the kernel's cube amplifying its
    // rounding).
    ("sk_svc", Compiles { atol: 0.001 }),
    ("sk_svc_poly_binary", Compiles { atol: 0.005 }),
    ("sk_linear_svc", Compiles { atol: 0.001 }),
    // Tree ensembles (scale 2^-16): labels exact, probabilities and values within 5e-5.
    ("sk_tree", Compiles { atol: 0.001 }),
    ("sk_forest", Compiles { atol: 0.001 }),
    ("sk_extra_trees", Compiles { atol: 0.001 }),
    ("sk_gboost", Compiles { atol: 0.001 }),
    ("sk_gboost_binary", Compiles { atol: 0.001 }),
    ("sk_tree_reg", Compiles { atol: 0.001 }),
    ("sk_forest_reg", Compiles { atol: 0.001 }),
    ("sk_gboost_reg", Compiles { atol: 0.001 }),
    ("xgb_classifier", Compiles { atol: 0.001 }),
    // hummingbird's GEMM form of a tree and a forest (MatMul with constant left operands,
    // LessOrEqual, Equal): label exact, probabilities under 5e-5.
    ("hb_tree_gemm", Compiles { atol: 0.001 }),
    ("hb_forest_gemm", Compiles { atol: 0.001 }),
    ("lgbm_classifier", Compiles { atol: 0.001 }),
];

/// Proved as well as the smallest model: a torch export with external data, a tree ensemble
/// (XGBoost's, through onnxmltools) and a support vector classifier (its votes compare).
const PROVED_EXPORTS: [&str; 3] = ["mlp_dynamo", "xgb_classifier", "sk_svc_poly_binary"];

/// The graph's float interpretation (`zkinfer run`'s `float_outputs`) against onnxruntime: an
/// import error, not rounding, shows up here.
const FLOAT_TOL: f64 = 1e-3;
/// Held-out samples of test_predictions.json run per classifier.
const CLASS_SAMPLES: usize = 20;
/// Class disagreements with onnxruntime allowed among them.
const CLASS_MISSES: usize = 1;

fn exports() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("exports")
}

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// `zkinfer --json ARGS`: the parsed object on success, the error message on failure (the
/// `error` field, or all the output where stdout is not the JSON object, as after a panic).
fn zkinfer_json(args: &[&str]) -> Result<Value, String> {
    let o = zkinfer(&[&["--json"], args].concat());
    let v: Option<Value> = serde_json::from_slice(&o.stdout).ok();
    match (o.status.success(), v) {
        (true, Some(v)) => Ok(v),
        (false, Some(v)) if v["error"].is_string() => Err(v["error"].as_str().unwrap().to_string()),
        _ => Err(format!("exit {:?}: {}", o.status.code(), text(&o))),
    }
}

fn read_json(path: &Path) -> Value {
    let s = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}")).iter().map(|x| x.as_f64().unwrap()).collect()
}

fn largest_difference(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// The class an output names: the value itself for a label output (one value, as skl2onnx's
/// `label`), otherwise the index of the largest value (logits, probabilities).
fn class_of(values: &[f64]) -> i64 {
    if values.len() == 1 {
        return values[0].round() as i64;
    }
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best as i64
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkinfer-corpus-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Each output's name and values, flat.
type Named = Vec<(String, Vec<f64>)>;

/// `zkinfer run` of a compiled model: (quantized outputs, float outputs), each output flat.
fn run(dir: &str, input: &str) -> Result<(Named, Vec<Vec<f64>>), String> {
    let v = zkinfer_json(&["run", dir, "--input", input])?;
    let outs = v["outputs"].as_array().ok_or_else(|| format!("no outputs in {v}"))?;
    let quantized = outs.iter().map(|o| (o["name"].as_str().unwrap_or("").to_string(), floats(&o["values"]))).collect();
    let float = v["float_outputs"].as_array().map(|f| f.iter().map(|o| floats(&o["values"])).collect()).unwrap_or_default();
    Ok((quantized, float))
}

/// Checks one compiled model against onnxruntime; returns the problems found.
fn check_compiled(name: &str, folder: &Path, dir: &str, atol: f64, problems: &mut Vec<String>) {
    let input = folder.join("input.json").display().to_string();
    let expected = read_json(&folder.join("output.json"));
    let want: Vec<Vec<f64>> = expected["output_data"].as_array().unwrap().iter().map(floats).collect();
    let names: Vec<&str> = expected["output_names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    let (quantized, float) = match run(dir, &input) {
        Ok(r) => r,
        Err(e) => return problems.push(format!("{name}: compiles, but `zkinfer run` fails: {e}")),
    };
    if quantized.len() != want.len() {
        let got: Vec<&str> = quantized.iter().map(|(n, _)| n.as_str()).collect();
        problems.push(format!("{name}: outputs {got:?}, onnxruntime has {names:?}"));
    }
    for (i, ((got_name, got), want)) in quantized.iter().zip(&want).enumerate() {
        if got.len() != want.len() {
            problems.push(format!("{name}: output {i} ({got_name}) has {} values, onnxruntime's {} ({}) has {}", got.len(), names[i], names[i], want.len()));
            continue;
        }
        let err = largest_difference(got, want);
        eprintln!("  {name}: output {got_name}: quantized vs onnxruntime, largest difference {err:.4} (allowed {atol})");
        if err > atol {
            problems.push(format!("{name}: output {got_name} differs from onnxruntime by {err:.4} > {atol}"));
        }
        if let Some(f) = float.get(i) {
            let ferr = largest_difference(f, want);
            if ferr > FLOAT_TOL {
                problems.push(format!("{name}: float output {got_name} differs from onnxruntime by {ferr:.2e} > {FLOAT_TOL}: the graph is read wrongly"));
            }
        }
    }

    let predictions = folder.join("test_predictions.json");
    if !predictions.exists() {
        return;
    }
    let p = read_json(&predictions);
    let inputs = p["inputs"].as_array().unwrap();
    let classes = p["predictions"].as_array().unwrap();
    let scratch = temp(&format!("{name}-samples"));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut misses = Vec::new();
    for (k, (x, c)) in inputs.iter().zip(classes).take(CLASS_SAMPLES).enumerate() {
        let file = scratch.join(format!("{k}.json"));
        std::fs::write(&file, serde_json::json!({ "input_data": [x] }).to_string()).unwrap();
        match run(dir, &file.display().to_string()) {
            Ok((q, _)) => {
                let ours = class_of(&q[0].1);
                if ours != c.as_i64().unwrap() {
                    misses.push(format!("sample {k}: {ours} where onnxruntime says {c}"));
                }
            }
            Err(e) => misses.push(format!("sample {k}: `zkinfer run` fails: {e}")),
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!("  {name}: class agrees with onnxruntime on {} of {CLASS_SAMPLES} held-out digits", CLASS_SAMPLES - misses.len());
    if misses.len() > CLASS_MISSES {
        problems.push(format!("{name}: class differs from onnxruntime's on {} of {CLASS_SAMPLES} held-out digits: {misses:?}", misses.len()));
    }
}

/// setup --dev-srs, prove, verify (CPU backend) of an already compiled directory; the outputs
/// that `verify` decodes from the proof must be onnxruntime's within `atol`.
fn prove_and_verify(name: &str, folder: &Path, dir: &str, atol: f64) -> Result<(), String> {
    let input = folder.join("input.json").display().to_string();
    zkinfer_json(&["setup", dir, "--dev-srs", "--backend", "cpu"]).map_err(|e| format!("{name}: setup: {e}"))?;
    let proof = format!("{dir}/proof.json");
    zkinfer_json(&["prove", dir, "--input", &input, "-o", &proof, "--backend", "cpu"]).map_err(|e| format!("{name}: prove: {e}"))?;
    let v = zkinfer_json(&["verify", &format!("{dir}/vk.bin"), &proof]).map_err(|e| format!("{name}: verify: {e}"))?;
    if v["verified"] != Value::Bool(true) {
        return Err(format!("{name}: verify says {v}"));
    }
    let expected = read_json(&folder.join("output.json"));
    let want: Vec<Vec<f64>> = expected["output_data"].as_array().unwrap().iter().map(floats).collect();
    let proven: Vec<Vec<f64>> = v["outputs"].as_array().map(|o| o.iter().map(|t| floats(&t["values"])).collect()).unwrap_or_default();
    if proven.len() != want.len() || proven.iter().zip(&want).any(|(p, w)| p.len() != w.len() || largest_difference(p, w) > atol) {
        return Err(format!("{name}: the proven outputs {proven:?} are not onnxruntime's {want:?} within {atol}"));
    }
    Ok(())
}

#[test]
fn every_export_has_todays_outcome() {
    let start = Instant::now();
    let mut folders: Vec<String> = std::fs::read_dir(exports())
        .expect("fixtures/exports/ (run fixtures/make_exports.py)")
        .map(|e| e.unwrap())
        .filter(|e| e.path().join("model.onnx").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut problems = Vec::new();
    for name in &folders {
        if !EXPECTED.iter().any(|(n, _)| n == name) {
            problems.push(format!("{name}: in fixtures/exports/ but not in EXPECTED"));
        }
    }
    for (name, _) in EXPECTED {
        if !folders.contains(&name.to_string()) {
            problems.push(format!("{name}: in EXPECTED but fixtures/exports/{name}/model.onnx is missing"));
        }
    }

    // (rows, name, compiled directory, tolerance) of the models that compile.
    let mut compiled: Vec<(u64, &str, String, f64)> = Vec::new();
    for (name, expect) in EXPECTED {
        let folder = exports().join(name);
        if !folder.join("model.onnx").exists() {
            continue;
        }
        let dir = temp(name).display().to_string();
        let t = Instant::now();
        let outcome = zkinfer_json(&["compile", &folder.join("model.onnx").display().to_string(), "-o", &dir, "--calibration", &folder.join("input.json").display().to_string()]);
        let secs = t.elapsed().as_secs_f64();
        match (&outcome, expect) {
            (Ok(v), Compiles { atol }) => {
                let rows = v["report"]["rows_used"].as_u64().unwrap_or(u64::MAX);
                eprintln!("{name}: compiles, 2^{} rows ({rows} used), {secs:.1} s", v["report"]["k"]);
                check_compiled(name, &folder, &dir, *atol, &mut problems);
                compiled.push((rows, name, dir, *atol));
                continue;
            }
            (Ok(v), Fails(want)) => {
                problems.push(format!("{name}: now compiles (2^{} rows); EXPECTED says it fails with {want:?}: make it Compiles with a measured tolerance", v["report"]["k"]));
            }
            (Err(e), Fails(want)) if e.contains(want) => eprintln!("{name}: fails as expected ({secs:.1} s): {}", first_line(e)),
            (Err(e), Fails(want)) => problems.push(format!("{name}: fails with {:?}, EXPECTED says {want:?}", first_line(e))),
            (Err(e), Compiles { .. }) => problems.push(format!("{name}: EXPECTED says it compiles, but: {}", first_line(e))),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    compiled.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    // The smallest, a PyTorch export with external data and a tree ensemble, so that every
    // exporter's graphs reach the prover.
    let proved = compiled.iter().take(1).chain(compiled.iter().filter(|c| PROVED_EXPORTS.contains(&c.1)));
    for (rows, name, dir, atol) in proved {
        let t = Instant::now();
        match prove_and_verify(name, &exports().join(name), dir, *atol) {
            Ok(()) => eprintln!("{name} ({rows} rows): setup, prove and verify in {:.1} s", t.elapsed().as_secs_f64()),
            Err(e) => problems.push(e),
        }
    }
    for (_, _, dir, _) in &compiled {
        let _ = std::fs::remove_dir_all(dir);
    }

    eprintln!("corpus: {} models, {} compile, {:.1} s", EXPECTED.len(), compiled.len(), start.elapsed().as_secs_f64());
    assert!(problems.is_empty(), "the corpus no longer matches EXPECTED (the front end's progress record):\n  {}", problems.join("\n  "));
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    // The list of supported ops after an unsupported one is long and changes as ops are added.
    line.split("; supported ops").next().unwrap_or(line)
}
