import type { FamilyProfile, Refusal } from '../../families';

/** An error the HTTP edge answers with: a status, a stable code and a message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A refusal as the family words it (its status, code and text). */
export function refusedBy(family: FamilyProfile, refusal: Refusal): ApiError {
  const { status, code, message } = family.word(refusal);
  return new ApiError(status, code, message);
}
