import { setTimeout as sleep } from 'node:timers/promises';
import { http } from './test-app';

export interface TaskView {
  task_id: string;
  task_state: 'PENDING' | 'STARTED' | 'SUCCESS' | 'FAILURE';
  action: string;
  reason?: string;
  finished_at?: string | null;
  result?: Record<string, any>;
}

/** Submits a task over HTTP; returns its id (expects 200). */
export async function submitTask(url: string, token: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const response = await http(`${url}/api/v1/cache/refresh/`, { method: 'POST', token, body, headers });
  if (response.status !== 200) throw new Error(`refresh answered ${response.status}: ${response.text}`);
  return response.json().task_id;
}

/**
 * Polls the task's state until it is final (the test's own timeout bounds it): every 5 ms at
 * first, slowing to every 50 ms, so a task of many seconds is not asked about thousands of
 * times by the process that runs it.
 */
export async function finished(url: string, token: string, taskId: string): Promise<TaskView> {
  for (let polls = 0; ; polls++) {
    const view: TaskView = (await http(`${url}/api/v1/cache/state/?task_id=${encodeURIComponent(taskId)}`, { token })).json();
    if (view.task_state === 'SUCCESS' || view.task_state === 'FAILURE') return view;
    await sleep(Math.min(50, 5 + polls));
  }
}

/**
 * Holds every task of `actions` pending until `release()` (tests of what is refused while tasks
 * wait); `restore()` puts the real runner back. Call both in a `finally`.
 */
export function holdTaskRuns(actions: { run(task: never): Promise<unknown> }): { release: () => void; restore: () => void } {
  const run = actions.run.bind(actions);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  actions.run = async (task: never) => {
    await gate;
    return run(task);
  };
  return { release, restore: () => ((actions.run = run), release()) };
}
