//! The test circuit, shared with the workspace's tests through the test-support crate.

pub use zkinfer_test_support::{Cheat, TestCircuit};
