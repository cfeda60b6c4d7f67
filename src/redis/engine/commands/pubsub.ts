import type { CommandHost } from '../command-host';
import { CommandDef, command } from '../command';
import { RedisReply, bulk, int, NULL } from '../reply';
import type { Session } from '../session';

const NOT_IN_MULTI = 'ERR pub/sub commands are not supported inside MULTI by cachelog';

const confirmation = (kind: string, channel: string | null, count: number): RedisReply => ({
  t: 'push',
  items: [bulk(Buffer.from(kind)), channel === null ? NULL : bulk(Buffer.from(channel)), int(count)],
});

/**
 * SUBSCRIBE/PSUBSCRIBE and their UNs, for keyspace notifications (the only messages there
 * are: PUBLISH is not offered). Channels are text as sent (UTF-8).
 */
export function pubsubCommands(engine: CommandHost): CommandDef<any>[] {
  const change = (session: Session, kind: 'subscribe' | 'psubscribe' | 'unsubscribe' | 'punsubscribe', names: string[]): RedisReply => {
    const set = kind.startsWith('p') ? session.patterns : session.channels;
    const replies: RedisReply[] = [];
    if (kind === 'subscribe' || kind === 'psubscribe') {
      for (const name of names) {
        set.add(name);
        replies.push(confirmation(kind, name, session.subscriptions));
      }
    } else {
      const targets = names.length > 0 ? names : [...set];
      if (targets.length === 0) replies.push(confirmation(kind, null, session.subscriptions));
      for (const name of targets) {
        set.delete(name);
        replies.push(confirmation(kind, name, session.subscriptions));
      }
    }
    engine.notifier.update(session);
    return { t: 'many', replies };
  };
  return (['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe'] as const).map((kind) =>
    command<string[]>({
      name: kind,
      sessionOnly: true,
      notInMulti: NOT_IN_MULTI,
      parse: (args) => args.map((a) => a.toString('utf8')),
      run: (names, env) => change(env.session, kind, names),
    }),
  );
}
