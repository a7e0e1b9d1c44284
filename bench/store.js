'use strict';

/**
 * The PostgresPolicyStore parts of `npm run bench` (`node bench/run.js --only store` runs only these):
 *
 * - scale: a big policy (100 000 subjects × 10 grants = about 1 000 000 rows) seeded with one put-policy edit, then
 *   uncached decisions timed in-process (bench/store-process.js), one backend at a time;
 * - hot: scenario 3 (same token every request, cached decisions) over HTTP with the app's `policyStore` a
 *   PostgresPolicyStore on PGlite and on PostgreSQL, with scenario 3's small policy and with the big one, next to
 *   the in-memory store and the unguarded route, in alternating rounds; the small-policy apps also serve an
 *   @Resource route (GET /notes/:id, cached resource decision), loaded as scenarios of their own;
 * - propagation: three app instances (bench/propagation-process.js) on one PostgreSQL; one of them revokes and
 *   grants a permission through its store, and each reports when its store's onChange dropped the decision.
 *
 * PGlite always; PostgreSQL when `BENCH_DATABASE_URL` is set (schemas `authz_bench_<run>_*`, dropped at the end).
 */

const { mkdtemp, rm } = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { startJwksServer } = require('./jwks-server');
const { ask, forkChild, log, runRounds, sanityCheck, startApp, stopApp } = require('./harness');
const { formatStoreReport, summarizeHot, summarizePropagation } = require('./store-report');
const { dropSchemas, ensurePgliteTemplate, freshPgliteDir, PROPAGATION_TARGET, schemaPrefix, TEMPLATE } = require('./store-db');
const { accessClaims, makeSigningKey, signToken } = require('./tokens');
const { RESOURCE_ID } = require('./apps');

/** Request/reply over a child's IPC channel: replies are matched by `type`; `on(type)` takes unsolicited messages. */
function channel(child, name) {
  const waiting = [];
  const handlers = {};
  let exited;
  child.on('message', (message) => {
    if (handlers[message.type]) return handlers[message.type](message);
    const at = waiting.findIndex((waiter) => waiter.type === message.type);
    if (at >= 0) waiting.splice(at, 1)[0].resolve(message);
  });
  child.once('exit', (code) => {
    exited = code;
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`${name} exited with code ${code}`));
  });
  const next = (type) =>
    new Promise((resolve, reject) => {
      if (exited !== undefined) return reject(new Error(`${name} exited with code ${exited}`));
      waiting.push({ type, resolve, reject });
    });
  return {
    child,
    on: (type, handler) => (handlers[type] = handler),
    next,
    request: (message, replyType = message.type) => {
      const reply = next(replyType);
      child.send(message);
      return reply;
    },
    stop: () =>
      new Promise((resolve) => {
        if (exited !== undefined || child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.send({ type: 'stop' });
      }),
  };
}

const BACKEND_LABEL = { pglite: 'PGlite', postgres: 'PostgreSQL' };

/** Seeds the big policy and times uncached decisions, one backend after the other (no two on the cores at once). */
async function runScale(config, backends, runDir, schemas, big) {
  const results = {};
  for (const backend of backends) {
    const dataDir = backend === 'pglite' ? await freshPgliteDir(runDir, 'big') : undefined;
    log(`store scale (${BACKEND_LABEL[backend]}): seeding ${config.storeSubjects.toLocaleString('en-US')} subjects x ${config.storeGrantsPerSubject} grants with one put-policy edit...`);
    const child = channel(
      forkChild(
        'store-process.js',
        {
          BENCH_STORE: backend,
          BENCH_PGLITE_DIR: dataDir ?? '',
          BENCH_DATABASE_URL: config.databaseUrl ?? '',
          BENCH_STORE_SCHEMA: schemas.big,
          BENCH_STORE_SUBJECTS: String(config.storeSubjects),
          BENCH_STORE_GRANTS: String(config.storeGrantsPerSubject),
          BENCH_STORE_SAMPLES: String(config.storeSamples),
          BENCH_STORE_RESOURCE_SUBJECTS: String(config.storeResourceSubjects),
          BENCH_STORE_RESOURCES: String(config.storeResourcesPerSubject),
          BENCH_STORE_BATCHES: String(config.storeBatches),
        },
        { execArgv: ['--expose-gc'] },
      ),
      `store scale process (${backend})`,
    );
    const seeded = await child.next('seeded');
    log(
      `store scale (${BACKEND_LABEL[backend]}): seeded in ${seeded.seedSeconds.toFixed(1)} s (+ ${seeded.resourceRows.toLocaleString('en-US')} resource grants in ${seeded.resourceSeedSeconds.toFixed(1)} s); ` +
        `timing ${config.storeSamples.toLocaleString('en-US')} calls x 5, ${config.storeBatches} batches of 100 ids, cached decisions...`,
    );
    const measured = await child.request({ type: 'measure' }, 'measured');
    await child.stop();
    results[backend] = { seeded, measured };
    big[backend] = { dataDir, schema: schemas.big };
  }
  return results;
}

/** Scenario 3 over HTTP: unguarded, in-memory store, and PostgresPolicyStore variants, in alternating rounds. */
async function runHot(config, backends, runDir, schemas, big) {
  const key = makeSigningKey('bench-store-key');
  const jwks = await startJwksServer([key.jwk]);
  const token = signToken(key, accessClaims(jwks.issuer, 'susan', 'jti-store-same', Math.floor(Date.now() / 1000)));
  const runs = {};
  const appRss = [];
  const variants = [];
  try {
    for (const adapter of config.storeAdapters) {
      const specs = [
        { variant: 'unguarded', kind: 'unguarded' },
        { variant: 'memory', kind: 'authz', resourceRoute: true },
      ];
      for (const backend of backends) {
        const store = { BENCH_STORE: backend, BENCH_DATABASE_URL: config.databaseUrl ?? '' };
        const smallDir = backend === 'pglite' ? await freshPgliteDir(runDir, `small-${adapter}`) : '';
        specs.push({ variant: backend, kind: 'authz', resourceRoute: true, env: { ...store, BENCH_PGLITE_DIR: smallDir, BENCH_STORE_SCHEMA: schemas.small, BENCH_STORE_SEED: '1' } });
        if (big[backend]) specs.push({ variant: `${backend}-big`, kind: 'authz', env: { ...store, BENCH_PGLITE_DIR: big[backend].dataDir ?? '', BENCH_STORE_SCHEMA: big[backend].schema } });
      }
      log(`store hot path (${adapter}): starting ${specs.length} app processes (${specs.map((spec) => spec.variant).join(', ')}; the @Resource route on ${specs.filter((spec) => spec.resourceRoute).map((spec) => spec.variant).join(', ')})...`);
      const apps = [];
      for (const spec of specs) {
        const env = spec.resourceRoute ? { ...spec.env, BENCH_RESOURCE_ROUTE: '1' } : spec.env;
        apps.push({ spec, app: await startApp(spec.kind, adapter, jwks, config, env, `authz-${spec.variant}`) });
      }
      // The apps with the @Resource route serve it too (GET /notes/RESOURCE_ID, susan owns that note), as a scenario
      // of its own on the same process: `<variant>-resource`, compared with the type-wide route in the same rounds.
      const scenarios = [];
      for (const { spec, app } of apps) {
        scenarios.push({ key: `${adapter}:${spec.variant}`, adapter, variant: spec.variant, app, tokens: [token], cursor: { next: 0 }, expectStatus: 200 });
        if (spec.resourceRoute) scenarios.push({ key: `${adapter}:${spec.variant}-resource`, adapter, variant: `${spec.variant}-resource`, app, path: `/notes/${RESOURCE_ID}`, tokens: [token], cursor: { next: 0 }, expectStatus: 200 });
      }
      for (const scenario of scenarios) await sanityCheck(scenario);
      await runRounds(adapter, scenarios, { warmup: config.storeWarmup, rounds: config.storeRounds, duration: config.storeDuration, connections: config.connections }, runs, `store hot path (${adapter})`);
      for (const { spec, app } of apps) appRss.push({ variant: spec.variant, adapter, rssMb: (await ask(app, 'memory')).rss / 2 ** 20 });
      for (const { app } of apps) await stopApp(app);
      variants.push(...scenarios.map((scenario) => ({ adapter, variant: scenario.variant })));
    }
  } finally {
    await jwks.close();
  }
  return { runs, appRss, variants, rows: summarizeHot(runs, variants), rounds: config.storeRounds, duration: config.storeDuration };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Revocations and grants through instance 0's store; per instance, the time from commit to the decision dropped. */
async function runPropagation(config, schema) {
  const key = makeSigningKey('bench-propagation-key');
  const jwks = await startJwksServer([key.jwk]);
  const adapter = config.storeAdapters[0];
  // The target's token maps to no identity role: CanRead comes from its direct grant only.
  const token = signToken(key, accessClaims(jwks.issuer, PROPAGATION_TARGET, 'jti-revocable', Math.floor(Date.now() / 1000), { roles: [] }));
  const instances = [];
  const received = [[], [], []];
  let onReceived = () => {};
  try {
    log(`store propagation: starting 3 app instances (${adapter}) on one PostgreSQL, decision cache TTL 1 h...`);
    for (let k = 0; k < 3; k++) {
      const child = channel(
        forkChild('propagation-process.js', {
          BENCH_INSTANCE: String(k),
          BENCH_ADAPTER: adapter,
          BENCH_ISSUER: jwks.issuer,
          BENCH_JWKS_URI: jwks.jwksUri,
          BENCH_DATABASE_URL: config.databaseUrl,
          BENCH_STORE_SCHEMA: schema,
          BENCH_STORE_SEED: k === 0 ? '1' : '0',
        }),
        `propagation instance ${k}`,
      );
      const ready = await child.next('ready');
      child.on('change', (message) => {
        received[k].push(message);
        onReceived();
      });
      instances.push({ ...child, port: ready.port });
    }

    // All processes read CLOCK_MONOTONIC; check that their readings agree within half a round trip.
    const clock = [];
    for (const [k, instance] of instances.entries()) {
      for (let n = 0; n < 20; n++) {
        const before = process.hrtime.bigint();
        const reply = await instance.request({ type: 'clock' });
        const after = process.hrtime.bigint();
        clock.push({ instance: k, offsetMs: Number(BigInt(reply.at) - (before + after) / 2n) / 1e6, halfRttMs: Number(after - before) / 2e6 });
      }
    }

    const status = async (port) => {
      const response = await fetch(`http://127.0.0.1:${port}/notes`, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      return response.status;
    };
    const changes = [];
    let granted = true;
    let stale = 0;
    log(`store propagation: ${config.storeChanges} changes (revoke, grant, ...) through instance 0's store...`);
    for (let n = 0; n < config.storeChanges; n++) {
      // Every instance answers from its cache the current state: warm it and check it is remembered.
      for (const [k, instance] of instances.entries()) {
        const answer = await status(instance.port);
        if (answer !== (granted ? 200 : 403)) throw new Error(`propagation: instance ${k} answered ${answer} before change ${n}; expected ${granted ? 200 : 403}`);
        const remembered = (await instance.request({ type: 'cached' })).value;
        if (remembered !== String(granted)) throw new Error(`propagation: instance ${k} did not remember the decision before change ${n} (cachedDecision: ${remembered})`);
      }
      for (const list of received) list.length = 0;
      const kind = granted ? 'revoke-permission' : 'grant-permission';
      const edited = await instances[0].request({ type: 'edit', kind }, 'edited');
      if (edited.error || !edited.changed) throw new Error(`propagation: ${kind} failed or changed nothing: ${edited.error ?? 'unchanged'}`);
      granted = !granted;
      const heard = (k) => received[k].find((change) => change.revision === undefined || change.revision >= edited.revision);
      const allHeard = () => instances.every((_, k) => heard(k));
      if (!allHeard()) {
        // Up to 5 s, past the 1 s bound, so that a slow instance is measured rather than cut off.
        await Promise.race([new Promise((resolve) => (onReceived = () => allHeard() && resolve())), sleep(5_000)]);
        onReceived = () => {};
      }
      const commitSentAt = BigInt(edited.commitSentAt);
      const resolvedAt = BigInt(edited.resolvedAt);
      const perInstance = instances.map((_, k) => {
        const change = heard(k);
        return change
          ? { ms: Number(BigInt(change.at) - commitSentAt) / 1e6, afterResolvedMs: Number(BigInt(change.at) - resolvedAt) / 1e6, dropped: change.dropped, targeted: change.subject === PROPAGATION_TARGET }
          : { ms: Infinity, afterResolvedMs: Infinity, dropped: false, targeted: false };
      });
      // And every instance answers the new state at once.
      for (const instance of instances) if ((await status(instance.port)) !== (granted ? 200 : 403)) stale++;
      changes.push({ n, kind, revision: edited.revision, commitRoundTripMs: Number(resolvedAt - commitSentAt) / 1e6, perInstance });
    }
    const rss = [];
    for (const instance of instances) rss.push((await instance.request({ type: 'memory' })).rss / 2 ** 20);
    return { adapter, changes, stale, clock, rss, summary: summarizePropagation(changes) };
  } finally {
    for (const instance of instances) await instance.stop();
    await jwks.close();
  }
}

async function runStoreParts(config) {
  const started = performance.now();
  const loadBefore = os.loadavg()[0];
  const url = config.databaseUrl;
  const backends = url ? ['pglite', 'postgres'] : ['pglite'];
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'nestjs-authz-bench-'));
  const prefix = schemaPrefix();
  const schemas = { small: `${prefix}_small`, big: `${prefix}_big`, propagation: `${prefix}_prop` };
  const results = { backends, parts: config.storeParts.filter((part) => url || part !== 'propagation'), schemaPrefix: url ? prefix : undefined, subjects: config.storeSubjects, grantsPerSubject: config.storeGrantsPerSubject, samples: config.storeSamples };
  if (!url) log('store: BENCH_DATABASE_URL is not set: PGlite only; the PostgreSQL parts (and the propagation part) are not run');
  let cleaned;
  const cleanup = () =>
    (cleaned ??= (async () => {
      await rm(runDir, { recursive: true, force: true });
      if (url) await dropSchemas(url, Object.values(schemas)).catch((error) => log(`could not drop the bench schemas ${prefix}_*: ${error.message}`));
    })());
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  try {
    if (await ensurePgliteTemplate()) log(`made the PGlite template cluster ${TEMPLATE} (once per machine and PGlite version)`);
    const big = {};
    if (config.storeParts.includes('scale')) results.scale = await runScale(config, backends, runDir, schemas, big);
    if (config.storeParts.includes('hot')) results.hot = await runHot(config, backends, runDir, schemas, big);
    if (config.storeParts.includes('propagation') && url) results.propagation = await runPropagation(config, schemas.propagation);
  } finally {
    process.off('SIGINT', onSignal);
    await cleanup();
  }
  results.seconds = (performance.now() - started) / 1000;
  // Neighbours on the machine move every figure here: the 1-minute load average before and after, next to the core count.
  results.load = { before: loadBefore, after: os.loadavg()[0], cores: os.cpus().length };
  return { results, text: formatStoreReport(results, config) };
}

module.exports = { runStoreParts };
