import { ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { decodeEntityId, readUint64BE } from '../src/journal/keys';
import { LevelDbBackend } from '../src/journal/leveldb/leveldb-backend';

/**
 * The crash harness: concurrent writers over many caches record every acknowledged write;
 * the service (dist/main.js, a child process) is killed with SIGKILL at random moments and
 * restarted on the same data; after each restart every acknowledged write is checked
 * against a model, and at the end per-cache sequences and projections are checked offline.
 *
 * Each cache is owned by one writer, so the model knows the order of its writes exactly;
 * a request that was in flight at the kill may or may not have been applied: the state
 * found must equal the model after some prefix of those in-flight operations.
 */
export interface CrashOptions {
  readonly cycles: number;
  readonly dataDir: string;
  readonly writers?: number;
  readonly cachesPerWriter?: number;
  readonly keysPerCache?: number;
  /** Random run time before each kill, in ms. */
  readonly minRunMs?: number;
  readonly maxRunMs?: number;
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

export interface CrashReport {
  readonly cycles: number;
  readonly acknowledged: number;
  readonly inFlightAtKill: number;
  readonly inFlightApplied: number;
  readonly keysChecked: number;
  readonly events: number;
  readonly caches: number;
  readonly failures: string[];
}

const SECRET = 'crash-harness-secret-crash-harness-secret';
const ORGS = ['org-a', 'org-b'];
/** The production build, found from scripts/ (jest) or dist-tools/scripts/ (npm run crash-test). */
const ROOT = existsSync(join(__dirname, '..', 'package.json')) ? join(__dirname, '..') : join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');

function token(org: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ org, name: 'crash', serviceLevel: 'free' })}`;
  return `${head}.${createHmac('sha256', SECRET).update(head).digest('base64url')}`;
}

/** A small deterministic PRNG (mulberry32), so a failing run can be repeated with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ------------------------------------------------------------------ the model

interface ModelEntry {
  readonly value: string; // hex
  /** Bounds of the absolute expiry the server chose (Infinity: none). */
  readonly expLo: number;
  readonly expHi: number;
}

interface CacheModel {
  status: 'absent' | 'live' | 'deleted';
  entries: Map<string, ModelEntry>;
}

type Op =
  | { kind: 'set'; key: string; value: string; ttl: number; sentAt: number }
  | { kind: 'delete'; key: string }
  | { kind: 'flush' }
  | { kind: 'create' }
  | { kind: 'deleteCache' };

const cloneModel = (m: CacheModel): CacheModel => ({ status: m.status, entries: new Map(m.entries) });

/** Applies an op as the server would have, `ackAt` bounding when it was decided. */
function applyOp(model: CacheModel, op: Op, ackAt: number): void {
  switch (op.kind) {
    case 'set':
      model.status = 'live';
      model.entries.set(op.key, {
        value: op.value,
        expLo: op.ttl === 0 ? Infinity : op.sentAt + op.ttl * 1000,
        expHi: op.ttl === 0 ? Infinity : ackAt + op.ttl * 1000,
      });
      return;
    case 'delete':
      model.entries.delete(op.key);
      return;
    case 'flush':
      if (model.status === 'live') model.entries.clear();
      return;
    case 'create':
      if (model.status !== 'live') model.entries.clear();
      model.status = 'live';
      return;
    case 'deleteCache':
      if (model.status === 'live') {
        model.status = 'deleted';
        model.entries.clear();
      }
      return;
  }
}

interface CacheRef {
  readonly org: string;
  readonly name: string;
  readonly token: string;
  model: CacheModel;
  /** Ops sent but not answered when the service died, in order. */
  inFlight: Op[];
}

// ------------------------------------------------------------------ processes

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode} during start`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the service did not start in time');
}

async function startService(dataDir: string): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const port = await freePort();
  let stderr = '';
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: SECRET, SNAPSHOT_EVERY: process.env.CRASH_SNAPSHOT_EVERY ?? '40', JOURNAL_SYNC: 'always' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-20_000)));
  try {
    await waitForPort(port, child);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  return { child, url: `http://127.0.0.1:${port}`, stderr: () => stderr };
}

function waitExit(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

// ------------------------------------------------------------------ HTTP

interface Answer {
  readonly status: number;
  readonly body: Buffer;
}

async function call(url: string, tokenValue: string, method: string, path: string, body?: Buffer | object): Promise<Answer> {
  const headers: Record<string, string> = { authorization: `Bearer ${tokenValue}` };
  let payload: Buffer | string | undefined;
  if (Buffer.isBuffer(body)) {
    headers['content-type'] = 'application/octet-stream';
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(`${url}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
}

const enc = encodeURIComponent;

// ------------------------------------------------------------------ the harness

export async function runCrashHarness(options: CrashOptions): Promise<CrashReport> {
  const writers = options.writers ?? 12;
  const perWriter = options.cachesPerWriter ?? 2;
  const keysPerCache = options.keysPerCache ?? 16;
  const minRun = options.minRunMs ?? 150;
  const maxRun = options.maxRunMs ?? 1500;
  const random = prng(options.seed ?? Date.now());
  const log = options.log ?? (() => undefined);
  const failures: string[] = [];
  const keys = Array.from({ length: keysPerCache }, (_, i) => (i % 5 === 4 ? `k/${i} ü` : `k${i}`));
  const caches: CacheRef[] = [];
  for (let w = 0; w < writers * perWriter; w++) {
    const org = ORGS[w % ORGS.length];
    caches.push({ org, name: `cache-${w}`, token: token(org), model: { status: 'absent', entries: new Map() }, inFlight: [] });
  }
  const owned = (w: number) => caches.filter((_, i) => i % writers === w);
  let acknowledged = 0;
  let inFlightAtKill = 0;
  let inFlightApplied = 0;
  let keysChecked = 0;
  let opCounter = 0;

  const fail = (message: string) => {
    failures.push(message);
    log(`FAIL ${message}`);
  };

  /** One writer: random ops on its own caches until the service dies. */
  async function writer(url: string, mine: CacheRef[], alive: () => boolean): Promise<void> {
    while (alive()) {
      const cache = mine[Math.floor(random() * mine.length)];
      const r = random();
      const key = keys[Math.floor(random() * keys.length)];
      const value = randomBytes(4 + Math.floor(random() * 60));
      value.writeUInt32BE(++opCounter % 0xffffffff, 0);
      const ttl = random() < 0.2 ? 1 + Math.floor(random() * 3) : 0;
      const base = `/${enc(cache.name)}`;
      let ops: Array<{ cache: CacheRef; op: Op }>;
      let isBatch = false;
      let request: () => Promise<Answer>;
      const sentAt = Date.now();
      if (r < 0.4) {
        ops = [{ cache, op: { kind: 'set', key, value: value.toString('hex'), ttl, sentAt } }];
        request = () => call(url, cache.token, 'POST', `${base}/${enc(key)}${ttl ? `/${ttl}` : ''}`, value);
      } else if (r < 0.55) {
        ops = [{ cache, op: { kind: 'set', key, value: value.toString('hex'), ttl, sentAt } }];
        request = () => call(url, cache.token, 'POST', '/set', { cacheName: cache.name, key, value: value.toString('base64'), ...(ttl ? { ttlSeconds: ttl } : {}) });
      } else if (r < 0.7) {
        const n = 1 + Math.floor(random() * 5);
        const sameOrg = mine.filter((m) => m.org === cache.org);
        const elements = Array.from({ length: n }, () => {
          const c = sameOrg[Math.floor(random() * sameOrg.length)];
          const v = randomBytes(8);
          v.writeUInt32BE(++opCounter % 0xffffffff, 0);
          return { cache: c, key: keys[Math.floor(random() * keys.length)], value: v };
        });
        ops = elements.map((e) => ({ cache: e.cache, op: { kind: 'set', key: e.key, value: e.value.toString('hex'), ttl: 0, sentAt } as Op }));
        isBatch = true;
        request = () =>
          call(url, cache.token, 'POST', '/batch', { cacheRequests: elements.map((e) => ({ cacheName: e.cache.name, key: e.key, value: e.value.toString('base64') })) });
      } else if (r < 0.85) {
        ops = [{ cache, op: { kind: 'delete', key } }];
        request = () => call(url, cache.token, 'DELETE', `${base}/${enc(key)}`);
      } else if (r < 0.92) {
        ops = [{ cache, op: { kind: 'create' } }];
        request = () => call(url, cache.token, 'POST', '/cacheName', { cacheName: cache.name, description: `d${opCounter}` });
      } else if (r < 0.97) {
        ops = [{ cache, op: { kind: 'flush' } }];
        request = () => call(url, cache.token, 'PUT', `/cacheName/${enc(cache.name)}/flush`);
      } else {
        ops = [{ cache, op: { kind: 'deleteCache' } }];
        request = () => call(url, cache.token, 'DELETE', `/cacheName/${enc(cache.name)}`);
      }
      let answer: Answer;
      try {
        answer = await request();
      } catch {
        // No answer: the service died with this request in flight.
        for (const { cache: c, op } of ops) c.inFlight.push(op);
        inFlightAtKill += 1;
        return;
      }
      const ackAt = Date.now();
      if (process.env.CRASH_TRACE) log(`trace ${cache.name} ${ops.map((o) => `${o.cache.name}:${o.op.kind}:${'key' in o.op ? o.op.key : ''}:${'value' in o.op ? o.op.value.slice(0, 8) : ''}`).join(',')} -> ${answer.status} ${answer.body.toString().slice(0, 60)}`);
      if (answer.status >= 500) {
        fail(`${ops[0].op.kind} on ${cache.name} answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
        continue;
      }
      if (isBatch) {
        const results = (JSON.parse(answer.body.toString()) as { results: Array<{ success: boolean }> }).results;
        ops.forEach(({ cache: c, op }, i) => {
          if (results[i]?.success) {
            applyOp(c.model, op, ackAt);
            acknowledged++;
          } else fail(`batch element ${i} on ${c.name} was refused`);
        });
        continue;
      }
      const { op } = ops[0];
      const accepted = answer.status === 201 || answer.status === 202 || answer.status === 200;
      if (accepted) {
        applyOp(cache.model, op, ackAt);
        acknowledged++;
      } else if (answer.status === 400 && (op.kind === 'delete' || op.kind === 'flush' || op.kind === 'deleteCache')) {
        // KEY_NOT_FOUND / CACHE_NOT_FOUND: a refusal that changes nothing; check the model agrees.
        const code = (JSON.parse(answer.body.toString()) as { code: string }).code;
        if (op.kind === 'delete' && code === 'KEY_NOT_FOUND') {
          const entry = cache.model.status === 'live' ? cache.model.entries.get(op.key) : undefined;
          if (entry && ackAt < entry.expLo) fail(`delete of a live key ${cache.name}/${op.key} answered KEY_NOT_FOUND (model: ${JSON.stringify(entry)}, ack ${ackAt})`);
          cache.model.entries.delete(op.key);
        } else if (code === 'CACHE_NOT_FOUND' && cache.model.status === 'live') {
          fail(`${op.kind} on live cache ${cache.name} answered CACHE_NOT_FOUND`);
        }
      } else {
        fail(`${op.kind} on ${cache.name} answered ${answer.status}: ${answer.body.toString().slice(0, 200)}`);
      }
    }
  }

  /** Reads one cache's whole state from the service. */
  async function observe(url: string, cache: CacheRef) {
    const t0 = Date.now();
    const meta = await call(url, cache.token, 'GET', `/cacheName/${enc(cache.name)}`);
    const status: CacheModel['status'] = meta.status === 400 ? 'absent' : (JSON.parse(meta.body.toString()) as { deleted: boolean }).deleted ? 'deleted' : 'live';
    const values = new Map<string, string | undefined>();
    for (const key of keys) {
      const got = await call(url, cache.token, 'GET', `/${enc(cache.name)}/${enc(key)}`);
      if (got.status !== 200 && got.status !== 404) throw new Error(`GET ${cache.name}/${key} answered ${got.status}`);
      values.set(key, got.status === 200 ? got.body.toString('hex') : undefined);
    }
    const t1 = Date.now();
    return { status, values, t0, t1 };
  }

  const matches = (model: CacheModel, seen: Awaited<ReturnType<typeof observe>>): string | undefined => {
    if (model.status !== seen.status) return `status ${seen.status}, expected ${model.status}`;
    for (const key of keys) {
      const entry = model.status === 'live' ? model.entries.get(key) : undefined;
      const actual = seen.values.get(key);
      if (entry === undefined) {
        if (actual !== undefined) return `${key} present, expected absent`;
      } else if (actual === undefined) {
        if (seen.t1 < entry.expLo) return `${key} missing (acknowledged, not expired)`;
      } else if (actual !== entry.value) {
        return `${key} has another value (${actual.slice(0, 16)}, expected ${entry.value.slice(0, 16)})`;
      } else if (seen.t0 >= entry.expHi) {
        return `${key} served after its expiry`;
      }
    }
    return undefined;
  };

  async function verify(url: string): Promise<void> {
    for (const cache of caches) {
      const seen = await observe(url, cache);
      keysChecked += keys.length;
      // The state must be the model after some prefix of the in-flight ops.
      const candidates: CacheModel[] = [cloneModel(cache.model)];
      for (const op of cache.inFlight) {
        const next = cloneModel(candidates[candidates.length - 1]);
        applyOp(next, op, seen.t0);
        candidates.push(next);
      }
      const reasons: string[] = [];
      let chosen = -1;
      for (let i = candidates.length - 1; i >= 0 && chosen < 0; i--) {
        const reason = matches(candidates[i], seen);
        if (reason === undefined) chosen = i;
        else reasons.push(`after ${i} in-flight op(s): ${reason}`);
      }
      if (chosen < 0) {
        fail(`${cache.org}/${cache.name}: no acceptable state (${reasons.join('; ')})`);
        continue;
      }
      if (chosen > 0) inFlightApplied += 1;
      cache.model = candidates[chosen];
      cache.inFlight = [];
      // The key-listing projection: every key surely live is listed, nothing surely gone is.
      if (cache.model.status === 'live') {
        const listed = await call(url, cache.token, 'GET', `/cacheName/${enc(cache.name)}/keys`);
        const names = new Set((JSON.parse(listed.body.toString()) as { keys: string[] }).keys);
        const now = Date.now();
        for (const key of keys) {
          const entry = cache.model.entries.get(key);
          if (entry && now < entry.expLo - 50 && !names.has(key)) fail(`${cache.name}: key listing misses ${key}`);
          if (!entry && names.has(key)) fail(`${cache.name}: key listing shows deleted ${key}`);
        }
      }
    }
    for (const org of ORGS) {
      const list = await call(url, token(org), 'GET', '/cacheName/list');
      const names = new Set((JSON.parse(list.body.toString()) as Array<{ cacheName: string }>).map((c) => c.cacheName));
      const expected = caches.filter((c) => c.org === org && c.model.status === 'live').map((c) => c.name);
      for (const name of expected) if (!names.has(name)) fail(`${org}: cache list misses ${name}`);
      for (const name of names) if (!expected.includes(name)) fail(`${org}: cache list shows ${name}, which is not live`);
    }
  }

  for (let cycle = 1; cycle <= options.cycles; cycle++) {
    const service = await startService(options.dataDir);
    try {
      if (cycle > 1) await verify(service.url);
      let alive = true;
      const runFor = minRun + Math.floor(random() * (maxRun - minRun));
      const running = Array.from({ length: writers }, (_, w) => writer(service.url, owned(w), () => alive));
      await new Promise((r) => setTimeout(r, runFor));
      service.child.kill('SIGKILL');
      alive = false;
      await waitExit(service.child);
      await Promise.all(running);
      log(`cycle ${cycle}/${options.cycles}: killed after ${runFor} ms; ${acknowledged} acknowledged so far, ${caches.reduce((n, c) => n + c.inFlight.length, 0)} op(s) in flight`);
    } catch (error) {
      service.child.kill('SIGKILL');
      await waitExit(service.child);
      fail(`cycle ${cycle}: ${(error as Error).message}\n${service.stderr().slice(-2000)}`);
      break;
    }
  }

  // Last restart: check, then a clean stop and the offline checks.
  const last = await startService(options.dataDir);
  try {
    await verify(last.url);
  } finally {
    last.child.kill('SIGTERM');
    await waitExit(last.child);
  }
  // A clean stop exits 0 (dist/main.js); older builds re-raised SIGTERM after closing, accepted too.
  if (last.child.exitCode !== 0 && last.child.signalCode !== 'SIGTERM') fail(`clean shutdown exited with ${last.child.exitCode ?? last.child.signalCode}`);
  const offline = await offlineChecks(options.dataDir);
  failures.push(...offline.failures);
  for (const f of offline.failures) log(`FAIL ${f}`);
  return { cycles: options.cycles, acknowledged, inFlightAtKill, inFlightApplied, keysChecked, events: offline.events, caches: offline.caches, failures };
}

/** Per-cache sequences without gaps, a global index matching the journal, projections equal to a rebuild. */
export async function offlineChecks(dataDir: string): Promise<{ events: number; caches: number; failures: string[] }> {
  const failures: string[] = [];
  const backend = new LevelDbBackend(dataDir);
  await backend.open();
  const { storage, journal } = backend;
  try {
    let events = 0;
    const highest = new Map<string, number>();
    for await (const key of storage.journal.keys()) {
      const { ref, length } = decodeEntityId(key);
      const id = JSON.stringify(ref);
      const seq = readUint64BE(key, length);
      const previous = highest.get(id) ?? 0;
      if (seq !== previous + 1) failures.push(`${id}: sequence jumps from ${previous} to ${seq}`);
      highest.set(id, seq);
      events++;
    }
    let globals = 0;
    let expectedOffset = 1;
    for await (const [key, value] of storage.global.iterator()) {
      const offset = readUint64BE(key, 0);
      if (offset !== expectedOffset) failures.push(`global offsets jump from ${expectedOffset - 1} to ${offset}`);
      expectedOffset = offset + 1;
      if ((await storage.journal.get(value)) === undefined) failures.push(`global offset ${offset} points at a missing record`);
      globals++;
    }
    if (globals !== events) failures.push(`${globals} global index entries for ${events} journal records`);
    await backend.repair.verifyTail(Number.MAX_SAFE_INTEGER).catch((error: Error) => failures.push(error.message));
    let offsetRows = 0;
    for await (const [key, value] of storage.eventOffsets.iterator()) {
      const global = await storage.global.get(value);
      if (global === undefined || !global.equals(key)) failures.push(`the offset row of ${key.toString('hex')} names offset ${readUint64BE(value, 0)}, which is not its event`);
      offsetRows++;
    }
    if (offsetRows !== events) failures.push(`${offsetRows} event-offset rows for ${events} journal records`);

    // The inline read models (key listing, names, org bytes, expiry index) equal a rebuild from the log.
    const maintained = await backend.inline.dump();
    await backend.inline.rebuild();
    if ((await backend.inline.dump()).join('\n') !== maintained.join('\n')) failures.push('inline read models: the maintained rows differ from a rebuild');
    return { events, caches: highest.size, failures };
  } finally {
    await backend.close();
  }
}
