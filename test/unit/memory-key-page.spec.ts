import fc from 'fast-check';
import { KeyPage, KeyPageRequest, KeyRow } from '../../src/journal/inline-read-models';
import { entityIdOf } from '../../src/journal/keys';
import { MemoryInlineReadModels, compareUtf8 } from '../../src/journal/memory/memory-inline-read-models';

const ref = { org: 'acme', name: 'c' };
const entityId = entityIdOf(ref);

/** The page by its definition: every key encoded, filtered and sorted by its bytes, then walked. */
function pageByDefinition(rows: ReadonlyMap<string, KeyRow>, now: number, request: KeyPageRequest): KeyPage {
  const prefix = request.prefix ?? Buffer.alloc(0);
  const sorted = [...rows]
    .map(([key, row]) => ({ key, row, bytes: Buffer.from(key, 'utf8') }))
    .filter(({ bytes }) => bytes.subarray(0, prefix.length).equals(prefix) && (request.after === undefined || Buffer.compare(bytes, request.after) > 0))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const out: KeyPage['rows'][number][] = [];
  let examined = 0;
  for (const { key, row, bytes } of sorted) {
    examined++;
    if ((row.expiresAt === 0 || row.expiresAt > now) && request.accept(key)) out.push({ key, expiresAt: row.expiresAt, bytes: row.bytes });
    if (out.length >= request.limit || examined >= request.examine) return { rows: out, last: bytes };
  }
  return { rows: out };
}

// Keys from a few code units, surrogate halves and pairs included (some lone), so that UTF-16 and UTF-8 orders differ.
const unit = fc.constantFrom('a', 'b', ':', '\u00e9', '\u4e2d', '\ud83d', '\ude00', '\ud83d\ude00', '\uffff', '\ue000', '\ufffd');
const key = fc.array(unit, { maxLength: 4 }).map((units) => units.join(''));
const bytesOf = fc.option(key.map((k) => Buffer.from(k, 'utf8')), { nil: undefined });

describe('memory read models: a page of keys from the sorted keys it keeps', () => {
  it('compareUtf8 orders keys as their UTF-8 bytes do (lone surrogates as U+FFFD)', () => {
    fc.assert(
      fc.property(key, key, (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))));
      }),
      { numRuns: 2000 },
    );
  });

  it('answers each page as its definition does, through writes and deletes between pages', async () => {
    const step = fc.record({ put: fc.array(fc.tuple(key, fc.constantFrom(0, 50, 500)), { maxLength: 8 }), del: fc.array(key, { maxLength: 3 }) });
    const request = fc.record({ after: bytesOf, prefix: bytesOf, examine: fc.integer({ min: 1, max: 12 }), limit: fc.integer({ min: 1, max: 12 }), odd: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(step, request), { minLength: 1, maxLength: 8 }), async (steps) => {
        const models = new MemoryInlineReadModels(() => []);
        const rows = new Map<string, KeyRow>();
        for (const [{ put, del }, { odd, ...asked }] of steps) {
          put.forEach(([k, expiresAt], i) => {
            const row = { expiresAt, bytes: i };
            models.putKey(entityId, k, row);
            rows.set(k, row);
          });
          for (const k of del) {
            models.delKey(entityId, k);
            rows.delete(k);
          }
          const pageRequest: KeyPageRequest = { ...asked, accept: odd ? (k) => k.length % 2 === 1 : () => true };
          expect(await models.keyPage(ref, 100, pageRequest)).toEqual(pageByDefinition(rows, 100, pageRequest));
        }
      }),
      { numRuns: 500 },
    );
  });
});
