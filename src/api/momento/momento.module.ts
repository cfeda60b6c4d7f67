import { Module } from '@nestjs/common';
import { MomentoAuthGuard } from './momento-auth.guard';
import { MomentoController } from './momento.controller';
import { registerMomentoErrorFormat } from './momento-error.format';

/** The Momento-compatible HTTP API, under `/cache`. */
@Module({
  controllers: [MomentoController],
  providers: [MomentoAuthGuard],
})
export class MomentoApiModule {
  constructor() {
    registerMomentoErrorFormat();
  }
}
