//! The width `compile` chooses: by the proving cost model, or by the Solidity verifier's gas.

mod common;

use common::*;
use zkinfer_circuits::{Pass, Synthesis};
use zkinfer_compiler::circuit::ModelCircuit;
use zkinfer_compiler::{compile, CompileOptions, Error, Model, Optimize, ParamVisibility, Report, Settings};

fn options(width: Option<usize>, optimize: Optimize, params: ParamVisibility) -> CompileOptions {
    CompileOptions { param_visibility: params, width, optimize, ..common::options(8) }
}

/// A fixture compiled on its sample input.
fn compiled(name: &str, width: Option<usize>, optimize: Optimize, params: ParamVisibility) -> Result<(Settings, Report), Error> {
    compile(&fixture_bytes(&format!("{name}/model.onnx")), &options(width, optimize, params), &[fixture_input(name)])
}

/// Commitments the verifier reads: advice, fixed, permutation (sigma) and grand-product
/// columns.
fn committed_columns(name: &str, settings: &Settings, report: &Report) -> usize {
    let model = Model::from_onnx(&fixture_bytes(&format!("{name}/model.onnx")), settings.clone()).unwrap();
    let synthesis = Synthesis::run(&ModelCircuit { model: &model, input: None }, Pass::Key).unwrap();
    let products = synthesis.cs.description(report.k).layout(1).num_products;
    report.advice_columns + report.fixed_columns + report.permutation_columns + products
}

#[test]
fn evm_layouts_commit_fewer_columns_for_less_gas() {
    for name in ["mnist_mlp", "digits_cnn"] {
        let (proving_settings, proving) = compiled(name, None, Optimize::Proving, ParamVisibility::Fixed).unwrap();
        let (evm_settings, evm) = compiled(name, None, Optimize::Evm, ParamVisibility::Fixed).unwrap();
        assert_eq!((proving.width_chosen_for, evm.width_chosen_for), (Some(Optimize::Proving), Some(Optimize::Evm)));
        let (p, e) = (committed_columns(name, &proving_settings, &proving), committed_columns(name, &evm_settings, &evm));
        // Where proving already takes the narrowest width (the digits CNN), as many.
        assert!(e <= p, "{name}: {e} committed columns for the EVM, {p} for proving");
        assert!(evm.estimated_verify_gas < proving.estimated_verify_gas, "{name}: {evm:?} vs {proving:?}");
        assert!(evm.k <= proving.k + 2, "{name}: 2^{} rows for the EVM, 2^{} for proving", evm.k, proving.k);
    }
}

/// Against every width laid out one by one: the chosen width is the narrowest whose estimated
/// proving time is within 10% of the fastest, and no packed width has less gas within two more
/// `k`.
#[test]
fn the_chosen_widths_are_the_best_of_every_width() {
    for (name, params) in [("digits_mlp", ParamVisibility::Fixed), ("softmax_bn", ParamVisibility::Fixed), ("digits_mlp", ParamVisibility::Private)] {
        let every: Vec<(usize, Report)> = (5..=64).map(|w| (w, compiled(name, Some(w), Optimize::Proving, params).unwrap().1)).collect();
        let fastest = every.iter().map(|(_, r)| r.estimated_prove_cpu_seconds).fold(f64::INFINITY, f64::min);
        let narrowest_fast = every.iter().find(|(_, r)| r.estimated_prove_cpu_seconds <= 1.1 * fastest).unwrap();
        let (settings, proving) = compiled(name, None, Optimize::Proving, params).unwrap();
        assert_eq!(settings.width, narrowest_fast.0, "{name} ({params:?})");
        assert_eq!(proving.estimated_prove_cpu_seconds, narrowest_fast.1.estimated_prove_cpu_seconds);

        // The EVM layouts are packed (`EVM_PACK`), as a given width with `Optimize::Evm` is.
        let least_gas = (5..=64).map(|w| compiled(name, Some(w), Optimize::Evm, params).unwrap().1).filter(|r| r.k <= proving.k + 2).map(|r| r.estimated_verify_gas).min().unwrap();
        let (_, evm) = compiled(name, None, Optimize::Evm, params).unwrap();
        assert_eq!(evm.estimated_verify_gas, least_gas, "{name} ({params:?})");
    }
}

#[test]
fn a_given_width_is_kept_and_a_narrow_one_refused() {
    let (settings, report) = compiled("tiny_mlp", Some(7), Optimize::Evm, ParamVisibility::Fixed).unwrap();
    assert_eq!((settings.width, report.width_chosen_for), (7, None));
    assert_eq!(report.advice_columns, 7 + 3);
    let err = compiled("tiny_mlp", Some(4), Optimize::Proving, ParamVisibility::Fixed).unwrap_err().to_string();
    assert!(err.contains("width 4: choose at least 5"), "{err}");
}

/// The layouts the compiler chooses for the fixtures (widths 5 to 25, fixed or private
/// parameters) hold on the sample inputs.
#[test]
fn chosen_layouts_hold() {
    for name in ["tiny_mlp", "digits_mlp", "digits_cnn", "sigmoid_tanh_mlp", "softmax_bn", "slice_pad"] {
        for optimize in [Optimize::Proving, Optimize::Evm] {
            for params in [ParamVisibility::Fixed, ParamVisibility::Private] {
                let (settings, _) = compiled(name, None, optimize, params).unwrap();
                let model = Model::from_onnx(&fixture_bytes(&format!("{name}/model.onnx")), settings).unwrap();
                let x = model.quantize_input(&fixture_input(name)).unwrap();
                mock_prove(&model, &x).unwrap_or_else(|f| panic!("{name} ({optimize:?}, {params:?}): {f:?}"));
            }
        }
    }
}

/// Reports written before the width choice existed still read.
#[test]
fn older_reports_read() {
    let (_, report) = compiled("tiny_mlp", None, Optimize::Proving, ParamVisibility::Fixed).unwrap();
    let mut json = serde_json::to_value(&report).unwrap();
    for field in ["width_chosen_for", "estimated_prove_cpu_seconds", "estimated_verify_gas"] {
        json.as_object_mut().unwrap().remove(field);
    }
    let old: Report = serde_json::from_value(json).unwrap();
    assert_eq!((old.k, old.width_chosen_for, old.estimated_verify_gas), (report.k, None, 0));
}

/// Dot products fill their rows in parallel blocks: the layout and the witness are the same on
/// one thread as on four, and the witness pass records the mock pass's advice values.
#[test]
fn parallel_synthesis_lays_out_what_one_thread_does() {
    let (model, input) = fixture_model("digits_cnn");
    let x = model.quantize_input(&input).unwrap();
    let run = |threads: usize, pass: Pass| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| Synthesis::run(&ModelCircuit { model: &model, input: Some(&x) }, pass).unwrap())
    };
    let one = run(1, Pass::Mock);
    let four = run(4, Pass::Mock);
    assert_eq!((one.rows, &one.copies), (four.rows, &four.copies));
    assert!(one.fixed == four.fixed && one.advice == four.advice, "the columns differ");
    let witness = run(4, Pass::Witness);
    assert!(witness.advice == one.advice && witness.fixed.iter().all(Vec::is_empty) && witness.copies.is_empty());
}

/// A circuit whose estimated proof memory exceeds `max_memory` is refused at compile time,
/// naming the estimate and the fixes, rather than killed mid-proof; at the estimate it compiles.
#[test]
fn a_circuit_beyond_the_memory_allowed_is_refused_at_compile_time() {
    let bytes = fixture_bytes("mnist_mlp/model.onnx");
    let input = vec![fixture_input("mnist_mlp")];
    let (_, report) = zkinfer_compiler::compile(&bytes, &common::options(8), &input).unwrap();
    let estimate = report.estimated_prove_memory_bytes;
    // Linear in the rows, above the process's base.
    assert!(estimate > (64 << 20) + (1u64 << report.k) * 32 * 40, "{estimate} bytes for 2^{} rows", report.k);
    let tight = CompileOptions { max_memory: Some(estimate - 1), ..common::options(8) };
    let err = zkinfer_compiler::compile(&bytes, &tight, &input).unwrap_err().to_string();
    assert!(err.contains(&format!("the circuit of 2^{} rows needs about", report.k)) && err.contains("--max-memory"), "{err}");
    let enough = CompileOptions { max_memory: Some(estimate), ..common::options(8) };
    assert!(zkinfer_compiler::compile(&bytes, &enough, &input).is_ok());
}
