//! The multi-point KZG opening: SHPLONK, the variant with two witnesses of Boneh, Drake,
//! Fisch and Gabizon, "Efficient polynomial commitment schemes for multiple points and
//! polynomials" (2020), §4. `docs/protocol.md` (§6 round 5, §10 step 8) specifies it for
//! zkinfer; the prover's half is `zkinfer_prover::prove`.
//!
//! A commitment may pack `t` polynomials as `g(X) = sum_i X^i f_i(X^t)` (fflonk, Gabizon and
//! Williamson 2021): a set then opens at the `t`-th roots of each of its points `p`, and the
//! remainder of `g` modulo `X^t - p` is `sum_i X^i f_i(p)`, the claimed values, so its factor
//! of `Z_S` is `X^t - p` and no root is ever computed. With `t = 1` this is plain SHPLONK.
//!
//! The polynomials opened on the same set `S` of points are combined with powers of `v` into
//! `F_S`, with `E_S` their combined claimed values and `r_S` the polynomial of degree
//! `< t |S|` that `F_S` leaves modulo `Z_S`. The sets are combined with powers of `u`:
//!
//! ```text
//! h = sum_S u^S (F_S - r_S) / Z_S            W  = [h]
//! L = sum_S u^S Z_{T\S}(zeta) (F_S - r_S(zeta)) - Z_T(zeta) h,  divided by Z_{T\S_0}(zeta)
//!                                           W' = [L / (X - zeta)]
//! ```
//!
//! where `T` is the union of the sets' factors, `Z_A` is the product of the factors of `A` and
//! `S_0` is the first set. `h` is a polynomial only if every claim holds (for random `v` and `u`), and `L(zeta) = 0`
//! by construction. The verifier rebuilds `[L]` from the commitments and checks
//! `e(W', [tau]_2) = e([L] + zeta W', [1]_2)`. The division by `Z_{T\S_0}(zeta)` gives the
//! first polynomial of `S_0` the scalar 1, which saves the EVM verifier a multiplication.

use crate::error::Error;
use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::{pairing::Pairing, AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{Field, One, Zero};

/// Commitments opened on the same points.
pub struct OpeningSet {
    /// The packing factor of its commitments.
    pub t: usize,
    /// Indices into the points of the opening, distinct.
    pub points: Vec<usize>,
    /// The set's commitments and the values claimed for them.
    pub claims: Vec<Claim>,
}

/// A commitment and the values claimed for the polynomials it packs.
pub struct Claim {
    /// The commitment, as a linear combination of G1 points.
    pub commitment: Vec<(G1Affine, Fr)>,
    /// At each point of its set, in the set's order, the value of each packed polynomial
    /// (at most `t`; the missing ones are zero).
    pub values: Vec<Vec<Fr>>,
}

/// For each set `S` (given by its packing factor and points), the factor
/// `Z_{T\S}(zeta) / Z_{T\S_0}(zeta)` of `F_S` in `L`, and the factor `Z_T(zeta) / Z_{T\S_0}(zeta)`
/// of `h`. `T` is the union of the sets' factors `X^t - p`.
pub fn factors(points: &[Fr], sets: &[(usize, &[usize])], zeta: Fr) -> Result<(Vec<Fr>, Fr), Error> {
    let mut all_factors: Vec<(usize, usize)> = sets.iter().flat_map(|(t, set)| set.iter().map(|&j| (*t, j))).collect();
    all_factors.sort();
    all_factors.dedup();
    let differences: Vec<((usize, usize), Fr)> = all_factors.iter().map(|&(t, j)| ((t, j), zeta.pow([t as u64]) - points[j])).collect();
    let outside = |(t, set): &(usize, &[usize])| -> Fr { differences.iter().filter(|((u, j), _)| !(u == t && set.contains(j))).map(|(_, d)| *d).product() };
    let all: Fr = differences.iter().map(|(_, d)| *d).product();
    let normalizer = match sets.first() {
        Some(first) if !all.is_zero() => outside(first).inverse().expect("a factor of a non-zero product"),
        _ => return Err(Error::Rejected("the opening point fell on an evaluation point")),
    };
    Ok((sets.iter().map(|s| outside(s) * normalizer).collect(), all * normalizer))
}

/// Checks the witnesses `w = W` and `w_prime = W'` of the claims of `sets` at `points`, for the
/// challenges `v`, `u` (squeezed after the claimed values) and `zeta` (squeezed after `W`),
/// under an SRS with `[1]_2 = g2` and `[tau]_2 = s_g2`.
#[allow(clippy::too_many_arguments)]
pub fn verify(points: &[Fr], sets: &[OpeningSet], v: Fr, u: Fr, zeta: Fr, w: G1Affine, w_prime: G1Affine, g2: G2Affine, s_g2: G2Affine) -> Result<(), Error> {
    let set_points: Vec<(usize, &[usize])> = sets.iter().map(|s| (s.t, s.points.as_slice())).collect();
    let (factors, h_factor) = factors(points, &set_points, zeta)?;
    // [L] + zeta W' as one MSM: the combined commitments, then r(zeta) G, W and W'.
    let mut bases = Vec::new();
    let mut scalars = Vec::new();
    let mut value = Fr::zero();
    let mut u_s = Fr::one();
    for (set, factor) in sets.iter().zip(factors) {
        let scale = u_s * factor;
        let mut combined = vec![Fr::zero(); set.points.len()];
        let mut v_t = Fr::one();
        for claim in &set.claims {
            for (base, c) in &claim.commitment {
                bases.push(*base);
                scalars.push(scale * v_t * c);
            }
            // The remainder modulo X^t - p at zeta: sum_i zeta^i f_i(p).
            let remainders = claim.values.iter().map(|members| members.iter().rev().fold(Fr::zero(), |acc, e| acc * zeta + e));
            combined.iter_mut().zip(remainders).for_each(|(acc, e)| *acc += v_t * e);
            v_t *= v;
        }
        // The remainders modulo the factors X^t - p, joined by the Chinese remainder theorem:
        // Lagrange interpolation in X^t.
        let at: Vec<Fr> = set.points.iter().map(|&j| points[j]).collect();
        value += scale * interpolate(&at, &combined, zeta.pow([set.t as u64]))?;
        u_s *= u;
    }
    bases.extend([G1Affine::generator(), w, w_prime]);
    scalars.extend([-value, -h_factor, zeta]);
    let right = G1Projective::msm(&bases, &scalars).expect("equal lengths");
    let check = Bn254::multi_pairing([w_prime, (-right).into_affine()], [s_g2, g2]);
    if check.is_zero() {
        Ok(())
    } else {
        Err(Error::Rejected("the opening check failed"))
    }
}

/// The value at `z` of the polynomial of degree `< xs.len()` through `(xs[i], ys[i])`.
fn interpolate(xs: &[Fr], ys: &[Fr], z: Fr) -> Result<Fr, Error> {
    let mut sum = Fr::zero();
    for (i, (xi, yi)) in xs.iter().zip(ys).enumerate() {
        let (mut numerator, mut denominator) = (Fr::one(), Fr::one());
        for (_, xk) in xs.iter().enumerate().filter(|(k, _)| *k != i) {
            numerator *= z - xk;
            denominator *= *xi - xk;
        }
        let inverse = denominator.inverse().ok_or(Error::Rejected("two evaluation points coincide"))?;
        sum += *yi * numerator * inverse;
    }
    Ok(sum)
}
