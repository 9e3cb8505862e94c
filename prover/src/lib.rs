//! zkinfer's backend: structured reference strings, key generation and the prover.

pub mod backend;
pub mod cpu;
pub mod gpu;
pub mod keygen;
mod poly;
pub mod prove;
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
