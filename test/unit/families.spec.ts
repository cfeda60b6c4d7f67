import { isLosslessNumber } from 'lossless-json';
import { ForbiddenProjectError } from '../../src/auth/token-sources';
import { ERROR_CATALOGUE, catalogueEntry } from '../../src/core/error-catalogue';
import { FAMILIES, RouteFamily, SECRET_QUERY_PARAMS, familyOf, profileOf } from '../../src/families';
import { importGraph } from '../architecture/import-graph';

const profiles = Object.entries(FAMILIES);
const codes = Object.keys(ERROR_CATALOGUE);

describe('every registered family profile', () => {
  it.each(profiles)('%s renders every code of the error catalogue in its format', (_name, profile) => {
    for (const code of codes) {
      const { status, text } = catalogueEntry(code);
      const { contentType, body } = profile.errors.render(status, code, text);
      expect(contentType).toMatch(/^(application\/json|text\/plain); charset=utf-8$/);
      expect(contentType.split(';')[0]).toBe(profile.errors.schema.contentType);
      expect(body).toContain(text);
      if (contentType.startsWith('application/json')) expect(() => JSON.parse(body)).not.toThrow();
    }
  });

  it.each(profiles)('%s words every code of the error catalogue: a status of its own or the catalogue\'s, a code, a text', (_name, profile) => {
    for (const code of codes) {
      const rejection = profile.word({ code, cacheName: 'c1' });
      expect(rejection.status).toBeGreaterThanOrEqual(300);
      expect(rejection.status).toBeLessThan(600);
      expect(rejection.code).toMatch(/^[A-Z_]+$/);
      expect(rejection.message.length).toBeGreaterThan(0);
      // With the refuser's own message, a family that does not word the code passes it through.
      const detailed = profile.word({ code, message: 'the detail', cacheName: 'c1' });
      expect(detailed.status).toBe(rejection.status);
    }
  });

  it('words a code no family names by the catalogue (status and the refuser\'s message)', () => {
    for (const [, profile] of profiles) {
      expect(profile.word({ code: 'HISTORY_COMPACTED', message: 'gone' })).toEqual({ status: 410, code: 'HISTORY_COMPACTED', message: 'gone' });
      expect(profile.word({ code: 'TASK_NOT_FOUND' })).toEqual({ status: 404, code: 'TASK_NOT_FOUND', message: 'no such task' });
    }
  });

  it('keeps each family\'s own words for domain rejections', () => {
    expect(FAMILIES.native.word({ code: 'CACHE_NOT_FOUND' })).toEqual({ status: 400, code: 'CACHE_NOT_FOUND', message: 'cache does not exist' });
    expect(FAMILIES.ironcache.word({ code: 'KEY_NOT_FOUND', message: 'key does not exist' })).toEqual({ status: 404, code: 'KEY_NOT_FOUND', message: 'Key not found.' });
    expect(FAMILIES.ironcache.word({ code: 'NUMBER_OUT_OF_RANGE', message: 'x' })).toEqual({ status: 400, code: 'NUMBER_OUT_OF_RANGE', message: 'Number out of range: x.' });
    expect(FAMILIES.ironcache.word({ code: 'INVALID_ARGUMENT', message: 'ttl' })).toEqual({ status: 400, code: 'INVALID_ARGUMENT', message: 'Invalid request. ttl' });
    expect(FAMILIES.ironcache.word({ code: 'QUOTA_EXCEEDED', message: 'over' })).toMatchObject({ status: 403, message: 'Project over its storage quota.' });
    expect(FAMILIES.momento.word({ code: 'CACHE_NOT_FOUND' })).toEqual({ status: 404, code: 'CACHE_NOT_FOUND', message: 'Cache Not Found' });
    expect(FAMILIES.momento.word({ code: 'INVALID_ARGUMENT', message: 'ttl' })).toMatchObject({ status: 400, message: 'Bad request: ttl' });
    expect(FAMILIES.momento.word({ code: 'CACHE_LIMIT_REACHED', message: 'x' })).toMatchObject({ status: 429 });
    expect(FAMILIES.settings.word({ code: 'CACHE_NOT_FOUND', message: 'x', cacheName: 'c1' })).toEqual({ status: 404, code: 'CACHE_NOT_FOUND', message: 'cache (name: c1) was not found' });
    expect(FAMILIES.settings.word({ code: 'INVALID_ARGUMENT', message: 'capacity: bad' })).toEqual({ status: 400, code: 'INVALID_REQUEST', message: 'capacity: bad' });
  });

  it('gives each route family a profile, and each profile a distinct id', () => {
    const names: Record<RouteFamily, true> = { native: true, settings: true, history: true, tasks: true, ironcache: true, momento: true, operations: true, upstash: true };
    for (const name of Object.keys(names) as RouteFamily[]) expect(profileOf(name)).toBe(FAMILIES[name]);
    const ids = profiles.map(([, profile]) => profile.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('familyOf(path)', () => {
  it.each([
    ['/1/projects', 'ironcache'],
    ['/1/projects?oauth=x', 'ironcache'],
    ['/1/projects/dev/caches/c/items/k', 'ironcache'],
    ['/cache/c?key=k&token=t', 'momento'],
    ['/cache', 'momento'],
    ['/cacheName/c/settings', 'settings'],
    ['/cacheName/c/settings?x=1', 'settings'],
    ['/cacheName/c/events', 'history'],
    ['/cacheName/c/events/stream?from=3', 'history'],
    ['/api/v1/cache', 'tasks'],
    ['/api/v1/cache/refresh', 'tasks'],
    ['/api/v1/cache?version=2', 'tasks'],
    ['/', 'operations'],
    ['/?x', 'operations'],
    ['/health/live', 'operations'],
    ['/health/ready', 'operations'],
    ['/metrics', 'operations'],
    ['/console', 'operations'],
    ['/console/console.js', 'operations'],
    ['/docs', 'operations'],
    ['/docs/json', 'operations'],
    ['/docs/assets/swagger-ui.css', 'operations'],
  ] as Array<[string, RouteFamily]>)('%s belongs to %s', (path, family) => {
    expect(familyOf(path)).toBe(FAMILIES[family]);
  });

  it.each([
    '/1/key',
    '/1/projectsX/k',
    '/1',
    '/cacheName',
    '/cacheName/c',
    '/cacheName/list',
    '/cacheName/c/keys',
    '/cacheName/settings',
    '/cacheName/c/settingsX',
    '/cacheName/c/eventsX',
    '/cache1/key',
    '/caches/k',
    '/set',
    '/batch/get',
    '/get/c/k',
    '/api/v1/caches',
    '/api/v2/cache',
    '/health/x',
    '/healthz',
    '/metrics/x',
    '/docs/x',
    '/c/k/30',
  ])('%s is native (no other family claims it)', (path) => {
    expect(familyOf(path)).toBe(FAMILIES.native);
  });

  it('tries prefixes that never overlap: no path belongs to two families', () => {
    const paths = ['/1/projects/p/caches', '/cache/c', '/cacheName/c/settings', '/cacheName/c/events', '/api/v1/cache/state', '/health/ready', '/docs/json', '/'];
    for (const path of paths) {
      const claimants = profiles.filter(([name, profile]) => name !== 'native' && profile.prefix.test(path)).map(([name]) => name);
      expect(claimants).toHaveLength(1);
    }
  });
});

describe('the IronCache family is /1/projects, for every one of its traits', () => {
  // The JSON parser used to match all of `/1/` while tokens and errors matched `/1/projects`:
  // a native cache named "1" had its JSON bodies read by IronCache's parser.
  it('a native cache named "1" keeps the native JSON parser (numbers as JS numbers, a repeated key kept last)', () => {
    const parse = familyOf('/1/key').parseJson;
    expect(parse('{"a":1,"a":2}')).toEqual({ a: 2 });
    expect(parse('9007199254740993')).toBe(9007199254740992);
  });

  it('IronCache paths keep numbers exact and refuse a key given twice with different values', () => {
    const parse = familyOf('/1/projects/p/caches/c/items/k').parseJson;
    const value = parse('9007199254740993');
    expect(isLosslessNumber(value)).toBe(true);
    expect(String(value)).toBe('9007199254740993');
    expect(() => parse('{"a":1,"a":2}')).toThrow();
  });

  it('tokens, errors, parser and ETags all come from the one profile a path belongs to', () => {
    const native = familyOf('/1/key');
    const iron = familyOf('/1/projects/p/caches/c/items/k');
    expect(native.tokens.extract({ headers: { authorization: 'OAuth abc' } })).toBeUndefined();
    expect(iron.tokens.extract({ headers: { authorization: 'OAuth abc' } })).toBe('abc');
    expect(iron.tokens.extract({ headers: {}, query: { oauth: 'q' } })).toBe('q');
    expect(JSON.parse(native.errors.render(400, 'X', 'm').body)).toEqual({ code: 'X', message: 'm' });
    expect(JSON.parse(iron.errors.render(400, 'X', 'm').body)).toEqual({ msg: 'm' });
    expect([native.conditionalReads, iron.conditionalReads]).toEqual([true, false]);
  });

  it('checks the project id against the token\'s org', () => {
    const principal = { org: 'dev', name: 'n', serviceLevel: 'free' };
    expect(() => FAMILIES.ironcache.tokens.authorize!(principal, { headers: {}, params: { projectId: 'dev' } })).not.toThrow();
    expect(() => FAMILIES.ironcache.tokens.authorize!(principal, { headers: {}, params: { projectId: 'other' } })).toThrow(ForbiddenProjectError);
  });
});

describe('token sources', () => {
  it('Momento takes ?token= first, then the Authorization header with or without Bearer', () => {
    const { extract } = FAMILIES.momento.tokens;
    expect(extract({ headers: { authorization: 'h' }, query: { token: 'q' } })).toBe('q');
    expect(extract({ headers: { authorization: 'Bearer h' } })).toBe('h');
    expect(extract({ headers: { authorization: ' h ' } })).toBe('h');
    expect(extract({ headers: {} })).toBeUndefined();
  });

  it('the native family and those like it take Bearer only', () => {
    for (const name of ['native', 'settings', 'history', 'tasks', 'operations'] as const) {
      expect(FAMILIES[name].tokens.extract({ headers: { authorization: 'Bearer t' } })).toBe('t');
      expect(FAMILIES[name].tokens.extract({ headers: { authorization: 'OAuth t' }, query: { token: 'q', oauth: 'q' } })).toBeUndefined();
    }
  });
});

describe('src/families', () => {
  it('imports nothing under src/api (the HTTP layer reads the profiles, never the other way)', () => {
    const graph = importGraph(process.cwd());
    const offences: string[] = [];
    for (const [file, targets] of graph.local) {
      if (!file.startsWith('src/families/')) continue;
      for (const target of targets) if (target.startsWith('src/api/')) offences.push(`${file} → ${target}`);
    }
    expect(offences).toStrictEqual([]);
  });
});

describe('secret query parameters', () => {
  it('are the ones the families carry credentials in', () => {
    expect([...SECRET_QUERY_PARAMS].sort()).toEqual(['_token', 'oauth', 'token']);
  });
});
