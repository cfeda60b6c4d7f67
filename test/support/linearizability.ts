/**
 * A linearizability checker for the histories of one object (a single-key register), in the
 * manner of Wing & Gong / Lowe's "just-in-time" linearization as Knossos's `linear` checker
 * does it: the history's invocations and completions are walked in real-time order, keeping
 * every reachable configuration (model state + the invoked operations not linearized yet);
 * at an operation's completion, every configuration must linearize it (after any pending
 * operations it chooses to linearize first), and those that cannot are dropped. No
 * configuration left: no linearization exists.
 *
 * Outcomes, as in Jepsen:
 * - `ok`: completed with a known output; must take effect between its invocation and completion;
 * - `fail`: certainly did not take effect (a refusal that changed nothing): left out entirely;
 * - `info`: indeterminate (a timeout, a 503, a dropped connection): may take effect at any time
 *   after its invocation, or never, with an unknown output.
 *
 * Times are numbers in one real-time order (a counter, or `performance.now()` of one process).
 * An operation precedes another in real time when its completion is strictly earlier than the
 * other's invocation; equal times are concurrent.
 */

export type Outcome = 'ok' | 'fail' | 'info';

export interface Operation<I, O> {
  /** The client (for the report). */
  readonly process: string | number;
  readonly input: I;
  /** Known for `ok` operations only. */
  readonly output?: O;
  readonly outcome: Outcome;
  readonly invokedAt: number;
  /** Ignored for `info` operations (their completion is taken as never). */
  readonly completedAt: number;
}

export interface Model<S, I, O> {
  readonly init: S;
  /**
   * The states `state` may go to when `input` takes effect with `output` (`undefined`: unknown,
   * an indeterminate operation). None: it cannot take effect in this state with this output.
   */
  step(state: S, input: I, output: O | undefined): readonly S[];
  /** Equal for equal states (configurations are de-duplicated by it). */
  key(state: S): string;
  /**
   * Optional pruning: false when an indeterminate operation can take effect neither in `state`
   * nor in any state reachable from it (it is then dropped as never having happened).
   */
  stillPossible?(state: S, input: I): boolean;
  /** How an operation is printed in a report. */
  describe?(input: I, output: O | undefined): string;
}

export interface CheckResult<S, I, O> {
  /** `unknown`: the search exceeded `maxConfigurations` (neither proven nor refuted). */
  readonly valid: boolean | 'unknown';
  /** Operations checked (`fail` ones left out). */
  readonly checked: number;
  /** The most configurations held at once. */
  readonly peakConfigurations: number;
  /** When not valid: the operation no configuration could linearize at its completion. */
  readonly failedOp?: Operation<I, O>;
  /** When not valid: the states the object could be in just before that completion (up to 10). */
  readonly statesBefore?: readonly S[];
  /** When not valid: the last 5 operations completed before the failed one, and those concurrent with it. */
  readonly context?: readonly Operation<I, O>[];
  /** A human-readable account of the failure, or of the `unknown`. */
  readonly explanation?: string;
}

interface Config<S> {
  readonly state: S;
  /** Indices (into `ops`) of invoked operations not linearized yet, ascending. */
  readonly pending: readonly number[];
}

type Event = { readonly at: number; readonly kind: 'invoke' | 'complete'; readonly op: number };

export interface CheckOptions {
  /** Give up (`valid: 'unknown'`) beyond this many configurations in one step. Default 200,000. */
  readonly maxConfigurations?: number;
}

export function checkLinearizable<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], options: CheckOptions = {}): CheckResult<S, I, O> {
  const maxConfigurations = options.maxConfigurations ?? 200_000;
  const ops = history.filter((op) => op.outcome !== 'fail').sort((a, b) => a.invokedAt - b.invokedAt);
  const events: Event[] = [];
  ops.forEach((op, i) => {
    events.push({ at: op.invokedAt, kind: 'invoke', op: i });
    if (op.outcome === 'ok') events.push({ at: op.completedAt, kind: 'complete', op: i });
  });
  // At equal times an invocation comes first: equal times are concurrent, never ordered.
  events.sort((a, b) => a.at - b.at || (a.kind === b.kind ? a.op - b.op : a.kind === 'invoke' ? -1 : 1));

  const keyOf = (c: Config<S>) => `${model.key(c.state)}|${c.pending.join(',')}`;
  let configs = new Map<string, Config<S>>([[keyOf({ state: model.init, pending: [] }), { state: model.init, pending: [] }]]);
  let peak = 1;

  for (const event of events) {
    if (event.kind === 'invoke') {
      const next = new Map<string, Config<S>>();
      for (const c of configs.values()) {
        const added = { state: c.state, pending: [...c.pending, event.op] };
        next.set(keyOf(added), added);
      }
      configs = next;
      continue;
    }
    // The completion of `target`: every surviving configuration has linearized it.
    const target = event.op;
    const next = new Map<string, Config<S>>();
    const visited = new Set<string>();
    const explore = (c: Config<S>): void => {
      const k = keyOf(c);
      if (visited.has(k)) return;
      visited.add(k);
      if (visited.size > maxConfigurations) throw new GaveUp();
      if (!c.pending.includes(target)) {
        next.set(k, c);
        return;
      }
      for (const j of c.pending) {
        const op = ops[j];
        const output = op.outcome === 'ok' ? op.output : undefined;
        for (const state of model.step(c.state, op.input, output)) {
          const rest = prune(model, ops, state, c.pending.filter((p) => p !== j));
          if (j === target) {
            const done = { state, pending: rest };
            next.set(keyOf(done), done);
          } else {
            explore({ state, pending: rest });
          }
        }
      }
    };
    try {
      for (const c of configs.values()) explore(c);
    } catch (error) {
      if (!(error instanceof GaveUp)) throw error;
      return {
        valid: 'unknown',
        checked: ops.length,
        peakConfigurations: Math.max(peak, visited.size),
        failedOp: ops[target],
        explanation: `gave up at the completion of ${describeOp(model, ops[target])}: more than ${maxConfigurations} configurations`,
      };
    }
    if (next.size === 0) {
      const failed = ops[target];
      const statesBefore = uniqueStates(model, [...configs.values()].map((c) => c.state)).slice(0, 10);
      const concurrent = ops.filter((op) => op !== failed && op.invokedAt <= failed.completedAt && (op.outcome !== 'ok' || op.completedAt >= failed.invokedAt));
      const before = ops.filter((op) => op.outcome === 'ok' && op.completedAt < failed.invokedAt).sort((a, b) => a.completedAt - b.completedAt).slice(-5);
      const context = [...before, ...concurrent].sort((a, b) => a.invokedAt - b.invokedAt);
      const lines = [
        `not linearizable: ${describeOp(model, failed)} cannot take effect in any state the object could be in`,
        `  states possible just before its completion: ${statesBefore.map((s) => model.key(s)).join('; ')}`,
        `  the last operations completed before it, and those concurrent with it (or indeterminate and invoked before it):`,
        ...context.slice(-20).map((op) => `    ${describeOp(model, op)}`),
      ];
      return { valid: false, checked: ops.length, peakConfigurations: peak, failedOp: failed, statesBefore, context, explanation: lines.join('\n') };
    }
    configs = next;
    peak = Math.max(peak, configs.size);
  }
  return { valid: true, checked: ops.length, peakConfigurations: peak };
}

class GaveUp extends Error {}

/** Drops pending indeterminate operations that can no longer take effect. */
function prune<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], state: S, pending: number[]): number[] {
  if (model.stillPossible === undefined) return pending;
  return pending.filter((p) => ops[p].outcome !== 'info' || model.stillPossible!(state, ops[p].input));
}

function uniqueStates<S, I, O>(model: Model<S, I, O>, states: S[]): S[] {
  const seen = new Map<string, S>();
  for (const s of states) seen.set(model.key(s), s);
  return [...seen.values()];
}

export function describeOp<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const body = model.describe ? model.describe(op.input, op.outcome === 'ok' ? op.output : undefined) : `${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`;
  const end = op.outcome === 'ok' ? String(op.completedAt) : '∞';
  return `[${op.invokedAt}, ${end}] client ${op.process} ${op.outcome} ${body}`;
}

// ---------------------------------------------------------------------------------------------
// The versioned register of the cluster test: one key, its value (decimal integer text) and
// its version (the sequence number of the event that last wrote it).

export interface RegisterState {
  readonly value: string;
  readonly version: number;
}

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: string }
  | { readonly f: 'incr'; readonly amount: number }
  /** Writes `value` only if the key's version is `expected` (IronCache's `cas`). */
  | { readonly f: 'cas'; readonly expected: number; readonly value: string };

export type RegisterOutput =
  /** A read: the value and version seen. */
  | { readonly value: string; readonly version: number }
  /** An increment: the resulting value, and its version when the answer names it. */
  | { readonly value: string; readonly version?: number }
  /** A write or a successful cas: nothing but success. */
  | undefined;

/**
 * A register whose every write (write, incr, successful cas) makes the version one higher: the
 * model of one key alone in its cache, where the key's version is the cache's sequence number.
 * A refused cas (409, nothing stored) is a `fail` and is left out, as Knossos does.
 */
export function versionedRegister(init: RegisterState): Model<RegisterState, RegisterInput, RegisterOutput> {
  return {
    init,
    key: (s) => `v${s.version}=${s.value}`,
    step(s, input, output) {
      switch (input.f) {
        case 'read':
          // An indeterminate read tells nothing: it is never left open (callers drop it), but
          // if it were, it changes nothing.
          if (output === undefined) return [s];
          return output.value === s.value && output.version === s.version ? [s] : [];
        case 'write':
          return [{ value: input.value, version: s.version + 1 }];
        case 'incr': {
          const value = (BigInt(s.value) + BigInt(input.amount)).toString();
          if (output !== undefined && (output.value !== value || (output.version !== undefined && output.version !== s.version + 1))) return [];
          return [{ value, version: s.version + 1 }];
        }
        case 'cas':
          return s.version === input.expected ? [{ value: input.value, version: s.version + 1 }] : [];
      }
    },
    // Versions only grow: a cas whose expected version has passed can never take effect.
    stillPossible: (s, input) => input.f !== 'cas' || s.version <= input.expected,
    describe(input, output) {
      switch (input.f) {
        case 'read':
          return output === undefined ? 'read -> ?' : `read -> ${output.value} (version ${output.version})`;
        case 'write':
          return `write ${input.value}`;
        case 'incr':
          return `incr ${input.amount} -> ${output === undefined ? '?' : output.version === undefined ? output.value : `${output.value} (version ${output.version})`}`;
        case 'cas':
          return `cas version ${input.expected} -> ${input.value}`;
      }
    },
  };
}
