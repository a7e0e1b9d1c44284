'use strict';

/**
 * Benchmark settings, read once from the environment so that one command (`npm run bench`) runs with sane
 * defaults (about four minutes on a 2-core machine) and a longer or narrower run is one variable away.
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
};

/** Which app process serves each scenario: 3, 4 and 5 hit the same nestjs-authz app. */
const APP_OF_SCENARIO = { 1: 'unguarded', 2: 'stock', 3: 'authz', 4: 'authz', 5: 'authz', 6: 'bare' };

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

function readConfig() {
  return {
    rounds: intFromEnv('BENCH_ROUNDS', 3, 1),
    /** Seconds per scenario per round. */
    duration: intFromEnv('BENCH_DURATION', 4, 1),
    /** Seconds of unrecorded load per scenario before the first round (JIT, caches, connection pools). */
    warmup: intFromEnv('BENCH_WARMUP', 2, 0),
    connections: intFromEnv('BENCH_CONNECTIONS', 10, 1),
    adapters: listFromEnv('BENCH_ADAPTERS', ['express', 'fastify'], ['express', 'fastify']),
    scenarios: listFromEnv('BENCH_SCENARIOS', ['1', '2', '3', '4', '5', '6'], ['1', '2', '3', '4', '5', '6']).map(Number),
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
  };
}

module.exports = { AUDIENCE, ROUTE, SCENARIOS, APP_OF_SCENARIO, readConfig };
