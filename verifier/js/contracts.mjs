// Copies the Solidity sources for consumer contracts (IZkinferVerifier.sol, ZkinferValues.sol)
// from their home, verifier/sol/contracts, into contracts/ (git-ignored), which the tarball
// ships: `npm pack` and `npm publish` run it first (`prepack`). Prints nothing, so that
// `npm pack --json` stays JSON.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const from = join(here, '..', 'sol', 'contracts');
const to = join(here, 'contracts');

const sources = readdirSync(from).filter((f) => f.endsWith('.sol'));
if (sources.length === 0) {
  console.error(`contracts.mjs: no .sol files in ${from}`);
  process.exit(1);
}
rmSync(to, { recursive: true, force: true });
mkdirSync(to);
for (const file of sources) copyFileSync(join(from, file), join(to, file));
