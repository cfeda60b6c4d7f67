import { Principal } from '../auth/principal';
import { limitForLevel } from '../auth/service-level';
import { CacheCommand, DomainError, domainError } from '../domain';

/** The limits the core admits every command against, whichever family or transport it came through. */
export interface AdmissionLimits {
  /** The service-wide largest value (MAX_VALUE_BYTES). */
  readonly maxValueBytes: number;
  /** Bytes per org by service level (FREE_SERVICE_LEVEL_MAX_BYTES...); absent: no byte quota. */
  readonly quotaByLevel?: Readonly<Record<string, number>>;
}

/** One limit: refuses a command before it reaches the entity, or lets it through (undefined). */
export interface AdmissionCheck {
  readonly name: string;
  refuse(principal: Principal, command: CacheCommand): DomainError | undefined;
}

/** The values a command would store, as given (the domain checks what appends and ranges make of them). */
function* valuesOf(command: CacheCommand): Iterable<Uint8Array> {
  if (command.type === 'SetValue') yield command.value;
  else if (command.type === 'ApplyOperations') {
    for (const op of command.ops) if ('value' in op) yield op.value;
  }
}

export const valueTooLarge = (limit: number): DomainError =>
  domainError('VALUE_TOO_LARGE', `the value is larger than MAX_VALUE_BYTES (${limit})`);

/**
 * The admission list: every limit, once, in one order, for every family. Checks that need
 * the cache's state (the org byte quota against the decided growth, the events one command
 * may append, the number of caches when a command creates one) are the entity's, which the
 * gateway hands the principal's quota; the checks here need only the command.
 */
export class Admission {
  readonly checks: readonly AdmissionCheck[];

  constructor(private readonly limits: AdmissionLimits) {
    this.checks = [
      {
        name: 'value size',
        refuse: (_principal, command) => {
          for (const value of valuesOf(command)) if (value.byteLength > limits.maxValueBytes) return valueTooLarge(limits.maxValueBytes);
          return undefined;
        },
      },
    ];
  }

  /** The first check that refuses the command, or undefined when all admit it. */
  refuse(principal: Principal, command: CacheCommand): DomainError | undefined {
    for (const check of this.checks) {
      const refusal = check.refuse(principal, command);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }

  /**
   * The command as the entity gets it: what it makes of its values (appends, ranges) is
   * bounded by the service-wide value limit too, which the domain takes as data.
   */
  stamp(command: CacheCommand): CacheCommand {
    return command.type === 'ApplyOperations' && command.maxValueBytes === undefined ? { ...command, maxValueBytes: this.limits.maxValueBytes } : command;
  }

  /** The org's byte quota for this principal's service level; undefined: no quota. */
  quotaLimit(principal: Principal): number | undefined {
    return this.limits.quotaByLevel === undefined ? undefined : limitForLevel(this.limits.quotaByLevel, principal.serviceLevel);
  }

  get maxValueBytes(): number {
    return this.limits.maxValueBytes;
  }
}
