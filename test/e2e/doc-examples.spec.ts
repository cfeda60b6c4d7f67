import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestApp, startTestApp, tokenFor } from '../support/test-app';

/**
 * The curl examples of the README and of the per-family docs, run as a reader would type them
 * (one page after the other, in order, against one fresh service, with `$TOKEN` an org `dev`
 * token), each held to the answer its comment shows: a status (`# 201`), an ETag, a JSON body,
 * or a one-word body (`# hello`). An example whose comment is prose must still not fail (no
 * 5xx; no 4xx unless the comment names one). Examples that need what a test machine has not
 * got (a file to upload, TLS, another data directory) are listed and left out on purpose.
 */
const run$ = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const PAGES = ['README.md', 'docs/history.md', 'docs/settings.md', 'docs/ironcache.md', 'docs/momento.md', 'docs/tasks.md'];

/**
 * What a page presumes before its first example, as its text says: the history, settings and
 * tasks pages a `cache1` whose k1 ann wrote twice (seq 3), the IronCache page a cache `c1` of 3 items.
 */
const PRESUMES: Record<string, string[]> = {
  'docs/history.md': ['curl -X POST -H "$T" -H "X-Device-Id: laptop-1" --data-binary 1 $B/cache1/k1', 'curl -X POST -H "$T" -H "X-Device-Id: laptop-1" --data-binary 2 $B/cache1/k1'],
  'docs/settings.md': ['curl -X POST -H "$T" -H "Content-Type: application/json" -d \'{"cacheName":"cache1"}\' $B/cacheName'],
  'docs/tasks.md': ['curl -X POST -H "$T" --data-binary 1 $B/cache1/k1', 'curl -X POST -H "$T" --data-binary 2 $B/cache1/k1'],
  'docs/ironcache.md': ['a', 'b', 'c'].map((item) => `curl -X PUT -H "$T" -H "Content-Type: application/json" -d '{"value":"${item}"}' $P/caches/c1/items/${item}`),
};

interface Example {
  readonly page: string;
  readonly line: number;
  readonly command: string;
  readonly comment: string;
}

/** Single-line curl commands of the page's ```sh blocks, with their trailing comment. */
function examplesOf(page: string): Example[] {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
  const examples: Example[] = [];
  let inShell = false;
  lines.forEach((text, index) => {
    if (/^```/.test(text)) {
      inShell = !inShell && /^```(sh|bash|shell)\s*$/.test(text);
      return;
    }
    if (!inShell || !/^curl /.test(text) || text.trimEnd().endsWith('\\')) return;
    const hash = text.search(/\s#\s/);
    // The answer is shown at the end of the line, or on the comment line right below it.
    const below = /^#\s+(\d{3}\b.*)$/.exec(lines[index + 1] ?? '')?.[1];
    const comment = hash !== -1 ? text.slice(hash).replace(/^\s#\s*/, '').trim() : (below?.trim() ?? '');
    examples.push({ page, line: index + 1, command: hash === -1 ? text.trim() : text.slice(0, hash).trim(), comment });
  });
  return examples;
}

/** Left out on purpose: needs a local file, TLS, a server stream that never ends, or a page's own setup. */
const needsMoreThanATestMachine = (example: Example): boolean => /@\w|--cacert|https:|-OJ|METRICS_TOKEN|OPERATOR_TOKEN|\$ORG|14b1226a-/.test(example.command);

interface Answer {
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

/** A shown body's elided values (`"task_id":"…"`) stand for any value. */
function loosened(shown: unknown): unknown {
  if (shown === '…' || shown === '...') return expect.anything();
  if (Array.isArray(shown)) return shown.map(loosened);
  if (shown !== null && typeof shown === 'object') return expect.objectContaining(Object.fromEntries(Object.entries(shown).map(([key, value]) => [key, loosened(value)])));
  return shown;
}

describe.each(PAGES)('the curl examples of %s answer as shown (one fresh service per page)', (page) => {
  let app: TestApp;
  const token = tokenFor({ org: 'dev', name: 'dev' });
  let lastTaskId = '';
  // Asynchronously: the service answers in this process.
  const run = async (example: Example): Promise<Answer> => {
    const url = app.url;
    const command = example.command.replaceAll('http://127.0.0.1:9001', url).replaceAll('<task_id>', lastTaskId).replace(/^curl /, 'curl -sS --max-time 3 -D "$HEADERS" ');
    const headersFile = join(app.dataDir, 'last-headers.txt');
    let body = '';
    try {
      // --norc: bash started with no SHLVL on a socket pair (Node's stdio) takes itself for rshd's
      // child and runs ~/.bashrc first (0.6 s a command on a machine with a busy one).
      ({ stdout: body } = await run$('bash', ['--norc', '--noprofile', '-c', command], {
        env: { PATH: process.env.PATH, TOKEN: token, B: url, T: `Authorization: Bearer ${token}`, P: `${url}/1/projects/dev`, HEADERS: headersFile },
        encoding: 'utf8',
      }));
    } catch (error) {
      // A stream cut by --max-time (exit 28) still answered; anything else is a failed example.
      const failure = error as { code?: number; status?: number; stdout?: string };
      if (failure.code !== 28) throw new Error(`${example.page}:${example.line}: ${example.command} failed (${failure.code})`);
      body = failure.stdout ?? '';
    }
    const headers = readFileSync(headersFile, 'latin1');
    const statuses = [...headers.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
    const status = Number(statuses[statuses.length - 1]?.[1] ?? 0);
    const taskId = /"task_id":"([^"]+)"/.exec(body)?.[1];
    if (taskId !== undefined) lastTaskId = taskId;
    return { status, headers, body: body.replace(/^HTTP[\s\S]*?\r\n\r\n/, '') };
  };

  beforeAll(async () => {
    app = await startTestApp();
    for (const command of PRESUMES[page] ?? []) {
      const answer = await run({ page, line: 0, command, comment: '' });
      expect([command, answer.status < 300]).toEqual([command, true]);
    }
  });
  afterAll(() => app.dispose());

  const examples = examplesOf(page);

  it('has examples (a page reorganised into another form would leave this test empty)', () => {
    expect(examples.length).toBeGreaterThan(2);
  });

  it.each(examples.map((example) => [`${example.page}:${example.line}`, example] as const))('%s', async (_where, example) => {
    if (needsMoreThanATestMachine(example)) return;
    const answer = await run(example);
    const where = `${example.page}:${example.line} ${example.command}\n  answered ${answer.status} ${answer.body.slice(0, 300)}`;
    const comment = example.comment;
    expect([where, answer.status >= 200 && answer.status < 500]).toEqual([where, true]);
    // Every status the comment shows (`200 {...}; missing: 404`, `200 if ..., else 409`) is an answer it allows.
    const shownStatuses = [...comment.matchAll(/(?:^|[;,]\s*|\belse\s+|\()(?:[\w ]+:\s*)?(\d{3})\b/g)].map((match) => Number(match[1]));
    if (shownStatuses.length > 0) expect([where, shownStatuses.includes(answer.status)]).toEqual([where, true]);
    else expect([where, answer.status < 400]).toEqual([where, true]);
    const firstShown = shownStatuses[0];
    const etag = /ETag: ("[^"]+")/.exec(comment)?.[1];
    const answeredEtag = /^etag: (.*)$/im.exec(answer.headers)?.[1]?.trim();
    if (etag !== undefined && !/while/.test(comment)) expect([where, answeredEtag]).toEqual([where, etag.includes('…') ? expect.stringMatching(new RegExp(`^${etag.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`)) : etag]);
    const shownJson = /^(?:\d{3}\s+)?([[{].*[\]}])\s*(?:[;(].*)?$/.exec(comment)?.[1];
    if (firstShown !== undefined && answer.status !== firstShown) return; // an alternative the comment allows: its body is not shown
    if (shownJson !== undefined) {
      let expected: unknown;
      try {
        expected = JSON.parse(shownJson);
      } catch {
        expected = undefined; // an abbreviated body (`{"status":"ok",...}`): its status is checked above
      }
      if (expected !== undefined) expect([where, JSON.parse(answer.body)]).toEqual([where, loosened(expected)]);
    } else if (/^[\w-]+$/.test(comment) && !/^\d{3}$/.test(comment)) {
      expect([where, answer.body]).toEqual([where, comment]);
    }
  });
});
