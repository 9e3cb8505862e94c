//! Fiat-Shamir transcript over Keccak-256 with EVM encodings.
//!
//! The state is a byte string: absorbing appends encoded items; squeezing a challenge hashes
//! the whole string, replaces it with the 32-byte digest and reduces the digest, read as a
//! big-endian integer, modulo the scalar field order. A Solidity verifier reproduces this by
//! hashing a memory region that holds the previous digest followed by the proof bytes.

use crate::encoding::{fr_to_bytes, g1_to_bytes};
use ark_bn254::{Fr, G1Affine};
use ark_ff::PrimeField;
use sha3::{Digest, Keccak256};

/// Keccak-256 of `bytes`, as the EVM's `keccak256` computes it.
pub fn keccak256(bytes: &[u8]) -> [u8; 32] {
    Keccak256::digest(bytes).into()
}

/// The transcript's state; prover and verifier absorb the same items in the same order.
pub struct Transcript {
    state: Vec<u8>,
}

impl Transcript {
    /// Starts from the verifying key's digest, binding every challenge to the circuit.
    pub fn new(vk_digest: &[u8; 32]) -> Self {
        Self { state: vk_digest.to_vec() }
    }

    /// Appends bytes.
    pub fn absorb_bytes(&mut self, bytes: &[u8]) {
        self.state.extend_from_slice(bytes);
    }

    /// Appends a scalar as its 32-byte word.
    pub fn absorb_fr(&mut self, x: &Fr) {
        self.absorb_bytes(&fr_to_bytes(x));
    }

    /// Appends a G1 point as its two 32-byte words.
    pub fn absorb_g1(&mut self, p: &G1Affine) {
        self.absorb_bytes(&g1_to_bytes(p));
    }

    /// Squeezes a challenge: Keccak-256 of the state, which becomes the new state, modulo the
    /// scalar field order.
    pub fn challenge(&mut self) -> Fr {
        let digest = keccak256(&self.state);
        self.state = digest.to_vec();
        Fr::from_be_bytes_mod_order(&digest)
    }
}
