//! The structured reference string: powers of a secret tau in G1, plus [1]_2 and [tau]_2.
//!
//! The SRS is universal: one powers-of-tau sequence serves every circuit whose polynomials fit
//! its degree, so a circuit takes a prefix (`truncate`) instead of running its own setup. Whoever
//! knows tau can forge proofs, so production keys should come from a multi-party ceremony
//! (`from_ptau` reads snarkjs files such as the Hermez/Polygon ones). `generate_insecure` exists
//! for development and tests only; it knew tau, and the `insecure` flag travels with the SRS (and
//! into verifying keys) so that such keys cannot be mistaken for ceremony-backed ones.

use crate::backend::Domain;
use ark_bn254::{Bn254, Fq, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::pairing::Pairing;
use ark_ec::scalar_mul::ScalarMul;
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{BigInt, Field, One, PrimeField, UniformRand, Zero};
use ark_poly::EvaluationDomain;
use rand::RngCore;
use rayon::prelude::*;
use zkinfer_verifier::encoding::{g1_to_bytes, g2_to_bytes, Reader};

/// Magic bytes that open our own SRS files.
pub const SRS_MAGIC: [u8; 8] = *b"ZKINFSRS";
/// The version of our SRS file format this code reads and writes.
pub const SRS_VERSION: u32 = 3;

/// Upper bound on the points an SRS file may declare, so a hostile length cannot make us
/// allocate without bound before the truncation check (2^28 is the largest public ceremony).
const MAX_POINTS: usize = 1 << 28;
/// snarkjs ceremonies stop at power 28; anything far beyond is a corrupt header.
const MAX_PTAU_POWER: u32 = 32;

const G1_BYTES: usize = 64;
const G2_BYTES: usize = 128;
/// snarkjs stores every base-field element in n8 = 32 bytes.
const PTAU_N8: usize = 32;

/// Why an SRS could not be built, read or cut to size.
#[derive(Debug, thiserror::Error)]
pub enum SrsError {
    /// The ptau bytes do not follow the snarkjs format (the message says where and why).
    #[error("ptau file is malformed: {0}")]
    Ptau(String),
    /// A well-formed ptau file from a ceremony that is too small for the circuit.
    #[error("ptau file has power {power} ({available} points) but the circuit needs {needed}")]
    PtauTooSmall { power: u32, available: u64, needed: u64 },
    /// The SRS at hand has fewer powers than requested.
    #[error("SRS has {available} points (max degree {}) but {needed} are needed", .available - 1)]
    TooSmall { available: usize, needed: u128 },
    /// The SRS has fewer powers than a circuit of `2^k` rows packed by `pack` needs: powers up
    /// to degree `needed`.
    #[error("the SRS holds powers up to degree {max_degree}, a circuit of 2^{k} rows packed by {pack} needs degree {needed}")]
    TooSmallForCircuit { max_degree: usize, k: u32, pack: usize, needed: usize },
    /// An SRS other than the one the verifying key was made with (another `[tau]_2`).
    #[error("the SRS is not the one the verifying key was made with")]
    NotTheKeys,
    /// Points that decode but do not form the powers-of-tau sequence our verifier assumes.
    #[error("SRS is not a valid powers-of-tau sequence: {0}")]
    Inconsistent(String),
    /// Our own SRS file format, violated at the framing level (magic, version, flags).
    #[error("SRS file is malformed: {0}")]
    Malformed(String),
    /// Our own SRS file format, violated inside a length or point encoding. Transparent: the
    /// reader's message already names the SRS file, and a chain would print it twice.
    #[error(transparent)]
    Encoding(#[from] zkinfer_verifier::Error),
}

/// A universal KZG setup on BN254: [tau^i]_1 for i = 0..=max_degree, [1]_2 and [tau]_2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Srs {
    /// [tau^i]_1 for i in 0..g1.len()
    g1: Vec<G1Affine>,
    /// [1]_2 and [tau]_2
    g2: G2Affine,
    s_g2: G2Affine,
    /// true for a dev SRS from `generate_insecure` (the toxic value was known to this machine)
    insecure: bool,
    /// [L_i(tau)]_1 for the Lagrange basis of a 2^k-row domain, `2^k < g1.len()`.
    /// Committing to a column from its row values needs these; the prover's activations are
    /// small integers, and an MSM of small scalars is an order of magnitude cheaper than one
    /// of the full-size coefficients.
    lagrange: Option<Vec<G1Affine>>,
}

impl Srs {
    /// A development SRS from a tau drawn here. Never use it where soundness matters: anyone who
    /// saw this process's memory could have kept tau.
    pub fn generate_insecure(max_degree: usize, rng: &mut impl RngCore) -> Srs {
        Self::generate(max_degree, max_degree.is_power_of_two().then_some(max_degree), rng)
    }

    /// A development SRS for a circuit of `2^k` rows that needs `powers` powers, with the
    /// Lagrange basis of its rows (see `for_circuit`).
    pub fn generate_insecure_for(k: u32, powers: usize, rng: &mut impl RngCore) -> Srs {
        Self::generate(powers.max((1 << k) + 1) - 1, Some(1 << k), rng)
    }

    fn generate(max_degree: usize, rows: Option<usize>, rng: &mut impl RngCore) -> Srs {
        // tau must not be a row of the domain, where the Lagrange formula below divides by 0.
        let mut tau = Fr::rand(rng);
        while tau.is_zero() || rows.is_some_and(|n| tau.pow([n as u64]).is_one()) {
            tau = Fr::rand(rng);
        }
        let mut powers = Vec::with_capacity(max_degree + 1);
        let mut cur = Fr::from(1u64);
        for _ in 0..=max_degree {
            powers.push(cur);
            cur *= tau;
        }
        // Fixed-base windowed multiplication shares one table of multiples of G across all
        // scalars, runs on rayon and normalizes with a single batched inversion.
        let g1 = G1Projective::generator().batch_mul(&powers);
        let s_g2 = (G2Projective::generator() * tau).into_affine();
        // L_i(tau) = omega^i (tau^n - 1) / (n (tau - omega^i)): with tau at hand the Lagrange
        // basis costs as little as the powers, where `with_lagrange` needs a G1 FFT.
        let lagrange = rows.map(|n| {
            let domain = Domain::new(n).expect("the SRS size fits BN254's two-adic subgroup");
            let mut denominators: Vec<Fr> = domain.elements().map(|w| Fr::from(n as u64) * (tau - w)).collect();
            ark_ff::batch_inversion(&mut denominators);
            let numerator = tau.pow([n as u64]) - Fr::one();
            let values: Vec<Fr> = domain.elements().zip(&denominators).map(|(w, d)| w * numerator * d).collect();
            G1Projective::generator().batch_mul(&values)
        });
        // tau and its powers go out of scope here without zeroizing: the SRS is labelled
        // insecure anyway, what matters is that nothing keeps them.
        Srs { g1, g2: G2Affine::generator(), s_g2, insecure: true, lagrange }
    }

    /// Imports the first `max_degree + 1` powers of a snarkjs `.ptau` file (phase 1, with or
    /// without `preparephase2`). When the file was prepared, the Lagrange basis of `rows` rows
    /// (a power of two, at most `max_degree`) comes from it too (see `for_circuit`). The file
    /// is untrusted: every problem is an error, never a panic.
    pub fn from_ptau(bytes: &[u8], max_degree: usize, rows: usize) -> Result<Srs, SrsError> {
        let needed = max_degree.checked_add(1).ok_or_else(|| SrsError::Ptau("max_degree overflows".into()))?;
        let sections = ptau_sections(bytes)?;
        let header = sections.get(1, "header")?;
        let tau_g1 = sections.get(2, "tauG1")?;
        let tau_g2 = sections.get(3, "tauG2")?;

        // Header: n8, the base-field prime q (n8 bytes, little-endian), power, ceremonyPower.
        let n8 = le_u32(header, 0).ok_or_else(|| SrsError::Ptau("header section is shorter than 4 bytes".into()))? as usize;
        if n8 != PTAU_N8 {
            return Err(SrsError::Ptau(format!("field elements are {n8} bytes, expected {PTAU_N8} (the file is not for BN254)")));
        }
        if header.len() != 4 + n8 + 8 {
            return Err(SrsError::Ptau(format!("header section is {} bytes, expected {}", header.len(), 4 + n8 + 8)));
        }
        let q = &header[4..4 + n8];
        let bn254_q: Vec<u8> = Fq::MODULUS.0.iter().flat_map(|l| l.to_le_bytes()).collect();
        if q != bn254_q.as_slice() {
            let mut be = q.to_vec();
            be.reverse();
            return Err(SrsError::Ptau(format!("base field prime is 0x{}, not BN254's (the file is for another curve)", hex(&be))));
        }
        let power = le_u32(header, 4 + n8).unwrap_or(0);
        if power == 0 || power > MAX_PTAU_POWER {
            return Err(SrsError::Ptau(format!("power {power} is outside 1..={MAX_PTAU_POWER}")));
        }
        let ceremony_power = le_u32(header, 8 + n8).unwrap_or(0);
        if ceremony_power < power {
            return Err(SrsError::Ptau(format!("power {power} exceeds the ceremony power {ceremony_power}")));
        }
        let available = 1u64 << power;
        if needed as u64 > available {
            return Err(SrsError::PtauTooSmall { power, available, needed: needed as u64 });
        }

        // snarkjs writes 2^(power+1) - 1 tauG1 points (Groth16's h-query needs the extra ones)
        // and 2^power tauG2 points; a different size means a corrupt or foreign file.
        let g1_count = (1u64 << (power + 1)) - 1;
        expect_size(tau_g1, "tauG1", g1_count, 2 * PTAU_N8)?;
        expect_size(tau_g2, "tauG2", available, 4 * PTAU_N8)?;

        // One more point than kept when possible so that [tau]_1 is always checked against [tau]_2.
        let checked = needed.max(2);
        let g1: Vec<G1Affine> = tau_g1[..checked * G1_BYTES]
            .par_chunks_exact(G1_BYTES)
            .enumerate()
            .map(|(i, c)| ptau_g1(c).ok_or_else(|| SrsError::Ptau(format!("tauG1 point {i} is not on the curve or has a coordinate not below q"))))
            .collect::<Result<_, _>>()?;
        let g2 = ptau_g2(&tau_g2[..G2_BYTES]).ok_or_else(|| SrsError::Ptau("tauG2 point 0 is not a point of the G2 subgroup".into()))?;
        let s_g2 = ptau_g2(&tau_g2[G2_BYTES..2 * G2_BYTES]).ok_or_else(|| SrsError::Ptau("tauG2 point 1 is not a point of the G2 subgroup".into()))?;

        check_generators(&g1, &g2)?;
        check_powers(&g1, &g2, &s_g2)?;
        let mut g1 = g1;
        g1.truncate(needed);
        let lagrange = match sections.find(PTAU_LAGRANGE_G1) {
            Some(section) if rows.is_power_of_two() && rows <= max_degree => Some(ptau_lagrange(section, &g1[..rows])?),
            _ => None,
        };
        Ok(Srs { g1, g2, s_g2, insecure: false, lagrange })
    }

    pub fn max_degree(&self) -> usize {
        self.g1.len() - 1
    }

    pub fn g1(&self) -> &[G1Affine] {
        &self.g1
    }

    pub fn g2(&self) -> G2Affine {
        self.g2
    }

    pub fn s_g2(&self) -> G2Affine {
        self.s_g2
    }

    pub fn is_insecure(&self) -> bool {
        self.insecure
    }

    /// The prefix a circuit of this degree needs, so keys and files carry no unused powers.
    pub fn truncate(&self, max_degree: usize) -> Result<Srs, SrsError> {
        if max_degree >= self.g1.len() {
            return Err(SrsError::TooSmall { available: self.g1.len(), needed: max_degree as u128 + 1 });
        }
        // The basis of n rows depends on the first n powers only.
        let lagrange = self.lagrange.as_ref().filter(|l| l.len() <= max_degree).cloned();
        Ok(Srs { g1: self.g1[..=max_degree].to_vec(), g2: self.g2, s_g2: self.s_g2, insecure: self.insecure, lagrange })
    }

    /// The SRS a circuit of 2^k rows needs: `powers` powers (`Layout::srs_powers`: 2^k + 1
    /// unpacked, as the blinded quotient pieces have one coefficient past n) and the Lagrange
    /// basis of its rows, computed here by a G1 FFT when the SRS does not carry it already.
    pub fn for_circuit(&self, k: u32, powers: usize) -> Result<Srs, SrsError> {
        let n = 1 << k;
        let mut srs = self.truncate(powers.max(n + 1) - 1)?;
        if srs.lagrange(n).is_none() {
            srs.lagrange = Some(srs.lagrange_or_compute(n));
        }
        Ok(srs)
    }

    /// The Lagrange basis of the `n`-row domain: the one this SRS carries, or else one computed
    /// from its first `n` powers by a G1 FFT.
    pub fn lagrange_or_compute(&self, n: usize) -> Vec<G1Affine> {
        self.lagrange(n).map_or_else(|| lagrange_basis(&self.g1[..n]), <[G1Affine]>::to_vec)
    }

    /// The Lagrange basis of the `n`-row domain, if this SRS carries it.
    pub fn lagrange(&self, n: usize) -> Option<&[G1Affine]> {
        self.lagrange.as_deref().filter(|l| l.len() == n)
    }

    /// Layout: magic `ZKINFSRS`, u32 BE version, u8 insecure flag, u32 BE point count, the G1
    /// powers (64 bytes each), [1]_2 and [tau]_2 (128 bytes each), u8 Lagrange flag and, when
    /// it is 1, u32 BE the number of rows (a power of two below the point count) and their
    /// Lagrange basis; points in EVM encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let lagrange = self.lagrange.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(8 + 4 + 1 + 4 + (self.g1.len() + lagrange.len()) * G1_BYTES + 2 * G2_BYTES + 1);
        out.extend_from_slice(&SRS_MAGIC);
        out.extend_from_slice(&SRS_VERSION.to_be_bytes());
        out.push(self.insecure as u8);
        out.extend_from_slice(&(self.g1.len() as u32).to_be_bytes());
        write_g1(&mut out, &self.g1);
        out.extend_from_slice(&g2_to_bytes(&self.g2));
        out.extend_from_slice(&g2_to_bytes(&self.s_g2));
        out.push(self.lagrange.is_some() as u8);
        if self.lagrange.is_some() {
            out.extend_from_slice(&(lagrange.len() as u32).to_be_bytes());
        }
        write_g1(&mut out, lagrange);
        out
    }

    /// Reads `to_bytes` output. The file is untrusted like any other: points are checked to be
    /// on the curve (in parallel: a 2^20-point file has 2^20 of them), the generators to be
    /// the standard ones, the powers to be successive powers of the tau in `[tau]_2` and the
    /// Lagrange basis to match them (one random combination each, as for a ptau file). The
    /// insecure flag is read as written: it is the file's word, and what names an SRS is its
    /// `[tau]_2` (`zkinfer_verifier::srs`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Srs, SrsError> {
        let mut r = Reader::new(bytes, "SRS file");
        if r.take(8)? != SRS_MAGIC {
            return Err(SrsError::Malformed("bad magic (not a zkinfer SRS file)".into()));
        }
        let version = r.u32()?;
        if version != SRS_VERSION {
            return Err(SrsError::Malformed(format!("unsupported version {version}, expected {SRS_VERSION}")));
        }
        let insecure = match r.u8()? {
            0 => false,
            1 => true,
            f => return Err(SrsError::Malformed(format!("insecure flag is {f}, expected 0 or 1"))),
        };
        let n = r.len(MAX_POINTS, "number of G1 points")?;
        if n == 0 {
            return Err(SrsError::Malformed("the SRS has no G1 points".into()));
        }
        let g1 = read_g1(&mut r, bytes, n, "g1")?;
        let g2 = r.g2()?;
        let s_g2 = r.g2()?;
        let lagrange = match r.u8()? {
            0 => None,
            1 => {
                let rows = r.u32()? as usize;
                if !rows.is_power_of_two() || rows >= n {
                    return Err(SrsError::Malformed(format!("a Lagrange basis of {rows} rows with {n} powers: rows must be a power of two below the powers")));
                }
                Some(read_g1(&mut r, bytes, rows, "lagrange")?)
            }
            f => return Err(SrsError::Malformed(format!("Lagrange flag is {f}, expected 0 or 1"))),
        };
        r.finish()?;
        check_generators(&g1, &g2)?;
        check_powers(&g1, &g2, &s_g2)?;
        if let Some(lagrange) = &lagrange {
            if !lagrange_matches(lagrange, &g1[..lagrange.len()]) {
                return Err(SrsError::Inconsistent(format!("the Lagrange basis for {} rows does not match the powers of tau", lagrange.len())));
            }
        }
        Ok(Srs { g1, g2, s_g2, insecure, lagrange })
    }
}

fn write_g1(out: &mut Vec<u8>, points: &[G1Affine]) {
    let start = out.len();
    out.resize(start + points.len() * G1_BYTES, 0);
    out[start..].par_chunks_exact_mut(G1_BYTES).zip(points.par_iter()).for_each(|(dst, p)| {
        dst.copy_from_slice(&g1_to_bytes(p));
    });
}

/// `n` points that are not the identity, from the reader's position on.
fn read_g1(r: &mut Reader, bytes: &[u8], n: usize, what: &str) -> Result<Vec<G1Affine>, SrsError> {
    let start = r.position();
    r.take(n * G1_BYTES)?;
    // Each point gets a Reader over the file up to its end, advanced to its start, so the
    // errors keep file offsets while the decoding runs in parallel.
    (0..n)
        .into_par_iter()
        .map(|i| -> Result<G1Affine, SrsError> {
            let at = start + i * G1_BYTES;
            let mut pr = Reader::new(&bytes[..at + G1_BYTES], "SRS file");
            pr.take(at)?;
            let p = pr.g1()?;
            if p.is_zero() {
                return Err(SrsError::Inconsistent(format!("{what}[{i}] is the point at infinity")));
            }
            Ok(p)
        })
        .collect()
}

/// [L_i(tau)]_1 from [tau^i]_1 for i < n: the inverse FFT of the powers, in G1.
pub(crate) fn lagrange_basis(powers: &[G1Affine]) -> Vec<G1Affine> {
    let domain = Domain::new(powers.len()).expect("the row count is a power of two that fits BN254's two-adic subgroup");
    let points: Vec<G1Projective> = powers.par_iter().map(|p| p.into_group()).collect();
    G1Projective::normalize_batch(&domain.ifft(&points))
}

/// Our verifier hard-codes the standard generators, so an SRS built on other bases would make
/// every proof fail in a way that is hard to trace back to the setup.
fn check_generators(g1: &[G1Affine], g2: &G2Affine) -> Result<(), SrsError> {
    if g1[0] != G1Affine::generator() {
        return Err(SrsError::Inconsistent("g1[0] is not the standard G1 generator (1, 2)".into()));
    }
    if *g2 != G2Affine::generator() {
        return Err(SrsError::Inconsistent("[1]_2 is not the standard G2 generator".into()));
    }
    Ok(())
}

/// One pairing equation for the whole sequence: with random r_i,
/// e(sum r_i g1[i+1], [1]_2) == e(sum r_i g1[i], [tau]_2) holds for every r only if each
/// g1[i+1] = tau * g1[i]. 64-bit r_i leave a 2^-64 chance of missing a bad sequence, and keep
/// the two MSMs cheap.
fn check_powers(g1: &[G1Affine], g2: &G2Affine, s_g2: &G2Affine) -> Result<(), SrsError> {
    let n = g1.len() - 1;
    if n == 0 {
        return Ok(());
    }
    let mut rng = rand::thread_rng();
    let r: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let (hi, lo) = rayon::join(|| G1Projective::msm_u64(&g1[1..], &r), || G1Projective::msm_u64(&g1[..n], &r));
    let (hi, lo) = (hi.into_affine(), lo.into_affine());
    if Bn254::multi_pairing([hi, (-lo)], [*g2, *s_g2]).is_zero() {
        Ok(())
    } else {
        Err(SrsError::Inconsistent("the G1 points are not successive powers of the tau in [tau]_2 (pairing check failed)".into()))
    }
}

/// snarkjs's `prepare phase2` adds this section: [L_i(tau)]_1 for the domains of 2^0, 2^1, ...
/// rows, one after the other, so the 2^k-row basis starts at point 2^k - 1.
const PTAU_LAGRANGE_G1: u32 = 12;

/// The Lagrange basis of `powers.len()` rows from a prepared ptau file, checked against the
/// powers (`lagrange_matches`).
fn ptau_lagrange(section: &[u8], powers: &[G1Affine]) -> Result<Vec<G1Affine>, SrsError> {
    let n = powers.len();
    let at = (n - 1) * G1_BYTES;
    let bytes = section.get(at..at + n * G1_BYTES).ok_or_else(|| SrsError::Ptau(format!("the Lagrange section ({PTAU_LAGRANGE_G1}) has no basis for {n} rows")))?;
    let lagrange: Vec<G1Affine> = bytes
        .par_chunks_exact(G1_BYTES)
        .enumerate()
        .map(|(i, c)| ptau_g1(c).ok_or_else(|| SrsError::Ptau(format!("Lagrange point {i} of {n} rows is not on the curve or has a coordinate not below q"))))
        .collect::<Result<_, _>>()?;
    if !lagrange_matches(&lagrange, powers) {
        return Err(SrsError::Inconsistent(format!("the ptau file's Lagrange basis for {n} rows does not match its powers of tau")));
    }
    Ok(lagrange)
}

/// One random combination: sum r_i [L_i(tau)]_1 = sum c_j [tau^j]_1 for the coefficients c of
/// the polynomial with values r. A basis computed with another root of unity, in another order
/// or for another tau fails it, and would otherwise give keys whose proofs never verify.
fn lagrange_matches(lagrange: &[G1Affine], powers: &[G1Affine]) -> bool {
    let n = lagrange.len();
    let mut rng = rand::thread_rng();
    let r: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
    let mut coeffs: Vec<Fr> = r.iter().map(|v| Fr::from(*v)).collect();
    Domain::new(n).expect("the row count is a power of two that fits BN254's two-adic subgroup").ifft_in_place(&mut coeffs);
    G1Projective::msm_u64(lagrange, &r) == G1Projective::msm_unchecked(powers, &coeffs)
}

/// The sections of a ptau file by id. snarkjs rejects duplicated sections, and so do we.
struct PtauSections<'a> {
    by_id: Vec<(u32, &'a [u8])>,
}

impl<'a> PtauSections<'a> {
    fn get(&self, id: u32, name: &str) -> Result<&'a [u8], SrsError> {
        self.find(id).ok_or_else(|| SrsError::Ptau(format!("section {id} ({name}) is missing")))
    }

    fn find(&self, id: u32) -> Option<&'a [u8]> {
        self.by_id.iter().find(|(i, _)| *i == id).map(|(_, s)| *s)
    }
}

/// Container: "ptau", u32 version (1), u32 section count, then per section a u32 id, a u64
/// size and the data; all integers little-endian.
fn ptau_sections(bytes: &[u8]) -> Result<PtauSections<'_>, SrsError> {
    if bytes.len() < 12 {
        return Err(SrsError::Ptau(format!("{} bytes is too short for the file header", bytes.len())));
    }
    if &bytes[..4] != b"ptau" {
        return Err(SrsError::Ptau("bad magic (expected \"ptau\")".into()));
    }
    let version = le_u32(bytes, 4).unwrap_or(0);
    if version != 1 {
        return Err(SrsError::Ptau(format!("unsupported version {version}, expected 1")));
    }
    let count = le_u32(bytes, 8).unwrap_or(0);
    let mut by_id: Vec<(u32, &[u8])> = Vec::new();
    let mut pos = 12usize;
    for k in 0..count {
        let remaining = bytes.len() - pos;
        if remaining < 12 {
            return Err(SrsError::Ptau(format!("truncated: header of section {} of {count} needs 12 bytes at offset {pos}, only {remaining} remain", k + 1)));
        }
        let id = le_u32(bytes, pos).unwrap_or(0);
        let size = u64::from_le_bytes(bytes[pos + 4..pos + 12].try_into().unwrap_or([0; 8]));
        pos += 12;
        let remaining = bytes.len() - pos;
        if size > remaining as u64 {
            return Err(SrsError::Ptau(format!("truncated: section {id} declares {size} bytes at offset {pos}, only {remaining} remain")));
        }
        if by_id.iter().any(|(i, _)| *i == id) {
            return Err(SrsError::Ptau(format!("section {id} appears twice")));
        }
        let size = size as usize;
        by_id.push((id, &bytes[pos..pos + size]));
        pos += size;
    }
    if pos != bytes.len() {
        return Err(SrsError::Ptau(format!("{} unexpected bytes after the last of {count} sections (offset {pos})", bytes.len() - pos)));
    }
    Ok(PtauSections { by_id })
}

fn expect_size(section: &[u8], name: &str, points: u64, point_bytes: usize) -> Result<(), SrsError> {
    let expected = points * point_bytes as u64;
    if section.len() as u64 != expected {
        return Err(SrsError::Ptau(format!("{name} section is {} bytes, expected {expected} ({points} points of {point_bytes} bytes)", section.len())));
    }
    Ok(())
}

fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// snarkjs stores coordinates in Montgomery form with R = 2^256, which is also arkworks' internal
/// representation for Fq, so the limbs are taken as they are once they are shown canonical.
fn ptau_fq(b: &[u8]) -> Option<Fq> {
    let mut limbs = [0u64; 4];
    for (l, c) in limbs.iter_mut().zip(b.chunks_exact(8)) {
        *l = u64::from_le_bytes(c.try_into().ok()?);
    }
    let big = BigInt(limbs);
    (big < Fq::MODULUS).then(|| Fq::new_unchecked(big))
}

/// BN254's G1 has cofactor 1, so being on the curve is enough. snarkjs writes the point at
/// infinity as zeros, which fails here too: no power of a nonzero tau is the identity.
fn ptau_g1(b: &[u8]) -> Option<G1Affine> {
    let p = G1Affine::new_unchecked(ptau_fq(&b[..32])?, ptau_fq(&b[32..64])?);
    p.is_on_curve().then_some(p)
}

/// G2 coordinates come as (c0, c1) pairs; G2 has a large cofactor, so the subgroup is checked.
fn ptau_g2(b: &[u8]) -> Option<G2Affine> {
    let c = |i: usize| ptau_fq(&b[32 * i..32 * (i + 1)]);
    let x = ark_bn254::Fq2::new(c(0)?, c(1)?);
    let y = ark_bn254::Fq2::new(c(2)?, c(3)?);
    let p = G2Affine::new_unchecked(x, y);
    (p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
