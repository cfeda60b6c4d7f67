import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Logger as PinoLogger } from 'pino';
import { APP_CONFIG, AppConfig } from '../config/config';
import { AnswerBudget } from '../core/answer-budget';
import { ConnectionBudget } from '../core/connection-budget';
import { RouteFamily, familyOf, profileOf } from '../families';
import { Journal } from '../journal/journal';
import { Metrics } from '../ops/metrics';
import { observeRequests } from '../ops/request-observer';
import { contractOf } from './contract/route-contract';
import { limitConnections } from './edge/connection-limits';
import { HttpEdge } from './edge/http-edge';
import { limitUnreadAnswers } from './edge/unread-answers';
import { closeIdleSocketsAfterPendingReads } from './edge/socket-timeouts';
import { reportStorageFaultsTo } from './errors/http-error.filter';
import { ConditionalReads } from './history/conditional-get.hook';
import { ReadYourWrites } from './history/read-your-writes';
import { NativeFastRoutes } from './native/fast-routes';
import { UpstashRoutes } from './upstash/upstash.routes';

/** What a route's shape calls for, decided once when the route is registered (never per request). */
export interface RoutePolicy {
  /** GET or HEAD of one cache (a `:cacheName` in its path): `minSeq` applies. */
  readonly readsOneCache: boolean;
  /** A read of one cache in a family whose reads carry ETags (not a stream): ETag and If-None-Match. */
  readonly conditionalRead: boolean;
  /** A write of the native API (keys, names, settings): its answer carries the written cache's `ETag: "v<seq>"`. */
  readonly taggedWrite: boolean;
}

/** The families whose writes change one cache's keys or settings (a task's submission does not). */
const TAGGED_WRITES: ReadonlySet<RouteFamily> = new Set<RouteFamily>(['native', 'settings']);

export function routePolicyOf(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): RoutePolicy {
  const methods = [route.method].flat().map((method) => method.toUpperCase());
  const reads = methods.every((method) => method === 'GET' || method === 'HEAD');
  const contract = contractOf(route.config);
  const family = contract !== undefined ? profileOf(contract.family) : familyOf(route.url);
  const readsOneCache = reads && route.url.includes(':cacheName');
  return {
    readsOneCache,
    conditionalRead: readsOneCache && family.conditionalReads && !route.url.endsWith('/stream'),
    taggedWrite: !reads && contract !== undefined && TAGGED_WRITES.has(contract.family),
  };
}

/** Our hooks on a route: Fastify derives HEAD from GET's options, which already carry them. */
const PIPELINE_HOOK = Symbol('pipeline hook');
type Hook = (...args: never[]) => unknown;
const mark = <H extends Hook>(hook: H): H => Object.assign(hook, { [PIPELINE_HOOK]: true });
const carries = (hooks: unknown): boolean => [hooks ?? []].flat().some((hook) => typeof hook === 'function' && PIPELINE_HOOK in hook);
const listOf = (hooks: unknown): Hook[] => [hooks ?? []].flat() as Hook[];
// Route-level hooks run after the application's (the edge's): ours come first among them, so a
// route's own hook (the fast write reads its body in its `onRequest`) runs after them.
const prepend = (hooks: unknown, ...added: Hook[]): Hook[] => [...added, ...listOf(hooks)];

/**
 * The HTTP pipeline, declared here and nowhere else, in the order a request meets it:
 *
 * 1. socket: the connection budget (MAX_CONNECTIONS, per address, anonymous; shared with the
 *    RESP listener) and idle timeouts that spare a socket whose answer is being computed;
 * 2. `onRequest` (every route): the edge — token by the route's family, rate limit by the
 *    verified principal, read-only tokens, a declared body larger than the route takes —
 *    then the connection leaves the anonymous budget, then `minSeq` is taken or refused;
 * 3. body: the edge's parsers, each bounded by the route's contract (the hottest native write
 *    reads its raw body through the same reader, in its own `onRequest`);
 * 4. `preValidation`: the route contract's compiled validator (RouteCatalog; the fast routes
 *    run theirs inline);
 * 5. `preHandler`: the answer budget (every route: a connection holding unread answers over
 *    its share produces nothing more until its client reads; an org over its share is 429),
 *    then, on reads of one cache, the `minSeq` wait and ETag / If-None-Match (304);
 * 6. the handler: Nest controllers, the fast native routes, the Upstash routes;
 * 7. `onSend`: `If-None-Match: *` judged by the answer (reads); the written seq as ETag
 *    (writes); the answer charged to its connection and org until the socket has written it;
 * 8. `onResponse`: one metric sample and one log line.
 *
 * Which of 5 and 7 a route gets is decided from its contract and shape when it is registered
 * (`routePolicyOf`), so a route pays only for what applies to it. 405s for verbs a path does
 * not serve are routes too (method-not-allowed.ts), added once every route is known; the
 * route catalog (the OpenAPI document's source) sees every route as it is registered.
 */
export function assembleHttpPipeline(app: NestFastifyApplication, fastify: FastifyInstance, server: HttpServer | HttpsServer, log: PinoLogger): void {
  const config = app.get<AppConfig>(APP_CONFIG);
  // 1.
  closeIdleSocketsAfterPendingReads(server);
  const connections = limitConnections(server, config.edge, app.get(ConnectionBudget));
  // 2. and 3.
  app.get(HttpEdge).register(fastify);
  fastify.addHook('onRequest', connections.onRequest);
  // 5. and 7. (the answer budget, on every route).
  limitUnreadAnswers(fastify, app.get(AnswerBudget));
  // 2. (minSeq), 5. and 7., per route, for the routes registered from here on (all that are not public).
  const readYourWrites = app.get(ReadYourWrites);
  const conditionalReads = app.get(ConditionalReads);
  const takeMinSeq = { [String(true)]: mark(readYourWrites.take(true)), [String(false)]: mark(readYourWrites.take(false)) };
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (carries(route.onRequest)) return;
    const policy = routePolicyOf(route);
    const routeHooks = route as unknown as Record<'onRequest' | 'preHandler' | 'onSend', unknown>;
    routeHooks.onRequest = prepend(route.onRequest, takeMinSeq[String(policy.readsOneCache)]);
    const preHandler = [...(policy.readsOneCache ? [mark(readYourWrites.reach)] : []), ...(policy.conditionalRead ? [mark(conditionalReads.check)] : [])];
    if (preHandler.length > 0) routeHooks.preHandler = prepend(route.preHandler, ...preHandler);
    if (policy.conditionalRead) routeHooks.onSend = prepend(route.onSend, mark(conditionalReads.judgeAnyTag));
    if (policy.taggedWrite) routeHooks.onSend = prepend(route.onSend, mark(conditionalReads.tagWrite));
  });
  // 6. (the routes registered on Fastify directly; Nest's come with app.init()).
  app.get(NativeFastRoutes).register(fastify);
  app.get(UpstashRoutes).register(fastify);
  // 8., and storage failures seen by any handler reported to the journal's health.
  observeRequests(fastify, app.get(Metrics), log);
  reportStorageFaultsTo(fastify, app.get(Journal));
}
