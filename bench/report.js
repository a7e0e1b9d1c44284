'use strict';

const { BUILT_IN_OF_SCENARIO, SCENARIOS } = require('./config');

/**
 * Turns the rounds into the printed result: per scenario the median over rounds of requests/s, p50/p99 latency
 * and the ratio to the unguarded route of the same adapter in the same round (ratios, not absolute numbers, are
 * the result: the machine is shared), with the issue's targets and PASS/MISS next to them.
 */

function median(values) {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Per-round ratio of scenario `id` to scenario `base` on one adapter: by requests/s, and by app CPU time per request. */
function ratios(runs, adapter, id, base) {
  const a = runs[`${adapter}:${id}`];
  const b = runs[`${adapter}:${base}`];
  if (!a || !b) return [];
  return a.map((run, round) => run.rps / b[round].rps);
}

function cpuRatios(runs, adapter, id, base) {
  const a = runs[`${adapter}:${id}`];
  const b = runs[`${adapter}:${base}`];
  if (!a || !b) return [];
  return a.map((run, round) => b[round].cpuUs / run.cpuUs);
}

function summarize(runs, adapters) {
  const rows = [];
  for (const adapter of adapters) {
    for (const id of Object.keys(SCENARIOS).map(Number)) {
      const list = runs[`${adapter}:${id}`];
      if (!list) continue;
      rows.push({
        adapter,
        id,
        rps: median(list.map((run) => run.rps)),
        p50: median(list.map((run) => run.p50)),
        p99: median(list.map((run) => run.p99)),
        ratio: median(ratios(runs, adapter, id, 1)),
        cpuUs: median(list.map((run) => run.cpuUs)),
        cpuRatio: median(cpuRatios(runs, adapter, id, 1)),
        unexpected: list.reduce((sum, run) => sum + run.unexpected, 0),
        requests: list.reduce((sum, run) => sum + run.requests, 0),
      });
    }
  }
  return rows;
}

/**
 * The issue's timing targets, judged on the median of per-round requests/s ratios. The same ratio computed from the
 * app's CPU time per request is shown beside it: it is what the ratio would be if the app, not the load generator,
 * were the bottleneck in every scenario.
 */
function judgeTargets(runs, adapters) {
  const verdicts = [];
  const check = (adapter, id, base, label, pass) => {
    const value = median(ratios(runs, adapter, id, base));
    if (Number.isFinite(value)) verdicts.push({ adapter, id, label, value, cpuValue: median(cpuRatios(runs, adapter, id, base)), pass: pass(value), cpuPass: pass(median(cpuRatios(runs, adapter, id, base))) });
  };
  for (const adapter of adapters) {
    check(adapter, 3, 1, '>= 0.85x unguarded', (v) => v >= 0.85);
    check(adapter, 3, 2, '>= 3x stock recipe', (v) => v >= 3);
    check(adapter, 4, 1, '>= 0.45x unguarded', (v) => v >= 0.45);
    check(adapter, 5, 4, 'costs <= scenario 4 (5 vs 4 >= 1)', (v) => v >= 1);
  }
  return verdicts;
}

/**
 * The nestjs-authz/passport scenarios (7-12) against the built-in AuthzGuard with the same kind of token (3 or 4),
 * and the same-token ones against the stock recipe (2), in the same rounds: median of per-round ratios by req/s and by
 * app CPU per request. Report-only: no target.
 */
function comparePassport(runs, adapters) {
  const out = [];
  for (const adapter of adapters) {
    for (const [id, builtIn] of Object.entries(BUILT_IN_OF_SCENARIO).map(([a, b]) => [Number(a), b])) {
      if (!runs[`${adapter}:${id}`] || !runs[`${adapter}:${builtIn}`]) continue;
      const stock = builtIn === 3 && runs[`${adapter}:2`] ? 2 : undefined;
      out.push({
        adapter,
        id,
        builtIn,
        value: median(ratios(runs, adapter, id, builtIn)),
        cpuValue: median(cpuRatios(runs, adapter, id, builtIn)),
        stockValue: stock ? median(ratios(runs, adapter, id, stock)) : NaN,
        stockCpuValue: stock ? median(cpuRatios(runs, adapter, id, stock)) : NaN,
      });
    }
  }
  return out;
}

function table(header, rows) {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells) => `| ${cells.map((cell, column) => String(cell).padEnd(widths[column])).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function fixed(value, digits) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function adaptersOf(rows) {
  return [...new Set(rows.map((row) => row.adapter))];
}

function formatReport({ rows, verdicts, passport = [], memory, decision, coldPath, appRss, settings }) {
  const out = [];
  out.push(`Settings: ${settings}`);
  if (rows.length > 0) {
    out.push('');
    out.push(
      table(
        ['adapter', '#', 'scenario', 'req/s', 'p50 ms', 'p99 ms', 'x unguarded', 'app CPU us/req', 'x unguarded (CPU)'],
        rows.map((row) => [row.adapter, row.id, SCENARIOS[row.id], fixed(row.rps, 0), fixed(row.p50, 2), fixed(row.p99, 2), fixed(row.ratio, 2), fixed(row.cpuUs, 1), fixed(row.cpuRatio, 2)]),
      ),
    );
  }
  const wrong = rows.filter((row) => row.unexpected > 0);
  for (const row of wrong) out.push(`WARNING ${row.adapter} #${row.id}: ${row.unexpected} of ${row.requests} responses had an unexpected status or failed`);
  if (verdicts.length > 0) {
    out.push('');
    out.push('Targets (median of per-round ratios; result on requests/s, the CPU column for comparison):');
    out.push(
      table(
        ['adapter', '#', 'target', 'measured (req/s)', 'result', 'by app CPU/req'],
        verdicts.map((v) => [v.adapter, v.id, v.label, fixed(v.value, 3), v.pass ? 'PASS' : 'MISS', `${fixed(v.cpuValue, 3)} ${v.cpuPass ? 'PASS' : 'MISS'}`]),
      ),
    );
  }
  if (passport.length > 0) {
    out.push('');
    out.push(
      "nestjs-authz/passport vs the built-in AuthzGuard with the same kind of token in the same rounds (#3 same token, #4 new token each request), and the same-token rows vs the stock recipe (#2); median of per-round ratios, by req/s and by app CPU per request (built-in CPU / this row's CPU). Report-only, no target:",
    );
    out.push(
      table(
        ['adapter', '#', 'scenario', 'vs #', 'x built-in (req/s)', 'x built-in (CPU)', 'x stock recipe (req/s)', 'x stock recipe (CPU)'],
        passport.map((p) => [p.adapter, p.id, SCENARIOS[p.id], p.builtIn, fixed(p.value, 2), fixed(p.cpuValue, 2), fixed(p.stockValue, 2), fixed(p.stockCpuValue, 2)]),
      ),
    );
  }
  const floors = adaptersOf(rows)
    .map((adapter) => ({ adapter, full: rows.find((row) => row.adapter === adapter && row.id === 4), bare: rows.find((row) => row.adapter === adapter && row.id === 6) }))
    .filter(({ full, bare }) => full && bare);
  if (floors.length > 0) {
    out.push('');
    out.push('Floor of scenario 4: scenario 6 checks one RS256 signature per request and nothing else, so no guard that verifies a new token can beat it:');
    for (const { adapter, full, bare } of floors) {
      out.push(`- ${adapter}: bare check ${fixed(bare.ratio, 2)}x unguarded, nestjs-authz ${fixed(full.ratio, 2)}x = ${fixed(full.ratio / bare.ratio, 2)} of the floor (by app CPU: ${fixed(full.cpuRatio / bare.cpuRatio, 2)})`);
    }
  }
  if (appRss.length > 0) {
    out.push('');
    out.push(`App process RSS after the HTTP runs: ${appRss.map((entry) => `${entry.app}/${entry.adapter} ${fixed(entry.rssMb, 0)} MB`).join(', ')}`);
  }
  if (memory) {
    out.push('');
    out.push(
      `Memory: ${memory.tokens.toLocaleString('en-US')} distinct valid tokens (${memory.tokenLength} chars each) through AuthzGuard.canActivate in-process ` +
        `(${fixed(memory.seconds, 1)} s, ${fixed((memory.seconds / memory.tokens) * 1e6, 1)} us per token, ES256):`,
    );
    out.push(table(['tokens', 'RSS MB', 'heap used MB (after GC)', 'remembered'], memory.snapshots.map((s) => [s.tokens.toLocaleString('en-US'), fixed(s.rssMb, 0), fixed(s.heapUsedMb, 1), s.remembered])));
    out.push(`Peak RSS of that process: ${fixed(memory.peakRssMb, 0)} MB (includes the minting worker thread).`);
    out.push(`Cap: verifiedTokenCache.maxEntries = ${memory.cap} (remembered at the end: ${memory.rememberedAtEnd}); decisionCache.maxEntries = ${memory.decisionCap}. ${memory.bounded.pass ? 'PASS' : 'MISS'}: ${memory.bounded.reason}`);
  }
  if (coldPath) {
    out.push('');
    out.push(
      `Cold path in-process (CPU per token, mean of ${coldPath.tokens.toLocaleString('en-US')} RS256 tokens never seen before): ` +
        `AuthzGuard.canActivate ${fixed(coldPath.guardUs, 1)} us; bare crypto.verify of the same tokens ${fixed(coldPath.bareUs, 1)} us; ` +
        `the guard adds ${fixed(coldPath.guardUs - coldPath.bareUs, 1)} us to the signature check`,
    );
  }
  if (decision) {
    out.push('');
    out.push(
      `PolicyService decision (${decision.policyService}.hasPermission, awaited, mean of ${decision.iterations.toLocaleString('en-US')}): ` +
        `from the decision cache ${fixed(decision.cachedUs, 2)} us; decisionCache: false ${fixed(decision.uncachedUs, 2)} us`,
    );
  }
  return out.join('\n');
}

module.exports = { summarize, judgeTargets, comparePassport, formatReport, median, table, fixed };
