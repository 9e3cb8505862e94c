// The JavaScript API over the WebAssembly verifier: proof files and hex are read here, so the
// `.wasm` holds only the verifier. `node.js` and `web.js` hand this module their wasm build.

export const PROTOCOL = 'zkinfer-plonk-kzg-bn254-keccak/3';
export const PROOF_FILE_VERSION = 1;

let wasm;

/** Called once by the entry point with the initialized wasm-bindgen module. */
export function useWasm(module) {
  wasm = module;
}

/**
 * Reads a verifying key (the bytes of `vk.bin`): its size, public-input shape and whether it
 * comes from an insecure dev SRS.
 */
export function readVerifyingKey(vk) {
  return withKey(vk, (key) => ({
    k: key.k,
    rows: 2 ** key.k,
    instanceColumns: key.instanceColumns,
    maxPublicInputsPerColumn: key.usableRows,
    insecureSrs: key.insecureSrs,
    digest: toHex(key.digest),
  }));
}

/**
 * Reads a proof file (`zkinfer prove` output) given as an object, JSON text or the file's
 * bytes, and checks its fields. Throws on anything that does not follow the format.
 */
export function parseProof(file) {
  if (file instanceof Uint8Array) {
    try {
      file = new TextDecoder('utf-8', { fatal: true }).decode(file);
    } catch {
      throw malformed('not UTF-8 text');
    }
  }
  if (typeof file === 'string') {
    try {
      file = JSON.parse(file);
    } catch (e) {
      throw malformed(`not JSON (${e.message})`);
    }
  }
  if (file === null || typeof file !== 'object' || Array.isArray(file)) throw malformed('not a JSON object');
  if (file.version !== PROOF_FILE_VERSION) {
    throw malformed(`version ${JSON.stringify(file.version)}; this verifier reads version ${PROOF_FILE_VERSION}`);
  }
  if (file.protocol !== PROTOCOL) {
    throw malformed(`protocol ${JSON.stringify(file.protocol)}; this verifier checks ${PROTOCOL}`);
  }
  const vkDigest = hexField(file.vk_digest, 'vk_digest', 32);
  if (!Array.isArray(file.instances) || !file.instances.every(Array.isArray)) {
    throw malformed('instances must be an array of arrays (one per instance column)');
  }
  const instances = file.instances.map((column, c) =>
    column.map((value, i) => toHex(hexField(value, `instances[${c}][${i}]`, 32))),
  );
  const outputs = file.outputs === undefined ? undefined : readOutputs(file.outputs);
  const proof = hexField(file.proof, 'proof');
  return { version: file.version, protocol: file.protocol, vkDigest: toHex(vkDigest), instances, outputs, proof };
}

/**
 * Verifies a proof: `true` when it verifies, `false` when a well-formed proof is rejected.
 * Throws an `Error` naming the problem when the key, the proof or the public inputs are
 * malformed. See `verifyDetailed` for the reason of a rejection.
 */
export function verify(vk, proof, publicInputs) {
  return verifyDetailed(vk, proof, publicInputs).verified;
}

/**
 * Verifies a proof and says why it was rejected. `proof` is a proof file (object, JSON text or
 * its bytes) or the raw proof bytes; raw bytes need `publicInputs`, which otherwise default to
 * the file's `instances`. Returns the public inputs checked and the file's outputs with the
 * verdict.
 */
export function verifyDetailed(vk, proof, publicInputs) {
  let file;
  let proofBytes;
  if (proof instanceof Uint8Array && isRawProof(proof)) {
    proofBytes = proof;
  } else {
    file = parseProof(proof);
    proofBytes = file.proof;
  }
  if (publicInputs === undefined) {
    if (file === undefined) throw new TypeError('raw proof bytes need publicInputs (one array of values per instance column)');
    publicInputs = file.instances;
  }
  const { words, columnLengths, instances } = encodePublicInputs(publicInputs);
  return withKey(vk, (key) => {
    const result = { verified: false, reason: undefined, instances, outputs: file?.outputs };
    const digest = toHex(key.digest);
    if (file !== undefined && file.vkDigest !== digest) {
      result.reason = `the proof was made for verifying key ${file.vkDigest}, this key is ${digest}`;
      return result;
    }
    result.reason = key.verify(proofBytes, words, columnLengths);
    result.verified = result.reason === undefined;
    return result;
  });
}

function withKey(vk, f) {
  if (wasm === undefined) throw new Error('zkinfer-verifier: the WebAssembly module is not loaded; call `await init()` first');
  if (!(vk instanceof Uint8Array)) throw new TypeError('the verifying key must be a Uint8Array (the bytes of vk.bin)');
  const key = new wasm.VerifyingKey(vk);
  try {
    return f(key);
  } finally {
    key.free();
  }
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
  if (x < 0n || x >= 1n << 256n) throw new RangeError(`${what} does not fit in 32 bytes unsigned`);
  return x;
}

function readOutputs(outputs) {
  if (!Array.isArray(outputs)) throw malformed('outputs must be an array');
  return outputs.map((o, i) => {
    const ok =
      o !== null &&
      typeof o === 'object' &&
      typeof o.name === 'string' &&
      Array.isArray(o.shape) &&
      o.shape.every((d) => Number.isSafeInteger(d) && d >= 0) &&
      Array.isArray(o.values) &&
      o.values.every((v) => typeof v === 'number') &&
      o.values.length === o.shape.reduce((a, b) => a * b, 1);
    if (!ok) throw malformed(`outputs[${i}] must be {name, shape, values} with as many numbers as the shape holds`);
    return { name: o.name, shape: o.shape, values: o.values };
  });
}

function hexField(value, what, bytes) {
  const pattern = bytes === undefined ? /^0x(?:[0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${2 * bytes}}$`);
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw malformed(`${what} must be 0x followed by ${bytes === undefined ? 'an even number of' : 2 * bytes} hex digits`);
  }
  const out = new Uint8Array((value.length - 2) / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(value.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

function toHex(bytes) {
  return '0x' + Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// Raw proof bytes start with the magic "ZKP" and a version byte; anything else is a file.
function isRawProof(bytes) {
  return bytes.length >= 3 && bytes[0] === 0x5a && bytes[1] === 0x4b && bytes[2] === 0x50;
}

function malformed(message) {
  return new Error(`malformed input: proof file: ${message}`);
}
