'use strict';

/**
 * Databases for the PostgresPolicyStore parts (bench/store.js): PGlite data directories copied from one template
 * cluster, schemas of their own on the server of `BENCH_DATABASE_URL`, the policies they are seeded with, and a
 * driver wrapper that timestamps commits.
 */

const { randomBytes } = require('node:crypto');
const { cp, mkdtemp, rename, rm, stat } = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const { PGlite } = require('@electric-sql/pglite');
const { PgDriver, PgliteDriver, PostgresPolicyStore } = require('nestjs-authz');
const { NOTE_POLICY, OWNER_ROLE_PERMISSIONS, RESOURCE_PERMISSION, RESOURCE_ROLE, withOwnerRole } = require('./apps');

/** The policy every store app decides with, as in scenario 3: `note`. */
const POLICY = 'note';

/** The propagation part revokes and grants this subject's direct CanRead (its token carries no identity role). */
const PROPAGATION_TARGET = 'revocable';
const PROPAGATION_PERMISSION = 'CanRead';

function pgliteVersion() {
  // The package's exports hide package.json; its version is in the directory it was installed from.
  const main = require.resolve('@electric-sql/pglite');
  try {
    return require(path.join(main.slice(0, main.lastIndexOf('node_modules') + 'node_modules'.length), '@electric-sql/pglite/package.json')).version;
  } catch {
    return 'unknown';
  }
}

// Creating a PGlite cluster (initdb in WebAssembly) takes about 5 s; copying an empty one takes well under 1 s. So
// every PGlite of the bench starts as a copy of one empty cluster, made once per machine and PGlite version.
const TEMPLATE = path.join(os.tmpdir(), `nestjs-authz-bench-pglite-template-${pgliteVersion()}`);

async function exists(file) {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function ensurePgliteTemplate() {
  if (await exists(TEMPLATE)) return false;
  const building = await mkdtemp(`${TEMPLATE}.building-`);
  try {
    const db = await PGlite.create({ dataDir: building });
    await db.close();
    await rename(building, TEMPLATE).catch(async (error) => {
      if (!(await exists(TEMPLATE))) throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return true;
}

/** A fresh, empty PGlite data directory `<runDir>/<name>`. */
async function freshPgliteDir(runDir, name) {
  await ensurePgliteTemplate();
  const dataDir = path.join(runDir, name);
  await cp(TEMPLATE, dataDir, { recursive: true });
  return dataDir;
}

/** A unique prefix for this run's schemas on the server: `authz_bench_<time>_<random>`. */
function schemaPrefix() {
  return `authz_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * A driver for `{ backend: 'pglite', dataDir }` or `{ backend: 'postgres', url }`, and how to release it. The
 * PGlite instance belongs to the caller (PgliteDriver never closes it), hence `closeDatabase`.
 */
async function openDriver({ backend, dataDir, url }) {
  if (backend === 'pglite') {
    const db = await PGlite.create({ dataDir });
    return { driver: PgliteDriver.wrap(db), closeDatabase: () => (db.closed ? undefined : db.close()) };
  }
  if (backend === 'postgres') {
    if (!url) throw new Error('the postgres backend needs BENCH_DATABASE_URL');
    return { driver: await PgDriver.connect(url), closeDatabase: async () => {} };
  }
  throw new Error(`unknown store backend '${backend}'`);
}

async function dropSchemas(url, schemas) {
  const driver = await PgDriver.connect(url);
  try {
    for (const schema of schemas) await driver.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await driver.close();
  }
}

/** Writes `document` as policy `note` unless the store has that policy (listPolicies: no whole-policy read). */
async function seedIfAbsent(store, document) {
  if ((await store.listPolicies()).some((policy) => policy.name === POLICY)) return false;
  await store.edit([{ kind: 'put-policy', policy: POLICY, document }], { actor: 'bench' });
  return true;
}

const BIG_ROLES = 20;
const PERMISSIONS_PER_ROLE = 5;
const DIRECT_PERMISSIONS = 1_000;

const roleName = (r) => `role-${String(r).padStart(2, '0')}`;
const subjectName = (i) => `user-${i}`;

/**
 * Resource grants of the big policy: role `owner` (apps.js: held on single notes only, gives `CanShare`, which no
 * type-wide grant of the bench gives); subject `owner-<j>` of `owners` holds it on notes `note-<n>` with
 * `n % owners === j`, `perOwner` notes each.
 */
const ownerName = (j) => `owner-${j}`;
const resourceName = (n) => `note-${n}`;

/**
 * Writes `owners * perOwner` rows of `resource_roles` with one INSERT ... SELECT: the store has no bulk edit for
 * resource grants, and 100 000 `grant-resource-role` edits (a transaction's worth of statements each, with their
 * audit entries) would take minutes. The caches of the measuring apps start empty, so no change feed is needed.
 */
async function seedResourceGrants(driver, schema, owners, perOwner) {
  await driver.query(
    `INSERT INTO ${schema}.resource_roles (policy, subject, resource, role)
     SELECT $1, 'owner-' || (n % $2::int), 'note-' || n, $3 FROM generate_series(0, $4::int - 1) AS n`,
    [POLICY, owners, RESOURCE_ROLE, owners * perOwner],
  );
}

/** How the grants of a subject of the big policy split into roles and direct permissions (about 60/40). */
function grantSplit(grantsPerSubject) {
  const roles = Math.min(BIG_ROLES, Math.round(grantsPerSubject * 0.6));
  return { roles, permissions: grantsPerSubject - roles };
}

/** The roles and direct permissions of subject `i` of the big policy (deterministic, all distinct). */
function bigSubjectGrants(i, grantsPerSubject) {
  const split = grantSplit(grantsPerSubject);
  return {
    roles: Array.from({ length: split.roles }, (_, k) => roleName((i + k * 3) % BIG_ROLES)),
    permissions: Array.from({ length: split.permissions }, (_, k) => `direct-${(i * 7 + k * 11) % DIRECT_PERMISSIONS}`),
  };
}

/**
 * The big policy: scenario 3's policy (so the same token is granted CanRead) plus 20 roles of 5 permissions, an
 * identity role `staff` mapped to two of them, and `subjects` subjects with `grantsPerSubject` grants each.
 */
function bigPolicyDocument(subjects, grantsPerSubject) {
  const base = NOTE_POLICY[POLICY];
  const roles = { ...base.roles };
  for (let r = 0; r < BIG_ROLES; r++) roles[roleName(r)] = Array.from({ length: PERMISSIONS_PER_ROLE }, (_, k) => `perm-${(r * 3 + k) % 40}`);
  roles[RESOURCE_ROLE] = OWNER_ROLE_PERMISSIONS;
  const grants = { ...base.subjects };
  for (let i = 0; i < subjects; i++) grants[subjectName(i)] = bigSubjectGrants(i, grantsPerSubject);
  const document = { roles, identityRoles: { ...base.identityRoles, staff: [roleName(0), roleName(1)] }, subjects: grants };
  const split = grantSplit(grantsPerSubject);
  const rows = {
    subjectRoles: subjects * split.roles + Object.values(base.subjects).reduce((sum, s) => sum + (s.roles?.length ?? 0), 0),
    subjectPermissions: subjects * split.permissions + Object.values(base.subjects).reduce((sum, s) => sum + (s.permissions?.length ?? 0), 0),
    rolePermissions: Object.values(roles).reduce((sum, list) => sum + list.length, 0),
  };
  return { document, rows };
}

/**
 * What the big policy grants subject `i` with `identityRoles`: the answer a decision must give. Takes the small
 * parts of the document only (`roles`, `identityRoles`), so that the measuring process need not keep 100 000 subjects.
 */
function expectedPermissions({ roles, identityRoles: mapped }, i, grantsPerSubject, identityRoles) {
  const subject = bigSubjectGrants(i, grantsPerSubject);
  const held = new Set(subject.roles);
  for (const identityRole of identityRoles) for (const role of mapped[identityRole] ?? []) held.add(role);
  const granted = new Set(subject.permissions);
  for (const role of held) for (const permission of roles[role]) granted.add(permission);
  return granted;
}

/**
 * The same driver, recording `process.hrtime.bigint()` when a transaction's work is done, i.e. just before the
 * driver sends COMMIT: the commit happens after that instant, so a latency measured from it is an upper bound.
 */
function commitTimingDriver(inner, onCommitSent) {
  return {
    description: inner.description,
    query: (sql, params) => inner.query(sql, params),
    transaction: (work) =>
      inner.transaction(async (tx) => {
        const result = await work(tx);
        onCommitSent(process.hrtime.bigint());
        return result;
      }),
    listen: (channel, onNotification) => inner.listen(channel, onNotification),
    close: () => inner.close(),
  };
}

module.exports = {
  POLICY,
  PROPAGATION_TARGET,
  PROPAGATION_PERMISSION,
  TEMPLATE,
  ensurePgliteTemplate,
  freshPgliteDir,
  schemaPrefix,
  openDriver,
  dropSchemas,
  seedIfAbsent,
  subjectName,
  ownerName,
  resourceName,
  withOwnerRole,
  seedResourceGrants,
  RESOURCE_ROLE,
  RESOURCE_PERMISSION,
  bigPolicyDocument,
  bigSubjectGrants,
  expectedPermissions,
  commitTimingDriver,
  PostgresPolicyStore,
};
