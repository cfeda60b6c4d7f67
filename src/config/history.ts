import { MiB, Values, namespace, setting, wholeNumber } from './settings';

/** Reading the past: event pages, SSE streams, point-in-time reads. */
export const historySettings = namespace('history', {
  historyStreamBuffer: setting('HISTORY_STREAM_BUFFER', wholeNumber(1000, 1), 'events an SSE history client may have waiting before it is dropped'),
  edge: {
    eventsPageMaxBytes: setting('EVENTS_PAGE_MAX_BYTES', wholeNumber(8 * MiB, 1), 'bytes of one events page (fewer events and a next cursor beyond)'),
    sseQueueBytes: setting('SSE_QUEUE_BYTES', wholeNumber(8 * MiB, 1), 'bytes of events waiting for one SSE client before it is dropped'),
    sseMaxClientsPerOrg: setting('SSE_MAX_CLIENTS_PER_ORG', wholeNumber(32, 1), 'open event streams per org (429 TOO_MANY_STREAMS beyond)'),
    /** Open event streams one token may hold (a share of its org's, so one client cannot take them all). */
    sseMaxClientsPerToken: setting('SSE_MAX_CLIENTS_PER_TOKEN', wholeNumber(8, 1), 'open event streams per principal (all its tokens together)'),
    pointInTimeMaxEvents: setting('POINT_IN_TIME_MAX_EVENTS', wholeNumber(20_000, 1), 'events a point-in-time read may replay or scan (422 POINT_IN_TIME_TOO_COSTLY beyond)'),
    /** Bytes a point-in-time read may decode: its snapshot by stored size (checked before decoding), then the state it replays to. */
    pointInTimeMaxBytes: setting('POINT_IN_TIME_MAX_BYTES', wholeNumber(64 * MiB, 1), 'bytes a point-in-time read may decode (422 POINT_IN_TIME_TOO_LARGE beyond)'),
    pointInTimeMaxPerOrg: setting('POINT_IN_TIME_MAX_PER_ORG', wholeNumber(2, 1), 'point-in-time reads of one org running at once (429 TOO_MANY_POINT_IN_TIME_READS beyond)'),
  },
});

export function historyConfig(values: Values<typeof historySettings.declaration>) {
  return values;
}

export type HistoryConfig = ReturnType<typeof historyConfig>;
