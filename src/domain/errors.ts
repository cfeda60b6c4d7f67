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
  | 'EMPTY_VALUE_REJECTED'
  /** The org has MAX_CACHES_PER_ORG live caches: creating one more is refused (the shell's limit). */
  | 'CACHE_LIMIT_REACHED';

export interface DomainError {
  readonly code: DomainErrorCode;
  readonly message: string;
}

export const domainError = (code: DomainErrorCode, message: string): DomainError => ({ code, message });
