// The Node build against the shared vectors in fixtures/proofs (made by tests/vectors.rs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseProof, readVerifyingKey, verify, verifyDetailed } from '../node.js';

const fixtures = new URL('../../../fixtures/proofs/', import.meta.url);
const read = (name) => readFileSync(new URL(name, fixtures));
const manifest = JSON.parse(read('cases.json'));
const vk = read(manifest.vk);
const valid = JSON.parse(read('proof.json'));

test('every vector gets its verdict', () => {
  for (const { file, verdict, why } of manifest.cases) {
    const proof = read(file);
    const message = `${file} (${why})`;
    if (verdict === 'malformed') {
      assert.throws(() => verify(vk, proof), /^Error: malformed input: /, message);
    } else {
      const result = verifyDetailed(vk, proof);
      assert.equal(result.verified, verdict === 'verified', `${message}: ${result.reason}`);
      assert.equal(verify(vk, proof), verdict === 'verified', message);
      if (!result.verified) assert.match(result.reason, /rejected|public inputs|verifying key/, message);
    }
  }
});

test('the verifying key says its size, public inputs and insecure SRS', () => {
  const info = readVerifyingKey(vk);
  assert.deepEqual(
    { k: info.k, rows: info.rows, instanceColumns: info.instanceColumns, insecureSrs: info.insecureSrs },
    { k: 5, rows: 32, instanceColumns: 1, insecureSrs: true },
  );
  assert.equal(info.digest, valid.vk_digest);
  assert.ok(info.maxPublicInputsPerColumn >= 2);
});

test('a verified proof comes with its public inputs and outputs', () => {
  const result = verifyDetailed(vk, valid);
  assert.equal(result.verified, true);
  assert.equal(result.reason, undefined);
  assert.deepEqual(result.instances, valid.instances);
  assert.deepEqual(result.outputs, valid.outputs);
  assert.deepEqual(
    result.outputs[0].values,
    valid.instances[0].map((x) => Number(BigInt(x))),
  );
});

test('a proof file verifies as an object, as JSON text and as bytes', () => {
  assert.equal(verify(vk, valid), true);
  assert.equal(verify(vk, JSON.stringify(valid)), true);
  assert.equal(verify(vk, new TextEncoder().encode(`\n ${JSON.stringify(valid)}`)), true);
});

test('raw proof bytes verify with public inputs given as bigint, number, hex or decimal', () => {
  const { proof, instances } = parseProof(valid);
  const [first, second] = instances[0].map(BigInt);
  assert.equal(verify(vk, proof, [[first, Number(second)]]), true);
  assert.equal(verify(vk, proof, [[first.toString(16).replace(/^/, '0x'), second.toString()]]), true);
  assert.equal(verify(vk, proof, [[first + 1n, second]]), false);
  assert.throws(() => verify(vk, proof), { name: 'TypeError', message: /need publicInputs/ });
});

test('public inputs given with a proof file replace its instances', () => {
  const [first, second] = valid.instances[0].map(BigInt);
  assert.equal(verify(vk, valid, [[first, second]]), true);
  const result = verifyDetailed(vk, valid, [[first, second + 1n]]);
  assert.equal(result.verified, false);
  assert.match(result.reason, /^proof rejected: /);
  assert.match(verifyDetailed(vk, valid, [[first], [second]]).reason, /2 instance columns given, the circuit has 1/);
});

test('a proof file made for another key is rejected before verifying', () => {
  const other = { ...valid, vk_digest: '0x' + '11'.repeat(32) };
  const result = verifyDetailed(vk, other);
  assert.equal(result.verified, false);
  assert.match(result.reason, /made for verifying key 0x1111/);
});

test('malformed inputs throw errors that name the problem', () => {
  const cases = [
    [() => verify(vk.subarray(0, 100), valid), /malformed input: verifying key truncated/],
    [() => verify(new TextEncoder().encode('NOPE and more'), valid), /not a zkinfer verifying key \(bad magic\)/],
    [() => verify(Array.from(vk), valid), /verifying key must be a Uint8Array/],
    [() => verify(vk, '{"version": 1'), /proof file: not JSON/],
    [() => verify(vk, new Uint8Array([0xff, 0xfe])), /proof file: not UTF-8/],
    [() => verify(vk, { ...valid, version: 2 }), /proof file: version 2/],
    [() => verify(vk, { ...valid, protocol: 'groth16' }), /proof file: protocol "groth16"/],
    [() => verify(vk, { ...valid, proof: valid.proof.slice(0, -1) }), /proof file: proof must be 0x/],
    [() => verify(vk, { ...valid, proof: valid.proof.slice(0, -2) }), /malformed input: proof has \d+ bytes; this verifying key expects/],
    [() => verify(vk, { ...valid, instances: [['0x12']] }), /instances\[0\]\[0\] must be 0x followed by 64 hex digits/],
    [() => verify(vk, { ...valid, outputs: [{ name: 'y', shape: [2], values: [1] }] }), /outputs\[0\]/],
    [() => verify(vk, valid, [[1n << 256n, 0n]]), /publicInputs\[0\]\[0\] does not fit in 32 bytes/],
    [() => verify(vk, valid, [[-1n, 0n]]), /publicInputs\[0\]\[0\] does not fit/],
    [() => verify(vk, valid, [['12abc', 0n]]), /publicInputs\[0\]\[0\] must be/],
    [() => verify(vk, valid, [[(1n << 256n) - 1n, 0n]]), /public input 0 of instance column 0 is not below the scalar modulus/],
  ];
  for (const [f, message] of cases) assert.throws(f, message);
});
