//! zkinfer's compiler: ONNX to a graph of ops with static shapes, fixed-point quantization
//! and calibration, and the circuit that proves one inference.

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
