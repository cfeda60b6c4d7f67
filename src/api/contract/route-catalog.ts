import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { compileValidator, isValidationHook, validationHook } from './contract-validation';
import { RouteContract, contractOf } from './route-contract';

export interface CatalogedRoute {
  readonly method: string;
  /** Fastify's path (`/cacheName/:cacheName`). */
  readonly url: string;
  readonly contract?: RouteContract;
  /** A 405 answer for a verb the path does not serve (see method-not-allowed.ts). */
  readonly methodNotAllowed: boolean;
  readonly public: boolean;
}

/**
 * Every route as Fastify registers it (Nest's and the direct ones), seen through `onRoute`:
 * the OpenAPI document is built from this list, so a route cannot exist without being in it.
 * A route with a contract gets its compiled validator as a `preValidation` hook here (the
 * fast native routes run theirs inline and say so with `validatesInline`).
 *
 * Constructed before any route exists (providers are built before `app.init()`).
 */
@Injectable()
export class RouteCatalog {
  private readonly list: CatalogedRoute[] = [];

  constructor(adapterHost: HttpAdapterHost, @Inject(APP_CONFIG) private readonly config: AppConfig) {
    const fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onRoute', (route: RouteOptions) => this.record(route));
  }

  get routes(): readonly CatalogedRoute[] {
    return this.list;
  }

  private record(route: RouteOptions): void {
    const config = route.config as { methodNotAllowed?: boolean; public?: boolean; validatesInline?: boolean } | undefined;
    const contract = contractOf(config);
    for (const method of [route.method].flat()) {
      this.list.push({ method: method.toUpperCase(), url: route.url, contract, methodNotAllowed: config?.methodNotAllowed === true, public: config?.public === true });
    }
    if (contract === undefined || config?.validatesInline) return;
    const validate = compileValidator(contract, this.config);
    if (validate === undefined) return;
    const existing = route.preValidation === undefined ? [] : [route.preValidation].flat();
    // Fastify derives HEAD from GET's options, which may already carry the hook.
    if (existing.some(isValidationHook)) return;
    route.preValidation = [validationHook(validate), ...existing];
  }
}
