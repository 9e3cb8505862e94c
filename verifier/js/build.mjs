// Builds pkg/: the verifier crate for wasm32, the wasm-bindgen glue, then `wasm-opt -Oz`
// (binaryen from npm: Debian's older wasm-opt corrupts wasm-bindgen output). Prints the `.wasm`
// size after each step.
//
// One `.wasm` serves both entry points: wasm-bindgen's targets differ only in their JS glue
// (the `.wasm` of `--target web` and `--target nodejs` are the same bytes), so only the `web`
// glue is built; `node.js` reads the `.wasm` from disk and instantiates it with the glue's
// `initSync`, and `web.js` fetches it.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const pkg = join(here, 'pkg');

const pinned = readFileSync(join(root, 'verifier', 'Cargo.toml'), 'utf8').match(/^wasm-bindgen = "=([0-9.]+)"$/m)?.[1];
if (pinned === undefined) fail('no exact wasm-bindgen version (wasm-bindgen = "=x.y.z") in verifier/Cargo.toml');
const cli = run('wasm-bindgen', ['--version'], { quiet: true, hint: `install it with: cargo install wasm-bindgen-cli --version ${pinned}` });
if (!cli.includes(` ${pinned}`)) {
  fail(`${cli.trim()} does not match the wasm-bindgen ${pinned} pinned in verifier/Cargo.toml; run: cargo install wasm-bindgen-cli --version ${pinned}`);
}

// Size matters more than the last few percent of speed here; the profile is set for this build
// only, so native release builds keep the workspace profile.
const cargoEnv = {
  ...process.env,
  CARGO_PROFILE_RELEASE_LTO: 'true',
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '1',
  CARGO_PROFILE_RELEASE_OPT_LEVEL: 's',
};
const messages = run(
  'cargo',
  ['rustc', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'zkinfer-verifier', '--crate-type', 'cdylib', '--message-format', 'json-render-diagnostics'],
  { cwd: root, env: cargoEnv },
);
const wasmFile = messages
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line))
  .filter((m) => m.reason === 'compiler-artifact' && m.target.name === 'zkinfer_verifier')
  .flatMap((m) => m.filenames)
  .find((f) => f.endsWith('.wasm'));
if (wasmFile === undefined) fail('cargo produced no zkinfer_verifier.wasm');
report('cargo (wasm32, release)', wasmFile);

rmSync(pkg, { recursive: true, force: true });
const wasmOpt = join(here, 'node_modules', '.bin', 'wasm-opt');
run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--out-dir', pkg, wasmFile]);
const bg = join(pkg, 'zkinfer_verifier_bg.wasm');
report('wasm-bindgen --target web', bg);
// The features rustc enables by default for wasm32-unknown-unknown.
const features = ['bulk-memory', 'mutable-globals', 'nontrapping-float-to-int', 'sign-ext', 'reference-types', 'multivalue'];
run(wasmOpt, ['-Oz', ...features.map((f) => `--enable-${f}`), bg, '-o', bg], { hint: 'run `npm ci` in verifier/js first' });
report('wasm-opt -Oz', bg);
console.log(`${'gzip -9 (for transfer)'.padEnd(32)} ${(gzipSync(readFileSync(bg), { level: 9 }).length / 1024).toFixed(1).padStart(8)} KiB`);

function run(cmd, args, { cwd = here, env = process.env, quiet = false, hint } = {}) {
  if (!quiet) console.error(`> ${cmd} ${args.join(' ')}`);
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  } catch (e) {
    fail(e.code === 'ENOENT' ? `${cmd} not found${hint ? `; ${hint}` : ''}` : `${cmd} failed (exit ${e.status})`);
  }
}

function report(step, file) {
  console.log(`${step.padEnd(32)} ${(statSync(file).size / 1024).toFixed(1).padStart(8)} KiB  ${file}`);
}

function fail(message) {
  console.error(`build failed: ${message}`);
  process.exit(1);
}
