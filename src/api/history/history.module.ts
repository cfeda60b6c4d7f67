import { BeforeApplicationShutdown, Global, Inject, Module, OnApplicationBootstrap } from '@nestjs/common';
import { Journal } from '../../journal/journal';
import { Storage } from '../../journal/storage';
import { EventOffsetsProjection } from '../../projections/event-offsets.projection';
import { ProjectionRunner } from '../../projections/projection-runner';
import { ConditionalGetHook } from './conditional-get.hook';
import { EventStreamService } from './event-stream.service';
import { EVENT_OFFSETS_RUNNER, HistoryService } from './history.service';
import { HistoryController } from './history.controller';

/**
 * History: the event-offsets projection (its own runner, started here so the core's
 * lifecycle is untouched), paged and streamed events, point-in-time reads, ETags.
 */
@Global()
@Module({
  controllers: [HistoryController],
  providers: [
    { provide: EventOffsetsProjection, useFactory: (storage: Storage) => new EventOffsetsProjection(storage), inject: [Storage] },
    {
      provide: EVENT_OFFSETS_RUNNER,
      useFactory: (storage: Storage, journal: Journal, projection: EventOffsetsProjection) => new ProjectionRunner(storage, journal, projection),
      inject: [Storage, Journal, EventOffsetsProjection],
    },
    HistoryService,
    EventStreamService,
    ConditionalGetHook,
  ],
  exports: [HistoryService, EventOffsetsProjection, EVENT_OFFSETS_RUNNER],
})
export class HistoryModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly storage: Storage,
    private readonly journal: Journal,
    @Inject(EVENT_OFFSETS_RUNNER) private readonly runner: ProjectionRunner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.storage.db.open();
    await this.runner.start();
  }

  /** Stops following the log; events committed later are caught up on the next start. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.journal.whenIdle();
    await this.runner.reached(this.journal.highestOffset, 10_000);
    this.runner.stop();
  }
}
