import { Injectable } from '@nestjs/common';
import { TokenAuthGuard } from '../../auth/token-auth.guard';

/**
 * IronCache routes. The token (`Authorization: OAuth|Bearer` or `?oauth=`) and the rule that
 * the project id is the token's org are checked by the edge (see auth/token-sources.ts).
 */
@Injectable()
export class IronCacheAuthGuard extends TokenAuthGuard {}
