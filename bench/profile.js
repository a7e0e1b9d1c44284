'use strict';

/**
 * Summarizes a `node --cpu-prof` profile (as written by `BENCH_PROFILE_DIR=... npm run bench`): the functions with
 * the most self time, self time per package or file, and the inclusive time of the functions named with --focus.
 *
 *   node bench/profile.js <file.cpuprofile> [--top 30] [--focus canActivate,verify]
 */

const { readFileSync } = require('node:fs');
const path = require('node:path');

function parseArgs(argv) {
  const args = { file: undefined, top: 30, focus: ['canActivate', 'verify', 'authenticate', 'checkPermissions', 'toIdentity', 'extractBearerToken'] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--top') args.top = Number(argv[++i]);
    else if (argv[i] === '--focus') args.focus = argv[++i].split(',');
    else args.file = argv[i];
  }
  if (!args.file) throw new Error('usage: node bench/profile.js <file.cpuprofile> [--top 30] [--focus name,name]');
  return args;
}

/** Where a function lives: the npm package, or the file for the library and the bench. */
function placeOf(url) {
  if (!url) return '(native or V8)';
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const lib = url.indexOf('libs/authz/');
  return lib >= 0 ? url.slice(lib) : path.basename(url);
}

function summarize({ file, top, focus }) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...self.values()].reduce((sum, us) => sum + us, 0);
  const idle = [...self].filter(([id]) => ['(idle)', '(program)'].includes(nodes.get(id).callFrame.functionName)).reduce((sum, [, us]) => sum + us, 0);
  const busy = totalUs - idle;

  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const label = (frame) => `${frame.functionName || '(anonymous)'} ${placeOf(frame.url)}:${frame.lineNumber + 1}`;

  const byFunction = new Map();
  const byPlace = new Map();
  const inclusive = new Map();
  for (const [id, us] of self) {
    const frame = nodes.get(id).callFrame;
    if (['(idle)', '(program)'].includes(frame.functionName)) continue;
    byFunction.set(label(frame), (byFunction.get(label(frame)) ?? 0) + us);
    byPlace.set(placeOf(frame.url), (byPlace.get(placeOf(frame.url)) ?? 0) + us);
    // Inclusive time of focused functions: charge each sample once to every focused name on its stack.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) {
      const name = nodes.get(at).callFrame.functionName;
      if (focus.includes(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const rows = (map, count) => [...map].sort((a, b) => b[1] - a[1]).slice(0, count).map(([name, us]) => `${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}`);
  return [
    `${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`,
    '',
    `Self time by function (top ${top}):`,
    ...rows(byFunction, top),
    '',
    'Self time by package / file:',
    ...rows(byPlace, 25),
    '',
    'Inclusive time of:',
    ...rows(inclusive, focus.length),
  ].join('\n');
}

process.stdout.write(`${summarize(parseArgs(process.argv.slice(2)))}\n`);
