import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { HttpResult } from './test-app';

/** What one status of one operation answers: a content type and a body schema, or no body. */
export interface ResponseSpec {
  /** The Content-Type the body must have; absent with `empty`. */
  readonly contentType?: RegExp;
  /** JSON Schema of a JSON body (validated with ajv); absent: any body of that type. */
  readonly schema?: object;
  /** A text body (not JSON) must match this. */
  readonly text?: RegExp;
  /** No body at all (201/202/204). */
  readonly empty?: boolean;
}

/** `'GET /cacheName/{cacheName}'` → status → what it answers. */
export type Operations = Record<string, Record<number, ResponseSpec>>;

/** A status the reference does not list for an operation, answered on purpose. */
export interface Addition {
  readonly why: string;
  readonly response: ResponseSpec;
}

export interface ConformanceOptions {
  /** The reference's operations and their statuses. */
  readonly operations: Operations;
  /** Statuses the reference lacks, answered by any operation (401, 413, 429, 503, ...). */
  readonly additions: Record<number, Addition>;
  /** Where cachelog knowingly answers differently from the reference: `'GET /x 200'` → why and what instead. */
  readonly deviations?: Record<string, Addition>;
  /** Declared statuses no request can produce here: `'GET /x 400'` → why. */
  readonly neverAnswered?: Record<string, string>;
  /** Extra schemas the others `$ref` (e.g. a whole OpenAPI document under an `$id`). */
  readonly schemas?: object[];
}

/**
 * Checks real responses against a reference: each response's status must be declared for its
 * operation or be a listed addition, its Content-Type must match, and its body must validate
 * against the schema (ajv). It records what was seen, so a test can then require that every
 * operation and every declared status was driven (or is listed as never answered), and that
 * every listed addition was actually produced: nothing is skipped silently.
 */
export class Conformance {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly compiled = new Map<object, ValidateFunction>();
  private readonly seen = new Set<string>();
  private readonly additionsSeen = new Set<number>();

  constructor(private readonly options: ConformanceOptions) {
    addFormats(this.ajv);
    this.ajv.addFormat('binary', true); // OpenAPI's raw bytes: not a JSON string format
    for (const schema of options.schemas ?? []) this.ajv.addSchema(schema);
  }

  /** Checks one response of `operation` (`'METHOD /template'`); returns it for chaining. */
  check(operation: string, response: HttpResult): HttpResult {
    const statuses = this.options.operations[operation];
    if (statuses === undefined) throw new Error(`${operation} is not an operation of the reference`);
    const key = `${operation} ${response.status}`;
    this.seen.add(key);
    const deviation = this.options.deviations?.[key];
    const addition = statuses[response.status] === undefined ? this.options.additions[response.status] : undefined;
    if (addition) this.additionsSeen.add(response.status);
    const spec = deviation?.response ?? statuses[response.status] ?? addition?.response;
    // A status neither declared nor listed fails here, naming it.
    expect({ response: key, declaredOrListed: spec !== undefined }).toEqual({ response: key, declaredOrListed: true });
    this.conform(key, spec!, response);
    return response;
  }

  /** A response to a request that is no operation of the reference (a 405 for a verb it lacks): it must be a listed addition. */
  checkAddition(request: string, response: HttpResult): HttpResult {
    const addition = this.options.additions[response.status];
    const key = `${request} ${response.status}`;
    expect({ response: key, listedAddition: addition !== undefined }).toEqual({ response: key, listedAddition: true });
    this.additionsSeen.add(response.status);
    this.conform(key, addition!.response, response);
    return response;
  }

  private conform(key: string, spec: ResponseSpec, response: HttpResult): void {
    if (spec.empty) {
      expect({ response: key, bodyBytes: response.body.length }).toEqual({ response: key, bodyBytes: 0 });
      return;
    }
    const contentType = response.headers.get('content-type') ?? '';
    expect({ response: key, contentType }).toEqual({ response: key, contentType: expect.stringMatching(spec.contentType!) });
    if (spec.text !== undefined) expect({ response: key, text: response.text }).toEqual({ response: key, text: expect.stringMatching(spec.text) });
    if (spec.schema === undefined) return;
    let validate = this.compiled.get(spec.schema);
    if (validate === undefined) this.compiled.set(spec.schema, (validate = this.ajv.compile(spec.schema)));
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      body = `(not JSON) ${response.text.slice(0, 200)}`;
    }
    validate(body);
    expect({ response: key, body, errors: validate.errors ?? null }).toEqual({ response: key, body, errors: null });
  }

  /** Every operation and declared status was driven (or is listed as never answered); every listed addition was produced. */
  assertCoverage(): void {
    const missing: string[] = [];
    for (const [operation, statuses] of Object.entries(this.options.operations)) {
      for (const status of Object.keys(statuses)) {
        const key = `${operation} ${status}`;
        if (!this.seen.has(key) && this.options.neverAnswered?.[key] === undefined) missing.push(key);
      }
    }
    for (const key of Object.keys(this.options.deviations ?? {})) if (!this.seen.has(key)) missing.push(`${key} (deviation)`);
    for (const status of Object.keys(this.options.additions)) if (!this.additionsSeen.has(Number(status))) missing.push(`addition ${status}`);
    expect(missing).toStrictEqual([]);
  }
}

/** Retries a write until the journal, which reopens the database by itself after a failure, acknowledges it again. */
export async function healed(write: () => Promise<HttpResult>): Promise<void> {
  for (let status = (await write()).status; status !== 201; status = (await write()).status) {
    expect(status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
