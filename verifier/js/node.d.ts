// Types of the Node entry point: self-contained (no DOM lib, no @types/node needed).
export * from './api.js';

/** Nothing to wait for in Node (the `.wasm` is loaded on import); present so that code shared
 * with the browser can `await init()`. */
export default function init(wasm?: unknown): Promise<void>;
