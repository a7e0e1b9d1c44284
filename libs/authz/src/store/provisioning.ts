import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { AuthzConfigurationError } from '../authz.exceptions';
import { nameProblem } from '../policy/names';
import { checkPolicyDocument, InvalidPolicyError, type PolicyDocument, type SubjectGrants } from '../policy/policy-document';
import { sameState } from './apply-edit';
import type { PolicyEdit } from './policy-edit';
import type { PolicyStore } from './policy-store';
import { RevisionConflictError } from './store-errors';

type Document = Required<PolicyDocument>;

/**
 * The extensions of policy files: JSON, and YAML (read with the `yaml` package, installed separately).
 *
 * @example
 * POLICY_FILE_EXTENSIONS.includes(extname('note.yaml')); // true
 */
export const POLICY_FILE_EXTENSIONS = ['.json', '.yaml', '.yml'] as const;

/**
 * A policy with its name, e.g. read from a file (provisioning's input).
 *
 * @example
 * const wanted: NamedPolicy[] = [{ policy: 'note', document: { roles: { reader: ['CanRead'] } } }];
 */
export interface NamedPolicy {
  readonly policy: string;
  readonly document: PolicyDocument;
}

/**
 * One policy file: the policy's name is the file's base name (`note.json` holds policy `note`).
 *
 * @example
 * const [note] = await readPolicyFiles('policies/note.yaml'); // { policy: 'note', file: 'policies/note.yaml', document }
 */
export interface PolicyFile extends NamedPolicy {
  /** The file's path, as given or found in the directory. */
  readonly file: string;
  /** The document, checked and normalised. */
  readonly document: Document;
}

/**
 * A policy file that cannot be used. The message names the file and, when the content is at fault, the field,
 * e.g. `policies/note.json: roles.reader[0] must not be empty`.
 *
 * @example
 * await readPolicyFiles('policies').catch((error) => {
 *   if (error instanceof PolicyFileError) console.error(error.file, error.field, error.problem);
 * });
 */
export class PolicyFileError extends Error {
  override readonly name = this.constructor.name;
  constructor(
    readonly file: string,
    readonly problem: string,
    /** The offending value's path in the document (e.g. `roles.reader[0]`), when the content is at fault. */
    readonly field?: string,
  ) {
    super(`${file}: ${field ? `${field} ${problem}` : problem}`);
  }
}

/**
 * A role's permissions or an identity role's roles, before → after.
 *
 * @example
 * { name: 'reader', change: 'changed', added: ['CanList'], removed: [] }
 */
export interface ListChange {
  readonly name: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/**
 * A subject's grants, before → after.
 *
 * @example
 * { subject: 'susan', change: 'changed', added: { roles: [], permissions: [] }, removed: { roles: [], permissions: ['CanReadConfidentialNotes'] } }
 */
export interface SubjectChange {
  readonly subject: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly added: Required<SubjectGrants>;
  readonly removed: Required<SubjectGrants>;
}

/**
 * What an update changes in a policy; names sorted.
 *
 * @example
 * const { roles, subjects, identityRoles } = diffPolicies(stored.document, wanted);
 */
export interface PolicyDiff {
  readonly roles: readonly ListChange[];
  readonly subjects: readonly SubjectChange[];
  readonly identityRoles: readonly ListChange[];
}

/**
 * What provisioning does to one policy. `revision` is the policy's revision when the plan was made (0: absent):
 * applying the plan is conditional on it.
 *
 * @example
 * plan.entries.filter((entry) => entry.action === 'update').map((entry) => entry.policy); // ['note']
 */
export type PolicyPlanEntry =
  | { readonly action: 'create'; readonly policy: string; readonly revision: 0; readonly document: Document }
  | { readonly action: 'update'; readonly policy: string; readonly revision: number; readonly document: Document; readonly diff: PolicyDiff }
  | { readonly action: 'unchanged'; readonly policy: string; readonly revision: number }
  /** In the store but in none of the files: provisioning never deletes a policy. */
  | { readonly action: 'left-alone'; readonly policy: string; readonly revision: number };

/**
 * Per policy, by name, what applying would do.
 *
 * @example
 * const plan: PolicyPlan = await planPolicies(store, files);
 */
export interface PolicyPlan {
  readonly entries: readonly PolicyPlanEntry[];
}

/**
 * What {@link applyPolicyPlan} did.
 *
 * @example
 * const { created, updated, revision } = await applyPolicyPlan(store, plan, { actor: 'policy-cli' });
 */
export interface ApplyResult {
  /** Policies created and updated, by name. */
  readonly created: readonly string[];
  readonly updated: readonly string[];
  /** The store's revision afterwards (`undefined` when there was nothing to apply and the store was not written). */
  readonly revision?: number;
}

/**
 * Reads policy files: one file (`.json`, `.yaml` or `.yml`) or every such file in a directory (not its
 * subdirectories). A file holds one policy document; its base name is the policy's name. Each document is checked
 * like the `policies` option; any problem throws {@link PolicyFileError} naming the file and the field.
 *
 * @example
 * const files = await readPolicyFiles('policies');      // [{ policy: 'note', file: 'policies/note.json', document }]
 * const plan = await planPolicies(store, files);
 */
export async function readPolicyFiles(path: string): Promise<PolicyFile[]> {
  const kind = await stat(path).then(
    (stats) => (stats.isDirectory() ? 'directory' : 'file'),
    (error: NodeJS.ErrnoException) => {
      throw new PolicyFileError(path, error.code === 'ENOENT' ? 'does not exist' : `cannot be read (${error.message})`);
    },
  );
  if (kind === 'file') {
    if (!isPolicyFileName(path)) throw new PolicyFileError(path, `is not a policy file: its name must end in ${POLICY_FILE_EXTENSIONS.join(', ')}`);
    return [await readPolicyFile(path)];
  }
  const names = (await readdir(path, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && isPolicyFileName(entry.name))
    .map((entry) => entry.name)
    .sort(byCodeUnit);
  if (names.length === 0) throw new PolicyFileError(path, `holds no policy files (${POLICY_FILE_EXTENSIONS.join(', ')})`);
  const files: PolicyFile[] = [];
  for (const name of names) files.push(await readPolicyFile(join(path, name)));
  const seen = new Map<string, string>();
  for (const { policy, file } of files) {
    const other = seen.get(policy);
    if (other) throw new PolicyFileError(file, `holds policy '${policy}', and so does ${other}: keep one file per policy`);
    seen.set(policy, file);
  }
  return files;
}

/**
 * Compares policies (e.g. from {@link readPolicyFiles}) with the store: each is to be created, updated (with a
 * diff) or unchanged; the store's other policies are `left-alone`, never deleted. Reads only.
 *
 * @example
 * const plan = await planPolicies(store, [{ policy: 'note', document }]);
 * console.log(describePlan(plan));
 */
export async function planPolicies(store: PolicyStore, policies: readonly NamedPolicy[]): Promise<PolicyPlan> {
  const wanted = new Map<string, Document>();
  for (const { policy, document } of policies) {
    const problem = nameProblem(policy, 'policy');
    if (problem) throw new InvalidPolicyError('policy', `name ${JSON.stringify(policy)} ${problem}`);
    if (wanted.has(policy)) throw new InvalidPolicyError('policy', `'${policy}' is given twice`);
    wanted.set(policy, checkPolicyDocument(document, policy));
  }
  const entries: PolicyPlanEntry[] = [];
  for (const [policy, document] of wanted) {
    const stored = await store.getPolicy(policy);
    if (!stored) entries.push({ action: 'create', policy, revision: 0, document });
    else if (sameState(stored.document, document)) entries.push({ action: 'unchanged', policy, revision: stored.revision });
    else entries.push({ action: 'update', policy, revision: stored.revision, document, diff: diffPolicies(stored.document, document) });
  }
  for (const { name, revision } of await store.listPolicies()) {
    if (!wanted.has(name)) entries.push({ action: 'left-alone', policy: name, revision });
  }
  return { entries: entries.sort((a, b) => byCodeUnit(a.policy, b.policy)) };
}

/**
 * Applies a plan: every created and updated policy as a `put-policy` edit, all in ONE `store.edit()` call (one
 * transaction, one audit entry per policy). Each edit is conditional on the revision seen when the plan was made,
 * so a policy changed in between makes the whole apply fail with {@link RevisionConflictError}, and nothing is
 * written: plan again. A plan with nothing to do does not write at all.
 *
 * @example
 * const result = await applyPolicyPlan(store, await planPolicies(store, files), { actor: 'policy-cli' });
 */
export async function applyPolicyPlan(store: PolicyStore, plan: PolicyPlan, options: { readonly actor: string }): Promise<ApplyResult> {
  const edits: PolicyEdit[] = [];
  const created: string[] = [];
  const updated: string[] = [];
  for (const entry of plan.entries) {
    if (entry.action !== 'create' && entry.action !== 'update') continue;
    edits.push({ kind: 'put-policy', policy: entry.policy, document: entry.document, ifRevision: entry.revision });
    (entry.action === 'create' ? created : updated).push(entry.policy);
  }
  if (edits.length === 0) return { created, updated };
  const { revision } = await store.edit(edits, { actor: options.actor });
  return { created, updated, revision };
}

/**
 * Creates the policies the store does not hold yet, each with `put-policy` and `ifRevision: 0`; a policy that
 * exists is never changed. When several instances start together on one database, one creates a policy and the
 * others get a revision conflict, which means "it exists now": skipped. Returns the names created.
 *
 * `initialEdits` (e.g. resource grants for seeded records) are written in the same transaction as the creation of
 * their policy, and only then: a start that finds the policy writes none of them, so a grant changed since is not
 * put back.
 *
 * @example
 * await createMissingPolicies(store, await readPolicyFiles('apps/notes/policies'), { actor: 'notes-app' }); // ['note'] on the first start, then []
 */
export async function createMissingPolicies(
  store: PolicyStore,
  policies: readonly NamedPolicy[],
  options: { readonly actor: string; readonly initialEdits?: readonly PolicyEdit[] },
): Promise<string[]> {
  const created: string[] = [];
  // Names only: this runs at every start, and reading whole policies would grow with their grants.
  const existing = new Set((await store.listPolicies()).map(({ name }) => name));
  for (const { policy, document } of policies) {
    if (existing.has(policy)) continue;
    const initial = (options.initialEdits ?? []).filter((edit) => edit.policy === policy);
    try {
      await store.edit([{ kind: 'put-policy', policy, document, ifRevision: 0 }, ...initial], { actor: options.actor });
      created.push(policy);
    } catch (error) {
      if (!(error instanceof RevisionConflictError)) throw error;
    }
  }
  return created;
}

/**
 * Writes every policy of the store to `<dir>/<policy>.json` (see {@link policyFileText}), creating `dir` if needed,
 * so that {@link planPolicies} on `dir` right afterwards has nothing to do. Refuses, before writing anything, a
 * directory that holds other policy files (they would be planned too) and a policy name that cannot be a file name.
 * Returns the files written.
 *
 * @example
 * await exportPolicies(store, 'policies'); // ['policies/authz.json', 'policies/note.json']
 */
export async function exportPolicies(store: PolicyStore, dir: string): Promise<string[]> {
  const summaries = await store.listPolicies();
  for (const { name } of summaries) {
    if (/[/\\]/.test(name)) {
      throw new PolicyFileError(join(dir, `${name}.json`), `cannot be written: policy '${name}' has a name that is not a plain file name`);
    }
  }
  await mkdir(dir, { recursive: true });
  const names = new Set(summaries.map(({ name }) => `${name}.json`));
  const others = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isFile() && isPolicyFileName(entry.name) && !names.has(entry.name));
  if (others.length > 0) {
    throw new PolicyFileError(
      dir,
      `holds policy files that are not in the store's export (${others.map((entry) => entry.name).sort(byCodeUnit).join(', ')}); export to an empty directory, or remove them first`,
    );
  }
  const written: string[] = [];
  for (const { name } of summaries) {
    const stored = await store.getPolicy(name);
    if (!stored) continue;
    const file = join(dir, `${name}.json`);
    // Written next to the target, then renamed: a reader never sees half a file.
    await writeFile(`${file}.tmp`, policyFileText(stored.document));
    await rename(`${file}.tmp`, file);
    written.push(file);
  }
  return written;
}

/**
 * A policy document as a policy file: 2-space JSON with a trailing newline, keys in a stable order (roles, subjects,
 * identityRoles; names sorted), lists sorted, a subject's empty list left out. Equal policies give equal text.
 *
 * @example
 * policyFileText({ roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } });
 */
export function policyFileText(document: PolicyDocument): string {
  const checked = checkPolicyDocument(document);
  const sortedLists = (record: Record<string, string[]>) => Object.fromEntries(sortedEntries(record).map(([name, list]) => [name, [...list].sort(byCodeUnit)]));
  const subjects = Object.fromEntries(
    sortedEntries(checked.subjects).map(([subject, grants]) => [
      subject,
      {
        ...(grants.roles?.length ? { roles: [...grants.roles].sort(byCodeUnit) } : {}),
        ...(grants.permissions?.length ? { permissions: [...grants.permissions].sort(byCodeUnit) } : {}),
      },
    ]),
  );
  return `${JSON.stringify({ roles: sortedLists(checked.roles), subjects, identityRoles: sortedLists(checked.identityRoles) }, null, 2)}\n`;
}

/**
 * A plan as text, one line per policy and one per change, e.g.
 *
 * ```
 * note: update (store revision 7)
 *   ~ subject susan: - permission CanReadConfidentialNotes
 * authz: not in the files, left alone
 * ```
 *
 * @example
 * process.stdout.write(describePlan(await planPolicies(store, files)));
 */
export function describePlan(plan: PolicyPlan): string {
  const lines: string[] = [];
  for (const entry of plan.entries) {
    switch (entry.action) {
      case 'create':
        lines.push(`${entry.policy}: create`, ...describeDiff(diffPolicies(EMPTY, entry.document)));
        break;
      case 'update':
        lines.push(`${entry.policy}: update (store revision ${entry.revision})`, ...describeDiff(entry.diff));
        break;
      case 'unchanged':
        lines.push(`${entry.policy}: unchanged (store revision ${entry.revision})`);
        break;
      case 'left-alone':
        lines.push(`${entry.policy}: not in the files, left alone (store revision ${entry.revision})`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * How many policies a plan creates, updates and leaves as they are.
 *
 * @example
 * planCounts(plan); // { create: 0, update: 1, unchanged: 0, 'left-alone': 1 }
 */
export function planCounts(plan: PolicyPlan): Record<PolicyPlanEntry['action'], number> {
  const counts = { create: 0, update: 0, unchanged: 0, 'left-alone': 0 };
  for (const entry of plan.entries) counts[entry.action]++;
  return counts;
}

/**
 * What changes from one policy to another: roles added, removed or with other permissions; subjects' grants
 * added and removed; identity roles added, removed or mapped to other roles.
 *
 * @example
 * diffPolicies(stored.document, fromFile).subjects; // [{ subject: 'susan', change: 'changed', added: { roles: [], permissions: [] }, removed: { roles: [], permissions: ['CanReadConfidentialNotes'] } }]
 */
export function diffPolicies(before: PolicyDocument, after: PolicyDocument): PolicyDiff {
  const a = checkPolicyDocument(before);
  const b = checkPolicyDocument(after);
  const subjects: SubjectChange[] = [];
  for (const subject of unionOfKeys(a.subjects, b.subjects)) {
    const from = grantsOf(a, subject);
    const to = grantsOf(b, subject);
    const added = { roles: without(to.roles, from.roles), permissions: without(to.permissions, from.permissions) };
    const removed = { roles: without(from.roles, to.roles), permissions: without(from.permissions, to.permissions) };
    if (added.roles.length + added.permissions.length + removed.roles.length + removed.permissions.length === 0) continue;
    subjects.push({ subject, change: !Object.hasOwn(a.subjects, subject) ? 'added' : !Object.hasOwn(b.subjects, subject) ? 'removed' : 'changed', added, removed });
  }
  return { roles: listChanges(a.roles, b.roles), subjects, identityRoles: listChanges(a.identityRoles, b.identityRoles) };
}

/** Lines of a diff, `+` added, `-` removed, `~` changed. */
function describeDiff(diff: PolicyDiff): string[] {
  const list = (names: readonly string[]) => (names.length === 0 ? '(none)' : names.join(', '));
  const lines: string[] = [];
  const lists = (part: string, changes: readonly ListChange[]) => {
    for (const change of changes) {
      if (change.change === 'added') lines.push(`  + ${part} ${change.name}: ${list(change.added)}`);
      else if (change.change === 'removed') lines.push(`  - ${part} ${change.name}: ${list(change.removed)}`);
      else lines.push(`  ~ ${part} ${change.name}: ${[...change.added.map((name) => `+ ${name}`), ...change.removed.map((name) => `- ${name}`)].join(', ')}`);
    }
  };
  lists('role', diff.roles);
  for (const change of diff.subjects) {
    const grants = (sign: string, grants: Required<SubjectGrants>) => [...grants.roles.map((role) => `${sign} role ${role}`), ...grants.permissions.map((permission) => `${sign} permission ${permission}`)];
    const sign = change.change === 'added' ? '+' : change.change === 'removed' ? '-' : '~';
    lines.push(`  ${sign} subject ${change.subject}: ${[...grants('+', change.added), ...grants('-', change.removed)].join(', ')}`);
  }
  lists('identity role', diff.identityRoles);
  return lines;
}

function listChanges(before: Record<string, string[]>, after: Record<string, string[]>): ListChange[] {
  const changes: ListChange[] = [];
  for (const name of unionOfKeys(before, after)) {
    const had = Object.hasOwn(before, name) ? before[name] : undefined;
    const has = Object.hasOwn(after, name) ? after[name] : undefined;
    if (!had) changes.push({ name, change: 'added', added: [...has!].sort(byCodeUnit), removed: [] });
    else if (!has) changes.push({ name, change: 'removed', added: [], removed: [...had].sort(byCodeUnit) });
    else {
      const added = without(has, had);
      const removed = without(had, has);
      if (added.length + removed.length > 0) changes.push({ name, change: 'changed', added, removed });
    }
  }
  return changes;
}

async function readPolicyFile(file: string): Promise<PolicyFile> {
  const extension = extname(file).toLowerCase();
  const policy = basename(file).slice(0, -extension.length);
  const problem = nameProblem(policy, 'policy');
  if (problem) throw new PolicyFileError(file, `cannot be a policy file: its base name ${JSON.stringify(policy)} is the policy's name, which ${problem}`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new PolicyFileError(file, `cannot be read (${(error as Error).message})`);
  }
  const content = extension === '.json' ? parseJson(file, text) : await parseYaml(file, text);
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new PolicyFileError(file, 'must hold one policy: an object with roles, subjects and identityRoles');
  }
  try {
    return { policy, file, document: checkPolicyDocument(content) };
  } catch (error) {
    if (!(error instanceof InvalidPolicyError)) throw error;
    throw new PolicyFileError(file, error.problem, error.field);
  }
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PolicyFileError(file, `is not valid JSON (${(error as Error).message})`);
  }
}

async function parseYaml(file: string, text: string): Promise<unknown> {
  const yaml = await loadYaml();
  const document = yaml.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const [error] = document.errors;
  if (error) throw new PolicyFileError(file, `is not valid YAML (${error.message.split('\n')[0]})`);
  return document.toJS({ maxAliasCount: 100 });
}

type YamlModule = typeof import('yaml');

async function loadYaml(): Promise<YamlModule> {
  try {
    const yaml = (await import('yaml')) as YamlModule & { default?: YamlModule };
    return yaml.default ?? yaml;
  } catch {
    throw new AuthzConfigurationError('reading YAML policy files needs the `yaml` package, which is not installed.', 'run `npm install yaml`, or write the policy files as JSON.');
  }
}

function isPolicyFileName(name: string): boolean {
  return (POLICY_FILE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

const EMPTY: Document = { roles: {}, subjects: {}, identityRoles: {} };

function grantsOf(document: Document, subject: string): Required<SubjectGrants> {
  const grants = Object.hasOwn(document.subjects, subject) ? document.subjects[subject] : undefined;
  return { roles: grants?.roles ?? [], permissions: grants?.permissions ?? [] };
}

function unionOfKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(byCodeUnit);
}

function without(list: readonly string[], remove: readonly string[]): string[] {
  return list.filter((name) => !remove.includes(name)).sort(byCodeUnit);
}

function sortedEntries<V>(record: Record<string, V>): [string, V][] {
  return Object.entries(record).sort(([a], [b]) => byCodeUnit(a, b));
}

/** Code-unit order, like PostgreSQL's `COLLATE "C"`: the same everywhere, whatever the locale. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
