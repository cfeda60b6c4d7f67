import { CacheCommand } from './commands';
import { decideOperations } from './decide-operations';
import { DomainError, domainError } from './errors';
import { CacheEvent, EventMeta } from './events';
import { assertNever } from './evolve';
import { OperationResult } from './operations';
import { decideRestore, restoredBytes } from './restore';
import { CacheSettings, sameSettings } from './settings';
import { CacheState, isExpired, liveEntry } from './state';
import { INT64_MAX, INT64_MIN, NOT_AN_INTEGER, OUT_OF_RANGE, checkValue, defaultExpiry, evictions, isInt64, parseInt64, store } from './write-rules';

export { INT64_MAX, INT64_MIN, overCapacity } from './write-rules';

export type Decision =
  | {
      readonly ok: true;
      readonly events: CacheEvent[];
      /** `ApplyOperations` only: one result per operation, in order (absent when `aborted`). */
      readonly results?: readonly OperationResult[];
      /** `ApplyOperations` only: a watched key had changed, so nothing was decided (Redis EXEC's null reply). */
      readonly aborted?: boolean;
    }
  | { readonly ok: false; readonly error: DomainError };

const accept = (...events: CacheEvent[]): Decision => ({ ok: true, events });
/** For lists as long as a cache (evictions, restores): spreading them into a call overflows the stack. */
const acceptAll = (events: CacheEvent[]): Decision => ({ ok: true, events });
const reject = (error: DomainError): Decision => ({ ok: false, error });

const cacheNotFound = (): Decision => reject(domainError('CACHE_NOT_FOUND', 'cache does not exist'));

/** Pure: no I/O and no clock; `now` (ms since the epoch) is data. */
export function decide(state: CacheState, command: CacheCommand, now: number): Decision {
  const meta: EventMeta = { at: now, by: command.by, device: command.device ?? null };
  switch (command.type) {
    case 'CreateCache':
      if (state.status === 'live') {
        return state.description === command.description
          ? accept()
          : accept({ ...meta, type: 'DescriptionChanged', description: command.description });
      }
      return accept({ ...meta, type: 'Created', description: command.description });

    case 'ChangeDescription':
      if (state.status !== 'live') return cacheNotFound();
      return state.description === command.description
        ? accept()
        : accept({ ...meta, type: 'DescriptionChanged', description: command.description });

    case 'DeleteCache':
      return state.status === 'live' ? accept({ ...meta, type: 'CacheDeleted' }) : cacheNotFound();

    case 'Flush':
      if (state.status !== 'live') return cacheNotFound();
      return state.entries.size === 0 ? accept() : accept({ ...meta, type: 'Flushed' });

    case 'SetValue': {
      const ttl = command.ttlSeconds ?? 0;
      if (!Number.isSafeInteger(ttl) || ttl < 0) {
        return reject(domainError('INVALID_ARGUMENT', 'ttlSeconds must be a whole number >= 0'));
      }
      if (command.requireCache && state.status !== 'live') return cacheNotFound();
      const invalid = checkValue(state, command.value);
      if (invalid) return reject(invalid);
      const current = liveEntry(state, command.key, now);
      if (command.mode === 'add' && current !== undefined) {
        return reject(domainError('KEY_EXISTS', 'the key already exists (add only stores new keys)'));
      }
      if ((command.mode === 'replace' || command.ifVersion !== undefined) && current === undefined) {
        return reject(domainError('KEY_NOT_FOUND', 'key does not exist'));
      }
      if (command.ifVersion !== undefined && current!.version !== command.ifVersion) {
        return reject(domainError('CAS_MISMATCH', 'the key was changed since (cas does not match)'));
      }
      const previous = state.status === 'live' ? state.entries.get(command.key) : undefined;
      const growth = command.value.byteLength - (previous?.value.byteLength ?? 0);
      if (command.quotaRemaining !== undefined && growth > command.quotaRemaining) {
        return reject(domainError('QUOTA_EXCEEDED', 'the organisation has reached its byte quota'));
      }
      const effectiveTtl = ttl === 0 ? state.settings.ttlSeconds : ttl;
      return acceptAll(store(state, meta, command.key, command.value, effectiveTtl === 0 ? 0 : now + effectiveTtl * 1000));
    }

    case 'Increment': {
      if (typeof command.amount !== 'bigint' || !isInt64(command.amount)) {
        return reject(domainError('NUMBER_OUT_OF_RANGE', `amount must be a 64-bit signed integer (${INT64_MIN} to ${INT64_MAX})`));
      }
      const current = liveEntry(state, command.key, now);
      const base = current === undefined ? 0n : parseInt64(current.value);
      if (base === NOT_AN_INTEGER) return reject(domainError('NOT_A_NUMBER', 'the stored value is not a decimal integer, so it cannot be incremented'));
      if (base === OUT_OF_RANGE) {
        return reject(domainError('NUMBER_OUT_OF_RANGE', 'the stored value is an integer outside the 64-bit signed range, so it cannot be incremented'));
      }
      const result = base + command.amount;
      if (!isInt64(result)) {
        return reject(domainError('NUMBER_OUT_OF_RANGE', `the result ${result} would overflow a 64-bit signed integer (${INT64_MIN} to ${INT64_MAX}); nothing stored`));
      }
      const value = new TextEncoder().encode(result.toString());
      const invalid = checkValue(state, value);
      if (invalid) return reject(invalid);
      const previous = state.status === 'live' ? state.entries.get(command.key) : undefined;
      if (command.quotaRemaining !== undefined && value.byteLength - (previous?.value.byteLength ?? 0) > command.quotaRemaining) {
        return reject(domainError('QUOTA_EXCEEDED', 'the organisation has reached its byte quota'));
      }
      const expiresAt = current !== undefined ? current.expiresAt : defaultExpiry(state, now);
      return acceptAll(store(state, meta, command.key, value, expiresAt));
    }

    case 'ChangeSettings': {
      if (state.status !== 'live') return cacheNotFound();
      const changes = command.settings;
      const invalid = checkSettings(changes);
      if (invalid) return reject(invalid);
      const next: CacheSettings = {
        capacity: changes.capacity ?? state.settings.capacity,
        ttlSeconds: changes.ttlSeconds ?? state.settings.ttlSeconds,
        maxValueBytes: changes.maxValueBytes ?? state.settings.maxValueBytes,
        cacheNullValue: changes.cacheNullValue ?? state.settings.cacheNullValue,
      };
      // The same settings again finish a cut a crash left part-way (still bounded by evictAtMost).
      if (sameSettings(next, state.settings)) return acceptAll(evictions(state, meta, 0, next.capacity, command.evictAtMost));
      // Refused before its work: counting the evictions is O(1), choosing them walks the cache.
      const evicted = next.capacity === 0 ? 0 : Math.max(0, state.entries.size - next.capacity);
      if (command.maxEvents !== undefined && 1 + evicted > command.maxEvents) {
        return reject(
          domainError('TOO_MANY_EVENTS', `ChangeSettings would append ${1 + evicted} events; MAX_EVENTS_PER_COMMAND is ${command.maxEvents} (flush, or change the cache in smaller steps)`),
        );
      }
      const events: CacheEvent[] = evictions(state, meta, 0, next.capacity, command.evictAtMost);
      events.unshift({ ...meta, type: 'SettingsChanged', ...next });
      return acceptAll(events);
    }

    case 'TrimToCapacity':
      return acceptAll(evictions(state, meta, 0, state.settings.capacity, command.evictAtMost));

    case 'DeleteKey':
      if (state.status !== 'live') return cacheNotFound();
      if (liveEntry(state, command.key, now) === undefined) {
        return reject(domainError('KEY_NOT_FOUND', 'key does not exist'));
      }
      return accept({ ...meta, type: 'Deleted', key: command.key });

    case 'ExpireKey': {
      // Stale timers (the key was overwritten, deleted or flushed since) decide nothing.
      const entry = state.status === 'live' ? state.entries.get(command.key) : undefined;
      return entry !== undefined && isExpired(entry, now)
        ? accept({ ...meta, type: 'Expired', key: command.key })
        : accept();
    }

    case 'ApplyOperations': {
      const outcome = decideOperations(state, command, meta, now);
      return outcome.aborted ? { ok: true, events: [], aborted: true } : { ok: true, events: outcome.events, results: outcome.results };
    }

    case 'RestoreTo': {
      // Restored bytes are charged like any write: a restore that would pass the quota appends nothing.
      const growth = restoredBytes(command.target, now) - (state.status === 'live' ? state.bytes : 0);
      if (command.quotaRemaining !== undefined && growth > command.quotaRemaining) {
        return reject(domainError('QUOTA_EXCEEDED', `the restore would add ${growth} bytes; the organisation has ${command.quotaRemaining} left of its byte quota`));
      }
      return acceptAll(decideRestore(state, command.target, meta, now));
    }

    default:
      return assertNever(command);
  }
}

const MAX_TTL_SECONDS = 3_153_600_000;

function checkSettings(changes: Partial<CacheSettings>): DomainError | undefined {
  const wholeNumber = (field: keyof CacheSettings, max = Number.MAX_SAFE_INTEGER) => {
    const value = changes[field];
    return value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= max)
      ? undefined
      : domainError('INVALID_ARGUMENT', `${field} must be a whole number between 0 and ${max}`);
  };
  if (changes.cacheNullValue !== undefined && typeof changes.cacheNullValue !== 'boolean') {
    return domainError('INVALID_ARGUMENT', 'cacheNullValue must be true or false');
  }
  return wholeNumber('capacity') ?? wholeNumber('ttlSeconds', MAX_TTL_SECONDS) ?? wholeNumber('maxValueBytes');
}
