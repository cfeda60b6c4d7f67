import { Global, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Storage } from '../journal/storage';
import { TaskActions } from './task-actions';
import { TaskRunner } from './task-runner';
import { TaskStore } from './task.store';

/**
 * Background tasks. Stored tasks are resumed once the whole application has started (the
 * HTTP server's onReady), never before the journal is open; running tasks finish before
 * shutdown goes on.
 */
@Global()
@Module({
  providers: [{ provide: TaskStore, useFactory: (storage: Storage) => new TaskStore(storage), inject: [Storage] }, TaskActions, TaskRunner],
  exports: [TaskRunner],
})
export class TasksModule implements OnModuleInit, OnModuleDestroy {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly runner: TaskRunner,
  ) {}

  onModuleInit(): void {
    this.adapterHost.httpAdapter.getInstance().addHook('onReady', () => this.runner.start());
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }
}
