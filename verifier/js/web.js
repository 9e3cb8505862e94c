// Browser entry point: the wasm-bindgen `web` build, loaded by `await init()`.
import initWasm, * as wasm from './pkg/web/zkinfer_verifier.js';
import { useWasm } from './api.js';

export { PROTOCOL, PROOF_FILE_VERSION, readVerifyingKey, parseProof, verify, verifyDetailed } from './api.js';

let loading;

/**
 * Fetches and instantiates the `.wasm` (by default next to this file; pass a URL, a Response,
 * bytes or a WebAssembly.Module to load it from elsewhere). Later calls return the same promise.
 */
export default function init(wasmSource) {
  loading ??= initWasm(wasmSource === undefined ? undefined : { module_or_path: wasmSource }).then(() => useWasm(wasm));
  return loading;
}
