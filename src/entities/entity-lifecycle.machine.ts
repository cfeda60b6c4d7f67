import { setup } from 'xstate';

export type LifecycleEvent =
  | { type: 'RECOVERED' }
  | { type: 'RECOVERY_FAILED'; reason: string }
  | { type: 'PASSIVATE' }
  | { type: 'STOPPED' };

/**
 * recovering → ready → passivating → passivated. Commands that arrive while recovering
 * wait in the mailbox. The machine sees lifecycle changes only, never individual
 * commands, so the hot path pays nothing for it.
 */
export const entityLifecycle = setup({
  types: { events: {} as LifecycleEvent },
}).createMachine({
  id: 'cacheEntity',
  initial: 'recovering',
  states: {
    recovering: { on: { RECOVERED: 'ready', RECOVERY_FAILED: 'failed' } },
    ready: { on: { PASSIVATE: 'passivating' } },
    passivating: { on: { STOPPED: 'passivated' } },
    passivated: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type LifecycleState = 'recovering' | 'ready' | 'passivating' | 'passivated' | 'failed';
