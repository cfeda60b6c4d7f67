/**
 * The parts of an API family's profile that the shared HTTP layer asks of it. A family
 * implements these in its own folder; the shared layer only imports this file, so a family's
 * code and the shared lists that choose among families never import each other.
 */

/** How one API family writes its errors. */
export interface ErrorFormat {
  readonly family: string;
  matches(path: string): boolean;
  /** Content type and body for an error. */
  render(status: number, code: string, message: string): { contentType: string; body: string };
}

/** How one API family reads a JSON body (IronCache keeps integers beyond 2^53 exact). */
export interface JsonBodyParser {
  readonly family: string;
  matches(path: string): boolean;
  parse(text: string): unknown;
}
