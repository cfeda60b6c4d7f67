import { CatalogueCode, catalogueEntry } from '../../core/error-catalogue';
import type { FamilyProfile, Refusal } from '../../families';

/** An error the HTTP edge answers with: a status, a stable code and a message. */
export class ApiError extends Error {
  /** Sent as `Retry-After` when set (a refusal the client may retry shortly). */
  retryAfterSeconds?: number;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /**
   * A catalogued code with the status the error catalogue gives it (the way to refuse: the
   * status is never spelled twice); the constructor is for a family that answers a code with
   * a status of its own (the native binary GET's 404 miss).
   */
  static of(code: CatalogueCode, message: string = catalogueEntry(code).text): ApiError {
    return new ApiError(catalogueEntry(code).status, code, message);
  }
}

/** A refusal as the family words it (its status, code and text). */
export function refusedBy(family: FamilyProfile, refusal: Refusal): ApiError {
  const { status, code, message } = family.word(refusal);
  return new ApiError(status, code, message);
}
