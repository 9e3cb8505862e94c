// The API shared by both entry points (`node.d.ts`, `web.d.ts`). It needs only the ES2020+
// standard library (Uint8Array, bigint): no DOM and no Node types.

/** The proof system a proof file names: `"zkinfer-plonk-kzg-bn254-keccak/3"`. */
export const PROTOCOL: string;
/** The proof file version this verifier reads: 1. */
export const PROOF_FILE_VERSION: number;
/** The BN254 scalar field's modulus r: public values are integers from 0 to r - 1. */
export const SCALAR_MODULUS: bigint;

/** A public value: a field element as a bigint, a safe integer, a `0x` hex or a decimal string. */
export type PublicInput = bigint | number | string;

/** A public tensor of the key's statement: what a range of public values encodes. */
export interface PublicTensor {
  name: string;
  shape: number[];
  /** Fixed-point scale: a public value v stands for `toSigned(v) / 2^scale_bits`. */
  scale_bits: number;
}

/** A public tensor with its values, dequantized. */
export interface ProofOutput extends PublicTensor {
  /** Row-major, `shape` product long. */
  values: number[];
}

/** A proof file as `zkinfer prove` writes it (`proof.json`). */
export interface ProofJson {
  version: 1;
  protocol: string;
  /** `0x` + 64 hex digits: Keccak-256 of the verifying key's bytes. */
  vk_digest: string;
  /** The public values, one array per instance column, each `0x` + 64 hex digits (32 bytes big-endian). */
  instances: string[][];
  /** The public values as the key's output tensors, for people; a verifier rejects a file
   * whose `outputs` are not exactly what the key decodes from `instances`. */
  outputs?: ProofOutput[];
  /** The same for public inputs of the model, when it has any. */
  inputs?: ProofOutput[];
  /** `0x` + the hex of the proof bytes. */
  proof: string;
}

/** A proof file after `parseProof` read it. Nothing here is verified. */
export interface ParsedProof {
  version: number;
  protocol: string;
  vkDigest: string;
  /** `0x` + 64 hex digits each, one array per instance column. */
  instances: string[][];
  /** What the file shows as outputs; null when it shows neither outputs nor inputs. */
  outputs: ProofOutput[] | null;
  /** What the file shows as inputs; null when it shows neither outputs nor inputs. */
  inputs: ProofOutput[] | null;
  proof: Uint8Array;
}

/** What `readVerifyingKey` tells about a key. */
export interface VerifyingKeyInfo {
  /** The circuit has `2^k` rows. */
  k: number;
  rows: number;
  /** How many arrays of public values a proof carries. */
  instanceColumns: number;
  maxPublicInputsPerColumn: number;
  /** How many public values the key fixes in each instance column. */
  publicValues: number[];
  /** The statement: the output tensors the public values encode, in order. */
  outputs: PublicTensor[];
  /** The model's public input tensors, after the outputs. */
  inputs: PublicTensor[];
  /** The key maker's word that the key comes from a dev SRS (`zkinfer srs gen`). It proves
   * nothing either way: judge the SRS by `srs` and `srsId`. */
  insecureSrs: boolean;
  /** `0x` + 64 hex digits: Keccak-256 of the key's bytes. */
  digest: string;
  /** `0x` + 64 hex digits: the SRS identity, Keccak-256 of the key's `[tau]_2`. */
  srsId: string;
  /** `"key from ceremony <name>"` when `srsId` is a known public ceremony's, otherwise
   * `"unknown or development SRS"`: whoever made that SRS may be able to forge proofs. */
  srs: string;
}

export interface Verdict {
  verified: boolean;
  /** Why the proof was rejected; null when it verified. */
  reason: string | null;
  /** The public values that were checked, `0x` + 64 hex digits, one array per instance column. */
  instances: string[][];
  /** When verified: the public values as the key's output tensors, dequantized. Derived from
   * `instances` and the key, never taken from the file. Empty when rejected. */
  outputs: ProofOutput[];
  /** The same for the model's public inputs, if any. */
  inputs: ProofOutput[];
  /** The key's SRS identity, as in `VerifyingKeyInfo`. */
  srsId: string;
  /** The key's SRS, described, as in `VerifyingKeyInfo`. */
  srs: string;
}

export interface VerifyOptions {
  /** Reject the proof unless the key was made from this SRS (`0x` + 64 hex digits, or 32 bytes),
   * e.g. the `srsId` of the ceremony you trust. */
  requireSrsId?: string | Uint8Array;
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
export function verify(vk: Uint8Array, proof: ProofInput, publicInputs?: PublicInput[][], options?: VerifyOptions): boolean;

/** Like `verify`, with the reason for a rejection and the statement that was checked. */
export function verifyDetailed(vk: Uint8Array, proof: ProofInput, publicInputs?: PublicInput[][], options?: VerifyOptions): Verdict;

/** Reads a verifying key; throws when its bytes are malformed. */
export function readVerifyingKey(vk: Uint8Array): VerifyingKeyInfo;

/** Reads a proof file with the verifier's parser; throws when it does not follow the format. */
export function parseProof(file: ProofJson | string | Uint8Array): ParsedProof;

/** A public value as a signed integer: values above (r - 1) / 2 stand for `v - r`. */
export function toSigned(value: PublicInput): bigint;

/** A public value as the fixed-point number it encodes: `toSigned(value) / 2^scaleBits`. */
export function dequantize(value: PublicInput, scaleBits: number): number;
