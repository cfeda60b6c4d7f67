/** Shared by the baseline servers: the constant answers of the equivalent routes. */
export const VALUE_100 = Buffer.alloc(100, 'v');
export const BODY_LIMIT = 8 * 1024 * 1024;

/** `POST /batch/get`: one base64 value per requested key, like cachelog's answer. */
export function batchGetAnswer(body: unknown): unknown {
  const list = (body as { getCachedBatch?: Array<{ cacheName: string; key: string }> })?.getCachedBatch ?? [];
  const value = VALUE_100.toString('base64');
  return { complete: true, results: list.map(({ cacheName, key }) => ({ cacheName, key, success: true, value })) };
}

export function announce(port: number, startMs: number): void {
  process.send?.({ type: 'ready', port, startMs });
}
