'use strict';

/**
 * `npm run bench`: builds the library (npm script), then on 127.0.0.1 starts a JWKS server and, one adapter at a
 * time, one process per app (unguarded, stock recipe, nestjs-authz, bare RS256 check, the nestjs-authz/passport modes); runs every scenario with
 * autocannon in alternating rounds; measures memory, the cold path and PolicyService decision time in a separate
 * process; then the PostgresPolicyStore parts (bench/store.js: PGlite, and PostgreSQL when BENCH_DATABASE_URL is set);
 * and prints the tables with the targets. Exits 0 whatever the targets say (they are reported, not asserted);
 * exits 1 only if the benchmark itself cannot run. `--only store` (or `--only http,micro`, or BENCH_PARTS) runs a part
 * alone. Settings: see bench/config.js and docs/benchmarks.md.
 */

const { mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { APP_OF_SCENARIO, readConfig } = require('./config');
const { startJwksServer } = require('./jwks-server');
const { forkChild, ask, killChildren, log, runRounds, sanityCheck, startApp, stopApp } = require('./harness');
const { comparePassport, formatReport, judgeTargets, summarize } = require('./report');
const { runStoreParts } = require('./store');
const { accessClaims, makeSigningKey, signToken, withBadSignature } = require('./tokens');

/** Runs bench/micro-process.js and parses the JSON line it prints. */
function runMicro(config) {
  return new Promise((resolve, reject) => {
    const child = forkChild(
      'micro-process.js',
      {
        BENCH_MEMORY_TOKENS: String(config.memoryTokens),
        BENCH_DECISIONS: String(config.decisionIterations),
        BENCH_COLD_TOKENS: String(config.coldTokens),
      },
      { execArgv: ['--expose-gc'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(output)) : reject(new Error(`micro measurements exited with code ${code}`))));
  });
}

function mintTokens(key, issuer, poolSize) {
  const now = Math.floor(Date.now() / 1000);
  const same = signToken(key, accessClaims(issuer, 'susan', 'jti-same', now));
  const pool = [];
  for (let i = 0; i < poolSize; i++) pool.push(signToken(key, accessClaims(issuer, `user-${i}`, `jti-${i}`, now)));
  // Distinct invalid tokens too: a refusal must cost as much however many different bad tokens arrive.
  return { same, pool, bad: pool.map(withBadSignature) };
}

/** The HTTP scenarios, one adapter at a time; returns what the report needs. */
async function runHttpScenarios(config) {
  const key = makeSigningKey('bench-key-1');
  const jwks = await startJwksServer([key.jwk]);

  const kinds = [...new Set(config.scenarios.map((id) => APP_OF_SCENARIO[id]))];
  if (!kinds.includes('unguarded')) kinds.push('unguarded'); // every ratio is to the unguarded route
  const startApps = async (adapter) => {
    const apps = [];
    for (const kind of kinds) apps.push(await startApp(kind, adapter, jwks, config));
    return apps;
  };

  // One adapter at a time: the other adapter's idle app processes would otherwise collect their garbage on the
  // same two cores during this adapter's runs.
  let apps = await startApps(config.adapters[0]);
  const cacheCap = Math.max(0, ...apps.map((app) => app.cacheCap ?? 0));
  const poolSize = config.poolSize || Math.max(1_000, Math.ceil(cacheCap * 1.5));
  if (poolSize <= cacheCap) log(`WARNING BENCH_POOL=${poolSize} is not above the verified-token cache cap ${cacheCap}: scenario 4 will hit the cache`);
  log(`minting ${poolSize.toLocaleString('en-US')} distinct RS256 tokens for scenario 4 (cache cap ${cacheCap})...`);
  const tokens = mintTokens(key, jwks.issuer, poolSize);
  const tokensOf = { 1: [tokens.same], 2: [tokens.same], 3: [tokens.same], 4: tokens.pool, 5: tokens.bad, 6: tokens.pool, 7: [tokens.same], 8: tokens.pool, 9: [tokens.same], 10: tokens.pool, 11: [tokens.same], 12: tokens.pool };

  const runs = {};
  const appRss = [];
  for (const [index, adapter] of config.adapters.entries()) {
    if (index > 0) apps = await startApps(adapter);
    const appOf = (kind) => apps.find((app) => app.kind === kind);
    const scenarios = [...new Set([1, ...config.scenarios])]
      .sort((a, b) => a - b)
      .map((id) => ({ key: `${adapter}:${id}`, adapter, id, app: appOf(APP_OF_SCENARIO[id]), tokens: tokensOf[id], cursor: { next: 0 }, expectStatus: id === 5 ? 401 : 200 }));
    for (const scenario of scenarios) await sanityCheck(scenario);
    await runRounds(adapter, scenarios, config, runs);
    for (const app of apps) appRss.push({ app: app.kind, adapter, rssMb: (await ask(app, 'memory')).rss / 2 ** 20 });
    for (const app of apps) await stopApp(app);
  }
  await jwks.close();
  return { runs, appRss, poolSize, cacheCap };
}

async function main() {
  const config = readConfig();
  const started = Date.now();
  if (config.profileDir) mkdirSync(config.profileDir, { recursive: true });
  log(`parts: ${config.parts.join(', ')} (choose with --only ${['http', 'micro', 'store'].join(',')} or BENCH_PARTS)`);

  const http = config.parts.includes('http') ? await runHttpScenarios(config) : undefined;

  let micro = {};
  if (config.parts.includes('micro') && (config.memoryTokens > 0 || config.decisionIterations > 0 || config.coldTokens > 0)) {
    log(`in-process: PolicyService timing, the cold path, and ${config.memoryTokens.toLocaleString('en-US')} distinct tokens through the guard (about 90 s per million)...`);
    micro = await runMicro(config);
  }

  const store = config.parts.includes('store') ? await runStoreParts(config) : undefined;

  const settings =
    (http ? `${config.rounds} rounds x ${config.duration} s per scenario (+${config.warmup} s warm-up), ${config.connections} connections, ` : '') +
    (http ? `scenario 4 pool ${http.poolSize.toLocaleString('en-US')} tokens (cache cap ${http.cacheCap}), ` : '') +
    `node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ` +
    `load generator and apps on the same machine; parts ${config.parts.join(', ')}; took ${Math.round((Date.now() - started) / 1000)} s`;
  const out = [];
  if (http || micro.memory || micro.decision || micro.coldPath) {
    const rows = http ? summarize(http.runs, config.adapters) : [];
    const verdicts = http ? judgeTargets(http.runs, config.adapters) : [];
    const passport = http ? comparePassport(http.runs, config.adapters) : [];
    out.push(formatReport({ rows, verdicts, passport, memory: micro.memory, decision: micro.decision, coldPath: micro.coldPath, appRss: http?.appRss ?? [], settings }));
  } else {
    out.push(`Settings: ${settings}`);
  }
  if (store) out.push('', store.text);
  process.stdout.write(`${out.join('\n')}\n`);
  if (config.jsonOut) writeFileSync(config.jsonOut, JSON.stringify({ settings, config: { ...config, databaseUrl: config.databaseUrl ? '(set)' : undefined }, poolSize: http?.poolSize, cacheCap: http?.cacheCap, runs: http?.runs, rows: http ? summarize(http.runs, config.adapters) : undefined, verdicts: http ? judgeTargets(http.runs, config.adapters) : undefined, passport: http ? comparePassport(http.runs, config.adapters) : undefined, appRss: http?.appRss, micro, store: store?.results }, null, 2));
  if (config.profileDir) log(`CPU profiles written to ${config.profileDir} (summarize with: node bench/profile.js ${config.profileDir}/<file>.cpuprofile)`);
}

main().catch((error) => {
  console.error(`[bench] failed: ${error?.stack ?? error}`);
  killChildren();
  process.exit(1);
});
