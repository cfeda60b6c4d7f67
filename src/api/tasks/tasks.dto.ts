import { named } from '../contract/route-contract';
import { z } from 'zod';
import { cacheNameField } from '../validation';
import { TASK_ACTIONS } from '../../tasks/task.store';

/** `POST /api/v1/cache/refresh/` (after the 004 task API): the cache and the action, plus its parameters. */
export const RefreshRequestDto = named(
  'TaskRequest',
  z
    .object({
      resource_title: cacheNameField.optional(),
      action: z.enum(TASK_ACTIONS, { message: `must be one of ${TASK_ACTIONS.join(', ')}` }),
      at: z.union([z.number().int().min(0), z.string().regex(/^\d{1,15}$/, 'must be a sequence number').transform(Number)]).optional(),
      asOf: z.string().optional(),
      retention: z.string().optional(),
      /** backup: `org` (the caller's org's caches, the default) or `instance` (every org's: an operator token only). */
      scope: z.enum(['org', 'instance'], { message: 'must be org or instance' }).optional(),
    })
    .refine((body) => (body.action === 'backup') === (body.resource_title === undefined), {
      message: 'required for every action but backup, which takes none (it is of all the caches of the org, or of the instance)',
      path: ['resource_title'],
    })
    .refine((body) => body.scope === undefined || body.action === 'backup', { message: 'only a backup takes a scope', path: ['scope'] })
    .refine((body) => body.action !== 'restore' || (body.at !== undefined) !== (body.asOf !== undefined), {
      message: 'restore needs exactly one of at (a sequence number) or asOf (an ISO time)',
      path: ['at'],
    }),
);

export const TaskStateQueryDto = z.object({ task_id: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters') });

/** Tasks one list answers at most. */
export const MAX_TASKS_LISTED = 100;
export const DEFAULT_TASKS_LISTED = 20;
const limitText = `must be a whole number from 1 to ${MAX_TASKS_LISTED}`;

/** `GET /api/v1/cache/tasks/?limit=&state=`. */
export const TaskListQueryDto = z.object({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, limitText)
    .transform(Number)
    .pipe(z.number().int().min(1, limitText).max(MAX_TASKS_LISTED, limitText))
    .optional()
    .meta({ description: `tasks answered at most, newest first (default ${DEFAULT_TASKS_LISTED})`, example: '20' }),
  state: z.enum(['PENDING', 'STARTED', 'SUCCESS', 'FAILURE'], 'must be PENDING, STARTED, SUCCESS or FAILURE').optional().meta({ description: 'only tasks in this state' }),
});
