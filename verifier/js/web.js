// Browser entry point: the wasm-bindgen `web` glue, loaded by `await init()`.
import initWasm, * as wasm from './pkg/zkinfer_verifier.js';
import { useWasm } from './api.js';

export { PROTOCOL, PROOF_FILE_VERSION, SCALAR_MODULUS, readVerifyingKey, parseProof, verify, verifyDetailed, toSigned, dequantize } from './api.js';

let loading;

/**
 * Fetches and instantiates the `.wasm` (by default `pkg/zkinfer_verifier_bg.wasm` next to this
 * file; pass a URL, a Response, bytes or a WebAssembly.Module to load it from elsewhere). Later
 * calls return the same promise (after a failure, a later call tries again).
 */
export default function init(wasmSource) {
  if (loading === undefined) {
    loading = initWasm(wasmSource === undefined ? undefined : { module_or_path: wasmSource }).then(() => useWasm(wasm));
    // A failed load (say, a network error) may be retried.
    loading.catch(() => (loading = undefined));
  }
  return loading;
}
