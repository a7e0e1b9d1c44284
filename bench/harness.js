'use strict';

/**
 * What run.js and store.js share: app processes (bench/app-process.js) started, asked and stopped over IPC, and
 * alternating rounds of autocannon load against them.
 */

const { fork } = require('node:child_process');
const path = require('node:path');
const { ROUTE } = require('./config');
const { runLoad } = require('./load');

const log = (message) => process.stderr.write(`[bench] ${message}\n`);

/** Every child process started, so that a failed run does not leave them serving (and holding the terminal). */
const children = [];

/**
 * Starts bench/app-process.js. `extraEnv` adds settings (the policy store of bench/store.js); `name` labels the
 * app in messages and profile file names.
 */
function startApp(kind, adapter, jwks, config, extraEnv = {}, name = kind) {
  const execArgv = config.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${config.profileDir}`, `--cpu-prof-name=${name}-${adapter}-${process.pid}.cpuprofile`] : [];
  const child = fork(path.join(__dirname, 'app-process.js'), [], {
    env: { ...process.env, NODE_NO_WARNINGS: '1', BENCH_APP: kind, BENCH_ADAPTER: adapter, BENCH_ISSUER: jwks.issuer, BENCH_JWKS_URI: jwks.jwksUri, ...extraEnv },
    execArgv,
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ kind, name, adapter, child, port: message.port, cacheCap: message.cacheCap }));
    child.once('exit', (code) => reject(new Error(`app ${name}/${adapter} exited with code ${code} before it was ready`)));
  });
}

/** Forks another bench script with IPC, remembered for cleanup. */
function forkChild(script, env, options = {}) {
  const child = fork(path.join(__dirname, script), [], { env: { ...process.env, NODE_NO_WARNINGS: '1', ...env }, ...options });
  children.push(child);
  return child;
}

function ask(app, type) {
  return new Promise((resolve) => {
    app.child.once('message', resolve);
    app.child.send({ type });
  });
}

function stopApp(app) {
  return new Promise((resolve) => {
    if (app.child.exitCode !== null) return resolve();
    app.child.once('exit', resolve);
    app.child.send({ type: 'stop' });
  });
}

function killChildren() {
  for (const child of children) if (child.exitCode === null) child.kill();
}

/** One request per scenario before any load: a benchmark of wrong answers would be worthless. */
async function sanityCheck(scenario) {
  const response = await fetch(`http://127.0.0.1:${scenario.app.port}${scenario.path ?? ROUTE}`, { headers: { authorization: `Bearer ${scenario.tokens[0]}` } });
  await response.arrayBuffer();
  if (response.status !== scenario.expectStatus) {
    throw new Error(`${scenario.key} answered ${response.status} to its first request; expected ${scenario.expectStatus}`);
  }
}

/**
 * Warms up, then runs `config.rounds` rounds of one adapter's scenarios, rotating their order each round so that no
 * scenario always runs right after the same neighbour. Records every run in `runs`. A scenario's `path` (default
 * ROUTE) is the URL it requests: two scenarios may load two routes of one app process.
 * `config`: { warmup, rounds, duration, connections } (seconds, connections).
 */
async function runRounds(adapter, scenarios, config, runs, label = adapter) {
  // Besides requests/s, the app's own CPU time per request: the load generator shares the machine and can be the
  // bottleneck (a fast unguarded Fastify route saturates it), and CPU per request shows what the guard costs anyway.
  const load = async (scenario, duration) => {
    const before = (await ask(scenario.app, 'cpu')).usage;
    const result = await runLoad({ port: scenario.app.port, path: scenario.path, tokens: scenario.tokens, cursor: scenario.cursor, duration, connections: config.connections, expectStatus: scenario.expectStatus });
    const after = (await ask(scenario.app, 'cpu')).usage;
    return { ...result, cpuUs: (after.user - before.user + after.system - before.system) / result.requests };
  };
  if (config.warmup > 0) {
    log(`${label}: warming up ${scenarios.length} scenarios, ${config.warmup} s each...`);
    for (const scenario of scenarios) await load(scenario, config.warmup);
  }
  for (let round = 0; round < config.rounds; round++) {
    const order = scenarios.map((_, i) => scenarios[(i + round) % scenarios.length]);
    log(`${label}: round ${round + 1}/${config.rounds}: ${order.length} scenarios x ${config.duration} s`);
    for (const scenario of order) {
      (runs[scenario.key] ??= [])[round] = await load(scenario, config.duration);
    }
  }
}

module.exports = { log, startApp, forkChild, ask, stopApp, killChildren, sanityCheck, runRounds };
