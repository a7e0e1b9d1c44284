'use strict';

/**
 * The scale part of bench/store.js for one backend, in its own process (started with --expose-gc):
 *
 * 1. seeds the big policy (`BENCH_STORE_SUBJECTS` subjects × `BENCH_STORE_GRANTS` grants, about 1 000 000 rows) with
 *    one `put-policy` edit through `PostgresPolicyStore.edit`, timed, runs VACUUM (ANALYZE) on the grant tables (what
 *    autovacuum does on a server after a bulk load), and reports `{ type: 'seeded' }`;
 * 2. on `{ type: 'measure' }` (the parent runs one backend's measurement at a time) times, one call after another,
 *    `store.grantsFor` and `DefaultPolicyService.hasPermission` with `decisionCache: false` for random subjects,
 *    then `hasPermission` with 10 calls in flight; every answer is checked against the seeded document.
 *
 *    Then the resource checks (measureResources): uncached hasPermission with { resource } timed in turn with the
 *    type-wide one, allowedResources of 100 ids against 100 sequential hasPermission calls, and cachedDecision hits;
 * 3. on `{ type: 'stop' }` closes the store (and PGlite, so that an app process can open the same data directory).
 *
 * Besides the big policy it writes `BENCH_STORE_RESOURCE_SUBJECTS` x `BENCH_STORE_RESOURCES` resource grants (role
 * `owner` of one note each) with one INSERT ... SELECT (store-db.js: seedResourceGrants).
 *
 * Env: `BENCH_STORE` (pglite | postgres), `BENCH_PGLITE_DIR` or `BENCH_DATABASE_URL`, `BENCH_STORE_SCHEMA`,
 * `BENCH_STORE_SUBJECTS`, `BENCH_STORE_GRANTS`, `BENCH_STORE_SAMPLES`, `BENCH_STORE_RESOURCE_SUBJECTS`,
 * `BENCH_STORE_RESOURCES`, `BENCH_STORE_BATCHES`.
 */

const { performance } = require('node:perf_hooks');
const { NestFactory } = require('@nestjs/core');
const { PolicyService } = require('nestjs-authz');
const { authzModule } = require('./apps');
const {
  bigPolicyDocument,
  bigSubjectGrants,
  expectedPermissions,
  openDriver,
  ownerName,
  POLICY,
  PostgresPolicyStore,
  RESOURCE_PERMISSION,
  resourceName,
  seedResourceGrants,
  subjectName,
} = require('./store-db');
const { makeSigningKey } = require('./tokens');

const backend = process.env.BENCH_STORE;
const schema = process.env.BENCH_STORE_SCHEMA;
const subjects = Number(process.env.BENCH_STORE_SUBJECTS);
const grantsPerSubject = Number(process.env.BENCH_STORE_GRANTS);
const samples = Number(process.env.BENCH_STORE_SAMPLES);
const owners = Number(process.env.BENCH_STORE_RESOURCE_SUBJECTS);
const perOwner = Number(process.env.BENCH_STORE_RESOURCES);
const batchSamples = Number(process.env.BENCH_STORE_BATCHES);
const totalResources = owners * perOwner;
/** Ids per allowedResources call, and how many of them the subject owns (the rest are other owners' notes). */
const BATCH = 100;
const BATCH_OWN = 50;
/** One sequential baseline (BATCH hasPermission calls) per this many batch calls. */
const BASELINE_EVERY = 10;
/** Distinct identities (and resources) cycled through by the cached-decision timing; calls per block; blocks per kind. */
const CACHED_SET = 1_000;
const CACHED_BLOCK = 100_000;
const CACHED_BLOCKS = 20;
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

const randomInt = (n) => Math.floor(Math.random() * n);
const identityOf = (subject, roles) => Object.freeze({ subject, issuer: ISSUER, audience: ['notes-api'], clientId: 'notes-cli', scopes: ['notes:read'], roles, claims: {} });
/** A note owned by owner `j` (n % owners === j), and one owned by someone else. */
const ownNote = (j) => j + randomInt(perOwner) * owners;
function otherNote(j) {
  const n = randomInt(totalResources);
  return n % owners === j ? (n + 1) % totalResources : n;
}

/**
 * A resource question: a random owner (no type-wide grant of CanShare; identity roles as for randomCase) about one of
 * its own notes (3 in 4: granted through its `owner` role on it) or another owner's (denied).
 */
function randomResourceCase() {
  const j = randomInt(owners);
  const roles = IDENTITY_ROLE_SETS[randomInt(IDENTITY_ROLE_SETS.length)];
  const own = Math.random() < 0.75;
  return { identity: identityOf(ownerName(j), roles), resource: resourceName(own ? ownNote(j) : otherNote(j)), expected: own };
}

/** BATCH distinct note ids in random order, BATCH_OWN of them the owner's, and which of them must be allowed. */
function randomBatchCase() {
  const j = randomInt(owners);
  const roles = IDENTITY_ROLE_SETS[randomInt(IDENTITY_ROLE_SETS.length)];
  const own = new Set();
  while (own.size < Math.min(BATCH_OWN, perOwner)) own.add(resourceName(ownNote(j)));
  const ids = new Set(own);
  while (ids.size < BATCH) ids.add(resourceName(otherNote(j)));
  const list = [...ids];
  for (let k = list.length - 1; k > 0; k--) {
    const swap = randomInt(k + 1);
    [list[k], list[swap]] = [list[swap], list[k]];
  }
  return { identity: identityOf(ownerName(j), roles), ids: list, expected: own };
}

/**
 * Two calls timed in turn (A B, then B A, ...) so that both see the same machine: `count` calls of each, the case of
 * each made before its clock starts.
 */
async function timePaired(count, a, b) {
  const latencies = [[], []];
  const seconds = [0, 0];
  const kinds = [a, b];
  for (let n = 0; n < count; n++) {
    for (const k of n % 2 === 0 ? [0, 1] : [1, 0]) {
      const c = kinds[k].prepare();
      const before = performance.now();
      await kinds[k].call(c);
      const ms = performance.now() - before;
      latencies[k].push(ms);
      seconds[k] += ms / 1000;
    }
  }
  return [stats(latencies[0], seconds[0]), stats(latencies[1], seconds[1])];
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
  const authzOptions = { jwks: { keys: [signing.jwk] }, algorithms: ['ES256'], policyStore: store, decisionCache: false };
  const { module } = authzModule({ issuer: ISSUER, jwksUri: undefined, authzOptions });
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
  const resource = await measureResources(store, authzOptions, policies, prepare, decide);
  return { grantsFor, hasPermission, inFlight, resource, app, policyService: policies.constructor.name };
}

/**
 * Resource checks on the same store (`owners` x `perOwner` rows of resource_roles besides the big policy's grants):
 * - uncached: hasPermission with { resource } next to the type-wide hasPermission above, timed in turn (decisionCache: false);
 * - batch: allowedResources of BATCH ids (decisionCache: false, so one store query per call: counted) next to BATCH
 *   sequential hasPermission calls on the same ids, timed in turn (one baseline per BASELINE_EVERY batches);
 * - cached: cachedDecision hits, type-wide and on a resource, in another app context of the same store with the
 *   decision cache on (TTL 1 h, so that nothing expires while it is timed), in alternating blocks.
 * Every answer is checked (the run fails on a wrong one).
 */
async function measureResources(store, authzOptions, policies, prepareTypeWide, decideTypeWide) {
  let wrong = 0;
  let queries = 0;
  const grantsFor = store.grantsFor;
  store.grantsFor = function countedGrantsFor(...args) {
    queries++;
    return grantsFor.apply(this, args);
  };
  const decideResource = async (c) => {
    if ((await policies.hasPermission(POLICY, c.identity, RESOURCE_PERMISSION, { resource: c.resource })) !== c.expected) wrong++;
  };
  for (let n = 0; n < Math.min(500, samples); n++) await decideResource(randomResourceCase());
  global.gc?.();
  const [typeWide, onResource] = await timePaired(samples, { prepare: prepareTypeWide, call: decideTypeWide }, { prepare: randomResourceCase, call: decideResource });

  const sameSet = (got, expected) => got.size === expected.size && [...expected].every((id) => got.has(id));
  const batch = async (c) => {
    if (!sameSet(await policies.allowedResources(POLICY, c.identity, RESOURCE_PERMISSION, c.ids), c.expected)) wrong++;
  };
  const sequential = async (c) => {
    const allowed = new Set();
    for (const id of c.ids) if (await policies.hasPermission(POLICY, c.identity, RESOURCE_PERMISSION, { resource: id })) allowed.add(id);
    if (!sameSet(allowed, c.expected)) wrong++;
  };
  for (let n = 0; n < 50; n++) await batch(randomBatchCase());
  for (let n = 0; n < 5; n++) await sequential(randomBatchCase());
  global.gc?.();
  const batchLatencies = [];
  const baselineLatencies = [];
  let batchQueries = 0;
  let batchSeconds = 0;
  let baselineSeconds = 0;
  for (let n = 0; n < batchSamples; n++) {
    let c = randomBatchCase();
    const queriesBefore = queries;
    let before = performance.now();
    await batch(c);
    let ms = performance.now() - before;
    batchQueries += queries - queriesBefore;
    batchLatencies.push(ms);
    batchSeconds += ms / 1000;
    if (n % BASELINE_EVERY === BASELINE_EVERY - 1) {
      c = randomBatchCase();
      before = performance.now();
      await sequential(c);
      ms = performance.now() - before;
      baselineLatencies.push(ms);
      baselineSeconds += ms / 1000;
    }
  }
  store.grantsFor = grantsFor;

  // Cached: a second app context on the same store, decision cache on. Not closed here: closing an app closes the
  // store too, and the first app closes it at the end.
  const { module: cachedModule } = authzModule({ issuer: ISSUER, jwksUri: undefined, authzOptions: { ...authzOptions, decisionCache: { ttlMs: 3_600_000 } } });
  const cachedApp = await NestFactory.createApplicationContext(cachedModule, { logger: ['error'] });
  const cachedPolicies = cachedApp.get(PolicyService);
  // Same identity roles on both sides: the type-wide answer grants CanRead (notes-reader -> reader); the owner's
  // type-wide answer lacks CanShare, so its resource answer is looked up as well (the path of a resource check).
  const typeWideSet = Array.from({ length: CACHED_SET }, (_, i) => ({ identity: identityOf(subjectName(i), ['notes-reader']), permission: 'CanRead' }));
  const resourceSet = Array.from({ length: CACHED_SET }, (_, i) => ({ identity: identityOf(ownerName(i % owners), ['notes-reader']), permission: RESOURCE_PERMISSION, resource: resourceName(i % owners + (Math.floor(i / owners) % perOwner) * owners) }));
  for (const c of typeWideSet) if (!(await cachedPolicies.hasPermission(POLICY, c.identity, c.permission))) wrong++;
  for (const c of resourceSet) if (!(await cachedPolicies.hasPermission(POLICY, c.identity, c.permission, { resource: c.resource }))) wrong++;
  const timeBlock = (set, withResource) => {
    let hits = 0;
    const start = process.hrtime.bigint();
    if (withResource) {
      for (let n = 0; n < CACHED_BLOCK; n++) {
        const c = set[n % CACHED_SET];
        if (cachedPolicies.cachedDecision(POLICY, c.identity, c.permission, c.resource) === true) hits++;
      }
    } else {
      for (let n = 0; n < CACHED_BLOCK; n++) {
        const c = set[n % CACHED_SET];
        if (cachedPolicies.cachedDecision(POLICY, c.identity, c.permission) === true) hits++;
      }
    }
    const ns = Number(process.hrtime.bigint() - start) / CACHED_BLOCK;
    if (hits !== CACHED_BLOCK) wrong += CACHED_BLOCK - hits;
    return ns;
  };
  timeBlock(typeWideSet, false);
  timeBlock(resourceSet, true);
  const cachedTypeWide = [];
  const cachedResource = [];
  for (let block = 0; block < CACHED_BLOCKS; block++) {
    if (block % 2 === 0) {
      cachedTypeWide.push(timeBlock(typeWideSet, false));
      cachedResource.push(timeBlock(resourceSet, true));
    } else {
      cachedResource.push(timeBlock(resourceSet, true));
      cachedTypeWide.push(timeBlock(typeWideSet, false));
    }
  }
  if (wrong > 0) throw new Error(`${wrong} resource answers (hasPermission, allowedResources, cachedDecision) differ from the seeded grants`);
  const blocks = (list) => ({ ...stats(list, 0), blocks: list.length, callsPerBlock: CACHED_BLOCK });
  return {
    owners,
    perOwner,
    batchSize: BATCH,
    batchOwn: Math.min(BATCH_OWN, perOwner),
    typeWide,
    onResource,
    batch: stats(batchLatencies, batchSeconds),
    batchQueriesPerCall: batchQueries / batchSamples,
    sequential: stats(baselineLatencies, baselineSeconds),
    cachedTypeWideNs: blocks(cachedTypeWide),
    cachedResourceNs: blocks(cachedResource),
    cachedPolicyService: cachedPolicies.constructor.name,
  };
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
  // The resource grants, written after the policy (their role must exist), timed on their own.
  const resourceStart = performance.now();
  await seedResourceGrants(driver, schema, owners, perOwner);
  const resourceSeedSeconds = (performance.now() - resourceStart) / 1000;
  // What autovacuum would do on a server a while after the bulk load (PGlite has no autovacuum): statistics for the
  // planner and the visibility map for index-only scans. Measured on the state after it, and timed.
  const vacuumStart = performance.now();
  await driver.query(`VACUUM (ANALYZE) ${schema}.subject_roles, ${schema}.subject_permissions, ${schema}.resource_roles, ${schema}.role_permissions, ${schema}.identity_roles, ${schema}.roles, ${schema}.policies`);
  const vacuumSeconds = (performance.now() - vacuumStart) / 1000;
  const sizes = await tableSizes(driver);
  const rssAfterSeedMb = process.memoryUsage().rss / 2 ** 20;
  process.send({ type: 'seeded', backend, seedSeconds, resourceSeedSeconds, resourceRows: totalResources, vacuumSeconds, buildSeconds, openMs, rows, sizes, rssAfterSeedMb, peakRssMb: process.resourceUsage().maxRSS / 1024 });

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
