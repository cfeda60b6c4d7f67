import { CacheCommand } from './commands';
import { DomainError, domainError } from './errors';
import { CacheEvent, EventMeta } from './events';
import { assertNever } from './evolve';
import { decideRestore } from './restore';
import { CacheState, isExpired, liveEntry } from './state';

export type Decision =
  | { readonly ok: true; readonly events: CacheEvent[] }
  | { readonly ok: false; readonly error: DomainError };

const accept = (...events: CacheEvent[]): Decision => ({ ok: true, events });
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
      const previous = state.status === 'live' ? state.entries.get(command.key) : undefined;
      const growth = command.value.byteLength - (previous?.value.byteLength ?? 0);
      if (command.quotaRemaining !== undefined && growth > command.quotaRemaining) {
        return reject(domainError('QUOTA_EXCEEDED', 'the organisation has reached its byte quota'));
      }
      const set: CacheEvent = {
        ...meta,
        type: 'Set',
        key: command.key,
        value: command.value,
        expiresAt: ttl === 0 ? 0 : now + ttl * 1000,
      };
      return state.status === 'live' ? accept(set) : accept({ ...meta, type: 'Created', description: '' }, set);
    }

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

    case 'RestoreTo':
      return accept(...decideRestore(state, command.target, meta, now));

    default:
      return assertNever(command);
  }
}
