// Makes what the example takes from the repository, before Hardhat compiles (all git-ignored):
//   contracts/generated/VectorsVerifier.sol     `zkinfer evm-verifier` on fixtures/proofs/vk.bin
//   contracts/generated/OtherModelVerifier.sol  the same key under another --contract-name: two
//                                               verifiers in one project, no HHE1001 collision
//   contracts/generated/zkinfer.json            what the CLI said: SRS ids, the evm-calldata hex
//   ../../verifier/js/contracts/*.sol           the Solidity sources the npm package ships (its
//                                               prepack copies them from verifier/sol/contracts);
//                                               the zkinfer-verifier devDependency links there
// The CLI is ../../target/release/zkinfer (cargo build --release --bin zkinfer), or $ZKINFER.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(here, '..', '..');
const zkinfer = process.env.ZKINFER ?? join(root, 'target', 'release', 'zkinfer');
const proofs = join(root, 'fixtures', 'proofs');
const generated = join(here, 'contracts', 'generated');
const packageJs = join(root, 'verifier', 'js');

if (!existsSync(zkinfer)) {
  console.error(`prepare: no zkinfer CLI at ${zkinfer}; build it (cargo build --release --bin zkinfer) or set ZKINFER`);
  process.exit(1);
}
const run = (...args) => execFileSync(zkinfer, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

rmSync(generated, { recursive: true, force: true });
mkdirSync(generated, { recursive: true });
const verifiers = {};
for (const name of ['VectorsVerifier', 'OtherModelVerifier']) {
  const out = JSON.parse(run('evm-verifier', join(proofs, 'vk.bin'), '-o', join(generated, `${name}.sol`), '--contract-name', name, '--json'));
  verifiers[name] = { srsId: out.srs.id, publicValues: out.public_values };
}
const calldata = run('evm-calldata', join(proofs, 'proof.json')).trim();
writeFileSync(join(generated, 'zkinfer.json'), `${JSON.stringify({ verifiers, calldata }, null, 2)}\n`);

execFileSync(process.execPath, [join(packageJs, 'contracts.mjs')], { stdio: 'inherit' });
const shipped = readdirSync(join(packageJs, 'contracts')).join(', ');
console.log(`prepare: ${Object.keys(verifiers).join(', ')} from fixtures/proofs/vk.bin; zkinfer-verifier/contracts: ${shipped}`);
