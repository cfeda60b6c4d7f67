import type { Principal } from '../auth/principal';

/** The API families cachelog speaks; each HTTP one has one profile (src/families/: its prefix, token source, error format, wording). */
export type ApiFamily = 'native' | 'settings' | 'ironcache' | 'momento' | 'tasks' | 'history' | 'ops' | 'redis' | 'upstash';

/**
 * Who asks, through which family, from which device: everything the core needs of a request,
 * whatever the transport (an HTTP request, a RESP connection).
 */
export interface RequestContext {
  readonly principal: Principal;
  readonly family: ApiFamily;
  /** The client's device id for the events' audit fields; null when it sent none. */
  readonly device: string | null;
}

const MAX_DEVICE_ID = 256;

/** A context from a principal and an optional device id (cut to a bounded length). */
export function requestContext(principal: Principal, family: ApiFamily, device?: string | null): RequestContext {
  return { principal, family, device: typeof device === 'string' && device.length > 0 ? device.slice(0, MAX_DEVICE_ID) : null };
}

/** The audit fields every command carries. */
export function commandMetaOf(ctx: RequestContext): { by: string; device: string | null } {
  return { by: ctx.principal.name, device: ctx.device };
}
