//! zkinfer's compiler: ONNX to a graph of ops with static shapes, fixed-point quantization
//! and calibration, and the circuit that proves one inference.
//!
//! Compiling a bundled model at scale 2^-16, calibrated on its sample input, and running it in
//! fixed point beside its float semantics:
//!
//! ```
//! use zkinfer_compiler::{compile, CompileOptions, Model, Optimize, ParamVisibility, Precision, Visibility};
//!
//! let bytes = include_bytes!("../../fixtures/tiny_mlp/model.onnx");
//! let sample: serde_json::Value = serde_json::from_str(include_str!("../../fixtures/tiny_mlp/input.json")).unwrap();
//! let x: Vec<f32> = sample["input_data"][0].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
//! let options = CompileOptions {
//!     precision: Precision::Scale(16),
//!     input_visibility: vec![Visibility::Private],
//!     param_visibility: ParamVisibility::Fixed,
//!     width: None,
//!     optimize: Optimize::Proving,
//!     pack: None,
//!     max_memory: None,
//! };
//! let (settings, _report) = compile(bytes, &options, &[x.clone()]).unwrap();
//! let model = Model::from_onnx(bytes, settings).unwrap();
//! let (outputs, _) = model.evaluate(&model.quantize_input(&x).unwrap()).unwrap();
//! let float = model.evaluate_float(&x).unwrap();
//! for (q, f) in outputs[0].data.iter().zip(&float[0].data) {
//!     assert!((model.dequantize(*q) - *f as f64).abs() < 1e-3);
//! }
//! ```

#![forbid(unsafe_code)]

pub mod arith;
pub mod bounds;
pub mod circuit;
pub mod cost;
pub mod fold;
pub mod graph;
pub mod onnx;
pub mod ops;
pub mod tensor;

mod compile;
mod error;
mod model;
mod settings;

pub use compile::{compile, limb_bits_for, CompileOptions, Optimize, Precision, Report, Target, EVM_PACK, MAX_SCALE};
pub use error::Error;
pub use model::{Accuracy, Model, Node, MAX_COMPUTED};
pub use settings::{ParamVisibility, Settings, SettingsFormat, Visibility, SETTINGS_FORMAT};
