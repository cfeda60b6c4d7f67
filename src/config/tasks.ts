import { GiB, Values, namespace, seconds, setting, wholeNumber } from './settings';

/** Background tasks (export, restore, compact, rebuild): how many an org may have, their files, how long their records stay. */
export const tasksSettings = namespace('tasks', {
  maxPendingTasksPerOrg: setting('MAX_PENDING_TASKS_PER_ORG', wholeNumber(100, 1), 'tasks of an org waiting or running at once (429 TOO_MANY_TASKS beyond)'),
  maxPendingTaskWorkPerOrg: setting(
    'MAX_PENDING_TASK_WORK_PER_ORG',
    wholeNumber(200, 1),
    "work of an org's tasks waiting or running: 1 per task and 1 more per 10,000 events of its cache",
  ),
  maxExportBytesPerOrg: setting('MAX_EXPORT_BYTES_PER_ORG', wholeNumber(GiB, 0), "bytes of an org's export files on disk"),
  taskRetentionMs: setting('TASK_RETENTION_SECONDS', seconds(7 * 24 * 3600, 1), 'finished task records and their export files are deleted this long after they finished'),
});

export function tasksConfig(values: Values<typeof tasksSettings.declaration>) {
  return values;
}

export type TasksConfig = ReturnType<typeof tasksConfig>;
