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
pub use keygen::{keygen, proving_key_for, ProvingKey};
pub use prove::{prove, ProveOptions};
pub use srs::Srs;

use zkinfer_circuits::Failure;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Synthesis(#[from] zkinfer_circuits::Error),
    #[error("{0}")]
    Circuit(String),
    #[error("{0}")]
    Srs(String),
    #[error(transparent)]
    Description(#[from] zkinfer_verifier::Error),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error("the witness does not satisfy the circuit ({} failures); first: {}", .0.len(), .0[0])]
    Unsatisfied(Vec<Failure>),
}
