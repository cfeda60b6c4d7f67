import type { TokenSource } from '../auth/token-sources';
import type { ApiFamily } from '../core/request-context';

/**
 * An API family's profile: everything that differs between the HTTP families (where the
 * token travels, how errors look and are worded, how JSON is read, which query parameters
 * are secret), declared once in the family's own file under src/families/ and registered in
 * src/families/index.ts. The shared HTTP layer (edge, error filter, OpenAPI document, ETag
 * hook, request log) asks the profile and never matches URLs itself. Profiles hold data and
 * small pure functions; they import nothing under src/api/.
 */
export interface FamilyProfile {
  readonly id: ApiFamily;
  /**
   * The one prefix matcher: whether a request path (with its query string) belongs to the
   * family. The native family owns every path no other family matches.
   */
  readonly prefix: RegExp;
  /** Where its token travels, and what else its principal must satisfy. */
  readonly tokens: TokenSource;
  /** Its error body, and that body's schema in the OpenAPI document. */
  readonly errors: ErrorFormat;
  /** Reads a JSON request body (IronCache keeps numbers exact; the others use `JSON.parse`). */
  parseJson(text: string): unknown;
  /** Words a refusal in the family's terms: status, code and text (the error catalogue's by default). */
  word(refusal: Refusal): Rejection;
  /** Query parameters that carry its credentials: their values are never logged. */
  readonly secretQueryParams: readonly string[];
  /** Whether its GETs of one cache carry the cache's ETag and answer `If-None-Match` with 304. */
  readonly conditionalReads: boolean;
  readonly openApi: FamilyOpenApi;
}

/** How one API family writes its errors. */
export interface ErrorFormat {
  /** Content type and body for an error. */
  render(status: number, code: string, message: string): { contentType: string; body: string };
  /** The body's schema, for the OpenAPI document (one component per distinct format). */
  readonly schema: ErrorSchema;
}

type Json = Record<string, unknown>;

export interface ErrorSchema {
  readonly contentType: string;
  readonly component: string;
  readonly schema: Json;
  readonly example: unknown;
}

/**
 * The family's part of the OpenAPI document. Every family takes `Authorization: Bearer <JWT>`,
 * so the document has one bearer scheme for all of them; the other places a family reads the
 * same token are documented beside it as alternatives.
 */
export interface FamilyOpenApi {
  /** Its tag's description. */
  readonly description: string;
  /** Where else it reads the token: a query parameter (an optional parameter of each operation) and header forms (in words). */
  readonly tokenAlternatives?: { readonly query?: string; readonly header?: string };
  /** Errors every authenticated route of the family can answer besides the shared ones. */
  readonly sharedErrors?: Readonly<Record<number, SharedError>>;
}

/** An error answer shared by many routes: what it means and the catalogued codes it carries. */
export interface SharedError {
  readonly description: string;
  readonly codes: readonly string[];
}

/**
 * Something refused, to be worded by a family: a catalogued code (a domain rejection's, or
 * one the HTTP layer refuses with), the refuser's own message if it has one (the domain's
 * detail), and the cache it concerns.
 */
export interface Refusal {
  readonly code: string;
  readonly message?: string;
  readonly cacheName?: string;
}

/** A refusal as a family answers it. */
export interface Rejection {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}
