import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/settings';
import type { JournalConfig } from '../config/journal';
import { JournalBackend } from '../journal/journal-backend';
import { ReadModelStore } from '../journal/read-model-store';
import { SharedTaskStore, nodeIdIn } from './shared-task-store';
import { TaskActions } from './task-actions';
import { TaskRunner } from './task-runner';
import { LocalTaskStore, TaskStore } from './task.store';

/** Task records where every node reads them when the journal is shared, else beside the read models. */
function taskStoreFor(backend: JournalBackend, readModels: ReadModelStore, config: JournalConfig): TaskStore {
  return backend.sharedBucket !== undefined ? new SharedTaskStore(backend.sharedBucket, nodeIdIn(config.dataDir)) : new LocalTaskStore(readModels);
}

/**
 * Background tasks. AppLifecycle resumes stored tasks once the journal is open and
 * checked, and lets running tasks finish before it stops anything else.
 */
@Global()
@Module({
  providers: [{ provide: TaskStore, useFactory: taskStoreFor, inject: [JournalBackend, ReadModelStore, APP_CONFIG] }, TaskActions, TaskRunner],
  exports: [TaskRunner, TaskStore],
})
export class TasksModule {}
