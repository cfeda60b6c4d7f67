import { IllegalTaskTransitionError, isFinal, nextTaskState } from '../../src/tasks/task.machine';

describe('task state machine', () => {
  it('goes PENDING → STARTED → SUCCESS or FAILURE', () => {
    expect(nextTaskState('PENDING', { type: 'START' })).toBe('STARTED');
    expect(nextTaskState('STARTED', { type: 'SUCCEED' })).toBe('SUCCESS');
    expect(nextTaskState('STARTED', { type: 'FAIL' })).toBe('FAILURE');
    expect(nextTaskState('PENDING', { type: 'FAIL' })).toBe('FAILURE');
    expect(isFinal('SUCCESS') && isFinal('FAILURE') && !isFinal('STARTED') && !isFinal('PENDING')).toBe(true);
  });

  it('refuses changes a task cannot make', () => {
    expect(() => nextTaskState('PENDING', { type: 'SUCCEED' })).toThrow(IllegalTaskTransitionError);
    expect(() => nextTaskState('STARTED', { type: 'START' })).toThrow(IllegalTaskTransitionError);
    expect(() => nextTaskState('SUCCESS', { type: 'FAIL' })).toThrow(IllegalTaskTransitionError);
    expect(() => nextTaskState('FAILURE', { type: 'START' })).toThrow(IllegalTaskTransitionError);
  });
});
