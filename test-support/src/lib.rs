//! What the tests of several zkinfer crates share, as a dev-dependency (never published): the
//! test circuit that the prover's, the CLI's and the Solidity verifier's tests prove, and the
//! fixtures' rule for MNIST-shaped inputs that the compiler's and the model tests use.
//!
//! ```
//! use zkinfer_test_support::{Cheat, TestCircuit};
//!
//! let circuit = TestCircuit::new(8, Cheat::None, 1);
//! // Public: the accumulator at the last row, then the first row's `a`.
//! assert_eq!(circuit.instances(), [circuit.witness.as_ref().map(|w| vec![w.d[7], w.a[0]]).unwrap()]);
//! assert!(circuit.shape().witness.is_none());
//! ```

#![forbid(unsafe_code)]

pub mod mnist;
pub mod test_circuit;

pub use test_circuit::{Cheat, TestCircuit};
