// The npm package as users get it: `npm pack`, then installed (offline) into a fresh project,
// where it must verify fixtures/proofs/proof.json through `import` and `require()`, and its types
// must pass `tsc --strict` both in a Node-only project (no DOM lib) and in a browser project.
// Needs the build (pkg/) and the devDependencies (typescript).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';

const here = fileURLToPath(new URL('..', import.meta.url));
const proofJson = fileURLToPath(new URL('../../../fixtures/proofs/proof.json', import.meta.url));
const vkBin = fileURLToPath(new URL('../../../fixtures/proofs/vk.bin', import.meta.url));
const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');
// The Solidity sources for consumer contracts: their home is verifier/sol/contracts, and
// `npm pack` copies them into contracts/ (prepack: contracts.mjs).
const solidity = fileURLToPath(new URL('../../sol/contracts/', import.meta.url));
const contracts = readdirSync(solidity).filter((f) => f.endsWith('.sol')).sort().map((f) => `contracts/${f}`);
const typesNode = join(here, 'node_modules', '@types', 'node');

// `npm test` runs with npm_config_* set for this package (its prefix among them): the npm
// commands below must not inherit them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const npm = (args, cwd) => run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd);

let dir;
let packed;
let project;

before(() => {
  assert.ok(existsSync(join(here, 'pkg', 'zkinfer_verifier_bg.wasm')), 'build first: npm run build');
  assert.ok(existsSync(tsc), 'install the devDependencies first: npm ci');
  dir = mkdtempSync(join(tmpdir(), 'zkinfer-package-'));
  [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], here));
  project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  npm(['install', '--offline', '--prefix', project, join(dir, packed.filename)], project);
});

after(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('the tarball ships one .wasm, the types and the licenses', (t) => {
  const files = packed.files.map((f) => f.path).sort();
  t.diagnostic(`${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`);
  assert.deepEqual(
    files.filter((f) => f.endsWith('.wasm')),
    ['pkg/zkinfer_verifier_bg.wasm'],
  );
  for (const f of ['LICENSE-MIT', 'LICENSE-APACHE', 'README.md', 'api.d.ts', 'node.d.ts', 'web.d.ts', 'api.js', 'node.js', 'web.js', ...contracts]) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  assert.deepEqual(files.filter((f) => f.endsWith('.sol')), contracts, 'the Solidity sources of verifier/sol/contracts, no others');
  assert.deepEqual(files.filter((f) => f.startsWith('test/') || f.endsWith('.mjs')), [], 'no tests or build scripts');
});

test('the Solidity sources resolve through `exports`, as verifier/sol/contracts has them', () => {
  assert.deepEqual(contracts, ['contracts/IZkinferVerifier.sol', 'contracts/ZkinferValues.sol']);
  // Hardhat 3 resolves Solidity imports of npm packages through their `exports`, as Node does.
  const resolve = `for (const f of ${JSON.stringify(contracts)}) console.log(require.resolve('zkinfer-verifier/' + f));`;
  writeFileSync(join(project, 'resolve.cjs'), resolve);
  const { status, stdout, stderr } = spawn(process.execPath, ['resolve.cjs']);
  assert.equal(status, 0, stderr);
  const resolved = stdout.trim().split('\n');
  assert.equal(resolved.length, contracts.length);
  contracts.forEach((f, i) => {
    assert.ok(resolved[i].endsWith(join('node_modules', 'zkinfer-verifier', f)), resolved[i]);
    assert.equal(readFileSync(resolved[i], 'utf8'), readFileSync(join(solidity, f.slice('contracts/'.length)), 'utf8'), `${f} is verifier/sol/${f}`);
  });
});

test('the README states the sizes as measured (within 10%)', (t) => {
  const readme = readFileSync(join(here, 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const wasm = packed.files.find((f) => f.path.endsWith('.wasm')).size;
  const gzipped = gzipSync(readFileSync(join(here, 'pkg', 'zkinfer_verifier_bg.wasm')), { level: 9 }).length;
  t.diagnostic(`.wasm ${wasm} bytes, ${gzipped} gzipped; tarball ${packed.size} bytes`);
  for (const [what, pattern, actual] of [
    ['.wasm', /one `\.wasm` of about (\d+) KB/, wasm],
    ['gzipped .wasm', /\(about (\d+) KB gzipped\)/, gzipped],
    ['tarball', /tarball is about (\d+) KB/, packed.size],
  ]) {
    const stated = readme.match(pattern)?.[1];
    assert.ok(stated !== undefined, `the README states the ${what} size (${pattern})`);
    const measured = Math.round(actual / 1000);
    assert.ok(Math.abs(Number(stated) * 1000 - actual) <= actual / 10, `the README says the ${what} is about ${stated} KB; it is ${measured} KB`);
  }
});

const check = `
  const vk = readFileSync(${JSON.stringify(vkBin)});
  const result = z.verifyDetailed(vk, readFileSync(${JSON.stringify(proofJson)}));
  console.log(JSON.stringify({ verified: result.verified, outputs: result.outputs, signed: String(z.toSigned(z.SCALAR_MODULUS - 1n)) }));
`;
const expected = { verified: true, outputs: [{ name: 'output', shape: [2], scale_bits: 2, values: [62.5, 0.75] }], signed: '-1' };

function node(file, source) {
  writeFileSync(join(project, file), source);
  const out = execFileSync(process.execPath, [file], { cwd: project, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

test('ESM: import verifies proof.json', () => {
  assert.deepEqual(node('esm.mjs', `import { readFileSync } from 'node:fs';\nimport * as z from 'zkinfer-verifier';\n${check}`), expected);
  assert.deepEqual(node('esm-node.mjs', `import { readFileSync } from 'node:fs';\nimport * as z from 'zkinfer-verifier/node';\n${check}`), expected);
});

test('CommonJS: require() verifies proof.json, with no warning', () => {
  const source = `const { readFileSync } = require('node:fs');\nconst z = require('zkinfer-verifier');\n${check}`;
  writeFileSync(join(project, 'cjs.cjs'), source);
  const { status, stdout, stderr } = spawn(process.execPath, ['cjs.cjs']);
  assert.equal(status, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), expected);
  assert.equal(stderr, '', 'require() prints nothing to stderr');
});

function spawn(cmd, args) {
  try {
    const stdout = execFileSync(cmd, args, { cwd: project, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: 0, stdout, stderr: '' };
  } catch (e) {
    return { status: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

// Type checks of code that uses the whole API; nothing runs.
const usage = `
declare const vk: Uint8Array;
declare const file: string | Uint8Array;
await init();
const verdict: Verdict = verifyDetailed(vk, file, undefined, { requireSrsId: '0x' + '00'.repeat(32) });
const reason: string | null = verdict.reason;
const first: ProofOutput | undefined = verdict.outputs[0];
const scale: number = first === undefined ? 0 : first.scale_bits;
const value: number = dequantize(verdict.instances[0]?.[0] ?? 0n, scale);
const signed: bigint = toSigned(SCALAR_MODULUS - 1n);
const ok: boolean = verify(vk, file, [[1n, 2, '0x03', '4']]);
const info: VerifyingKeyInfo = readVerifyingKey(vk);
const statement: PublicTensor[] = [...info.outputs, ...info.inputs];
const parsed: ParsedProof = parseProof(file);
const shown: ProofOutput[] | null = parsed.outputs;
const srs: string = info.srs + info.srsId + verdict.srs + verdict.srsId;
export { reason, value, signed, ok, statement, shown, srs };
`;
const imports = (from) =>
  `import init, { dequantize, parseProof, readVerifyingKey, SCALAR_MODULUS, toSigned, verify, verifyDetailed } from '${from}';\n` +
  `import type { ParsedProof, ProofOutput, PublicTensor, Verdict, VerifyingKeyInfo } from '${from}';\n`;

function typecheck(name, compilerOptions, source) {
  const root = join(project, name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'main.ts'), source);
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'es2022', skipLibCheck: false, ...compilerOptions }, files: ['main.ts'] }));
  const { status, stdout, stderr } = spawn(process.execPath, [tsc, '-p', join(root, 'tsconfig.json'), '--strict', '--noEmit']);
  assert.equal(status, 0, `${name}: tsc failed:\n${stdout}${stderr}`);
}

test('TypeScript --strict: a Node-only project (no DOM lib) type-checks', () => {
  const options = { module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2022'], types: [] };
  typecheck('ts-node', options, imports('zkinfer-verifier') + usage);
  typecheck('ts-node-subpath', options, imports('zkinfer-verifier/node') + usage);
  if (existsSync(typesNode)) {
    typecheck('ts-node-types', { ...options, types: ['node'], typeRoots: [join(here, 'node_modules', '@types')] }, imports('zkinfer-verifier') + usage);
  }
});

test('TypeScript --strict: a browser project (DOM lib, bundler resolution) type-checks', () => {
  const dom = { module: 'esnext', moduleResolution: 'bundler', lib: ['dom', 'es2022'], types: [] };
  const browser = `
await init(new URL('zkinfer_verifier_bg.wasm', import.meta.url));
await init(await fetch('/zkinfer_verifier_bg.wasm'));
await init(new Uint8Array(0));
`;
  typecheck('ts-dom', dom, imports('zkinfer-verifier') + usage + browser);
  typecheck('ts-dom-subpath', dom, imports('zkinfer-verifier/web') + usage + browser);
});
