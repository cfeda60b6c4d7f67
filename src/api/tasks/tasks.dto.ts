import { z } from 'zod';
import { cacheNameField } from '../validation';
import { TASK_ACTIONS } from '../../tasks/task.store';

/** `POST /api/v1/cache/refresh/` (after the 004 task API): the cache and the action, plus its parameters. */
export const RefreshRequestDto = z
  .object({
    resource_title: cacheNameField,
    action: z.enum(TASK_ACTIONS, { message: `must be one of ${TASK_ACTIONS.join(', ')}` }),
    at: z.union([z.number().int().min(0), z.string().regex(/^\d{1,15}$/, 'must be a sequence number').transform(Number)]).optional(),
    asOf: z.string().optional(),
    retention: z.string().optional(),
  })
  .refine((body) => body.action !== 'restore' || (body.at !== undefined) !== (body.asOf !== undefined), {
    message: 'restore needs exactly one of at (a sequence number) or asOf (an ISO time)',
    path: ['at'],
  });

export const TaskStateQueryDto = z.object({ task_id: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters') });
