import { Injectable } from '@nestjs/common';
import { TokenAuthGuard } from './token-auth.guard';

/** Native API, history, settings and tasks routes (`Authorization: Bearer`, see token-sources.ts). */
@Injectable()
export class BearerAuthGuard extends TokenAuthGuard {}
