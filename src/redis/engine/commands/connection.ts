import type { CommandHost } from '../command-host';
import { CommandDef, Env, command } from '../command';
import { cacheNameArg, intArg, word } from '../args';
import { ERR, unknownSubcommand } from '../errors';
import { NULL, OK, RedisError, RedisReply, array, bulk, fields, int, simple, text, verbatim } from '../reply';
import { Session } from '../session';

/** The Redis version cachelog's command semantics follow (HELLO, INFO). */
export const REDIS_VERSION = '7.0.0';

const NOAUTH_HELLO =
  'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time';

/**
 * AUTH's two forms: `AUTH <jwt>` and `AUTH <user> <jwt>`. The token is a JWT of any family;
 * a user other than `default` names the cache the connection starts on.
 */
function authenticate(engine: CommandHost, session: Session, user: Buffer | undefined, token: Buffer): void {
  const database = user === undefined || user.toString('latin1') === 'default' ? undefined : cacheNameArg(user);
  let principal;
  try {
    principal = engine.auth.verify(token.toString('utf8'));
  } catch {
    throw new RedisError(ERR.wrongPass);
  }
  session.principal = principal;
  session.token = token.toString('utf8');
  if (database !== undefined) session.db = database;
  // Subscriptions follow the principal's org (a re-AUTH as another org moves them there).
  if (session.subscriptions > 0) engine.notifier.update(session);
}

/** `CLIENT LIST` / `CLIENT INFO`'s line for a session (Redis's fields; `db` is the cache name). */
export function clientLine(session: Session, now: number): string {
  const age = Math.max(0, Math.floor((now - session.createdAt) / 1000));
  const idle = Math.max(0, Math.floor((now - session.lastActive) / 1000));
  const flags = session.multi !== null ? 'x' : 'N';
  return (
    `id=${session.id} addr=${session.address} laddr=${session.localAddress} fd=-1 name=${session.name} age=${age} idle=${idle} flags=${flags} ` +
    `db=${session.db.replace(/\s/g, '_')} sub=0 psub=0 ssub=0 multi=${session.multi === null ? -1 : session.multi.length} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 ` +
    `rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${session.lastCommand} user=${(session.principal?.name ?? 'default').replace(/\s/g, '_')} ` +
    `redir=-1 resp=${session.resp} lib-name=${session.libName} lib-ver=${session.libVersion}\n`
  );
}

/** A client name: Redis refuses spaces, newlines and characters outside '!'..'~'. */
function clientName(bytes: Buffer): string {
  for (const byte of bytes) if (byte < 0x21 || byte > 0x7e) throw new RedisError('ERR Client names cannot contain spaces, newlines or special characters.');
  return bytes.toString('latin1');
}

type ClientRequest =
  | { sub: 'id' | 'getname' | 'info' }
  | { sub: 'setname'; name: string }
  | { sub: 'setinfo'; attr: 'lib-name' | 'lib-ver'; value: string }
  | { sub: 'list'; ids?: number[] }
  | { sub: 'help' };

export function connectionCommands(engine: CommandHost): CommandDef<any>[] {
  return [
    command<Buffer | undefined>({
      name: 'ping',
      sessionOnly: true,
      parse: (args) => {
        if (args.length > 1) throw new RedisError("ERR wrong number of arguments for 'ping' command");
        return args[0];
      },
      run: (message, env) => {
        // Subscribed over RESP2, Redis answers PING as a pub/sub message.
        if (env.session.resp === 2 && env.session.subscriptions > 0) return array([bulk(Buffer.from('pong')), bulk(message ?? Buffer.alloc(0))]);
        return message === undefined ? simple('PONG') : bulk(message);
      },
    }),
    command<Buffer>({
      name: 'echo',
      sessionOnly: true,
      parse: (args) => args[0],
      run: (message) => bulk(message),
    }),
    command<{ user?: Buffer; token: Buffer }>({
      name: 'auth',
      noAuth: true,
      sessionOnly: true,
      notInMulti: 'ERR AUTH inside MULTI is not allowed',
      parse: (args) => {
        if (args.length > 2) throw new RedisError(ERR.syntax);
        return args.length === 1 ? { token: args[0] } : { user: args[0], token: args[1] };
      },
      run: (request, env) => {
        authenticate(engine, env.session, request.user, request.token);
        return OK;
      },
    }),
    command<{ version?: 2 | 3; auth?: [Buffer, Buffer]; name?: string }>({
      name: 'hello',
      noAuth: true,
      sessionOnly: true,
      notInMulti: 'ERR HELLO inside MULTI is not allowed',
      parse: (args) => {
        const request: { version?: 2 | 3; auth?: [Buffer, Buffer]; name?: string } = {};
        if (args.length === 0) return request;
        let version: bigint;
        try {
          version = intArg(args[0]);
        } catch {
          throw new RedisError('ERR Protocol version is not an integer or out of range');
        }
        if (version !== 2n && version !== 3n) throw new RedisError('NOPROTO unsupported protocol version');
        request.version = Number(version) as 2 | 3;
        for (let i = 1; i < args.length; i++) {
          const option = word(args[i]);
          if (option === 'auth' && i + 2 < args.length) {
            request.auth = [args[i + 1], args[i + 2]];
            i += 2;
          } else if (option === 'setname' && i + 1 < args.length) {
            request.name = clientName(args[i + 1]);
            i += 1;
          } else {
            throw new RedisError(`ERR Syntax error in HELLO option '${args[i].toString('latin1').slice(0, 128)}'`);
          }
        }
        return request;
      },
      run: (request, env) => {
        const session = env.session;
        if (request.auth !== undefined) authenticate(engine, session, request.auth[0], request.auth[1]);
        else if (!session.authenticated) throw new RedisError(NOAUTH_HELLO);
        if (request.version !== undefined) session.resp = request.version;
        if (request.name !== undefined) session.name = request.name;
        return fields({
          server: 'redis',
          version: REDIS_VERSION,
          proto: session.resp,
          id: session.id,
          mode: 'standalone',
          role: 'master',
          modules: array([]),
        });
      },
    }),
    command<string>({
      name: 'select',
      sessionOnly: true,
      notInMulti: 'ERR SELECT inside MULTI is not supported by cachelog: a transaction runs in one cache (see docs/redis.md)',
      parse: (args) => cacheNameArg(args[0]),
      run: (name, env) => {
        env.session.db = name;
        return OK;
      },
    }),
    command<void>({
      name: 'quit',
      noAuth: true,
      sessionOnly: true,
      transactionControl: true,
      parse: () => undefined,
      run: (_request, env) => {
        env.session.closing = true;
        return OK;
      },
    }),
    command<void>({
      name: 'reset',
      noAuth: true,
      sessionOnly: true,
      transactionControl: true,
      parse: () => undefined,
      run: (_request, env) => {
        const session = env.session;
        session.endTransaction();
        session.channels.clear();
        session.patterns.clear();
        session.streams.clear();
        engine.notifier.update(session);
        session.principal = null;
        session.token = null;
        session.db = '0';
        session.resp = 2;
        session.name = '';
        return simple('RESET');
      },
    }),
    command<ClientRequest>({
      name: 'client',
      sessionOnly: true,
      notInMulti: 'ERR CLIENT inside MULTI is not supported by cachelog',
      parse: (args) => {
        const sub = word(args[0]);
        const arity = (n: number) => {
          if (args.length !== n) throw new RedisError(`ERR wrong number of arguments for 'client|${sub}' command`);
        };
        switch (sub) {
          case 'id':
          case 'getname':
          case 'info':
            arity(1);
            return { sub };
          case 'setname':
            arity(2);
            return { sub, name: clientName(args[1]) };
          case 'setinfo': {
            arity(3);
            const attr = word(args[1]);
            if (attr !== 'lib-name' && attr !== 'lib-ver') throw new RedisError(`ERR Unrecognized option '${args[1].toString('latin1').slice(0, 128)}'`);
            const value = args[2].toString('latin1');
            if (/[^!-~]/.test(value)) throw new RedisError(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
            return { sub, attr, value };
          }
          case 'list': {
            if (args.length === 1) return { sub };
            const option = word(args[1]);
            if (option === 'type' && args.length === 3) {
              const type = word(args[2]);
              if (!['normal', 'master', 'replica', 'pubsub'].includes(type)) throw new RedisError(`ERR Unknown client type '${args[2].toString('latin1')}'`);
              return type === 'normal' ? { sub } : { sub, ids: [] };
            }
            if (option === 'id' && args.length >= 3) {
              const ids = args.slice(2).map((a) => {
                const id = intArg(a, 'ERR Invalid client ID');
                return Number(id);
              });
              return { sub, ids };
            }
            throw new RedisError(ERR.syntax);
          }
          case 'help':
            return { sub };
          default:
            throw new RedisError(unknownSubcommand(args[0].toString('latin1'), 'client'));
        }
      },
      run: (request, env) => clientReply(request, env),
    }),
  ];
}

function clientReply(request: ClientRequest, env: Env): RedisReply {
  const session = env.session;
  switch (request.sub) {
    case 'id':
      return int(session.id);
    case 'getname':
      return session.name === '' ? NULL : text(session.name);
    case 'setname':
      session.name = request.name;
      return OK;
    case 'setinfo':
      if (request.attr === 'lib-name') session.libName = request.value;
      else session.libVersion = request.value;
      return OK;
    case 'info':
      return verbatim(clientLine(session, env.now));
    case 'list': {
      // Your own org's connections only: another org's clients are not even counted.
      const org = session.principal!.org;
      let lines = '';
      for (const other of env.sessions) {
        if (other.principal?.org !== org && other !== session) continue;
        if (request.ids !== undefined && !request.ids.includes(other.id)) continue;
        lines += clientLine(other, env.now);
      }
      return verbatim(lines);
    }
    case 'help':
      return array(
        [
          'CLIENT <subcommand> [<arg> ...]. Subcommands are:',
          'GETNAME',
          '    Return the name of the current connection.',
          'ID',
          '    Return the ID of the current connection.',
          'INFO',
          '    Return information about the current client connection.',
          'LIST [TYPE normal] [ID <id> [<id> ...]]',
          "    Return information about client connections of your organisation.",
          'SETINFO <LIB-NAME|LIB-VER> <value>',
          '    Set client meta attr.',
          'SETNAME <name>',
          '    Assign the name <name> to the current connection.',
        ].map((line) => simple(line)),
      );
  }
}
