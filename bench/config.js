'use strict';

/**
 * Benchmark settings, read once from the environment so that one command (`npm run bench`) runs with sane
 * defaults (on a 2-core machine: about 6 minutes for the twelve HTTP scenarios, 3 for the PostgresPolicyStore parts) and a longer
 * or narrower run is one variable away.
 */

const AUDIENCE = 'notes-api';
/** The route every scenario calls; the same handler body in every app. */
const ROUTE = '/notes';

const SCENARIOS = {
  1: 'unguarded route',
  2: "stock recipe: AuthGuard('jwt') + passport-jwt + jwks-rsa",
  3: 'nestjs-authz, same token',
  4: 'nestjs-authz, new token each request',
  5: 'nestjs-authz, invalid signature',
  6: 'reference: bare RS256 check, new token each request',
  // nestjs-authz/passport (docs/passport.md), next to scenarios 3 and 4: same tokens, keys, route and policy.
  7: "passport mode: PassportAuthzGuard over the app's passport-jwt strategy (jwks-rsa), same token",
  8: "passport mode: PassportAuthzGuard over the app's passport-jwt strategy (jwks-rsa), new token each request",
  9: "AuthzJwtGuard ('authz-jwt'), same token (authentication only)",
  10: "AuthzJwtGuard ('authz-jwt'), new token each request (authentication only)",
  11: "PassportAuthzGuard over 'authz-jwt', same token",
  12: "PassportAuthzGuard over 'authz-jwt', new token each request",
};

/** Which app process serves each scenario: 3, 4 and 5 hit the same nestjs-authz app; 7-12 pair up likewise. */
const APP_OF_SCENARIO = { 1: 'unguarded', 2: 'stock', 3: 'authz', 4: 'authz', 5: 'authz', 6: 'bare', 7: 'passport', 8: 'passport', 9: 'authzjwt', 10: 'authzjwt', 11: 'authzjwt-policy', 12: 'authzjwt-policy' };

/** The built-in AuthzGuard scenario each passport scenario is compared with (same token kind), for the report. */
const BUILT_IN_OF_SCENARIO = { 7: 3, 8: 4, 9: 3, 10: 4, 11: 3, 12: 4 };

function intFromEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}=${raw} is not a whole number >= ${min}; unset it for the default (${fallback}).`);
  }
  return value;
}

function listFromEnv(name, fallback, allowed) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item)) throw new Error(`${name} contains '${item}'; allowed: ${allowed.join(', ')}.`);
  }
  return items;
}

/** Which parts run: `--only store` (or `--only http,micro`) on the command line, else BENCH_PARTS, else all. */
const PARTS = ['http', 'micro', 'store'];

function partsFrom(argv) {
  const at = argv.findIndex((arg) => arg === '--only' || arg.startsWith('--only='));
  if (at < 0) return listFromEnv('BENCH_PARTS', PARTS, PARTS);
  const value = argv[at].includes('=') ? argv[at].slice('--only='.length) : argv[at + 1];
  if (!value) throw new Error(`--only needs a list of parts: ${PARTS.join(', ')}`);
  const saved = process.env.BENCH_PARTS;
  process.env.BENCH_PARTS = value;
  try {
    return listFromEnv('BENCH_PARTS', PARTS, PARTS);
  } finally {
    if (saved === undefined) delete process.env.BENCH_PARTS;
    else process.env.BENCH_PARTS = saved;
  }
}

function readConfig(argv = process.argv.slice(2)) {
  return {
    /** http = the HTTP scenarios, micro = memory / cold path / PolicyService timing, store = the PostgresPolicyStore parts. */
    parts: partsFrom(argv),
    rounds: intFromEnv('BENCH_ROUNDS', 3, 1),
    /** Seconds per scenario per round. */
    duration: intFromEnv('BENCH_DURATION', 4, 1),
    /** Seconds of unrecorded load per scenario before the first round (JIT, caches, connection pools). */
    warmup: intFromEnv('BENCH_WARMUP', 2, 0),
    connections: intFromEnv('BENCH_CONNECTIONS', 10, 1),
    adapters: listFromEnv('BENCH_ADAPTERS', ['express', 'fastify'], ['express', 'fastify']),
    scenarios: listFromEnv('BENCH_SCENARIOS', Object.keys(SCENARIOS), Object.keys(SCENARIOS)).map(Number),
    /** Distinct valid tokens minted for scenario 4; 0 = the verified-token cache cap plus half of it. */
    poolSize: intFromEnv('BENCH_POOL', 0, 0),
    /** Distinct valid tokens pushed through the guard for the memory figure (0 skips it). */
    memoryTokens: intFromEnv('BENCH_MEMORY_TOKENS', 1_000_000, 0),
    /** New RS256 tokens for the in-process cold-path timing (0 skips it). */
    coldTokens: intFromEnv('BENCH_COLD_TOKENS', 10_000, 0),
    /** Iterations per PolicyService timing (0 skips it). */
    decisionIterations: intFromEnv('BENCH_DECISIONS', 200_000, 0),
    /** Directory for `node --cpu-prof` output of the app processes; unset = no profiling. */
    profileDir: process.env.BENCH_PROFILE_DIR || undefined,
    /** Where to write the raw results as JSON; unset = not written. */
    jsonOut: process.env.BENCH_JSON || undefined,

    // The PostgresPolicyStore parts (bench/store.js).
    /** A PostgreSQL server for the store parts (a fresh schema per run, dropped afterwards); unset = PGlite only. */
    databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
    /** hot = cached decisions over HTTP, scale = uncached decisions on a big store, propagation = revocations across 3 instances. */
    storeParts: listFromEnv('BENCH_STORE_PARTS', ['hot', 'scale', 'propagation'], ['hot', 'scale', 'propagation']),
    storeAdapters: listFromEnv('BENCH_STORE_ADAPTERS', ['fastify'], ['express', 'fastify']),
    storeRounds: intFromEnv('BENCH_STORE_ROUNDS', 4, 1),
    storeDuration: intFromEnv('BENCH_STORE_DURATION', 2, 1),
    storeWarmup: intFromEnv('BENCH_STORE_WARMUP', 1, 0),
    /** Subjects of the big policy, each with `storeGrantsPerSubject` grants (60% roles, 40% direct permissions). */
    storeSubjects: intFromEnv('BENCH_STORE_SUBJECTS', 100_000, 1),
    storeGrantsPerSubject: intFromEnv('BENCH_STORE_GRANTS', 10, 2),
    /** Timed calls per figure of the scale part (grantsFor, hasPermission, 10 in flight). */
    storeSamples: intFromEnv('BENCH_STORE_SAMPLES', 5_000, 100),
    /** Resource grants of the big policy: subjects holding role `owner` on notes, and notes per subject. */
    storeResourceSubjects: intFromEnv('BENCH_STORE_RESOURCE_SUBJECTS', 1_000, 2),
    storeResourcesPerSubject: intFromEnv('BENCH_STORE_RESOURCES', 100, 1),
    /** Timed allowedResources calls of 100 ids (and one baseline of 100 sequential hasPermission calls per 10 of them). */
    storeBatches: intFromEnv('BENCH_STORE_BATCHES', 500, 10),
    /** Revocations and grants in the propagation part. */
    storeChanges: intFromEnv('BENCH_STORE_CHANGES', 200, 2),
  };
}

module.exports = { AUDIENCE, ROUTE, SCENARIOS, APP_OF_SCENARIO, BUILT_IN_OF_SCENARIO, PARTS, readConfig };
