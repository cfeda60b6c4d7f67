import type { CommandHost } from '../command-host';
import { COMMAND_TABLE } from '../command-table';
import { errorReply } from '../outcome';
import { CommandDef, Env, command } from '../command';
import { word } from '../args';
import { ERR, unknownSubcommand } from '../errors';
import { globMatch } from '../glob';
import { NULL, OK, RedisError, RedisReply, array, int, map, simple, text, verbatim } from '../reply';
import { keysOf, KEYS } from './results';
import { REDIS_VERSION } from './connection';

const FAMILY: Record<string, string> = {};
for (const name of ['ping', 'echo', 'auth', 'hello', 'select', 'quit', 'reset', 'client']) FAMILY[name] = 'connection';
for (const name of ['command', 'info', 'time', 'dbsize', 'config', 'flushdb', 'flushall']) FAMILY[name] = 'server';
for (const name of ['multi', 'exec', 'discard', 'watch', 'unwatch']) FAMILY[name] = 'transactions';
for (const name of ['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']) FAMILY[name] = 'pubsub';
for (const name of ['cachelog.getat', 'cachelog.versions', 'cachelog.subscribe', 'cachelog.unsubscribe']) FAMILY[name] = 'cachelog';
for (const name of ['del', 'unlink', 'exists', 'type', 'rename', 'renamenx', 'copy', 'touch', 'keys', 'scan', 'randomkey']) FAMILY[name] = 'generic';
for (const name of ['expire', 'pexpire', 'expireat', 'pexpireat', 'ttl', 'pttl', 'expiretime', 'pexpiretime', 'persist']) FAMILY[name] = 'generic';

/** COMMAND's entry for a command, from Redis's table: name, arity, flags, first/last key, step, and empty ACL/tips/key-specs/subcommands. */
function commandEntry(name: string): RedisReply {
  const row = COMMAND_TABLE[name];
  return array([
    text(name),
    int(row.arity),
    { t: 'set', items: row.flags.map((flag) => simple(flag)) },
    int(row.keyStart),
    int(row.keyStop),
    int(row.step),
    array([]),
    array([]),
    array([]),
    array([]),
  ]);
}

function commandDocs(name: string): RedisReply {
  return map([
    [text('summary'), text(`${name.toUpperCase()} as in Redis ${REDIS_VERSION}; differences in cachelog's docs/redis.md`)],
    [text('since'), text('1.0.0')],
    [text('group'), text(FAMILY[name] ?? 'string')],
  ]);
}

/** The read-only configuration clients ask for at connect (CONFIG GET), as Redis names it. */
function configValues(engine: CommandHost): Array<[string, string]> {
  const facts = engine.facts;
  return [
    ['appendonly', 'yes'],
    ['appendfsync', 'always'],
    ['databases', '16'],
    ['maxmemory', '0'],
    ['maxmemory-policy', 'noeviction'],
    ['notify-keyspace-events', 'AKE'],
    ['port', String(facts.port)],
    ['proto-max-bulk-len', String(facts.maxValueBytes)],
    ['save', ''],
    ['timeout', '0'],
    ['tls-port', facts.tls ? String(facts.port) : '0'],
    ['cluster-enabled', 'no'],
  ];
}

const INFO_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'keyspace'] as const;
/** Caches the keyspace section lists at most (each one it lists is loaded). */
const KEYSPACE_MAX_CACHES = 64;

async function info(engine: CommandHost, sections: readonly string[], env: Env): Promise<RedisReply> {
  const wanted = new Set(sections.length === 0 || sections.includes('all') || sections.includes('everything') || sections.includes('default') ? INFO_SECTIONS : sections);
  const facts = engine.facts;
  const stats = facts.stats();
  const memory = process.memoryUsage();
  const lines: string[] = [];
  const section = (name: string, rows: Array<[string, string | number]>) => {
    if (!wanted.has(name)) return;
    if (lines.length > 0) lines.push('');
    lines.push(`# ${name[0].toUpperCase()}${name.slice(1)}`);
    for (const [k, v] of rows) lines.push(`${k}:${v}`);
  };
  const uptime = Math.floor((env.now - facts.startedAt) / 1000);
  section('server', [
    ['redis_version', REDIS_VERSION],
    ['redis_mode', 'standalone'],
    ['server_name', 'cachelog'],
    ['cachelog_version', facts.version],
    ['os', `${process.platform} ${process.arch}`],
    ['process_id', process.pid],
    ['tcp_port', facts.port],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
  ]);
  const org = env.session.principal!.org;
  section('clients', [
    ['connected_clients', [...env.sessions].filter((s) => s.principal?.org === org || s === env.session).length],
    ['blocked_clients', 0],
  ]);
  section('memory', [
    ['used_memory', memory.heapUsed + memory.external],
    ['used_memory_rss', memory.rss],
    ['maxmemory', 0],
    ['maxmemory_policy', 'noeviction'],
  ]);
  section('persistence', [
    ['loading', 0],
    ['aof_enabled', 1],
    ['aof_rewrite_in_progress', 0],
    ['rdb_changes_since_last_save', 0],
  ]);
  section('stats', [
    ['total_connections_received', stats.totalConnections],
    ['total_commands_processed', stats.commands],
    ['rejected_connections', stats.rejectedConnections],
    ['total_net_input_bytes', stats.inputBytes],
    ['total_net_output_bytes', stats.outputBytes],
  ]);
  if (wanted.has('keyspace')) {
    // The caller's org only: another org's caches are neither named nor counted.
    const rows: Array<[string, string]> = [];
    const names = (await engine.gateway.cacheNames(env.ctx)).filter((row) => !row.deleted).slice(0, KEYSPACE_MAX_CACHES);
    for (const { cacheName } of names) {
      const state = await engine.gateway.stateNow(env.ctx, cacheName);
      if (state.status !== 'live') continue;
      let keys = 0;
      let expires = 0;
      for (const [, entry] of state.entries.entries()) {
        if (entry.expiresAt !== 0 && entry.expiresAt <= env.now) continue;
        keys++;
        if (entry.expiresAt !== 0) expires++;
      }
      if (keys > 0) rows.push([`db${cacheName.replace(/[\s:,]/g, '_')}`, `keys=${keys},expires=${expires},avg_ttl=0`]);
    }
    if (lines.length > 0) lines.push('');
    lines.push('# Keyspace');
    for (const [k, v] of rows) lines.push(`${k}:${v}`);
  }
  return verbatim(lines.join('\r\n') + '\r\n');
}

type CommandRequest = { sub: 'all' | 'count' | 'list' | 'help' } | { sub: 'info' | 'docs'; names: string[] };

export function serverCommands(engine: CommandHost): CommandDef<any>[] {
  return [
    command<CommandRequest>({
      name: 'command',
      sessionOnly: true,
      parse: (args) => {
        if (args.length === 0) return { sub: 'all' };
        const sub = word(args[0]);
        if (sub === 'count' || sub === 'list' || sub === 'help') return { sub };
        if (sub === 'info' || sub === 'docs') return { sub, names: args.slice(1).map((a) => a.toString('latin1').toLowerCase()) };
        throw new RedisError(unknownSubcommand(args[0].toString('latin1'), 'command'));
      },
      run: (request) => {
        const supported = [...engine.supported.keys()];
        switch (request.sub) {
          case 'all':
            return array(supported.map(commandEntry));
          case 'count':
            return int(supported.length);
          case 'list':
            return array(supported.map(text));
          case 'help':
            return array(['COMMAND [<subcommand>]', 'COUNT', 'DOCS [<command-name> ...]', 'INFO [<command-name> ...]', 'LIST'].map(simple));
          case 'info':
            return array((request.names.length === 0 ? supported : request.names).map((name) => (engine.supported.has(name) ? commandEntry(name) : NULL)));
          case 'docs':
            return map((request.names.length === 0 ? supported : request.names).filter((name) => engine.supported.has(name)).map((name) => [text(name), commandDocs(name)] as const));
        }
      },
    }),
    command<string[]>({
      name: 'info',
      notInMulti: 'ERR INFO inside MULTI is not supported by cachelog',
      parse: (args) => args.map(word),
      run: (sections, env) => info(engine, sections, env),
    }),
    command<void>({
      name: 'time',
      sessionOnly: true,
      parse: () => undefined,
      run: (_request, env) => {
        const micros = BigInt(env.now) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
        return array([text(String(micros / 1_000_000n)), text(String(micros % 1_000_000n))]);
      },
    }),
    command<{ sub: 'get'; patterns: Buffer[] } | { sub: 'help' }>({
      name: 'config',
      sessionOnly: true,
      notInMulti: 'ERR CONFIG inside MULTI is not supported by cachelog',
      parse: (args) => {
        const sub = word(args[0]);
        if (sub === 'get') {
          if (args.length < 2) throw new RedisError("ERR wrong number of arguments for 'config|get' command");
          return { sub, patterns: args.slice(1) };
        }
        if (sub === 'help') return { sub };
        if (sub === 'set' || sub === 'resetstat' || sub === 'rewrite') throw new RedisError(`ERR CONFIG ${sub.toUpperCase()} is not supported by cachelog: its settings come from the environment (README, Configuration)`);
        throw new RedisError(unknownSubcommand(args[0].toString('latin1'), 'config'));
      },
      run: (request) => {
        if (request.sub === 'help') return array(['CONFIG <subcommand> [<arg> ...]. Subcommands are:', 'GET <pattern>', '    Return parameters matching the glob-like <pattern> and their values.'].map(simple));
        const found = configValues(engine).filter(([name]) => request.patterns.some((p) => globMatch(Buffer.from(p.toString('latin1').toLowerCase(), 'latin1'), Buffer.from(name))));
        return map(found.map(([k, v]) => [text(k), text(v)] as const));
      },
    }),
    command<void>({
      name: 'flushdb',
      parse: (args) => {
        if (args.length > 1 || (args.length === 1 && !['async', 'sync'].includes(word(args[0])))) throw new RedisError(ERR.syntax);
      },
      plan: () => ({ ops: [{ op: 'flush' }], reply: () => OK }),
    }),
    command<void>({
      name: 'flushall',
      notInMulti: 'ERR FLUSHALL inside MULTI is not supported by cachelog: a transaction runs in one cache',
      parse: (args) => {
        if (args.length > 1 || (args.length === 1 && !['async', 'sync'].includes(word(args[0])))) throw new RedisError(ERR.syntax);
      },
      // Every cache of the caller's org, never another org's: one Flushed event per cache with keys.
      run: async (_request, env) => {
        const names = (await engine.gateway.cacheNames(env.ctx)).filter((row) => !row.deleted);
        for (const { cacheName } of names) {
          const reply = await engine.gateway.ask(env.ctx, cacheName, { type: 'ApplyOperations', by: env.ctx.principal.name, device: env.ctx.device, ops: [{ op: 'flush' }] });
          if (!reply.ok) return errorReply(reply.error);
          // The session's read-your-writes token is a seq of its own cache: its flush moves it, as FLUSHDB's does.
          const last = reply.envelopes[reply.envelopes.length - 1];
          if (cacheName === env.cache && last !== undefined && last.seq > env.session.lastWriteSeq) env.session.lastWriteSeq = last.seq;
        }
        return OK;
      },
    }),
  ];
}

export { keysOf, KEYS };
