import { domainErrorText, oneLine } from './errors';
import { RedisError, RedisReply, error } from './reply';

/** A reply that is not ready yet. `barrier`: the session's next command waits for it (it reads or changes the session). */
export interface Pending {
  readonly promise: Promise<RedisReply>;
  readonly barrier: boolean;
}

export type Outcome = RedisReply | Pending;

export const isPending = (outcome: Outcome): outcome is Pending => 'promise' in outcome;

/** An outcome as a promise of its reply. */
export function settle(outcome: Outcome): Promise<RedisReply> {
  return isPending(outcome) ? outcome.promise : Promise.resolve(outcome);
}

/** Any failure as an error reply: RedisError as it is, a coded error by the catalogue, anything else as ERR. */
export function errorReply(caught: unknown): RedisReply {
  if (caught instanceof RedisError) return error(oneLine(caught.reply));
  if (typeof caught === 'object' && caught !== null && typeof (caught as { code?: unknown }).code === 'string') {
    return error(oneLine(domainErrorText(caught as { code: string; message: string })));
  }
  return error('ERR internal error; nothing was changed');
}
