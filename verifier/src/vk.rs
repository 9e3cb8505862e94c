//! The verifying key: the circuit description, the statement its public values make, the
//! commitments fixed at key generation and the two G2 points of the SRS.

use crate::description::{CircuitDescription, Layout, Round};
use crate::encoding::{g1_to_bytes, g2_to_bytes, Reader};
use crate::error::{malformed, Error};
use crate::srs::srs_id;
use crate::statement::Statement;
use crate::transcript::keccak256;
use ark_bn254::{G1Affine, G2Affine};

/// The bytes a verifying key file (`vk.bin`) starts with.
pub const VK_MAGIC: &[u8; 4] = b"ZKVK";
/// The version of the verifying key format this crate reads and writes.
pub const VK_VERSION: u32 = 3;
/// The most polynomials one commitment may pack.
pub const MAX_PACK: usize = 64;

/// A verifying key, checked when it is built or read and immutable after: its layout and
/// digest are derived once from the parts it was checked with.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    description: CircuitDescription,
    statement: Statement,
    insecure_srs: bool,
    pack: usize,
    key_commitments: Vec<G1Affine>,
    g2: G2Affine,
    s_g2: G2Affine,
    layout: Layout,
    digest: [u8; 32],
}

impl VerifyingKey {
    /// Fails on a description the protocol cannot run (its layout would not exist), a statement
    /// that does not fit it, a packing that is not a power of two up to `MAX_PACK`, or
    /// commitments that do not match the layout's, as `from_bytes` does.
    pub fn new(
        description: CircuitDescription,
        statement: Statement,
        insecure_srs: bool,
        pack: usize,
        key_commitments: Vec<G1Affine>,
        g2: G2Affine,
        s_g2: G2Affine,
    ) -> Result<Self, Error> {
        description.validate()?;
        check_pack(pack)?;
        let layout = description.layout(pack);
        Self::with_layout(description, statement, insecure_srs, pack, key_commitments, g2, s_g2, layout)
    }

    /// `new` once the description is valid, the packing checked and the layout made.
    #[allow(clippy::too_many_arguments)]
    fn with_layout(
        description: CircuitDescription,
        statement: Statement,
        insecure_srs: bool,
        pack: usize,
        key_commitments: Vec<G1Affine>,
        g2: G2Affine,
        s_g2: G2Affine,
        layout: Layout,
    ) -> Result<Self, Error> {
        statement.validate(description.num_instance, layout.usable_rows)?;
        let expected = layout.commitments_of(Round::Key).count();
        if key_commitments.len() != expected {
            return Err(malformed(format!(
                "verifying key: {} key commitments; this circuit's {} fixed and {} permutation columns packed by {pack} take {expected}",
                key_commitments.len(),
                description.num_fixed,
                description.permutation.len()
            )));
        }
        let mut vk = Self { description, statement, insecure_srs, pack, key_commitments, g2, s_g2, layout, digest: [0; 32] };
        vk.digest = keccak256(&vk.to_bytes());
        Ok(vk)
    }

    /// The circuit the key is for.
    pub fn description(&self) -> &CircuitDescription {
        &self.description
    }

    /// How many public values a proof has, and what they mean.
    pub fn statement(&self) -> &Statement {
        &self.statement
    }

    /// True when the SRS file said it came from `srs gen`. The flag is the key maker's word, not
    /// a proof: what identifies the SRS is [`VerifyingKey::srs_id`].
    pub fn insecure_srs(&self) -> bool {
        self.insecure_srs
    }

    /// At most this many polynomials (a power of two) share a commitment (`Layout::pack`).
    pub fn pack(&self) -> usize {
        self.pack
    }

    /// The commitments of `Round::Key` in `Layout::commitments`.
    pub fn key_commitments(&self) -> &[G1Affine] {
        &self.key_commitments
    }

    /// `[1]_2`.
    pub fn g2(&self) -> G2Affine {
        self.g2
    }

    /// `[tau]_2`, which names the SRS the key was made from.
    pub fn s_g2(&self) -> G2Affine {
        self.s_g2
    }

    /// The SRS's identity: Keccak-256 of `[tau]_2` in EVM encoding (`crate::srs`).
    pub fn srs_id(&self) -> [u8; 32] {
        srs_id(&self.s_g2)
    }

    /// What prover and verifier derive from the description and the packing.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Keccak-256 of the encoded key; the transcript starts from it.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The key's encoding, as `vk.bin` holds it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(VK_MAGIC);
        out.extend_from_slice(&VK_VERSION.to_be_bytes());
        out.push(self.insecure_srs as u8);
        out.extend_from_slice(&(self.pack as u32).to_be_bytes());
        self.description.write(&mut out);
        self.statement.write(&mut out);
        for p in &self.key_commitments {
            out.extend_from_slice(&g1_to_bytes(p));
        }
        out.extend_from_slice(&g2_to_bytes(&self.g2));
        out.extend_from_slice(&g2_to_bytes(&self.s_g2));
        out
    }

    /// Reads and checks a key that `to_bytes` encoded; `Error::Malformed` for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader::new(bytes, "verifying key");
        if r.take(4)? != VK_MAGIC {
            return Err(malformed("not a zkinfer verifying key (bad magic)"));
        }
        let version = r.u32()?;
        if version != VK_VERSION {
            return Err(malformed(format!("verifying key version {version}; this verifier reads version {VK_VERSION} (run `zkinfer setup` again to remake the key)")));
        }
        let insecure_srs = match r.u8()? {
            0 => false,
            1 => true,
            b => return Err(malformed(format!("verifying key: SRS flag {b} is neither 0 nor 1"))),
        };
        let pack = r.u32()? as usize;
        check_pack(pack)?;
        let description = CircuitDescription::read(&mut r)?;
        let statement = Statement::read(&mut r)?;
        let layout = description.layout(pack);
        let count = layout.commitments_of(Round::Key).count();
        let key_commitments = (0..count).map(|_| r.g1()).collect::<Result<_, _>>()?;
        let g2 = r.g2()?;
        let s_g2 = r.g2()?;
        r.finish()?;
        let vk = Self::with_layout(description, statement, insecure_srs, pack, key_commitments, g2, s_g2, layout)?;
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

    /// A key is untrusted input (the demo page reads whatever is dropped on it), so reading one
    /// must take time about linear in its size. Here 1,000 advice columns are opened at {0, r}
    /// and 1,000 at {0, r, -r}, each pair merging into one commitment: when the layout compared
    /// every group with every other before each merge, a 16 KB key of 300 such pairs took 0.8 s
    /// and this 54 KB one about half a minute. The bound leaves a wide margin for slow machines.
    #[test]
    fn a_large_hostile_key_reads_quickly() {
        use crate::description::Gate;
        use crate::expression::{Column, Expression, Query};
        let pairs = 1000;
        let columns = 2 * pairs;
        let cell = |c: usize, rotation: i32| Expression::Cell(Query { column: Column::advice(c), rotation });
        let polys = (0..pairs)
            .flat_map(|i| {
                let r = 1 + i as i32;
                [cell(2 * i, 0) * cell(2 * i, r), cell(2 * i + 1, 0) * cell(2 * i + 1, r) * cell(2 * i + 1, -r)]
            })
            .collect();
        let d = CircuitDescription {
            k: 20,
            num_fixed: 1,
            num_advice: columns,
            num_instance: 0,
            gates: vec![Gate { name: "wide".into(), polys }],
            lookups: vec![],
            permutation: vec![],
        };
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        let bytes = VerifyingKey::new(d, Statement::default(), true, 64, vec![g1], g2, g2).unwrap().to_bytes();
        assert!(bytes.len() > 50_000, "{} bytes", bytes.len());
        let start = std::time::Instant::now();
        let vk = VerifyingKey::from_bytes(&bytes).unwrap();
        let elapsed = start.elapsed();
        // Each {0, r} column is also opened at -r, where its partner is.
        assert_eq!(vk.layout().openings.len(), 3 * columns);
        assert!(elapsed < std::time::Duration::from_millis(500), "reading a {} KB key took {elapsed:?}", bytes.len() / 1024);
    }

    #[test]
    fn new_refuses_what_from_bytes_refuses() {
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        let vk = VerifyingKey::new(description(4), Statement::default(), true, 1, vec![g1], g2, g2).unwrap();
        assert_eq!(VerifyingKey::from_bytes(&vk.to_bytes()).unwrap().digest(), vk.digest());
        // 2^2 rows cannot hold the blinding rows: an error, not an underflow in the layout.
        let err = VerifyingKey::new(description(2), Statement::default(), true, 1, vec![g1], g2, g2).unwrap_err();
        assert!(err.to_string().contains("blinding rows"), "{err}");
        let err = VerifyingKey::new(description(4), Statement::default(), true, 1, vec![], g2, g2).unwrap_err();
        assert!(err.to_string().contains("0 key commitments; this circuit's 1 fixed and 0 permutation columns packed by 1 take 1"), "{err}");
        let err = VerifyingKey::new(description(4), Statement::default(), true, 3, vec![g1], g2, g2).unwrap_err();
        assert!(err.to_string().contains("packing 3 is not a power of two"), "{err}");
    }
}
