import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

export type Adapter = 'express' | 'fastify';
export const ADAPTERS: Adapter[] = ['express', 'fastify'];

/** Compiles `metadata` into an app on the chosen HTTP adapter, initialised and ready for supertest. */
export async function createApp(adapter: Adapter, metadata: ModuleMetadata, configure?: (builder: ReturnType<typeof Test.createTestingModule>) => void): Promise<INestApplication> {
  const builder = Test.createTestingModule(metadata);
  configure?.(builder);
  const moduleRef = await builder.compile();
  if (adapter === 'fastify') {
    const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  }
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}
