#!/usr/bin/env node
// Compiles one Solidity source with the pinned solc (package-lock.json) through the
// standard-JSON interface, so the EVM target and optimizer settings are explicit.
//
//   node compile.js Verifier.sol [ContractName]
//
// Prints {"contract", "bytecode", "deployedBytecode", "warnings"} as JSON on stdout (hex
// without 0x). Exits with status 1 and the compiler's messages on stderr when compilation
// fails.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const [file, wanted] = process.argv.slice(2);
if (!file) {
  console.error('usage: node compile.js FILE.sol [CONTRACT]');
  process.exit(2);
}
const name = path.basename(file);
const input = {
  language: 'Solidity',
  sources: { [name]: { content: fs.readFileSync(file, 'utf8') } },
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const messages = output.errors || [];
const errors = messages.filter((m) => m.severity === 'error');
if (errors.length > 0) {
  errors.forEach((m) => console.error(m.formattedMessage));
  process.exit(1);
}
const contracts = output.contracts[name];
const contract = wanted || Object.keys(contracts)[0];
if (!contracts[contract]) {
  console.error(`no contract ${contract} in ${file}; found ${Object.keys(contracts).join(', ')}`);
  process.exit(1);
}
console.log(JSON.stringify({
  contract,
  solc: solc.version(),
  bytecode: contracts[contract].evm.bytecode.object,
  deployedBytecode: contracts[contract].evm.deployedBytecode.object,
  warnings: messages.map((m) => m.formattedMessage),
}));
