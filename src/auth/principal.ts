/** Who is calling, from a verified token. `org` scopes every cache the request can touch. */
export interface Principal {
  readonly org: string;
  readonly name: string;
  readonly serviceLevel: string;
}

export type RequestWithPrincipal = { principal?: Principal };
