import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../src/api/errors/api-error';
import { ERROR_CATALOGUE, catalogueEntry, isCodedError, respErrorText } from '../../src/core/error-catalogue';
import { DomainErrorCode } from '../../src/domain';
import { FAMILIES } from '../../src/families';
import { classify } from '../../src/api/errors/http-error.filter';
import { AuthError } from '../../src/auth/auth.service';
import { RateLimitedError } from '../../src/auth/rate-limiter';
import { CommandFailedError } from '../../src/entities/cache-entity';
import { JournalUnavailableError } from '../../src/journal/journal';

// Every domain code must be catalogued: this fails to compile when one is added without an entry.
const DOMAIN_CODES: Record<DomainErrorCode, true> = {
  CACHE_NOT_FOUND: true,
  KEY_NOT_FOUND: true,
  QUOTA_EXCEEDED: true,
  VALUE_TOO_LARGE: true,
  INVALID_ARGUMENT: true,
  KEY_EXISTS: true,
  CAS_MISMATCH: true,
  NOT_A_NUMBER: true,
  NUMBER_OUT_OF_RANGE: true,
  NOT_A_FLOAT: true,
  NOT_FINITE: true,
  EMPTY_VALUE_REJECTED: true,
  CACHE_LIMIT_REACHED: true,
  TOO_MANY_EVENTS: true,
  DISK_BUDGET_EXCEEDED: true,
};

describe('the error catalogue', () => {
  const codes = Object.keys(ERROR_CATALOGUE);

  it('has an entry for every domain error code', () => {
    for (const code of Object.keys(DOMAIN_CODES)) expect(Object.hasOwn(ERROR_CATALOGUE, code)).toBe(true);
  });

  it.each(codes)('%s renders in every HTTP family format with its status and code', (code) => {
    const { status } = catalogueEntry(code);
    expect(status).toBeGreaterThanOrEqual(300);
    expect(status).toBeLessThan(600);
    for (const { errors: format } of Object.values(FAMILIES)) {
      const { contentType, body } = format.render(status, code, 'a message');
      expect(contentType).toMatch(/^(application\/json|text\/plain)/);
      expect(body.length).toBeGreaterThan(0);
      if (contentType.startsWith('application/json')) expect(() => JSON.parse(body)).not.toThrow();
    }
  });

  it.each(codes)('%s renders as one RESP error line with an upper-case prefix', (code) => {
    const line = respErrorText(code, 'two\r\nlines');
    expect(line).toMatch(/^[A-Z]+ /);
    expect(line).not.toMatch(/[\r\n]/);
    expect(respErrorText(code)).toBe(`${catalogueEntry(code).resp} ${catalogueEntry(code).text}`);
  });

  it('answers an unknown code as an internal error', () => {
    expect(catalogueEntry('NO_SUCH_CODE')).toBe(ERROR_CATALOGUE.INTERNAL);
    expect(catalogueEntry('constructor')).toBe(ERROR_CATALOGUE.INTERNAL);
  });

  it('maps the error classes by their code, not one by one', () => {
    expect(isCodedError(new AuthError('no'))).toBe(true);
    expect(classify(new AuthError('no'))).toEqual({ status: 401, code: 'UNAUTHORIZED', message: 'no' });
    expect(classify(new RateLimitedError(5, 1, 'free', 1))).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
    expect(classify(new JournalUnavailableError(new Error('disk')))).toMatchObject({ status: 503, code: 'JOURNAL_UNAVAILABLE' });
    // A command that failed inside its entity keeps its code instead of a bare internal error.
    expect(classify(new CommandFailedError(new Error('bug')))).toMatchObject({ status: 500, code: 'COMMAND_FAILED' });
    expect(classify(new Error('anything else'))).toEqual({ status: 500, code: 'INTERNAL', message: 'internal error' });
  });

  it('ApiError.of takes the status from the catalogue, and its text when none is given', () => {
    for (const code of Object.keys(ERROR_CATALOGUE) as Array<keyof typeof ERROR_CATALOGUE>) {
      const error = ApiError.of(code);
      expect([code, error.status, error.message]).toEqual([code, ERROR_CATALOGUE[code].status, ERROR_CATALOGUE[code].text]);
    }
    expect(ApiError.of('CACHE_NOT_FOUND', 'cache "x" does not exist').message).toBe('cache "x" does not exist');
  });

  it('every code a source file answers with is catalogued (an error, a refusal body, a health answer)', () => {
    const uncatalogued: string[] = [];
    for (const [path, text] of sourceFiles()) {
      const answered = [...text.matchAll(/new ApiError\([^,()]+, '([A-Z_]+)'/g), ...text.matchAll(/\bcode: '([A-Z][A-Z_]+)'/g)];
      // POSIX errno names (EEXIST...) are the file system's codes, not answers.
      for (const match of answered) if (!Object.hasOwn(ERROR_CATALOGUE, match[1]) && !/^E[A-Z]+$/.test(match[1])) uncatalogued.push(`${path}: ${match[0]}`);
    }
    expect(uncatalogued).toStrictEqual([]);
  });

  it('no source file spells a catalogued code with the status the catalogue already gives it', () => {
    const spelled: string[] = [];
    for (const [path, text] of sourceFiles()) {
      for (const match of text.matchAll(/new ApiError\((\d+), '([A-Z_]+)'/g)) {
        const code = match[2] as keyof typeof ERROR_CATALOGUE;
        if (ERROR_CATALOGUE[code]?.status === Number(match[1])) spelled.push(`${path}: ${match[0]}`);
      }
    }
    expect(spelled).toStrictEqual([]);
  });
});

/** Every TypeScript file under src/, with its text. */
function* sourceFiles(dir = join(__dirname, '..', '..', 'src')): Generator<[string, string]> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (path.endsWith('.ts')) yield [path, readFileSync(path, 'utf8')];
  }
}
