import { Module } from '@nestjs/common';
import { MomentoController } from './momento.controller';

/** The Momento-compatible HTTP API, under `/cache`. */
@Module({
  controllers: [MomentoController],
})
export class MomentoApiModule {}
