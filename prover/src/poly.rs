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

/// The quotient of `f` by `X^t - c`, the remainder dropped (synthetic division; with `t = 1`,
/// `(f(X) - f(c)) / (X - c)`).
pub fn divide_by_binomial(coeffs: &[Fr], t: usize, c: Fr) -> Vec<Fr> {
    if coeffs.len() <= t {
        return Vec::new();
    }
    let mut rest = coeffs.to_vec();
    let mut out = vec![Fr::zero(); coeffs.len() - t];
    for i in (t..coeffs.len()).rev() {
        let top = rest[i];
        out[i - t] = top;
        rest[i - t] += c * top;
    }
    out
}

/// The quotient of `f` by `prod (X^t - p)` over `points`, the remainder dropped: dividing by
/// one factor after the other leaves the remainders behind.
pub fn divide_by_vanishing(coeffs: &[Fr], points: &[Fr], t: usize) -> Vec<Fr> {
    points.iter().fold(coeffs.to_vec(), |q, p| divide_by_binomial(&q, t, *p))
}

/// `sum_i X^i f_i(X^t)` for the polynomials `f_i` (at most `t`), given by coefficients.
pub fn pack(members: &[&[Fr]], t: usize) -> Vec<Fr> {
    let len = members.iter().map(|f| f.len()).max().unwrap_or(0);
    let mut g = vec![Fr::zero(); t * len];
    for (i, f) in members.iter().enumerate() {
        f.iter().enumerate().for_each(|(j, c)| g[i + t * j] = *c);
    }
    g
}

/// `acc += scale * f`, extending `acc` with zeros where `f` is longer.
pub fn add_scaled(acc: &mut Vec<Fr>, f: &[Fr], scale: Fr) {
    if acc.len() < f.len() {
        acc.resize(f.len(), Fr::zero());
    }
    acc.par_iter_mut().zip(f.par_iter()).for_each(|(a, c)| *a += scale * c);
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
        let q = divide_by_binomial(&f, 1, z);
        // f(w) - f(z) = q(w) (w - z)
        assert_eq!(evaluate(&f, w) - evaluate(&f, z), evaluate(&q, w) * (w - z));
    }

    #[test]
    fn division_by_a_vanishing_polynomial_leaves_a_low_degree_remainder() {
        let mut rng = rand::thread_rng();
        let f: Vec<Fr> = (0..1000).map(|_| Fr::rand(&mut rng)).collect();
        let points: Vec<Fr> = (0..3).map(|_| Fr::rand(&mut rng)).collect();
        let q = divide_by_vanishing(&f, &points, 1);
        assert_eq!(q.len(), f.len() - 3);
        // f - q Z agrees with f on the points and has degree < 3: three values fix it, so
        // it agrees with its interpolant everywhere.
        let remainder = |z: Fr| evaluate(&f, z) - evaluate(&q, z) * points.iter().map(|p| z - p).product::<Fr>();
        let lagrange = |z: Fr| -> Fr {
            (0..3)
                .map(|i| {
                    let others = (0..3).filter(|&k| k != i);
                    let basis: Fr = others.clone().map(|k| (z - points[k]) / (points[i] - points[k])).product();
                    evaluate(&f, points[i]) * basis
                })
                .sum()
        };
        let w = Fr::rand(&mut rng);
        assert_eq!(remainder(w), lagrange(w));
    }

    /// A packed polynomial modulo `X^t - p` is `sum_i X^i f_i(p)`: dividing leaves that
    /// remainder, for every factor of the vanishing polynomial.
    #[test]
    fn packing_leaves_the_members_values_as_remainders() {
        let mut rng = rand::thread_rng();
        let t = 4;
        let members: Vec<Vec<Fr>> = (0..3).map(|i| (0..50 + i).map(|_| Fr::rand(&mut rng)).collect()).collect();
        let refs: Vec<&[Fr]> = members.iter().map(Vec::as_slice).collect();
        let g = pack(&refs, t);
        let points: Vec<Fr> = (0..2).map(|_| Fr::rand(&mut rng)).collect();
        let q = divide_by_vanishing(&g, &points, t);
        let z = Fr::rand(&mut rng);
        let zt = ark_ff::Field::pow(&z, [t as u64]);
        let remainder = evaluate(&g, z) - evaluate(&q, z) * points.iter().map(|p| zt - p).product::<Fr>();
        // Lagrange in X^t over the points of the remainders sum_i z^i f_i(p).
        let at = |j: usize| members.iter().enumerate().map(|(i, f)| ark_ff::Field::pow(&z, [i as u64]) * evaluate(f, points[j])).sum::<Fr>();
        let expected = at(0) * (zt - points[1]) / (points[0] - points[1]) + at(1) * (zt - points[0]) / (points[1] - points[0]);
        assert_eq!(remainder, expected);
    }

    #[test]
    fn add_scaled_extends_the_accumulator() {
        let mut g = vec![Fr::from(5u64)];
        add_scaled(&mut g, &[Fr::from(1u64), Fr::from(2u64)], Fr::from(3u64));
        assert_eq!(g, [Fr::from(8u64), Fr::from(6u64)]);
    }
}
