import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../support/cli';
import { ndjsonExport } from '../support/ndjson';
import { finished, submitTask } from '../support/tasks';
import { tempDir } from '../support/temp-dir';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/**
 * `cachelog import` is held to the API's rules, and a partial export can never pass as whole.
 * Before: an import took settings the API never allows (a TTL of 10^15 s, after which one
 * event stream and one write ended the process at every start), times no date can hold (500s
 * later), and an export file cut short by `kill -9` imported as if complete.
 */
describe('import holds every value to the API rules', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  afterAll(() => dirs.forEach((d) => d.cleanup()));

  const meta = { org: 'o', cacheName: 'c', at: 1_700_000_000_000, by: 'x', device: null };
  const created = { ...meta, seq: 1, type: 'Created', description: '' };
  const importOf = async (second: Record<string, unknown>) => {
    const file = join(dir(), 'in.ndjson');
    writeFileSync(file, ndjsonExport([created, { ...meta, seq: 2, ...second }]));
    const target = dir();
    const result = await cli(['import', '--data-dir', target, '--in', file], { MAX_VALUE_BYTES: '1000' });
    return { ...result, target };
  };

  it.each([
    ['a TTL beyond 100 years', { type: 'SettingsChanged', capacity: 0, ttlSeconds: 1e15, maxValueBytes: 0, cacheNullValue: true }, /line 2: settings\.ttl: must be at most 100 years/],
    ['a capacity beyond the API maximum', { type: 'SettingsChanged', capacity: 1e12, ttlSeconds: 0, maxValueBytes: 0, cacheNullValue: true }, /line 2: settings\.capacity: must be at most 100000000/],
    ['a maxValueBytes beyond MAX_VALUE_BYTES', { type: 'SettingsChanged', capacity: 0, ttlSeconds: 0, maxValueBytes: 5000, cacheNullValue: true }, /line 2: maxValueBytes: must be at most 1000/],
    ['a time no date can hold', { type: 'Set', key: 'k', value: b64('v'), expiresAt: 0, at: 9e15 }, /line 2: at: must be at most 8640000000000000/],
    ['an expiry no date can hold', { type: 'Set', key: 'k', value: b64('v'), expiresAt: 9e15 }, /line 2: expiresAt: must be at most/],
    ['an expiry change no date can hold', { type: 'ExpiryChanged', key: 'k', expiresAt: 1e16 }, /line 2: expiresAt/],
    ['a value beyond MAX_VALUE_BYTES', { type: 'Set', key: 'k', value: b64('x'.repeat(1001)), expiresAt: 0 }, /line 2: value: 1001 bytes, more than the service's MAX_VALUE_BYTES \(1000\)/],
    ['a key of 1025 characters', { type: 'Set', key: 'k'.repeat(1025), value: b64('v'), expiresAt: 0 }, /line 2: key: must be at most 1024 characters/],
    ['a cache name of 256 characters', { type: 'Flushed', cacheName: 'c'.repeat(256) }, /line 2: cacheName: must be at most 255 characters/],
    ['a lone surrogate in a key', { type: 'Deleted', key: '\ud800' }, /line 2: key: must be well-formed Unicode/],
    ['a description of 4097 characters', { type: 'DescriptionChanged', description: 'd'.repeat(4097) }, /line 2: description: must be at most 4096 characters/],
    ['an org the token could not carry', { type: 'Flushed', org: 'o'.repeat(1025) }, /line 2: org: must be at most 1024 characters/],
  ])('refuses %s with a clear error, importing nothing', async (_name, second, message) => {
    const result = await importOf(second);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('nothing imported');
    expect(readdirSync(result.target)).toStrictEqual([]);
  });

  it('takes what the API could have written (limits included)', async () => {
    const result = await importOf({ type: 'SettingsChanged', capacity: 100_000_000, ttlSeconds: 3_153_600_000, maxValueBytes: 1000, cacheNullValue: false });
    expect(result).toMatchObject({ code: 0, stderr: expect.stringContaining('imported 2 events') });
  });
});

describe('an export cut short cannot be imported as complete', () => {
  const dirs: Array<ReturnType<typeof tempDir>> = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  let app: TestApp | undefined;
  afterAll(async () => {
    await app?.dispose();
    dirs.forEach((d) => d.cleanup());
  });
  const token = tokenFor({ org: 'acme', name: 'n' });

  it('cachelog export ends with a trailer; a file without it, or not matching it, is refused', async () => {
    const source = dir();
    app = await startTestApp({ dataDir: source });
    for (let i = 0; i < 20; i++) expect((await http(`${app.url}/c/k${i}`, { method: 'POST', token, body: Buffer.from(`v${i}`) })).status).toBe(201);
    await app.close();
    app = undefined;
    const file = join(dir(), 'all.ndjson');
    expect((await cli(['export', '--data-dir', source, '--out', file])).code).toBe(0);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ type: 'ExportComplete', events: 21, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await cli(['import', '--data-dir', dir(), '--in', file])).code).toBe(0);

    // Cut short as kill -9 leaves it: the first lines only, or a line cut in two.
    const cut = join(dir(), 'cut.ndjson');
    writeFileSync(cut, lines.slice(0, 10).join('\n') + '\n');
    const refused = await cli(['import', '--data-dir', dir(), '--in', cut]);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/no ExportComplete line at the end: the export is incomplete/) });
    writeFileSync(cut, lines.slice(0, 10).join('\n') + '\n' + lines[10].slice(0, 20));
    expect((await cli(['import', '--data-dir', dir(), '--in', cut])).code).toBe(1);
    // A trailer that does not describe the lines before it (an event removed; a value changed).
    writeFileSync(cut, [...lines.slice(0, -2), lines[lines.length - 1]].join('\n') + '\n');
    expect((await cli(['import', '--data-dir', dir(), '--in', cut])).stderr).toMatch(/the trailer counts 21 events, the file holds 20/);
    writeFileSync(cut, lines.join('\n').replace(b64('v7'), b64('v8')) + '\n');
    expect((await cli(['import', '--data-dir', dir(), '--in', cut])).stderr).toMatch(/do not match the trailer's SHA-256/);
    writeFileSync(cut, [...lines, lines[1]].join('\n') + '\n');
    expect((await cli(['import', '--data-dir', dir(), '--in', cut])).stderr).toMatch(/line 23: a line after the export's trailer \(line 22\)/);
  });

  it('the export task writes a .partial file renamed when complete (with the trailer); leftovers are removed at the next start', async () => {
    const dataDir = dir();
    app = await startTestApp({ dataDir });
    for (let i = 0; i < 5; i++) expect((await http(`${app.url}/c/k${i}`, { method: 'POST', token, body: Buffer.from(`v${i}`) })).status).toBe(201);
    const task = await finished(app.url, token, await submitTask(app.url, token, { resource_title: 'c', action: 'export' }));
    expect(task.task_state).toBe('SUCCESS');
    const exported = join(dataDir, task.result!.file);
    expect(existsSync(exported)).toBe(true);
    expect(existsSync(`${exported}.partial`)).toBe(false);
    await app.close();
    app = undefined;
    expect((await cli(['import', '--data-dir', dir(), '--in', exported])).code).toBe(0);

    // What a kill -9 during an export leaves: a .partial file beside the complete one.
    const leftover = `${exported.replace(/\.ndjson$/, '')}.other.ndjson.partial`;
    writeFileSync(leftover, readFileSync(exported, 'utf8').split('\n').slice(0, 2).join('\n'));
    mkdirSync(join(dataDir, 'exports', 'elsewhere'), { recursive: true });
    writeFileSync(join(dataDir, 'exports', 'elsewhere', 'x.ndjson.partial'), '{}');
    app = await startTestApp({ dataDir });
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(join(dataDir, 'exports', 'elsewhere', 'x.ndjson.partial'))).toBe(false);
    expect(existsSync(exported)).toBe(true);
  });
});
