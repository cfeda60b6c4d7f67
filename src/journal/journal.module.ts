import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { JournalConfig } from '../config/journal';
import type { LimitsConfig } from '../config/limits';
import { InlineReadModels } from './inline-read-models';
import { Journal } from './journal';
import { JournalBackend } from './journal-backend';
import { LevelDbBackend } from './leveldb/leveldb-backend';
import { MemoryBackend } from './memory/memory-backend';
import { NatsBackend } from './nats/nats-backend';
import { ReadModelStore } from './read-model-store';
import { SnapshotStore } from './snapshot-store';

/** Builds the configured backend (JOURNAL); AppLifecycle opens and closes it, no one else. */
export function createBackend(config: JournalConfig & Pick<LimitsConfig, 'maxValueBytes'>): JournalBackend {
  if (config.journal === 'memory') return new MemoryBackend({ snapshotsKept: config.snapshotsKept });
  if (config.journal === 'nats' && config.nats !== undefined) {
    return new NatsBackend({ ...config.nats, dataDir: config.dataDir, snapshotsKept: config.snapshotsKept, maxValueBytes: config.maxValueBytes });
  }
  return new LevelDbBackend(config.dataDir, { sync: config.journalSync, snapshotsKept: config.snapshotsKept, reopenMaxBackoffMs: config.journalReopenMaxBackoffMs, rowCacheEntries: config.inlineRowCacheEntries });
}

@Global()
@Module({
  providers: [
    { provide: JournalBackend, useFactory: createBackend, inject: [APP_CONFIG] },
    { provide: Journal, useFactory: (backend: JournalBackend) => backend.journal, inject: [JournalBackend] },
    { provide: SnapshotStore, useFactory: (backend: JournalBackend) => backend.snapshots, inject: [JournalBackend] },
    { provide: ReadModelStore, useFactory: (backend: JournalBackend) => backend.readModels, inject: [JournalBackend] },
    { provide: InlineReadModels, useFactory: (backend: JournalBackend) => backend.inline, inject: [JournalBackend] },
  ],
  exports: [JournalBackend, Journal, SnapshotStore, ReadModelStore, InlineReadModels],
})
export class JournalModule {}
