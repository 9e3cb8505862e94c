// Node entry point: the wasm-bindgen `nodejs` build loads its `.wasm` synchronously on import.
import { createRequire } from 'node:module';
import { useWasm } from './api.js';

useWasm(createRequire(import.meta.url)('./pkg/node/zkinfer_verifier.js'));

export { PROTOCOL, PROOF_FILE_VERSION, readVerifyingKey, parseProof, verify, verifyDetailed } from './api.js';

/** Nothing to wait for in Node; present so that code shared with the browser can `await init()`. */
export default async function init() {}
