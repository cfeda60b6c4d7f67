import { TURN_BYTES, VALUE_SLICE_BYTES, batchAnswer, batchElement } from '../../src/api/native/batch-answer';

const MiB = 1024 * 1024;
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

/**
 * A streamed POST /batch/get answer is produced in slices with turns of the event loop between
 * them: the stream of a synchronous generator encoded element after element for as long as the
 * socket took them (~0.3 s for 20 answers of ~27 MiB that were never read).
 */
describe('the streamed batch answer', () => {
  const elements = [
    { cacheName: 'c', key: 'missing' },
    { cacheName: 'c', key: 'small' },
    { cacheName: 'c', key: 'exact' },
    { cacheName: 'c', key: 'one more' },
    { cacheName: 'd "quoted"', key: 'big\u00e9' },
    { cacheName: 'c', key: 'empty' },
  ];
  const values = [undefined, bytes(100, 1), bytes(VALUE_SLICE_BYTES, 2), bytes(VALUE_SLICE_BYTES + 1, 3), bytes(5 * MiB + 2, 4), new Uint8Array(0)];

  it('is the same JSON as the answer built whole, large values sliced included', async () => {
    let text = '';
    for await (const chunk of batchAnswer(elements, values)) text += chunk;
    expect(text).toBe(JSON.stringify({ complete: true, results: elements.map(({ cacheName, key }, i) => batchElement(cacheName, key, values[i])) }));
  });

  it('never produces more than one slice of a value in one piece, and gives the event loop turns as it goes', async () => {
    let turns = 0;
    let ticking = true;
    const tick = () => {
      turns++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const sizes: number[] = [];
    let total = 0;
    for await (const chunk of batchAnswer(elements, values)) {
      sizes.push(chunk.length);
      total += chunk.length;
    }
    ticking = false;
    expect(Math.max(...sizes)).toBeLessThanOrEqual(Math.ceil((VALUE_SLICE_BYTES * 4) / 3) + 200);
    // At least one turn of the event loop per TURN_BYTES produced (an iteration of its own would take none).
    expect(turns).toBeGreaterThanOrEqual(Math.floor(total / TURN_BYTES) - 1);
  });
});
