import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NAMESPACES } from '../../src/config/config';

/**
 * docs/security.md's budget table ("Every budget, and what a client sees when it is spent")
 * has a row for every budget setting the configuration code declares, with the default its
 * declaration has, and says what a client sees over HTTP and over RESP; the README's short
 * budgets part (it must stay within its word limit) names declared settings and links the table. A budget setting is one of the `limits` and `tasks`
 * namespaces, or one named like a bound (MAX_*, *_TIMEOUT_SECONDS, the answer, stream,
 * point-in-time, rate-limit, disk and history-compaction settings).
 */
const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const BOUND_NAME = /^(MAX_|ANSWER_|SSE_|POINT_IN_TIME_|RATE_LIMIT|HISTORY_COMPACT_|HISTORY_STREAM_BUFFER$|EVENTS_PAGE_MAX_|DISK_BUDGET_|ORG_DISK_BUDGET_|RESP_MAX_|UPSTASH_MAX_)|_TIMEOUT_SECONDS$/;

const declared = NAMESPACES.flatMap((ns) => ns.settings).filter(({ namespace, setting }) => namespace === 'limits' || namespace === 'tasks' || BOUND_NAME.test(setting.env));

function budgetTable(): Map<string, { default: string; http: string; resp: string }> {
  const text = read('docs/security.md');
  const start = text.indexOf('## Every budget, and what a client sees when it is spent');
  expect(start).toBeGreaterThan(0);
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  const rows = new Map<string, { default: string; http: string; resp: string }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells.length !== 5) continue;
    const name = /^`([A-Z][A-Z0-9_]+)`$/.exec(cells[1])?.[1];
    if (name !== undefined) rows.set(name, { default: cells[2], http: cells[3], resp: cells[4] });
  }
  return rows;
}

describe('docs: every budget', () => {
  it('finds the budget settings it checks', () => {
    const names = declared.map(({ setting }) => setting.env);
    expect(names).toEqual(expect.arrayContaining(['ORG_DISK_BUDGET_BYTES', 'DISK_BUDGET_BYTES', 'HISTORY_COMPACT_FACTOR', 'MAX_ENTITIES_PER_ORG', 'ANSWER_QUEUE_ORG_BYTES', 'POINT_IN_TIME_MAX_PER_ORG', 'MAX_ANONYMOUS_CONNECTIONS', 'RATE_LIMITS', 'MAX_PENDING_TASK_WORK_PER_ORG', 'RESP_MAX_OUTPUT_BYTES']));
    expect(names.length).toBeGreaterThanOrEqual(40);
  });

  it('docs/security.md has a row for each, with its declared default and an answer for HTTP and RESP', () => {
    const rows = budgetTable();
    const problems: string[] = [];
    for (const { setting } of declared) {
      const row = rows.get(setting.env);
      if (row === undefined) {
        problems.push(`${setting.env}: no row`);
        continue;
      }
      if (row.http === '' || row.resp === '') problems.push(`${setting.env}: an empty answer cell`);
      // A default computed from other settings is described in words after its declared placeholder.
      const value = setting.default as unknown;
      const shown =
        value === undefined ? '–'
        : typeof value === 'number' && setting.env.endsWith('_SECONDS') ? String(value / 1000) // declared in ms, documented in seconds
        : String(value);
      const first = row.default.startsWith('–') ? '–' : /`([^`]*)`/.exec(row.default)?.[1];
      if (first !== shown) problems.push(`${setting.env}: declared ${shown}, documented ${row.default}`);
    }
    expect(problems).toEqual([]);
  });

  it('the README names a budget setting of each kind (each one declared) and links the table', () => {
    const readme = read('README.md');
    const start = readme.indexOf('## Budgets');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    expect(section).toContain('(docs/security.md#every-budget-and-what-a-client-sees-when-it-is-spent)');
    const names = new Set(declared.map(({ setting }) => setting.env));
    const unknown = [...section.matchAll(/`([A-Z][A-Z0-9_]{3,})`/g)].map(([, name]) => name).filter((name) => !names.has(name) && name !== 'ENABLE_ORG_SERVICE_LEVEL_SAAS');
    expect(unknown).toEqual([]);
    for (const name of ['ORG_DISK_BUDGET_BYTES', 'DISK_BUDGET_BYTES', 'MAX_ENTITIES_PER_ORG', 'ANSWER_QUEUE_ORG_BYTES', 'POINT_IN_TIME_MAX_BYTES', 'MAX_CONNECTIONS_PER_ADDRESS', 'RATE_LIMITS']) expect(section).toContain(`\`${name}\``);
  });
});
