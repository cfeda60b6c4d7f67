import { z } from 'zod';
import { CacheEvent } from '../domain';
import { EntityRef } from './keys';

/**
 * The export format: one JSON object per line and per event, in journal order, each
 * naming its cache, so one file can hold many caches. Values are base64 (a JSON edge),
 * times are ms since the epoch (exact round trip). `offset` is informational: an import
 * assigns new global offsets.
 */
export interface NdjsonEvent {
  readonly ref: EntityRef;
  readonly seq: number;
  readonly event: CacheEvent;
}

export function toNdjsonLine(ref: EntityRef, seq: number, event: CacheEvent, offset?: number): string {
  const base: Record<string, unknown> = { org: ref.org, cacheName: ref.name, seq, ...(offset !== undefined ? { offset } : {}), type: event.type, at: event.at, by: event.by, device: event.device };
  switch (event.type) {
    case 'Set':
      Object.assign(base, { key: event.key, value: Buffer.from(event.value.buffer, event.value.byteOffset, event.value.byteLength).toString('base64'), expiresAt: event.expiresAt });
      break;
    case 'Deleted':
    case 'Expired':
    case 'Evicted':
      base.key = event.key;
      break;
    case 'ExpiryChanged':
      Object.assign(base, { key: event.key, expiresAt: event.expiresAt });
      break;
    case 'SettingsChanged':
      Object.assign(base, { capacity: event.capacity, ttlSeconds: event.ttlSeconds, maxValueBytes: event.maxValueBytes, cacheNullValue: event.cacheNullValue });
      break;
    case 'Created':
    case 'DescriptionChanged':
      base.description = event.description;
      break;
  }
  return JSON.stringify(base) + '\n';
}

const whole = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const meta = { org: z.string().min(1), cacheName: z.string().min(1), seq: whole.min(1), offset: whole.optional(), at: whole, by: z.string(), device: z.string().nullable() };
const Line = z.discriminatedUnion('type', [
  z.object({ ...meta, type: z.literal('Created'), description: z.string() }),
  z.object({ ...meta, type: z.literal('DescriptionChanged'), description: z.string() }),
  z.object({ ...meta, type: z.literal('CacheDeleted') }),
  z.object({ ...meta, type: z.literal('Flushed') }),
  z.object({ ...meta, type: z.literal('Set'), key: z.string(), value: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/), expiresAt: whole }),
  z.object({ ...meta, type: z.literal('Deleted'), key: z.string() }),
  z.object({ ...meta, type: z.literal('Expired'), key: z.string() }),
  z.object({ ...meta, type: z.literal('Evicted'), key: z.string() }),
  z.object({ ...meta, type: z.literal('ExpiryChanged'), key: z.string(), expiresAt: whole }),
  z.object({ ...meta, type: z.literal('SettingsChanged'), capacity: whole, ttlSeconds: whole, maxValueBytes: whole, cacheNullValue: z.boolean() }),
]);

export class NdjsonError extends Error {
  readonly code = 'IMPORT_INVALID_LINE';
}

/** Parses and validates one line; throws NdjsonError naming the line number. */
export function fromNdjsonLine(text: string, lineNo: number): NdjsonEvent {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new NdjsonError(`line ${lineNo}: not valid JSON`);
  }
  const parsed = Line.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new NdjsonError(`line ${lineNo}: ${issue.path.join('.') || 'line'}: ${issue.message}`);
  }
  const { org, cacheName, seq, offset: _offset, ...rest } = parsed.data;
  const event = (rest.type === 'Set' ? { ...rest, value: Buffer.from(rest.value, 'base64') } : rest) as CacheEvent;
  return { ref: { org, name: cacheName }, seq, event };
}
