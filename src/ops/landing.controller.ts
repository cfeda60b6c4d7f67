import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/public.decorator';

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

const LINKS = { docs: '/docs', console: '/console', ready: '/health/ready', live: '/health/live', metrics: '/metrics' } as const;

/** `GET /`: what this is, its version, and where to go next (HTML for browsers, JSON otherwise). */
@Controller()
export class LandingController {
  @Public()
  @Get()
  landing(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    const body = { service: 'cachelog', version: VERSION, links: LINKS };
    if ((request.headers.accept ?? '').includes('text/html')) {
      const items = Object.entries(LINKS)
        .map(([name, href]) => `<li><a href="${href}">${name}</a> <code>${href}</code></li>`)
        .join('');
      void reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cachelog ${VERSION}</title>` +
            `<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;color:#1f2933}code{color:#52606d}</style></head>` +
            `<body><h1>cachelog <small>${VERSION}</small></h1><p>A durable REST cache whose source of truth is an event log.</p><ul>${items}</ul></body></html>`,
        );
      return;
    }
    void reply.send(body);
  }
}
