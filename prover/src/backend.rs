//! The heavy work of proving, multi-scalar multiplications over G1, NTTs over the scalar field
//! and the quotient's evaluation on the extended coset, behind one trait so that a GPU
//! implementation can replace the CPU one without touching the protocol code.

use crate::quotient::QuotientJob;
use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_poly::Radix2EvaluationDomain;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

pub type Domain = Radix2EvaluationDomain<Fr>;

/// MSM bases that live as long as a proving key. The id lets a device backend keep its own
/// copy of the points across the many MSMs of a proof.
pub struct Bases {
    points: Vec<G1Affine>,
    id: u64,
}

impl Bases {
    pub fn new(points: Vec<G1Affine>) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Self { points, id: NEXT.fetch_add(1, Ordering::Relaxed) }
    }

    pub fn points(&self) -> &[G1Affine] {
        &self.points
    }

    pub fn id(&self) -> u64 {
        self.id
    }
}

pub trait Backend: Sync {
    fn name(&self) -> String;

    /// `sum s[i] * bases[i]` over the first `s.len()` bases, for each `s` of `scalars`. MSMs over
    /// the same bases come together so that a device runs them in one pass.
    fn msm(&self, bases: &Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError>;

    /// Each column's coefficients to its evaluations on `domain` (a subgroup or a coset of one),
    /// in place; columns shorter than the domain are zero-padded. Columns come together so that
    /// a device transforms them in one submission.
    fn fft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError>;

    /// Each column's evaluations on `domain` to its coefficients, in place.
    fn ifft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError>;

    /// The quotient `h` = (the job's program) / (X^n - 1), in coefficients on the extended
    /// domain.
    fn quotient(&self, job: &QuotientJob) -> Result<Vec<Fr>, BackendError>;

    /// What the backend counted since it was made or last asked (a device's calls, transfers
    /// and kernel time), starting the count again; `None` where it counts nothing.
    fn take_stats(&self) -> Option<Stats> {
        None
    }
}

/// Why a backend could not do a call: the device under it failed. The protocol code passes it on
/// to the prover's caller; the CPU backend never fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    #[error("the device was lost: {0}")]
    DeviceLost(String),
    #[error("the device is out of memory: {0}")]
    OutOfMemory(String),
    #[error("the device failed a submission: {0}")]
    Submission(String),
    #[error("mapping the device's results for the host failed: {0}")]
    Map(String),
}

/// A backend's counters, for a person to read. Each backend counts what its own work is made
/// of, so what they have in common is the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats(String);

impl Stats {
    pub fn new(counters: impl fmt::Display) -> Self {
        Self(counters.to_string())
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
