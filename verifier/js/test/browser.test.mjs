// The demo page (verifier/web) in headless Chromium: fed each vector of fixtures/proofs through
// its file inputs, it must show the expected verdict, the outputs the key decodes, the SRS, and
// a layout that fits a desktop and a phone (screenshots are saved and checked). Needs Debian's
// chromium (or CHROMIUM=path).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { serve } from '../../web/serve.mjs';

const fixtures = fileURLToPath(new URL('../../../fixtures/proofs/', import.meta.url));
const manifest = JSON.parse(readFileSync(fixtures + 'cases.json', 'utf8'));
const vkFile = fixtures + manifest.vk;
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

// A fresh page at `url` (the demo by default), failing the test on any page error.
async function open(t, { url = server.url, viewport } = {}) {
  const page = await browser.newPage(viewport === undefined ? {} : { viewport });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  t.after(async () => {
    await page.close();
    assert.deepEqual(errors, [], 'errors on the page');
  });
  await page.goto(url);
  return page;
}

async function pick(page, vk, proof) {
  await page.setInputFiles('#vk-file', vk);
  await page.setInputFiles('#proof-file', proof);
  await page.waitForFunction(() => document.body.dataset.pending === '0' && document.getElementById('verdict').dataset.verdict !== undefined);
  return {
    verdict: await page.getAttribute('#verdict', 'data-verdict'),
    text: await page.textContent('#verdict'),
    reason: await page.textContent('#reason'),
  };
}

// The outputs table as [header, values, note] rows, values as the separate spans show them.
const outputsTable = (page) =>
  page.$$eval('#outputs tr', (rows) =>
    rows.map((tr) => [tr.querySelector('th').textContent, [...tr.querySelectorAll('.value')].map((s) => s.textContent), tr.cells[2]?.textContent]),
  );

test('the demo page shows each vector its verdict', async (t) => {
  for (const { file, verdict, why, file_only: fileOnly } of manifest.cases) {
    // For file_only cases the verdict is that of the file, which is what the page checks.
    const page = await open(t);
    const got = await pick(page, vkFile, fixtures + file);
    const message = `${file} (${why})${fileOnly ? ', file only' : ''}: ${got.reason}`;
    assert.equal(got.verdict, verdict, message);
    assert.equal(got.text, verdict === 'verified' ? 'verified' : 'rejected', file);
    assert.equal(await page.isVisible('#warning'), true, `${file}: the vectors' key comes from an unknown (dev) SRS`);
    if (verdict === 'verified') {
      assert.deepEqual(await outputsTable(page), [['output [2]', ['62.5', '0.75'], 'scale 2^-2']], file);
      assert.match(await page.textContent('#outputs'), /^output \[2\]/);
      t.diagnostic(`${file}: verified in ${await page.getAttribute('#timing', 'data-ms')} ms`);
    } else {
      assert.notEqual(got.reason, '', file);
      assert.equal(await page.isVisible('#statement'), false, `${file}: no outputs for a rejected proof`);
      if (verdict === 'malformed') assert.match(got.reason, /^malformed input: /, file);
    }
  }
});

test('the page shows the key, its statement and its SRS identity', async (t) => {
  const page = await open(t);
  await pick(page, vkFile, fixtures + 'proof.json');
  const key = await page.textContent('#key-info');
  assert.match(key, /output \[2\] \(output, scale 2\^-2\)/);
  assert.match(key, /2 in column 0/);
  assert.equal(await page.textContent('#srs'), 'unknown or development SRS');
  const srsId = await page.textContent('#srs-id');
  assert.match(srsId, /^0x[0-9a-f]{64}$/);
  assert.equal(await page.textContent('#warning-srs-id'), srsId);
  // Public values as signed integers, not 77-digit field elements.
  assert.deepEqual(await page.$$eval('#instances .value', (s) => s.map((x) => x.textContent)), ['250', '3']);
});

test('the layout fits a desktop and a phone, and no number is split across lines', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zkinfer-demo-'));
  for (const [width, height] of [
    [1280, 800],
    [390, 844],
  ]) {
    const page = await open(t, { viewport: { width, height } });
    // The drop zone alone, before any file, must fit too.
    assert.ok(await page.evaluate(() => document.getElementById('drop').getBoundingClientRect().right <= window.innerWidth), `${width}px: the drop zone fits`);
    assert.equal((await pick(page, vkFile, fixtures + 'proof.json')).verdict, 'verified');
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      drop: document.getElementById('drop').getBoundingClientRect().right,
      // Each value is one span; a span split across lines has more than one box.
      split: [...document.querySelectorAll('.value')].filter((s) => s.getClientRects().length !== 1).map((s) => s.textContent),
      breakable: [...document.querySelectorAll('.value')]
        .map((s) => getComputedStyle(s))
        .filter((c) => c.whiteSpace !== 'nowrap' || c.wordBreak === 'break-all' || c.overflowWrap === 'anywhere').length,
      values: document.querySelectorAll('#outputs .value, #instances .value').length,
    }));
    assert.ok(layout.scrollWidth <= layout.innerWidth, `${width}px: the page scrolls sideways (${layout.scrollWidth} > ${layout.innerWidth})`);
    assert.ok(layout.drop <= layout.innerWidth, `${width}px: the drop zone overflows`);
    assert.equal(layout.values, 4);
    assert.deepEqual(layout.split, [], `${width}px: values split across lines`);
    assert.equal(layout.breakable, 0, `${width}px: value spans may break inside a number`);
    const path = join(dir, `demo-${width}x${height}.png`);
    const png = await page.screenshot({ path, fullPage: true });
    // A full-page screenshot is as wide as the page: wider than the viewport means overflow.
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.equal(png.readUInt32BE(16), width, `${path}: width`);
    t.diagnostic(`screenshot ${path} (${png.readUInt32BE(16)}x${png.readUInt32BE(20)})`);
  }
});

test('/web without the trailing slash loads the working page', async (t) => {
  const page = await open(t, { url: server.url.replace(/\/$/, '') });
  assert.ok(page.url().endsWith('/web/'), page.url());
  assert.equal((await pick(page, vkFile, fixtures + 'proof.json')).verdict, 'verified');
});

test('swapped files are called swapped', async (t) => {
  const cases = [
    [fixtures + 'proof.json', vkFile, /^These files look swapped: the verifying key slot holds a proof file \(JSON\) and the proof slot holds a verifying key/],
    [vkFile, vkFile, /^These files look swapped: the proof slot holds a verifying key/],
    [fixtures + 'proof.json', fixtures + 'proof.json', /^These files look swapped: the verifying key slot holds a proof file/],
  ];
  for (const [vk, proof, reason] of cases) {
    const page = await open(t);
    const got = await pick(page, vk, proof);
    assert.equal(got.verdict, 'swapped');
    assert.equal(got.text, 'files swapped');
    assert.match(got.reason, reason);
    // Put right, the same page verifies.
    assert.equal((await pick(page, vkFile, fixtures + 'proof.json')).verdict, 'verified');
  }
});
