import { z } from 'zod';
import { cacheNameParam } from '../contract/params';
import { RouteContract, error, json, named } from '../contract/route-contract';

const Argument = z.union([z.string(), z.number()]).meta({ description: 'an argument: a string (its UTF-8 bytes) or a number (its decimal text)' });
const Command = named('RedisCommand', z.array(Argument).min(1).meta({ description: 'a Redis command: its name, then its arguments', example: ['SET', 'greeting', 'hello', 'EX', 100] }));
const Commands = named('RedisCommands', z.array(Command).min(1));
const Result = named('RedisResult', z.object({ result: z.unknown().meta({ description: 'the reply: a string, a number, null, or an array of them' }) }));
const Outcome = named('RedisOutcome', z.union([Result, named('RedisError', z.object({ error: z.string() }))]));
const Outcomes = named('RedisOutcomes', z.array(Outcome));

const headers = {
  'upstash-sync-token': 'after a write, the sequence number it was journaled at; sent back, a later read waits until it sees it (any node)',
};
const requestHeaders =
  '`Upstash-Encoding: base64`: every string of the answer but `OK` is base64 of its bytes. `Upstash-Response-Format: resp2`: the answer is the raw RESP2 bytes (`application/octet-stream`). `upstash-sync-token`: read at least the writes that answered it. `X-Device-Id`: the events\' device.';
const dbParams = z.object({ db: cacheNameParam });

const single = (summary: string, description: string): RouteContract => ({
  family: 'upstash',
  summary,
  description: `${description} ${requestHeaders}`,
  responses: {
    200: { ...json(Result, 'the reply', { result: 'OK' }), headers },
    400: error(
      "the command failed or was refused, in Redis's words (`ERR ...`, `NOPERM ...`), the request is malformed, or the `upstash-sync-token` is beyond the cache's journal",
      'INVALID_REQUEST',
      'INVALID_ARGUMENT',
      'MIN_SEQ_NOT_REACHED',
    ),
  },
});

const many = (summary: string, description: string): RouteContract => ({
  family: 'upstash',
  summary,
  description: `${description} ${requestHeaders}`,
  body: { contentType: 'application/json', schema: Commands, example: [['SET', 'k', 'v'], ['INCR', 'n'], ['GET', 'k']], size: 'pipeline' },
  responses: {
    200: { ...json(Outcomes, 'one answer per command, in order', [{ result: 'OK' }, { result: 1 }, { result: 'v' }]), headers },
    400: error('the request is malformed, has more than UPSTASH_MAX_PIPELINE_COMMANDS commands, or (multi-exec) was discarded as a whole', 'INVALID_REQUEST', 'INVALID_ARGUMENT', 'MIN_SEQ_NOT_REACHED'),
  },
});

const PATH =
  'The command as path segments (`/set/greeting/hello`, each URL-decoded), a POST or PUT body as its last argument (raw bytes), the query parameters as options (`?EX=100` adds `EX 100`).';
const BODY = 'The command as a JSON array in the body: `["SET","greeting","hello","EX",100]`.';
const PIPELINE = 'Commands answered in order, not atomically (others may interleave); each has its own `result` or `error`.';
const MULTI = 'Commands run as one transaction (MULTI/EXEC): one journaled append, all or none. A command refused when queued (unknown, wrong arity, not permitted) discards the whole transaction: one `error`.';

/**
 * The Upstash-compatible Redis REST API: one operation per shape (not per command) for cache
 * `0` (`/redis`) and any other cache of the org (`/redis/db/{db}`).
 */
export const UpstashContracts = {
  pathCommand: { ...single('Run a Redis command given in the path (cache 0)', PATH), body: { contentType: 'application/octet-stream', size: 'value-any' } },
  bodyCommand: { ...single('Run a Redis command given as a JSON array (cache 0)', BODY), body: { contentType: 'application/json', schema: Command, example: ['SET', 'greeting', 'hello', 'EX', 100], size: 'value-any' } },
  pipeline: many('Run a pipeline of Redis commands (cache 0)', PIPELINE),
  multiExec: many('Run Redis commands as one transaction (cache 0)', MULTI),
  dbPathCommand: { ...single('Run a Redis command given in the path (cache {db})', PATH), params: dbParams, body: { contentType: 'application/octet-stream', size: 'value-any' } },
  dbBodyCommand: { ...single('Run a Redis command given as a JSON array (cache {db})', BODY), params: dbParams, body: { contentType: 'application/json', schema: Command, example: ['GET', 'greeting'], size: 'value-any' } },
  dbPipeline: { ...many('Run a pipeline of Redis commands (cache {db})', PIPELINE), params: dbParams },
  dbMultiExec: { ...many('Run Redis commands as one transaction (cache {db})', MULTI), params: dbParams },
} satisfies Record<string, RouteContract>;
