import init, { readVerifyingKey, toSigned, verifyDetailed } from '../js/web.js';

// What the verifier says of a key whose SRS is no public ceremony it knows. The key's own
// `insecureSrs` flag is its maker's word and is not used here.
const UNKNOWN_SRS = 'unknown or development SRS';

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
    // A verifying key starts with "ZKVK"; anything else goes to the proof slot.
    const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
    await load(isKey(head) ? 'vk' : 'proof', file);
  }
});

// How many picked or dropped files are still being read: 0 when the page shows its answer for
// all of them (the browser test waits for that).
let pending = 0;
document.body.dataset.pending = '0';

async function load(kind, file) {
  if (file === undefined) return;
  document.body.dataset.pending = String(++pending);
  try {
    files[kind] = new Uint8Array(await file.arrayBuffer());
    try {
      await ready;
    } catch (e) {
      return show('malformed', 'rejected', `the WebAssembly verifier did not load: ${e.message}`);
    }
    update();
  } finally {
    document.body.dataset.pending = String(--pending);
  }
}

function update() {
  clear();
  const swapped = swap();
  if (swapped !== undefined) return show('swapped', 'files swapped', swapped);
  if (files.vk === undefined) return;
  let info;
  try {
    info = readVerifyingKey(files.vk);
  } catch (e) {
    return show('malformed', 'rejected', e.message);
  }
  showKey(info);
  if (files.proof !== undefined) check();
}

// The bytes of a verifying key start with "ZKVK"; a proof file is JSON text, an object.
function isKey(bytes) {
  return bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === 'ZKVK';
}
function isJsonObject(bytes) {
  const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
  return first === 0x7b; // '{'
}

// Says so when the files seem to be in each other's slot: the verifier would only call them
// malformed, which does not tell what went wrong.
function swap() {
  const keyInProofSlot = files.proof !== undefined && isKey(files.proof);
  const proofInKeySlot = files.vk !== undefined && !isKey(files.vk) && isJsonObject(files.vk);
  if (keyInProofSlot && proofInKeySlot) {
    return 'These files look swapped: the verifying key slot holds a proof file (JSON) and the proof slot holds a verifying key. Pick vk.bin as the key and proof.json as the proof.';
  }
  if (keyInProofSlot) {
    return 'These files look swapped: the proof slot holds a verifying key (its bytes start with ZKVK). Pick it as the verifying key, and proof.json as the proof.';
  }
  if (proofInKeySlot) {
    return 'These files look swapped: the verifying key slot holds a proof file (JSON). Pick it as the proof, and vk.bin as the verifying key.';
  }
  return undefined;
}

function showKey(info) {
  const unknown = info.srs === UNKNOWN_SRS;
  $('warning').hidden = !unknown;
  $('warning-srs-id').textContent = info.srsId;
  $('key').hidden = false;
  const counts = info.publicValues.map((n, c) => `${n} in column ${c}`).join(', ');
  const tensors = [...info.outputs.map((t) => ['output', t]), ...info.inputs.map((t) => ['input', t])];
  fill($('key-info'), [
    ['statement', tensors.length === 0 ? [text('no named public tensors')] : lines(tensors.map(([kind, t]) => `${tensor(t)} (${kind}, scale 2^-${t.scale_bits})`))],
    ['public values', [text(counts || 'none')]],
    ['SRS', [Object.assign(text(info.srs), { id: 'srs' }), document.createElement('br'), hash(info.srsId, 'srs-id')]],
    ['key digest', [hash(info.digest)]],
    ['circuit', [text(`2^${info.k} = ${info.rows} rows`)]],
  ]);
}

function check() {
  let result;
  const start = performance.now();
  try {
    result = verifyDetailed(files.vk, files.proof);
  } catch (e) {
    return show('malformed', 'rejected', e.message);
  }
  const ms = performance.now() - start;
  show(result.verified ? 'verified' : 'rejected', result.verified ? 'verified' : 'rejected', result.reason ?? '');
  $('timing').textContent = `checked in ${ms.toFixed(1)} ms`;
  $('timing').dataset.ms = ms.toFixed(2);
  if (!result.verified) return;
  $('statement').hidden = false;
  // Outputs and inputs are what the key decodes from the verified public values.
  fill($('outputs'), result.outputs.map((t) => [tensor(t), values(t.values.map(String)), `scale 2^-${t.scale_bits}`]));
  $('inputs-part').hidden = result.inputs.length === 0;
  fill($('inputs'), result.inputs.map((t) => [tensor(t), values(t.values.map(String)), `scale 2^-${t.scale_bits}`]));
  fill(
    $('instances'),
    result.instances.map((column, c) => [`column ${c}`, values(column.map((x) => toSigned(x).toString()), column)]),
  );
}

function clear() {
  const verdict = $('verdict');
  verdict.textContent = '';
  delete verdict.dataset.verdict;
  $('reason').textContent = '';
  $('timing').textContent = '';
  delete $('timing').dataset.ms;
  $('statement').hidden = true;
  $('key').hidden = true;
  $('warning').hidden = true;
}

function show(kind, title, reason) {
  $('verdict').textContent = title;
  $('verdict').dataset.verdict = kind;
  $('reason').textContent = reason;
}

// `name [2×3]`
function tensor(t) {
  return `${t.name} [${t.shape.join('×')}]`;
}

// Each value in its own unbreakable span, with ", " between them: a long list wraps only there.
function values(list, titles) {
  const nodes = [];
  list.forEach((v, i) => {
    if (i > 0) nodes.push(document.createTextNode(', '));
    const span = text(v, 'value mono');
    if (titles !== undefined) span.title = titles[i];
    nodes.push(span);
  });
  return nodes;
}

function lines(list) {
  return list.flatMap((line, i) => (i === 0 ? [text(line)] : [document.createElement('br'), text(line)]));
}

function hash(value, id) {
  const span = text(value, 'mono hash');
  if (id !== undefined) span.id = id;
  return span;
}

function text(value, className) {
  const span = document.createElement('span');
  span.textContent = value;
  if (className !== undefined) span.className = className;
  return span;
}

// Rows of [header, cell content (a string or nodes), optional note cell].
function fill(table, rows) {
  table.replaceChildren(
    ...rows.map(([name, content, note]) => {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      const td = document.createElement('td');
      th.textContent = name;
      if (typeof content === 'string') td.textContent = content;
      else td.append(...content);
      tr.append(th, td);
      if (note !== undefined) {
        const small = document.createElement('td');
        small.className = 'muted';
        small.textContent = note;
        tr.append(small);
      }
      return tr;
    }),
  );
}
