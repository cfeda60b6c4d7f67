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
  | 'EMPTY_VALUE_REJECTED';

export interface DomainError {
  readonly code: DomainErrorCode;
  readonly message: string;
}

export const domainError = (code: DomainErrorCode, message: string): DomainError => ({ code, message });
