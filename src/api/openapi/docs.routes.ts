import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { APP_CONFIG, AppConfig } from '../../config/config';
import { RouteCatalog } from '../contract/route-catalog';
import { RouteContract, json, named, routeConfigOf } from '../contract/route-contract';
import { buildOpenApiDocument } from './openapi-document';

// swagger-ui-dist ships the UI's files; they are served from here, never from a CDN. Its path
// helper only: the package's index also runs the UI's 1.5 MB browser bundle in Node, which was
// half a second of every start.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SWAGGER_UI_DIR: string = (require('swagger-ui-dist/absolute-path.js') as () => string)();
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../../package.json') as { version: string }).version;

/** The UI's files this page uses, with their types (nothing else under the package is served). */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cachelog API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/docs/json', dom_id: '#swagger-ui', deepLinking: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });\n`;

export const DocsContracts = {
  document: {
    family: 'operations',
    summary: 'This OpenAPI 3.1 document',
    public: true,
    responses: { 200: json(named('OpenApiDocument', z.object({ openapi: z.string() }).catchall(z.unknown())), 'the document') },
  },
  page: {
    family: 'operations',
    summary: 'Swagger UI over this document',
    public: true,
    responses: { 200: { description: 'the page', contentType: 'text/html', schema: z.string() } },
  },
  init: {
    family: 'operations',
    summary: "Swagger UI's start script",
    public: true,
    responses: { 200: { description: 'the script', contentType: 'text/javascript', schema: z.string() } },
  },
  asset: {
    family: 'operations',
    summary: "Swagger UI's files (from the swagger-ui-dist package)",
    public: true,
    params: z.object({ asset: z.enum(Object.keys(ASSETS) as [string, ...string[]]) }),
    responses: { 200: { description: 'the file', contentType: 'application/octet-stream', schema: z.string().meta({ format: 'binary' }) } },
  },
} satisfies Record<string, RouteContract>;

/**
 * `/docs` (Swagger UI) and `/docs/json` (the OpenAPI 3.1 document), public. The document is
 * built on its first request, when every route is registered, and kept.
 */
@Injectable()
export class DocsRoutes {
  private document?: string;

  constructor(adapterHost: HttpAdapterHost, catalog: RouteCatalog, @Inject(APP_CONFIG) config: AppConfig) {
    const fastify = adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Registered here, after RouteCatalog's `onRoute` hook (injected above) so these are in the document too.
    fastify.get('/docs/json', { config: routeConfigOf(DocsContracts.document) }, (_request, reply) => {
      this.document ??= JSON.stringify(buildOpenApiDocument(catalog.routes, config, VERSION));
      void reply.header('content-type', 'application/json; charset=utf-8').send(this.document);
    });
    fastify.get('/docs', { config: routeConfigOf(DocsContracts.page) }, (_request, reply) => {
      void reply.header('content-type', 'text/html; charset=utf-8').send(PAGE);
    });
    fastify.get('/docs/init.js', { config: routeConfigOf(DocsContracts.init) }, (_request, reply) => {
      void reply.header('content-type', 'text/javascript; charset=utf-8').send(INIT);
    });
    fastify.get<{ Params: { asset: string } }>('/docs/assets/:asset', { config: routeConfigOf(DocsContracts.asset) }, (request, reply) => {
      const asset = request.params.asset;
      void reply.header('content-type', ASSETS[asset]).header('cache-control', 'public, max-age=86400').send(readFileSync(join(SWAGGER_UI_DIR, asset)));
    });
  }
}
