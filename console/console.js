// The cachelog console: plain browser JavaScript over the public HTTP API, no build step.
// The token lives in sessionStorage (this tab only) and goes out as a Bearer header.
'use strict';

/** Values larger than this are shown cut (the whole value is never put in the page). */
const VALUE_DISPLAY_CAP = 16 * 1024;
/** Keys shown at once (the filter narrows a big cache). */
const KEYS_SHOWN = 500;
const EVENTS_PAGE = 50;
const LIVE_SHOWN = 200;
const TOKEN_KEY = 'cachelog.token';

const $ = (id) => document.getElementById(id);
const state = { token: null, caches: [], cache: null, at: null, highestSeq: 0, oldestLoaded: 0, keys: [], live: null };

// ---------- HTTP ----------

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${state.token}`, 'x-device-id': 'web-console' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) throw new ApiFailure(response.status, json?.code ?? `HTTP_${response.status}`, json?.message ?? text ?? response.statusText);
  return json;
}

/**
 * Every URL path the console requests is built here: each `${value}` becomes one path
 * segment, percent-encoded (a "/", "?" or "#" in a name stays inside its segment), and a value
 * a browser would resolve as a dot segment ("." or "..", which would move the request to
 * another route) is refused, never sent. Routes whose first segment would be a value
 * (`/{cache}/{key}`) are not used at all: a cache named like a route's literal segment
 * (`cacheName`, `get`, `batch`) would turn them into another route, so deletes go in a body.
 */
function path(literals, ...values) {
  let out = literals[0];
  values.forEach((value, i) => {
    const text = String(value);
    if (text === '.' || text === '..') throw new ApiFailure(0, 'UNADDRESSABLE', `"${text}" cannot be sent as a URL segment (browsers resolve it away); use the API for it`);
    out += encodeURIComponent(text) + literals[i + 1];
  });
  return out;
}
const atQuery = () => (state.at === null ? '' : `?at=${state.at}`);

// ---------- bytes ----------

function base64ToBytes(b64) {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function textToBase64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** UTF-8 text without control characters (tabs and newlines allowed), else undefined. */
function asText(bytes) {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

function hexDump(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0'));
    lines.push(`${i.toString(16).padStart(8, '0')}  ${row.join(' ')}`);
  }
  return lines.join('\n');
}

function formatBytes(n) {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ---------- DOM helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

let noticeTimer;
function notice(message, kind = 'error') {
  const box = $('notice');
  box.textContent = message;
  box.className = `notice ${kind}`;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (box.hidden = true), kind === 'error' ? 8000 : 3000);
}

function failed(error) {
  if (error instanceof ApiFailure && error.status === 401) notice(`The token was refused (${error.code}). Paste a valid one.`);
  else notice(error instanceof ApiFailure ? `${error.code}: ${error.message}` : String(error.message ?? error));
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** The token's claims, for display only (the service verifies it). */
function claimsOf(token) {
  try {
    return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return {};
  }
}

// ---------- token ----------

async function connect(token) {
  state.token = token;
  try {
    await loadCaches();
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    failed(error);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  const claims = claimsOf(token);
  $('who').textContent = `org ${claims.org ?? '?'}${claims.name ? ` · ${claims.name}` : ''}`;
  $('token').value = '';
  $('token').placeholder = 'Connected. Paste another token to switch';
  $('sign-out').hidden = false;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  stopLive();
  Object.assign(state, { token: null, caches: [], cache: null, at: null });
  $('caches').replaceChildren();
  $('who').textContent = '';
  $('sign-out').hidden = true;
  $('token').placeholder = 'Paste a JWT (kept in this tab only)';
  $('cache-view').hidden = true;
  $('empty').hidden = false;
}

// ---------- caches ----------

async function loadCaches() {
  const [rows, names] = await Promise.all([api('/api/v1/cache/'), api('/cacheName/list')]);
  const descriptions = new Map(names.map((n) => [n.cacheName, n.description]));
  const counts = await Promise.all(
    rows.map((row) => api(path`/cacheName/${row.resource_title}/keys`).then((r) => r.keys.length, () => undefined)),
  );
  state.caches = rows.map((row, i) => ({ ...row, description: descriptions.get(row.resource_title) ?? '', items: counts[i] }));
  renderCaches();
}

function renderCaches() {
  const list = $('caches');
  list.replaceChildren(
    ...state.caches.map((c) =>
      el(
        'li',
        { class: c.resource_title === state.cache ? 'active' : '', dataset: { cache: c.resource_title } },
        el(
          'button',
          { type: 'button', onclick: () => openCache(c.resource_title) },
          el('span', { class: 'name' }, c.resource_title),
          el('span', { class: 'sub' }, `${c.items ?? '?'} items · v${c.version}`),
          c.description ? el('span', { class: 'desc' }, c.description) : null,
        ),
      ),
    ),
  );
  if (state.caches.length === 0) list.append(el('li', { class: 'muted pad' }, 'No caches yet.'));
}

async function createCache(name) {
  await api('/cacheName', { method: 'POST', body: { cacheName: name, description: '' } });
  await loadCaches();
  await openCache(name);
}

// ---------- one cache ----------

async function openCache(name) {
  stopLive();
  state.cache = name;
  state.at = null;
  $('empty').hidden = true;
  $('cache-view').hidden = false;
  $('cache-title').textContent = name;
  $('value').textContent = 'Pick a key.';
  $('value-meta').textContent = '';
  $('live').replaceChildren();
  renderCaches();
  try {
    const [settings] = await Promise.all([api(path`/cacheName/${name}/settings`).catch(() => undefined), loadTimeline(), loadKeys()]);
    renderSettings(settings);
    startLive();
  } catch (error) {
    failed(error);
  }
}

function renderSettings(settings) {
  const chips = [];
  if (settings) {
    for (const [name, value] of Object.entries(settings)) {
      if (name === 'cacheName') continue;
      chips.push(el('span', { class: 'chip' }, `${name}: ${settingText(name, value)}`));
    }
  }
  $('cache-settings').replaceChildren(...chips);
}

/** 0 means "no limit" for the numeric settings (docs/settings.md). */
function settingText(name, value) {
  if (value === null || value === undefined) return '–';
  if (value === 0 && name === 'ttl') return 'none';
  if (value === 0 && (name === 'capacity' || name === 'maxValueBytes')) return 'unlimited';
  if (name === 'ttl') return `${value} s`;
  if (name === 'maxValueBytes') return formatBytes(value);
  return String(value);
}

function renderMeta() {
  const row = state.caches.find((c) => c.resource_title === state.cache);
  const parts = [`version ${state.highestSeq}`];
  if (row?.description) parts.push(row.description);
  if (row?.user) parts.push(`last write by ${row.user}${row.device ? ` on ${row.device}` : ''}, ${time(row.sync_datetime)}`);
  $('cache-meta').textContent = parts.join(' · ');
}

async function loadKeys() {
  const result = await api(path`/cacheName/${state.cache}/keys` + atQuery());
  state.keys = result.keys.slice().sort();
  renderKeys();
}

function renderKeys() {
  const filter = $('key-filter').value;
  const shown = state.keys.filter((k) => k.includes(filter)).slice(0, KEYS_SHOWN);
  $('key-count').textContent = String(state.keys.length);
  const past = state.at !== null;
  $('keys').replaceChildren(
    ...shown.map((key) =>
      el(
        'tr',
        { dataset: { key } },
        el('td', { class: 'key' }, el('button', { type: 'button', class: 'link', onclick: () => showValue(key) }, key)),
        el('td', { class: 'actions' }, past ? null : el('button', { type: 'button', class: 'ghost small danger', title: `delete ${key}`, onclick: () => deleteKey(key) }, 'Delete')),
      ),
    ),
  );
  if (state.keys.length === 0) $('keys').append(el('tr', {}, el('td', { class: 'muted' }, past ? 'No keys at that point.' : 'No keys.')));
  else if (shown.length < state.keys.filter((k) => k.includes(filter)).length) $('keys').append(el('tr', {}, el('td', { class: 'muted' }, `first ${KEYS_SHOWN} shown; filter to narrow`)));
  $('set-form').hidden = past;
}

async function showValue(key) {
  try {
    const result = await api(path`/get/${state.cache}/${key}` + atQuery());
    if (!result.success) {
      $('value').textContent = '(no value)';
      $('value-meta').textContent = key;
      return;
    }
    const bytes = base64ToBytes(result.value);
    const head = bytes.subarray(0, VALUE_DISPLAY_CAP);
    const text = asText(head);
    const cut = bytes.length > VALUE_DISPLAY_CAP ? ` · first ${formatBytes(VALUE_DISPLAY_CAP)} shown` : '';
    $('value').textContent = text ?? hexDump(head);
    $('value').className = text === undefined ? 'value hex' : 'value';
    $('value-meta').textContent = `${key} · ${formatBytes(bytes.length)} · ${text === undefined ? 'binary (hex)' : 'text'}${cut}${state.at !== null ? ` · as of v${state.at}` : ''}`;
  } catch (error) {
    failed(error);
  }
}

async function setKey(key, value, ttl) {
  const body = { cacheName: state.cache, key, value: textToBase64(value) };
  if (ttl !== '') body.ttlSeconds = Number(ttl);
  await api('/set', { method: 'POST', body });
  notice(`Saved ${key}`, 'ok');
}

async function deleteKey(key) {
  if (!confirm(`Delete ${key}?`)) return;
  try {
    // In a body: `DELETE /{cache}/{key}` of a cache named `cacheName` is `DELETE /cacheName/{key}`, the deletion of cache {key}.
    const result = await api('/batch', { method: 'DELETE', body: { getCachedBatch: [{ cacheName: state.cache, key }] } });
    if (!result.cacheDeleteResponses[0]?.success) throw new ApiFailure(200, 'NOT_DELETED', `${key} was not deleted`);
    notice(`Deleted ${key}`, 'ok');
  } catch (error) {
    failed(error);
  }
}

// ---------- history ----------

async function loadTimeline() {
  const first = await api(path`/cacheName/${state.cache}/events` + '?from=1&limit=1');
  state.highestSeq = first.highestSeq;
  state.oldestLoaded = state.highestSeq + 1;
  $('timeline').replaceChildren();
  renderMeta();
  await loadOlder();
}

async function loadOlder() {
  const from = Math.max(1, state.oldestLoaded - EVENTS_PAGE);
  const limit = state.oldestLoaded - from;
  if (limit <= 0) return;
  const page = await api(path`/cacheName/${state.cache}/events` + `?from=${from}&limit=${limit}`);
  const items = page.events.slice().reverse().map(eventItem);
  $('timeline').append(...items);
  state.oldestLoaded = page.events.length > 0 ? page.events[0].seq : from;
  $('older').hidden = state.oldestLoaded <= 1;
}

function describe(event) {
  if (event.key !== undefined) return event.key;
  if (event.description !== undefined) return event.description ? `“${event.description}”` : '';
  if (event.settings !== undefined) return JSON.stringify(event.settings);
  return '';
}

function eventItem(event) {
  return el(
    'li',
    { class: `event type-${event.type}${state.at === event.seq ? ' picked' : ''}`, dataset: { seq: String(event.seq) } },
    el(
      'button',
      { type: 'button', title: 'show the cache as it was right after this event', onclick: () => showPast(event) },
      el('span', { class: 'seq' }, `v${event.seq}`),
      el('span', { class: 'type' }, event.type),
      el('span', { class: 'what' }, describe(event)),
      el('span', { class: 'who' }, `${event.by ?? '?'}${event.device ? ` · ${event.device}` : ''}`),
      el('time', { datetime: event.time }, time(event.time)),
    ),
  );
}

async function showPast(event) {
  state.at = event.seq === state.highestSeq ? null : event.seq;
  for (const item of $('timeline').children) item.classList.toggle('picked', state.at !== null && Number(item.dataset.seq) === event.seq);
  $('past-banner').hidden = state.at === null;
  $('past-text').textContent = `Viewing the cache as it was at v${event.seq} (${time(event.time)}, ${event.type} by ${event.by ?? '?'})`;
  $('value').textContent = 'Pick a key.';
  $('value-meta').textContent = '';
  try {
    await loadKeys();
  } catch (error) {
    failed(error);
  }
}

async function backToNow() {
  state.at = null;
  $('past-banner').hidden = true;
  for (const item of $('timeline').children) item.classList.remove('picked');
  await loadKeys().catch(failed);
}

// ---------- live tail (SSE over fetch: EventSource cannot send an Authorization header) ----------

function stopLive() {
  state.live?.abort();
  state.live = null;
  setLive('off');
}

function setLive(mode) {
  const dot = $('live-state');
  dot.className = `dot ${mode}`;
  dot.dataset.state = mode;
  dot.title = { on: 'following live events', off: 'not connected', retry: 'reconnecting' }[mode];
}

function startLive() {
  const controller = new AbortController();
  state.live = controller;
  const cache = state.cache;
  let next = state.highestSeq + 1;
  let delay = 1000;
  const run = async () => {
    let stream;
    try {
      stream = path`/cacheName/${cache}/events/stream`;
    } catch (error) {
      failed(error);
      return;
    }
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(`${stream}?from=${next}`, {
          headers: { authorization: `Bearer ${state.token}`, accept: 'text/event-stream' },
          signal: controller.signal,
        });
        if (!response.ok) throw new ApiFailure(response.status, `HTTP_${response.status}`, 'the live stream was refused');
        setLive('on');
        delay = 1000;
        for await (const message of sseMessages(response.body)) {
          if (message.event === 'end') break;
          if (!message.data) continue;
          const event = JSON.parse(message.data);
          next = event.seq + 1;
          onLiveEvent(event);
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiFailure && (error.status === 401 || error.status === 403)) {
          setLive('off');
          return failed(error);
        }
      }
      if (controller.signal.aborted) return;
      setLive('retry');
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  void run();
}

/** Server-Sent Events parsed from a byte stream: `{ id, event, data }` per blank-line-ended block. */
async function* sseMessages(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message = { event: 'message', data: '', id: undefined };
        const data = [];
        for (const line of block.split('\n')) {
          if (line === '' || line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(text);
          else if (field === 'event') message.event = text;
          else if (field === 'id') message.id = text;
        }
        message.data = data.join('\n');
        if (data.length > 0 || message.event !== 'message') yield message;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

let refreshKeysTimer;
function onLiveEvent(event) {
  const live = $('live');
  live.prepend(
    el(
      'li',
      { class: `type-${event.type}`, dataset: { seq: String(event.seq) } },
      el('span', { class: 'seq' }, `v${event.seq}`),
      el('span', { class: 'type' }, event.type),
      el('span', { class: 'what' }, describe(event)),
      el('span', { class: 'who' }, `${event.by ?? '?'}${event.device ? ` · ${event.device}` : ''}`),
      el('time', { datetime: event.time }, new Date(event.time).toLocaleTimeString()),
    ),
  );
  while (live.children.length > LIVE_SHOWN) live.lastChild.remove();
  state.highestSeq = Math.max(state.highestSeq, event.seq);
  $('timeline').prepend(eventItem(event));
  const row = state.caches.find((c) => c.resource_title === state.cache);
  if (row) Object.assign(row, { version: event.seq, user: event.by, device: event.device, sync_datetime: event.time });
  renderMeta();
  // Many events in a burst: one key reload, not one per event.
  clearTimeout(refreshKeysTimer);
  refreshKeysTimer = setTimeout(async () => {
    if (state.at === null) await loadKeys().catch(() => undefined);
    if (row) row.items = state.keys.length;
    renderCaches();
  }, 150);
}

// ---------- wiring ----------

document.addEventListener('DOMContentLoaded', () => {
  fetch('/', { headers: { accept: 'application/json' } })
    .then((r) => r.json())
    .then((info) => ($('version').textContent = info.version ? `v${info.version}` : ''))
    .catch(() => undefined);
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    if (token) void connect(token);
  });
  $('sign-out').addEventListener('click', signOut);
  $('refresh-caches').addEventListener('click', () => state.token && loadCaches().catch(failed));
  $('new-cache-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('new-cache-name').value.trim();
    if (name && state.token) createCache(name).then(() => ($('new-cache-name').value = ''), failed);
  });
  $('key-filter').addEventListener('input', renderKeys);
  $('older').addEventListener('click', () => loadOlder().catch(failed));
  $('back-to-now').addEventListener('click', () => void backToNow());
  $('set-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('set-key').value;
    const ttl = $('set-ttl').value.trim();
    if (ttl !== '' && !/^\d+$/.test(ttl)) return notice('TTL must be a whole number of seconds');
    setKey(key, $('set-value').value, ttl).then(() => {
      $('set-key').value = '';
      $('set-value').value = '';
      $('set-ttl').value = '';
    }, failed);
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void connect(saved);
});
