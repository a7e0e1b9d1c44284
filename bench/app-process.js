'use strict';

/**
 * One scenario app in its own process, so the app and the load generator never share an event loop.
 * Started by run.js with `BENCH_APP` (unguarded | stock | authz | bare), `BENCH_ADAPTER`, `BENCH_ISSUER`, `BENCH_JWKS_URI`;
 * reports `{ ready, port, cacheCap }` over IPC, answers `{ type: 'memory' }` and `{ type: 'cpu' }`, and exits on `{ type: 'stop' }`
 * (a clean exit, so that `--cpu-prof` writes its profile).
 */

const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { appModule, AUTHZ_CONFIG } = require('./apps');

async function main() {
  const kind = process.env.BENCH_APP;
  const adapter = process.env.BENCH_ADAPTER;
  const module = appModule(kind, { issuer: process.env.BENCH_ISSUER, jwksUri: process.env.BENCH_JWKS_URI });
  const app = adapter === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] }) : await NestFactory.create(module, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const cacheCap = kind === 'authz' ? capOf(app.get(AUTHZ_CONFIG).verifiedTokenCache) : undefined;

  process.on('message', async (message) => {
    if (message.type === 'memory') process.send({ type: 'memory', rss: process.memoryUsage().rss });
    if (message.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage() });
    if (message.type === 'stop') {
      await app.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: app.getHttpServer().address().port, cacheCap });
}

function capOf(cache) {
  return cache ? cache.maxEntries : 0;
}

main().catch((error) => {
  console.error(`bench app ${process.env.BENCH_APP}/${process.env.BENCH_ADAPTER} failed to start:`, error);
  process.exit(1);
});
