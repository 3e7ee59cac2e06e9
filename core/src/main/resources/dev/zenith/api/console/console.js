// The zenith console: plain DOM, no framework, everything served by the daemon from its jar.
// State arrives on /v1/events (server-sent events) whenever it changes; actions call the same JSON
// API as the CLI (docs/API.md), so refusals read the same.
'use strict';

const $ = (selector, root = document) => root.querySelector(selector);

let state = null;
const busy = new Set(); // "branch:action" pairs whose request is under way
const rows = new Map(); // branch name -> its <li>

// ---- live state -----------------------------------------------------------------------------

/** The state now, by a plain request, so the page shows it before its event stream connects. */
async function load() {
  try {
    const first = await api('GET', '/v1/console');
    if (!state) {
      state = first;
      render();
    }
  } catch {
    // the event stream brings it, or says it is reconnecting
  }
}

function listen() {
  const source = new EventSource('/v1/events');
  source.addEventListener('state', (event) => {
    state = JSON.parse(event.data);
    setLive(true);
    render();
  });
  source.addEventListener('error', () => setLive(false));
}

function setLive(ok) {
  const live = $('#live');
  live.dataset.ok = String(ok);
  live.textContent = ok ? 'live' : 'reconnecting…';
}

// ---- the API --------------------------------------------------------------------------------

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    const error = new Error(answer.error || `HTTP ${response.status}`);
    error.hint = answer.hint;
    throw error;
  }
  return answer;
}

/** Runs an action for a branch, marking its button busy and reporting a refusal. */
async function act(branch, action, request) {
  const key = `${branch}:${action}`;
  busy.add(key);
  render();
  try {
    await request();
  } catch (error) {
    toast(error.message + (error.hint ? ` (${error.hint})` : ''));
  } finally {
    busy.delete(key);
    render();
  }
}

function toast(message) {
  $('#toast-message').textContent = message;
  $('#toast').hidden = false;
}

// ---- rendering ------------------------------------------------------------------------------

/** Branches in tree order (parents before children, children oldest first) with their depth. */
function treeOrder(branches) {
  const names = new Set(branches.map((b) => b.name));
  const children = new Map();
  for (const b of branches) {
    const parent = b.parent && names.has(b.parent) ? b.parent : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(b);
  }
  for (const list of children.values()) {
    list.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  }
  const ordered = [];
  const visit = (parent, depth) => {
    for (const b of children.get(parent) || []) {
      ordered.push({ branch: b, depth });
      visit(b.name, depth + 1);
    }
  };
  visit(null, 0);
  return ordered;
}

function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = -1;
  do {
    value /= 1024;
    unit++;
  } while (value >= 1024 && unit < units.length - 1);
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function seconds(s) {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

function time(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** What the console calls a compute's state: a branch without a node starts on first connection. */
function computeState(branch) {
  switch (branch.computeState) {
    case 'none':
    case 'new':
    case 'stopped':
      return 'stopped';
    default:
      return branch.computeState;
  }
}

/** Many branches make a compact list, unless the user chose otherwise. */
const COMPACT_FROM = 12;
let compactChosen = false;

function render() {
  if (!state) return;
  const computes = new Map(state.computes.filter((c) => !c.readOnlyAt).map((c) => [c.name, c]));
  const ordered = treeOrder(state.branches);
  if (!compactChosen) setCompact(state.branches.length >= COMPACT_FROM);
  const list = $('#branches');
  const seen = new Set();
  ordered.forEach(({ branch, depth }, index) => {
    seen.add(branch.name);
    let row = rows.get(branch.name);
    if (!row) {
      row = createRow(branch.name);
      rows.set(branch.name, row);
    }
    updateRow(row, branch, depth, computes.get(branch.compute));
    if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
  });
  for (const [name, row] of rows) {
    if (!seen.has(name)) {
      row.remove();
      rows.delete(name);
    }
  }
  drawGraph(filtered(ordered));
  renderOperations();
  renderSummary();
}

/** The rows whose name holds the filter's text (all without one); the others are hidden. */
function filtered(ordered) {
  const text = $('#filter').value.trim().toLowerCase();
  const shown = ordered.filter(({ branch }) => branch.name.toLowerCase().includes(text));
  const names = new Set(shown.map(({ branch }) => branch.name));
  for (const [name, row] of rows) row.hidden = !names.has(name);
  $('#filter-count').textContent = text ? `${shown.length} of ${ordered.length}` : '';
  return shown;
}

function setCompact(on) {
  $('#compact').checked = on;
  $('#branches').classList.toggle('compact', on);
}

function redraw() {
  if (state) drawGraph(filtered(treeOrder(state.branches)));
}

function renderSummary() {
  const running = state.computes.filter((c) => c.state === 'running').length;
  $('#summary').textContent = `${state.branches.length} branch${state.branches.length === 1 ? '' : 'es'}, `
    + `${running} compute${running === 1 ? '' : 's'} running, authentication: ${state.auth}`;
}

function renderOperations() {
  const section = $('#operations');
  const list = $('#operation-list');
  section.hidden = state.operations.length === 0;
  list.replaceChildren(...state.operations.map((op) => {
    const li = document.createElement('li');
    const label = document.createElement('span');
    const subject = op.compute ? ` ${op.compute}${op.branch ? ` (${op.branch})` : ''}` : (op.branch ? ` ${op.branch}` : '');
    label.textContent = `${op.kind}${subject}: ${op.phase}`;
    const progress = document.createElement('progress');
    progress.setAttribute('aria-label', label.textContent);
    if (op.total > 0) {
      progress.max = op.total;
      progress.value = op.done;
      label.textContent += ` ${bytes(op.done)} of ${bytes(op.total)}`;
    }
    li.append(label, progress);
    return li;
  }));
}

function button(text, action, className) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.dataset.action = action;
  if (className) b.className = className;
  return b;
}

function field(className) {
  const span = document.createElement('span');
  span.className = className;
  return span;
}

function createRow(name) {
  const li = document.createElement('li');
  li.dataset.branch = name;
  li.className = 'branch';

  const head = document.createElement('div');
  head.className = 'head';
  const title = document.createElement('h3');
  title.className = 'name';
  title.textContent = name;
  head.append(title, field('state'), field('origin'));

  const facts = document.createElement('dl');
  facts.className = 'facts';
  for (const [label, key] of [['Last LSN', 'last-lsn'], ['Compute', 'compute'], ['Connections', 'connections'],
    ['Idle', 'idle'], ['Disk', 'disk'], ['Remote', 'remote'], ['Tags', 'tags'], ['Expires', 'expires'],
    ['Protected', 'protected'], ['Following', 'following']]) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.className = key;
    facts.append(dt, dd);
  }

  const connect = document.createElement('div');
  connect.className = 'connect';
  const code = document.createElement('code');
  code.className = 'connection-string';
  const copy = button('Copy', 'copy');
  copy.setAttribute('aria-label', `Copy the connection string of ${name}`);
  connect.append(code, copy);

  const actions = document.createElement('div');
  actions.className = 'actions';
  actions.setAttribute('role', 'group');
  actions.setAttribute('aria-label', `Actions for ${name}`);
  actions.append(button('Start', 'start'), button('Suspend', 'suspend'), button('Branch from here', 'branch'),
    button('History', 'history'), button('Diff with parent', 'diff'), button('Reset', 'reset'), button('Rename', 'rename'), button('Delete', 'delete', 'danger'));
  for (const b of actions.querySelectorAll('button')) {
    b.setAttribute('aria-label', `${b.textContent} ${b.dataset.action === 'branch' ? 'a new branch from' : ''} ${name}`
      .replace(/\s+/g, ' '));
  }

  li.append(head, facts, connect, actions);
  return li;
}

/** How a branch that follows its source stands: received up to where, and how far behind. */
function following(f) {
  if (!f) return '–';
  if (f.problem) return `not receiving: ${f.problem}`;
  const lag = f.lagBytes < 0 ? 'the source does not answer' : f.lagBytes === 0 ? 'caught up'
    : `${bytes(f.lagBytes)} behind${f.lagSeconds > 0 ? `, for ${seconds(f.lagSeconds)}` : ''}`;
  return `${f.source}: received up to ${f.received} (${lag})`;
}

function updateRow(row, branch, depth, compute) {
  const name = branch.name;
  row.dataset.depth = String(depth);
  row.style.setProperty('--depth', depth);
  const shown = computeState(branch);
  const stateEl = $('.state', row);
  stateEl.textContent = shown;
  stateEl.dataset.state = shown;
  $('.origin', row).textContent = branch.parent
    ? `from ${branch.parent} at ${branch.ancestorLsn}, ${time(branch.createdAt)}`
    : branch.importedFrom ? `imported from ${branch.importedFrom}, ${time(branch.createdAt)}`
      : `root, created ${time(branch.createdAt)}`;
  $('.following', row).textContent = following(branch.following);
  $('.last-lsn', row).textContent = branch.lastLsn;
  $('.compute', row).textContent = branch.compute
    ? `${branch.compute}${compute ? ` on port ${compute.port}` : ''}`
    : 'none yet: made on first connection';
  const running = shown === 'running';
  $('.connections', row).textContent = running && compute ? String(compute.connections ?? 0) : '0';
  $('.idle', row).textContent = running && compute && compute.idleSeconds != null
    ? `${seconds(compute.idleSeconds)} (${compute.idleTimeout === 'never' ? 'never suspended' : `suspends after ${compute.idleTimeout}`})` : '–';
  $('.disk', row).textContent = `${bytes(branch.storageBytes)} history`
    + (branch.dataDirBytes > 0 ? ` + ${bytes(branch.dataDirBytes)} compute` : '');
  const remotes = (state.remotes || []).filter((r) => r.branch === branch.name);
  $('.remote', row).textContent = remotes.length === 0 ? '–' : remotes.map((r) => `${r.remote}: ${
    r.state ? r.state.toLowerCase().replace('_', ' ') : 'unknown'}`).join(', ');
  $('.remote', row).title = remotes.map((r) => r.detail).join('\n');
  $('.connection-string', row).textContent = branch.connectionString;
  const tags = (state.tags || []).filter((t) => t.branch === branch.name);
  $('.tags', row).textContent = tags.length === 0 ? '–' : tags.map((t) => `${t.name} @${t.lsn}`).join(', ');
  $('.expires', row).textContent = branch.expiresAt ? time(branch.expiresAt) : 'never';
  $('.protected', row).textContent = branch.protected ? 'yes: delete and reset are refused' : 'no';

  const buttons = row.querySelectorAll('.actions button');
  for (const b of buttons) {
    const action = b.dataset.action;
    const isBusy = busy.has(`${name}:${action}`);
    b.setAttribute('aria-busy', String(isBusy));
    b.disabled = isBusy
      || (action === 'start' && (shown === 'running' || shown === 'starting'))
      || (action === 'suspend' && shown !== 'running')
      || (action === 'diff' && !branch.parent)
      || ((action === 'delete' || action === 'reset') && branch.protected);
  }
}

/** The tree as lines between dots, one dot per row, at the rows' measured positions. */
function drawGraph(ordered) {
  const svg = $('#graph');
  const list = $('#branches');
  const listTop = list.offsetTop;
  const step = 22;
  const points = new Map();
  ordered.forEach(({ branch, depth }) => {
    const row = rows.get(branch.name);
    points.set(branch.name, { x: 12 + depth * step, y: row.offsetTop - listTop + 22, branch });
  });
  const maxDepth = ordered.reduce((m, o) => Math.max(m, o.depth), 0);
  svg.setAttribute('width', String(24 + maxDepth * step));
  svg.setAttribute('height', String(list.offsetHeight));
  const ns = 'http://www.w3.org/2000/svg';
  const shapes = [];
  for (const { branch } of ordered) {
    const p = points.get(branch.name);
    const parent = branch.parent && points.get(branch.parent);
    if (parent) {
      const path = document.createElementNS(ns, 'path');
      path.setAttribute('d', `M${parent.x} ${parent.y} V${p.y - 10} Q${parent.x} ${p.y} ${parent.x + 10} ${p.y} H${p.x}`);
      path.setAttribute('class', 'edge');
      shapes.push(path);
    }
  }
  for (const { branch } of ordered) {
    const p = points.get(branch.name);
    const dot = document.createElementNS(ns, 'circle');
    dot.setAttribute('cx', String(p.x));
    dot.setAttribute('cy', String(p.y));
    dot.setAttribute('r', '6');
    dot.setAttribute('class', `dot ${computeState(branch)}`);
    shapes.push(dot);
  }
  svg.replaceChildren(...shapes);
}

// ---- dialogs and actions --------------------------------------------------------------------

function openCreate(parent) {
  const form = $('#create-form');
  form.reset();
  $('.error', form).textContent = '';
  const select = $('#create-parent');
  select.replaceChildren(...treeOrder(state ? state.branches : []).map(({ branch }) => {
    const option = document.createElement('option');
    option.value = branch.name;
    option.textContent = branch.name;
    return option;
  }));
  select.value = parent || 'main';
  $('#create-at').disabled = true;
  $('#create-dialog').showModal();
  $('#create-name').focus();
}

function formError(form, message) {
  $('.error', form).textContent = message;
}

async function submitCreate(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const name = String(data.get('name')).trim();
  if (!$('#create-name').checkValidity()) {
    formError(form, name === '' ? 'Give the branch a name.' : `"${name}" is not a valid name: letters, digits, _ and -, up to 63.`);
    return;
  }
  const body = { name, parent: String(data.get('parent')) };
  if (data.get('when') === 'past') {
    const at = String(data.get('at') || '').trim();
    if (at === '') {
      formError(form, 'Say when: -10m, an ISO time with its zone, or an LSN.');
      return;
    }
    body.at = at;
  }
  await submitting(form, () => api('POST', '/v1/branches', body));
}

/** Sends a dialog's request; closes the dialog on success, shows the refusal in it otherwise. */
async function submitting(form, request) {
  const submit = $('button[type=submit]', form);
  submit.disabled = true;
  submit.setAttribute('aria-busy', 'true');
  try {
    await request();
    form.closest('dialog').close();
  } catch (error) {
    formError(form, error.message + (error.hint ? ` (${error.hint})` : ''));
  } finally {
    submit.disabled = false;
    submit.setAttribute('aria-busy', 'false');
  }
}

let pending = null; // the branch a rename or confirmation dialog is about

function openRename(name) {
  pending = name;
  const form = $('#rename-form');
  form.reset();
  $('.error', form).textContent = '';
  $('#rename-title').textContent = `Rename ${name}`;
  $('#rename-to').value = name;
  $('#rename-dialog').showModal();
  $('#rename-to').select();
}

async function submitRename(event) {
  event.preventDefault();
  const form = event.target;
  const to = $('#rename-to').value.trim();
  if (!$('#rename-to').checkValidity()) {
    formError(form, `"${to}" is not a valid name: letters, digits, _ and -, up to 63.`);
    return;
  }
  const from = pending;
  await submitting(form, () => api('POST', `/v1/branches/${encodeURIComponent(from)}/rename`, { to }));
}

let confirmed = null; // the request the confirmation dialog's button sends

function openConfirm(title, text, okLabel, withBackup, request) {
  const form = $('#confirm-form');
  $('.error', form).textContent = '';
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  $('#confirm-ok').textContent = okLabel;
  $('#confirm-backup-label').hidden = !withBackup;
  $('#confirm-backup').checked = true;
  confirmed = request;
  $('#confirm-dialog').showModal();
  $('[data-close]', form).focus();
}

async function submitConfirm(event) {
  event.preventDefault();
  await submitting(event.target, () => confirmed($('#confirm-backup').checked));
}

async function copyText(text, button) {
  let where = 'clipboard';
  try {
    // a clipboard that never answers (a permission prompt nobody sees) counts as none
    await Promise.race([navigator.clipboard.writeText(text),
      new Promise((resolve, reject) => setTimeout(() => reject(new Error('no answer')), 1000))]);
  } catch {
    // no clipboard permission (an embedded browser): select the text so Ctrl+C does it
    const range = document.createRange();
    range.selectNodeContents(button.previousElementSibling);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    where = 'selection';
  }
  button.dataset.copied = where;
  button.textContent = where === 'clipboard' ? 'Copied' : 'Selected: press Ctrl+C';
  setTimeout(() => { button.textContent = 'Copy'; }, 1500);
}

function onBranchAction(event) {
  const title = event.target.closest('.name');
  if (title && $('#branches').classList.contains('compact')) {
    const row = title.closest('[data-branch]');
    title.setAttribute('aria-expanded', String(row.classList.toggle('open')));
    redraw();
    return;
  }
  const b = event.target.closest('button[data-action]');
  if (!b) return;
  const name = b.closest('[data-branch]').dataset.branch;
  const path = encodeURIComponent(name);
  switch (b.dataset.action) {
    case 'copy':
      copyText(rows.get(name).querySelector('.connection-string').textContent, b);
      break;
    case 'start':
      act(name, 'start', () => api('POST', `/v1/computes/${path}/start`, {}));
      break;
    case 'suspend':
      act(name, 'suspend', () => api('POST', `/v1/computes/${path}/stop`, { suspend: true }));
      break;
    case 'branch':
      openCreate(name);
      break;
    case 'rename':
      openRename(name);
      break;
    case 'diff':
      openDiff(name);
      break;
    case 'history':
      openHistory(name);
      break;
    case 'reset':
      openConfirm(`Reset ${name}?`, `${name} becomes its parent's latest state again. Connected clients are `
        + 'disconnected; the next connection sees the new state.', 'Reset', true,
      (backup) => api('POST', `/v1/branches/${path}/reset`, { backup }));
      break;
    case 'delete':
      openConfirm(`Delete ${name}?`, `Its compute is stopped and removed, and its history is freed. This cannot be undone.`,
        'Delete', false, () => api('DELETE', `/v1/branches/${path}`));
      break;
    default:
      break;
  }
}

/** The schema diff between a branch and its parent now, as zenith diff PARENT BRANCH shows it. */
async function openDiff(name) {
  const parent = state.branches.find((b) => b.name === name).parent;
  $('#diff-title').textContent = `Schema: ${parent} → ${name}`;
  $('#diff-summary').textContent = 'Comparing (computes start if needed)…';
  $('#diff-text').replaceChildren();
  $('#diff-dialog').showModal();
  try {
    const diff = await api('POST', '/v1/diff', { from: parent, to: name });
    const n = diff.changes.length;
    $('#diff-summary').textContent = (diff.equal ? 'The same schema. ' : `${n} ${n === 1 ? 'object differs' : 'objects differ'}. `)
      + diff.tables.map((t) => `${t.table}: ~${t.from ?? '–'} → ~${t.to ?? '–'} rows`).join('; ');
    for (const line of diff.unified.split('\n')) {
      const span = document.createElement('span');
      span.textContent = `${line}\n`;
      if (line.startsWith('+') && !line.startsWith('+++')) span.className = 'add';
      if (line.startsWith('-') && !line.startsWith('---')) span.className = 'del';
      $('#diff-text').append(span);
    }
  } catch (e) {
    $('#diff-summary').textContent = `Cannot compare: ${e.message}`;
  }
  $('#diff-data-summary').textContent = 'Comparing rows (tables the WAL shows unchanged are not read)…';
  $('#diff-data').replaceChildren();
  try {
    const data = await api('POST', '/v1/diff/data', { from: parent, to: name, limit: 10 });
    $('#diff-data-summary').textContent = data.equal ? 'The same rows.' : 'Rows differ:';
    for (const t of data.tables) {
      const head = document.createElement('span');
      head.textContent = t.unchanged ? `${t.table}: the same (${t.unchanged})\n`
        : `${t.table}: ${t.added} added, ${t.removed} removed, ${t.changed} changed (${t.key ? `by ${t.key.join(', ')}` : t.matchedBy})\n`;
      $('#diff-data').append(head);
      for (const r of t.rows) {
        const line = document.createElement('span');
        const key = r.key ? Object.entries(r.key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : '';
        line.textContent = r.columns
          ? `  ~ ${key}: ${Object.entries(r.columns).map(([c, v]) => `${c} ${JSON.stringify(v.from)} → ${JSON.stringify(v.to)}`).join(', ')}\n`
          : `  ${r.change === 'added' ? '+' : '-'} ${key ? `${key}: ` : ''}${JSON.stringify(r.row)}\n`;
        line.className = r.change === 'added' ? 'add' : r.change === 'removed' ? 'del' : '';
        $('#diff-data').append(line);
      }
      const more = t.added + t.removed + t.changed - t.rows.length;
      if (more > 0) $('#diff-data').append(`  … and ${more} more (zenith diff ${parent} ${name} --data ${t.table} --json)\n`);
    }
  } catch (e) {
    $('#diff-data-summary').textContent = `Cannot compare rows: ${e.message}`;
  }
}

/** Transactions shown in the History view at a time: zenith log -n. */
const HISTORY_PAGE = 100;

/**
 * A branch's history as zenith log shows it, newest first, read as the daemon sends it (JSON lines). Each
 * transaction offers a branch there and a read-only view there, at the point just after it.
 */
async function openHistory(name) {
  $('#history-title').textContent = `History of ${name}`;
  $('#history-summary').textContent = 'Reading the WAL…';
  const list = $('#history-list');
  list.replaceChildren();
  $('#history-dialog').showModal();
  try {
    const response = await fetch('/v1/log', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ branch: name, limit: HISTORY_PAGE }),
    });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
      throw new Error(answer.error);
    }
    const lines = (await response.text()).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    const failed = lines.find((l) => l.error);
    if (failed) throw new Error(failed.error);
    for (const entry of lines) list.append(historyItem(name, entry));
    const shown = lines.filter((l) => l.kind === 'transaction').length;
    $('#history-summary').textContent = shown === 0 ? 'No transactions that changed a table yet.'
      : `The newest ${shown} transactions${shown === HISTORY_PAGE ? ` (zenith log ${name} shows them all)` : ''}.`;
  } catch (e) {
    $('#history-summary').textContent = `Cannot read the history: ${e.message}`;
  }
}

function historyItem(name, entry) {
  const li = document.createElement('li');
  if (entry.kind === 'branch-point') {
    li.className = 'branch-point';
    li.textContent = `${entry.branch ?? 'a deleted branch'} begins here (${entry.lsn}), branched from ${entry.parent ?? 'a deleted branch'}`;
    return li;
  }
  const head = document.createElement('div');
  head.textContent = `${entry.lsn} · ${time(entry.time)} · xid ${entry.xid}${entry.refs ? ` · ${entry.refs.join(', ')}` : ''}`;
  const tables = document.createElement('ul');
  for (const t of entry.tables) {
    const item = document.createElement('li');
    const rows = [t.inserted ? `+${t.inserted}` : '', t.updated ? `~${t.updated}` : '', t.deleted ? `-${t.deleted}` : '']
      .filter((x) => x).join(' ');
    item.textContent = `${t.table} ${rows}${t.ddl ? ` ${t.ddl}` : ''}`;
    tables.append(item);
  }
  const branchHere = button('Branch here', 'branch-here');
  branchHere.addEventListener('click', () => {
    $('#history-dialog').close();
    openCreate(entry.branch ?? name);
    $('#create-form input[name=when][value=past]').checked = true;
    $('#create-at').disabled = false;
    $('#create-at').value = entry.lsn;
  });
  const readOnly = button('Open read-only here', 'read-only-here');
  readOnly.addEventListener('click', async () => {
    const branch = entry.branch ?? name;
    try {
      await api('POST', `/v1/computes/${encodeURIComponent(branch)}/start`, { at: entry.lsn });
      const info = state.branches.find((b) => b.name === branch);
      const text = info ? info.connectionString.replace(`branch=${branch}`, `branch=${branch}@${entry.lsn}`)
        .replace(`branch%3D${branch}`, `branch%3D${branch}%40${encodeURIComponent(entry.lsn)}`) : `${branch}@${entry.lsn}`;
      copyText(text, readOnly);
      toast(`A read-only view of ${branch} at ${entry.lsn} runs; its connection string is copied: ${text}`);
    } catch (e) {
      toast(e.message + (e.hint ? ` (${e.hint})` : ''));
    }
  });
  const actions = document.createElement('div');
  actions.className = 'actions';
  actions.append(branchHere, readOnly);
  li.append(head, tables, actions);
  return li;
}

function init() {
  $('#new-branch').addEventListener('click', () => openCreate('main'));
  $('#branches').addEventListener('click', onBranchAction);
  $('#create-form').addEventListener('submit', submitCreate);
  $('#rename-form').addEventListener('submit', submitRename);
  $('#confirm-form').addEventListener('submit', submitConfirm);
  for (const radio of document.querySelectorAll('#create-form input[name=when]')) {
    radio.addEventListener('change', () => {
      const past = $('#create-form input[name=when][value=past]').checked;
      $('#create-at').disabled = !past;
      if (past) $('#create-at').focus();
    });
  }
  for (const close of document.querySelectorAll('[data-close]')) {
    close.addEventListener('click', () => close.closest('dialog').close());
  }
  $('#toast-close').addEventListener('click', () => { $('#toast').hidden = true; });
  window.addEventListener('resize', redraw);
  $('#filter').addEventListener('input', redraw);
  $('#compact').addEventListener('change', () => {
    compactChosen = true;
    setCompact($('#compact').checked);
    redraw();
  });
  load();
  listen();
}

init();
