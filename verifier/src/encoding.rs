//! EVM byte encodings: field elements as 32-byte big-endian words, G1 points as two such
//! words (x, y) with the identity as (0, 0), G2 points in EIP-197 order (x.c1, x.c0, y.c1, y.c0).
//! Decoding is strict: non-canonical field elements and points off the curve are errors.

use crate::error::{malformed, Error};
use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField, Zero};

/// A scalar as a 32-byte big-endian word.
pub fn fr_to_bytes(x: &Fr) -> [u8; 32] {
    word(x.into_bigint().to_bytes_be())
}

/// A base-field element as a 32-byte big-endian word.
pub fn fq_to_bytes(x: &Fq) -> [u8; 32] {
    word(x.into_bigint().to_bytes_be())
}

fn word(be: Vec<u8>) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[32 - be.len()..].copy_from_slice(&be);
    out
}

/// A G1 point as its words x, y; the identity as two zero words.
pub fn g1_to_bytes(p: &G1Affine) -> [u8; 64] {
    let mut out = [0u8; 64];
    if let Some((x, y)) = p.xy() {
        out[..32].copy_from_slice(&fq_to_bytes(&x));
        out[32..].copy_from_slice(&fq_to_bytes(&y));
    }
    out
}

/// A G2 point as the words x.c1, x.c0, y.c1, y.c0 (EIP-197); the identity as zeros.
pub fn g2_to_bytes(p: &G2Affine) -> [u8; 128] {
    let mut out = [0u8; 128];
    if let Some((x, y)) = p.xy() {
        for (i, c) in [x.c1, x.c0, y.c1, y.c0].iter().enumerate() {
            out[32 * i..32 * (i + 1)].copy_from_slice(&fq_to_bytes(c));
        }
    }
    out
}

/// A cursor over untrusted bytes; every read checks the length first.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`; `what` names them in error messages.
    pub fn new(bytes: &'a [u8], what: &'static str) -> Self {
        Self { bytes, pos: 0, what }
    }

    /// How many bytes have been read.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next `len` bytes.
    pub fn take(&mut self, len: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| malformed(format!("{} truncated: needed {} bytes at offset {}, only {} remain", self.what, len, self.pos, self.bytes.len() - self.pos)))?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// The next byte.
    pub fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    /// The next 4 bytes as a big-endian `u32`.
    pub fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    /// The next 4 bytes as a big-endian `i32`.
    pub fn i32(&mut self) -> Result<i32, Error> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }

    /// A length that must not exceed `max`, so hostile lengths cannot trigger huge allocations.
    pub fn len(&mut self, max: usize, field: &str) -> Result<usize, Error> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(malformed(format!("{}: {field} = {n} exceeds the limit {max}", self.what)));
        }
        Ok(n)
    }

    /// A UTF-8 string of at most 4096 bytes after its length as a `u32`.
    pub fn string(&mut self) -> Result<String, Error> {
        let n = self.len(1 << 12, "string length")?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| malformed(format!("{}: a name is not UTF-8", self.what)))
    }

    /// A scalar in its canonical 32-byte word (below the modulus).
    pub fn fr(&mut self) -> Result<Fr, Error> {
        let at = self.pos;
        let b = self.take(32)?;
        let x = Fr::from_be_bytes_mod_order(b);
        if fr_to_bytes(&x) != b {
            return Err(malformed(format!("{}: field element at offset {at} is not below the scalar modulus", self.what)));
        }
        Ok(x)
    }

    fn fq(&mut self) -> Result<Fq, Error> {
        let at = self.pos;
        let b = self.take(32)?;
        let x = Fq::from_be_bytes_mod_order(b);
        if fq_to_bytes(&x) != b {
            return Err(malformed(format!("{}: coordinate at offset {at} is not below the base modulus", self.what)));
        }
        Ok(x)
    }

    /// A G1 point as `g1_to_bytes` writes it, on the curve.
    pub fn g1(&mut self) -> Result<G1Affine, Error> {
        let at = self.pos;
        let (x, y) = (self.fq()?, self.fq()?);
        if x.is_zero() && y.is_zero() {
            return Ok(G1Affine::zero());
        }
        // BN254 G1 has cofactor 1: every point on the curve is in the prime-order group.
        let p = G1Affine::new_unchecked(x, y);
        if !p.is_on_curve() {
            return Err(malformed(format!("{}: G1 point at offset {at} is not on the curve", self.what)));
        }
        Ok(p)
    }

    /// A G2 point as `g2_to_bytes` writes it, in the prime-order subgroup.
    pub fn g2(&mut self) -> Result<G2Affine, Error> {
        let at = self.pos;
        let (x1, x0, y1, y0) = (self.fq()?, self.fq()?, self.fq()?, self.fq()?);
        let p = G2Affine::new_unchecked(Fq2::new(x0, x1), Fq2::new(y0, y1));
        if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
            return Err(malformed(format!("{}: G2 point at offset {at} is not in the prime-order subgroup", self.what)));
        }
        Ok(p)
    }

    /// An error unless every byte has been read.
    pub fn finish(&self) -> Result<(), Error> {
        if self.pos != self.bytes.len() {
            return Err(malformed(format!("{}: {} unexpected trailing bytes after offset {}", self.what, self.bytes.len() - self.pos, self.pos)));
        }
        Ok(())
    }
}
