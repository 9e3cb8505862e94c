// The Node build against the shared vectors in fixtures/proofs (made by tests/vectors.rs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SCALAR_MODULUS, dequantize, parseProof, readVerifyingKey, toSigned, verify, verifyDetailed } from '../node.js';

const fixtures = new URL('../../../fixtures/proofs/', import.meta.url);
const read = (name) => readFileSync(new URL(name, fixtures));
const manifest = JSON.parse(read('cases.json'));
const vk = read(manifest.vk);
const valid = JSON.parse(read('proof.json'));
const r = SCALAR_MODULUS;

test('every vector gets its verdict, as a file and, for file_only cases, as raw proof bytes', () => {
  for (const { file, verdict, why, file_only: fileOnly } of manifest.cases) {
    const proof = read(file);
    const message = `${file} (${why})`;
    if (verdict === 'malformed') {
      assert.throws(() => verify(vk, proof), /^Error: malformed input: /, message);
      // A file that breaks the format fails to parse; bad proof bytes only fail to verify.
      if (fileOnly) assert.throws(() => parseProof(proof), /^Error: malformed input: proof file: /, message);
    } else {
      const result = verifyDetailed(vk, proof);
      assert.equal(result.verified, verdict === 'verified', `${message}: ${result.reason}`);
      assert.equal(verify(vk, proof), verdict === 'verified', message);
      assert.equal(verify(vk, JSON.parse(proof)), verdict === 'verified', `${message}, as an object`);
      if (result.verified) assert.equal(result.reason, null);
      else {
        assert.match(result.reason, /rejected|public inputs|verifying key/, message);
        assert.deepEqual(result.outputs, [], `${message}: a rejected proof shows no outputs`);
      }
    }
    if (fileOnly) {
      // Only the file is wrong: its proof and public values verify on their own.
      const json = JSON.parse(proof);
      const raw = Uint8Array.from(Buffer.from(json.proof.replace(/^0x/, ''), 'hex'));
      assert.equal(verify(vk, raw, json.instances), true, `${message}: raw proof bytes`);
    }
  }
});

test('the same file gives the same verdict as an object, as JSON text and as bytes', () => {
  for (const { file } of manifest.cases) {
    const bytes = read(file);
    const outcome = (proof) => {
      try {
        return verifyDetailed(vk, proof).reason;
      } catch (e) {
        return `throws ${e.message}`;
      }
    };
    const expected = outcome(bytes);
    assert.equal(outcome(bytes.toString('utf8')), expected, file);
    assert.equal(outcome(JSON.parse(bytes)), expected, file);
  }
});

test('the verifying key says its size, statement and SRS identity', () => {
  const info = readVerifyingKey(vk);
  assert.deepEqual(
    { k: info.k, rows: info.rows, instanceColumns: info.instanceColumns, publicValues: info.publicValues, insecureSrs: info.insecureSrs },
    { k: 5, rows: 32, instanceColumns: 1, publicValues: [2], insecureSrs: true },
  );
  assert.deepEqual(info.outputs, [{ name: 'output', shape: [2], scale_bits: 2 }]);
  assert.deepEqual(info.inputs, []);
  assert.equal(info.digest, valid.vk_digest);
  assert.match(info.srsId, /^0x[0-9a-f]{64}$/);
  assert.equal(info.srs, 'unknown or development SRS');
  assert.ok(info.maxPublicInputsPerColumn >= 2);
});

test('a verified proof shows the outputs the key decodes from its public values', () => {
  const result = verifyDetailed(vk, valid);
  assert.equal(result.verified, true);
  assert.equal(result.reason, null);
  assert.deepEqual(result.instances, valid.instances);
  assert.deepEqual(result.outputs, [{ name: 'output', shape: [2], scale_bits: 2, values: [62.5, 0.75] }]);
  assert.deepEqual(result.inputs, []);
  assert.deepEqual(
    result.outputs[0].values,
    valid.instances[0].map((x) => dequantize(x, 2)),
  );
  const info = readVerifyingKey(vk);
  assert.equal(result.srsId, info.srsId);
  assert.equal(result.srs, info.srs);
});

test("a file whose outputs are not the proven values is rejected, naming the outputs", () => {
  const result = verifyDetailed(vk, read('edited_output.json'));
  assert.equal(result.verified, false);
  assert.match(result.reason, /outputs are not the proven values/);
  assert.match(result.reason, /'output'\[0\]/);
  assert.deepEqual(result.outputs, []);
  // The file's outputs are not trusted in any form: an object edited the same way fails too.
  const edited = { ...valid, outputs: [{ ...valid.outputs[0], values: [100, 0.75] }] };
  assert.equal(verify(vk, edited), false);
});

test('a proof file verifies as an object, as JSON text and as bytes', () => {
  assert.equal(verify(vk, valid), true);
  assert.equal(verify(vk, JSON.stringify(valid)), true);
  assert.equal(verify(vk, new TextEncoder().encode(`\n ${JSON.stringify(valid)}`)), true);
  const { outputs, ...withoutOutputs } = valid;
  assert.equal(verify(vk, withoutOutputs), true, 'outputs are optional');
});

test('parseProof reads a file with the verifier parser', () => {
  const parsed = parseProof(read('proof.json'));
  assert.equal(parsed.vkDigest, valid.vk_digest);
  assert.deepEqual(parsed.instances, valid.instances);
  assert.deepEqual(parsed.outputs, valid.outputs);
  assert.deepEqual(parsed.inputs, []);
  assert.ok(parsed.proof instanceof Uint8Array);
  assert.equal(new TextDecoder().decode(parsed.proof.subarray(0, 3)), 'ZKP');
  assert.equal(Buffer.from(parsed.proof).toString('hex'), valid.proof.slice(2));
  const { outputs, ...withoutOutputs } = valid;
  assert.equal(parseProof(withoutOutputs).outputs, null);
  assert.throws(() => parseProof(read('proof_hex_without_0x.json')), /^Error: malformed input: proof file: proof must be 0x/);
  assert.throws(() => parseProof(read('output_without_scale.json')), /scale_bits/);
});

test('raw proof bytes verify with public inputs given as bigint, number, hex or decimal', () => {
  const { proof, instances } = parseProof(valid);
  const [first, second] = instances[0].map(BigInt);
  assert.equal(verify(vk, proof, [[first, Number(second)]]), true);
  assert.equal(verify(vk, proof, [['0x' + first.toString(16), second.toString()]]), true);
  assert.deepEqual(verifyDetailed(vk, proof, [[first, second]]).outputs[0].values, [62.5, 0.75]);
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
  // The outputs shown are decoded from the public inputs given; the file's are not read.
  const shown = verifyDetailed(vk, read('edited_output.json'), [[first, second]]);
  assert.equal(shown.verified, true);
  assert.deepEqual(shown.outputs[0].values, [62.5, 0.75]);
});

test('a proof file made for another key is rejected before verifying, with or without public inputs', () => {
  const other = { ...valid, vk_digest: '0x' + '11'.repeat(32) };
  for (const result of [verifyDetailed(vk, other), verifyDetailed(vk, other, valid.instances)]) {
    assert.equal(result.verified, false);
    assert.match(result.reason, /the proof was made for verifying key 0x1111[0-9a-f]*, this key is 0x1b8470c1/);
    assert.deepEqual(result.outputs, []);
  }
});

test('requireSrsId rejects a key made from another SRS', () => {
  const { srsId } = readVerifyingKey(vk);
  const wrong = '0x' + '22'.repeat(32);
  assert.equal(verify(vk, valid, undefined, { requireSrsId: srsId }), true);
  assert.equal(verify(vk, valid, undefined, { requireSrsId: srsId.toUpperCase().replace(/^0X/, '0x') }), true);
  assert.equal(verify(vk, valid, undefined, { requireSrsId: Buffer.from(srsId.slice(2), 'hex') }), true);
  const { proof, instances } = parseProof(valid);
  assert.equal(verify(vk, proof, instances, { requireSrsId: srsId }), true);
  assert.equal(verify(vk, valid, instances, { requireSrsId: srsId }), true);
  for (const result of [
    verifyDetailed(vk, valid, undefined, { requireSrsId: wrong }),
    verifyDetailed(vk, proof, instances, { requireSrsId: wrong }),
    verifyDetailed(vk, valid, instances, { requireSrsId: wrong }),
    // The SRS is checked first, as in `zkinfer verify --srs-id`.
    verifyDetailed(vk, { ...valid, vk_digest: '0x' + '11'.repeat(32) }, instances, { requireSrsId: wrong }),
  ]) {
    assert.equal(result.verified, false);
    assert.equal(result.reason, `proof rejected: the key's SRS is ${srsId} (unknown or development SRS), not the required ${wrong}`);
  }
  assert.throws(() => verify(vk, valid, undefined, { requireSrsId: '0x1234' }), { name: 'TypeError', message: /requireSrsId/ });
});

test('toSigned and dequantize read public values as signed fixed-point numbers', () => {
  assert.equal(toSigned(r - 1n), -1n);
  assert.equal(toSigned('0x' + (r - 1n).toString(16)), -1n);
  assert.equal(toSigned((r - 1n).toString()), -1n);
  assert.equal(dequantize(r - 1n, 2), -0.25);
  assert.equal(toSigned((r - 1n) / 2n), (r - 1n) / 2n);
  assert.equal(toSigned((r - 1n) / 2n + 1n), (r - 1n) / 2n + 1n - r);
  assert.equal(toSigned(0n), 0n);
  assert.equal(toSigned(250), 250n);
  assert.equal(dequantize('0x00000000000000000000000000000000000000000000000000000000000000fa', 2), 62.5);
  assert.equal(dequantize(r - 250n, 2), -62.5);
  assert.equal(dequantize(3n, 0), 3);
  assert.throws(() => toSigned(r), RangeError);
  assert.throws(() => toSigned(-1n), RangeError);
  assert.throws(() => toSigned('1.5'), TypeError);
  assert.throws(() => dequantize(1n, -1), TypeError);
});

test('malformed inputs throw errors that name the problem', () => {
  const cases = [
    [() => verify(vk.subarray(0, 100), valid), /malformed input: verifying key truncated/],
    [() => verify(new TextEncoder().encode('NOPE and more'), valid), /not a zkinfer verifying key \(bad magic\)/],
    [() => verify(Array.from(vk), valid), /verifying key must be a Uint8Array/],
    [() => verify(vk, '{"version": 1'), /proof file: not JSON/],
    [() => verify(vk, new Uint8Array([0xff, 0xfe])), /proof file: not UTF-8/],
    [() => verify(vk, vk), /proof file: not UTF-8 text \(is it a verifying key/],
    [() => verify(vk, { ...valid, version: 2 }), /proof file: version 2/],
    [() => verify(vk, { ...valid, protocol: 'groth16' }), /proof file: protocol "groth16"/],
    [() => verify(vk, { ...valid, extra: 1 }), /proof file: unknown field "extra"/],
    [() => verify(vk, [valid]), /proof file: expected a JSON object/],
    [() => verify(vk, { ...valid, proof: valid.proof.slice(0, -1) }), /proof file: proof must be 0x/],
    [() => verify(vk, { ...valid, proof: valid.proof.slice(0, -2) }), /malformed input: proof has \d+ bytes; this verifying key expects/],
    [() => verify(vk, { ...valid, instances: [['0x12']] }), /instances\[0\]\[0\] must be 0x followed by 64 hex digits/],
    [() => verify(vk, { ...valid, outputs: [{ name: 'y', shape: [2], values: [1] }] }), /outputs\[0\]: the field "scale_bits" is missing/],
    [() => verify(vk, undefined), /the proof must be/],
    [() => verify(vk, valid, [[1n << 256n, 0n]]), /publicInputs\[0\]\[0\] does not fit in 32 bytes/],
    [() => verify(vk, valid, [[-1n, 0n]]), /publicInputs\[0\]\[0\] is negative/],
    [() => verify(vk, valid, [['12abc', 0n]]), /publicInputs\[0\]\[0\] must be/],
    [() => verify(vk, valid, [[(1n << 256n) - 1n, 0n]]), /public input 0 of instance column 0 is not below the scalar modulus/],
  ];
  for (const [f, message] of cases) assert.throws(f, message);
});
