import { DynamicModule, Module } from '@nestjs/common';
import { ApiModule } from './api/api.module';
import { AppLifecycle } from './app.lifecycle';
import { AuthModule } from './auth/auth.module';
import { AppConfig } from './config/config';
import { Clock } from './config/clock';
import { ClusterModule } from './cluster/cluster.module';
import { ConfigModule } from './config/config.module';
import { CoreModule } from './core/core.module';
import { ConnectionBudgetModule } from './core/connection-budget';
import { AnswerBudgetModule } from './core/answer-budget';
import { UnreadAnswersModule } from './api/edge/unread-answers';
import { EntitiesModule } from './entities/entities.module';
import { JournalModule } from './journal/journal.module';
import { OpsModule } from './ops/ops.module';
import { ProjectionsModule } from './projections/projections.module';
import { RedisModule } from './redis/redis.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, clock?: Clock): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config, clock), ConnectionBudgetModule, AnswerBudgetModule, UnreadAnswersModule, OpsModule, JournalModule, ProjectionsModule, EntitiesModule, ClusterModule, CoreModule, AuthModule, ApiModule, RedisModule],
      providers: [AppLifecycle],
    };
  }
}
