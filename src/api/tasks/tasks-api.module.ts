import { Module } from '@nestjs/common';
import { TasksModule } from '../../tasks/tasks.module';
import { TasksController } from './tasks.controller';

/** `/api/v1/cache/...`: the task API. */
@Module({
  imports: [TasksModule],
  controllers: [TasksController],
})
export class TasksApiModule {}
