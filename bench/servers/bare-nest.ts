import 'reflect-metadata';
import { Body, Controller, Get, HttpCode, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { FastifyReply } from 'fastify';
import { BODY_LIMIT, VALUE_100, announce, batchGetAnswer } from './common';

@Controller()
class BareController {
  @Post('batch/get')
  @HttpCode(200)
  batchGet(@Body() body: unknown) {
    return batchGetAnswer(body);
  }

  @Get(':cacheName/:key')
  get(@Res() reply: FastifyReply) {
    void reply.header('content-type', 'application/octet-stream').send(VALUE_100);
  }

  @Post(':cacheName/:key')
  @HttpCode(201)
  set(): void {}
}

@Module({ controllers: [BareController] })
class BareModule {}

/** Bare NestJS on Fastify with the same routes: what the framework costs by itself. */
async function main(): Promise<void> {
  const started = Date.now();
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter({ bodyLimit: BODY_LIMIT }), { logger: false });
  app.getHttpAdapter().getInstance().addContentTypeParser('application/octet-stream', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_r, body, done) => done(null, body));
  await app.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
  announce(Number(process.env.BENCH_PORT), Date.now() - started);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

void main();
