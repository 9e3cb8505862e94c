// Node entry point: reads the one `.wasm` of the package (the same file the browser fetches) and
// instantiates it synchronously with the wasm-bindgen glue's `initSync`, so the API is ready on
// import.
//
// CommonJS: this package is ESM only, and `require('zkinfer-verifier')` works through Node's
// `require(esm)`, unflagged since Node 20.19 and 22.12 (this module has no top-level await, as
// `require(esm)` demands). `engines` says so. A separate CommonJS build would ship the API twice
// (with two copies of the wasm state when both get loaded) to support Node 18 and 20.0-20.18,
// which are past their end of life or close to it; the package test checks `require()`.
import { readFileSync } from 'node:fs';
import * as wasm from './pkg/zkinfer_verifier.js';
import { useWasm } from './api.js';

wasm.initSync({ module: readFileSync(new URL('./pkg/zkinfer_verifier_bg.wasm', import.meta.url)) });
useWasm(wasm);

export { PROTOCOL, PROOF_FILE_VERSION, SCALAR_MODULUS, readVerifyingKey, parseProof, verify, verifyDetailed, toSigned, dequantize } from './api.js';

/** Nothing to wait for in Node; present so that code shared with the browser can `await init()`. */
export default async function init() {}
