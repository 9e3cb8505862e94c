// Verify time of proof.json (fixtures/proofs): `verify(vk, proofJson)` end to end, in Node and
// in headless Chromium. Prints the median and the fastest of N runs after warm-up.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { verify } from './node.js';
import { serve } from '../web/serve.mjs';

const runs = 50;
const fixtures = new URL('../../fixtures/proofs/', import.meta.url);
const vk = readFileSync(new URL('vk.bin', fixtures));
const proof = JSON.parse(readFileSync(new URL('proof.json', fixtures), 'utf8'));

function timings(f) {
  for (let i = 0; i < 5; i++) f();
  const ms = Array.from({ length: runs }, () => {
    const start = performance.now();
    if (!f()) throw new Error('proof.json did not verify');
    return performance.now() - start;
  });
  return ms;
}

function show(where, ms) {
  ms.sort((a, b) => a - b);
  console.log(`${where.padEnd(10)} median ${ms[runs >> 1].toFixed(2)} ms, fastest ${ms[0].toFixed(2)} ms (${runs} runs)`);
}

show('node', timings(() => verify(vk, proof)));

const server = await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  const ms = await page.evaluate(
    async ({ vk, proof, runs }) => {
      const { default: init, verify } = await import('../js/web.js');
      await init();
      const bytes = new Uint8Array(vk);
      for (let i = 0; i < 5; i++) verify(bytes, proof);
      return Array.from({ length: runs }, () => {
        const start = performance.now();
        if (!verify(bytes, proof)) throw new Error('proof.json did not verify');
        return performance.now() - start;
      });
    },
    { vk: Array.from(vk), proof, runs },
  );
  show('chromium', ms);
} finally {
  await browser.close();
  await server.close();
}
