//! The backend that needs no device.

use crate::backend::{Backend, BackendError, Bases, Domain};
use crate::quotient::{self, QuotientJob};
use ark_bn254::{Fr, G1Projective};
use ark_ec::VariableBaseMSM;
use ark_poly::EvaluationDomain;
use rayon::prelude::*;

/// The CPU backend: arkworks's parallel Pippenger MSM and radix-2 FFT over rayon.
pub struct Cpu;

impl Backend for Cpu {
    fn name(&self) -> String {
        format!("cpu ({} threads)", rayon::current_num_threads())
    }

    fn msm(&self, bases: &Bases, scalars: &[&[Fr]]) -> Result<Vec<G1Projective>, BackendError> {
        // One after another: each is parallel inside, and side by side their working memory adds up.
        Ok(scalars.iter().map(|s| G1Projective::msm_unchecked(&bases.points()[..s.len()], s)).collect())
    }

    fn fft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        columns.par_iter_mut().for_each(|c| domain.fft_in_place(c));
        Ok(())
    }

    fn ifft(&self, domain: &Domain, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        columns.par_iter_mut().for_each(|c| domain.ifft_in_place(c));
        Ok(())
    }

    fn quotient(&self, job: &QuotientJob) -> Result<Vec<Fr>, BackendError> {
        quotient::on_host(self, job)
    }
}
