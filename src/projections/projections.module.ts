import { Global, Injectable, Module } from '@nestjs/common';
import { ProjectionRunner } from './projection-runner';

/**
 * The projections that follow the journal with stored offsets: read models that need I/O
 * or are slow. (Those that are pure functions of events are the journal's inline read
 * models.) AppLifecycle starts the registered runners after the journal is open and stops
 * them before it closes.
 */
@Injectable()
export class ProjectionRunners {
  private readonly runners: ProjectionRunner[] = [];

  register(runner: ProjectionRunner): void {
    this.runners.push(runner);
  }

  get all(): readonly ProjectionRunner[] {
    return this.runners;
  }
}

@Global()
@Module({
  providers: [ProjectionRunners],
  exports: [ProjectionRunners],
})
export class ProjectionsModule {}
