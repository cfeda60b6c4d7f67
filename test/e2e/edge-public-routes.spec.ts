import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { HttpEdge } from '../../src/api/edge/http-edge';
import { AuthModule } from '../../src/auth/auth.module';
import { Public } from '../../src/auth/public.decorator';
import { loadConfig } from '../../src/config/config';
import { ConfigModule } from '../../src/config/config.module';
import { tempDir } from '../support/temp-dir';
import { TEST_SECRET, http, tokenFor } from '../support/test-app';

@Controller()
class ProbeController {
  @Public()
  @Get('open')
  open() {
    return { open: true };
  }

  @Get('closed')
  closed() {
    return { open: false };
  }
}

/**
 * The edge's marker for open routes (health, metrics, docs, the landing page):
 * a `@Public()` route answers without a token; every other route, the same controller's
 * included, is 401 before its handler.
 */
describe('the edge: @Public() routes skip the token, every other route needs one', () => {
  const dir = tempDir();
  let app: NestFastifyApplication;
  let url: string;
  beforeAll(async () => {
    const config = loadConfig({ DATA_DIR: dir.path, JWT_SECRET: TEST_SECRET });
    @Module({ imports: [ConfigModule.forRoot(config), AuthModule], controllers: [ProbeController], providers: [HttpEdge] })
    class ProbeModule {}
    app = await NestFactory.create<NestFastifyApplication>(ProbeModule, new FastifyAdapter(), { logger: false, bodyParser: false });
    app.get(HttpEdge).register(app.getHttpAdapter().getInstance());
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    await app.close();
    dir.cleanup();
  });

  it('answers a @Public() route without a token', async () => {
    const answer = await http(`${url}/open`);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ open: true });
  });

  it('refuses an unmarked route without a token, and admits it with one', async () => {
    const refused = await http(`${url}/closed`);
    expect(refused.status).toBe(401);
    expect(refused.json()).toEqual({ code: 'UNAUTHORIZED', message: expect.any(String) });
    expect((await http(`${url}/closed`, { token: tokenFor({ org: 'acme' }) })).json()).toEqual({ open: false });
  });
});
