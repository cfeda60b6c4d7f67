import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/config';
import { Journal } from './journal';
import { Storage } from './storage';

@Global()
@Module({
  providers: [
    { provide: Storage, useFactory: (config: AppConfig) => new Storage(config.dataDir, { reopenMaxBackoffMs: config.journalReopenMaxBackoffMs }), inject: [APP_CONFIG] },
    { provide: Journal, useFactory: (storage: Storage, config: AppConfig) => new Journal(storage, config.journalSync, config.snapshotsKept), inject: [Storage, APP_CONFIG] },
  ],
  exports: [Storage, Journal],
})
export class JournalModule {}
