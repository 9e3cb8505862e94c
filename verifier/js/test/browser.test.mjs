// The demo page (verifier/web) in headless Chromium: fed each vector of fixtures/proofs through
// its file inputs, it must show the expected verdict. Needs Debian's chromium (or CHROMIUM=path).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { serve } from '../../web/serve.mjs';

const fixtures = fileURLToPath(new URL('../../../fixtures/proofs/', import.meta.url));
const manifest = JSON.parse(readFileSync(fixtures + 'cases.json', 'utf8'));
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let server;
let browser;
before(async () => {
  server = await serve();
  try {
    browser = await chromium.launch({ executablePath, args });
  } catch (e) {
    throw new Error(`cannot start ${executablePath} (apt-get install -y chromium, or set CHROMIUM): ${e.message}`);
  }
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the demo page shows each vector its verdict', async (t) => {
  for (const { file, verdict, why } of manifest.cases) {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.setInputFiles('#vk-file', fixtures + manifest.vk);
    await page.setInputFiles('#proof-file', fixtures + file);
    const shown = await page.waitForSelector('#verdict[data-verdict]');
    const got = {
      verdict: await shown.getAttribute('data-verdict'),
      text: await shown.textContent(),
      reason: await page.textContent('#reason'),
      insecureWarning: await page.isVisible('#warning'),
    };
    assert.deepEqual(errors, [], file);
    assert.equal(got.verdict, verdict, `${file} (${why}): ${got.reason}`);
    assert.equal(got.text, verdict === 'verified' ? 'verified' : 'rejected', file);
    assert.equal(got.insecureWarning, true, `${file}: the vectors' key comes from a dev SRS`);
    if (verdict === 'verified') {
      assert.match(await page.textContent('#outputs'), /^output \[2\]/);
      t.diagnostic(`${file}: verified in ${await page.getAttribute('#timing', 'data-ms')} ms`);
    } else {
      assert.notEqual(got.reason, '', file);
      if (verdict === 'malformed') assert.match(got.reason, /^malformed input: /, file);
    }
    await page.close();
  }
});
