import { setup, transition } from 'xstate';

export type TaskState = 'PENDING' | 'STARTED' | 'SUCCESS' | 'FAILURE';

export type TaskEvent = { type: 'START' } | { type: 'SUCCEED' } | { type: 'FAIL' };

/**
 * A background task: PENDING → STARTED → SUCCESS | FAILURE. A pending task can also fail
 * (e.g. its cache is gone); final states take no events. The record in LevelDB holds the
 * state value; each change is computed with the pure `transition()`, so an illegal
 * change (a finished task started again) is refused instead of persisted.
 */
export const taskMachine = setup({
  types: { events: {} as TaskEvent },
}).createMachine({
  id: 'task',
  initial: 'PENDING',
  states: {
    PENDING: { on: { START: 'STARTED', FAIL: 'FAILURE' } },
    STARTED: { on: { SUCCEED: 'SUCCESS', FAIL: 'FAILURE' } },
    SUCCESS: { type: 'final' },
    FAILURE: { type: 'final' },
  },
});

export class IllegalTaskTransitionError extends Error {
  readonly code = 'TASK_ILLEGAL_TRANSITION';
}

export function nextTaskState(state: TaskState, event: TaskEvent): TaskState {
  const [next] = transition(taskMachine, taskMachine.resolveState({ value: state, context: undefined as never }), event);
  if (next.value === state) throw new IllegalTaskTransitionError(`a ${state} task cannot take ${event.type}`);
  return next.value as TaskState;
}

export const isFinal = (state: TaskState): boolean => state === 'SUCCESS' || state === 'FAILURE';
