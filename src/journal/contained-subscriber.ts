import { Logger } from '@nestjs/common';
import { Observable, Subscription, config as rxjsConfig } from 'rxjs';

/** A subscriber of a live stream (the journal's committed events, its commit timings, ...). */
export interface ContainedSubscriber<T> {
  /** Names the subscriber in the log (`SSE stream of org/cache`, `metrics`, ...). */
  readonly name: string;
  next(value: T): void;
  /**
   * What a value `next` throws on does: `end` (the default) ends this subscriber, `skip` logs and
   * drops that value and goes on (for a subscriber that only counts).
   */
  readonly onFailure?: 'end' | 'skip';
  /** Called once when the subscriber ends by its own failure or by the stream's error (not on complete or unsubscribe). */
  ended?(error: unknown): void;
  complete?(): void;
}

const log = new Logger('LiveStream');

/**
 * Subscribes so that nothing the subscriber throws, and no error of the stream, reaches the
 * process. rxjs rethrows a subscriber's error (and a stream error nobody handles) on a timer,
 * where it is an uncaught exception that ends the process for every org; here it is logged
 * and ends this subscriber (or skips the value), and the others go on.
 */
export function subscribeContained<T>(source: Observable<T>, subscriber: ContainedSubscriber<T>, logger: Pick<Logger, 'error'> = log): Subscription {
  let done = false;
  let subscription: Subscription | undefined;
  const end = (error: unknown, what: string) => {
    if (done) return;
    done = true;
    logger.error(`${subscriber.name}: ${what}: ${describe(error)}; this subscriber ends, the service goes on`, stackOf(error));
    subscription?.unsubscribe();
    if (subscriber.ended === undefined) return;
    try {
      subscriber.ended(error);
    } catch (endError) {
      logger.error(`${subscriber.name}: ending failed: ${describe(endError)}`, stackOf(endError));
    }
  };
  subscription = source.subscribe({
    next: (value) => {
      if (done) return;
      try {
        subscriber.next(value);
      } catch (error) {
        if (subscriber.onFailure === 'skip') logger.error(`${subscriber.name}: a value could not be handled and is skipped: ${describe(error)}`, stackOf(error));
        else end(error, 'a value could not be handled');
      }
    },
    error: (error: unknown) => end(error, 'the stream failed'),
    complete: () => {
      if (done) return;
      done = true;
      try {
        subscriber.complete?.();
      } catch (error) {
        logger.error(`${subscriber.name}: completing failed: ${describe(error)}`, stackOf(error));
      }
    },
  });
  // Ended while subscribing (a synchronous failure): `subscription` was not assigned yet then.
  if (done) subscription.unsubscribe();
  return subscription;
}

/**
 * The backstop for a subscriber that is not contained (a bug): rxjs would throw its error on a
 * timer and end the process; it is logged instead. Installed once per process by createApp.
 */
export function containUnhandledStreamErrors(logger: Pick<Logger, 'error'> = log): void {
  rxjsConfig.onUnhandledError = (error: unknown) =>
    logger.error(`a stream subscriber did not handle its error (it should use subscribeContained): ${describe(error)}`, stackOf(error));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function stackOf(error: unknown): string | undefined {
  return error instanceof Error ? error.stack : undefined;
}
