import { Global, Module } from '@nestjs/common';
import { CacheHistoryModule } from '../../core/history.module';
import { ConditionalReads } from './conditional-get.hook';
import { EventStreamService } from './event-stream.service';
import { HistoryService } from './history.service';
import { HistoryController } from './history.controller';
import { ReadYourWrites } from './read-your-writes';

/**
 * History: paged and streamed events (their offsets come from the journal), point-in-time
 * reads, ETags. It starts and stops nothing: the journal is AppLifecycle's.
 */
@Global()
@Module({
  imports: [CacheHistoryModule],
  controllers: [HistoryController],
  providers: [HistoryService, EventStreamService, ConditionalReads, ReadYourWrites],
  exports: [HistoryService, ConditionalReads, ReadYourWrites],
})
export class HistoryModule {}
