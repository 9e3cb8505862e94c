//! The WebAssembly API, wrapped by the npm package in `verifier/js` (which parses proof files
//! and hex, so that no JSON code lands in the `.wasm`).
//!
//! Public inputs cross the boundary as one flat byte array of 32-byte big-endian field
//! elements, column after column, and the number of values in each instance column.
//! Malformed bytes throw an `Error`; a well-formed proof that fails is not an exception but a
//! rejection with its reason.

use crate::encoding::Reader;
use crate::error::Error;
use crate::vk::VerifyingKey;
use wasm_bindgen::prelude::*;

/// A parsed verifying key (the bytes of `VerifyingKey::to_bytes`, as in `vk.bin`).
#[wasm_bindgen(js_name = VerifyingKey)]
pub struct JsVerifyingKey(VerifyingKey);

#[wasm_bindgen(js_class = VerifyingKey)]
impl JsVerifyingKey {
    #[wasm_bindgen(constructor)]
    pub fn from_bytes(bytes: &[u8]) -> Result<JsVerifyingKey, JsError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(|e| JsError::new(&e.to_string()))
    }

    /// The circuit has 2^k rows.
    #[wasm_bindgen(getter)]
    pub fn k(&self) -> u32 {
        self.0.description.k
    }

    #[wasm_bindgen(getter, js_name = instanceColumns)]
    pub fn instance_columns(&self) -> usize {
        self.0.description.num_instance
    }

    /// The most public inputs one instance column holds.
    #[wasm_bindgen(getter, js_name = usableRows)]
    pub fn usable_rows(&self) -> usize {
        self.0.layout().usable_rows
    }

    /// True when the key was made from a dev SRS whose secret was known to one machine.
    #[wasm_bindgen(getter, js_name = insecureSrs)]
    pub fn insecure_srs(&self) -> bool {
        self.0.insecure_srs
    }

    /// Keccak-256 of the key's bytes: the `vk_digest` a proof file names.
    #[wasm_bindgen(getter)]
    pub fn digest(&self) -> Vec<u8> {
        self.0.digest().to_vec()
    }

    /// Verifies `proof` (the bytes of `Proof::to_bytes`) for the public inputs: `instances`
    /// holds 32-byte big-endian field elements, `columnLengths[i]` of them for column `i`.
    /// Returns `undefined` when the proof verifies and the reason when it is rejected.
    pub fn verify(&self, proof: &[u8], instances: &[u8], column_lengths: &[u32]) -> Result<Option<String>, JsError> {
        let values: u64 = column_lengths.iter().map(|&n| n as u64).sum();
        if instances.len() as u64 != 32 * values {
            return Err(JsError::new(&format!(
                "malformed input: public inputs: {} bytes for {values} values of 32 bytes",
                instances.len()
            )));
        }
        let mut reader = Reader::new(instances, "public inputs");
        let columns = column_lengths
            .iter()
            .enumerate()
            .map(|(c, &len)| {
                (0..len)
                    .map(|i| {
                        reader.fr().map_err(|_| {
                            JsError::new(&format!(
                                "malformed input: public input {i} of instance column {c} is not below the scalar modulus"
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        match crate::verify(&self.0, &columns, proof) {
            Ok(()) => Ok(None),
            Err(e @ Error::Malformed(_)) => Err(JsError::new(&e.to_string())),
            Err(e @ (Error::Rejected(_) | Error::PublicInputs(_))) => Ok(Some(e.to_string())),
        }
    }
}
