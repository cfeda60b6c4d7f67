/** Stable error codes: messages may change, codes may not. */
export type DomainErrorCode =
  | 'CACHE_NOT_FOUND'
  | 'KEY_NOT_FOUND'
  | 'QUOTA_EXCEEDED'
  | 'VALUE_TOO_LARGE'
  | 'INVALID_ARGUMENT'
  | 'KEY_EXISTS'
  | 'CAS_MISMATCH'
  | 'NOT_A_NUMBER'
  | 'NUMBER_OUT_OF_RANGE'
  /** A value (or an amount) that Redis's INCRBYFLOAT cannot read as a float (`ERR value is not a valid float`). */
  | 'NOT_A_FLOAT'
  /** A float result that would be NaN or infinite, so nothing is stored (`ERR increment would produce NaN or Infinity`). */
  | 'NOT_FINITE'
  | 'EMPTY_VALUE_REJECTED'
  /** The org has MAX_CACHES_PER_ORG live caches: creating one more is refused (the shell's limit). */
  | 'CACHE_LIMIT_REACHED'
  /** The command would append more than MAX_EVENTS_PER_COMMAND events (the shell's limit). */
  | 'TOO_MANY_EVENTS'
  /** The org's journal holds its disk budget (ORG_DISK_BUDGET_BYTES), or the service's (DISK_BUDGET_BYTES) is spent (the shell's limit). */
  | 'DISK_BUDGET_EXCEEDED';

export interface DomainError {
  readonly code: DomainErrorCode;
  readonly message: string;
}

export const domainError = (code: DomainErrorCode, message: string): DomainError => ({ code, message });
