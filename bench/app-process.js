'use strict';

/**
 * One scenario app in its own process, so the app and the load generator never share an event loop.
 * Started by run.js with `BENCH_APP` (unguarded | stock | authz | bare | passport | authzjwt | authzjwt-policy), `BENCH_ADAPTER`, `BENCH_ISSUER`, `BENCH_JWKS_URI`,
 * and by store.js with `BENCH_STORE` (pglite | postgres: the authz app's `policyStore` is a PostgresPolicyStore,
 * given as an async factory; `BENCH_PGLITE_DIR` or `BENCH_DATABASE_URL`, `BENCH_STORE_SCHEMA`, and
 * `BENCH_STORE_SEED=1` to write scenario 3's policy when the store has none);
 * `BENCH_RESOURCE_ROUTE=1` adds the @Resource route GET /notes/:id, the role `owner` to scenario 3's policy (in memory, or
 * when seeding a store) and susan's `owner` role on note RESOURCE_ID through the app's store (`edit`);
 * reports `{ ready, port, cacheCap }` over IPC, answers `{ type: 'memory' }` and `{ type: 'cpu' }`, and exits on `{ type: 'stop' }`
 * (a clean exit, so that `--cpu-prof` writes its profile).
 */

const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { PolicyStore } = require('nestjs-authz');
const { appModule, AUTHZ_CONFIG, NOTE_POLICY, RESOURCE_ID, RESOURCE_ROLE, withOwnerRole } = require('./apps');

const resourceRoute = process.env.BENCH_RESOURCE_ROUTE === '1';
const notePolicy = resourceRoute ? withOwnerRole(NOTE_POLICY.note) : NOTE_POLICY.note;

/** The `policyStore` option for BENCH_STORE, and what to close after the app (the PGlite instance is ours). */
function storeFromEnv() {
  const backend = process.env.BENCH_STORE;
  if (!backend) return resourceRoute ? { authzOptions: { policies: { note: notePolicy } }, close: async () => {} } : undefined;
  // Required here, not at the top: the other apps need neither PGlite nor pg.
  const { openDriver, PostgresPolicyStore, seedIfAbsent } = require('./store-db');
  const opened = [];
  const factory = async () => {
    const { driver, closeDatabase } = await openDriver({ backend, dataDir: process.env.BENCH_PGLITE_DIR, url: process.env.BENCH_DATABASE_URL });
    opened.push(closeDatabase);
    const store = await PostgresPolicyStore.open({ driver, schema: process.env.BENCH_STORE_SCHEMA });
    if (process.env.BENCH_STORE_SEED === '1') await seedIfAbsent(store, notePolicy);
    return store;
  };
  return { authzOptions: { policyStore: factory }, close: async () => Promise.all(opened.map((close) => close())) };
}

async function main() {
  const kind = process.env.BENCH_APP;
  const adapter = process.env.BENCH_ADAPTER;
  const store = storeFromEnv();
  const module = appModule(kind, { issuer: process.env.BENCH_ISSUER, jwksUri: process.env.BENCH_JWKS_URI, authzOptions: store?.authzOptions, resourceRoute });
  const app = adapter === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] }) : await NestFactory.create(module, { logger: ['error'] });
  if (resourceRoute) await app.get(PolicyStore).edit([{ kind: 'grant-resource-role', policy: 'note', resource: RESOURCE_ID, subject: 'susan', role: RESOURCE_ROLE }], { actor: 'bench' });
  await app.listen(0, '127.0.0.1');
  const cacheCap = kind === 'authz' || kind.startsWith('authzjwt') ? capOf(app.get(AUTHZ_CONFIG).verifiedTokenCache) : undefined;

  process.on('message', async (message) => {
    if (message.type === 'memory') process.send({ type: 'memory', rss: process.memoryUsage().rss });
    if (message.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage() });
    if (message.type === 'stop') {
      await app.close();
      await store?.close();
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
