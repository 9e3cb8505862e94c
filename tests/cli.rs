//! The command line as a user meets it: the main job end to end, clear errors, `--json`,
//! pipes and terminals.

use ark_bn254::Fr;
use ark_ff::PrimeField;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).output().unwrap()
}

/// Runs with `--json` and parses stdout, which must be exactly one JSON object.
fn zkinfer_json(args: &[&str]) -> (Output, Value) {
    let o = zkinfer(&[&["--json"], args].concat());
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON value ({e}): {}", text(&o)));
    assert!(v.is_object(), "{args:?}: {v}");
    (o, v)
}

fn fixture(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path).display().to_string()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkinfer-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn compile_setup_prove_verify_and_reject_a_tampered_proof() {
    let d = tiny_proof("e2e");
    let vk = format!("{d}/vk.bin");
    let o = zkinfer(&["verify", &vk, &format!("{d}/proof.json")]);
    assert!(o.status.success() && text(&o).contains("verified"), "{}", text(&o));
    assert!(text(&o).contains("development SRS"), "the insecure SRS is named: {}", text(&o));

    let tampered = edit_proof(&d, "tampered", flip_last_digit);
    let o = zkinfer(&["verify", "--vk", &vk, &tampered]);
    assert!(!o.status.success() && text(&o).contains("rejected"), "{}", text(&o));
}

/// A snarkjs ceremony file goes straight into setup. The key is not marked insecure, but a
/// ceremony zkinfer does not know is reported as such, and `--srs-id` pins the one to trust.
#[test]
fn setup_takes_a_snarkjs_ptau_file() {
    let d = temp("ptau");
    let dir = d.display().to_string();
    assert!(zkinfer(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", &dir, "--calibration", &fixture("tiny_mlp/input.json")]).status.success());
    let o = zkinfer(&["setup", &dir, "--srs", &fixture("ptau/test_power10.ptau"), "--backend", "cpu"]);
    assert!(o.status.success(), "{}", text(&o));
    let proof = format!("{dir}/proof.json");
    let o = zkinfer(&["prove", &dir, "--input", &fixture("tiny_mlp/input.json"), "-o", &proof, "--backend", "cpu"]);
    assert!(o.status.success(), "{}", text(&o));
    let (o, v) = zkinfer_json(&["verify", &dir, &proof]);
    assert!(o.status.success() && v["verified"] == true, "{}", text(&o));
    assert!(v["srs"]["known"] == false && v["srs"]["description"] == "unknown or development SRS", "{v}");
    let id = v["srs"]["id"].as_str().unwrap().to_string();
    let o = zkinfer(&["verify", &dir, &proof, "--srs-id", &id]);
    assert!(o.status.success() && !text(&o).contains("WARNING"), "the pinned SRS is trusted: {}", text(&o));
    let other = format!("0x{}", "00".repeat(32));
    let o = zkinfer(&["verify", &dir, &proof, "--srs-id", &other]);
    assert!(!o.status.success() && text(&o).contains(&format!("the key's SRS is {id}")) && text(&o).contains(&format!("not the required {other}")), "{}", text(&o));
    let o = zkinfer(&["verify", &dir, &proof, "--srs-id", "hermez"]);
    assert!(!o.status.success() && text(&o).contains("is not 0x followed by 64 hex digits"), "{}", text(&o));
}

/// `--optimize evm` packs (docs/evm.md): the report names the powers of tau the layout needs,
/// a ceremony file with fewer is refused with both numbers, a dev SRS of that size proves, and
/// the Solidity verifier is written.
#[test]
fn evm_layouts_are_packed_and_name_the_powers_they_need() {
    let dir = temp("evm");
    let d = dir.to_str().unwrap();
    let input = fixture("tiny_mlp/input.json");
    let (o, v) = zkinfer_json(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--calibration", &input, "--optimize", "evm"]);
    assert!(o.status.success() && v["settings"]["pack"] == 16, "{v}");
    let powers = v["report"]["srs_powers"].as_u64().unwrap();
    assert_eq!(powers, 16 << v["report"]["k"].as_u64().unwrap(), "{v}");
    let o = zkinfer(&["setup", d, "--srs", &fixture("ptau/test_power10.ptau"), "--backend", "cpu"]);
    assert!(!o.status.success() && text(&o).contains("power 10 (1024 points) but the circuit needs") && text(&o).contains(&powers.to_string()), "{}", text(&o));
    assert!(zkinfer(&["setup", d, "--dev-srs", "--backend", "cpu"]).status.success());
    let proof = format!("{d}/proof.json");
    assert!(zkinfer(&["prove", d, "--input", &input, "-o", &proof, "--backend", "cpu"]).status.success());
    let o = zkinfer(&["verify", &format!("{d}/vk.bin"), &proof]);
    assert!(o.status.success() && text(&o).contains("verified"), "{}", text(&o));
    let sol = format!("{d}/Verifier.sol");
    let o = zkinfer(&["evm-verifier", &format!("{d}/vk.bin"), "-o", &sol]);
    assert!(o.status.success() && std::fs::read_to_string(&sol).unwrap().contains("function verifyProof"), "{}", text(&o));
}

/// Compiles tiny_mlp, sets up and proves; returns the directory.
fn tiny_proof(name: &str) -> String {
    let dir = temp(name);
    let d = dir.to_str().unwrap().to_string();
    let input = fixture("tiny_mlp/input.json");
    for args in [
        // Scale 8: the tests below read its values.
        vec!["compile", &fixture("tiny_mlp/model.onnx"), "-o", &d, "--calibration", &input, "--scale", "8"],
        vec!["setup", &d, "--dev-srs", "--backend", "cpu"],
        vec!["prove", &d, "--input", &input, "-o", &format!("{d}/proof.json"), "--backend", "cpu"],
    ] {
        let o = zkinfer(&args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    d
}

fn edit_proof(d: &str, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(format!("{d}/proof.json")).unwrap()).unwrap();
    edit(&mut file);
    let path = format!("{d}/{name}.json");
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

fn flip_last_digit(file: &mut Value) {
    let hex = file["proof"].as_str().unwrap();
    let flipped = if hex.ends_with('0') { "1" } else { "0" };
    file["proof"] = format!("{}{flipped}", &hex[..hex.len() - 1]).into();
}

/// The same network with other weights, put in place of the model after setup: the rebuilt
/// proving key would make proofs that fail, so prove refuses and says why.
#[test]
fn prove_refuses_a_model_changed_after_setup() {
    let d = tiny_proof("changed");
    std::fs::copy(fixture("tiny_mlp_reweighted/model.onnx"), format!("{d}/model.onnx")).unwrap();
    let o = zkinfer(&["prove", &d, "--input", &fixture("tiny_mlp/input.json"), "-o", &format!("{d}/other.json"), "--backend", "cpu"]);
    assert!(!o.status.success() && text(&o).contains("not the one the verifying key was made for"), "{}", text(&o));
}

#[test]
fn json_output_is_one_object_per_command() {
    let dir = temp("json");
    let d = dir.to_str().unwrap();
    let input = fixture("tiny_mlp/input.json");
    let proof = format!("{d}/proof.json");

    let (o, v) = zkinfer_json(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--calibration", &input]);
    assert!(o.status.success() && v["report"]["k"].as_u64().is_some() && v["settings"]["scale_bits"] == 16, "{v}");
    assert!(v["report"]["accuracy"]["max_error"][0].as_f64() < Some(1e-3) && v["report"]["accuracy"]["argmax_agreement"] == serde_json::json!([1, 1]), "{v}");
    let (o, v) = zkinfer_json(&["setup", d, "--dev-srs", "--backend", "cpu"]);
    assert!(o.status.success() && v["vk"] == format!("{d}/vk.bin") && v["insecure_srs"] == true, "{v}");
    assert!(v["keygen_seconds"].as_f64().is_some(), "{v}");
    let (o, v) = zkinfer_json(&["prove", d, "--input", &input, "-o", &proof, "--backend", "cpu"]);
    assert!(o.status.success() && v["proof_file"] == proof.as_str() && v["proof_bytes"].as_u64() > Some(0), "{v}");
    assert!(["evaluate", "keys", "prove"].iter().all(|s| v["seconds"][s].as_f64().is_some()), "{v}");
    assert_eq!(v["outputs"][0]["shape"], serde_json::json!([1, 3]), "{v}");

    let (o, v) = zkinfer_json(&["verify", &format!("{d}/vk.bin"), &proof]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(v["verified"] == true && v["error"].is_null() && v["outputs"][0]["shape"] == serde_json::json!([1, 3]), "{v}");
    assert!(v["srs"]["known"] == false && v["srs"]["id"].as_str().is_some_and(|id| id.len() == 66), "{v}");
    let (o, v) = zkinfer_json(&["run", d, "--input", &input]);
    assert!(o.status.success() && v["outputs"][0]["values"].as_array().map(Vec::len) == Some(3), "{v}");
    let onnxruntime: Value = serde_json::from_str(&std::fs::read_to_string(fixture("tiny_mlp/output.json")).unwrap()).unwrap();
    let floats: Vec<f64> = serde_json::from_value(v["float_outputs"][0]["values"].clone()).unwrap();
    let reference: Vec<f64> = serde_json::from_value(onnxruntime["output_data"][0].clone()).unwrap();
    assert!(floats.len() == 3 && floats.iter().zip(&reference).all(|(a, b)| (a - b).abs() < 1e-5), "{floats:?} vs onnxruntime's {reference:?}");

    let (o, v) = zkinfer_json(&["bench", d, "--input", &input, "--backend", "cpu", "--backend", "cpu", "--runs", "2"]);
    assert!(o.status.success() && v["runs"] == 2 && v["rows"].as_array().map(Vec::len) == Some(2), "{v}");
    assert!(["keys", "median", "fastest"].iter().all(|s| v["rows"][1][s].as_f64() > Some(0.0)), "{v}");
    assert!(v["rows"][0]["backend"].as_str().unwrap().starts_with("cpu") && v["rows"][0].get("device").is_none(), "{v}");
    let (o, v) = zkinfer_json(&["bench", d, "--input", &input, "--runs", "0"]);
    assert!(!o.status.success() && v["error"].as_str().unwrap().contains("--runs"), "{v}");

    let tampered = edit_proof(d, "tampered", flip_last_digit);
    let (o, v) = zkinfer_json(&["verify", "--vk", &format!("{d}/vk.bin"), &tampered]);
    assert!(!o.status.success() && v["verified"] == false && v["error"].as_str().unwrap().contains("rejected"), "{v}");
    let (o, v) = zkinfer_json(&["run", d, "--input", &fixture("errors/malformed_input.json")]);
    assert!(!o.status.success() && v["error"].as_str().unwrap().contains("is not an input file") && v.get("verified").is_none(), "{v}");
}

#[test]
fn private_parameters_are_chosen_at_compile_time() {
    let dir = temp("params");
    let d = dir.to_str().unwrap();
    let (o, v) = zkinfer_json(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--param-visibility", "private"]);
    assert!(o.status.success() && v["settings"]["param_visibility"] == "private", "{}", text(&o));
    let o = zkinfer(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--param-visibility", "secret"]);
    assert!(!o.status.success() && text(&o).contains("possible values: fixed, private"), "{}", text(&o));
}

/// A fixed input (EZKL's `fixed` visibility) is a constant of the compiled model: proofs take
/// the other inputs, and the verifying key commits to its values, so a key compiled with other
/// values does not accept the proof.
#[test]
fn a_fixed_input_is_compiled_into_the_model_and_committed_to_by_the_key() {
    let (model, fixed, input) = (fixture("loading/two_inputs/model.onnx"), fixture("loading/two_inputs/fixed.json"), fixture("loading/two_inputs/input.json"));
    let dir = temp("fixed");
    let d = dir.to_str().unwrap().to_string();
    let (o, v) = zkinfer_json(&["compile", &model, "-o", &d, "--input-visibility", "private,fixed", "--fixed-data", &fixed, "--calibration", &input]);
    assert!(o.status.success() && v["fixed_inputs"] == serde_json::json!(["w"]) && v["report"]["input_shapes"] == serde_json::json!([[1, 4]]), "{v}");
    let proof = format!("{d}/proof.json");
    for args in [vec!["setup", &d, "--dev-srs", "--backend", "cpu"], vec!["prove", &d, "--input", &input, "-o", &proof, "--backend", "cpu"]] {
        let o = zkinfer(&args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    let (o, v) = zkinfer_json(&["verify", &format!("{d}/vk.bin"), &proof]);
    let proven: Vec<f64> = serde_json::from_value(v["outputs"][0]["values"].clone()).unwrap();
    let onnxruntime: Value = serde_json::from_str(&std::fs::read_to_string(fixture("loading/two_inputs/output.json")).unwrap()).unwrap();
    let reference: Vec<f64> = serde_json::from_value(onnxruntime["output_data"][0].clone()).unwrap();
    assert!(o.status.success() && proven.iter().zip(&reference).all(|(a, b)| (a - b).abs() < 0.02), "{proven:?} vs {reference:?}: {v}");

    // Other fixed values make another key, which rejects the proof.
    let other = dir.join("other.json");
    let mut values: Value = serde_json::from_str(&std::fs::read_to_string(&fixed).unwrap()).unwrap();
    values["input_data"][0][0] = serde_json::json!(0.5);
    std::fs::write(&other, values.to_string()).unwrap();
    let d2 = format!("{d}-other");
    for args in [
        vec!["compile", &model, "-o", &d2, "--input-visibility", "private,fixed", "--fixed-data", other.to_str().unwrap(), "--calibration", &input],
        vec!["setup", &d2, "--dev-srs", "--backend", "cpu"],
    ] {
        let o = zkinfer(&args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    let o = zkinfer(&["verify", &format!("{d2}/vk.bin"), &proof]);
    assert!(!o.status.success(), "{}", text(&o));

    for (args, message) in [
        (vec!["--input-visibility", "private,fixed"], "take their values from --fixed-data FILE"),
        (vec!["--fixed-data", &fixed], "no input is fixed"),
        (vec!["--input-visibility", "fixed", "--fixed-data", &fixed], "every input is fixed"),
        (vec!["--input-visibility", "private,fixed", "--fixed-data", &input], "fixed input 'w' of shape [4, 3] takes 12 values; 4 were given"),
        (vec!["--input-visibility", "private,fixed", "--fixed-data", &fixed, "--param-visibility", "private"], "make the input private instead"),
    ] {
        let o = zkinfer(&[&["compile", &model, "-o", &d][..], &args].concat());
        assert!(!o.status.success() && text(&o).contains(message), "{args:?}: {}", text(&o));
    }
}

/// A named symbolic dimension (a sequence length) is refused until `--dim` gives its size,
/// which the compiled model keeps.
#[test]
fn a_named_symbolic_dimension_takes_its_size_from_dim() {
    let (model, input) = (fixture("loading/symbolic/model.onnx"), fixture("loading/symbolic/input.json"));
    let dir = temp("symbolic");
    let d = dir.to_str().unwrap().to_string();
    let o = zkinfer(&["compile", &model, "-o", &d]);
    assert!(!o.status.success() && text(&o).contains("input 'x' has dimension 1 named 'seq' and no size: give it one with `--dim seq=N`"), "{}", text(&o));
    for (dim, message) in
        [("len=5", "no input has a dimension named 'len' (its symbolic dimensions: [\"batch\", \"seq\"])"), ("seq", "give NAME=SIZE"), ("seq=0", "a dimension's size is 1 to")]
    {
        let o = zkinfer(&["compile", &model, "-o", &d, "--dim", dim]);
        assert!(!o.status.success() && text(&o).contains(message), "{dim}: {}", text(&o));
    }
    let (o, v) = zkinfer_json(&["compile", &model, "-o", &d, "--dim", "seq=5", "--calibration", &input]);
    assert!(o.status.success() && v["report"]["input_shapes"] == serde_json::json!([[1, 5, 4]]), "{v}");
    let (o, v) = zkinfer_json(&["run", &d, "--input", &input]);
    let quantized: Vec<f64> = serde_json::from_value(v["outputs"][0]["values"].clone()).unwrap();
    let onnxruntime: Value = serde_json::from_str(&std::fs::read_to_string(fixture("loading/symbolic/output.json")).unwrap()).unwrap();
    let reference: Vec<f64> = serde_json::from_value(onnxruntime["output_data"][0].clone()).unwrap();
    assert!(o.status.success() && quantized.iter().zip(&reference).all(|(a, b)| (a - b).abs() < 0.05), "{quantized:?} vs {reference:?}: {v}");
}

/// The scale follows `--target` (balanced by default), `--max-error` (the coarsest scale that
/// meets it on the calibration samples) or `--scale`; the report gives the error measured.
#[test]
fn the_scale_follows_the_target_or_the_error_asked_for() {
    let dir = temp("target");
    let d = dir.to_str().unwrap();
    let (model, input) = (fixture("mnist_mlp/model.onnx"), fixture("mnist_mlp/input.json"));
    let compiled = |args: &[&str]| {
        let (o, v) = zkinfer_json(&[&["compile", &model, "-o", d, "--calibration", &input][..], args].concat());
        assert!(o.status.success(), "{args:?}: {v}");
        (v["settings"]["scale_bits"].as_u64().unwrap(), v["report"]["accuracy"]["max_error"][0].as_f64().unwrap())
    };
    let (balanced, accuracy, resources) = (compiled(&[]), compiled(&["--target", "accuracy"]), compiled(&["--target", "resources"]));
    assert_eq!((balanced.0, accuracy.0, resources.0), (16, 20, 8));
    // Measured: 3.7e-4, 2.1e-5, 0.138.
    assert!(balanced.1 < 0.001 && balanced.1 * 50.0 < resources.1 && accuracy.1 * 4.0 < balanced.1, "{balanced:?} {accuracy:?} {resources:?}");
    let (scale, error) = compiled(&["--max-error", "0.01"]);
    assert!(error <= 0.01 && (10..=13).contains(&scale), "{scale} {error}");
    assert_eq!(compiled(&["--scale", "20"]).0, 20);
    // A model with function tables takes limbs of 12 bits, and 2^-20 for accuracy.
    let (o, v) = zkinfer_json(&["compile", &fixture("sigmoid_tanh_mlp/model.onnx"), "-o", d, "--target", "accuracy"]);
    assert!(o.status.success() && v["settings"]["scale_bits"] == 20 && v["settings"]["limb_bits"] == 12, "{v}");
    for (args, message) in [
        (vec!["--max-error", "1e-12"], "no scale reaches an error of 0.000000000001"),
        (vec!["--scale", "21"], "scale 21: choose 2 to 20"),
        (vec!["--scale", "12", "--target", "resources"], "cannot be used with"),
    ] {
        let o = zkinfer(&[&["compile", &model, "-o", d, "--calibration", &input][..], &args].concat());
        assert!(!o.status.success() && text(&o).contains(message), "{args:?}: {}", text(&o));
    }
    let o = zkinfer(&["compile", &model, "-o", d, "--max-error", "0.01"]);
    assert!(!o.status.success() && text(&o).contains("--calibration"), "{}", text(&o));
}

#[test]
fn verify_shows_the_proven_outputs_and_rejects_a_file_that_shows_others() {
    let d = tiny_proof("outputs");
    let vk = format!("{d}/vk.bin");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(format!("{d}/proof.json")).unwrap()).unwrap();
    let output = &file["outputs"][0];
    assert_eq!(output["scale_bits"], 8, "{output}");
    // Each float times 2^scale_bits is the signed integer its public value encodes.
    let values: Vec<f64> = serde_json::from_value(output["values"].clone()).unwrap();
    let instances: Vec<String> = serde_json::from_value(file["instances"][0].clone()).unwrap();
    assert_eq!(values.len(), instances.len());
    for (value, hex) in values.iter().zip(&instances) {
        let q = value * 256.0;
        assert_eq!(q.fract(), 0.0, "{value} is not a multiple of 2^-8");
        let expected = if q < 0.0 { -Fr::from(-q as u64) } else { Fr::from(q as u64) };
        assert_eq!(Fr::from_be_bytes_mod_order(&hex::decode(&hex[2..]).unwrap()), expected, "{value} vs {hex}");
    }

    let o = zkinfer(&["verify", &vk, &format!("{d}/proof.json")]);
    assert!(o.status.success() && text(&o).contains("output [1, 3]: [-0.7734375,"), "{}", text(&o));

    // A file that shows other outputs than it proves is rejected, whatever the proof.
    let lying = edit_proof(&d, "lying", |f| {
        let v = f["outputs"][0]["values"][1].as_f64().unwrap();
        f["outputs"][0]["values"][1] = (v + 1.0 / 256.0).into();
    });
    let o = zkinfer(&["verify", &vk, &lying]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("the file's outputs are not the proven values: 'output'[1]"), "{}", text(&o));

    // Without its scale the file is malformed: there is no way to show it unchecked.
    let unscaled = edit_proof(&d, "unscaled", |f| {
        f["outputs"][0].as_object_mut().unwrap().remove("scale_bits");
    });
    let (o, v) = zkinfer_json(&["verify", &vk, &unscaled]);
    assert!(!o.status.success() && v["verified"] == false, "{v}");
    assert!(v["error"].as_str().unwrap().contains("outputs[0]: the field \"scale_bits\" is missing"), "{v}");

    // The proof's hex must start with 0x, as every front end requires.
    let bare = edit_proof(&d, "bare", |f| f["proof"] = f["proof"].as_str().unwrap().trim_start_matches("0x").into());
    let o = zkinfer(&["verify", &vk, &bare]);
    assert!(!o.status.success() && text(&o).contains("proof must be 0x followed by an even number of hex digits"), "{}", text(&o));

    // The key's directory works as the key.
    let o = zkinfer(&["verify", &d, &format!("{d}/proof.json")]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn a_closed_pipe_is_not_a_panic_and_keeps_the_exit_code() {
    let d = tiny_proof("pipe");
    let tampered = edit_proof(&d, "tampered", |f| f["instances"][0][0] = format!("0x{:064x}", 1).into());
    let closed = |args: &[&str]| {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).stdout(writer).stderr(Stdio::piped()).output().unwrap()
    };
    let input = fixture("tiny_mlp/input.json");
    for args in [vec!["run", &d, "--input", &input], vec!["--json", "verify", &format!("{d}/vk.bin"), &format!("{d}/proof.json")]] {
        let o = closed(&args);
        assert!(o.status.success() && !text(&o).contains("panicked"), "{args:?}: {:?} {}", o.status, text(&o));
    }
    let o = closed(&["verify", &format!("{d}/vk.bin"), &tampered]);
    assert!(o.status.code() == Some(1) && !text(&o).contains("panicked"), "{:?} {}", o.status, text(&o));
}

#[test]
fn spinners_only_on_a_terminal_and_never_with_json() {
    let d = tiny_proof("spinners");
    let setup = ["setup", &d, "--dev-srs", "--backend", "cpu"];
    let o = zkinfer(&setup);
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("generating keys") && !stderr.contains('\r') && !stderr.contains('\x1b'), "{stderr:?}");

    // `script` runs the command on a pseudo-terminal, as a person at a shell would.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped the terminal half: no `script` (util-linux) on this machine");
        return;
    }
    let on_terminal = |args: &str| {
        let o = Command::new("script").args(["-qec", &format!("{} {args}", env!("CARGO_BIN_EXE_zkinfer")), "/dev/null"]).output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let shown = on_terminal(&setup.join(" "));
    assert!(shown.contains("generating keys for 2^"), "{shown:?}");
    let json = on_terminal(&format!("--json {}", setup.join(" ")));
    assert!(!json.contains("generating keys") && json.contains("\"keygen_seconds\""), "{json:?}");
}

#[test]
fn unsupported_op_is_named_with_its_node_and_the_supported_list() {
    let o = zkinfer(&["compile", &fixture("errors/unsupported_op.onnx"), "-o", temp("unsupported").to_str().unwrap()]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(t.contains("unsupported op 'Shrink'") && t.contains("at node") && t.contains("supported ops: ") && t.contains("Gemm"), "{t}");
}

#[test]
fn corrupted_onnx_is_a_clear_error() {
    let o = zkinfer(&["compile", &fixture("errors/corrupted.onnx"), "-o", temp("corrupt").to_str().unwrap()]);
    assert!(!o.status.success() && text(&o).contains("invalid ONNX model"), "{}", text(&o));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let dir = temp("inputs");
    let d = dir.to_str().unwrap();
    assert!(zkinfer(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d]).status.success());
    let o = zkinfer(&["run", d, "--input", &fixture("errors/wrong_shape_input.json")]);
    assert!(!o.status.success() && text(&o).contains("the model takes 4 values"), "{}", text(&o));
    let o = zkinfer(&["run", d, "--input", &fixture("errors/malformed_input.json")]);
    assert!(!o.status.success() && text(&o).contains("is not an input file"), "{}", text(&o));
    let o = zkinfer(&["run", d, "--input", &fixture("tiny_mlp/input.json")]);
    assert!(o.status.success() && text(&o).contains("output [1, 3]"), "{}", text(&o));
    assert!(text(&o).contains("output [1, 3] in floats: ") && text(&o).contains("largest quantization error: "), "{}", text(&o));
}

/// Out-of-range and non-finite inputs say what the range is and what to do.
#[test]
fn inputs_outside_the_range_name_it_and_the_fix() {
    let d = tiny_proof("range");
    let write = |name: &str, json: &str| {
        let path = format!("{d}/{name}.json");
        std::fs::write(&path, json).unwrap();
        path
    };
    let o = zkinfer(&["prove", &d, "--input", &write("huge", r#"{"input_data": [[1e9, 0, 0, 0]]}"#), "-o", &format!("{d}/p.json")]);
    assert!(
        !o.status.success() && text(&o).contains("value 1000000000 at index 0 of input '") && text(&o).contains("is outside [-1, 0.75]") && text(&o).contains("--calibration"),
        "{}",
        text(&o)
    );
    for word in ["NaN", "Infinity"] {
        let o = zkinfer(&["run", &d, "--input", &write(word, &format!(r#"{{"input_data": [[{word}, 0, 0, 0]]}}"#))]);
        assert!(!o.status.success() && text(&o).contains(&format!("the input holds {word}")), "{}", text(&o));
    }
}

/// The rough edges a new user met: each is a clear error or no noise at all.
#[test]
fn rough_edges_are_clear() {
    // k is bounded: no allocation failure at 40, no wrapped shift at 64.
    for k in ["40", "64", "0"] {
        let o = zkinfer(&["srs", "gen", "--k", k, "-o", "/dev/null"]);
        assert!(!o.status.success() && text(&o).contains(&format!("{k} is not in 1..=26")) && !text(&o).contains("panicked"), "{}", text(&o));
    }
    let o = zkinfer(&["prove", "x", "--input", "y", "-o", "z", "--backend", "tpu"]);
    assert!(!o.status.success() && text(&o).contains("[possible values: cpu, gpu, auto]"), "{}", text(&o));

    // No "XDG_RUNTIME_DIR is invalid" from Mesa when the variable is unset (ssh, docker, CI).
    let dir = temp("edges");
    let d = dir.to_str().unwrap();
    let input = fixture("tiny_mlp/input.json");
    assert!(zkinfer(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--calibration", &input]).status.success());
    let o = Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(["setup", d, "--dev-srs"]).env_remove("XDG_RUNTIME_DIR").output().unwrap();
    assert!(o.status.success() && !text(&o).contains("XDG_RUNTIME_DIR"), "{}", text(&o));

    // A truncated srs.bin is named once.
    let srs = format!("{d}/srs.bin");
    let bytes = std::fs::read(&srs).unwrap();
    std::fs::write(&srs, &bytes[..bytes.len() / 2]).unwrap();
    let o = zkinfer(&["prove", d, "--input", &input, "-o", &format!("{d}/p.json")]);
    assert!(!o.status.success() && text(&o).matches("truncated").count() == 1, "{}", text(&o));
    std::fs::write(&srs, &bytes).unwrap();

    // Recompiling into a directory with keys retires the verifying key and says what to run.
    let (o, v) = zkinfer_json(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--calibration", &input, "--scale", "7"]);
    assert!(o.status.success() && v["retired_key"] == format!("{d}/vk.bin").as_str() && !dir.join("vk.bin").exists(), "{v}");
    let o = zkinfer(&["prove", d, "--input", &input, "-o", &format!("{d}/p.json")]);
    assert!(!o.status.success() && text(&o).contains("run `zkinfer setup` first"), "{}", text(&o));
    // Compiling the same model the same way again keeps the keys.
    assert!(zkinfer(&["setup", d, "--dev-srs", "--backend", "cpu"]).status.success());
    let (o, v) = zkinfer_json(&["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--calibration", &input, "--scale", "7"]);
    assert!(o.status.success() && v.get("retired_key").is_none() && dir.join("vk.bin").exists(), "{v}");

    // A settings.json edited by hand is named as such, with the command that fixes it.
    let settings = format!("{d}/settings.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&settings).unwrap()).unwrap();
    s["report"]["k"] = 5.into();
    std::fs::write(&settings, s.to_string()).unwrap();
    let o = zkinfer(&["setup", d, "--dev-srs", "--backend", "cpu"]);
    assert!(!o.status.success() && text(&o).contains("settings.json does not match") && text(&o).contains("run `zkinfer compile` again"), "{}", text(&o));
    assert!(!text(&o).contains("use k >="), "{}", text(&o));
}
