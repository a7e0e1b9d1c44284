'use strict';

/**
 * `npm run bench`: builds the library (npm script), then on 127.0.0.1 starts a JWKS server and, one adapter at a
 * time, one process per app (unguarded, stock recipe, nestjs-authz, bare RS256 check); runs every scenario with
 * autocannon in alternating rounds; measures memory, the cold path and PolicyService decision time in a separate
 * process; and prints the table with the issue's targets. Exits 0 whatever the targets say (they are reported, not asserted); exits 1 only if the
 * benchmark itself cannot run. Settings: see bench/config.js and docs/benchmarks.md.
 */

const { fork } = require('node:child_process');
const { mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { APP_OF_SCENARIO, ROUTE, readConfig } = require('./config');
const { startJwksServer } = require('./jwks-server');
const { runLoad } = require('./load');
const { formatReport, judgeTargets, summarize } = require('./report');
const { accessClaims, makeSigningKey, signToken, withBadSignature } = require('./tokens');

const log = (message) => process.stderr.write(`[bench] ${message}\n`);

/** Every app process started, so that a failed run does not leave them serving (and holding the terminal). */
const appProcesses = [];

function startApp(kind, adapter, jwks, config) {
  const execArgv = config.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${config.profileDir}`, `--cpu-prof-name=${kind}-${adapter}-${process.pid}.cpuprofile`] : [];
  const child = fork(path.join(__dirname, 'app-process.js'), [], {
    env: { ...process.env, NODE_NO_WARNINGS: '1', BENCH_APP: kind, BENCH_ADAPTER: adapter, BENCH_ISSUER: jwks.issuer, BENCH_JWKS_URI: jwks.jwksUri },
    execArgv,
  });
  appProcesses.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ kind, adapter, child, port: message.port, cacheCap: message.cacheCap }));
    child.once('exit', (code) => reject(new Error(`app ${kind}/${adapter} exited with code ${code} before it was ready`)));
  });
}

function ask(app, type) {
  return new Promise((resolve) => {
    app.child.once('message', resolve);
    app.child.send({ type });
  });
}

function stopApp(app) {
  return new Promise((resolve) => {
    app.child.once('exit', resolve);
    app.child.send({ type: 'stop' });
  });
}

/** Runs bench/micro-process.js and parses the JSON line it prints. */
function runMicro(config) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'micro-process.js'), [], {
      env: {
        ...process.env,
        NODE_NO_WARNINGS: '1',
        BENCH_MEMORY_TOKENS: String(config.memoryTokens),
        BENCH_DECISIONS: String(config.decisionIterations),
        BENCH_COLD_TOKENS: String(config.coldTokens),
      },
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(output)) : reject(new Error(`micro measurements exited with code ${code}`))));
  });
}

/** One request per scenario before any load: a benchmark of wrong answers would be worthless. */
async function sanityCheck(scenario) {
  const response = await fetch(`http://127.0.0.1:${scenario.app.port}${ROUTE}`, { headers: { authorization: `Bearer ${scenario.tokens[0]}` } });
  await response.arrayBuffer();
  if (response.status !== scenario.expectStatus) {
    throw new Error(`${scenario.key} answered ${response.status} to its first request; expected ${scenario.expectStatus}`);
  }
}

function mintTokens(key, issuer, poolSize) {
  const now = Math.floor(Date.now() / 1000);
  const same = signToken(key, accessClaims(issuer, 'susan', 'jti-same', now));
  const pool = [];
  for (let i = 0; i < poolSize; i++) pool.push(signToken(key, accessClaims(issuer, `user-${i}`, `jti-${i}`, now)));
  // Distinct invalid tokens too: a refusal must cost as much however many different bad tokens arrive.
  return { same, pool, bad: pool.map(withBadSignature) };
}

/**
 * Warms up, then runs `config.rounds` rounds of one adapter's scenarios, rotating their order each round so that no
 * scenario always runs right after the same neighbour. Records every run in `runs`.
 */
async function runRounds(adapter, scenarios, config, runs) {
  // Besides requests/s, the app's own CPU time per request: the load generator shares the machine and can be the
  // bottleneck (a fast unguarded Fastify route saturates it), and CPU per request shows what the guard costs anyway.
  const load = async (scenario, duration) => {
    const before = (await ask(scenario.app, 'cpu')).usage;
    const result = await runLoad({ port: scenario.app.port, tokens: scenario.tokens, cursor: scenario.cursor, duration, connections: config.connections, expectStatus: scenario.expectStatus });
    const after = (await ask(scenario.app, 'cpu')).usage;
    return { ...result, cpuUs: (after.user - before.user + after.system - before.system) / result.requests };
  };
  if (config.warmup > 0) {
    log(`${adapter}: warming up ${scenarios.length} scenarios, ${config.warmup} s each...`);
    for (const scenario of scenarios) await load(scenario, config.warmup);
  }
  for (let round = 0; round < config.rounds; round++) {
    const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length]);
    log(`${adapter}: round ${round + 1}/${config.rounds}: ${order.length} scenarios x ${config.duration} s`);
    for (const scenario of order) {
      (runs[scenario.key] ??= [])[round] = await load(scenario, config.duration);
    }
  }
}

async function main() {
  const config = readConfig();
  const started = Date.now();
  if (config.profileDir) mkdirSync(config.profileDir, { recursive: true });
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
  const tokensOf = { 1: [tokens.same], 2: [tokens.same], 3: [tokens.same], 4: tokens.pool, 5: tokens.bad, 6: tokens.pool };

  const runs = {};
  const appRss = [];
  for (const [index, adapter] of config.adapters.entries()) {
    if (index > 0) apps = await startApps(adapter);
    const appOf = (kind) => apps.find((app) => app.kind === kind);
    const scenarios = [...new Set([1, ...config.scenarios])]
      .sort()
      .map((id) => ({ key: `${adapter}:${id}`, adapter, id, app: appOf(APP_OF_SCENARIO[id]), tokens: tokensOf[id], cursor: { next: 0 }, expectStatus: id === 5 ? 401 : 200 }));
    for (const scenario of scenarios) await sanityCheck(scenario);
    await runRounds(adapter, scenarios, config, runs);
    for (const app of apps) appRss.push({ app: app.kind, adapter, rssMb: (await ask(app, 'memory')).rss / 2 ** 20 });
    for (const app of apps) await stopApp(app);
  }
  await jwks.close();

  let micro = {};
  if (config.memoryTokens > 0 || config.decisionIterations > 0 || config.coldTokens > 0) {
    log(`in-process: PolicyService timing, the cold path, and ${config.memoryTokens.toLocaleString('en-US')} distinct tokens through the guard (about 90 s per million)...`);
    micro = await runMicro(config);
  }

  const settings =
    `${config.rounds} rounds x ${config.duration} s per scenario (+${config.warmup} s warm-up), ${config.connections} connections, ` +
    `scenario 4 pool ${poolSize.toLocaleString('en-US')} tokens (cache cap ${cacheCap}), node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ` +
    `load generator and apps on the same machine; took ${Math.round((Date.now() - started) / 1000)} s`;
  const rows = summarize(runs, config.adapters);
  const verdicts = judgeTargets(runs, config.adapters);
  process.stdout.write(`${formatReport({ rows, verdicts, memory: micro.memory, decision: micro.decision, coldPath: micro.coldPath, appRss, settings })}\n`);
  if (config.jsonOut) writeFileSync(config.jsonOut, JSON.stringify({ settings, config, poolSize, cacheCap, runs, rows, verdicts, appRss, micro }, null, 2));
  if (config.profileDir) log(`CPU profiles written to ${config.profileDir} (summarize with: node bench/profile.js ${config.profileDir}/<file>.cpuprofile)`);
}

main().catch((error) => {
  console.error(`[bench] failed: ${error?.stack ?? error}`);
  for (const child of appProcesses) child.kill();
  process.exit(1);
});
