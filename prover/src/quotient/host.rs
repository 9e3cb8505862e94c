//! The quotient with the program run on this machine's cores: the CPU backend's, and a device's
//! where a job does not fit it.

use super::{vanishing_inverse, QuotientJob, Registers, CHUNK};
use crate::backend::{Backend, BackendError};
use ark_bn254::Fr;
use ark_ff::Zero;
use ark_poly::EvaluationDomain;
use rayon::prelude::*;

/// The quotient `h` = numerator / (X^n - 1) in coefficients, computed with `backend`'s FFTs
/// and the program run on this machine's cores, one part of the extended coset at a time.
pub fn on_host(backend: &dyn Backend, job: &QuotientJob) -> Result<Vec<Fr>, BackendError> {
    let domains = job.domains;
    let (n, extension) = (domains.rows.size(), domains.extension);
    let mut h = vec![Fr::zero(); extension * n];
    // Only the slots the program reads: a fixed column of zeros is folded into it.
    let mut read = vec![false; job.program.slots];
    job.program.queries.iter().for_each(|&[slot, _]| read[slot as usize] = true);
    for (j, part) in domains.parts.iter().enumerate() {
        let mut values: Vec<Vec<Fr>> = job.key.iter().chain(&job.proof).zip(&read).filter(|(_, r)| **r).map(|(c, _)| c.to_vec()).collect();
        backend.fft(part, &mut values)?;
        let mut transformed = values.into_iter();
        let values: Vec<Vec<Fr>> = read.iter().map(|&r| if r { transformed.next().expect("one per slot read") } else { Vec::new() }).collect();
        let vanishing_inv = vanishing_inverse(part);
        let mut part_h = vec![Fr::zero(); n];
        part_h
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each_init(|| Registers::new(job.program.registers), |registers, (c, out)| job.program.run(&job.constants, &values, c * CHUNK, out, registers));
        part_h.into_iter().enumerate().for_each(|(i, v)| h[j + extension * i] = v * vanishing_inv);
    }
    backend.ifft(&domains.extended, std::slice::from_mut(&mut h))?;
    Ok(h)
}
