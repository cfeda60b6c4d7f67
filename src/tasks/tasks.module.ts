import { Global, Module } from '@nestjs/common';
import { ReadModelStore } from '../journal/read-model-store';
import { TaskActions } from './task-actions';
import { TaskRunner } from './task-runner';
import { TaskStore } from './task.store';

/**
 * Background tasks. AppLifecycle resumes stored tasks once the journal is open and
 * checked, and lets running tasks finish before it stops anything else.
 */
@Global()
@Module({
  providers: [{ provide: TaskStore, useFactory: (store: ReadModelStore) => new TaskStore(store), inject: [ReadModelStore] }, TaskActions, TaskRunner],
  exports: [TaskRunner],
})
export class TasksModule {}
