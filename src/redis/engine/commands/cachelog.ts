import type { RedisEngine } from '../engine';
import { CommandDef, HistoryEvent, command } from '../command';
import { keyArg, safeIntArg, word } from '../args';
import { ERR } from '../errors';
import { NULL, RedisError, RedisReply, array, bulk, bulkOrNull, int, map, text } from '../reply';

/** Events one CACHELOG.VERSIONS call reads at most (it answers a cursor to go on from). */
const MAX_EVENTS_PER_CALL = 10_000;
const PAGE = 1000;

const NO_HISTORY = 'ERR the history is not available here';

function versionReply(event: HistoryEvent): RedisReply {
  const entries: Array<readonly [RedisReply, RedisReply]> = [
    [text('seq'), int(event.seq)],
    [text('type'), text(event.type)],
    [text('time'), text(event.time)],
    [text('by'), text(event.by)],
    [text('device'), event.device === null ? NULL : text(event.device)],
  ];
  if (event.value !== undefined) entries.push([text('value'), bulk(event.value)]);
  if (event.expiresAt !== undefined) entries.push([text('expiresat'), event.expiresAt === null ? NULL : text(event.expiresAt)]);
  return map(entries);
}

/**
 * What Redis lacks, from the event log: `CACHELOG.GETAT key AT <seq> | ASOF <iso-time>` (a
 * value as it was then) and `CACHELOG.VERSIONS key [FROM <seq>] [COUNT <n>]` (who changed the
 * key, when, from which device, to what), answered as `[next-cursor, [version, ...]]`.
 */
export function cachelogCommands(engine: RedisEngine): CommandDef<any>[] {
  return [
    command<{ key: string; point: { at: string } | { asOf: string } }>({
      name: 'cachelog.getat',
      notInMulti: 'ERR CACHELOG.GETAT inside MULTI is not supported',
      parse: (args) => {
        if (args.length !== 3) throw new RedisError(ERR.syntax);
        const key = keyArg(args[0]);
        const option = word(args[1]);
        const point = args[2].toString('utf8');
        if (option === 'at') return { key, point: { at: point } };
        if (option === 'asof') return { key, point: { asOf: point } };
        throw new RedisError(ERR.syntax);
      },
      run: async ({ key, point }, env) => {
        if (engine.history === undefined) throw new RedisError(NO_HISTORY);
        return bulkOrNull(await engine.history.valueAt(env.ctx, env.cache, key, point));
      },
    }),
    command<{ key: string; from: number; count: number }>({
      name: 'cachelog.versions',
      notInMulti: 'ERR CACHELOG.VERSIONS inside MULTI is not supported',
      parse: (args) => {
        const request = { key: keyArg(args[0]), from: 1, count: 10 };
        for (let i = 1; i < args.length; i += 2) {
          if (i + 1 >= args.length) throw new RedisError(ERR.syntax);
          const option = word(args[i]);
          const n = safeIntArg(args[i + 1]);
          if (option === 'from' && n >= 0) request.from = Math.max(1, n);
          else if (option === 'count' && n >= 1) request.count = Math.min(n, 1000);
          else throw new RedisError(ERR.syntax);
        }
        return request;
      },
      run: async ({ key, from, count }, env) => {
        const history = engine.history;
        if (history === undefined) throw new RedisError(NO_HISTORY);
        const found: HistoryEvent[] = [];
        let next = from;
        let read = 0;
        let more = true;
        while (more && found.length < count && read < MAX_EVENTS_PER_CALL) {
          const page = await history.events(env.ctx, env.cache, next, PAGE);
          for (const event of page.events) {
            read++;
            next = event.seq + 1;
            if (event.key === key) found.push(event);
            if (found.length === count) break;
          }
          more = page.hasMore || next < page.next;
          if (page.events.length === 0) more = false;
        }
        const done = !more && found.length < count;
        return array([text(done ? '0' : String(next)), array(found.map(versionReply))]);
      },
    }),
  ];
}
