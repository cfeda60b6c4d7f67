import { Module } from '@nestjs/common';
import { IronCacheAuthGuard } from './ironcache-auth.guard';
import { IronCacheController } from './ironcache.controller';
import { registerIronCacheErrorFormat } from './ironcache-error.format';
import { registerIronCacheJsonParser } from './ironcache-json';

/** The IronCache-compatible REST API, under `/1`. */
@Module({
  controllers: [IronCacheController],
  providers: [IronCacheAuthGuard],
})
export class IronCacheApiModule {
  constructor() {
    registerIronCacheErrorFormat();
    registerIronCacheJsonParser();
  }
}
