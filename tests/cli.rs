//! The command line as a user meets it: the main job end to end, and clear errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn zkinfer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer")).args(args).output().unwrap()
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
    let dir = temp("e2e");
    let d = dir.to_str().unwrap();
    let input = fixture("tiny_mlp/input.json");
    let steps: [&[&str]; 3] = [
        &["compile", &fixture("tiny_mlp/model.onnx"), "-o", d, "--calibration", &input],
        &["setup", d, "--dev-srs", "--backend", "cpu"],
        &["prove", d, "--input", &input, "-o", &format!("{d}/proof.json"), "--backend", "cpu"],
    ];
    for args in steps {
        let o = zkinfer(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    let vk = format!("{d}/vk.bin");
    let proof = format!("{d}/proof.json");
    let o = zkinfer(&["verify", &vk, &proof]);
    assert!(o.status.success() && text(&o).contains("verified"), "{}", text(&o));
    assert!(text(&o).contains("development SRS"), "the insecure SRS is named: {}", text(&o));

    let mut file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    let hex = file["proof"].as_str().unwrap().to_string();
    let flipped = if hex.ends_with('0') { "1" } else { "0" };
    file["proof"] = format!("{}{flipped}", &hex[..hex.len() - 1]).into();
    let tampered = format!("{d}/tampered.json");
    std::fs::write(&tampered, file.to_string()).unwrap();
    let o = zkinfer(&["verify", "--vk", &vk, &tampered]);
    assert!(!o.status.success() && text(&o).contains("rejected"), "{}", text(&o));
}

#[test]
fn unsupported_op_is_named_with_its_node_and_the_supported_list() {
    let o = zkinfer(&["compile", &fixture("errors/unsupported_op.onnx"), "-o", temp("unsupported").to_str().unwrap()]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(t.contains("unsupported op 'Erf'") && t.contains("at node") && t.contains("supported ops: ") && t.contains("Gemm"), "{t}");
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
}
