import type { CommandHost } from '../command-host';
import { CommandDef, HistoryEvent, command } from '../command';
import { keyArg, safeIntArg, word } from '../args';
import { ERR } from '../errors';
import { cacheNameArg } from '../args';
import { eventMessage, streamEnded } from '../keyspace-notifications';
import { NULL, RedisError, RedisReply, array, bulk, bulkOrNull, int, map, text } from '../reply';
import type { Session } from '../session';
import type { Env } from '../command';

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
export function cachelogCommands(engine: CommandHost): CommandDef<any>[] {
  const confirm = (kind: string, db: string | null, session: Session): RedisReply => ({
    t: 'push',
    items: [bulk(Buffer.from(kind)), db === null ? NULL : bulk(Buffer.from(db)), int(session.subscriptions)],
  });

  /** Sends the past from the journal, then the live events held meanwhile, then goes live. */
  const catchUp = async (session: Session, db: string, env: Env) => {
    const history = engine.history!;
    const stream = session.streams.get(db);
    if (stream === undefined) return;
    try {
      for (;;) {
        if (session.streams.get(db) !== stream || !engine.sessions.has(session)) return;
        const page = await history.events(env.ctx, db, stream.next, PAGE);
        if (session.streams.get(db) !== stream) return;
        for (const event of page.events) {
          session.push!(eventMessage(db, event.seq, event));
          stream.next = event.seq + 1;
        }
        if (!page.hasMore || page.events.length === 0) break;
      }
      for (const { seq, event } of stream.held ?? []) {
        if (seq < stream.next) continue;
        session.push!(eventMessage(db, seq, event));
        stream.next = seq + 1;
      }
      stream.held = null;
    } catch (caught) {
      session.streams.delete(db);
      engine.notifier.update(session);
      session.push!(streamEnded(db, stream.next, (caught as Error).message ?? 'the history could not be read'));
    }
  };

  return [
    command<{ db: string; from: number }>({
      name: 'cachelog.subscribe',
      sessionOnly: true,
      notInMulti: 'ERR CACHELOG.SUBSCRIBE inside MULTI is not supported',
      parse: (args) => {
        const request = { db: cacheNameArg(args[0]), from: 1 };
        if (args.length === 3 && word(args[1]) === 'from') request.from = Math.max(1, safeIntArg(args[2]));
        else if (args.length !== 1) throw new RedisError(ERR.syntax);
        return request;
      },
      // A cache's events from a sequence number (default: the first), then live: after a
      // disconnect, subscribing again FROM the next sequence misses nothing and repeats nothing.
      run: ({ db, from }, env) => {
        const session = env.session;
        if (engine.history === undefined || session.push === undefined) throw new RedisError(NO_HISTORY);
        session.streams.set(db, { next: from, held: [] });
        engine.notifier.update(session);
        setImmediate(() => void catchUp(session, db, env));
        return confirm('cachelog.subscribe', db, session);
      },
    }),
    command<string[]>({
      name: 'cachelog.unsubscribe',
      sessionOnly: true,
      notInMulti: 'ERR CACHELOG.UNSUBSCRIBE inside MULTI is not supported',
      parse: (args) => args.map(cacheNameArg),
      run: (dbs, env) => {
        const session = env.session;
        const targets = dbs.length > 0 ? dbs : [...session.streams.keys()];
        const replies: RedisReply[] = [];
        if (targets.length === 0) replies.push(confirm('cachelog.unsubscribe', null, session));
        for (const db of targets) {
          session.streams.delete(db);
          replies.push(confirm('cachelog.unsubscribe', db, session));
        }
        engine.notifier.update(session);
        return { t: 'many', replies };
      },
    }),
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
