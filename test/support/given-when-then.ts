import { CacheCommand, CacheEvent, CacheState, DomainErrorCode, decide, evolve, initialState } from '../../src/domain';

/**
 * Given these events, when this command (at `now`), then these events, this error, or
 * nothing. The state is always rebuilt from the given events with `evolve`.
 */
export function given(events: CacheEvent[]) {
  const state: CacheState = events.reduce(evolve, initialState());
  return {
    state,
    when(command: CacheCommand, now = 1_000) {
      const decision = decide(state, command, now);
      return {
        decision,
        then(expected: CacheEvent[]) {
          if (!decision.ok) throw new Error(`expected events, got rejection ${decision.error.code}: ${decision.error.message}`);
          expect(decision.events).toEqual(expected);
        },
        thenNothing() {
          if (!decision.ok) throw new Error(`expected no events, got rejection ${decision.error.code}`);
          expect(decision.events).toStrictEqual([]);
        },
        thenRejected(code: DomainErrorCode) {
          expect(decision.ok).toBe(false);
          if (!decision.ok) expect(decision.error.code).toBe(code);
        },
      };
    },
  };
}

/** Event helpers with fixed audit fields. */
export const at = (ms: number, by = 'tester') => ({ at: ms, by, device: null });
