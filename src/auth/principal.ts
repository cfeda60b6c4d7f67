/** Who is calling, from a verified token. `org` scopes every cache the request can touch. */
export interface Principal {
  readonly org: string;
  readonly name: string;
  readonly serviceLevel: string;
}


declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the edge's `onRequest` hook on every authenticated route (see HttpEdge). */
    principal: Principal | null;
    /** The token the principal was verified from, for per-token limits (never logged). */
    credential: string | null;
  }
}
