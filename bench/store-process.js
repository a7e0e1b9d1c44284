'use strict';

/**
 * The scale part of bench/store.js for one backend, in its own process (started with --expose-gc):
 *
 * 1. seeds the big policy (`BENCH_STORE_SUBJECTS` subjects × `BENCH_STORE_GRANTS` grants, about 1 000 000 rows) with
 *    one `put-policy` edit through `PostgresPolicyStore.edit`, timed, runs VACUUM (ANALYZE) on the grant tables (what
 *    autovacuum does on a server after a bulk load), and reports `{ type: 'seeded' }`;
 * 2. on `{ type: 'measure' }` (the parent runs one backend's measurement at a time) times, one call after another,
 *    `store.grantsFor` and `DefaultPolicyService.hasPermission` with `decisionCache: false` for random subjects,
 *    then `hasPermission` with 10 calls in flight; every answer is checked against the seeded document;
 * 3. on `{ type: 'stop' }` closes the store (and PGlite, so that an app process can open the same data directory).
 *
 * Env: `BENCH_STORE` (pglite | postgres), `BENCH_PGLITE_DIR` or `BENCH_DATABASE_URL`, `BENCH_STORE_SCHEMA`,
 * `BENCH_STORE_SUBJECTS`, `BENCH_STORE_GRANTS`, `BENCH_STORE_SAMPLES`.
 */

const { performance } = require('node:perf_hooks');
const { NestFactory } = require('@nestjs/core');
const { PolicyService } = require('nestjs-authz');
const { authzModule } = require('./apps');
const { bigPolicyDocument, bigSubjectGrants, expectedPermissions, openDriver, POLICY, PostgresPolicyStore, subjectName } = require('./store-db');
const { makeSigningKey } = require('./tokens');

const backend = process.env.BENCH_STORE;
const schema = process.env.BENCH_STORE_SCHEMA;
const subjects = Number(process.env.BENCH_STORE_SUBJECTS);
const grantsPerSubject = Number(process.env.BENCH_STORE_GRANTS);
const samples = Number(process.env.BENCH_STORE_SAMPLES);
const ISSUER = 'https://issuer.bench/';
/** Identity roles of the sampled identities: none, the one of scenario 3, or two that map to roles. */
const IDENTITY_ROLE_SETS = [[], ['notes-reader'], ['notes-reader', 'staff']];
const IN_FLIGHT = 10;

function nextMessage(type) {
  return new Promise((resolve) => {
    const onMessage = (message) => {
      if (message.type !== type) return;
      process.off('message', onMessage);
      resolve(message);
    };
    process.on('message', onMessage);
  });
}

/** Sizes of the store's tables (with indexes and TOAST), in MB. */
async function tableSizes(driver) {
  const rows = await driver.query(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
    [schema],
  );
  return Object.fromEntries(rows.map((row) => [row.name, Number(row.bytes) / 2 ** 20]));
}

function stats(latencies, seconds) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const over2ms = sorted.filter((x) => x > 2).length;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1], mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length, over2ms, seconds };
}

/** A random decision of the big policy: subject, identity roles, a permission, and the answer it must get. */
function randomCase(small) {
  const i = Math.floor(Math.random() * subjects);
  const roles = IDENTITY_ROLE_SETS[Math.floor(Math.random() * IDENTITY_ROLE_SETS.length)];
  const own = bigSubjectGrants(i, grantsPerSubject);
  // Granted directly, granted through a role, or most likely not granted at all.
  const candidates = [own.permissions[0], `perm-${Math.floor(Math.random() * 40)}`, `direct-${Math.floor(Math.random() * 1000)}`, 'CanRead'];
  const permission = candidates[Math.floor(Math.random() * candidates.length)];
  const identity = Object.freeze({ subject: subjectName(i), issuer: ISSUER, audience: ['notes-api'], clientId: 'notes-cli', scopes: ['notes:read'], roles, claims: {} });
  return { i, identity, permission, expected: expectedPermissions(small, i, grantsPerSubject, roles).has(permission) };
}

/** `count` calls one after another; the random case of each is made before its clock starts. */
async function timeSequential(count, prepare, call) {
  const latencies = [];
  const start = performance.now();
  for (let n = 0; n < count; n++) {
    const c = prepare();
    const before = performance.now();
    await call(c);
    latencies.push(performance.now() - before);
  }
  return stats(latencies, (performance.now() - start) / 1000);
}

/** `count` calls, IN_FLIGHT at a time. */
async function timeInFlight(count, prepare, call) {
  const latencies = [];
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next++ < count) {
      const c = prepare();
      const before = performance.now();
      await call(c);
      latencies.push(performance.now() - before);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const result = stats(latencies, (performance.now() - start) / 1000);
  return { ...result, inFlight: IN_FLIGHT, perSecond: count / result.seconds };
}

async function measure(store, small) {
  const prepare = () => randomCase(small);
  let wrong = 0;
  const grants = async (c) => {
    const found = await store.grantsFor(POLICY, c.identity.subject, c.identity.roles);
    if (!found || found.subjectPermissions.length !== bigSubjectGrants(c.i, grantsPerSubject).permissions.length) wrong++;
  };
  const signing = makeSigningKey('es-store', 'ES256');
  const { module } = authzModule({ issuer: ISSUER, jwksUri: undefined, authzOptions: { jwks: { keys: [signing.jwk] }, algorithms: ['ES256'], policyStore: store, decisionCache: false } });
  const app = await NestFactory.createApplicationContext(module, { logger: ['error'] });
  const policies = app.get(PolicyService);
  const decide = async (c) => {
    if ((await policies.hasPermission(POLICY, c.identity, c.permission)) !== c.expected) wrong++;
  };
  // Warm-up: JIT, the driver's connections, the database's buffers.
  for (let n = 0; n < Math.min(1_000, samples); n++) await grants(prepare());
  for (let n = 0; n < Math.min(500, samples); n++) await decide(prepare());
  global.gc?.();
  const grantsFor = await timeSequential(samples, prepare, grants);
  global.gc?.();
  const hasPermission = await timeSequential(samples, prepare, decide);
  global.gc?.();
  const inFlight = await timeInFlight(samples, prepare, decide);
  if (wrong > 0) throw new Error(`${wrong} grantsFor / hasPermission answers differ from the seeded policy`);
  return { grantsFor, hasPermission, inFlight, app, policyService: policies.constructor.name };
}

async function main() {
  const { driver, closeDatabase } = await openDriver({ backend, dataDir: process.env.BENCH_PGLITE_DIR, url: process.env.BENCH_DATABASE_URL });
  const openStart = performance.now();
  const store = await PostgresPolicyStore.open({ driver, schema });
  const openMs = performance.now() - openStart;

  const buildStart = performance.now();
  let { document, rows } = bigPolicyDocument(subjects, grantsPerSubject);
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const small = { roles: document.roles, identityRoles: document.identityRoles };
  const seedStart = performance.now();
  await store.edit([{ kind: 'put-policy', policy: POLICY, document }], { actor: 'bench-seed' });
  const seedSeconds = (performance.now() - seedStart) / 1000;
  document = undefined;
  // What autovacuum would do on a server a while after the bulk load (PGlite has no autovacuum): statistics for the
  // planner and the visibility map for index-only scans. Measured on the state after it, and timed.
  const vacuumStart = performance.now();
  await driver.query(`VACUUM (ANALYZE) ${schema}.subject_roles, ${schema}.subject_permissions, ${schema}.role_permissions, ${schema}.identity_roles, ${schema}.roles, ${schema}.policies`);
  const vacuumSeconds = (performance.now() - vacuumStart) / 1000;
  const sizes = await tableSizes(driver);
  const rssAfterSeedMb = process.memoryUsage().rss / 2 ** 20;
  process.send({ type: 'seeded', backend, seedSeconds, vacuumSeconds, buildSeconds, openMs, rows, sizes, rssAfterSeedMb, peakRssMb: process.resourceUsage().maxRSS / 1024 });

  await nextMessage('measure');
  const { app, ...result } = await measure(store, small);
  process.send({ type: 'measured', backend, ...result, rssMb: process.memoryUsage().rss / 2 ** 20 });

  await nextMessage('stop');
  await app.close(); // closes the store too (the module's PolicyStoreLifecycle)
  await closeDatabase();
  process.exit(0);
}

main().catch((error) => {
  console.error(`bench store scale (${backend}) failed:`, error);
  process.exit(1);
});
