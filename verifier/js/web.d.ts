// Types of the browser entry point: `init` takes what `fetch` and `WebAssembly` take, so this
// file needs the DOM lib.
export * from './api.js';

/**
 * Loads the WebAssembly module. Required once before any other call (by default the `.wasm` is
 * fetched from `pkg/` next to `web.js`; pass a URL, a Response, its bytes or a compiled module
 * to load it from elsewhere).
 */
export default function init(wasm?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
