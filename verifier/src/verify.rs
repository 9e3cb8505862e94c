//! The verifier: replays the transcript, checks the quotient identity at `x` and every
//! claimed evaluation with one multi-point KZG opening (`crate::opening`).

use crate::constraints::{Challenges, Constraints, PointValues};
use crate::description::{Layout, Poly, Round};
use crate::error::Error;
use crate::expression::{ColumnKind, Query};
use crate::opening::{self, Claim, OpeningSet};
use crate::proof::Proof;
use crate::transcript::Transcript;
use crate::vk::VerifyingKey;
use ark_bn254::{Fr, G1Affine};
use ark_ff::{Field, One, Zero};

/// Absorbs the public inputs: per instance column, its length then its values.
pub fn absorb_instances(transcript: &mut Transcript, instances: &[Vec<Fr>]) {
    for column in instances {
        transcript.absorb_fr(&Fr::from(column.len() as u64));
        column.iter().for_each(|v| transcript.absorb_fr(v));
    }
}

/// Checks that the public values are exactly as many per instance column as the key says:
/// a value past them would be in no constraint, and would read as proven.
pub fn check_instances(vk: &VerifyingKey, instances: &[Vec<Fr>]) -> Result<(), Error> {
    check_instance_lengths(vk, &instances.iter().map(Vec::len).collect::<Vec<_>>())
}

/// [`check_instances`] from the column lengths alone.
pub fn check_instance_lengths(vk: &VerifyingKey, lengths: &[usize]) -> Result<(), Error> {
    let counts = &vk.statement().counts;
    if lengths.len() != counts.len() {
        return Err(Error::PublicInputs(format!("{} instance columns given, the circuit has {}", lengths.len(), counts.len())));
    }
    if let Some((c, (n, expected))) = lengths.iter().zip(counts).enumerate().find(|(_, (n, e))| n != e) {
        return Err(Error::PublicInputs(format!("instance column {c} has {n} values, the verifying key fixes {expected}")));
    }
    Ok(())
}

/// Verifies `proof` (its encoded bytes) for the public `instances` under `vk`.
pub fn verify(vk: &VerifyingKey, instances: &[Vec<Fr>], proof: &[u8]) -> Result<(), Error> {
    check_instances(vk, instances)?;
    let d = vk.description();
    let layout = vk.layout();
    let proof = Proof::from_bytes(proof, layout)?;
    let witness_count = layout.commitments_of(Round::Witness).count();

    let mut transcript = Transcript::new(vk.digest());
    absorb_instances(&mut transcript, instances);
    proof.commitments[..witness_count].iter().for_each(|p| transcript.absorb_g1(p));
    let theta = transcript.challenge();
    let beta = transcript.challenge();
    let gamma = transcript.challenge();
    let kappa = transcript.challenge();
    proof.commitments[witness_count..].iter().for_each(|p| transcript.absorb_g1(p));
    let y = transcript.challenge();
    proof.quotient.iter().for_each(|p| transcript.absorb_g1(p));
    let x = transcript.challenge();
    proof.evals.iter().for_each(|e| transcript.absorb_fr(e));
    let v = transcript.challenge();
    let u = transcript.challenge();
    transcript.absorb_g1(&proof.w);
    let zeta = transcript.challenge();

    let n = layout.n;
    let x_n = x.pow([n as u64]);
    let vanishing = x_n - Fr::one();
    // x = 0 would merge all the opening points into one.
    if vanishing.is_zero() || x.is_zero() {
        return Err(Error::Rejected("the evaluation point fell in the domain or on zero"));
    }

    // Lagrange values at x of row 0, the last-row marker and the blinding rows, and of each
    // public-input row at each rotation the circuit reads instance columns at.
    let lagrange = LagrangeAt::new(layout, x, x_n);
    let l_first = lagrange.at(0, 0);
    let l_last = lagrange.at(layout.usable_rows, 0);
    let l_blind: Fr = (layout.usable_rows + 1..n).map(|i| lagrange.at(i, 0)).sum();
    let instance_evals: Vec<((usize, i32), Fr)> =
        layout.instance_queries.iter().map(|&(c, r)| ((c, r), instances[c].iter().enumerate().map(|(i, v)| *v * lagrange.at(i, r)).sum())).collect();

    let values = Evaluations { layout, evals: &proof.evals, instance_evals: &instance_evals, x, l_first, l_last, l_active: Fr::one() - l_last - l_blind };
    let challenges = Challenges { theta, beta, gamma, kappa, y };
    let numerator = Constraints::new(d, layout, challenges).combine(&values);
    let quotient_eval = numerator * vanishing.inverse().unwrap();

    // Every claim, the quotient's included, in one multi-point opening.
    let points: Vec<Fr> = layout.rotations.iter().map(|&r| layout.rotate(r) * x).collect();
    let span = x.pow([(layout.quotient_span * n) as u64]);
    let quotient: Vec<(G1Affine, Fr)> = proof.quotient.iter().zip(core::iter::successors(Some(Fr::one()), |p| Some(*p * span))).map(|(h, s)| (*h, s)).collect();
    // Key commitments come first in the layout's list, then the proof's in proof order.
    let commitment = |i: usize| -> G1Affine {
        let keys = vk.key_commitments().len();
        if i < keys {
            vk.key_commitments()[i]
        } else {
            proof.commitments[i - keys]
        }
    };
    let mut sets: Vec<OpeningSet> = layout
        .point_sets
        .iter()
        .map(|set| OpeningSet {
            t: set.t,
            points: set.rotations.iter().map(|&r| layout.rotation_index(r)).collect(),
            claims: set
                .commitments
                .iter()
                .map(|&c| Claim {
                    commitment: vec![(commitment(c), Fr::one())],
                    values: set.rotations.iter().map(|&r| layout.commitments[c].polys.iter().map(|&poly| proof.evals[layout.opening_index(poly, r)]).collect()).collect(),
                })
                .collect(),
        })
        .collect();
    sets[layout.quotient_set].claims.push(Claim { commitment: quotient, values: vec![vec![quotient_eval]] });
    opening::verify(&points, &sets, v, u, zeta, proof.w, proof.w_prime, vk.g2(), vk.s_g2())
}

/// `L_i(omega^r x) = omega^i (x^n - 1) / (n (omega^r x - omega^i))` for the rows and
/// rotations asked for: a handful of marker rows and the public-input rows.
struct LagrangeAt {
    omega: Fr,
    x: Fr,
    scale: Fr,
    omega_inv: Fr,
}

impl LagrangeAt {
    fn new(layout: &Layout, x: Fr, x_n: Fr) -> Self {
        let n_inv = Fr::from(layout.n as u64).inverse().unwrap();
        Self { omega: layout.omega, x, scale: (x_n - Fr::one()) * n_inv, omega_inv: layout.omega.inverse().unwrap() }
    }

    fn at(&self, row: usize, rotation: i32) -> Fr {
        let omega_i = self.omega.pow([row as u64]);
        let shift = if rotation >= 0 { self.omega.pow([rotation as u64]) } else { self.omega_inv.pow([rotation.unsigned_abs() as u64]) };
        let denominator = shift * self.x - omega_i;
        // x is outside the domain (checked by the caller), so the denominator is non-zero.
        omega_i * self.scale * denominator.inverse().unwrap()
    }
}

struct Evaluations<'a> {
    layout: &'a Layout,
    evals: &'a [Fr],
    instance_evals: &'a [((usize, i32), Fr)],
    x: Fr,
    l_first: Fr,
    l_last: Fr,
    l_active: Fr,
}

impl PointValues for Evaluations<'_> {
    fn x(&self) -> Fr {
        self.x
    }
    fn cell(&self, q: Query) -> Fr {
        let (c, r) = (q.column.index, q.rotation);
        match q.column.kind {
            ColumnKind::Advice => self.evals[self.layout.opening_index(Poly::Advice(c), r)],
            ColumnKind::Fixed => self.evals[self.layout.opening_index(Poly::Fixed(c), r)],
            ColumnKind::Instance => self.instance_evals.iter().find(|(k, _)| *k == (c, r)).expect("instance queries are precomputed").1,
        }
    }
    fn sigma(&self, i: usize) -> Fr {
        self.evals[self.layout.opening_index(Poly::Sigma(i), 0)]
    }
    fn product(&self, j: usize, rotation: i32) -> Fr {
        self.evals[self.layout.opening_index(Poly::PermutationProduct(j), rotation)]
    }
    fn multiplicity(&self, l: usize) -> Fr {
        self.evals[self.layout.opening_index(Poly::Multiplicity(l), 0)]
    }
    fn running_sum(&self, l: usize, rotation: i32) -> Fr {
        self.evals[self.layout.opening_index(Poly::RunningSum(l), rotation)]
    }
    fn l_first(&self) -> Fr {
        self.l_first
    }
    fn l_last(&self) -> Fr {
        self.l_last
    }
    fn l_active(&self) -> Fr {
        self.l_active
    }
}
