'use strict';

/**
 * The printed result of the PostgresPolicyStore parts (bench/store.js), with their targets:
 * - hot path: each PostgresPolicyStore variant >= 0.9x the unguarded route (median of per-round req/s ratios);
 * - scale: p99 of one uncached decision (grantsFor, hasPermission with decisionCache: false) < 2 ms;
 * - propagation: every instance drops the decision within 1 s of the commit (bound), p99 < 100 ms (goal);
 * - resource checks (scale part), as ratios to baselines of the same process and moment: uncached hasPermission with
 *   { resource } <= 1.5x the uncached type-wide one (p50, and p99 shown), allowedResources of 100 ids <= 0.2x 100
 *   sequential hasPermission calls (p50), a cachedDecision hit on a resource <= 1.2x a type-wide hit (in-process), and
 *   over HTTP (hot part) the @Resource route >= 1/1.2 of the type-wide route's req/s in the same rounds.
 */

const { fixed, median, table } = require('./report');
const { RESOURCE_ID } = require('./apps');

const HOT_TARGET = 0.9;
const DECISION_P99_TARGET_MS = 2;
const PROPAGATION_BOUND_MS = 1_000;
const PROPAGATION_GOAL_MS = 100;
const RESOURCE_UNCACHED_TARGET = 1.5;
const BATCH_TARGET = 0.2;
const CACHED_RESOURCE_TARGET = 1.2;

const STORE_LABEL = {
  unguarded: 'none (unguarded route)',
  memory: 'InMemoryPolicyStore (= scenario 3)',
  pglite: 'PostgresPolicyStore on PGlite',
  'pglite-big': 'PostgresPolicyStore on PGlite',
  postgres: 'PostgresPolicyStore on PostgreSQL',
  'postgres-big': 'PostgresPolicyStore on PostgreSQL',
};
const BACKEND_LABEL = { pglite: 'PGlite', postgres: 'PostgreSQL' };
const storeLabel = (variant) => STORE_LABEL[variant.replace(/-resource$/, '')];
const routeOf = (variant) => (variant === 'unguarded' ? 'GET /notes' : variant.endsWith('-resource') ? 'GET /notes/:id, @Resource (CanShare)' : 'GET /notes (CanRead)');

function perRound(runs, key, base, value) {
  const a = runs[key];
  const b = runs[base];
  if (!a || !b) return [];
  return a.map((run, round) => value(run, b[round]));
}

function summarizeHot(runs, variants) {
  return variants.map(({ adapter, variant }) => {
    const key = `${adapter}:${variant}`;
    const list = runs[key] ?? [];
    const base = `${adapter}:unguarded`;
    const small = variant.endsWith('-big') ? `${adapter}:${variant.slice(0, -'-big'.length)}` : undefined;
    const typeWide = variant.endsWith('-resource') ? `${adapter}:${variant.slice(0, -'-resource'.length)}` : undefined;
    return {
      adapter,
      variant,
      rps: median(list.map((run) => run.rps)),
      p50: median(list.map((run) => run.p50)),
      p99: median(list.map((run) => run.p99)),
      ratio: median(perRound(runs, key, base, (run, unguarded) => run.rps / unguarded.rps)),
      cpuUs: median(list.map((run) => run.cpuUs)),
      cpuRatio: median(perRound(runs, key, base, (run, unguarded) => unguarded.cpuUs / run.cpuUs)),
      vsMemory: median(perRound(runs, key, `${adapter}:memory`, (run, memory) => run.rps / memory.rps)),
      bigVsSmall: small ? median(perRound(runs, key, small, (run, other) => run.rps / other.rps)) : undefined,
      bigVsSmallCpu: small ? median(perRound(runs, key, small, (run, other) => other.cpuUs / run.cpuUs)) : undefined,
      vsTypeWide: typeWide ? median(perRound(runs, key, typeWide, (run, other) => run.rps / other.rps)) : undefined,
      vsTypeWideCpu: typeWide ? median(perRound(runs, key, typeWide, (run, other) => other.cpuUs / run.cpuUs)) : undefined,
      unexpected: list.reduce((sum, run) => sum + run.unexpected, 0),
      requests: list.reduce((sum, run) => sum + run.requests, 0),
    };
  });
}

function percentile(sorted, q) {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function distribution(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] };
}

/** Per instance and for the slowest instance of each change. */
function summarizePropagation(changes) {
  const instances = changes[0]?.perInstance.length ?? 0;
  const perInstance = Array.from({ length: instances }, (_, k) => {
    const samples = changes.map((change) => change.perInstance[k]);
    return {
      instance: k,
      ...distribution(samples.map((sample) => sample.ms)),
      afterResolved: distribution(samples.map((sample) => sample.afterResolvedMs)),
      withinBound: samples.filter((sample) => sample.ms <= PROPAGATION_BOUND_MS).length,
      dropped: samples.filter((sample) => sample.dropped).length,
      // A change for the target itself (its NOTIFY, or the writer's own report), not a full flush from the revision poll.
      targeted: samples.filter((sample) => sample.targeted).length,
    };
  });
  const slowest = distribution(changes.map((change) => Math.max(...change.perInstance.map((sample) => sample.ms))));
  const commitRoundTrip = distribution(changes.map((change) => change.commitRoundTripMs));
  return { perInstance, slowest, commitRoundTrip, bound: slowest.max <= PROPAGATION_BOUND_MS, goal: slowest.p99 < PROPAGATION_GOAL_MS };
}

const passMiss = (pass) => (pass ? 'PASS' : 'MISS');
const count = (n) => n.toLocaleString('en-US');

function formatScale(results) {
  const out = [];
  const first = Object.values(results.scale)[0];
  const rows = first.seeded.rows;
  out.push(
    `Uncached decisions on a big store: policy 'note' with ${count(results.subjects)} subjects x ${results.grantsPerSubject} grants ` +
      `(${count(rows.subjectRoles)} subject roles + ${count(rows.subjectPermissions)} direct permissions = ${count(rows.subjectRoles + rows.subjectPermissions)} grant rows; ` +
      `${count(rows.rolePermissions)} role permissions), seeded with one put-policy edit through PostgresPolicyStore.edit:`,
  );
  out.push(
    table(
      ['backend', 'put-policy edit s', 'then VACUUM (ANALYZE) s', 'building the document s', 'store tables MB', 'of which audit MB', 'peak RSS of the seeding process MB'],
      Object.entries(results.scale).map(([backend, { seeded }]) => {
        const total = Object.values(seeded.sizes).reduce((sum, mb) => sum + mb, 0);
        return [BACKEND_LABEL[backend], fixed(seeded.seedSeconds, 1), fixed(seeded.vacuumSeconds, 1), fixed(seeded.buildSeconds, 1), fixed(total, 0), fixed(seeded.sizes.audit ?? NaN, 0), fixed(seeded.peakRssMb, 0)];
      }),
    ),
  );
  out.push('');
  out.push(
    `Then, in the same process, after VACUUM (ANALYZE) of the grant tables: random subjects (identity roles none / notes-reader / notes-reader+staff), ${count(results.samples)} timed calls per line after a warm-up; ` +
      'every hasPermission answer checked against the seeded policy. Target: p99 < 2 ms for one decision.',
  );
  const lines = [];
  for (const [backend, { measured }] of Object.entries(results.scale)) {
    const line = (call, s, target) => [BACKEND_LABEL[backend], call, fixed(s.p50, 3), fixed(s.p99, 3), fixed(s.max, 2), fixed(s.mean, 3), `${fixed((100 * s.over2ms) / s.count, 1)}%`, fixed(s.count / s.seconds, 0), target];
    lines.push(line('store.grantsFor, one at a time', measured.grantsFor, `${passMiss(measured.grantsFor.p99 < DECISION_P99_TARGET_MS)} (p99 < 2 ms)`));
    lines.push(line('hasPermission, decisionCache: false, one at a time', measured.hasPermission, `${passMiss(measured.hasPermission.p99 < DECISION_P99_TARGET_MS)} (p99 < 2 ms)`));
    lines.push(line(`hasPermission, decisionCache: false, ${measured.inFlight.inFlight} in flight`, measured.inFlight, '(throughput, no target)'));
  }
  out.push(table(['backend', 'call', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', 'over 2 ms', 'calls/s', 'result'], lines));
  if (Object.values(results.scale).some(({ measured }) => measured.resource)) out.push('', ...formatResources(results));
  return out;
}

function formatResources(results) {
  const out = [];
  const [first] = Object.values(results.scale);
  const r = first.measured.resource;
  const seeds = Object.entries(results.scale).map(([backend, { seeded }]) => `${BACKEND_LABEL[backend]} ${fixed(seeded.resourceSeedSeconds, 1)} s`);
  out.push(
    `Resource checks on the same store: plus ${count(r.owners * r.perOwner)} resource grants (role 'owner', which gives CanShare, of ${count(r.owners)} subjects on ${count(r.perOwner)} notes each; ` +
      `subjects with no type-wide grant of CanShare), written with one INSERT ... SELECT (${seeds.join(', ')}). Every answer checked against the seeded grants. ` +
      `Uncached: decisionCache: false, a random owner asking CanShare about one of its notes (3 in 4) or another owner's, timed in turn with the type-wide line (the same call as above), ${count(r.typeWide.count)} calls each. ` +
      `Batch: allowedResources of ${r.batchSize} distinct ids (${r.batchOwn} of them the subject's) with decisionCache: false, ${count(r.batch.count)} calls, against ${r.batchSize} sequential hasPermission({ resource }) calls on other such lists (${count(r.sequential.count)} of them, one after every 10 batches). ` +
      `Targets: ratio to the baseline of the same process and moment.`,
  );
  const lines = [];
  for (const [backend, { measured }] of Object.entries(results.scale)) {
    const x = measured.resource;
    if (!x) continue;
    const b = BACKEND_LABEL[backend];
    const line = (call, s, ratio50, ratio99, result) => [b, call, fixed(s.p50, 3), fixed(s.p99, 3), fixed(s.max, 2), fixed(s.mean, 3), fixed(s.count / s.seconds, 0), ratio50, ratio99, result];
    lines.push(line('hasPermission, type-wide, decisionCache: false (baseline)', x.typeWide, '1.00', '1.00', ''));
    const r50 = x.onResource.p50 / x.typeWide.p50;
    const r99 = x.onResource.p99 / x.typeWide.p99;
    lines.push(
      line('hasPermission { resource }, decisionCache: false', x.onResource, fixed(r50, 2), fixed(r99, 2), `${passMiss(r50 <= RESOURCE_UNCACHED_TARGET)} by p50, ${passMiss(r99 <= RESOURCE_UNCACHED_TARGET)} by p99 (<= ${RESOURCE_UNCACHED_TARGET}x)`),
    );
    lines.push(line(`${x.batchSize} x hasPermission { resource }, sequential (baseline)`, x.sequential, '1.00', '1.00', ''));
    const b50 = x.batch.p50 / x.sequential.p50;
    const b99 = x.batch.p99 / x.sequential.p99;
    lines.push(
      line(`allowedResources, ${x.batchSize} ids, decisionCache: false (${fixed(x.batchQueriesPerCall, 2)} store queries per call)`, x.batch, fixed(b50, 3), fixed(b99, 3), `${passMiss(b50 <= BATCH_TARGET)} by p50, ${passMiss(b99 <= BATCH_TARGET)} by p99 (<= ${BATCH_TARGET}x)`),
    );
  }
  out.push(table(['backend', 'call', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', 'calls/s', 'x baseline (p50)', 'x baseline (p99)', 'result'], lines));
  out.push('');
  out.push(
    `Cached, in-process: cachedDecision hits in an app context of the same store with the decision cache on (TTL 1 h for the timing), ${count(r.cachedTypeWideNs.blocks)} alternating blocks of ${count(r.cachedTypeWideNs.callsPerBlock)} calls per kind ` +
      `over 1,000 remembered answers each (identity roles notes-reader on both sides; the owner's type-wide answer lacks CanShare, so its resource answer is looked up too). ns per call, median and slowest block. ` +
      `Over HTTP through the guard: see the hot path below.`,
  );
  const cached = [];
  for (const [backend, { measured }] of Object.entries(results.scale)) {
    const x = measured.resource;
    if (!x) continue;
    const ratio = x.cachedResourceNs.p50 / x.cachedTypeWideNs.p50;
    cached.push([BACKEND_LABEL[backend], "cachedDecision('note', identity, 'CanRead') (type-wide hit, baseline)", fixed(x.cachedTypeWideNs.p50, 0), fixed(x.cachedTypeWideNs.max, 0), '1.00', '']);
    cached.push([BACKEND_LABEL[backend], "cachedDecision('note', identity, 'CanShare', resource) (resource hit)", fixed(x.cachedResourceNs.p50, 0), fixed(x.cachedResourceNs.max, 0), fixed(ratio, 2), `${passMiss(ratio <= CACHED_RESOURCE_TARGET)} (<= ${CACHED_RESOURCE_TARGET}x)`]);
  }
  out.push(table(['backend', 'call', 'ns per call (median block)', 'slowest block ns', 'x type-wide hit', 'result'], cached));
  return out;
}

function formatHot(results) {
  const out = [];
  const { hot } = results;
  out.push(
    `Hot path with a PostgresPolicyStore: scenario 3 (the same token on every request, so decisions come from the decision cache) with the app's policyStore option ` +
      `a PostgresPolicyStore (async factory), next to the in-memory store; ${hot.rounds} rounds x ${hot.duration} s, alternating; median of rounds. Target: >= ${HOT_TARGET}x the unguarded route (req/s). ` +
      "'x in-memory store': req/s over the in-memory row's in the same round, what the store itself changes whatever the neighbours do.",
  );
  const policyOf = (variant) => (variant === 'unguarded' ? '-' : variant.endsWith('-big') ? `big: ${count(results.subjects)} subjects, ~${count(results.subjects * results.grantsPerSubject)} grants` : "scenario 3's + role owner");
  out.push(
    table(
      ['adapter', 'store', 'policy', 'route', 'req/s', 'p50 ms', 'p99 ms', 'x unguarded', 'app CPU us/req', 'x unguarded (CPU)', 'x in-memory store', 'result (req/s)', 'by app CPU/req'],
      hot.rows.map((row) => {
        const judged = row.variant !== 'unguarded';
        return [
          row.adapter,
          storeLabel(row.variant),
          policyOf(row.variant),
          routeOf(row.variant),
          fixed(row.rps, 0),
          fixed(row.p50, 2),
          fixed(row.p99, 2),
          fixed(row.ratio, 2),
          fixed(row.cpuUs, 1),
          fixed(row.cpuRatio, 2),
          row.variant === 'unguarded' ? '' : fixed(row.vsMemory, 2),
          judged ? passMiss(row.ratio >= HOT_TARGET) : '',
          judged ? passMiss(row.cpuRatio >= HOT_TARGET) : '',
        ];
      }),
    ),
  );
  for (const row of hot.rows.filter((r) => r.unexpected > 0)) out.push(`WARNING ${row.adapter} ${row.variant}: ${row.unexpected} of ${row.requests} responses had an unexpected status or failed`);
  const big = hot.rows.filter((row) => row.bigVsSmall !== undefined);
  if (big.length > 0) {
    out.push(
      `Big store vs scenario 3's policy on the same backend (median of per-round ratios; 1.00 = unchanged): ` +
        big.map((row) => `${row.adapter} ${BACKEND_LABEL[row.variant.slice(0, -'-big'.length)]} ${fixed(row.bigVsSmall, 2)} by req/s, ${fixed(row.bigVsSmallCpu, 2)} by app CPU`).join('; '),
    );
  }
  const resource = hot.rows.filter((row) => row.vsTypeWide !== undefined);
  if (resource.length > 0) {
    out.push(
      `@Resource route (GET /notes/${RESOURCE_ID}, a cached decision about that note: susan's type-wide answer lacks CanShare, her answer on the note has it) vs the type-wide route of the same app process in the same rounds ` +
        `(median of per-round ratios; target: costs <= ${CACHED_RESOURCE_TARGET}x, i.e. req/s >= ${fixed(1 / CACHED_RESOURCE_TARGET, 2)}x): ` +
        resource
          .map((row) => `${row.adapter} ${storeLabel(row.variant)} ${fixed(row.vsTypeWide, 2)} by req/s ${passMiss(row.vsTypeWide >= 1 / CACHED_RESOURCE_TARGET)}, ${fixed(row.vsTypeWideCpu, 2)} by app CPU ${passMiss(row.vsTypeWideCpu >= 1 / CACHED_RESOURCE_TARGET)}`)
          .join('; '),
    );
  }
  out.push(`App process RSS after the runs: ${hot.appRss.map((entry) => `${entry.variant}/${entry.adapter} ${fixed(entry.rssMb, 0)} MB`).join(', ')}`);
  return out;
}

function formatPropagation(results) {
  const out = [];
  const p = results.propagation;
  const s = p.summary;
  out.push(
    `Revocation propagation: 3 app instances (${p.adapter}, child processes) on one PostgreSQL, each with its own PostgresPolicyStore (LISTEN/NOTIFY, revision poll every 1 s) ` +
      `and a decision cache with a TTL of 1 h; ${count(p.changes.length)} changes (revoke, grant, revoke, ...) of one subject's direct CanRead through instance 0's store.edit, ` +
      'each after every instance answered the current state from its cache. Time from just before the writer sent COMMIT to the instance\'s onChange listener, by which the decision was dropped ' +
      '(an upper bound of commit to drop: it includes the commit itself, WAL flush and all):',
  );
  const how = (k) => (k === 0 ? 'writer: its own edit (or its NOTIFY, whichever first)' : 'NOTIFY from the server');
  out.push(
    table(
      ['instance', 'hears of the change by', 'changes', 'p50 ms', 'p99 ms', 'max ms', 'within 1 s', 'decision dropped', 'as a change of the subject (not a poll flush)', "p50 ms after the writer's edit() returned"],
      [
        ...s.perInstance.map((i) => [String(i.instance), how(i.instance), i.count, fixed(i.p50, 2), fixed(i.p99, 2), fixed(i.max, 2), `${i.withinBound}/${i.count}`, `${i.dropped}/${i.count}`, `${i.targeted}/${i.count}`, fixed(i.afterResolved.p50, 2)]),
        ['slowest of the 3, per change', '', s.slowest.count, fixed(s.slowest.p50, 2), fixed(s.slowest.p99, 2), fixed(s.slowest.max, 2), '', '', '', ''],
      ],
    ),
  );
  out.push(
    `Targets: every instance within ${PROPAGATION_BOUND_MS} ms (bound): slowest ${fixed(s.slowest.max, 1)} ms ${passMiss(s.bound)}; ` +
      `p99 < ${PROPAGATION_GOAL_MS} ms (goal, slowest instance per change): ${fixed(s.slowest.p99, 2)} ms ${passMiss(s.goal)}`,
  );
  // Per instance, the reading with the shortest round trip bounds the offset best (as NTP does).
  const best = [...new Set(p.clock.map((c) => c.instance))].map((k) => p.clock.filter((c) => c.instance === k).sort((a, b) => a.halfRttMs - b.halfRttMs)[0]);
  const maxOffset = Math.max(...best.map((c) => Math.abs(c.offsetMs)));
  const maxHalfRtt = Math.max(...best.map((c) => c.halfRttMs));
  out.push(
    `Answers after each change: ${p.stale} of ${count(p.changes.length * 3)} requests still gave the old answer. ` +
      `The writer's COMMIT, from sending it to edit() resolving (the commit becomes visible somewhere within it, so the figures above may be high by up to this): p50 ${fixed(s.commitRoundTrip.p50, 2)} ms, p99 ${fixed(s.commitRoundTrip.p99, 2)} ms. ` +
      `Clocks: process.hrtime (CLOCK_MONOTONIC, one clock for the machine) of each instance read within ${fixed(maxOffset, 3)} ms of the parent's, with an IPC half round trip of ${fixed(maxHalfRtt, 3)} ms. ` +
      `Instance RSS: ${p.rss.map((mb) => `${fixed(mb, 0)} MB`).join(', ')}.`,
  );
  return out;
}

const THROWAWAY_SERVER = [
  '  # PostgreSQL binaries: apt-get install postgresql (Debian); a cluster owned by the postgres user on a free loopback port',
  '  PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); PGDATA=$(mktemp -d); chown postgres "$PGDATA"   # as root',
  '  su postgres -s /bin/sh -c "$PGBIN/initdb -D $PGDATA -U postgres -A trust"',
  '  su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDATA -l $PGDATA/server.log -w -o \'-c listen_addresses=127.0.0.1 -p 55432 -k $PGDATA\' start"',
  '  BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:55432/postgres npm run bench -- --only store',
  '  su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D $PGDATA -m immediate stop"; rm -rf "$PGDATA"',
];

function formatStoreReport(results, config) {
  const out = [];
  out.push(
    `PostgresPolicyStore parts (${results.parts.join(', ')}; backends: ${results.backends.map((b) => BACKEND_LABEL[b]).join(', ')}; took ${Math.round(results.seconds)} s; ` +
      `1-min load average ${fixed(results.load.before, 1)} before, ${fixed(results.load.after, 1)} after, on ${results.load.cores} cores)` +
      (results.schemaPrefix ? `; schemas ${results.schemaPrefix}_* on BENCH_DATABASE_URL, dropped at the end` : ''),
  );
  if (results.scale) out.push('', ...formatScale(results));
  if (results.hot) out.push('', ...formatHot(results));
  if (results.propagation) out.push('', ...formatPropagation(results));
  if (!config.databaseUrl) {
    out.push('');
    out.push(
      'NOT RUN: the PostgreSQL parts (PostgreSQL rows of the tables above, and the revocation propagation across 3 instances, which needs a server). ' +
        'Set BENCH_DATABASE_URL to a PostgreSQL server to run them (the bench creates a schema authz_bench_<run>_* and drops it at the end), for example a throwaway cluster as .ci/run makes one:',
    );
    out.push(...THROWAWAY_SERVER);
  }
  return out.join('\n');
}

module.exports = { summarizeHot, summarizePropagation, formatStoreReport, HOT_TARGET, DECISION_P99_TARGET_MS, PROPAGATION_BOUND_MS, PROPAGATION_GOAL_MS };
