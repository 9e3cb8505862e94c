// The JavaScript API over the WebAssembly verifier. Proof files are read by the Rust crate (the
// same parser as the CLI's), so every front end gives every file the same verdict; this module
// only turns arguments into bytes and the wasm's JSON answers into objects. `node.js` and
// `web.js` hand it their initialized wasm module.

export const PROTOCOL = 'zkinfer-plonk-kzg-bn254-keccak/3';
export const PROOF_FILE_VERSION = 1;
/** The BN254 scalar field's modulus r: public values are integers mod r. */
export const SCALAR_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

const HALF = (SCALAR_MODULUS - 1n) / 2n;

let wasm;

/** Called once by the entry point with the initialized wasm-bindgen module. */
export function useWasm(module) {
  wasm = module;
}

/**
 * Reads a verifying key (the bytes of `vk.bin`): its size, public values, statement (the named
 * tensors its public values encode), digest and SRS identity.
 */
export function readVerifyingKey(vk) {
  return withKey(vk, (key) => {
    const info = JSON.parse(key.info());
    const statement = (tensors) => tensors.map(({ name, shape, scale_bits }) => ({ name, shape, scale_bits }));
    return {
      k: info.k,
      rows: 2 ** info.k,
      instanceColumns: info.publicValues.length,
      maxPublicInputsPerColumn: info.usableRows,
      publicValues: info.publicValues,
      outputs: statement(info.outputs),
      inputs: statement(info.inputs),
      insecureSrs: info.insecureSrs,
      digest: info.digest,
      srsId: info.srsId,
      srs: info.srs,
    };
  });
}

/**
 * Reads a proof file (object, JSON text or the file's bytes) with the verifier's own parser.
 * Throws an `Error` ("malformed input: proof file: ...") when it does not follow the format.
 */
export function parseProof(file) {
  const parsed = JSON.parse(loaded().parseProofFile(fileBytes(file)));
  return {
    version: PROOF_FILE_VERSION,
    protocol: PROTOCOL,
    vkDigest: parsed.vkDigest,
    instances: parsed.instances,
    outputs: parsed.outputs,
    inputs: parsed.inputs,
    proof: fromHex(parsed.proof),
  };
}

/**
 * Verifies a proof: `true` when it verifies, `false` when a well-formed proof is rejected.
 * Throws an `Error` naming the problem when the key, the proof or the public inputs are
 * malformed. See `verifyDetailed` for the reason of a rejection.
 */
export function verify(vk, proof, publicInputs, options) {
  return verifyDetailed(vk, proof, publicInputs, options).verified;
}

/**
 * Verifies a proof and says why it was rejected. `proof` is a proof file (object, JSON text or
 * its bytes) or the raw proof bytes (they start with "ZKP"); raw bytes need `publicInputs`,
 * which otherwise default to the file's `instances`. `options.requireSrsId` (`0x` + 64 hex
 * digits, or 32 bytes) rejects a key made from any other SRS. Returns the verdict with the
 * public values checked and, when verified, the outputs and inputs they encode as the key's
 * named tensors (never the file's own `outputs`).
 */
export function verifyDetailed(vk, proof, publicInputs, options = {}) {
  const required = options?.requireSrsId === undefined ? undefined : srsIdBytes(options.requireSrsId);
  const raw = proof instanceof Uint8Array && isRawProof(proof);
  if (raw && publicInputs === undefined) {
    throw new TypeError('raw proof bytes need publicInputs (one array of values per instance column)');
  }
  return withKey(vk, (key) => {
    if (publicInputs === undefined) return JSON.parse(key.verifyFile(fileBytes(proof), required));
    let proofBytes = proof;
    let file;
    if (!raw) {
      file = JSON.parse(loaded().parseProofFile(fileBytes(proof)));
      proofBytes = fromHex(file.proof);
    }
    const { words, columnLengths, instances } = encodePublicInputs(publicInputs);
    if (file !== undefined) {
      // The same order as `verifyFile`: the required SRS, then the key the file names.
      const info = JSON.parse(key.info());
      const srsMismatch = required !== undefined && toHex(required) !== info.srsId;
      if (!srsMismatch && file.vkDigest !== info.digest) {
        return {
          verified: false,
          reason: `proof rejected: the proof was made for verifying key ${file.vkDigest}, this key is ${info.digest}`,
          instances,
          outputs: [],
          inputs: [],
          srsId: info.srsId,
          srs: info.srs,
        };
      }
    }
    return JSON.parse(key.verify(proofBytes, words, columnLengths, required));
  });
}

/**
 * A public value (a field element: bigint, safe integer, `0x` hex or decimal string, below r)
 * as a signed bigint: values above (r - 1) / 2 stand for negative numbers, v - r.
 */
export function toSigned(value) {
  const x = toBigInt(value, 'value');
  if (x >= SCALAR_MODULUS) throw new RangeError('value is not below the BN254 scalar modulus');
  return x > HALF ? x - SCALAR_MODULUS : x;
}

/**
 * A public value as the fixed-point number it encodes: `toSigned(value) / 2^scaleBits`, as a
 * Number (the tensors' `scale_bits`).
 */
export function dequantize(value, scaleBits) {
  if (!Number.isSafeInteger(scaleBits) || scaleBits < 0) throw new TypeError('scaleBits must be a non-negative integer');
  return Number(toSigned(value)) / 2 ** scaleBits;
}

function loaded() {
  if (wasm === undefined) throw new Error('zkinfer-verifier: the WebAssembly module is not loaded; call `await init()` first');
  return wasm;
}

function withKey(vk, f) {
  const module = loaded();
  if (!(vk instanceof Uint8Array)) throw new TypeError('the verifying key must be a Uint8Array (the bytes of vk.bin)');
  const key = new module.VerifyingKey(vk);
  try {
    return f(key);
  } finally {
    key.free();
  }
}

// A proof file's bytes, for the wasm parser: bytes pass through, text is encoded, anything else
// is written as JSON. The parser alone judges the result.
function fileBytes(file) {
  if (file instanceof Uint8Array) return file;
  if (file instanceof ArrayBuffer) return new Uint8Array(file);
  if (typeof file === 'string') return new TextEncoder().encode(file);
  const text = JSON.stringify(file);
  if (typeof text !== 'string') throw new TypeError('the proof must be a proof file (object, JSON text or bytes) or raw proof bytes');
  return new TextEncoder().encode(text);
}

function srsIdBytes(id) {
  if (id instanceof Uint8Array && id.length === 32) return id;
  if (typeof id === 'string' && /^0x[0-9a-fA-F]{64}$/.test(id)) return fromHex(id);
  throw new TypeError('options.requireSrsId must be 0x followed by 64 hex digits (or 32 bytes)');
}

// Public inputs as 32-byte big-endian words, column after column, for the wasm API.
function encodePublicInputs(columns) {
  if (!Array.isArray(columns) || !columns.every(Array.isArray)) {
    throw new TypeError('publicInputs must be an array of arrays (one per instance column)');
  }
  const columnLengths = Uint32Array.from(columns, (c) => c.length);
  const words = new Uint8Array(32 * columnLengths.reduce((a, b) => a + b, 0));
  let end = 0;
  const instances = columns.map((column, c) =>
    column.map((value, i) => {
      let x = toBigInt(value, `publicInputs[${c}][${i}]`);
      if (x >= 1n << 256n) throw new RangeError(`publicInputs[${c}][${i}] does not fit in 32 bytes unsigned`);
      end += 32;
      for (let j = end - 1; j >= end - 32; j--, x >>= 8n) words[j] = Number(x & 0xffn);
      return toHex(words.subarray(end - 32, end));
    }),
  );
  return { words, columnLengths, instances };
}

function toBigInt(value, what) {
  let x;
  if (typeof value === 'bigint') x = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) x = BigInt(value);
  else if (typeof value === 'string' && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) x = BigInt(value);
  else throw new TypeError(`${what} must be a bigint, a safe integer, a 0x-hex or a decimal string`);
  if (x < 0n) throw new RangeError(`${what} is negative: a field element is an integer from 0 to r - 1`);
  return x;
}

// Hex with 0x from the wasm (always well-formed) to bytes.
function fromHex(hex) {
  const out = new Uint8Array((hex.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

function toHex(bytes) {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Raw proof bytes start with the magic "ZKP" and a version byte; anything else is a file.
function isRawProof(bytes) {
  return bytes.length >= 3 && bytes[0] === 0x5a && bytes[1] === 0x4b && bytes[2] === 0x50;
}
