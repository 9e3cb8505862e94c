//! Where a key's SRS came from. A verifying key carries `[tau]_2`, the one point of the SRS
//! the verifier uses; whoever knew tau can forge proofs under every key made from it, so a
//! verifier names the SRS by a digest of that point and compares it with the ceremonies whose
//! `[tau]_2` is public. The key's own `insecure_srs` flag is the key maker's word and proves
//! nothing: a key is "from ceremony X" only when its `[tau]_2` is X's.

use crate::encoding::g2_to_bytes;
use crate::error::Error;
use crate::proof_file::to_hex;
use crate::transcript::keccak256;
use crate::vk::VerifyingKey;
use ark_bn254::G2Affine;

/// A public powers-of-tau ceremony on BN254, by its `[tau]_2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ceremony {
    /// The ceremony as people know it.
    pub name: &'static str,
    /// `[tau]_2` as hex words x.c0, x.c1, y.c0, y.c1 (x = x.c0 + x.c1 u), as public verifier
    /// contracts and SRS files give it.
    pub tau_g2: [&'static str; 4],
}

impl Ceremony {
    /// The identity of keys made from this ceremony: Keccak-256 of `[tau]_2` in EVM encoding.
    pub fn srs_id(&self) -> [u8; 32] {
        let [x0, x1, y0, y1] = self.tau_g2.map(word);
        keccak256(&[x1, x0, y1, y0].concat())
    }
}

fn word(hex: &str) -> [u8; 32] {
    let digits = hex.strip_prefix("0x").expect("ceremony words are 0x-hex");
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).expect("hex digits");
    }
    out
}

/// The SRS identity of a key: Keccak-256 of its `[tau]_2` in EVM encoding.
pub fn srs_id(s_g2: &G2Affine) -> [u8; 32] {
    keccak256(&g2_to_bytes(s_g2))
}

/// The ceremony whose `[tau]_2` has this identity, if it is one of [`CEREMONIES`].
pub fn ceremony(srs_id: &[u8; 32]) -> Option<&'static Ceremony> {
    CEREMONIES.iter().find(|c| c.srs_id() == *srs_id)
}

/// How verifiers describe a key's SRS to people.
pub fn describe(srs_id: &[u8; 32]) -> String {
    match ceremony(srs_id) {
        Some(c) => format!("key from ceremony {}", c.name),
        None => "unknown or development SRS".into(),
    }
}

/// Rejects a key whose SRS is not the one `required` names: what a verifier does when it is
/// told which SRS to trust (`zkinfer verify --srs-id`, `requireSrsId` in JavaScript).
pub fn require(vk: &VerifyingKey, required: &[u8; 32]) -> Result<(), Error> {
    let id = vk.srs_id();
    if id != *required {
        return Err(Error::Statement(format!("the key's SRS is 0x{} ({}), not the required 0x{}", to_hex(&id), describe(&id), to_hex(required))));
    }
    Ok(())
}

/// Public ceremonies whose `[tau]_2` was read from public material, each from at least two
/// independent repositories (docs/protocol.md, "SRS provenance"). A test checks that each is a
/// point of the G2 subgroup. A `.ptau` file cut from one of them (`powersOfTau28_hez_final_15`,
/// `ppot_0080_17`, ...) keeps its `[tau]_2`, whatever its size.
pub const CEREMONIES: &[Ceremony] = &[
    Ceremony {
        // snarkjs PLONK/FFLONK verifiers built on it (e.g. Polygon zkEVM's FflonkVerifier).
        name: "Hermez powersOfTau28_hez_final (Polygon Hermez, snarkjs)",
        tau_g2: [
            "0x30441fd1b5d3370482c42152a8899027716989a6996c2535bc9f7fee8aaef79e",
            "0x26186a2d65ee4d2f9c9a5b91f86597d35f192cd120caf7e935d8443d1938e23d",
            "0x054793348f12c0cf5622c340573cb277586319de359ab9389778f689786b1e48",
            "0x1970ea81dd6992adfbc571effb03503adbbb6a857f578403c6c40e22d65b3c02",
        ],
    },
    Ceremony {
        // PSE's ppot_0080_*.ptau files (snarkjs format).
        name: "Perpetual Powers of Tau ppot_0080 (PSE)",
        tau_g2: [
            "0x285b1f14edd7e6632340a37dfae9005ff762edcfecfe1c732a7474c0708bef80",
            "0x17cc93077f56f654da727c1def86010339c2b4131094547285adb083e48c197b",
            "0x2bad9a374aec49d329ec66e8f530f68509313450580c4c17c6db5ddb9bde7fd0",
            "0x219edfceee1723de674f5b2f6fdb69d9e32dd53b15844956a630d3c7cdaa6ed9",
        ],
    },
    Ceremony {
        // PSE halo2's perpetual-powers-of-tau-raw-k files (Scroll, EZKL).
        name: "Perpetual Powers of Tau response_0071_edward (PSE halo2 raw-k)",
        tau_g2: [
            "0x17944351223333f260ddc3b4af45191b856689eda9eab5cbcddbbe570ce860d2",
            "0x186282957db913abd99f91db59fe69922e95040603ef44c0bd7aa3adeef8f5ac",
            "0x297772d34bc9aa8ae56162486363ffe417b02dc7e8c207fc2cc20203e67a02ad",
            "0x298adc7396bd3865cbf6d6df91bae406694e6d2215baa893bdeadb63052895f4",
        ],
    },
    Ceremony {
        // Axiom's and OpenVM's verifiers.
        name: "Perpetual Powers of Tau challenge_0085 (Axiom)",
        tau_g2: [
            "0x2ae0c8c3a090f7200ff398ee9845bbae8f8c1445ae7b632212775f60a0e21600",
            "0x172aa93c41f16e1e04d62ac976a5d945f4be0acab990c6dc19ac4a7cf68bf77b",
            "0x1459fe6cc8a1222fd4290864ff9e47d4b8cf7a403593c7107c39538ddefd857e",
            "0x1754a9fc3b7e4da9197c283c7401773208190c5555caf254e644e99c29366704",
        ],
    },
    Ceremony {
        // Aztec's PLONK verifiers (barretenberg).
        name: "Aztec Ignition (2019)",
        tau_g2: [
            "0x0118c4d5b837bcc2bc89b5b398b5974e9f5944073b32078b7e231fec938883b0",
            "0x260e01b251f6f1c7e7ff4e580791dee8ea51d87a358e038b4efe30fac09383c1",
            "0x22febda3c0c0632a56475b4214e5615e11e6dd3f96e6cea2854a87d4dacc5e55",
            "0x04fc6369f7110fe3d25156c1bb9a72859cf2a04641f99ba4ee413c80da6a5fe4",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::Reader;
    use ark_bn254::{Fr, G2Affine};
    use ark_ec::{AffineRepr, CurveGroup};

    #[test]
    fn every_ceremony_point_is_in_g2_and_names_itself() {
        for c in CEREMONIES {
            let [x0, x1, y0, y1] = c.tau_g2.map(word);
            // The reader checks the curve and the subgroup; it reads EVM order.
            let point = Reader::new(&[x1, x0, y1, y0].concat(), "ceremony").g2().unwrap_or_else(|e| panic!("{}: {e}", c.name));
            assert_eq!(srs_id(&point), c.srs_id());
            assert_eq!(ceremony(&c.srs_id()), Some(c));
            assert!(describe(&c.srs_id()).starts_with("key from ceremony"));
        }
        // As docs/protocol.md lists it, computed there by another Keccak implementation.
        let hermez = "5736faa81ef252f765fecc3ba80c8bf4d0c048018479d90226905df3f03c0d36";
        assert_eq!(to_hex(&CEREMONIES[0].srs_id()), hermez);
        let dev = (G2Affine::generator() * Fr::from(5u64)).into_affine();
        assert_eq!(describe(&srs_id(&dev)), "unknown or development SRS");
    }
}
