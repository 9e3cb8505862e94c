//! The prover. Rounds, challenges and identities follow `docs/protocol.md`.

use crate::backend::{Backend, BackendError, Bases};
use crate::keygen::{commit, ProvingKey};
use crate::poly::{add_scaled, divide_by_binomial, divide_by_vanishing, evaluate};
use crate::quotient::{ProofPolys, QuotientJob};
use crate::{Error, Mismatch};
use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::{batch_inversion, Field, One, UniformRand, Zero};
use rand::RngCore;
use rayon::prelude::*;
use std::collections::HashMap;
use zkinfer_circuits::{check, Circuit, Columns, Synthesis};
use zkinfer_verifier::constraints::Challenges;
use zkinfer_verifier::description::{Poly, Round};
use zkinfer_verifier::opening;
use zkinfer_verifier::transcript::Transcript;
use zkinfer_verifier::verify::{absorb_instances, check_instances};
use zkinfer_verifier::{Expression, Layout, Proof};

#[derive(Clone, Copy, Debug)]
pub struct ProveOptions {
    /// Check every constraint on the witness, and that the public values are as many as the
    /// key fixes, before proving, and name what fails; and verify the proof before returning
    /// it. Only tests of the verifier turn this off, to play a prover that cheats.
    pub check_witness: bool,
}

impl Default for ProveOptions {
    fn default() -> Self {
        Self { check_witness: true }
    }
}

/// Proves that `circuit`'s witness satisfies the circuit of `pk` with public `instances`;
/// returns the encoded proof.
pub fn prove<C: Circuit>(pk: &ProvingKey, circuit: &C, instances: &[Vec<Fr>], backend: &dyn Backend, rng: &mut impl RngCore, options: ProveOptions) -> Result<Vec<u8>, Error> {
    let vk = &pk.vk;
    let d = vk.description();
    let layout = vk.layout();
    let (n, usable) = (layout.n, layout.usable_rows);
    if options.check_witness {
        check_instances(vk, instances)?;
    } else if instances.len() != d.num_instance || instances.iter().any(|c| c.len() > usable) {
        return Err(Error::Circuit(format!("{} instance columns of at most {usable} values are needed", d.num_instance)));
    }

    // The witness alone: the key holds the fixed columns (the synthesis compares the circuit's
    // with them) and the copy constraints, which the witness check (and in the end the
    // verifier) holds the witness to.
    let mut synthesis = Synthesis::witness(circuit, &pk.fixed.values)?;
    synthesis.pad(d.k, instances.iter().map(Vec::len).max().unwrap_or(0))?;
    if synthesis.cs.description(d.k) != *d {
        return Err(Error::Circuit("the circuit is not the one the proving key was made for".into()));
    }
    let instance: Vec<Vec<Fr>> = instances
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.resize(n, Fr::zero());
            c
        })
        .collect();
    let mut advice = synthesis.advice;
    for col in advice.iter_mut() {
        col[usable..].iter_mut().for_each(|v| *v = Fr::rand(rng));
    }
    let columns = Columns { fixed: &pk.fixed.values, advice: &advice, instance: &instance };
    if options.check_witness {
        let failures = check(d, usable, &columns, &pk.permutation);
        if !failures.is_empty() {
            return Err(Error::Unsatisfied(failures));
        }
    }

    let domains = &pk.domains;
    // Round 1: advice columns and lookup multiplicities.
    let mut multiplicity: Vec<Vec<Fr>> = d.lookups.iter().map(|l| multiplicities(l, &columns, usable, n)).collect();
    for m in multiplicity.iter_mut() {
        m[usable..].iter_mut().for_each(|v| *v = Fr::rand(rng));
    }
    let witness_commitments = commit_round(pk, backend, Round::Witness, &|p| match p {
        Poly::Advice(i) => &advice[i],
        Poly::Multiplicity(l) => &multiplicity[l],
        _ => unreachable!("the witness round commits advice and multiplicities"),
    })?;

    let mut transcript = Transcript::new(vk.digest());
    absorb_instances(&mut transcript, instances);
    witness_commitments.iter().for_each(|p| transcript.absorb_g1(p));
    let theta = transcript.challenge();
    let beta = transcript.challenge();
    let gamma = transcript.challenge();
    let kappa = transcript.challenge();

    // Round 2: permutation grand products and LogUp running sums.
    let mut products = permutation_products(pk, &columns, beta, gamma, rng);
    let mut running_sums: Vec<Vec<Fr>> = d.lookups.iter().zip(&multiplicity).map(|(l, m)| running_sum(l, &columns, m, theta, kappa, usable, rng)).collect();
    let argument_commitments = commit_round(pk, backend, Round::Argument, &|p| match p {
        Poly::PermutationProduct(j) => &products[j],
        Poly::RunningSum(l) => &running_sums[l],
        _ => unreachable!("the argument round commits products and running sums"),
    })?;
    argument_commitments.iter().for_each(|p| transcript.absorb_g1(p));
    let y = transcript.challenge();

    // Round 3: the quotient h = (combined identities) / (X^n - 1), from the backend, split into
    // pieces of `quotient_span * n` coefficients and blinded so that the pieces are random but
    // still sum (with powers of x^(span n)) to h.
    // From here on every column is needed in coefficient form only.
    let mut instance = instance;
    for group in [&mut advice, &mut multiplicity, &mut products, &mut running_sums, &mut instance] {
        domains.interpolate(backend, group)?;
    }
    let polys = ProofPolys { advice: &advice, instance: &instance, products: &products, multiplicity: &multiplicity, running_sums: &running_sums };
    let h = backend.quotient(&QuotientJob::new(pk, &Challenges { theta, beta, gamma, kappa, y }, polys))?;
    let pieces = layout.num_quotient_pieces();
    let span = layout.quotient_span * n;
    let mut quotient: Vec<Vec<Fr>> = h.chunks(span).map(|c| c.to_vec()).collect();
    for i in 0..pieces - 1 {
        let b = Fr::rand(rng);
        quotient[i].push(b);
        quotient[i + 1][0] -= b;
    }
    let quotient_pieces: Vec<&[Fr]> = quotient.iter().map(Vec::as_slice).collect();
    let quotient_commitments: Vec<G1Affine> = G1Projective::normalize_batch(&backend.msm(&pk.bases, &quotient_pieces)?);
    quotient_commitments.iter().for_each(|p| transcript.absorb_g1(p));
    let x = transcript.challenge();

    // Round 4: evaluations.
    let coeffs_of = |poly: Poly| -> &[Fr] {
        match poly {
            Poly::Advice(i) => &advice[i],
            Poly::Fixed(i) => &pk.fixed.coeffs[i],
            Poly::Sigma(i) => &pk.sigma.coeffs[i],
            Poly::PermutationProduct(j) => &products[j],
            Poly::Multiplicity(l) => &multiplicity[l],
            Poly::RunningSum(l) => &running_sums[l],
        }
    };
    let evals: Vec<Fr> = layout.openings.par_iter().map(|o| evaluate(coeffs_of(o.poly), layout.rotate(o.rotation) * x)).collect();
    evals.iter().for_each(|e| transcript.absorb_fr(e));
    let v = transcript.challenge();
    let u = transcript.challenge();

    // Round 5: the multi-point opening of every commitment on its point set, the quotient sum
    // x^(span n i) h_i on the set (1, [0]).
    let x_span = x.pow([span as u64]);
    let mut quotient_sum = Vec::new();
    let mut x_si = Fr::one();
    for q in &quotient {
        add_scaled(&mut quotient_sum, q, x_si);
        x_si *= x_span;
    }
    let points: Vec<Fr> = layout.rotations.iter().map(|&r| layout.rotate(r) * x).collect();
    let mut sets: Vec<OpenedSet> = layout
        .point_sets
        .iter()
        .map(|set| OpenedSet {
            t: set.t,
            points: set.rotations.iter().map(|&r| layout.rotation_index(r)).collect(),
            claims: set.commitments.iter().map(|&c| layout.commitments[c].polys.iter().map(|&p| coeffs_of(p)).collect()).collect(),
        })
        .collect();
    sets[layout.quotient_set].claims.push(vec![&quotient_sum]);
    let (w, w_prime) = open(backend, &pk.bases, &points, &sets, v, u, &mut transcript)?;

    let proof = Proof { commitments: witness_commitments.into_iter().chain(argument_commitments).collect(), quotient: quotient_commitments, evals, w, w_prime }.to_bytes();
    // An honest witness that the key's circuit holds always verifies, unless the key was
    // rebuilt for a circuit of other fixed columns or copy constraints than its commitments'
    // (`proving_key_for`): that proof is refused here rather than handed out.
    if options.check_witness && zkinfer_verifier::verify::verify(vk, instances, &proof).is_err() {
        return Err(Error::NotTheKeysCircuit(Mismatch::Commitments));
    }
    Ok(proof)
}

/// The commitments of `round`, from the row values of its polynomials. A polynomial committed
/// alone is committed from them directly: activations are small integers, cheap scalars for an
/// MSM, where their coefficients would be full-size. Packed ones need their members'
/// coefficients, interpolated here.
fn commit_round<'a>(pk: &ProvingKey, backend: &dyn Backend, round: Round, values: &dyn Fn(Poly) -> &'a [Fr]) -> Result<Vec<G1Affine>, BackendError> {
    let layout = pk.vk.layout();
    let members: Vec<Poly> = layout.commitments_of(round).filter(|c| c.t > 1).flat_map(|c| c.polys.iter().copied()).collect();
    let mut packed: Vec<Vec<Fr>> = members.iter().map(|&p| values(p).to_vec()).collect();
    pk.domains.interpolate(backend, &mut packed)?;
    let coeffs = |p: Poly| -> &[Fr] { &packed[members.iter().position(|&q| q == p).expect("packed members are interpolated")] };
    let commitments: Vec<_> = layout.commitments_of(round).collect();
    Ok(G1Projective::normalize_batch(&commit(backend, &pk.bases, &pk.lagrange, &commitments, values, coeffs)?))
}

/// Commitments opened on the same points, each given by the coefficients of the polynomials it
/// packs.
struct OpenedSet<'a> {
    t: usize,
    /// Indices into the opening's points.
    points: Vec<usize>,
    claims: Vec<Vec<&'a [Fr]>>,
}

/// The multi-point opening (SHPLONK; `zkinfer_verifier::opening` states the equations) of
/// each set's polynomials, after `v` and `u` are drawn: commits `W`, absorbs it, draws `zeta`
/// and commits `W'`. It does not need the claimed values: the remainders it drops are their
/// interpolants.
fn open(backend: &dyn Backend, bases: &Bases, points: &[Fr], sets: &[OpenedSet], v: Fr, u: Fr, transcript: &mut Transcript) -> Result<(G1Affine, G1Affine), Error> {
    let combined: Vec<Vec<Fr>> = sets
        .iter()
        .map(|set| {
            // The packed polynomials are combined in place rather than each built first: at
            // t n coefficients apiece they would dominate the proof's memory.
            let len = set.claims.iter().flatten().map(|m| m.len()).max().unwrap_or(0) * set.t;
            let mut f = vec![Fr::zero(); len];
            let mut v_t = Fr::one();
            for claim in &set.claims {
                for (i, member) in claim.iter().enumerate() {
                    f.par_iter_mut().skip(i).step_by(set.t).zip(member.par_iter()).for_each(|(a, c)| *a += v_t * c);
                }
                v_t *= v;
            }
            f
        })
        .collect();
    let mut h = Vec::new();
    let mut u_s = Fr::one();
    for (set, f) in sets.iter().zip(&combined) {
        let at: Vec<Fr> = set.points.iter().map(|&j| points[j]).collect();
        add_scaled(&mut h, &divide_by_vanishing(f, &at, set.t), u_s);
        u_s *= u;
    }
    let w = backend.msm(bases, &[&h])?[0].into_affine();
    transcript.absorb_g1(&w);
    let zeta = transcript.challenge();

    let set_points: Vec<(usize, &[usize])> = sets.iter().map(|s| (s.t, s.points.as_slice())).collect();
    let (factors, h_factor) = opening::factors(points, &set_points, zeta)?;
    let mut l = Vec::new();
    let mut u_s = Fr::one();
    for (f, factor) in combined.iter().zip(factors) {
        add_scaled(&mut l, f, u_s * factor);
        u_s *= u;
    }
    add_scaled(&mut l, &h, -h_factor);
    // L(zeta) = 0, so the constant terms that L omits (the values r_S(zeta)) change nothing
    // in its quotient by X - zeta.
    let w_prime = backend.msm(bases, &[&divide_by_binomial(&l, 1, zeta)])?[0].into_affine();
    Ok((w, w_prime))
}

/// `m[j]` = the selector-weighted count of usable rows whose input tuple equals table row j
/// (the first table row holding that tuple). Inputs missing from the table are left out;
/// the honest prover has already refused such a witness.
fn multiplicities(lookup: &zkinfer_verifier::Lookup, columns: &Columns, usable: usize, n: usize) -> Vec<Fr> {
    let tuple = |exprs: &[Expression], row: usize| -> Vec<Fr> { exprs.iter().map(|e| e.evaluate(&|q| columns.get(q, row))).collect() };
    let mut index: HashMap<Vec<Fr>, usize> = HashMap::new();
    for row in 0..usable {
        index.entry(tuple(&lookup.table, row)).or_insert(row);
    }
    let mut m = vec![Fr::zero(); n];
    for row in 0..usable {
        let q = lookup.selector.evaluate(&|q| columns.get(q, row));
        if !q.is_zero() {
            if let Some(&j) = index.get(&tuple(&lookup.inputs, row)) {
                m[j] += q;
            }
        }
    }
    m
}

/// Grand products over chunks of permutation columns: `z_j[r+1] = z_j[r] * prod (a + beta
/// delta^i omega^r + gamma) / prod (a + beta sigma_i(omega^r) + gamma)`, each chunk starting
/// where the previous ended, random past the usable rows.
fn permutation_products(pk: &ProvingKey, columns: &Columns, beta: Fr, gamma: Fr, rng: &mut impl RngCore) -> Vec<Vec<Fr>> {
    let layout = pk.vk.layout();
    let d = pk.vk.description();
    let (n, usable) = (layout.n, layout.usable_rows);
    let omegas = &pk.domains.omegas;
    let mut denominator = vec![Fr::zero(); usable];
    let mut out: Vec<Vec<Fr>> = d
        .permutation
        .chunks(layout.chunk)
        .enumerate()
        .map(|(j, chunk)| {
            // z[r + 1] holds the row's ratio until the scan makes it the product up to r.
            let first = j * layout.chunk;
            let values: Vec<&[Fr]> = chunk.iter().map(|c| columns.column(*c)).collect();
            let sigmas = &pk.sigma.values[first..first + chunk.len()];
            let beta_shifts: Vec<Fr> = (first..first + chunk.len()).map(|i| beta * Layout::permutation_shift(i)).collect();
            let mut z = vec![Fr::one(); n];
            z[1..=usable].par_iter_mut().zip(denominator.par_iter_mut()).enumerate().for_each(|(r, (num, den))| {
                *den = Fr::one();
                for ((a, sigma), beta_shift) in values.iter().zip(sigmas).zip(&beta_shifts) {
                    *num *= a[r] + *beta_shift * omegas[r] + gamma;
                    *den *= a[r] + beta * sigma[r] + gamma;
                }
            });
            batch_inversion(&mut denominator);
            z[1..=usable].par_iter_mut().zip(denominator.par_iter()).for_each(|(num, den)| *num *= den);
            scan(&mut z[..=usable], |a, b| a * b);
            z
        })
        .collect();
    // Chunk j starts where chunk j - 1 ended.
    let mut start = Fr::one();
    for z in out.iter_mut() {
        z[..=usable].par_iter_mut().for_each(|v| *v *= start);
        start = z[usable];
        z[usable + 1..].iter_mut().for_each(|v| *v = Fr::rand(rng));
    }
    out
}

/// `v[i] = v[0] op v[1] op ... op v[i]` for an associative `op`, in parallel: blocks are
/// scanned on their own, then each is combined with the total of the blocks before it.
fn scan(v: &mut [Fr], op: impl Fn(Fr, Fr) -> Fr + Sync) {
    let block = v.len().div_ceil(rayon::current_num_threads()).max(1 << 10);
    v.par_chunks_mut(block).for_each(|b| {
        for i in 1..b.len() {
            b[i] = op(b[i - 1], b[i]);
        }
    });
    let mut carries = Vec::new();
    for b in v.chunks(block).take(v.len().div_ceil(block).saturating_sub(1)) {
        let last = b[b.len() - 1];
        carries.push(carries.last().map_or(last, |&c| op(c, last)));
    }
    v.par_chunks_mut(block).skip(1).zip(carries).for_each(|(b, c)| b.iter_mut().for_each(|x| *x = op(c, *x)));
}

/// LogUp running sum: `phi[0] = 0`, `phi[r+1] = phi[r] + m[r] / (t[r] + kappa) - q[r] /
/// (f[r] + kappa)`; it returns to 0 at the last-row marker when every input is in the table.
fn running_sum(lookup: &zkinfer_verifier::Lookup, columns: &Columns, m: &[Fr], theta: Fr, kappa: Fr, usable: usize, rng: &mut impl RngCore) -> Vec<Fr> {
    let n = m.len();
    let compress = |exprs: &[Expression], row: usize| exprs.iter().fold(Fr::zero(), |acc, e| acc * theta + e.evaluate(&|q| columns.get(q, row))) + kappa;
    let mut inputs: Vec<Fr> = (0..usable).into_par_iter().map(|r| compress(&lookup.inputs, r)).collect();
    let mut tables: Vec<Fr> = (0..usable).into_par_iter().map(|r| compress(&lookup.table, r)).collect();
    batch_inversion(&mut inputs);
    batch_inversion(&mut tables);
    // phi[r + 1] holds the row's term until the scan makes it the sum up to r.
    let mut phi = vec![Fr::zero(); n];
    phi[1..=usable].par_iter_mut().enumerate().for_each(|(r, term)| {
        let q = lookup.selector.evaluate(&|q| columns.get(q, r));
        *term = m[r] * tables[r] - q * inputs[r];
    });
    scan(&mut phi[..=usable], |a, b| a + b);
    phi[usable + 1..].iter_mut().for_each(|v| *v = Fr::rand(rng));
    phi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cpu, Srs};
    use ark_ec::AffineRepr;
    use rand::SeedableRng;
    use zkinfer_verifier::opening::{Claim, OpeningSet};

    /// Blocks of every size the scan may cut, against the running sum and product taken one
    /// element at a time.
    #[test]
    fn the_scan_matches_the_sequential_prefix() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        for len in [0, 1, 2, 1023, 1024, 1025, 5000] {
            let v: Vec<Fr> = (0..len).map(|_| Fr::rand(&mut rng)).collect();
            for (op, name) in [(&(|a, b| a + b) as &(dyn Fn(Fr, Fr) -> Fr + Sync), "sum"), (&|a, b| a * b, "product")] {
                let mut expected = v.clone();
                for i in 1..len {
                    expected[i] = op(expected[i - 1], expected[i]);
                }
                let mut scanned = v.clone();
                // Four threads cut 5000 into four blocks and 1025 into two on any machine.
                rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap().install(|| scan(&mut scanned, op));
                assert_eq!(scanned, expected, "{name} of {len}");
            }
        }
    }

    /// Random polynomials opened on sets of one, two and three of four points: the true claims
    /// verify; a false claim does not, even with the opening computed for it, and neither
    /// do swapped values, points or witnesses.
    #[test]
    fn the_opening_proves_true_claims_only() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let srs = Srs::generate_insecure(128, &mut rng);
        let bases = Bases::new(srs.g1().to_vec());
        let points: Vec<Fr> = (0..4).map(|_| Fr::rand(&mut rng)).collect();
        let set_points = [vec![1, 2, 3], vec![0], vec![0, 1]];
        let polys: Vec<Vec<Vec<Fr>>> = (0..3).map(|s| (0..2 + s).map(|i| (0..40 + 10 * i).map(|_| Fr::rand(&mut rng)).collect()).collect()).collect();
        let truth: Vec<Vec<Vec<Fr>>> = polys.iter().zip(&set_points).map(|(ps, at)| ps.iter().map(|f| at.iter().map(|&j| evaluate(f, points[j])).collect()).collect()).collect();

        // Opens with challenges drawn from the claimed values, as a prover would for them.
        let run = |points: &[Fr], claimed: &[Vec<Vec<Fr>>], edit: &dyn Fn(&mut G1Affine, &mut G1Affine)| {
            let mut transcript = Transcript::new(&[7; 32]);
            claimed.iter().flatten().flatten().for_each(|e| transcript.absorb_fr(e));
            let (v, u) = (transcript.challenge(), transcript.challenge());
            let sets: Vec<OpenedSet> =
                set_points.iter().zip(&polys).map(|(at, ps)| OpenedSet { t: 1, points: at.clone(), claims: ps.iter().map(|p| vec![p.as_slice()]).collect() }).collect();
            let (mut w, mut w_prime) = open(&Cpu, &bases, points, &sets, v, u, &mut transcript).unwrap();
            edit(&mut w, &mut w_prime);
            let mut transcript = Transcript::new(&[7; 32]);
            claimed.iter().flatten().flatten().for_each(|e| transcript.absorb_fr(e));
            let (v, u) = (transcript.challenge(), transcript.challenge());
            transcript.absorb_g1(&w);
            let zeta = transcript.challenge();
            let claims: Vec<OpeningSet> = set_points
                .iter()
                .zip(&polys)
                .zip(claimed)
                .map(|((at, ps), values)| OpeningSet {
                    t: 1,
                    points: at.clone(),
                    claims: ps
                        .iter()
                        .zip(values)
                        .map(|(f, e)| Claim { commitment: vec![(Cpu.msm(&bases, &[f]).unwrap()[0].into_affine(), Fr::one())], values: e.iter().map(|v| vec![*v]).collect() })
                        .collect(),
                })
                .collect();
            zkinfer_verifier::opening::verify(points, &claims, v, u, zeta, w, w_prime, srs.g2(), srs.s_g2())
        };
        let keep = |_: &mut G1Affine, _: &mut G1Affine| {};
        run(&points, &truth, &keep).unwrap();

        for s in 0..truth.len() {
            for t in 0..truth[s].len() {
                for j in 0..truth[s][t].len() {
                    let mut claimed = truth.clone();
                    claimed[s][t][j] += Fr::one();
                    assert!(run(&points, &claimed, &keep).is_err(), "set {s}, polynomial {t}, point {j}");
                }
                let mut claimed = truth.clone();
                claimed[s][t].reverse();
                if claimed != truth {
                    assert!(run(&points, &claimed, &keep).is_err(), "set {s}, polynomial {t}: values reversed");
                }
            }
        }
        let mut swapped = points.clone();
        swapped.swap(1, 2);
        assert!(run(&swapped, &truth, &keep).is_err(), "points 1 and 2 swapped");
        assert!(run(&points, &truth, &|w, w_prime| std::mem::swap(w, w_prime)).is_err(), "W and W' swapped");
        let g = G1Affine::generator();
        assert!(run(&points, &truth, &|w, _| *w = (*w + g).into_affine()).is_err(), "W + G");
        assert!(run(&points, &truth, &|_, w_prime| *w_prime = (*w_prime + g).into_affine()).is_err(), "W' + G");
    }
}
