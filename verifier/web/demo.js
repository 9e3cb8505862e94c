import init, { readVerifyingKey, verifyDetailed } from '../js/web.js';

const $ = (id) => document.getElementById(id);
const files = { vk: undefined, proof: undefined };
const ready = init();

$('vk-file').addEventListener('change', (e) => load('vk', e.target.files[0]));
$('proof-file').addEventListener('change', (e) => load('proof', e.target.files[0]));

const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', async (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  for (const file of e.dataTransfer.files) {
    // A proof file is JSON; a verifying key is binary and starts with "ZKVK".
    const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
    await load(String.fromCharCode(...head).startsWith('ZKVK') ? 'vk' : 'proof', file);
  }
});

async function load(kind, file) {
  if (file === undefined) return;
  files[kind] = new Uint8Array(await file.arrayBuffer());
  await ready;
  if (kind === 'vk') showKey();
  if (files.vk !== undefined && files.proof !== undefined) check();
}

function showKey() {
  $('key').hidden = true;
  $('warning').hidden = true;
  let info;
  try {
    info = readVerifyingKey(files.vk);
  } catch (e) {
    return malformed(e);
  }
  $('warning').hidden = !info.insecureSrs;
  $('key').hidden = false;
  fill($('key-info'), [
    ['rows', `2^${info.k} = ${info.rows}`],
    ['public input columns', `${info.instanceColumns} (at most ${info.maxPublicInputsPerColumn} values each)`],
    ['SRS', info.insecureSrs ? 'insecure dev SRS' : 'imported (not the dev SRS)'],
    ['digest', info.digest],
  ]);
}

function check() {
  const verdict = $('verdict');
  $('statement').hidden = true;
  $('timing').textContent = '';
  let result;
  const start = performance.now();
  try {
    result = verifyDetailed(files.vk, files.proof);
  } catch (e) {
    return malformed(e);
  }
  const ms = performance.now() - start;
  verdict.textContent = result.verified ? 'verified' : 'rejected';
  verdict.dataset.verdict = result.verified ? 'verified' : 'rejected';
  $('reason').textContent = result.reason ?? '';
  $('timing').textContent = `checked in ${ms.toFixed(1)} ms`;
  $('timing').dataset.ms = ms.toFixed(2);
  if (!result.verified) return;
  $('statement').hidden = false;
  fill($('outputs'), (result.outputs ?? []).map((o) => [`${o.name} [${o.shape.join('×')}]`, o.values.join(', ')]));
  fill($('instances'), result.instances.map((column, c) => [`column ${c}`, column.map((x) => BigInt(x).toString()).join(', ')]));
}

function malformed(error) {
  $('verdict').textContent = 'rejected';
  $('verdict').dataset.verdict = 'malformed';
  $('reason').textContent = error.message;
}

function fill(table, rows) {
  table.replaceChildren(
    ...rows.map(([name, value]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      const td = document.createElement('td');
      th.textContent = name;
      td.textContent = value;
      td.className = 'mono';
      tr.append(th, td);
      return tr;
    }),
  );
}
