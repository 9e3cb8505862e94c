//! What a layout costs: the prover's CPU time, from its work per column and row, and the gas
//! of one call to the Solidity verifier. docs/circuits.md has the measurements behind the
//! constants.

use zkinfer_circuits::{CircuitDescription, Expression, Fr, Layout, Poly, Proof, Round};

/// The prover's unit costs, in CPU microseconds per row of the circuit (2^k rows), fitted to
/// proofs of the bundled models at widths 5 to 64 and 2^9 to 2^15 rows on the 2-core
/// development machine.
mod micros {
    /// One FFT of a column over the rows' size, per row: the quotient takes one per column and
    /// coset part, interpolation one per witness column.
    pub const FFT: f64 = 0.34;
    /// A full-size MSM over `2^k` points costs `MSM_K / k` per point: Pippenger's windows
    /// widen with `k`.
    pub const MSM_K: f64 = 124.0;
    /// Committing a column of small integers (advice, multiplicities) from its row values.
    pub const SMALL_MSM: f64 = 0.15;
    /// One multiplication in the gate identities, per point of the extended coset.
    pub const GATE_MULTIPLICATION: f64 = 0.025;
    /// One permutation column's factors in the grand-product identity, per point of the
    /// extended coset.
    pub const PERMUTATION_POINT: f64 = 0.40;
    /// One permutation column's factors in the grand products, per row.
    pub const PERMUTATION_ROW: f64 = 0.24;
    /// One evaluation of a polynomial at an opening point.
    pub const EVALUATION: f64 = 0.033;
}

/// Gas of the Solidity verifier, from docs/evm.md's unit costs.
mod gas {
    /// 21,000 base, the pairing (113,000), the one `modexp`, Keccak, the transcript, the
    /// identities and the opening's interpolation.
    pub const BASE: u64 = 151_500;
    /// An `ecMul` and an `ecAdd` with their calls.
    pub const MSM_TERM: u64 = 6_485;
    /// 64 bytes of calldata.
    pub const PROOF_POINT: u64 = 1_000;
    /// 32 bytes of calldata, the range check and its use in the identities.
    pub const EVALUATION: u64 = 570;
    /// Calldata and its share of the transcript and the instance evaluation.
    pub const PUBLIC_VALUE: u64 = 1_000;
}

/// Estimated CPU seconds of one proof (docs/circuits.md, "Choosing the width").
pub fn prove_seconds(layout: &Layout, d: &CircuitDescription) -> f64 {
    use micros::*;
    let e = layout.extension as f64;
    let (advice, fixed, instance) = (d.num_advice as f64, d.num_fixed as f64, d.num_instance as f64);
    let (sigma, products, lookups) = (d.permutation.len() as f64, layout.num_products as f64, d.lookups.len() as f64);
    // Witness columns are interpolated and then evaluated on each of the e coset parts; key
    // columns (fixed, sigma and the three row markers) only evaluated; the quotient's e n
    // values interpolated (about e FFTs over n).
    let ffts = (advice + products + 2.0 * lookups + instance) * (e + 1.0) + (fixed + sigma + 3.0) * e + e;
    // Grand products, running sums, quotient pieces and the opening's two witnesses, in units
    // of n points; a packed commitment of t polynomials is an MSM of t n full-size scalars,
    // and the witnesses have the degree of the largest one.
    let witness = |packed: bool| layout.commitments_of(Round::Witness).filter(|c| (c.t > 1) == packed).map(|c| c.t as f64).sum::<f64>();
    let argument = layout.commitments_of(Round::Argument).map(|c| c.t as f64).sum::<f64>();
    let widest = (layout.srs_powers() / layout.n) as f64;
    let msms = argument + witness(true) + e + 2.0 * widest;
    let per_row = ffts * FFT
        + msms * MSM_K / d.k as f64
        + witness(false) * SMALL_MSM
        + e * GATE_MULTIPLICATION * gate_multiplications(d) as f64
        + sigma * (e * PERMUTATION_POINT + PERMUTATION_ROW)
        + layout.openings.len() as f64 * EVALUATION;
    per_row * layout.n as f64 * 1e-6
}

/// Field elements the prover holds per row and column at its peak: a witness column's values,
/// coefficients and extended-coset values, a key column's three forms, and their share of the
/// quotient's pieces. Fitted from above to the peaks of `scripts/bench_fixtures.py` at 2^16 to
/// 2^18 rows (BENCHMARKS.md, session 11): the GPT-style decoder (44 columns, 171 per row
/// measured), the transformer encoder (36, 158) and mobilenet_block (33, 132). At 2^21 rows and
/// 44 columns that is 14.5 GB.
const PEAK_ELEMENTS_PER_COLUMN: u64 = 4;
/// Per row beyond the columns: the extended domain's points, the quotient and its pieces, the
/// opening's polynomials.
const PEAK_ELEMENTS_PER_ROW: u64 = 40;
/// The process before any row: the binary, the key's header, the allocator.
const PEAK_BASE_BYTES: u64 = 64 << 20;

/// Estimated peak memory of one proof, in bytes: linear in the rows, with the SRS's points (64
/// bytes each). An upper estimate: the measured peaks at 2^16 to 2^18 rows are 1.3x to 1.4x
/// below it (1403 MiB against 1872 for the GPT-style decoder), small circuits' far below (the
/// base dominates).
pub fn prove_memory_bytes(layout: &Layout, d: &CircuitDescription) -> u64 {
    let columns = (d.num_advice + d.num_fixed + d.permutation.len() + 2 * d.lookups.len()) as u64;
    let per_row = 32 * (PEAK_ELEMENTS_PER_COLUMN * columns + PEAK_ELEMENTS_PER_ROW);
    PEAK_BASE_BYTES + per_row * layout.n as u64 + 64 * layout.srs_powers() as u64
}

/// Estimated gas of one `verifyProof` call, with `fixed` the circuit's fixed columns (their
/// values on the rows): key commitments of one fixed column that is all zero cost nothing and
/// equal ones one `ecMul`, as in the generated contract.
pub fn verify_gas(layout: &Layout, fixed: &[Vec<Fr>], public_values: usize) -> u64 {
    use gas::*;
    let proof_commitments = (Proof::num_commitments(layout) + layout.num_quotient_pieces()) as u64;
    let single_fixed: Vec<&[Fr]> = layout
        .commitments_of(Round::Key)
        .filter_map(|c| match c.polys[..] {
            [Poly::Fixed(i)] => Some(fixed[i].as_slice()),
            _ => None,
        })
        .collect();
    let other_keys = layout.commitments_of(Round::Key).count() - single_fixed.len();
    let key_commitments = (distinct_non_zero(&single_fixed) + other_keys) as u64;
    // The opening check's right side: every commitment, the witnesses `W` and `W'` and `E G`,
    // less the one commitment whose scalar is 1.
    let msm_terms = proof_commitments + key_commitments + 2;
    BASE + MSM_TERM * msm_terms + PROOF_POINT * (proof_commitments + 2) + EVALUATION * layout.openings.len() as u64 + PUBLIC_VALUE * public_values as u64
}

fn gate_multiplications(d: &CircuitDescription) -> usize {
    fn count(e: &Expression) -> usize {
        match e {
            Expression::Constant(_) | Expression::Cell(_) => 0,
            Expression::Neg(a) => count(a),
            Expression::Scaled(a, _) => 1 + count(a),
            Expression::Sum(a, b) => count(a) + count(b),
            Expression::Product(a, b) => 1 + count(a) + count(b),
        }
    }
    d.gates.iter().flat_map(|g| &g.polys).map(count).sum()
}

/// Columns that are not all zero, counting equal columns once.
fn distinct_non_zero(columns: &[&[Fr]]) -> usize {
    let zero = Fr::from(0u64);
    let mut seen: Vec<&[Fr]> = Vec::new();
    for c in columns {
        let c = &c[..c.iter().rposition(|v| *v != zero).map_or(0, |i| i + 1)];
        if !c.is_empty() && !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen.len()
}
