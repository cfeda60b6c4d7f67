import { Module } from '@nestjs/common';
import { IronCacheController } from './ironcache.controller';

/** The IronCache-compatible REST API, under `/1`. */
@Module({
  controllers: [IronCacheController],
})
export class IronCacheApiModule {}
