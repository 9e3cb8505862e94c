//! Small polynomial helpers in coefficient form.

use ark_bn254::Fr;
use ark_ff::{Field, Zero};
use rayon::prelude::*;

/// `f(z)` by Horner's rule, split across threads for long polynomials.
pub fn evaluate(coeffs: &[Fr], z: Fr) -> Fr {
    const CHUNK: usize = 1 << 12;
    if coeffs.len() <= CHUNK {
        return coeffs.iter().rev().fold(Fr::zero(), |acc, c| acc * z + c);
    }
    let z_chunk = z.pow([CHUNK as u64]);
    let parts: Vec<Fr> = coeffs.par_chunks(CHUNK).map(|c| c.iter().rev().fold(Fr::zero(), |acc, c| acc * z + c)).collect();
    parts.iter().rev().fold(Fr::zero(), |acc, p| acc * z_chunk + p)
}

/// The quotient of `f` by `X^t - c`, the remainder dropped (synthetic division; with `t = 1`,
/// `(f(X) - f(c)) / (X - c)`).
///
/// `q[m] = f[m + t] + c q[m + t]` runs from the top down. Blocks of the quotient (multiples
/// of `t` long, but the top one) run it in parallel as if nothing came from above, then each
/// adds `c^k` times the value `k` steps above it, in the block above, once those are known.
pub fn divide_by_binomial(coeffs: &[Fr], t: usize, c: Fr) -> Vec<Fr> {
    if coeffs.len() <= t {
        return Vec::new();
    }
    let mut q = coeffs[t..].to_vec();
    let block = q.len().div_ceil(rayon::current_num_threads()).max(1 << 12).next_multiple_of(t);
    q.par_chunks_mut(block).for_each(|b| {
        for m in (0..b.len().saturating_sub(t)).rev() {
            let above = b[m + t];
            b[m] += c * above;
        }
    });
    // The final bottom `t` values of each block, from the top block down: what the block
    // below adds. Past the top block's end the quotient is 0.
    let blocks = q.len().div_ceil(block);
    let mut bottoms = vec![vec![Fr::zero(); t]; blocks];
    bottoms[blocks - 1].iter_mut().zip(&q[(blocks - 1) * block..]).for_each(|(b, v)| *b = *v);
    let c_block = c.pow([(block / t) as u64]);
    for j in (0..blocks - 1).rev() {
        bottoms[j] = (0..t).map(|r| q[j * block + r] + c_block * bottoms[j + 1][r]).collect();
    }
    q.par_chunks_mut(block).zip(bottoms.par_iter().skip(1)).for_each(|(b, above)| {
        let mut power = c;
        for group in b.chunks_mut(t).rev() {
            group.iter_mut().zip(above).for_each(|(v, a)| *v += power * a);
            power *= c;
        }
    });
    q
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

    /// Block by block in parallel, against the division done one coefficient at a time, for
    /// quotients whose top block is shorter than `t` (4099 = 4096 + 3, 4101 = 4096 + 5) or not.
    #[test]
    fn parallel_division_matches_the_sequential_one() {
        let mut rng = rand::thread_rng();
        for (len, t) in [(3, 1), (4096, 1), (20_000, 1), (20_002, 4), (20_003, 4), (4103, 4), (4117, 16), (16_389, 16)] {
            let f: Vec<Fr> = (0..len).map(|_| Fr::rand(&mut rng)).collect();
            let c = Fr::rand(&mut rng);
            let mut rest = f.clone();
            let mut expected = vec![Fr::zero(); len - t];
            for i in (t..len).rev() {
                let top = rest[i];
                expected[i - t] = top;
                rest[i - t] += c * top;
            }
            // Four threads cut every length past 2^12 into several blocks on any machine.
            let q = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap().install(|| divide_by_binomial(&f, t, c));
            assert!(q == expected, "length {len}, t = {t}");
        }
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
