import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { APP_CONFIG } from '../config/settings';
import type { AuthConfig } from '../config/auth';
import type { JournalConfig } from '../config/journal';
import { AuthService, JWT_KEYS } from './auth.service';
import { TokenAuthGuard } from './token-auth.guard';
import { RateLimiter } from './rate-limiter';
import { resolveJwtKeys } from './jwt-keys';

@Global()
@Module({
  imports: [JwtModule.register({})],
  providers: [
    { provide: JWT_KEYS, useFactory: (config: AuthConfig & Pick<JournalConfig, 'dataDir'>) => resolveJwtKeys(config), inject: [APP_CONFIG] },
    AuthService,
    { provide: APP_GUARD, useClass: TokenAuthGuard },
    RateLimiter,
  ],
  exports: [AuthService, JWT_KEYS, RateLimiter],
})
export class AuthModule {}
