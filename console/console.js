// The cachelog console: plain browser JavaScript over the public HTTP API, no build step.
// The token lives in sessionStorage (this tab only) and goes out as a Bearer header.
'use strict';

/** Values larger than this are shown cut (the whole value is never put in the page). */
const VALUE_DISPLAY_CAP = 16 * 1024;
/** Keys asked per page of the server-side scan (`count`); a page looks at 10 x this many keys at most. */
const KEYS_PAGE = 100;
/** Pages one "search" or "load more" may ask for while pages come back short (a sparse pattern). */
const PAGES_PER_STEP = 8;
/** Keys kept in the table at most (the rest: search to narrow). */
const KEYS_KEPT = 2000;
/** Bytes of each value's head read to tell its type in the key table. */
const TYPE_SNIFF_BYTES = 64;
/** Caches whose key count is asked when the list loads (one small request each). */
const COUNTED_CACHES = 50;
const EVENTS_PAGE = 50;
const LIVE_SHOWN = 200;
const TIMELINE_KEPT = 1000;
const DIFF_MAX_LINES = 4000;
const TOKEN_KEY = 'cachelog.token';
const FINAL = new Set(['SUCCESS', 'FAILURE']);

const $ = (id) => document.getElementById(id);
/** Keys sort as people read them: `user:2` before `user:10`. */
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'variant' });

const state = {
  token: null,
  caches: [],
  cache: null,
  /** The point viewed (a seq), or null for now. */
  at: null,
  highestSeq: 0,
  oldestLoaded: 0,
  /** Loaded events by seq (the timeline), for diffs. */
  events: new Map(),
  /** The loaded keys: key -> { expiresAt, size, type } (undefined fields: not known). */
  keys: new Map(),
  keyCount: undefined,
  cursor: '0',
  match: '',
  scanId: 0,
  selectedKey: null,
  value: null,
  view: 'text',
  live: null,
  view_: 'empty',
  metricsTimer: null,
  tasksTimer: null,
  /** The org's tasks, newest first (loadTasks). */
  tasks: [],
  tasksMore: false,
  upstash: undefined,
};

// ---------- HTTP ----------

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A JSON call; `raw: true` answers `{ json, headers }`. */
async function api(path, { method = 'GET', body, headers: extra = {}, raw = false } = {}) {
  const headers = { authorization: `Bearer ${state.token}`, 'x-device-id': 'web-console', ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const code = json?.code ?? json?.error ?? `HTTP_${response.status}`;
    const message = json?.message ?? json?.error_description ?? json?.msg ?? text ?? response.statusText;
    throw new ApiFailure(response.status, code, message);
  }
  return raw ? { json, headers: response.headers } : json;
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
const atParam = () => (state.at === null ? '' : `at=${state.at}`);
const query = (...parts) => {
  const kept = parts.filter(Boolean);
  return kept.length ? `?${kept.join('&')}` : '';
};

/** A Redis command through the Upstash-style REST family, on the open cache (values base64). */
async function redis(commands) {
  const answers = await api(path`/redis/db/${state.cache}/pipeline`, { method: 'POST', body: commands, headers: { 'upstash-encoding': 'base64' } });
  return answers;
}

// ---------- bytes ----------

function base64ToBytes(b64) {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

const textToBase64 = (text) => bytesToBase64(new TextEncoder().encode(text));

/** UTF-8 text without control characters (tabs and newlines allowed), else undefined. */
function asText(bytes, { partial = false } = {}) {
  try {
    const text = new TextDecoder('utf-8', { fatal: !partial }).decode(bytes);
    if (partial && text.slice(0, -1).includes('\ufffd')) return undefined;
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
  } catch {
    return undefined;
  }
}

function asJson(text) {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!/^[[{"]/.test(trimmed)) return undefined;
  try {
    return { value: JSON.parse(trimmed) };
  } catch {
    return undefined;
  }
}

/** What a value looks like from its first bytes: json, number, text, binary or empty. */
function sniffType(head, size) {
  if (size === 0) return 'empty';
  const text = asText(head, { partial: size > head.length });
  if (text === undefined) return 'binary';
  const t = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(t) && size === head.length) return 'number';
  if (/^[[{]/.test(t)) return size === head.length ? (asJson(text) ? 'json' : 'text') : 'json?';
  return 'text';
}

function hexDump(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.subarray(i, i + 16);
    const row = Array.from(chunk, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(chunk, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${row.padEnd(47)}  |${ascii}|`);
  }
  return lines.join('\n');
}

function formatBytes(n) {
  if (n === undefined || n === null) return '—';
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const formatCount = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '?');

/** Time left until an expiry: "none", "expired" or "1d 2h", "3m 4s", "12s". */
function ttlText(expiresAt) {
  if (expiresAt === undefined) return '—';
  if (expiresAt === null) return 'none';
  const left = Math.round((Date.parse(expiresAt) - Date.now()) / 1000);
  if (!(left > 0)) return 'expired';
  const d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

// ---------- DOM helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'class') node.className = value;
    else if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

let noticeTimer;
function notice(message, kind = 'error') {
  const box = $('notice');
  box.textContent = message;
  box.className = `notice ${kind}`;
  box.dataset.kind = kind;
  box.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (box.hidden = true), kind === 'error' ? 8000 : 3000);
}

function clearNotice() {
  clearTimeout(noticeTimer);
  $('notice').hidden = true;
}

function failed(error) {
  if (error instanceof ApiFailure && error.status === 401) notice(`The token was refused (${error.code}). Paste a valid one.`);
  else notice(error instanceof ApiFailure ? `${error.code}: ${error.message}` : String(error?.message ?? error));
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

/** A file the browser saves (from bytes in memory). */
function saveFile(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function readFile(file) {
  return file.arrayBuffer().then((buffer) => new Uint8Array(buffer));
}

// ---------- views ----------

function showView(name) {
  state.view_ = name;
  $('empty').hidden = name !== 'empty';
  $('cache-view').hidden = name !== 'cache';
  $('metrics-view').hidden = name !== 'metrics';
  $('tasks-view').hidden = name !== 'tasks';
  $('nav-metrics').setAttribute('aria-current', name === 'metrics' ? 'page' : 'false');
  $('nav-tasks').setAttribute('aria-current', name === 'tasks' ? 'page' : 'false');
  if (name !== 'cache') {
    stopLive();
    state.cache = null;
    renderCaches();
  }
  clearInterval(state.metricsTimer);
  state.metricsTimer = null;
  if (name === 'metrics') {
    void loadMetrics();
    state.metricsTimer = setInterval(() => void loadMetrics(), 2000);
  }
  if (name === 'tasks') {
    renderTasks();
    followTasks();
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
  // A notice from an earlier refused token no longer holds.
  clearNotice();
  sessionStorage.setItem(TOKEN_KEY, token);
  const claims = claimsOf(token);
  $('who').textContent = `org ${claims.org ?? '?'}${claims.name ? ` · ${claims.name}` : ''}`;
  $('token').value = '';
  $('token').placeholder = 'Connected. Paste another token to switch';
  $('sign-out').hidden = false;
  // Another token may be another org: its tasks only, listed when the tasks view opens.
  state.tasks = [];
  state.tasksMore = false;
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  showView('empty');
  Object.assign(state, { token: null, caches: [], cache: null, at: null, tasks: [], tasksMore: false });
  $('caches').replaceChildren();
  $('who').textContent = '';
  $('sign-out').hidden = true;
  $('token').placeholder = 'Paste a JWT (kept in this tab only)';
}

// ---------- caches ----------

/** The cache list: two requests, plus one small `GET /cacheName/{c}` per cache (first 50) for its key count. */
async function loadCaches() {
  const [rows, names] = await Promise.all([api('/api/v1/cache/'), api('/cacheName/list')]);
  const descriptions = new Map(names.map((n) => [n.cacheName, n.description]));
  const infos = await Promise.all(
    rows.map((row, i) => (i < COUNTED_CACHES ? api(path`/cacheName/${row.resource_title}`).catch(() => undefined) : undefined)),
  );
  state.caches = rows.map((row, i) => ({ ...row, description: descriptions.get(row.resource_title) ?? '', items: infos[i]?.keyCount, bytes: infos[i]?.valueBytes }));
  state.caches.sort((a, b) => collator.compare(a.resource_title, b.resource_title));
  renderCaches();
  renderTaskCaches();
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
          { type: 'button', 'aria-current': c.resource_title === state.cache ? 'true' : 'false', onclick: () => openCache(c.resource_title) },
          el('span', { class: 'name' }, c.resource_title),
          el('span', { class: 'sub' }, `${c.items === undefined ? '?' : formatCount(c.items)} item${c.items === 1 ? '' : 's'} · v${c.version}`),
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

/**
 * Opening a cache asks a fixed number of small requests whatever its size: its info (key
 * count, bytes), settings, the newest events, one page of keys and one pipeline for that
 * page's TTL, size and type; then the live stream.
 */
async function openCache(name) {
  stopLive();
  showView('cache');
  state.cache = name;
  state.at = null;
  state.selectedKey = null;
  state.value = null;
  state.keyCount = undefined;
  $('key-search').value = '';
  state.match = '';
  $('cache-title').textContent = name;
  clearValue();
  $('live').replaceChildren();
  $('past-banner').hidden = true;
  $('restore-progress').hidden = true;
  closeSettingsForm();
  renderCaches();
  try {
    const [settings] = await Promise.all([api(path`/cacheName/${name}/settings`).catch(() => undefined), loadTimeline(), loadInfo(), scanKeys(true)]);
    state.settings = settings;
    renderSettings(settings);
    startLive();
  } catch (error) {
    failed(error);
  }
}

async function loadInfo() {
  const cache = state.cache;
  const info = await api(path`/cacheName/${cache}`).catch(() => undefined);
  if (cache !== state.cache) return;
  state.info = info;
  if (typeof info?.keyCount === 'number') {
    const row = state.caches.find((c) => c.resource_title === cache);
    if (row) Object.assign(row, { items: info.keyCount, bytes: info.valueBytes });
    if (state.at === null) state.keyCount = info.keyCount;
  }
  renderMeta();
  renderKeyCount();
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
  const parts = [`version ${formatCount(state.highestSeq)}`];
  if (typeof state.info?.keyCount === 'number') parts.push(`${formatCount(state.info.keyCount)} key${state.info.keyCount === 1 ? '' : 's'}`);
  if (typeof state.info?.valueBytes === 'number') parts.push(formatBytes(state.info.valueBytes));
  if (row?.description) parts.push(row.description);
  if (row?.user) parts.push(`last write by ${row.user}${row.device ? ` on ${row.device}` : ''}, ${time(row.sync_datetime)}`);
  $('cache-meta').textContent = parts.join(' · ');
}

function openSettingsForm() {
  const s = state.settings ?? {};
  $('s-capacity').value = s.capacity ?? '';
  $('s-ttl').value = s.ttl ?? '';
  $('s-max').value = s.maxValueBytes ?? '';
  $('s-null').checked = s.cacheNullValue ?? true;
  $('settings-form').hidden = false;
  $('settings-toggle').setAttribute('aria-expanded', 'true');
  $('s-capacity').focus();
}

function closeSettingsForm() {
  $('settings-form').hidden = true;
  $('settings-toggle').setAttribute('aria-expanded', 'false');
}

async function saveSettings() {
  const body = {};
  for (const [id, name] of [['s-capacity', 'capacity'], ['s-ttl', 'ttl'], ['s-max', 'maxValueBytes']]) {
    const text = $(id).value.trim();
    if (text === '') continue;
    if (!/^\d+$/.test(text)) throw new ApiFailure(0, 'INVALID_INPUT', `${name} must be a whole number ≥ 0`);
    body[name] = Number(text);
  }
  body.cacheNullValue = $('s-null').checked;
  const settings = await api(path`/cacheName/${state.cache}/settings`, { method: 'PUT', body });
  state.settings = settings;
  renderSettings(settings);
  closeSettingsForm();
  notice('Settings saved', 'ok');
}

async function flushCache() {
  const name = state.cache;
  if (!confirm(`Flush "${name}"? Every key is removed (the history keeps them).`)) return;
  await api(path`/cacheName/${name}/flush`, { method: 'PUT' });
  notice(`Flushed ${name}`, 'ok');
}

async function deleteCache() {
  const name = state.cache;
  const typed = prompt(`Delete the cache "${name}" with all its keys? Type its name to confirm.`);
  if (typed === null) return;
  if (typed !== name) return notice('The name did not match: nothing was deleted.');
  await api(path`/cacheName/${name}`, { method: 'DELETE' });
  notice(`Deleted the cache ${name}`, 'ok');
  showView('empty');
  await loadCaches();
}

// ---------- keys: a server-side scan, a page at a time ----------

/** What the search box means: text with no glob character is a prefix (`user:1` → `user:1*`). */
function patternOf(text) {
  if (text === '') return '';
  return /[*?[\]\\]/.test(text) ? text : `${text.replace(/[*?[\]\\]/g, '\\$&')}*`;
}

/** A glob as Redis reads it, as a RegExp (for live events: does a new key belong to the search?). */
function globRegExp(glob) {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\' && i + 1 < glob.length) out += glob[++i].replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
    else if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith('^')) body = `^${body.slice(1).replace(/\\/g, '\\\\')}`;
        else body = body.replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/**
 * Asks pages (`?cursor=&match=&count=`) until the table has KEYS_PAGE more keys, the scan is
 * complete, or PAGES_PER_STEP pages were asked (a sparse pattern: "Load more" goes on).
 * Every request is one page: its size is bounded by `count`, never by the cache.
 */
async function scanKeys(fresh) {
  const id = ++state.scanId;
  const cache = state.cache;
  if (fresh) {
    state.keys = new Map();
    state.cursor = '0';
    state.scanned = false;
    state.paged = undefined;
  }
  const want = state.keys.size + KEYS_PAGE;
  let pages = 0;
  const added = [];
  do {
    // Now or at a past point (`at=`), one page at a time; sizes come with the page.
    const params = [atParam(), `cursor=${encodeURIComponent(state.cursor)}`, `count=${KEYS_PAGE}`, 'withSize=true'];
    if (state.match) params.push(`match=${encodeURIComponent(state.match)}`);
    if (state.at === null) params.push('withExpiry=true');
    const page = await api(path`/cacheName/${cache}/keys` + query(...params));
    if (id !== state.scanId || cache !== state.cache) return;
    pages++;
    if (typeof page.cursor !== 'string') {
      // A server without paging answered every key at once: keep what fits, say so.
      state.paged = false;
      const re = state.match ? globRegExp(state.match) : null;
      const all = page.keys.filter((k) => !re || re.test(keyOf(k)));
      state.filteredTotal = all.length;
      for (const entry of all.slice(0, KEYS_KEPT)) added.push(addKey(entry));
      state.cursor = '0';
      break;
    }
    state.paged = true;
    page.keys.forEach((entry, i) => added.push(addKey(entry, page.expiresAt?.[i], page.valueBytes?.[i])));
    state.cursor = page.cursor;
  } while (state.cursor !== '0' && state.keys.size < want && pages < PAGES_PER_STEP && state.keys.size < KEYS_KEPT);
  state.scanned = state.cursor === '0';
  renderKeys();
  await describeKeys(added.filter(Boolean), cache);
}

const keyOf = (entry) => (typeof entry === 'string' ? entry : entry.key);

function addKey(entry, expiresAt, size) {
  const key = keyOf(entry);
  const info = state.keys.get(key) ?? {};
  if (typeof entry === 'object') {
    if ('expiresAt' in entry) info.expiresAt = entry.expiresAt;
    const size = entry.size ?? entry.valueBytes ?? entry.bytes;
    if (typeof size === 'number') info.size = size;
    if (typeof entry.type === 'string') info.type = entry.type;
  }
  if (expiresAt !== undefined) info.expiresAt = expiresAt;
  if (size !== undefined) info.size = size;
  const fresh = !state.keys.has(key);
  state.keys.set(key, info);
  return fresh || info.type === undefined ? key : null;
}

/**
 * Type of a page of keys: one Upstash-style pipeline of GETRANGE 0..63 per key (the head tells
 * text, JSON, number or binary), with STRLEN and PEXPIRETIME only for keys the page gave no size
 * or expiry for (a server without `withSize`). Bounded by the page.
 */
async function describeKeys(all, cache) {
  // At most 200 keys (a step adds 100 to 199): within UPSTASH_MAX_PIPELINE_COMMANDS (1000).
  const keys = all.slice(0, 200);
  if (keys.length === 0 || state.at !== null || state.upstash === false) return;
  // The page's `expiresAt` (withExpiry) already gives the TTLs: PEXPIRETIME only for keys without one.
  const commands = [];
  const asked = [];
  for (const key of keys) {
    const needTtl = state.keys.get(key)?.expiresAt === undefined;
    const needSize = state.keys.get(key)?.size === undefined;
    asked.push({ needTtl, needSize });
    if (needTtl) commands.push(['PEXPIRETIME', key]);
    if (needSize) commands.push(['STRLEN', key]);
    commands.push(['GETRANGE', key, 0, TYPE_SNIFF_BYTES - 1]);
  }
  let answers;
  try {
    answers = await redis(commands);
    state.upstash = true;
  } catch (error) {
    if (error instanceof ApiFailure && (error.status === 404 || error.status === 405)) state.upstash = false;
    return;
  }
  if (cache !== state.cache) return;
  let at = 0;
  keys.forEach((key, i) => {
    const exp = asked[i].needTtl ? answers[at++]?.result : undefined;
    const len = asked[i].needSize ? answers[at++]?.result : undefined;
    const head = answers[at++]?.result;
    const info = state.keys.get(key);
    if (!info) return;
    if (typeof exp === 'number' && info.expiresAt === undefined) info.expiresAt = exp > 0 ? new Date(exp).toISOString() : exp === -1 ? null : undefined;
    if (typeof len === 'number') info.size = len;
    if (typeof head === 'string' && info.type === undefined) info.type = sniffType(base64ToBytes(head), info.size ?? 0);
  });
  renderKeys();
}

function renderKeyCount() {
  const total = state.at === null && !state.match ? state.keyCount : undefined;
  const shown = state.keys.size;
  $('key-count').textContent = total !== undefined ? formatCount(total) : state.scanned ? formatCount(shown) : `${formatCount(shown)}+`;
  $('key-count').setAttribute('aria-label', total !== undefined ? `${formatCount(total)} keys in the cache` : `${formatCount(shown)} keys found`);
  let status;
  if (state.paged === false && state.filteredTotal > shown) status = `first ${formatCount(shown)} of ${formatCount(state.filteredTotal)} shown; search to narrow`;
  else if (state.scanned) status = `${formatCount(shown)} ${state.match ? 'matching ' : ''}key${shown === 1 ? '' : 's'}${state.match ? ` for ${state.match}` : ''}`;
  else status = `${formatCount(shown)} ${state.match ? 'matching ' : ''}shown${total !== undefined ? ` of ${formatCount(total)}` : ''}; more to load`;
  $('keys-status').textContent = status;
  $('more-keys').hidden = state.scanned || state.keys.size >= KEYS_KEPT;
}

function renderKeys() {
  const past = state.at !== null;
  const keys = [...state.keys.keys()].sort(collator.compare);
  $('keys').replaceChildren(
    ...keys.map((key) => {
      const info = state.keys.get(key);
      return el(
        'tr',
        { dataset: { key }, class: key === state.selectedKey ? 'selected' : '' },
        el('th', { scope: 'row', class: 'key' }, el('button', { type: 'button', class: 'link', 'aria-label': `show ${key}`, onclick: () => selectKey(key) }, key)),
        el('td', { class: 'num type-col', dataset: { col: 'type' } }, info.type ?? '—'),
        el('td', { class: 'num', dataset: { col: 'size' } }, formatBytes(info.size)),
        el('td', { class: 'num', dataset: { col: 'ttl' } }, past ? '—' : ttlText(info.expiresAt)),
        el('td', { class: 'actions' }, past ? null : el('button', { type: 'button', class: 'ghost small danger', 'aria-label': `delete ${key}`, onclick: () => deleteKey(key).catch(failed) }, 'Delete')),
      );
    }),
  );
  if (keys.length === 0) {
    const text = state.match ? (state.scanned ? 'No key matches.' : 'No match yet: load more to go on scanning.') : past ? 'No keys at that point.' : 'No keys.';
    $('keys').append(el('tr', {}, el('td', { class: 'muted', colspan: '5' }, text)));
  }
  $('set-form').hidden = past;
  renderKeyCount();
}

async function search(text) {
  state.match = patternOf(text);
  await scanKeys(true);
}

// ---------- one value ----------

function clearValue() {
  $('value').textContent = 'Pick a key.';
  $('value').className = 'value';
  $('value-meta').textContent = '';
  $('value-tools').hidden = true;
  $('edit-form').hidden = true;
  $('ttl-form').hidden = true;
  $('diff-form').hidden = true;
  $('diff').hidden = true;
}

async function selectKey(key) {
  state.selectedKey = key;
  for (const row of $('keys').children) row.classList.toggle('selected', row.dataset.key === key);
  $('diff').hidden = true;
  $('edit-form').hidden = true;
  await showValue().catch(failed);
}

/** The selected key's value, at the viewed point (now or the past one). */
async function showValue() {
  const key = state.selectedKey;
  if (key === null) return clearValue();
  const at = state.at;
  const { json: result, headers } = await api(path`/get/${state.cache}/${key}` + query(atParam()), { raw: true });
  if (key !== state.selectedKey || at !== state.at) return;
  if (!result.success) {
    state.value = null;
    clearValue();
    $('value').textContent = at === null ? '(no value: the key is gone)' : '(no value at that point)';
    $('value-meta').textContent = key;
    $('diff-form').hidden = false;
    return;
  }
  const bytes = base64ToBytes(result.value);
  const expiresAt = 'expiresAt' in result ? result.expiresAt : headers.get('x-cachelog-expires-at') ?? undefined;
  const text = asText(bytes.subarray(0, VALUE_DISPLAY_CAP), { partial: bytes.length > VALUE_DISPLAY_CAP });
  const json = bytes.length <= VALUE_DISPLAY_CAP ? asJson(text) : undefined;
  // The same key shown again (a live write, a point change) keeps the view the user picked, if it still applies.
  const kept = state.value?.key === key ? state.view : null;
  state.value = { key, bytes, text, json, expiresAt, at };
  const usable = (view) => view === 'hex' || (view === 'json' ? Boolean(json) : view === 'text' && text !== undefined);
  state.view = kept && usable(kept) ? kept : json ? 'json' : text === undefined ? 'hex' : 'text';
  const info = state.keys.get(key);
  if (info && at === null) {
    info.size = bytes.length;
    if (expiresAt !== undefined) info.expiresAt = expiresAt;
    info.type = sniffType(bytes.subarray(0, TYPE_SNIFF_BYTES), bytes.length);
  }
  renderValue();
  $('value-tools').hidden = false;
  $('value-edit').hidden = at !== null || text === undefined || bytes.length > VALUE_DISPLAY_CAP;
  $('value-upload').parentElement.hidden = at !== null;
  $('ttl-form').hidden = at !== null;
  $('ttl-seconds').value = '';
  $('diff-form').hidden = false;
  suggestDiff(key);
}

function renderValue() {
  const v = state.value;
  if (!v) return;
  const head = v.bytes.subarray(0, VALUE_DISPLAY_CAP);
  let shown;
  if (state.view === 'json' && v.json) shown = JSON.stringify(v.json.value, null, 2);
  else if (state.view === 'text' && v.text !== undefined) shown = v.text;
  else {
    state.view = 'hex';
    shown = hexDump(head);
  }
  $('value').textContent = shown;
  $('value').className = `value ${state.view}`;
  for (const b of document.querySelectorAll('#value-tools [data-view]')) {
    const usable = b.dataset.view === 'hex' || (b.dataset.view === 'json' ? Boolean(v.json) : v.text !== undefined);
    b.disabled = !usable;
    b.setAttribute('aria-pressed', String(b.dataset.view === state.view));
  }
  const cut = v.bytes.length > VALUE_DISPLAY_CAP ? ` · first ${formatBytes(VALUE_DISPLAY_CAP)} shown` : '';
  const kind = v.json ? 'JSON' : v.text === undefined ? 'binary' : 'text';
  const ttl = v.at === null && v.expiresAt !== undefined ? ` · TTL ${ttlText(v.expiresAt)}` : '';
  $('value-meta').textContent = `${v.key} · ${formatBytes(v.bytes.length)} · ${kind}${ttl}${cut}${v.at !== null ? ` · as of v${v.at}` : ''}`;
}

/** Seconds left of the shown value's expiry (to keep it when the value is rewritten), or 0. */
function ttlLeft(expiresAt) {
  if (!expiresAt) return 0;
  return Math.max(1, Math.ceil((Date.parse(expiresAt) - Date.now()) / 1000));
}

async function writeValue(key, bytes, ttlSeconds) {
  const body = { cacheName: state.cache, key, value: bytesToBase64(bytes) };
  if (ttlSeconds) body.ttlSeconds = ttlSeconds;
  await api('/set', { method: 'POST', body });
}

async function saveEdit() {
  const v = state.value;
  await writeValue(v.key, new TextEncoder().encode($('edit-value').value), ttlLeft(v.expiresAt));
  $('edit-form').hidden = true;
  notice(`Saved ${v.key}`, 'ok');
  await showValue();
}

async function uploadValue(key, file) {
  const bytes = await readFile(file);
  const ttl = key === state.value?.key ? ttlLeft(state.value.expiresAt) : 0;
  await writeValue(key, bytes, ttl);
  notice(`Uploaded ${file.name} (${formatBytes(bytes.length)}) as ${key}`, 'ok');
}

function downloadValue() {
  const v = state.value;
  const type = v.json ? 'application/json' : v.text !== undefined ? 'text/plain' : 'application/octet-stream';
  const safe = v.key.replace(/[^\w.-]+/g, '_').slice(0, 100) || 'value';
  saveFile(`${safe}${v.json ? '.json' : v.text !== undefined ? '.txt' : '.bin'}`, new Blob([v.bytes], { type }));
}

/** TTL through EXPIRE / PERSIST (Upstash-style REST); without that family, the value is written again. */
async function setTtl(seconds) {
  const v = state.value;
  try {
    const [answer] = await redis([seconds === 0 ? ['PERSIST', v.key] : ['EXPIRE', v.key, seconds]]);
    if (answer?.error) throw new ApiFailure(400, 'REDIS_ERROR', answer.error);
  } catch (error) {
    if (!(error instanceof ApiFailure && (error.status === 404 || error.status === 405))) throw error;
    if (seconds === 0 && state.settings?.ttl) throw new ApiFailure(0, 'UNSUPPORTED', 'this server cannot remove an expiry in a cache with a default TTL');
    await writeValue(v.key, v.bytes, seconds);
  }
  notice(seconds === 0 ? `${v.key} no longer expires` : `${v.key} expires in ${seconds} s`, 'ok');
  await showValue();
  renderKeys();
}

async function setKey(key, value, ttl) {
  const body = { cacheName: state.cache, key, value: textToBase64(value) };
  if (ttl !== '') body.ttlSeconds = Number(ttl);
  await api('/set', { method: 'POST', body });
  notice(`Saved ${key}`, 'ok');
}

async function deleteKey(key) {
  if (!confirm(`Delete ${key}?`)) return;
  // In a body: `DELETE /{cache}/{key}` of a cache named `cacheName` is `DELETE /cacheName/{key}`, the deletion of cache {key}.
  const result = await api('/batch', { method: 'DELETE', body: { getCachedBatch: [{ cacheName: state.cache, key }] } });
  if (!result.cacheDeleteResponses[0]?.success) throw new ApiFailure(200, 'NOT_DELETED', `${key} was not deleted`);
  notice(`Deleted ${key}`, 'ok');
}

// ---------- diff between two versions of a key ----------

/** Fills the diff form: the key's previous Set in the loaded timeline, against the point shown. */
function suggestDiff(key) {
  const upTo = state.at ?? state.highestSeq;
  let last;
  let previous;
  for (const seq of [...state.events.keys()].sort((a, b) => b - a)) {
    if (seq > upTo) continue;
    const e = state.events.get(seq);
    if (e.key !== key || e.type !== 'Set') continue;
    if (last === undefined) last = seq;
    else {
      previous = seq;
      break;
    }
  }
  $('diff-a').value = previous ?? '';
  $('diff-b').value = state.at ?? '';
}

async function valueText(key, at) {
  const result = await api(path`/get/${state.cache}/${key}` + query(at === null ? '' : `at=${at}`));
  if (!result.success) return { text: '', missing: true };
  const bytes = base64ToBytes(result.value);
  const text = asText(bytes);
  if (text === undefined) return { text: hexDump(bytes) };
  const json = asJson(text);
  return { text: json ? JSON.stringify(json.value, null, 2) : text };
}

/** Line diff (longest common subsequence); values are cut to DIFF_MAX_LINES lines. */
function diffLines(a, b) {
  const x = a.split('\n').slice(0, DIFF_MAX_LINES);
  const y = b.split('\n').slice(0, DIFF_MAX_LINES);
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let endX = x.length, endY = y.length;
  while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) endX--, endY--;
  const xs = x.slice(start, endX), ys = y.slice(start, endY);
  const n = xs.length, m = ys.length;
  const out = x.slice(0, start).map((line) => [' ', line]);
  if (n * m > 4_000_000) {
    for (const line of xs) out.push(['-', line]);
    for (const line of ys) out.push(['+', line]);
  } else {
    const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) table[i][j] = xs[i] === ys[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) out.push([' ', xs[i++]]), j++;
      else if (j < m && (i === n || table[i][j + 1] >= table[i + 1][j])) out.push(['+', ys[j++]]);
      else out.push(['-', xs[i++]]);
    }
  }
  for (const line of x.slice(endX)) out.push([' ', line]);
  return out;
}

async function showDiff() {
  const key = state.selectedKey;
  const a = $('diff-a').value.trim();
  const b = $('diff-b').value.trim();
  if (!/^\d+$/.test(a) || (b !== '' && !/^\d+$/.test(b))) throw new ApiFailure(0, 'INVALID_INPUT', 'versions are whole numbers (empty: now)');
  const [older, newer] = await Promise.all([valueText(key, Number(a)), valueText(key, b === '' ? null : Number(b))]);
  const lines = diffLines(older.text, newer.text);
  const box = $('diff');
  const label = `v${a}${older.missing ? ' (absent)' : ''} → ${b === '' ? 'now' : `v${b}`}${newer.missing ? ' (absent)' : ''}`;
  const same = lines.every(([op]) => op === ' ');
  box.replaceChildren(
    el('span', { class: 'diff-head' }, `${key}: ${label}${same ? ' · no difference' : ''}\n`),
    ...lines.map(([op, line]) => el('span', { class: op === '+' ? 'add' : op === '-' ? 'del' : 'same', dataset: { op } }, `${op} ${line}\n`)),
  );
  box.hidden = false;
}

// ---------- history ----------

async function loadTimeline() {
  const cache = state.cache;
  const first = await api(path`/cacheName/${cache}/events` + '?from=1&limit=1');
  if (cache !== state.cache) return;
  state.highestSeq = first.highestSeq;
  state.oldestLoaded = state.highestSeq + 1;
  state.events = new Map();
  $('timeline').replaceChildren();
  renderMeta();
  await loadOlder();
}

async function loadOlder() {
  const from = Math.max(1, state.oldestLoaded - EVENTS_PAGE);
  const limit = state.oldestLoaded - from;
  if (limit <= 0) return;
  const page = await api(path`/cacheName/${state.cache}/events` + `?from=${from}&limit=${limit}`);
  for (const event of page.events) state.events.set(event.seq, event);
  const items = page.events.slice().reverse().map(eventItem);
  $('timeline').append(...items);
  state.oldestLoaded = page.events.length > 0 ? page.events[0].seq : from;
  $('older').hidden = state.oldestLoaded <= 1;
}

function describe(event) {
  if (event.key !== undefined) return event.key;
  if (event.description !== undefined) return event.description ? `“${event.description}”` : '';
  if (event.settings !== undefined) return JSON.stringify(event.settings);
  if (event.type === 'SettingsChanged') return ['capacity', 'ttl', 'ttlSeconds', 'maxValueBytes', 'cacheNullValue'].filter((k) => k in event).map((k) => `${k}=${event[k]}`).join(' ');
  return '';
}

function eventParts(event, timeText) {
  return [
    el('span', { class: 'seq' }, `v${event.seq}`),
    el('span', { class: 'type' }, event.type),
    el('span', { class: 'what' }, describe(event)),
    el('span', { class: 'who' }, `${event.by ?? '?'}${event.device ? ` · ${event.device}` : ''}`),
    el('time', { datetime: event.time }, timeText),
  ];
}

function eventItem(event) {
  return el(
    'li',
    { class: `event type-${event.type}${state.at === event.seq ? ' picked' : ''}`, dataset: { seq: String(event.seq) } },
    el(
      'button',
      { type: 'button', title: 'show the cache as it was right after this event', 'aria-label': `v${event.seq} ${event.type} ${describe(event)}: show the cache as it was then` },
      ...eventParts(event, time(event.time)),
    ),
  );
}

/** Shows the cache at a point: keys, and the selected key's value, as they were then. */
async function showPoint(seq, label) {
  state.at = seq >= state.highestSeq ? null : seq;
  for (const item of $('timeline').children) item.classList.toggle('picked', state.at !== null && Number(item.dataset.seq) === seq);
  $('past-banner').hidden = state.at === null;
  $('past-text').textContent = `Viewing the cache as it was at v${seq}${label ? ` (${label})` : ''}`;
  $('restore-progress').hidden = true;
  await Promise.all([scanKeys(true), refreshSelected()]);
}

function showPast(event) {
  return showPoint(event.seq, `${time(event.time)}, ${event.type} by ${event.by ?? '?'}`);
}

async function refreshSelected() {
  if (state.selectedKey === null) return clearValue();
  $('edit-form').hidden = true;
  $('diff').hidden = true;
  await showValue();
}

/** "As of" a date-time: the keys at that time; the point's seq comes back in the ETag (`"at<seq>"`). */
async function showAsOf(local) {
  const when = new Date(local);
  if (Number.isNaN(when.getTime())) throw new ApiFailure(0, 'INVALID_INPUT', 'pick a date and time');
  const iso = when.toISOString();
  // One small point read (any key will do: a miss answers too) tells which seq that time is.
  const { headers } = await api(path`/get/${state.cache}/${state.selectedKey ?? 'asof-probe'}` + `?asOf=${encodeURIComponent(iso)}`, { raw: true });
  const tag = /^(?:W\/)?"at(\d+)"$/.exec(headers.get('etag') ?? '');
  let seq = tag ? Number(tag[1]) : undefined;
  if (seq === undefined) {
    // No tag: the newest loaded event at or before that time.
    for (const e of state.events.values()) if (Date.parse(e.time) <= when.getTime() && (seq === undefined || e.seq > seq)) seq = e.seq;
  }
  if (seq === undefined || seq === 0) {
    throw new ApiFailure(0, 'NO_POINT', `the cache had no events by ${when.toLocaleString()}`);
  }
  await showPoint(seq, `as of ${when.toLocaleString()}`);
}

async function backToNow() {
  state.at = null;
  $('past-banner').hidden = true;
  for (const item of $('timeline').children) item.classList.remove('picked');
  renderKeyCount();
  await Promise.all([scanKeys(true), loadInfo(), refreshSelected()]);
}

// ---------- restore to a point (a task) ----------

async function restoreHere() {
  const seq = state.at;
  const cache = state.cache;
  if (seq === null) return;
  if (!confirm(`Restore "${cache}" to its state at v${seq}? New events are appended; no history is rewritten.`)) return;
  const task = await startTask({ resource_title: cache, action: 'restore', at: seq });
  const box = $('restore-progress');
  box.hidden = false;
  box.dataset.taskId = task.task_id;
  renderRestore(task);
}

/** The restore strip: a task's state as steps (queued, running, done). */
function renderRestore(task) {
  const box = $('restore-progress');
  if (box.hidden || box.dataset.taskId !== task.task_id) return;
  const step = { PENDING: 1, STARTED: 2, SUCCESS: 3, FAILURE: 3 }[task.task_state] ?? 0;
  box.dataset.state = task.task_state;
  $('restore-bar').value = step;
  const r = task.result;
  $('restore-text').textContent =
    task.task_state === 'SUCCESS'
      ? `Restored to v${r?.restoredTo ?? '?'}: ${r?.appended ?? '?'} event(s) appended, now v${r?.seq ?? '?'}.`
      : task.task_state === 'FAILURE'
        ? `The restore failed: ${task.reason ?? 'no reason given'}`
        : `Restore ${task.task_state === 'PENDING' ? 'queued' : 'running'} (task ${task.task_id.slice(0, 8)})…`;
  if (task.task_state === 'SUCCESS' && box.dataset.done !== task.task_id) {
    box.dataset.done = task.task_id;
    if (state.cache === task.resource_title) void backToNowKeepingStrip();
  }
}

async function backToNowKeepingStrip() {
  state.at = null;
  $('past-banner').hidden = true;
  for (const item of $('timeline').children) item.classList.remove('picked');
  await Promise.all([scanKeys(true), loadInfo(), refreshSelected()]).catch(failed);
}

// ---------- tasks ----------

/** Tasks of the org the list shows at most (the route answers up to 100). */
const TASKS_LISTED = 50;

/**
 * The org's tasks, newest first, from `GET /api/v1/cache/tasks/`: those started from any client
 * of the org, not only this tab. A task started here shows at once, before the next list.
 */
async function loadTasks() {
  const token = state.token;
  const listed = await api(`/api/v1/cache/tasks/?limit=${TASKS_LISTED}`);
  if (token !== state.token) return;
  const known = new Set(listed.tasks.map((t) => t.task_id));
  // Started here moments ago and not listed yet (another node's list may lag): kept until it is.
  const mine = state.tasks.filter((t) => t.local && !known.has(t.task_id));
  state.tasks = [...mine, ...listed.tasks];
  state.tasksMore = listed.more;
  renderTasks();
  for (const t of state.tasks) renderRestore(t);
}

async function startTask(body) {
  const started = await api('/api/v1/cache/refresh/', { method: 'POST', body });
  const task = { task_id: started.task_id, task_state: started.task_state, action: body.action, resource_title: body.resource_title ?? '', local: true };
  state.tasks = [task, ...state.tasks.filter((t) => t.task_id !== task.task_id)];
  renderTasks();
  followTasks();
  return task;
}

/**
 * One list request a second while a task is unfinished or the tasks view is open (tasks others
 * start show up); none otherwise.
 */
function followTasks() {
  if (state.tasksTimer !== null || !state.token) return;
  const tick = async () => {
    await loadTasks().catch(() => undefined);
    const watching = state.tasks.some((t) => !FINAL.has(t.task_state)) || !$('tasks-view').hidden;
    state.tasksTimer = watching && state.token ? setTimeout(tick, 1000) : null;
  };
  state.tasksTimer = setTimeout(tick, 300);
}

function taskResult(t) {
  if (t.task_state === 'FAILURE') return t.reason ?? 'failed';
  if (!t.result) return '';
  const r = t.result;
  switch (t.action) {
    case 'restore':
      return `restored to v${r.restoredTo}, ${r.appended} event(s), now v${r.seq}`;
    case 'export':
      return `${formatCount(r.events)} events · ${formatBytes(r.bytes)}`;
    case 'compact':
      return `dropped ${formatCount(r.dropped)}, kept ${formatCount(r.kept)}`;
    case 'snapshot':
      return `snapshot at v${r.snapshotSeq ?? r.seq}`;
    case 'backup':
      return `${formatCount(r.entries)} entries · ${formatBytes(r.bytes)}`;
    default:
      return JSON.stringify(r);
  }
}

function renderTasks() {
  const tasks = state.tasks;
  $('tasks').replaceChildren(
    ...tasks.map((t) =>
      el(
        'tr',
        { dataset: { taskId: t.task_id, state: t.task_state, action: t.action } },
        el('td', {}, el('span', { class: 'task-action' }, t.action), el('span', { class: 'mono muted' }, ` ${t.task_id.slice(0, 8)}`)),
        el('td', { class: 'wrap-anywhere' }, t.resource_title || (t.action === 'backup' ? '(all)' : '')),
        el('td', {}, el('span', { class: `state state-${t.task_state}`, dataset: { testid: 'task-state' } }, t.task_state)),
        el('td', { class: 'wrap-anywhere' }, taskResult(t)),
        el(
          'td',
          {},
          (t.action === 'export' || t.action === 'backup') && t.task_state === 'SUCCESS'
            ? el('button', { type: 'button', class: 'small ghost', dataset: { testid: 'task-download' }, onclick: () => downloadExport(t).catch(failed) }, 'Download')
            : null,
        ),
      ),
    ),
  );
  if (tasks.length === 0) $('tasks').append(el('tr', {}, el('td', { colspan: '5', class: 'muted' }, 'No task of your org in the retention window.')));
  if (state.tasksMore) $('tasks').append(el('tr', {}, el('td', { colspan: '5', class: 'muted' }, `The newest ${TASKS_LISTED} are shown.`)));
}

function renderTaskCaches() {
  const select = $('task-cache');
  const current = select.value;
  select.replaceChildren(...state.caches.map((c) => el('option', { value: c.resource_title }, c.resource_title)));
  if (current) select.value = current;
}

/** An export's NDJSON or a backup's file, fetched with the token and saved by the browser. */
async function downloadExport(t) {
  const route = t.action === 'backup' ? 'backup' : 'export';
  const response = await fetch(`/api/v1/cache/${route}/?task_id=${encodeURIComponent(t.task_id)}`, { headers: { authorization: `Bearer ${state.token}` } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new ApiFailure(response.status, body.code ?? `HTTP_${response.status}`, body.message ?? 'the export could not be downloaded');
  }
  saveFile(route === 'backup' ? `cachelog-${t.task_id}.backup` : `export-${t.task_id}.ndjson`, await response.blob());
}

// ---------- org metrics ----------

const FIGURE_NAMES = { reads: 'reads', hits: 'hits', misses: 'misses', sets: 'sets', deletes: 'deletes', expiries: 'expiries', evictions: 'evictions', otherEvents: 'other events' };

async function loadMetrics() {
  let report;
  try {
    report = await api('/orgMetrics');
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 404) {
      $('metrics').replaceChildren(el('p', { class: 'muted' }, 'This server has no org metrics route (GET /orgMetrics).'));
      return;
    }
    failed(error);
    return;
  }
  if (state.view_ !== 'metrics') return;
  renderMetrics(report ?? {});
}

function figure(label, value, testid, hint) {
  return el('div', { class: 'figure', dataset: { testid: `figure-${testid}` } }, el('div', { class: 'figure-value' }, value), el('div', { class: 'figure-label' }, label), hint ? el('div', { class: 'figure-hint' }, hint) : null);
}

const rate = (n) => (typeof n === 'number' ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '—');
const percent = (r) => (typeof r === 'number' ? `${(r * 100).toFixed(1)} %` : '—');
const ms = (v) => (typeof v === 'number' ? `${v < 10 ? v.toFixed(2) : v.toFixed(0)} ms` : '—');

function renderMetrics(r) {
  const figures = [];
  const per = r.perSecond ?? {};
  const totals = r.totals ?? {};
  for (const [name, label] of Object.entries(FIGURE_NAMES)) {
    if (name in per || name in totals) figures.push(figure(`${label} / s`, rate(per[name]), name, `${formatCount(totals[name])} in all`));
  }
  if (r.hitRatio) figures.push(figure('hit ratio', percent(r.hitRatio.window), 'hit-ratio', `${percent(r.hitRatio.total)} since start`));
  const commits = r.journalCommits?.window;
  if (commits) figures.push(figure('journal commit p99', ms(commits.p99Ms), 'commit', `mean ${ms(commits.meanMs)} · p50 ${ms(commits.p50Ms)} · ${formatCount(commits.count)} commits`));
  // Byte and count figures the server may add (memory, value bytes, keys, caches): shown as they come.
  for (const [name, value] of Object.entries(r)) {
    if (typeof value !== 'number' || name === 'windowSeconds') continue;
    figures.push(figure(name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(), /bytes/i.test(name) ? formatBytes(value) : formatCount(value), name));
  }
  for (const [name, value] of Object.entries(r.bytes ?? r.memory ?? {})) {
    if (typeof value === 'number') figures.push(figure(name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase(), formatBytes(value), `bytes-${name}`));
  }
  $('metrics').replaceChildren(...figures);
  $('metrics-window').textContent = r.windowSeconds ? `rates over the last ${Math.round(r.windowSeconds)} s, refreshed every 2 s` : '';
}

// ---------- live tail (SSE over fetch: EventSource cannot send an Authorization header) ----------

function stopLive() {
  state.live?.abort();
  state.live = null;
  setLive('off');
}

function setLive(mode) {
  const dot = $('live-state');
  const label = { on: 'following live events', off: 'not connected', retry: 'reconnecting' }[mode];
  dot.className = `dot ${mode}`;
  dot.dataset.state = mode;
  dot.title = label;
  dot.setAttribute('aria-label', label);
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

let refreshInfoTimer;
/**
 * A committed event: into the live list and the timeline, and into the key table by itself
 * (a Set adds or updates its key when it matches the search, a delete removes it): no key
 * listing is asked again, only the cache's counts (one small request per burst).
 */
function onLiveEvent(event) {
  const live = $('live');
  live.prepend(el('li', { class: `type-${event.type}`, dataset: { seq: String(event.seq) } }, ...eventParts(event, new Date(event.time).toLocaleTimeString())));
  while (live.children.length > LIVE_SHOWN) live.lastChild.remove();
  state.highestSeq = Math.max(state.highestSeq, event.seq);
  state.events.set(event.seq, event);
  const timeline = $('timeline');
  timeline.prepend(eventItem(event));
  // The page keeps at most TIMELINE_KEPT events; the older ones are a click ("Older events") away.
  while (timeline.children.length > TIMELINE_KEPT) {
    state.events.delete(Number(timeline.lastChild.dataset.seq));
    timeline.lastChild.remove();
    state.oldestLoaded = Number(timeline.lastChild.dataset.seq);
    $('older').hidden = false;
  }
  const row = state.caches.find((c) => c.resource_title === state.cache);
  if (row) Object.assign(row, { version: event.seq, user: event.by, device: event.device, sync_datetime: event.time });
  if (state.at === null) applyToKeys(event);
  renderMeta();
  clearTimeout(refreshInfoTimer);
  refreshInfoTimer = setTimeout(async () => {
    await loadInfo();
    renderCaches();
    if (state.at === null && event.key !== undefined && event.key === state.selectedKey && $('edit-form').hidden) await showValue().catch(() => undefined);
  }, 150);
}

function applyToKeys(event) {
  const matches = (key) => !state.match || globRegExp(state.match).test(key);
  if (event.type === 'Set' && matches(event.key)) {
    const bytes = event.value !== undefined ? base64ToBytes(event.value) : undefined;
    state.keys.set(event.key, {
      expiresAt: event.expiresAt ?? null,
      size: bytes?.length,
      type: bytes ? sniffType(bytes.subarray(0, TYPE_SNIFF_BYTES), bytes.length) : undefined,
    });
  } else if (event.type === 'ExpiryChanged' && state.keys.has(event.key)) state.keys.get(event.key).expiresAt = event.expiresAt ?? null;
  else if (['Deleted', 'Expired', 'Evicted'].includes(event.type)) state.keys.delete(event.key);
  else if (event.type === 'Flushed' || event.type === 'CacheDeleted') state.keys.clear();
  else return;
  // A burst of events (a batch of 10,000 writes) renders the table once per frame, not once per event.
  if (!renderKeysQueued) {
    renderKeysQueued = true;
    requestAnimationFrame(() => {
      renderKeysQueued = false;
      renderKeys();
    });
  }
}
let renderKeysQueued = false;

// ---------- wiring ----------

function on(id, type, handler) {
  $(id).addEventListener(type, handler);
}

function onSubmit(id, handler) {
  on(id, 'submit', (e) => {
    e.preventDefault();
    Promise.resolve()
      .then(handler)
      .catch(failed);
  });
}

document.addEventListener('DOMContentLoaded', () => {
  fetch('/', { headers: { accept: 'application/json' } })
    .then((r) => r.json())
    .then((info) => ($('version').textContent = info.version ? `v${info.version}` : ''))
    .catch(() => undefined);
  on('token-form', 'submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    if (token) void connect(token);
  });
  on('sign-out', 'click', signOut);
  on('refresh-caches', 'click', () => state.token && loadCaches().catch(failed));
  on('nav-metrics', 'click', () => state.token && showView('metrics'));
  on('nav-tasks', 'click', () => state.token && showView('tasks'));
  onSubmit('new-cache-form', async () => {
    const name = $('new-cache-name').value.trim();
    if (!name || !state.token) return;
    await createCache(name);
    $('new-cache-name').value = '';
  });
  onSubmit('search-form', () => search($('key-search').value));
  on('more-keys', 'click', () => scanKeys(false).catch(failed));
  on('older', 'click', () => loadOlder().catch(failed));
  on('timeline', 'click', (e) => {
    const item = e.target.closest('li[data-seq]');
    const event = item && state.events.get(Number(item.dataset.seq));
    if (event) showPast(event).catch(failed);
  });
  on('back-to-now', 'click', () => backToNow().catch(failed));
  on('restore-here', 'click', () => restoreHere().catch(failed));
  onSubmit('asof-form', () => showAsOf($('as-of').value));
  on('settings-toggle', 'click', () => ($('settings-form').hidden ? openSettingsForm() : closeSettingsForm()));
  on('settings-cancel', 'click', closeSettingsForm);
  onSubmit('settings-form', saveSettings);
  on('flush-cache', 'click', () => flushCache().catch(failed));
  on('delete-cache', 'click', () => deleteCache().catch(failed));
  for (const b of document.querySelectorAll('#value-tools [data-view]')) {
    b.addEventListener('click', () => {
      state.view = b.dataset.view;
      renderValue();
    });
  }
  on('value-download', 'click', downloadValue);
  on('value-edit', 'click', () => {
    $('edit-value').value = state.value?.text ?? '';
    $('edit-form').hidden = false;
    $('edit-value').focus();
  });
  on('edit-cancel', 'click', () => ($('edit-form').hidden = true));
  // Escape closes an open form and gives the focus back to what opened it.
  on('settings-form', 'keydown', (e) => {
    if (e.key !== 'Escape') return;
    closeSettingsForm();
    $('settings-toggle').focus();
  });
  on('edit-form', 'keydown', (e) => {
    if (e.key !== 'Escape') return;
    $('edit-form').hidden = true;
    $('value-edit').focus();
  });
  onSubmit('edit-form', saveEdit);
  on('value-upload', 'change', (e) => {
    const file = e.target.files?.[0];
    if (file && state.value) uploadValue(state.value.key, file).then(() => showValue(), failed).finally(() => (e.target.value = ''));
  });
  onSubmit('ttl-form', () => {
    const text = $('ttl-seconds').value.trim();
    if (!/^\d+$/.test(text) || Number(text) === 0) throw new ApiFailure(0, 'INVALID_INPUT', 'TTL: a whole number of seconds ≥ 1 (or Persist)');
    return setTtl(Number(text));
  });
  on('ttl-persist', 'click', () => setTtl(0).catch(failed));
  onSubmit('diff-form', showDiff);
  on('task-action', 'change', () => {
    $('task-at-label').hidden = $('task-action').value !== 'restore';
    // A backup is of every cache of the org: it takes no cache.
    $('task-cache-label').hidden = $('task-action').value === 'backup';
  });
  onSubmit('task-form', () => {
    const action = $('task-action').value;
    const body = action === 'backup' ? { action } : { resource_title: $('task-cache').value, action };
    if (body.action === 'restore') {
      const at = $('task-at').value.trim();
      if (!/^\d+$/.test(at)) throw new ApiFailure(0, 'INVALID_INPUT', 'restore: the version to restore to');
      body.at = Number(at);
    }
    return startTask(body);
  });
  on('set-file', 'change', (e) => {
    const file = e.target.files?.[0];
    const key = $('set-key').value;
    if (!file) return;
    if (!key) {
      e.target.value = '';
      return notice('Type the key first, then pick the file');
    }
    uploadValue(key, file).then(() => {
      $('set-key').value = '';
      e.target.value = '';
    }, failed);
  });
  onSubmit('set-form', async () => {
    const key = $('set-key').value;
    const ttl = $('set-ttl').value.trim();
    if (ttl !== '' && !/^\d+$/.test(ttl)) return notice('TTL must be a whole number of seconds');
    await setKey(key, $('set-value').value, ttl);
    $('set-key').value = '';
    $('set-value').value = '';
    $('set-ttl').value = '';
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) void connect(saved);
});
