//! The WebAssembly API, wrapped by the npm package in `verifier/js`. Proof files are read here,
//! by the same [`ProofFile::parse`] as the CLI's, so every front end gives every file the same
//! verdict; results cross the boundary as JSON text, which `api.js` parses.
//!
//! Public inputs given apart from a file cross the boundary as one flat byte array of 32-byte
//! big-endian field elements, column after column, and the number of values in each instance
//! column. Malformed input throws an `Error`; a well-formed proof that fails is not an
//! exception but a verdict with its reason.

use crate::encoding::Reader;
use crate::error::Error;
use crate::json::quote;
use crate::proof_file::{tensors_json, to_hex, verify_file, ProofFile};
use crate::srs;
use crate::statement::{TensorKind, TensorValues};
use crate::vk::VerifyingKey;
use ark_bn254::Fr;
use wasm_bindgen::prelude::*;

/// A parsed verifying key (the bytes of `VerifyingKey::to_bytes`, as in `vk.bin`).
#[wasm_bindgen(js_name = VerifyingKey)]
pub struct JsVerifyingKey(VerifyingKey);

fn js(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen(js_class = VerifyingKey)]
impl JsVerifyingKey {
    #[wasm_bindgen(constructor)]
    pub fn from_bytes(bytes: &[u8]) -> Result<JsVerifyingKey, JsError> {
        VerifyingKey::from_bytes(bytes).map(Self).map_err(js)
    }

    /// The key as JSON: `k`, `usableRows`, `publicValues` (per instance column), `outputs` and
    /// `inputs` (the statement's public tensors, with empty values), `insecureSrs` (the key maker's word), `digest`,
    /// `srsId` and `srs` (the ceremony's description, or "unknown or development SRS").
    pub fn info(&self) -> String {
        let vk = &self.0;
        let srs_id = vk.srs_id();
        let tensors: Vec<TensorValues> = vk.statement().tensors.iter().map(|t| TensorValues { tensor: t.clone(), values: vec![] }).collect();
        let counts: Vec<String> = vk.statement().counts.iter().map(usize::to_string).collect();
        format!(
            "{{\"k\":{},\"usableRows\":{},\"publicValues\":[{}],\"outputs\":{},\"inputs\":{},\"insecureSrs\":{},\"digest\":\"0x{}\",\"srsId\":\"0x{}\",\"srs\":{}}}",
            vk.description().k,
            vk.layout().usable_rows,
            counts.join(","),
            tensors_json(&tensors, TensorKind::Output),
            tensors_json(&tensors, TensorKind::Input),
            vk.insecure_srs(),
            to_hex(vk.digest()),
            to_hex(&srs_id),
            quote(&srs::describe(&srs_id))
        )
    }

    /// Verifies a proof file (its bytes) and returns the verdict as JSON: `verified`, `reason`
    /// (null when verified), `instances`, and `outputs` and `inputs`, the public values as the
    /// key's named tensors: the only outputs to show. With `requiredSrsId` (32 bytes), a key made from
    /// another SRS is rejected. Throws on a malformed file.
    #[wasm_bindgen(js_name = verifyFile)]
    pub fn verify_file(&self, file: &[u8], required_srs_id: Option<Vec<u8>>) -> Result<String, JsError> {
        let file = ProofFile::parse(file).map_err(js)?;
        let result = self.require(required_srs_id).and_then(|()| verify_file(&self.0, &file));
        verdict(&self.0, &file.instances, result)
    }

    /// Verifies raw proof bytes for the public inputs: `instances` holds 32-byte big-endian
    /// field elements, `columnLengths[i]` of them for column `i`. Returns the verdict as JSON,
    /// as `verifyFile` does.
    pub fn verify(&self, proof: &[u8], instances: &[u8], column_lengths: &[u32], required_srs_id: Option<Vec<u8>>) -> Result<String, JsError> {
        let values: u64 = column_lengths.iter().map(|&n| n as u64).sum();
        if instances.len() as u64 != 32 * values {
            return Err(JsError::new(&format!("malformed input: public inputs: {} bytes for {values} values of 32 bytes", instances.len())));
        }
        let mut reader = Reader::new(instances, "public inputs");
        let columns = column_lengths
            .iter()
            .enumerate()
            .map(|(c, &len)| {
                (0..len)
                    .map(|i| reader.fr().map_err(|_| JsError::new(&format!("malformed input: public input {i} of instance column {c} is not below the scalar modulus"))))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = self.require(required_srs_id).and_then(|()| {
            crate::verify(&self.0, &columns, proof)?;
            Ok(self.0.statement().decode(&columns))
        });
        verdict(&self.0, &columns, result)
    }

    fn require(&self, required_srs_id: Option<Vec<u8>>) -> Result<(), Error> {
        match required_srs_id {
            None => Ok(()),
            Some(id) => {
                let id: [u8; 32] = id.try_into().map_err(|_| Error::Malformed("the required SRS id must be 32 bytes".into()))?;
                srs::require(&self.0, &id)
            }
        }
    }
}

/// Reads a proof file and returns it as JSON (`vkDigest`, `instances`, `outputs` and `inputs`:
/// what it shows, or null, `proof`, all hex with 0x); throws when it does not follow the format.
#[wasm_bindgen(js_name = parseProofFile)]
pub fn parse_proof_file(file: &[u8]) -> Result<String, JsError> {
    let file = ProofFile::parse(file).map_err(js)?;
    Ok(format!(
        "{{\"vkDigest\":\"0x{}\",\"instances\":{},\"outputs\":{},\"inputs\":{},\"proof\":\"0x{}\"}}",
        to_hex(&file.vk_digest),
        instances_json(&file.instances),
        file.shown.as_deref().map_or("null".into(), |t| tensors_json(t, TensorKind::Output)),
        file.shown.as_deref().map_or("null".into(), |t| tensors_json(t, TensorKind::Input)),
        to_hex(&file.proof)
    ))
}

fn instances_json(instances: &[Vec<Fr>]) -> String {
    let columns: Vec<String> =
        instances.iter().map(|c| format!("[{}]", c.iter().map(|v| format!("\"0x{}\"", to_hex(&crate::encoding::fr_to_bytes(v)))).collect::<Vec<_>>().join(","))).collect();
    format!("[{}]", columns.join(","))
}

/// The verdict as JSON; a malformed input is thrown instead.
fn verdict(vk: &VerifyingKey, instances: &[Vec<Fr>], result: Result<Vec<TensorValues>, Error>) -> Result<String, JsError> {
    let (reason, tensors) = match result {
        Ok(tensors) => ("null".to_string(), tensors),
        Err(e) if e.is_malformed() => return Err(js(e)),
        Err(e) => (quote(&e.to_string()), vec![]),
    };
    let srs_id = vk.srs_id();
    Ok(format!(
        "{{\"verified\":{},\"reason\":{reason},\"instances\":{},\"outputs\":{},\"inputs\":{},\"srsId\":\"0x{}\",\"srs\":{}}}",
        reason == "null",
        instances_json(instances),
        tensors_json(&tensors, TensorKind::Output),
        tensors_json(&tensors, TensorKind::Input),
        to_hex(&srs_id),
        quote(&srs::describe(&srs_id))
    ))
}
