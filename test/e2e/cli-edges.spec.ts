import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/cli';
import { cli } from '../support/cli';
import { ndjsonExport } from '../support/ndjson';
import { tempDir } from '../support/temp-dir';
import { TestApp, http, startTestApp, tokenFor } from '../support/test-app';

/** The command line's edges: its version, a data directory that is not there, rebuild's progress. */
describe('cachelog command line edges', () => {
  const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  const dirs: Array<{ path: string; cleanup: () => void }> = [];
  let app: TestApp | undefined;
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d.path;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('--version (and -v, version) prints the package version, from the sources and from the build', async () => {
    for (const argv of [['--version'], ['-v'], ['version']]) expect(await cli(argv)).toEqual({ code: 0, stdout: `cachelog ${VERSION}\n`, stderr: '' });
    const built = execFileSync(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli', 'main.js'), '--version']).toString();
    expect(built).toBe(`cachelog ${VERSION}\n`);
  });

  const READING: Array<[string, string[]]> = [
    ['export', ['export']],
    ['export --out', ['export', '--out', '/dev/null']],
    ['replay', ['replay', '--org', 'o', '--cache', 'c']],
    ['verify', ['verify']],
    ['rebuild', ['rebuild']],
  ];

  it.each(READING)('%s: a --data-dir that does not exist is an error, and is not created', async (_name, argv) => {
    const missing = join(dir(), 'typo');
    const result = await cli([...argv, '--data-dir', missing]);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`cachelog: ${missing} does not exist: --data-dir (or DATA_DIR) must name the server's data directory\n`);
    expect(existsSync(missing)).toBe(false);
    // The same through DATA_DIR.
    expect((await cli(argv, { DATA_DIR: missing })).code).toBe(1);
    expect(existsSync(missing)).toBe(false);
  });

  it.each(READING)('%s: a directory that holds no database is an error, and stays empty', async (_name, argv) => {
    const empty = dir();
    const result = await cli([...argv, '--data-dir', empty]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${empty} holds no cachelog database`);
    expect(readdirSync(empty)).toStrictEqual([]);
  });

  it('import may start a database where there is none yet', async () => {
    const file = join(dir(), 'one.ndjson');
    const line = { org: 'o', cacheName: 'c', seq: 1, type: 'Set', at: 1, by: 'x', device: null, key: 'k', value: Buffer.from('v').toString('base64'), expiresAt: 0 };
    writeFileSync(file, ndjsonExport([line]));
    const target = join(dir(), 'new');
    expect((await cli(['import', '--data-dir', target, '--in', file])).code).toBe(0);
    expect((await cli(['verify', '--data-dir', target])).stdout).toContain('OK: 1 caches, 1 events');
  });

  it('rebuild draws a progress bar on a terminal, like export and import, and ends at the journal\'s last offset', async () => {
    const dataDir = dir();
    app = await startTestApp({ dataDir });
    const token = tokenFor({ org: 'acme' });
    const cacheRequests = Array.from({ length: 1200 }, (_, i) => ({ cacheName: 'many', key: `k${i}`, value: Buffer.from(`v${i}`).toString('base64') }));
    expect((await http(`${app.url}/batch`, { method: 'POST', token, body: { cacheRequests } })).status).toBe(200);
    await app.close();
    app = undefined;

    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    const code = await runCli(['rebuild', '--data-dir', dataDir], { stdout, stderr, env: { PATH: process.env.PATH } });
    expect(code).toBe(0);
    const bar = String(stderr.read());
    const last = Number(/through offset (\d+)/.exec(String(stdout.read()))![1]);
    expect(last).toBeGreaterThan(1200);
    expect(bar).toMatch(new RegExp(`rebuild \\[#{30}\\] ${last}/${last} 100% `));
    expect(bar.endsWith('\n')).toBe(true);

    // Piped stderr stays clean, as for the other commands.
    const piped = await cli(['rebuild', '--data-dir', dataDir]);
    expect(piped).toMatchObject({ code: 0, stderr: '' });
  });
});
