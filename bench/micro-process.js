'use strict';

/**
 * In-process measurements, in their own process (started with --expose-gc):
 *
 * - decision: the time of one `DefaultPolicyService.hasPermission` call, from its decision cache and with the
 *   cache off (`decisionCache: false`), awaited one after another.
 * - memory: RSS and heap after `BENCH_MEMORY_TOKENS` distinct valid tokens have gone through the real
 *   `AuthzGuard.canActivate` (token extraction, signature check, claims, identity, scopes, PolicyService), called
 *   directly with a minimal HTTP execution context rather than over HTTP, to keep it fast. Tokens are ES256 and
 *   padded to the length of the RS256 tokens of the HTTP runs: minting a million RS256 tokens takes minutes,
 *   and what the caches hold per token is the same for both. Each token has its own subject, so the decision
 *   cache fills too.
 *
 * - cold path: the CPU time of one `canActivate` with a token never seen before (RS256, its own subject), next to
 *   one bare `crypto.verify` of the same tokens, measured in alternating blocks so that both see the same machine.
 *   The difference is what the guard adds to the signature check; unlike the HTTP figures it hardly depends on the
 *   load generator or on neighbours.
 *
 * Prints one JSON line on stdout.
 */

const { createPublicKey, verify } = require('node:crypto');
const { Worker } = require('node:worker_threads');
const path = require('node:path');
const { NestFactory } = require('@nestjs/core');
const { AUTHZ_CONFIG, AuthzGuard, PolicyService, TokenVerifier } = require('nestjs-authz');
const { authzModule } = require('./apps');
const { accessClaims, makeSigningKey, signToken } = require('./tokens');

const ISSUER = 'https://issuer.bench/';
const memoryTokens = Number(process.env.BENCH_MEMORY_TOKENS ?? 1_000_000);
const decisionIterations = Number(process.env.BENCH_DECISIONS ?? 200_000);
const coldTokens = Number(process.env.BENCH_COLD_TOKENS ?? 10_000);

async function appContext(keys, authzOptions, algorithms = ['ES256']) {
  const { module, controller } = authzModule({ issuer: ISSUER, jwksUri: undefined, authzOptions: { jwks: { keys }, algorithms, ...authzOptions } });
  const app = await NestFactory.createApplicationContext(module, { logger: ['error'] });
  return { app, controller };
}

/** Mean time of one awaited `hasPermission`, in microseconds. */
async function timeDecisions(policies, identity, iterations) {
  for (let i = 0; i < 10_000; i++) await policies.hasPermission('note', identity, 'CanRead');
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    if (!(await policies.hasPermission('note', identity, 'CanRead'))) throw new Error('the bench policy must grant CanRead');
  }
  return Number(process.hrtime.bigint() - start) / iterations / 1000;
}

async function measureDecisions(keys) {
  const identity = Object.freeze({ subject: 'susan', issuer: ISSUER, audience: ['notes-api'], clientId: 'notes-cli', scopes: ['notes:read'], roles: ['notes-reader'], claims: {} });
  const cached = await appContext(keys, {});
  const uncached = await appContext(keys, { decisionCache: false });
  const result = {
    policyService: cached.app.get(PolicyService).constructor.name,
    cachedUs: await timeDecisions(cached.app.get(PolicyService), identity, decisionIterations),
    uncachedUs: await timeDecisions(uncached.app.get(PolicyService), identity, decisionIterations),
    iterations: decisionIterations,
  };
  await cached.app.close();
  await uncached.app.close();
  return result;
}

/** A minimal HTTP execution context for `canActivate`, as Nest would hand it to the guard. */
function httpContext(controller, token) {
  const request = { headers: { authorization: `Bearer ${token}` }, url: '/notes' };
  const response = { setHeader() {}, header() {} };
  return {
    request,
    context: {
      getType: () => 'http',
      getHandler: () => controller.prototype.read,
      getClass: () => controller,
      switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
    },
  };
}

/** Microseconds of CPU time (user + system) that `work` takes. */
async function cpuMicros(work) {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

/**
 * One canActivate per new RS256 token against one bare crypto.verify per token, in alternating blocks of 500.
 * The first 1,000 tokens warm up both.
 */
async function measureColdPath(count) {
  const signing = makeSigningKey('rs-cold');
  const { app, controller } = await appContext([signing.jwk], {}, ['RS256']);
  const guard = app.get(AuthzGuard);
  const key = createPublicKey({ key: signing.jwk, format: 'jwk' });
  const now = Math.floor(Date.now() / 1000);
  const warmup = 1_000;
  const tokens = Array.from({ length: warmup + count }, (_, i) => signToken(signing, accessClaims(ISSUER, `cold-${i}`, `cold-jti-${i}`, now)));
  const throughGuard = async (from, to) => {
    for (let i = from; i < to; i++) {
      const { context, request } = httpContext(controller, tokens[i]);
      if ((await guard.canActivate(context)) !== true || request.user.subject !== `cold-${i}`) throw new Error(`cold token ${i} was not accepted`);
    }
  };
  const bareCheck = (from, to) => {
    for (let i = from; i < to; i++) {
      const dot = tokens[i].lastIndexOf('.');
      if (!verify('sha256', Buffer.from(tokens[i].slice(0, dot), 'latin1'), key, Buffer.from(tokens[i].slice(dot + 1), 'base64url'))) throw new Error('bare check failed');
    }
  };
  await throughGuard(0, warmup / 2);
  bareCheck(warmup / 2, warmup);
  let guardUs = 0;
  let bareUs = 0;
  for (let from = warmup; from < tokens.length; from += 500) {
    const to = Math.min(from + 500, tokens.length);
    guardUs += await cpuMicros(() => throughGuard(from, to));
    bareUs += await cpuMicros(async () => bareCheck(from, to));
  }
  await app.close();
  return { tokens: count, guardUs: guardUs / count, bareUs: bareUs / count };
}

/** A token of the HTTP runs, to pad the ES256 tokens to the same length. */
function rs256Length() {
  const key = makeSigningKey('rs-sample');
  return signToken(key, accessClaims('http://127.0.0.1:65535/', 'user-0', 'jti-0', Math.floor(Date.now() / 1000))).length;
}

function padFor(key, targetLength) {
  const plain = signToken(key, accessClaims(ISSUER, 'user-0', 'jti-0', Math.floor(Date.now() / 1000))).length;
  // `,"pad":"…"` adds 9 JSON characters plus the pad, and base64url makes 4 characters of every 3 bytes.
  const bytes = Math.floor(((targetLength - plain) * 3) / 4) - 9;
  return bytes > 0 ? 'x'.repeat(bytes) : undefined;
}

/** Memory after a full GC, so that the figures show what is retained rather than garbage not yet collected. */
function memorySnapshot(tokens, verifier) {
  global.gc();
  return { tokens, rssMb: process.memoryUsage().rss / 2 ** 20, heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20, remembered: verifier.rememberedCount };
}

async function measureMemory(keys, signing) {
  const { app, controller } = await appContext(keys, {});
  const guard = app.get(AuthzGuard);
  const verifier = app.get(TokenVerifier);
  const pad = padFor(signing, rs256Length());
  const worker = new Worker(path.join(__dirname, 'mint-worker.js'), {
    workerData: { privateJwk: signing.privateKey.export({ format: 'jwk' }), kid: signing.kid, alg: 'ES256', issuer: ISSUER, pad, total: memoryTokens },
  });
  const nextBatch = () => new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(5_000);
  });

  const every = Math.max(1_000, Math.floor(memoryTokens / 10));
  const snapshots = [memorySnapshot(0, verifier)];
  let sampleToken = '';
  const start = process.hrtime.bigint();
  let pending = nextBatch();
  for (let done = 0; done < memoryTokens; ) {
    const batch = await pending;
    pending = nextBatch();
    for (const token of batch) {
      const { context, request } = httpContext(controller, token);
      if ((await guard.canActivate(context)) !== true || request.user.subject !== `user-${done}`) throw new Error(`token ${done} was not accepted`);
      done++;
      if (done % every === 0 || done === memoryTokens) snapshots.push(memorySnapshot(done, verifier));
    }
    sampleToken = batch[0] ?? sampleToken;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  await pending;
  await worker.terminate();
  const config = app.get(AUTHZ_CONFIG);
  await app.close();
  return {
    tokens: memoryTokens,
    tokenLength: sampleToken.length,
    seconds,
    snapshots,
    peakRssMb,
    rememberedAtEnd: verifier.rememberedCount,
    cap: config.verifiedTokenCache ? config.verifiedTokenCache.maxEntries : 0,
    decisionCap: config.decisionCache ? config.decisionCache.maxEntries : 0,
    bounded: judgeBounded(snapshots, verifier.rememberedCount, config),
  };
}

/** Bounded = the cache holds no more than its cap, and the retained heap stops growing once the caches are full. */
function judgeBounded(snapshots, remembered, config) {
  const cap = config.verifiedTokenCache ? config.verifiedTokenCache.maxEntries : 0;
  if (remembered > cap) return { pass: false, reason: `${remembered} verifications remembered, more than the cap ${cap}` };
  if (snapshots.length < 3) return { pass: true, reason: 'too few checkpoints to compare the heap (run more tokens)' };
  const middle = snapshots[Math.floor(snapshots.length / 2)];
  const last = snapshots[snapshots.length - 1];
  const growth = last.heapUsedMb - middle.heapUsedMb;
  const pass = growth <= Math.max(5, middle.heapUsedMb * 0.1);
  return { pass, reason: `retained heap ${middle.heapUsedMb.toFixed(0)} MB after ${middle.tokens} tokens, ${last.heapUsedMb.toFixed(0)} MB after ${last.tokens} (growth ${growth.toFixed(1)} MB; bounded = at most max(5 MB, 10%))` };
}

async function main() {
  const signing = makeSigningKey('es-bench', 'ES256');
  const keys = [signing.jwk];
  const result = {};
  if (decisionIterations > 0) result.decision = await measureDecisions(keys);
  if (coldTokens > 0) result.coldPath = await measureColdPath(coldTokens);
  if (memoryTokens > 0) result.memory = await measureMemory(keys, signing);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error('bench micro measurements failed:', error);
  process.exit(1);
});
