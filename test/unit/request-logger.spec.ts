import { Writable } from 'node:stream';
import pino from 'pino';
import { LazyRequestLogger, isoTimeOncePerMs } from '../../src/ops/logging';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info', timestamp: isoTimeOncePerMs }, stream) };
}

describe('request logging', () => {
  it('a request logger makes its pino child only when something logs through it, with the request id', async () => {
    const { lines, logger } = capture();
    let children = 0;
    const counting = new Proxy(logger, { get: (target, p, r) => (p === 'child' ? (...a: Parameters<typeof logger.child>) => (children++, target.child(...a)) : Reflect.get(target, p, r)) });
    const quiet = LazyRequestLogger.factory(counting, { reqId: 'r-1' }, {});
    quiet.debug('below the level');
    expect(children).toBe(0);
    const loud = LazyRequestLogger.factory(counting, { reqId: 'r-2' }, {});
    loud.error({ err: new Error('boom') }, 'failed');
    loud.warn('again');
    await new Promise((resolve) => setImmediate(resolve));
    expect(children).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ level: 50, reqId: 'r-2', msg: 'failed', err: expect.objectContaining({ message: 'boom' }) }),
      expect.objectContaining({ level: 40, reqId: 'r-2', msg: 'again' }),
    ]);
    expect(quiet.level).toBe('info');
    expect(quiet.isLevelEnabled('debug')).toBe(false);
  });

  it('the time is ISO 8601, as pino writes it', async () => {
    const { lines, logger } = capture();
    logger.info('one');
    await new Promise((resolve) => setImmediate(resolve));
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
    expect(Math.abs(Date.parse(lines[0].time as string) - Date.now())).toBeLessThan(5_000);
  });
});
