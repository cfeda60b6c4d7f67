import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Controller, Get, Param, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ApiError } from '../api/errors/api-error';
import { Public } from '../auth/public.decorator';

/** The console's static files (plain HTML, CSS and JS in the repo's `console/` folder: no build step). */
const CONSOLE_DIR = join(__dirname, '..', '..', 'console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Read once at start: the file names are a fixed list, so no path from a request reaches the file system. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(CONSOLE_DIR)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(join(CONSOLE_DIR, name)) });
  }
  return assets;
}

/**
 * `/console`: a small web console over the public HTTP API. The page holds no secret; the
 * token a user pastes stays in the browser's session storage and goes out as a Bearer header.
 */
@Controller('console')
export class ConsoleController {
  private readonly assets = loadAssets();

  @Public()
  @Get()
  index(@Res() reply: FastifyReply): void {
    this.send(reply, 'index.html');
  }

  @Public()
  @Get(':file')
  asset(@Param('file') file: string, @Res() reply: FastifyReply): void {
    this.send(reply, file);
  }

  private send(reply: FastifyReply, name: string): void {
    const asset = this.assets.get(name);
    if (asset === undefined) throw ApiError.of('NOT_FOUND', 'no such console file');
    void reply
      .type(asset.type)
      .header('cache-control', 'no-cache')
      // The console only talks to this origin; nothing inline, nothing from elsewhere.
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff')
      .send(asset.body);
  }
}
