import { catalogueEntry } from '../../core/error-catalogue';
import type { DomainError } from '../../domain';

/**
 * Redis's own words for the errors the engine answers. Texts Redis clients and tests match
 * on are kept exactly (see redis/src/server.c `shared.*` and t_string.c); cachelog-only
 * refusals start with `ERR` and say what to do.
 */
export const ERR = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  nanOrInfinity: 'ERR increment would produce NaN or Infinity',
  noSuchKey: 'ERR no such key',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  nestedMulti: 'ERR MULTI calls can not be nested',
  execWithoutMulti: 'ERR EXEC without MULTI',
  discardWithoutMulti: 'ERR DISCARD without MULTI',
  watchInMulti: 'ERR WATCH inside MULTI is not allowed',
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  bitOffset: 'ERR bit offset is not an integer or out of range',
  bitValue: 'ERR bit is not an integer or out of range',
  offsetOutOfRange: 'ERR offset is out of range',
  invalidCursor: 'ERR invalid cursor',
  notSupportedHere: 'ERR this command is not available in a cachelog transaction',
} as const;

/** Redis 7's wording (server.c processCommand): the name cut to 128 bytes, then as many args as fit in 128 characters. */
export const unknownCommand = (name: string, args: readonly Buffer[]): string => {
  let shown = '';
  for (const arg of args) {
    if (shown.length >= 128) break;
    shown += `'${arg.toString('latin1').slice(0, 128 - shown.length)}' `;
  }
  return oneLine(`ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${shown}`);
};

/** An error reply is one line: Redis turns CR and LF in it into spaces. */
export const oneLine = (text: string): string => text.replace(/[\r\n]/g, ' ');

export const unknownSubcommand = (sub: string, command: string): string =>
  oneLine(`ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${command.toUpperCase()} HELP.`);

/** A write command refused to a read-only token (its `readOnly` claim), in Redis's ACL words. */
export const noPermission = (name: string): string => `NOPERM this user has no permissions to run the '${name.toLowerCase()}' command or its subcommand`;

export const wrongArity = (name: string): string => `ERR wrong number of arguments for '${name.toLowerCase()}' command`;

export const invalidExpireTime = (name: string): string => `ERR invalid expire time in '${name.toLowerCase()}' command`;

/** Redis's text for a domain rejection (the error catalogue's RESP prefix, Redis's own words where Redis has them). */
export function domainErrorText(error: DomainError | { code: string; message: string }): string {
  switch (error.code) {
    case 'NOT_A_NUMBER':
      return ERR.notInteger;
    case 'NUMBER_OUT_OF_RANGE':
      return ERR.overflow;
    case 'NOT_A_FLOAT':
      return ERR.notFloat;
    case 'NOT_FINITE':
      return ERR.nanOrInfinity;
    case 'KEY_NOT_FOUND':
      return ERR.noSuchKey;
    case 'VALUE_TOO_LARGE':
      return `ERR string exceeds maximum allowed size: ${error.message}`;
    default: {
      const entry = catalogueEntry(error.code);
      return `${entry.resp} ${error.message || entry.text}`;
    }
  }
}
