import { Injectable } from '@nestjs/common';
import { TokenAuthGuard } from '../../auth/token-auth.guard';

/** Momento routes; the token (`?token=` or `Authorization`) is checked by the edge (see auth/token-sources.ts). */
@Injectable()
export class MomentoAuthGuard extends TokenAuthGuard {}
