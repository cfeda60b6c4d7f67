/** Who is calling, from a verified token. `org` scopes every cache the request can touch. */
export interface Principal {
  readonly org: string;
  readonly name: string;
  readonly serviceLevel: string;
  /**
   * The token's `readOnly: true` claim: every write command is refused (the Redis engine, over
   * RESP and the Upstash-style HTTP family: NOPERM) and the other HTTP families answer only its
   * GET and HEAD requests. Absent: a token that may write.
   */
  readonly readOnly?: true;
  /**
   * The token's `operator: true` claim: the instance's operator, who may take (and download)
   * a backup of the whole instance, every org's caches included. Only whoever signs tokens can
   * grant it; an operator token is as powerful as the signing key.
   */
  readonly operator?: true;
}

/**
 * The identity every per-caller limit counts by (rate windows, stream slots): the verified
 * claims, never the token's text. One principal has many tokens (minted at other times, with
 * other claims beside these) and one token many accepted spellings (an ES256 signature has 32),
 * and each would otherwise have had a window of its own. The parts are JSON-quoted, so no two
 * (org, name, serviceLevel) triples compose to one key.
 */
export function principalKey(principal: Principal): string {
  return JSON.stringify([principal.org, principal.name, principal.serviceLevel]);
}


declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the edge's `onRequest` hook on every authenticated route (see HttpEdge). */
    principal: Principal | null;
  }
}
