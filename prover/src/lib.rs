//! zkinfer's backend: structured reference strings, key generation and the prover.
//!
//! A development SRS, which is all a test needs (never one for proofs that matter: its secret
//! existed in this process), written and read back as `zkinfer srs gen` and `setup` do:
//!
//! ```
//! use rand::SeedableRng;
//! use zkinfer_prover::Srs;
//!
//! let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let srs = Srs::generate_insecure(16, &mut rng);
//! assert!(srs.is_insecure());
//! assert_eq!(srs.max_degree(), 16);
//! assert_eq!(Srs::from_bytes(&srs.to_bytes())?, srs);
//! // A circuit takes the prefix it needs; more powers than there are is an error.
//! assert_eq!(srs.truncate(8)?.max_degree(), 8);
//! assert!(srs.truncate(17).is_err());
//! # Ok::<(), zkinfer_prover::srs::SrsError>(())
//! ```

#![forbid(unsafe_code)]

pub mod backend;
mod cpu;
pub mod gpu;
mod keygen;
mod poly;
mod prove;
pub mod quotient;
pub mod select;
pub mod srs;

pub use backend::{Backend, BackendError};
pub use cpu::Cpu;
pub use gpu::GpuError;
pub use keygen::{keygen, proving_key_for, ProvingKey};
pub use prove::{prove, ProveOptions};
pub use srs::{Srs, SrsError};

use zkinfer_circuits::Failure;

/// Where a circuit differs from the one a verifying key was made for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// Its description: columns, gates, lookups or the copy constraints' columns.
    Description,
    /// Its public values.
    PublicValues,
    /// Its fixed columns or copy constraints, which only the key's commitments record: a
    /// proof of it does not verify.
    Commitments,
}

impl Mismatch {
    /// What the error message adds after saying that the circuit is not the key's.
    fn detail(self) -> &'static str {
        match self {
            Mismatch::Description => "",
            Mismatch::PublicValues => ": its public values differ",
            Mismatch::Commitments => ": the proof does not verify, so its fixed columns or copy constraints differ (the same model with other weights?)",
        }
    }
}

/// Why keys could not be made or a proof could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The circuit could not be laid out.
    #[error(transparent)]
    Synthesis(#[from] zkinfer_circuits::Error),
    /// The circuit is not one the protocol can prove, or not the one the proving key was made
    /// for (the message says which).
    #[error("{0}")]
    Circuit(String),
    /// The circuit is not the one the verifying key was made for (`proving_key_for`, or a
    /// proof from a key rebuilt that way); a caller may tell the user to make keys again.
    #[error("the circuit is not the one the verifying key was made for{}", .0.detail())]
    NotTheKeysCircuit(Mismatch),
    /// The SRS does not fit the circuit or the verifying key.
    #[error(transparent)]
    Srs(#[from] SrsError),
    /// No GPU to prove on.
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// The description fails the verifier's checks.
    #[error(transparent)]
    Description(#[from] zkinfer_verifier::Error),
    /// The backend's device failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The witness breaks constraints (`ProveOptions::check_witness`).
    #[error("the witness does not satisfy the circuit ({} failures); first: {}", .0.len(), .0[0])]
    Unsatisfied(Vec<Failure>),
}
