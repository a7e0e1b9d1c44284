import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import {
  applyPolicyPlan,
  describePlan,
  exportPolicies,
  PgDriver,
  planCounts,
  planPolicies,
  PostgresPolicyStore,
  readPolicyFiles,
  RevisionConflictError,
  type PolicyPlan,
} from 'nestjs-authz';
import { settingsFromEnv, type NotesSettings } from './config/notes-settings';
import { DataDirInUseError } from './database/data-dir-lock';
import { PgliteDatabase, pgliteDirIn } from './database/pglite-database';

export const POLICY_USAGE = `Usage: npm run policy -- plan <file|dir>
       npm run policy -- apply <file|dir>
       npm run policy -- export <dir>
Compares policy files with the notes app's policy store, applies them to it, or writes the store's policies to files.
  plan        show what apply would do; changes nothing
  apply       create and update the files' policies in one transaction (policies only in the store are left alone)
  export      write every policy of the store to <dir>/<policy>.json
  <file|dir>  a policy file (.json, .yaml or .yml; its base name is the policy's name) or a directory of them
The store is the app's: DATABASE_URL when set, else the embedded database in DATA_DIR (default .data), which
only one process can open: stop \`npm start\` first.
Example: npm run policy -- plan apps/notes/policies`;

/** The actor of the audit entries `apply` writes. */
export const POLICY_CLI_ACTOR = 'policy-cli';

const COMMANDS = ['plan', 'apply', 'export'] as const;

export interface PolicyCommand {
  readonly command: (typeof COMMANDS)[number];
  readonly path: string;
}

/** Reads `policy` command arguments; throws a message for the user when they make no sense. */
export function parsePolicyArgs(argv: readonly string[]): PolicyCommand {
  const [command, path, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') throw new Error(POLICY_USAGE);
  if (!(COMMANDS as readonly string[]).includes(command)) throw new Error(`'${command}' is not a command (plan, apply, export).\n${POLICY_USAGE}`);
  if (path === undefined || path === '') throw new Error(`${command} needs ${command === 'export' ? 'a directory' : 'a policy file or a directory'}.\n${POLICY_USAGE}`);
  if (rest.length > 0) throw new Error(`unexpected argument '${rest[0]}'.\n${POLICY_USAGE}`);
  return { command: command as PolicyCommand['command'], path };
}

/** The store, opened the way the notes app opens it, and how to let go of it. */
export interface OpenedStore {
  readonly store: PostgresPolicyStore;
  readonly description: string;
  close(): Promise<void>;
}

/**
 * `npm run policy`: plan, apply or export the notes app's policies. Paths are relative to the directory the command
 * was typed in (npm runs scripts in the repository root and says where it was typed in INIT_CWD). Returns the exit
 * code: 0 done, 1 failed, 2 usage.
 */
export async function runPolicyCli(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (text: string) => void = (text) => process.stdout.write(text),
  err: (text: string) => void = (text) => process.stderr.write(text),
  cwd: string = process.cwd(),
): Promise<number> {
  let args: PolicyCommand;
  try {
    args = parsePolicyArgs(argv);
  } catch (error) {
    err(`${(error as Error).message}\n`);
    return 2;
  }
  let opened: OpenedStore | undefined;
  try {
    const settings = settingsFromEnv(env, cwd);
    const path = resolve(env.INIT_CWD ?? cwd, args.path);
    // Files first: a broken file is reported without touching the database.
    const files = args.command === 'export' ? [] : await readPolicyFiles(path);
    opened = await openPolicyStore(settings);
    out(`Store: ${opened.description}\n`);
    if (args.command === 'export') {
      const written = await exportPolicies(opened.store, path);
      out(written.length === 0 ? `The store holds no policies; nothing was written to ${args.path}.\n` : `Wrote ${count(written.length, 'policy', 'policies')} to ${args.path}: ${written.map((file) => basename(file)).join(', ')}\n`);
      return 0;
    }
    out(files.length === 1 && files[0].file === path ? `File: ${args.path}\n\n` : `Files: ${args.path} (${files.map((file) => basename(file.file)).join(', ')})\n\n`);
    const plan = await planPolicies(opened.store, files);
    out(describePlan(plan));
    out(`\n${summary(plan)}\n`);
    const counts = planCounts(plan);
    if (counts.create + counts.update === 0) {
      out('Nothing to do: the store already holds what the files say.\n');
      return 0;
    }
    if (args.command === 'plan') {
      out(`Nothing was changed. To apply: npm run policy -- apply ${args.path}\n`);
      return 0;
    }
    const result = await applyPolicyPlan(opened.store, plan, { actor: POLICY_CLI_ACTOR });
    const done = [result.created.length > 0 ? `created ${result.created.join(', ')}` : '', result.updated.length > 0 ? `updated ${result.updated.join(', ')}` : ''].filter(Boolean).join('; ');
    out(`Applied in one transaction: ${done} (audited as '${POLICY_CLI_ACTOR}'); store revision ${result.revision}.\n`);
    return 0;
  } catch (error) {
    err(`${failure(error)}\n`);
    return 1;
  } finally {
    await opened?.close();
  }
}

/**
 * The notes app's policy store, for a tool: on DATABASE_URL with a pool of its own; else in the embedded database in
 * DATA_DIR, which must exist (the app creates it) and must not be open in another process (the lock file names this
 * process `command`).
 *
 * @example
 * const { store, close } = await openPolicyStore(settingsFromEnv());
 */
export async function openPolicyStore(settings: NotesSettings, command = 'npm run policy'): Promise<OpenedStore> {
  if (settings.databaseUrl) {
    const driver = await PgDriver.connect(settings.databaseUrl);
    const store = await PostgresPolicyStore.open({ driver }).catch(async (error: unknown) => {
      await driver.close();
      throw error;
    });
    return { store, description: driver.description, close: () => store.close() };
  }
  const dir = pgliteDirIn(settings.dataDir);
  if (!(await stat(dir).then((stats) => stats.isDirectory(), () => false))) {
    throw new Error(`No embedded database in DATA_DIR ${settings.dataDir} (${dir} does not exist). Start the app once (npm start) to create it, or set DATABASE_URL.`);
  }
  let db: PgliteDatabase;
  try {
    db = await PgliteDatabase.open(dir, command);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    throw new Error(
      `${error.message}\n` +
        `  How to fix: stop the app first (Ctrl+C where \`npm start\` runs), or change grants through the running app's admin API (/authz),\n` +
        `  or run the app and this command on a PostgreSQL server (DATABASE_URL). If process ${error.holder.pid} is not running, delete ${error.file}.`,
    );
  }
  try {
    const store = await PostgresPolicyStore.open({ driver: db.storeDriver() });
    return {
      store,
      description: db.description,
      close: async () => {
        await store.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

function summary(plan: PolicyPlan): string {
  const counts = planCounts(plan);
  const leftAlone = counts['left-alone'] > 0 ? `; ${counts['left-alone']} only in the store, left alone` : '';
  return `Plan: ${counts.create} to create, ${counts.update} to update, ${counts.unchanged} unchanged${leftAlone}.`;
}

function failure(error: unknown): string {
  if (error instanceof RevisionConflictError) {
    return `${error.message}.\nNothing was written: policy '${error.policy}' changed while this command ran. Run it again to see the new plan.`;
  }
  return (error as Error)?.message ?? String(error);
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
