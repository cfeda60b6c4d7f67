import fc from 'fast-check';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { compileValidator } from '../../src/api/contract/contract-validation';
import { cacheNameParam, fastCheckOf, keyParam } from '../../src/api/contract/params';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import { Route, RouteContract, resolveSchema } from '../../src/api/contract/route-contract';
import { NativeContracts } from '../../src/api/native/native.contracts';
import { Public } from '../../src/auth/public.decorator';
import { ApiError } from '../../src/api/errors/api-error';
import { RouteFamily, familyOf, profileOf } from '../../src/families';
import { loadConfig } from '../../src/config/config';

const config = loadConfig({ DATA_DIR: '/tmp/unused', JWT_SECRET: 'test-secret-of-at-least-32-bytes!!' });

const request = (parts: { params?: object; query?: object; body?: unknown }) => ({ params: {}, query: {}, ...parts }) as unknown as FastifyRequest;

function refusal(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    return (error as ApiError).message;
  }
}

describe('route contracts: one declaration validates the request', () => {
  // Text near the limits, astral characters (two UTF-16 units, one code point) and lone surrogates.
  const pieces = fc.constantFrom('a', 'é', '😀', '\ud800', '\udc00', '/', ' ');
  const text = (max: number) =>
    fc.tuple(fc.array(pieces, { maxLength: 8 }), fc.integer({ min: max - 3, max: max + 3 }), fc.constantFrom('a', '😀')).map(([extra, n, fill]) => fill.repeat(Math.max(0, n)) + extra.join(''));

  it.each([
    ['cacheName', cacheNameParam, 255],
    ['key', keyParam, 1024],
  ])('the precompiled check of %s agrees with its zod schema (the one in the document)', (field, schema, max) => {
    const fast = fastCheckOf(schema)!;
    fc.assert(
      fc.property(fc.oneof(text(max), fc.string({ maxLength: 4, unit: 'binary' })), (value) => {
        const zodAccepts = schema.safeParse(value).success;
        const fastAccepts = refusal(() => fast(value, field)) === undefined;
        expect(fastAccepts).toBe(zodAccepts);
      }),
      { numRuns: 500 },
    );
  });

  const contract: RouteContract = {
    family: 'native',
    summary: 'test',
    params: z.object({ cacheName: cacheNameParam }),
    query: z.object({ page: z.string().optional().transform((raw) => (raw === undefined ? 0 : Number(raw))) }),
    body: { contentType: 'application/json', schema: z.object({ n: z.number().int() }) },
    responses: { 200: { description: 'ok' } },
  };

  it('replaces params, query and body with their parsed values (defaults included for an empty query)', () => {
    const validate = compileValidator(contract, config)!;
    const ok = request({ params: { cacheName: 'c' }, query: {}, body: { n: 1, extra: true } });
    validate(ok);
    expect(ok.query).toEqual({ page: 0 });
    expect(ok.body).toEqual({ n: 1 });
    const paged = request({ params: { cacheName: 'c' }, query: { page: '3' }, body: { n: 1 } });
    validate(paged);
    expect(paged.query).toEqual({ page: 3 });
  });

  it('refuses with 400 INVALID_REQUEST naming the field, path first', () => {
    const validate = compileValidator(contract, config)!;
    expect(refusal(() => validate(request({ params: { cacheName: '' }, body: { n: 1.5 } })))).toBe('cacheName: must not be empty');
    expect(refusal(() => validate(request({ params: { cacheName: 'c' }, body: { n: 1.5 } })))).toMatch(/^n: /);
    expect(refusal(() => validate(request({ params: { cacheName: 'c' }, body: 'text' })))).toMatch(/^body: /);
  });

  it('a schema built from the settings takes them (MAX_BATCH_ELEMENTS)', () => {
    const small = loadConfig({ DATA_DIR: '/tmp/unused', JWT_SECRET: 'test-secret-of-at-least-32-bytes!!', MAX_BATCH_ELEMENTS: '2' });
    const batch: RouteContract = { family: 'native', summary: 'batch', body: { contentType: 'application/json', schema: (c) => z.array(z.number()).max(c.edge.maxBatchElements) }, responses: {} };
    expect(refusal(() => compileValidator(batch, small)!(request({ body: [1, 2, 3] })))).toMatch(/^body: /);
    expect(refusal(() => compileValidator(batch, config)!(request({ body: [1, 2, 3] })))).toBeUndefined();
  });
});

describe('a batch is checked a slice of elements per event-loop turn', () => {
  const limited = loadConfig({ DATA_DIR: '/tmp/unused', JWT_SECRET: 'test-secret-of-at-least-32-bytes!!', MAX_BATCH_ELEMENTS: '1200' });
  const whole = (contract: RouteContract) => resolveSchema(contract.body!.schema, limited)!;

  /** The outcome of a validator: the parsed body, or the 400's message. */
  async function outcome(run: () => void | Promise<void>, parsed: () => unknown): Promise<{ body?: unknown; refused?: string }> {
    try {
      await run();
      return { body: parsed() };
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      return { refused: (error as ApiError).message };
    }
  }

  const good = (i: number) => ({ cacheName: `c${i % 3}`, key: `k${i}`, value: 'YQ==', ...(i % 4 === 0 ? { ttlSeconds: i } : {}), ...(i % 5 === 0 ? { extra: 1 } : {}) });
  const bad = [
    (i: number) => ({ ...good(i), key: '' }),
    (i: number) => ({ ...good(i), value: 'not base64!' }),
    (i: number) => ({ ...good(i), ttlSeconds: -1 }),
    () => 'text',
    () => null,
  ];

  it.each([
    ['batchSet', 'cacheRequests'],
    ['batchDelete', 'getCachedBatch'],
  ] as const)('%s answers as one parse of its whole schema would, at any length and with bad elements anywhere', async (route, field) => {
    const contract = NativeContracts[route];
    const validate = compileValidator(contract, limited)!;
    const schema = whole(contract);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1300 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: bad.length - 1 })), { maxLength: 3 }),
        fc.constantFrom({}, { other: true }),
        async (length, faults, extra) => {
          const list: unknown[] = Array.from({ length }, (_, i) => good(i));
          for (const [at, kind] of faults) if (length > 0) list[at % length] = bad[kind](at % length);
          const body = { ...extra, [field]: list };
          const sliced = request({ body });
          let parsedWhole: unknown;
          const expected = await outcome(
            () => {
              const result = schema.safeParse(body);
              if (!result.success) throw ApiError.of('INVALID_REQUEST', `${result.error.issues[0].path.map(String).join('.') || 'body'}: ${result.error.issues[0].message}`);
              parsedWhole = result.data;
            },
            () => parsedWhole,
          );
          expect(await outcome(() => validate(sliced), () => sliced.body)).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives other callbacks a turn between slices, and refuses an over-long batch before checking any element', async () => {
    const validate = compileValidator(NativeContracts.batchSet, limited)!;
    const body = { cacheRequests: Array.from({ length: 1200 }, (_, i) => good(i)) };
    let ranMeanwhile = false;
    setImmediate(() => (ranMeanwhile = true));
    const checked = validate(request({ body }));
    expect(checked).toBeInstanceOf(Promise);
    expect(ranMeanwhile).toBe(false);
    await checked;
    expect(ranMeanwhile).toBe(true);
    const tooLong = { cacheRequests: Array.from({ length: 1201 }, () => 'not even an element') };
    expect(refusal(() => validate(request({ body: tooLong })))).toBe('cacheRequests: at most 1200 elements (MAX_BATCH_ELEMENTS)');
  });
});

describe('@Route and @Public on one handler', () => {
  const contract: RouteContract = { family: 'operations', summary: 'x', responses: { 200: { description: 'ok' } } };
  class Handlers {
    @Public()
    @Route(contract)
    publicFirst(): void {}

    @Route(contract)
    @Public()
    routeFirst(): void {}
  }

  it.each(['publicFirst', 'routeFirst'] as const)('%s keeps both the contract and the public marker', (name) => {
    expect(Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, Handlers.prototype[name])).toEqual({ public: true, contract });
  });
});

describe("error formats: the path's family's, chosen by prefix", () => {
  it.each([
    ['/1/projects/dev/caches/c/items/k', 'ironcache'],
    ['/1/projects?oauth=x', 'ironcache'],
    ['/1/key', 'native'],
    ['/cache/c?key=k', 'momento'],
    ['/cacheName/c/settings', 'settings'],
    ['/cacheName/c/events', 'native'],
    ['/api/v1/cache/state', 'native'],
    ['/docs/json', 'native'],
  ] as Array<[string, RouteFamily]>)('%s answers errors as %s', (path, family) => {
    expect(familyOf(path).errors).toBe(profileOf(family).errors);
  });
});
