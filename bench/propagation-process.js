'use strict';

/**
 * One of the three app instances of the propagation part (bench/store.js): the nestjs-authz app of scenario 3 whose
 * `policyStore` is a PostgresPolicyStore on the server of `BENCH_DATABASE_URL` (schema `BENCH_STORE_SCHEMA`), with a
 * decision cache of one hour, so that only the store's change feed can drop a remembered decision.
 *
 * It reports every change its store's `onChange` delivers as `{ type: 'change', revision, at, dropped }`: `at` is
 * `process.hrtime.bigint()` (CLOCK_MONOTONIC, one clock for every process of the machine) when the listener ran, and
 * `dropped` whether the target's remembered decision was gone by then (the DefaultPolicyService subscribed first,
 * so its invalidation has run). Instance 0 also writes: `{ type: 'edit', kind }` grants or revokes the target's
 * permission through its store and answers with the instant just before COMMIT was sent (see commitTimingDriver)
 * and the instant the edit resolved.
 *
 * Env: `BENCH_INSTANCE`, `BENCH_ADAPTER`, `BENCH_ISSUER`, `BENCH_JWKS_URI`, `BENCH_DATABASE_URL`, `BENCH_STORE_SCHEMA`,
 * `BENCH_STORE_SEED=1` (instance 0: write the policy when the store has none).
 */

const { NestFactory } = require('@nestjs/core');
const { FastifyAdapter } = require('@nestjs/platform-fastify');
const { PolicyService, PolicyStore } = require('nestjs-authz');
const { authzModule, NOTE_POLICY } = require('./apps');
const { commitTimingDriver, openDriver, POLICY, PostgresPolicyStore, PROPAGATION_PERMISSION: PERMISSION, PROPAGATION_TARGET: TARGET, seedIfAbsent } = require('./store-db');

/** Scenario 3's policy plus the target, who holds CanRead directly (its token maps to no role). */
const PROPAGATION_POLICY = { ...NOTE_POLICY.note, subjects: { ...NOTE_POLICY.note.subjects, [TARGET]: { permissions: [PERMISSION] } } };

async function main() {
  const instance = Number(process.env.BENCH_INSTANCE);
  let commitSentAt = 0n;
  const policyStore = async () => {
    const { driver } = await openDriver({ backend: 'postgres', url: process.env.BENCH_DATABASE_URL });
    const store = await PostgresPolicyStore.open({ driver: commitTimingDriver(driver, (at) => (commitSentAt = at)), schema: process.env.BENCH_STORE_SCHEMA });
    if (process.env.BENCH_STORE_SEED === '1') await seedIfAbsent(store, PROPAGATION_POLICY);
    return store;
  };
  const { module } = authzModule({
    issuer: process.env.BENCH_ISSUER,
    jwksUri: process.env.BENCH_JWKS_URI,
    authzOptions: { policyStore, decisionCache: { ttlMs: 3_600_000, maxEntries: 10_000 } },
  });
  const app = process.env.BENCH_ADAPTER === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), { logger: ['error'] }) : await NestFactory.create(module, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const store = app.get(PolicyStore);
  const policies = app.get(PolicyService);
  // The identity the guard builds from the target's token: same subject, issuer and (no) identity roles.
  const identity = Object.freeze({ subject: TARGET, issuer: process.env.BENCH_ISSUER, audience: ['notes-api'], clientId: 'notes-cli', scopes: ['notes:read'], roles: [], claims: {} });
  const cached = () => {
    const value = policies.cachedDecision(POLICY, identity, PERMISSION);
    return value === undefined ? 'none' : String(value);
  };

  store.onChange((change) => {
    const at = process.hrtime.bigint();
    process.send({ type: 'change', instance, revision: change.revision, policy: change.policy, subject: change.subject, at: String(at), dropped: cached() === 'none' });
  });

  process.on('message', async (message) => {
    if (message.type === 'clock') process.send({ type: 'clock', at: String(process.hrtime.bigint()) });
    if (message.type === 'cached') process.send({ type: 'cached', value: cached() });
    if (message.type === 'memory') process.send({ type: 'memory', rss: process.memoryUsage().rss });
    if (message.type === 'cpu') process.send({ type: 'cpu', usage: process.cpuUsage() });
    if (message.type === 'edit') {
      try {
        const result = await store.edit([{ kind: message.kind, policy: POLICY, subject: TARGET, permission: PERMISSION }], { actor: 'bench-propagation' });
        const resolvedAt = process.hrtime.bigint();
        process.send({ type: 'edited', revision: result.revision, changed: result.changed[0], commitSentAt: String(commitSentAt), resolvedAt: String(resolvedAt) });
      } catch (error) {
        process.send({ type: 'edited', error: String(error?.message ?? error) });
      }
    }
    if (message.type === 'stop') {
      await app.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port: app.getHttpServer().address().port });
}

main().catch((error) => {
  console.error(`bench propagation instance ${process.env.BENCH_INSTANCE} failed to start:`, error);
  process.exit(1);
});
