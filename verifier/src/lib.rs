//! The zkinfer verifier: checks PLONKish/KZG proofs on BN254 with a Keccak-256 transcript.
//!
//! This crate is small on purpose: it depends on no other zkinfer crate and on nothing that
//! does not build for `wasm32`. The protocol is specified in `docs/protocol.md`.

pub mod constraints;
pub mod description;
pub mod encoding;
pub mod error;
pub mod evm;
pub mod expression;
pub mod json;
pub mod opening;
pub mod proof;
pub mod proof_file;
pub mod srs;
pub mod statement;
pub mod transcript;
pub mod verify;
pub mod vk;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use description::{CircuitDescription, Commitment, Gate, Layout, Lookup, PointSet, Poly, Round};
pub use error::Error;
pub use expression::{Column, ColumnKind, Expression, Query};
pub use proof::Proof;
pub use proof_file::{verify_file, ProofFile};
pub use statement::{PublicTensor, Statement, TensorKind, TensorValues};
pub use verify::verify;
pub use vk::VerifyingKey;

pub use ark_bn254::{Fr, G1Affine, G2Affine};
