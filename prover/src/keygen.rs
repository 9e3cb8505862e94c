//! Key generation: commits to the fixed columns and the copy-constraint permutation once,
//! and keeps what the prover needs in every form it uses them.

use crate::backend::{Backend, BackendError, Bases, Domain};
use crate::poly::pack;
use crate::quotient::Program;
use crate::srs::{Srs, SrsError};
use crate::{Error, Mismatch};
use ark_bn254::{Fr, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::{FftField, One, Zero};
use ark_poly::EvaluationDomain;
use rayon::prelude::*;
use zkinfer_circuits::{Circuit, Pass, Permutation, Synthesis};
use zkinfer_verifier::description::Poly;
use zkinfer_verifier::{CircuitDescription, ColumnKind, Commitment, Layout, Query, Round, Statement, VerifyingKey};

/// Columns in the two forms the prover keeps: values on the rows and coefficients.
pub struct Polys {
    pub values: Vec<Vec<Fr>>,
    pub coeffs: Vec<Vec<Fr>>,
}

/// The domains of a circuit of `2^k` rows.
pub struct Domains {
    pub rows: Domain,
    /// The coset `g * <omega_ext>` of size `extension * n` on which the quotient is divided.
    pub extended: Domain,
    /// The extended coset as `extension` cosets of the rows' subgroup, `g zeta^j <omega>` with
    /// `zeta` generating the extended subgroup: its point `j + extension * i` is point `i` of
    /// part `j`. The quotient is evaluated one part at a time, so only n values of each
    /// column are alive at once instead of `extension * n`.
    pub parts: Vec<Domain>,
    pub extension: usize,
    /// `omega^r` for every row: the identity permutation at key generation and in every
    /// proof's grand products.
    pub omegas: Vec<Fr>,
}

impl Domains {
    pub fn new(layout: &Layout) -> Self {
        let rows = Domain::new(layout.n).expect("k is at most 26");
        let extended = Domain::new(layout.n * layout.extension).and_then(|d| d.get_coset(Fr::GENERATOR)).expect("the extended domain fits in the two-adic subgroup");
        let parts = extended.elements().take(layout.extension).map(|offset| rows.get_coset(offset).expect("coset offsets are nonzero")).collect();
        Self { rows, extended, parts, extension: layout.extension, omegas: rows.elements().collect() }
    }

    /// Coefficients of polynomials given by their row values, in place.
    pub fn interpolate(&self, backend: &dyn Backend, columns: &mut [Vec<Fr>]) -> Result<(), BackendError> {
        backend.ifft(&self.rows, columns)
    }

    pub fn polys(&self, backend: &dyn Backend, values: Vec<Vec<Fr>>) -> Result<Polys, BackendError> {
        let mut coeffs = values.clone();
        self.interpolate(backend, &mut coeffs)?;
        Ok(Polys { values, coeffs })
    }
}

pub struct ProvingKey {
    pub vk: VerifyingKey,
    /// [tau^i]_1, i < `Layout::srs_powers`: commitments to coefficients (packed polynomials,
    /// quotient pieces, opening witnesses).
    pub(crate) bases: Bases,
    /// [L_i(tau)]_1: commitments to row values (witness columns, fixed columns, permutation).
    pub(crate) lagrange: Bases,
    pub(crate) domains: Domains,
    pub(crate) fixed: Polys,
    pub(crate) sigma: Polys,
    /// The copy constraints, for the witness check before each proof.
    pub(crate) permutation: Permutation,
    /// Coefficients of l_first, l_last and l_active, in that order.
    pub(crate) markers: Vec<Vec<Fr>>,
    /// The quotient's numerator, compiled.
    pub(crate) program: Program,
}

/// Number of public-input rows a circuit uses: one past the last instance cell it copies.
pub fn instance_rows(synthesis: &Synthesis) -> usize {
    instance_counts(synthesis).into_iter().max().unwrap_or(0)
}

/// Public values per instance column: one past the last cell of the column a copy constraint
/// ties to the witness.
fn instance_counts(synthesis: &Synthesis) -> Vec<usize> {
    let mut counts = vec![0; synthesis.cs.num_instance()];
    for c in synthesis.copies.iter().flat_map(|(a, b)| [a, b]).filter(|c| c.column.kind == ColumnKind::Instance) {
        counts[c.column.index] = counts[c.column.index].max(c.row + 1);
    }
    counts
}

/// The statement of the verifying key: exactly the public values the copy constraints tie to
/// the witness, named by the circuit. A row below the count that no copy reaches would be a
/// public value that proves nothing, so such a circuit is refused.
fn statement<C: Circuit>(synthesis: &Synthesis, circuit: &C) -> Result<Statement, Error> {
    let counts = instance_counts(synthesis);
    let mut copied: Vec<Vec<bool>> = counts.iter().map(|&n| vec![false; n]).collect();
    for c in synthesis.copies.iter().flat_map(|(a, b)| [a, b]).filter(|c| c.column.kind == ColumnKind::Instance) {
        copied[c.column.index][c.row] = true;
    }
    if let Some((c, row)) = copied.iter().enumerate().find_map(|(c, rows)| rows.iter().position(|x| !x).map(|r| (c, r))) {
        return Err(Error::Circuit(format!("instance column {c} row {row} is below the last public value but no copy constraint reaches it: it would prove nothing")));
    }
    Ok(Statement { counts, tensors: circuit.public_tensors() })
}

/// Lookup selectors must be 0 or 1 on every row: a selector of 2 would count an input twice in
/// the LogUp sum, which a multiplicity could then balance with a value outside the table.
fn check_lookup_selectors(description: &CircuitDescription, fixed: &[Vec<Fr>]) -> Result<(), Error> {
    let n = 1usize << description.k;
    for lookup in &description.lookups {
        let bad = (0..n).into_par_iter().find_first(|&row| {
            let cell = |q: Query| fixed[q.column.index][(row as i64 + q.rotation as i64).rem_euclid(n as i64) as usize];
            let s = lookup.selector.evaluate(&cell);
            !(s.is_zero() || s.is_one())
        });
        if let Some(row) = bad {
            return Err(Error::Circuit(format!("lookup '{}': its selector is neither 0 nor 1 at row {row}", lookup.name)));
        }
    }
    Ok(())
}

/// Builds proving and verifying keys at `2^k` rows, or the smallest k that fits, with at
/// most `pack` polynomials (a power of two) in one commitment: 1 for the fastest prover, more
/// for fewer commitments and so cheaper verification on the EVM (docs/protocol.md §3.7).
pub fn keygen<C: Circuit>(srs: &Srs, circuit: &C, k: Option<u32>, pack: usize, backend: &dyn Backend) -> Result<ProvingKey, Error> {
    build(srs, circuit, k, pack, backend, None)
}

/// Rebuilds the proving key of `vk` without recomputing its commitments (the MSMs are most
/// of key generation); fails if `circuit` is not the circuit `vk` was made for, by its
/// description and public values (a circuit of other fixed columns makes proofs that `prove`
/// refuses, since it verifies each).
pub fn proving_key_for<C: Circuit>(srs: &Srs, circuit: &C, vk: VerifyingKey, backend: &dyn Backend) -> Result<ProvingKey, Error> {
    build(srs, circuit, Some(vk.description().k), vk.pack(), backend, Some(vk))
}

fn build<C: Circuit>(srs: &Srs, circuit: &C, k: Option<u32>, pack: usize, backend: &dyn Backend, vk: Option<VerifyingKey>) -> Result<ProvingKey, Error> {
    if !zkinfer_verifier::vk::is_valid_pack(pack) {
        return Err(Error::Circuit(format!("packing {pack} is not a power of two up to {}", zkinfer_verifier::vk::MAX_PACK)));
    }
    let mut synthesis = Synthesis::run(circuit, Pass::Key)?;
    let statement = statement(&synthesis, circuit)?;
    let instance_rows = instance_rows(&synthesis);
    let k = k.unwrap_or_else(|| synthesis.min_k(instance_rows));
    synthesis.pad(k, instance_rows)?;
    let description = synthesis.cs.description(k);
    description.validate()?;
    if let Some(vk) = &vk {
        if *vk.description() != description {
            return Err(Error::NotTheKeysCircuit(Mismatch::Description));
        }
        if *vk.statement() != statement {
            return Err(Error::NotTheKeysCircuit(Mismatch::PublicValues));
        }
        if (vk.g2(), vk.s_g2()) != (srs.g2(), srs.s_g2()) {
            return Err(SrsError::NotTheKeys.into());
        }
    }
    let layout = description.layout(pack);
    let n = layout.n;
    let powers = layout.srs_powers();
    if srs.max_degree() < powers - 1 {
        return Err(SrsError::TooSmallForCircuit { max_degree: srs.max_degree(), k, pack, needed: powers - 1 }.into());
    }
    let bases = Bases::new(srs.g1()[..powers].to_vec());
    let lagrange = Bases::new(srs.lagrange_or_compute(n));
    let domains = Domains::new(&layout);

    let permutation = synthesis.permutation(k)?;
    let shifts: Vec<Fr> = (0..permutation.columns().len()).map(Layout::permutation_shift).collect();
    // Cell (i, r) holds the encoding delta^i' omega^r' of the next cell (i', r') on its cycle.
    let sigma_values = permutation.next().iter().map(|col| col.iter().map(|&(i, r)| shifts[i as usize] * domains.omegas[r as usize]).collect()).collect();
    let sigma = domains.polys(backend, sigma_values)?;
    check_lookup_selectors(&description, &synthesis.fixed)?;
    let fixed = domains.polys(backend, synthesis.fixed)?;

    let marker = |rows: &mut dyn Iterator<Item = usize>| {
        let mut v = vec![Fr::zero(); n];
        rows.for_each(|r| v[r] = Fr::one());
        v
    };
    let mut markers = vec![marker(&mut std::iter::once(0)), marker(&mut std::iter::once(layout.usable_rows)), marker(&mut (0..layout.usable_rows))];
    domains.interpolate(backend, &mut markers)?;

    let polys = |poly: Poly| -> &Polys {
        match poly {
            Poly::Fixed(_) => &fixed,
            _ => &sigma,
        }
    };
    let index = |poly: Poly| match poly {
        Poly::Fixed(i) | Poly::Sigma(i) => i,
        _ => unreachable!("the key holds fixed and permutation polynomials"),
    };
    let values = |p: Poly| -> &[Fr] { &polys(p).values[index(p)] };
    let coeffs = |p: Poly| -> &[Fr] { &polys(p).coeffs[index(p)] };
    let key: Vec<&Commitment> = layout.commitments_of(Round::Key).collect();
    let vk = match vk {
        // Other fixed columns or copy constraints (the same model with other weights) are not
        // checked here: every proof is verified before `prove` returns it, which costs less
        // than committing to them again.
        Some(vk) => vk,
        None => {
            let key_commitments = G1Projective::normalize_batch(&commit(backend, &bases, &lagrange, &key, values, coeffs)?);
            VerifyingKey::new(description, statement, srs.is_insecure(), pack, key_commitments, srs.g2(), srs.s_g2())?
        }
    };
    let zero: Vec<bool> = fixed.values.iter().map(|c| c.iter().all(Fr::is_zero)).collect();
    let program = Program::new(vk.description(), vk.layout(), &zero);
    Ok(ProvingKey { vk, bases, lagrange, domains, fixed, sigma, permutation, markers, program })
}

/// Commits to each of `commitments`: single polynomials from their row values (cheap for small
/// integers) in one batch of MSMs, packed ones from their members' coefficients in another.
pub(crate) fn commit<'a, 'b>(
    backend: &dyn Backend,
    bases: &Bases,
    lagrange: &Bases,
    commitments: &[&Commitment],
    values: impl Fn(Poly) -> &'a [Fr],
    coeffs: impl Fn(Poly) -> &'b [Fr],
) -> Result<Vec<G1Projective>, BackendError> {
    let (single, packed): (Vec<usize>, Vec<usize>) = (0..commitments.len()).partition(|&i| commitments[i].t == 1);
    let packed_scalars: Vec<Vec<Fr>> = packed
        .iter()
        .map(|&i| {
            let members: Vec<&[Fr]> = commitments[i].polys.iter().map(|&p| coeffs(p)).collect();
            pack(&members, commitments[i].t)
        })
        .collect();
    let single_scalars: Vec<&[Fr]> = single.iter().map(|&i| values(commitments[i].polys[0])).collect();
    let packed_scalars: Vec<&[Fr]> = packed_scalars.iter().map(Vec::as_slice).collect();
    let mut out = vec![G1Projective::default(); commitments.len()];
    for (indices, points) in [(single, backend.msm(lagrange, &single_scalars)?), (packed, backend.msm(bases, &packed_scalars)?)] {
        indices.into_iter().zip(points).for_each(|(i, p)| out[i] = p);
    }
    Ok(out)
}
