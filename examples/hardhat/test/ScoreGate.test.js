// Deploys two verifiers written by `zkinfer evm-verifier` (scripts/prepare.mjs) and the
// ScoreGate consumer on Hardhat's in-process chain (EDR), and checks them against the
// repository's proof fixtures (fixtures/proofs, listed in cases.json).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { network } from 'hardhat';
import { BaseError, ContractFunctionRevertedError, encodeFunctionData, getAddress } from 'viem';

const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const fixture = (name) => JSON.parse(readFileSync(new URL(`../../../fixtures/proofs/${name}`, import.meta.url), 'utf8'));
const generated = JSON.parse(readFileSync(new URL('../contracts/generated/zkinfer.json', import.meta.url), 'utf8'));

// verifyProof's arguments from a proof file: its proof bytes and its instance columns concatenated.
const args = (file) => [file.proof, file.instances.flat().map(BigInt)];

// The custom error (or reason string) a call reverted with; fails when it did not revert.
async function revertOf(promise) {
  try {
    await promise;
  } catch (e) {
    const reverted = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
    if (reverted?.data?.errorName) return { name: reverted.data.errorName, args: reverted.data.args };
    if (reverted?.reason) return { name: reverted.reason };
    // A reverted deployment reaches viem as an RPC error with Hardhat's message.
    const custom = /reverted with custom error '(\w+)\(/.exec(e?.message ?? '');
    if (custom) return { name: custom[1] };
    throw e;
  }
  assert.fail('expected a revert');
}

describe('zkinfer verifiers and a consumer contract on Hardhat', async () => {
  const { viem } = await network.create();
  const publicClient = await viem.getPublicClient();
  const [wallet] = await viem.getWalletClients();
  const proof = fixture('proof.json');
  // The public values are the outputs, all at one scale (ScoreGate reads them with one).
  const scales = new Set(proof.outputs.map((o) => o.scale_bits));
  assert.equal(scales.size, 1);
  const [scaleBits] = scales;
  const srsId = generated.verifiers.VectorsVerifier.srsId;
  let verifier;
  let other;
  let gate;
  let gasOfVerification;

  before(async () => {
    verifier = await viem.deployContract('VectorsVerifier');
    other = await viem.deployContract('OtherModelVerifier');
    gate = await viem.deployContract('ScoreGate', [verifier.address, proof.vk_digest, srsId, scaleBits, 5000n]);
  });

  it('two generated verifiers live in one project, and each accepts the valid proof', async () => {
    for (const v of [verifier, other]) {
      assert.equal(await v.read.VK_DIGEST(), proof.vk_digest);
      assert.equal(await v.read.SRS_ID(), srsId);
      assert.equal(await v.read.verifyProof(args(proof)), true);
    }
  });

  it('the calldata is what `zkinfer evm-calldata` writes; the gas of a verification', async () => {
    const data = encodeFunctionData({ abi: verifier.abi, functionName: 'verifyProof', args: args(proof) });
    assert.equal(data, generated.calldata);
    // verifyProof is a view, but a transaction runs it too: the gas a contract pays for it.
    const hash = await wallet.sendTransaction({ to: verifier.address, data });
    const { gasUsed, status } = await publicClient.waitForTransactionReceipt({ hash });
    assert.equal(status, 'success');
    const message = `verifyProof as a transaction: ${gasUsed} gas (${(data.length - 2) / 2} bytes of calldata)`;
    console.log(`    ${message}`);
    assert.ok(gasUsed > 150_000n && gasUsed < 400_000n, `${gasUsed} gas`);
    gasOfVerification = gasUsed;
  });

  it('given too little gas, verifyProof reverts: it never answers false for want of gas', async () => {
    assert.ok(gasOfVerification !== undefined);
    // A precompile call passes on at most 63/64 of the gas left (EIP-150), so the limit a
    // verification needs is above the gas it uses: ask eth_estimateGas.
    const limit = await publicClient.estimateContractGas({ address: verifier.address, abi: verifier.abi, functionName: 'verifyProof', args: args(proof) });
    console.log(`    eth_estimateGas: a gas limit of ${limit}`);
    assert.ok(limit > gasOfVerification);
    for (const gas of [60_000n, 120_000n, 180_000n, gasOfVerification]) {
      await assert.rejects(verifier.read.verifyProof(args(proof), { gas }), `a call with ${gas} gas reverts`);
    }
    assert.equal(await verifier.read.verifyProof(args(proof), { gas: limit }), true);
  });

  it('ScoreGate records the proven outputs, dequantized (62.5 and 0.75)', async () => {
    assert.deepEqual(proof.outputs[0].values, [62.5, 0.75]);
    const hash = await gate.write.submit(args(proof));
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, 'success');
    console.log(`    ScoreGate.submit (verification, dequantize, storage): ${receipt.gasUsed} gas`);
    const account = wallet.account.address;
    assert.deepEqual(await gate.read.outputsOf([account]), [6250n, 75n]);
    assert.equal(await gate.read.passed([account]), true);
    const [event] = await gate.getEvents.Scored({}, { fromBlock: receipt.blockNumber, toBlock: receipt.blockNumber });
    assert.deepEqual({ ...event.args, account: getAddress(event.args.account) }, { account: getAddress(account), outputs: [6250n, 75n], passed: true });
  });

  for (const [file, why] of [
    ['tampered_byte.json', 'one bit flipped in the first evaluation'],
    ['wrong_instance.json', 'the first public input plus one'],
  ]) {
    it(`a rejected proof (${why}): the verifier returns false, ScoreGate reverts with ProofRejected`, async () => {
      const bad = fixture(file);
      assert.equal(await verifier.read.verifyProof(args(bad)), false);
      assert.deepEqual(await revertOf(gate.simulate.submit(args(bad))), { name: 'ProofRejected', args: undefined });
      await assert.rejects(gate.write.submit(args(bad)));
    });
  }

  it('a proof with a byte changed in its last evaluation is rejected', async () => {
    const bytes = proof.proof.slice(2);
    const last = bytes.slice(-2) === '00' ? '01' : '00';
    const tampered = { ...proof, proof: `0x${bytes.slice(0, -2)}${last}` };
    assert.equal(await verifier.read.verifyProof(args(tampered)), false);
    assert.equal((await revertOf(gate.simulate.submit(args(tampered)))).name, 'ProofRejected');
  });

  it('ScoreGate refuses a verifier for another key', async () => {
    const wrong = `0x${'11'.repeat(32)}`;
    const { name } = await revertOf(viem.deployContract('ScoreGate', [verifier.address, wrong, srsId, scaleBits, 0n]));
    assert.equal(name, 'WrongVerifier');
  });

  it('ZkinferValues reads signed and dequantized values', async () => {
    const values = await viem.deployContract('ZkinferValuesHarness');
    const half = (R - 1n) / 2n;
    assert.equal(await values.read.toSigned([R - 1n]), -1n);
    assert.equal(await values.read.isNegative([R - 1n]), true);
    assert.equal(await values.read.toSigned([250n]), 250n);
    assert.equal(await values.read.isNegative([half]), false);
    assert.equal(await values.read.toSigned([half]), half);
    assert.equal(await values.read.toSigned([half + 1n]), -half);
    assert.equal((await revertOf(values.read.toSigned([R]))).name, 'NotAFieldElement');
    assert.equal((await revertOf(values.read.dequantize([R + 5n, 2, 2]))).name, 'NotAFieldElement');
    // r - 1 is -1, -0.25 at scale 2^-2: rounded toward zero.
    assert.equal(await values.read.dequantize([R - 1n, 2, 2]), -25n);
    assert.equal(await values.read.dequantize([R - 1n, 2, 1]), -2n);
    assert.equal(await values.read.dequantize([R - 1n, 2, 0]), 0n);
    assert.equal(await values.read.dequantize([R - 1n, 0, 0]), -1n);
    assert.equal(await values.read.dequantize([250n, 2, 2]), 6250n);
    assert.equal(await values.read.dequantize([3n, 2, 2]), 75n);
    assert.equal(await values.read.dequantize([3n, 2, 0]), 0n);
    assert.equal(await values.read.dequantize([3n, 2, 18]), 750000000000000000n);

    // Against exact BigInt arithmetic, at the edges: the 512-bit product and the int256 range.
    const INT256_MAX = 2n ** 255n - 1n;
    const reference = (v, s, d) => {
      const signed = v > half ? v - R : v;
      const magnitude = ((signed < 0n ? -signed : signed) * 10n ** BigInt(d)) >> BigInt(s);
      return d > 77 || magnitude > INT256_MAX ? 'DequantizeOverflow' : signed < 0n ? -magnitude : magnitude;
    };
    const cases = [];
    for (const v of [0n, 1n, 3n, 250n, 2n ** 64n + 12345n, 2n ** 200n - 1n, half - 7n, half, half + 1n, R - 2n ** 100n, R - 1n]) {
      for (const [s, d] of [[0, 0], [0, 1], [0, 2], [1, 77], [8, 18], [64, 77], [128, 30], [200, 77], [255, 77], [255, 0], [3, 78]]) {
        cases.push([v, s, d]);
      }
    }
    for (const [v, s, d] of cases) {
      const expected = reference(v, s, d);
      const actual = await values.read.dequantize([v, s, d]).catch(async () => (await revertOf(values.read.dequantize([v, s, d]))).name);
      assert.equal(actual, expected, `dequantize(${v}, ${s}, ${d})`);
    }
  });
});
