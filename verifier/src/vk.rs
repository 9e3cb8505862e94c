//! The verifying key: the circuit description, the commitments fixed at key generation and
//! the two G2 points of the SRS.

use crate::description::{CircuitDescription, Layout, Round};
use crate::encoding::{g1_to_bytes, g2_to_bytes, Reader};
use crate::error::{malformed, Error};
use crate::transcript::keccak256;
use ark_bn254::{G1Affine, G2Affine};

pub const VK_MAGIC: &[u8; 4] = b"ZKVK";
pub const VK_VERSION: u32 = 2;
/// The most polynomials one commitment may pack.
pub const MAX_PACK: usize = 64;

#[derive(Clone, Debug)]
pub struct VerifyingKey {
    pub description: CircuitDescription,
    /// True when the SRS came from `srs gen`: its toxic value was known to one machine, so
    /// proofs under this key convince nobody but their maker.
    pub insecure_srs: bool,
    /// At most this many polynomials (a power of two) share a commitment (`Layout::pack`).
    pub pack: usize,
    /// The commitments of `Round::Key` in `Layout::commitments`.
    pub key_commitments: Vec<G1Affine>,
    /// `[1]_2` and `[tau]_2`.
    pub g2: G2Affine,
    pub s_g2: G2Affine,
    layout: Layout,
    digest: [u8; 32],
}

impl VerifyingKey {
    /// Fails on a description the protocol cannot run (its layout would not exist), a packing
    /// that is not a power of two up to `MAX_PACK`, or commitments that do not match the
    /// layout's, as `from_bytes` does.
    pub fn new(
        description: CircuitDescription,
        insecure_srs: bool,
        pack: usize,
        key_commitments: Vec<G1Affine>,
        g2: G2Affine,
        s_g2: G2Affine,
    ) -> Result<Self, Error> {
        description.validate()?;
        check_pack(pack)?;
        let layout = description.layout(pack);
        let expected = layout.commitments_of(Round::Key).count();
        if key_commitments.len() != expected {
            return Err(malformed(format!(
                "verifying key: {} key commitments; this circuit's {} fixed and {} permutation columns packed by {pack} take {expected}",
                key_commitments.len(),
                description.num_fixed,
                description.permutation.len()
            )));
        }
        let mut vk = Self { description, insecure_srs, pack, key_commitments, g2, s_g2, layout, digest: [0; 32] };
        vk.digest = keccak256(&vk.to_bytes());
        Ok(vk)
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Keccak-256 of the encoded key; the transcript starts from it.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(VK_MAGIC);
        out.extend_from_slice(&VK_VERSION.to_be_bytes());
        out.push(self.insecure_srs as u8);
        out.extend_from_slice(&(self.pack as u32).to_be_bytes());
        self.description.write(&mut out);
        for p in &self.key_commitments {
            out.extend_from_slice(&g1_to_bytes(p));
        }
        out.extend_from_slice(&g2_to_bytes(&self.g2));
        out.extend_from_slice(&g2_to_bytes(&self.s_g2));
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "verifying key");
        if r.take(4)? != VK_MAGIC {
            return Err(malformed("not a zkinfer verifying key (bad magic)"));
        }
        let version = r.u32()?;
        if version != VK_VERSION {
            return Err(malformed(format!("verifying key version {version}; this verifier reads version {VK_VERSION}")));
        }
        let insecure_srs = match r.u8()? {
            0 => false,
            1 => true,
            b => return Err(malformed(format!("verifying key: SRS flag {b} is neither 0 nor 1"))),
        };
        let pack = r.u32()? as usize;
        check_pack(pack)?;
        let description = CircuitDescription::read(&mut r)?;
        let count = description.layout(pack).commitments_of(Round::Key).count();
        let key_commitments = (0..count).map(|_| r.g1()).collect::<Result<_, _>>()?;
        let g2 = r.g2()?;
        let s_g2 = r.g2()?;
        r.finish()?;
        let vk = Self::new(description, insecure_srs, pack, key_commitments, g2, s_g2)?;
        debug_assert_eq!(vk.to_bytes(), bytes);
        Ok(vk)
    }
}

/// Whether the layout can pack by `pack`: a power of two up to `MAX_PACK`.
pub fn is_valid_pack(pack: usize) -> bool {
    pack.is_power_of_two() && pack <= MAX_PACK
}

fn check_pack(pack: usize) -> Result<(), Error> {
    if !is_valid_pack(pack) {
        return Err(malformed(format!("verifying key: packing {pack} is not a power of two up to {MAX_PACK}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::AffineRepr;

    fn description(k: u32) -> CircuitDescription {
        CircuitDescription { k, num_fixed: 1, num_advice: 1, num_instance: 0, gates: vec![], lookups: vec![], permutation: vec![] }
    }

    #[test]
    fn new_refuses_what_from_bytes_refuses() {
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        let vk = VerifyingKey::new(description(4), true, 1, vec![g1], g2, g2).unwrap();
        assert_eq!(VerifyingKey::from_bytes(&vk.to_bytes()).unwrap().digest(), vk.digest());
        // 2^2 rows cannot hold the blinding rows: an error, not an underflow in the layout.
        let err = VerifyingKey::new(description(2), true, 1, vec![g1], g2, g2).unwrap_err();
        assert!(err.to_string().contains("blinding rows"), "{err}");
        let err = VerifyingKey::new(description(4), true, 1, vec![], g2, g2).unwrap_err();
        assert!(err.to_string().contains("0 key commitments; this circuit's 1 fixed and 0 permutation columns packed by 1 take 1"), "{err}");
        let err = VerifyingKey::new(description(4), true, 3, vec![g1], g2, g2).unwrap_err();
        assert!(err.to_string().contains("packing 3 is not a power of two"), "{err}");
    }
}
