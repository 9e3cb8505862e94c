/** The proof system a proof file names: `"zkinfer-plonk-kzg-bn254-keccak/3"`. */
export const PROTOCOL: string;
/** The proof file version this verifier reads: 1. */
export const PROOF_FILE_VERSION: number;

/** A public input: a field element as a bigint, a safe integer, a `0x` hex or a decimal string. */
export type PublicInput = bigint | number | string;

/** One named output tensor of a compiled model, dequantized by the prover. */
export interface ProofOutput {
  name: string;
  shape: number[];
  /** Row-major, `shape` product long. */
  values: number[];
}

/** A proof file as `zkinfer prove` writes it (`proof.json`). */
export interface ProofJson {
  version: 1;
  protocol: string;
  /** `0x` + 64 hex digits: Keccak-256 of the verifying key's bytes. */
  vk_digest: string;
  /** The public inputs, one array per instance column, each `0x` + 64 hex digits (32 bytes big-endian). */
  instances: string[][];
  /** Present for compiled ML models. */
  outputs?: ProofOutput[];
  /** `0x` + the hex of the proof bytes. */
  proof: string;
}

/** A proof file after `parseProof` checked it. */
export interface ParsedProof {
  version: number;
  protocol: string;
  vkDigest: string;
  instances: string[][];
  outputs?: ProofOutput[];
  proof: Uint8Array;
}

export interface VerifyingKeyInfo {
  /** The circuit has `2^k` rows. */
  k: number;
  rows: number;
  /** How many arrays of public inputs a proof carries. */
  instanceColumns: number;
  maxPublicInputsPerColumn: number;
  /** True when the key was made from a dev SRS (`zkinfer srs gen`): its secret was known to
   * one machine, so a proof under this key convinces nobody but its maker. */
  insecureSrs: boolean;
  /** `0x` + 64 hex digits: Keccak-256 of the key's bytes. */
  digest: string;
}

export interface Verdict {
  verified: boolean;
  /** Why the proof was rejected; undefined when it verified. */
  reason?: string;
  /** The public inputs that were checked, as `0x` + 64 hex digits, one array per instance column. */
  instances: string[][];
  /** The proof file's outputs, if it has them. They are what the prover decoded from the public
   * inputs; only `instances` is what the proof proves. */
  outputs?: ProofOutput[];
}

/**
 * A proof: a proof file (object, JSON text, or the file's bytes) or the raw proof bytes
 * (they start with "ZKP"), which need explicit public inputs.
 */
export type ProofInput = ProofJson | string | Uint8Array;

/**
 * Verifies a proof under a verifying key (the bytes of `vk.bin`). `publicInputs` defaults to the
 * proof file's `instances`. Returns `true` when the proof verifies and `false` when a well-formed
 * proof is rejected; throws an `Error` naming the problem when an input is malformed.
 */
export function verify(vk: Uint8Array, proof: ProofInput, publicInputs?: PublicInput[][]): boolean;

/** Like `verify`, with the reason for a rejection and the statement that was checked. */
export function verifyDetailed(vk: Uint8Array, proof: ProofInput, publicInputs?: PublicInput[][]): Verdict;

/** Reads a verifying key; throws when its bytes are malformed. */
export function readVerifyingKey(vk: Uint8Array): VerifyingKeyInfo;

/** Reads and checks a proof file; throws when it does not follow the format. */
export function parseProof(file: ProofJson | string | Uint8Array): ParsedProof;

/**
 * Loads the WebAssembly module. Required once before any other call in the browser build (by
 * default the `.wasm` is fetched from next to `web.js`); does nothing in Node.
 */
export default function init(wasm?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
