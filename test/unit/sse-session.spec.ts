import { PassThrough, Writable } from 'node:stream';
import { SseSession } from '../../src/api/history/sse-session';

/** A real writable whose reader never reads: every write beyond its buffer waits forever. */
const stalled = () => new Writable({ highWaterMark: 64, write: () => undefined });

describe('SseSession: a bounded buffer per client', () => {
  it('writes events with their sequence number as id, once each', () => {
    const out = new PassThrough();
    const session = new SseSession(out, 10, 1, () => undefined);
    session.event(1, { a: 1 });
    session.event(1, { a: 'again' });
    session.event(2, { b: 2 });
    expect(out.read().toString()).toBe('id: 1\ndata: {"a":1}\n\nid: 2\ndata: {"b":2}\n\n');
  });

  it('drops a client that does not read, with an end event naming the reason and the last seq sent', () => {
    const out = stalled();
    const written: string[] = [];
    const write = out.write.bind(out);
    out.write = ((chunk: string, ...rest: never[]) => {
      written.push(String(chunk));
      return write(chunk, ...rest);
    }) as typeof out.write;
    let closed = false;
    const session = new SseSession(out, 3, 1, () => (closed = true));
    let seq = 0;
    while (!session.isClosed && seq < 1000) session.event(++seq, { pad: 'x'.repeat(40) });
    expect(closed).toBe(true);
    expect(session.queued).toBe(0);
    expect(seq).toBeLessThan(10);
    const end = written.at(-1)!;
    expect(end).toMatch(/^event: end\ndata: /);
    const data = JSON.parse(end.split('data: ')[1]);
    expect(data).toMatchObject({ reason: 'slow-consumer', lastSeq: 1 });
    expect(session.event(seq + 1, {})).toBe(false);
  });

  it('lets a client that catches up receive everything it missed, in order', async () => {
    const chunks: string[] = [];
    let release: (() => void) | undefined;
    const out = new Writable({
      highWaterMark: 16,
      write(chunk, _encoding, done) {
        chunks.push(chunk.toString());
        release = done;
      },
    });
    const session = new SseSession(out, 100, 1, () => undefined);
    for (let seq = 1; seq <= 5; seq++) session.event(seq, seq);
    expect(session.queued).toBeGreaterThan(0);
    while (chunks.length < 5) {
      const done = release!;
      release = undefined;
      done();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(chunks.map((c) => c.split('\n')[0])).toEqual(['id: 1', 'id: 2', 'id: 3', 'id: 4', 'id: 5']);
    expect(session.isClosed).toBe(false);
  });
});
