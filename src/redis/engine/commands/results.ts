import type { Entry, ExpiryChoice, KeyOperation, OperationResult, SetResult } from '../../../domain';
import { domainErrorText } from '../errors';
import { RedisError } from '../reply';

/** The value of an op's result, or the op's error thrown as the command's error reply. */
export function valueOf(result: OperationResult): unknown {
  if (!result.ok) throw new RedisError(domainErrorText(result.error));
  return result.value;
}

export const entryOf = (result: OperationResult): Entry | null => valueOf(result) as Entry | null;
export const setResultOf = (result: OperationResult): SetResult => valueOf(result) as SetResult;
export const boolOf = (result: OperationResult): boolean => valueOf(result) as boolean;
export const numberOf = (result: OperationResult): number => valueOf(result) as number;
export const keysOf = (result: OperationResult): readonly string[] => valueOf(result) as readonly string[];

export const read = (key: string): KeyOperation => ({ op: 'read', key });
export const KEYS: KeyOperation = { op: 'keys' };

export const setOp = (key: string, value: Uint8Array, expiry: ExpiryChoice = DEFAULT_EXPIRY, when: 'always' | 'absent' | 'present' = 'always'): KeyOperation => ({
  op: 'set',
  key,
  value,
  expiry,
  when,
});

/** A write without an expiry of its own gets the cache's default TTL (none unless the cache has one), as a native write does. */
export const DEFAULT_EXPIRY: ExpiryChoice = { kind: 'default' };
