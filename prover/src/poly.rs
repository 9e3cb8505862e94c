//! Small polynomial helpers in coefficient form.

use ark_bn254::Fr;
use ark_ff::Zero;
use rayon::prelude::*;

/// `f(z)` by Horner's rule, split across threads for long polynomials.
pub fn evaluate(coeffs: &[Fr], z: Fr) -> Fr {
    const CHUNK: usize = 1 << 12;
    if coeffs.len() <= CHUNK {
        return coeffs.iter().rev().fold(Fr::zero(), |acc, c| acc * z + c);
    }
    let z_chunk = ark_ff::Field::pow(&z, [CHUNK as u64]);
    let parts: Vec<Fr> = coeffs.par_chunks(CHUNK).map(|c| c.iter().rev().fold(Fr::zero(), |acc, c| acc * z + c)).collect();
    parts.iter().rev().fold(Fr::zero(), |acc, p| acc * z_chunk + p)
}

/// The quotient `(f(X) - f(z)) / (X - z)` by synthetic division.
pub fn divide_by_linear(coeffs: &[Fr], z: Fr) -> Vec<Fr> {
    let mut out = vec![Fr::zero(); coeffs.len().saturating_sub(1)];
    let mut carry = Fr::zero();
    for i in (1..coeffs.len()).rev() {
        carry = coeffs[i] + carry * z;
        out[i - 1] = carry;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;

    #[test]
    fn division_matches_evaluation() {
        let mut rng = rand::thread_rng();
        let f: Vec<Fr> = (0..10_000).map(|_| Fr::rand(&mut rng)).collect();
        let (z, w) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let q = divide_by_linear(&f, z);
        // f(w) - f(z) = q(w) (w - z)
        assert_eq!(evaluate(&f, w) - evaluate(&f, z), evaluate(&q, w) * (w - z));
    }
}
