//! The zkinfer verifier: checks PLONKish/KZG proofs on BN254 with a Keccak-256 transcript.
//!
//! This crate is small on purpose: it depends on no other zkinfer crate and on nothing that
//! does not build for `wasm32`. The protocol is specified in `docs/protocol.md`.
//!
//! Verifying a proof file (`proof.json`, as `zkinfer prove` writes it) under its verifying key
//! (`vk.bin`) gives the public tensors the proof proves:
//!
//! ```
//! use zkinfer_verifier::{verify_file, ProofFile, TensorKind, VerifyingKey};
//!
//! let vk = VerifyingKey::from_bytes(include_bytes!("../../fixtures/proofs/vk.bin"))?;
//! let file = ProofFile::parse(include_bytes!("../../fixtures/proofs/proof.json"))?;
//! let tensors = verify_file(&vk, &file)?;
//! assert_eq!(tensors[0].tensor.kind, TensorKind::Output);
//! assert_eq!(tensors[0].values, [62.5, 0.75]);
//!
//! // One flipped bit in the proof and it no longer verifies.
//! let mut tampered = file.clone();
//! *tampered.proof.last_mut().unwrap() ^= 1;
//! assert!(verify_file(&vk, &tampered).is_err());
//! # Ok::<(), zkinfer_verifier::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod constraints;
pub mod description;
pub mod encoding;
mod error;
pub mod evm;
pub mod expression;
mod json;
pub mod opening;
mod proof;
mod proof_file;
pub mod srs;
mod statement;
pub mod transcript;
pub mod verify;
pub mod vk;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use description::{CircuitDescription, Commitment, Gate, Layout, Lookup, PointSet, Poly, Round};
pub use error::Error;
pub use expression::{Column, ColumnKind, Expression, Query};
pub use proof::{Proof, PROOF_MAGIC};
pub use proof_file::{verify_file, ProofFile, PROOF_FILE_VERSION, PROTOCOL};
pub use statement::{dequantize, PublicTensor, Statement, TensorKind, TensorValues, MAX_SCALE_BITS};
pub use verify::verify;
pub use vk::VerifyingKey;

pub use ark_bn254::{Fr, G1Affine, G2Affine};
