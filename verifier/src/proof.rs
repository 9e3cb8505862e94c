//! The proof: commitments, evaluations and the two opening witnesses, in transcript order.

use crate::description::{Layout, Round};
use crate::encoding::{fr_to_bytes, g1_to_bytes, Reader};
use crate::error::{malformed, Error};
use ark_bn254::{Fr, G1Affine};

/// The bytes a proof starts with: `ZKP` and the proof format's version.
pub const PROOF_MAGIC: &[u8; 4] = b"ZKP\x03";

/// A proof, decoded: what the verifier reads from the prover's messages.
#[derive(Clone, Debug, PartialEq)]
pub struct Proof {
    /// The commitments of `Round::Witness`, then of `Round::Argument`, as
    /// `Layout::commitments` lists them.
    pub commitments: Vec<G1Affine>,
    /// The quotient's pieces (`Layout::num_quotient_pieces`).
    pub quotient: Vec<G1Affine>,
    /// One per `Layout::openings`, in that order.
    pub evals: Vec<Fr>,
    /// The multi-point opening's witnesses (`crate::opening`): `W`, committed before the
    /// opening point `zeta` is drawn, and `W'`, the KZG witness at `zeta`.
    pub w: G1Affine,
    /// `W'`: see `w`.
    pub w_prime: G1Affine,
}

impl Proof {
    /// The exact encoded length of a proof for this layout.
    pub fn encoded_len(layout: &Layout) -> usize {
        let points = Self::num_commitments(layout) + layout.num_quotient_pieces() + 2;
        4 + 64 * points + 32 * layout.openings.len()
    }

    /// The commitments of the two witness rounds.
    pub fn num_commitments(layout: &Layout) -> usize {
        layout.commitments.iter().filter(|c| c.round != Round::Key).count()
    }

    /// The proof's encoding: `PROOF_MAGIC`, then the points and evaluations in the order of
    /// the fields, in EVM encoding (`crate::encoding`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = PROOF_MAGIC.to_vec();
        for group in [&self.commitments, &self.quotient] {
            group.iter().for_each(|p| out.extend_from_slice(&g1_to_bytes(p)));
        }
        self.evals.iter().for_each(|e| out.extend_from_slice(&fr_to_bytes(e)));
        out.extend_from_slice(&g1_to_bytes(&self.w));
        out.extend_from_slice(&g1_to_bytes(&self.w_prime));
        out
    }

    /// Reads a proof for `layout` that `to_bytes` encoded; `Error::Malformed` for anything
    /// else, a proof of another length or version included.
    pub fn from_bytes(bytes: &[u8], layout: &Layout) -> Result<Self, Error> {
        // The version first: a proof of another version also has another length.
        match bytes.get(..4) {
            Some(magic) if magic == PROOF_MAGIC => {}
            Some([b'Z', b'K', b'P', version]) => return Err(malformed(format!("proof format version {version}; this verifier reads version {}", PROOF_MAGIC[3]))),
            _ => return Err(malformed("not a zkinfer proof (bad magic)")),
        }
        let expected = Self::encoded_len(layout);
        if bytes.len() != expected {
            return Err(malformed(format!("proof has {} bytes; this verifying key expects {expected}", bytes.len())));
        }
        let mut r = Reader::new(bytes, "proof");
        r.take(4)?;
        let mut points = |n: usize| (0..n).map(|_| r.g1()).collect::<Result<Vec<_>, _>>();
        let commitments = points(Self::num_commitments(layout))?;
        let quotient = points(layout.num_quotient_pieces())?;
        let evals = (0..layout.openings.len()).map(|_| r.fr()).collect::<Result<_, _>>()?;
        let (w, w_prime) = (r.g1()?, r.g1()?);
        r.finish()?;
        Ok(Proof { commitments, quotient, evals, w, w_prime })
    }
}
