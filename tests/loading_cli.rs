//! `zkinfer compile` on a model saved with external data (`torch.onnx.export`'s default): the
//! `.data` file is read once, from beside the model, and the compiled directory's model.onnx is
//! self-contained, so `run` (and setup and prove) need nothing else. The loader's own tests are
//! in compiler/tests/loading.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn zkinfer(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkinfer")).current_dir(dir).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn loading(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/loading").join(path)
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("zkinfer-loading-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn compile_reads_external_data_once_and_writes_a_self_contained_model() {
    let dir = temp("external");
    let input = loading("tiny/input.json");
    let input = input.to_str().unwrap();
    // The export in a folder of its own, named by a relative path from that folder.
    std::fs::create_dir(dir.join("export")).unwrap();
    for file in ["tiny.onnx", "tiny.onnx.data"] {
        std::fs::copy(loading("external").join(file), dir.join("export").join(file)).unwrap();
    }
    let o = zkinfer(&dir.join("export"), &["compile", "tiny.onnx", "-o", "../external"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = zkinfer(&dir, &["compile", loading("tiny/model.onnx").to_str().unwrap(), "-o", "inline"]);
    assert!(o.status.success(), "{}", text(&o));

    // Nothing points at the .data file any more, which can go.
    let compiled = std::fs::read(dir.join("external/model.onnx")).unwrap();
    assert!(!compiled.windows(b"tiny.onnx.data".len()).any(|w| w == b"tiny.onnx.data"));
    std::fs::remove_dir_all(dir.join("export")).unwrap();
    assert_eq!(std::fs::read(dir.join("external/settings.json")).unwrap(), std::fs::read(dir.join("inline/settings.json")).unwrap());
    let external = zkinfer(&dir, &["--json", "run", "external", "--input", input]);
    let inline = zkinfer(&dir, &["--json", "run", "inline", "--input", input]);
    assert!(external.status.success(), "{}", text(&external));
    assert_eq!(text(&external), text(&inline));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compile_names_a_missing_data_file_and_where_it_must_be() {
    let dir = temp("missing");
    std::fs::copy(loading("external/tiny.onnx"), dir.join("tiny.onnx")).unwrap();
    let o = zkinfer(&dir, &["compile", "tiny.onnx", "-o", "out"]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    for part in ["tiny.onnx: external data: tensor 'fc1.weight'", "'tiny.onnx.data', which is missing", "must sit beside the model"] {
        assert!(t.contains(part), "{part:?} in {t}");
    }
    assert!(!dir.join("out").exists(), "nothing is written");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compile_refuses_external_data_outside_the_model_folder() {
    let out = std::env::temp_dir().join(format!("zkinfer-loading-cli-escape-{}", std::process::id()));
    let o = zkinfer(&loading("hostile"), &["compile", "escape.onnx", "-o", out.to_str().unwrap()]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("'../external/tiny.onnx.data' leads out of the model's folder"), "{t}");
}
