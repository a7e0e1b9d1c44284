import './support/notes-test-setup';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PolicyStore } from 'nestjs-authz';
import { NOTES_POLICY_DIR } from '../../apps/notes/src/authz/notes-policy-store';
import { settingsFromEnv } from '../../apps/notes/src/config/notes-settings';
import { CLI_CLIENT_ID } from '../../apps/notes/src/local-oidc/demo-users';
import { requestDemoUserToken } from '../../apps/notes/src/local-oidc/token-request';
import { DEMO_NOTES } from '../../apps/notes/src/notes/demo-notes';
import { startNotes, type RunningNotes } from '../../apps/notes/src/notes-server';
import { openPolicyStore, POLICY_USAGE, runPolicyCli } from '../../apps/notes/src/policy-cli';
import { FIRST_DATABASE_TIMEOUT_MS, freshDataDir } from '../support/embedded-postgres';
import { freshServerDatabase, TEST_DATABASE_URL } from './support/server-database';

const ROOT = resolve(__dirname, '..', '..');

/** `npm run policy -- ...args` in-process, from the repository root: its exit code, stdout and stderr. */
async function policyCommand(env: NodeJS.ProcessEnv, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runPolicyCli(args, env, (text) => (stdout += text), (text) => (stderr += text), ROOT);
  return { code, stdout, stderr };
}

/** The note policy as a YAML file, with bob made a reader. */
const NOTE_WITH_BOB = `# bob may read now
roles:
  reader: [CanRead]
  writer: [CanRead, CanWrite]
  moderator: [CanRead, CanReadConfidentialNotes, CanWrite, CanEdit, CanDelete, CanShare]
  owner: [CanRead, CanReadConfidentialNotes, CanEdit, CanDelete, CanShare]
  shared-reader: [CanRead, CanReadConfidentialNotes]
  shared-editor: [CanRead, CanReadConfidentialNotes, CanEdit]
subjects:
  susan: { roles: [reader], permissions: [CanReadConfidentialNotes] }
  alice: { roles: [writer] }
  bob: { roles: [reader] }
identityRoles:
  notes-admin: [moderator]
`;

interface Backend {
  /** The environment of `npm start` and `npm run policy`. */
  readonly env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

async function embedded(): Promise<Backend> {
  const data = await freshDataDir();
  return { env: { DATA_DIR: data.dataDir, PORT: '0', LOCAL_OIDC_PORT: '0' }, remove: data.remove };
}

async function server(): Promise<Backend> {
  const database = await freshServerDatabase();
  const dataDir = await mkdtemp(join(tmpdir(), 'notes-policy-cli-'));
  return {
    env: { DATABASE_URL: database.url, DATA_DIR: dataDir, PORT: '0', LOCAL_OIDC_PORT: '0' },
    remove: async () => {
      await database.remove();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const backends: [string, () => Promise<Backend>][] = [['the embedded database (PGlite)', embedded]];
if (TEST_DATABASE_URL) backends.push(['a PostgreSQL server (TEST_DATABASE_URL)', server]);

// plan / apply / export against the store the notes app uses, after a first `npm start` created it.
describe.each(backends)('npm run policy on %s', (_name, open) => {
  let backend: Backend;
  let work: string;

  /** The store's audit entries, read the way the command opens the store. */
  const auditOf = async (policy: string) => {
    const opened = await openPolicyStore(settingsFromEnv(backend.env, ROOT), 'test');
    try {
      return await opened.store.audit({ policy, limit: 100 });
    } finally {
      await opened.close();
    }
  };

  beforeAll(async () => {
    backend = await open();
    work = await mkdtemp(join(tmpdir(), 'notes-policy-files-'));
    // The first start creates policy note from apps/notes/policies, and policy authz with carol.
    const notes = await startNotes(settingsFromEnv(backend.env, ROOT), { logger: false });
    await notes.close();
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await backend?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("should plan the app's own policy files as unchanged, name the store's other policy left alone, and exit 0", async () => {
    const result = await policyCommand(backend.env, 'plan', 'apps/notes/policies');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('Files: apps/notes/policies (note.json)\n');
    expect(result.stdout).toMatch(/authz: not in the files, left alone \(store revision \d+\)\nnote: unchanged \(store revision \d+\)\n/);
    expect(result.stdout).toContain('Plan: 0 to create, 0 to update, 1 unchanged; 1 only in the store, left alone.\nNothing to do: the store already holds what the files say.\n');
  });

  it('should export every policy so that a plan right afterwards has nothing to do; note.json as in the repository', async () => {
    const dir = join(work, 'export');
    const exported = await policyCommand(backend.env, 'export', dir);
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    expect(exported.stdout).toContain(`Wrote 2 policies to ${dir}: authz.json, note.json\n`);
    expect(await readFile(join(dir, 'note.json'), 'utf8')).toBe(await readFile(join(NOTES_POLICY_DIR, 'note.json'), 'utf8'));
    expect(JSON.parse(await readFile(join(dir, 'authz.json'), 'utf8'))).toEqual({ roles: { administrator: ['CanAdminister'] }, subjects: { carol: { roles: ['administrator'] } }, identityRoles: {} });
    const plan = await policyCommand(backend.env, 'plan', dir);
    expect(plan.stdout).toContain('Plan: 0 to create, 0 to update, 2 unchanged.\nNothing to do');
  });

  // One command per step, in order: each opens the store, which takes a moment on PGlite.
  describe('when a file changes a grant', () => {
    const diff = /note: update \(store revision \d+\)\n {2}\+ subject bob: \+ role reader\n/;
    let file: string;

    beforeAll(async () => {
      file = join(work, 'note.yaml');
      await writeFile(file, NOTE_WITH_BOB);
    });

    it('should show the change in plan, and make none', async () => {
      const plan = await policyCommand(backend.env, 'plan', file);
      expect(plan).toMatchObject({ code: 0, stderr: '' });
      expect(plan.stdout).toMatch(diff);
      expect(plan.stdout).toContain(`Nothing was changed. To apply: npm run policy -- apply ${file}\n`);
    });

    it('should apply the same change in one audited transaction', async () => {
      const apply = await policyCommand(backend.env, 'apply', file);
      expect(apply).toMatchObject({ code: 0, stderr: '' });
      // Still the whole diff: the plan before did not write it.
      expect(apply.stdout).toMatch(diff);
      expect(apply.stdout).toMatch(/Applied in one transaction: updated note \(audited as 'policy-cli'\); store revision \d+\.\n$/);
      expect((await auditOf('note')).at(-1)).toMatchObject({ actor: 'policy-cli', action: 'put-policy', policy: 'note', after: { subjects: { bob: { roles: ['reader'], permissions: [] } } } });
    });

    it('should have nothing to do when applied again, and go back with the repository file', async () => {
      expect((await policyCommand(backend.env, 'apply', file)).stdout).toContain('Nothing to do');
      expect((await policyCommand(backend.env, 'apply', 'apps/notes/policies')).stdout).toContain('  - subject bob: - role reader\n');
    });
  });

  it('should read paths relative to where the command was typed (INIT_CWD), as npm runs scripts in the repository root', async () => {
    const result = await policyCommand({ ...backend.env, INIT_CWD: join(ROOT, 'apps', 'notes') }, 'plan', 'policies');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain('note: unchanged');
  });

  it('should refuse a broken file with exit 1, naming the file and the field, and apply none of the files', async () => {
    const dir = join(work, 'broken');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'note.yaml'), NOTE_WITH_BOB);
    await writeFile(join(dir, 'extra.json'), JSON.stringify({ roles: { reader: ['CanRead'] }, subjects: { bob: { roles: ['admin'] } } }));
    const result = await policyCommand(backend.env, 'apply', dir);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `${join(dir, 'extra.json')}: subjects.bob.roles[0] refers to role 'admin', which \`roles\` does not define\n` });
    expect((await policyCommand(backend.env, 'plan', 'apps/notes/policies')).stdout).toContain('note: unchanged');
  });

  it('should exit 1 with a message for a path that does not exist', async () => {
    expect(await policyCommand(backend.env, 'plan', 'no/such/dir')).toEqual({ code: 1, stdout: '', stderr: `${join(ROOT, 'no/such/dir')}: does not exist\n` });
  });

  it('should exit 2 with the usage for arguments that make no sense', async () => {
    expect(await policyCommand(backend.env)).toEqual({ code: 2, stdout: '', stderr: `${POLICY_USAGE}\n` });
    expect(await policyCommand(backend.env, 'sync', 'x')).toMatchObject({ code: 2, stderr: expect.stringContaining("'sync' is not a command") });
  });
});

describe('npm run policy on the embedded database, which one process opens at a time', () => {
  let data: Awaited<ReturnType<typeof freshDataDir>>;
  let env: NodeJS.ProcessEnv;
  let notes: RunningNotes | undefined;

  beforeAll(async () => {
    data = await freshDataDir();
    env = { DATA_DIR: data.dataDir, PORT: '0', LOCAL_OIDC_PORT: '0' };
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterEach(async () => {
    await notes?.close();
    notes = undefined;
  });

  afterAll(async () => {
    await data?.remove();
  });

  it('should refuse to open the data directory while `npm start` holds it, say what to do, and leave the app serving', async () => {
    notes = await startNotes(settingsFromEnv(env, ROOT), { logger: false });
    const result = await policyCommand(env, 'plan', 'apps/notes/policies');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`The embedded database in ${join(data.dataDir, 'pglite')} is in use by process ${process.pid} (the notes app, since `);
    expect(result.stderr).toContain("How to fix: stop the app first (Ctrl+C where `npm start` runs), or change grants through the running app's admin API (/authz)");
    expect(result.stderr).toContain('(DATABASE_URL)');
    expect((await fetch(`${notes.apiUrl}/health`)).status).toBe(200);
    const token = (await requestDemoUserToken(notes.issuer, notes.localProvider!.clientSecrets[CLI_CLIENT_ID], 'susan')).access_token;
    expect((await fetch(`${notes.apiUrl}/notes`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    await notes.close();
    notes = undefined;
    // Given back: the next tests open it.
    expect(existsSync(join(data.dataDir, 'pglite.pid'))).toBe(false);
  });

  it('should take over the lock file of a process that is gone (a killed app)', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await writeFile(join(data.dataDir, 'pglite.pid'), JSON.stringify({ pid: gone, command: 'the notes app', since: '2020-01-01T00:00:00.000Z' }));
    const result = await policyCommand(env, 'plan', 'apps/notes/policies');
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(join(data.dataDir, 'pglite.pid'))).toBe(false);
  });

  it('should keep `npm start` from opening the data directory while another process holds it', async () => {
    const opened = await openPolicyStore(settingsFromEnv(env, ROOT), 'npm run policy');
    try {
      await expect(startNotes(settingsFromEnv(env, ROOT), { logger: false })).rejects.toThrow(`is in use by process ${process.pid} (npm run policy, since`);
    } finally {
      await opened.close();
    }
  });

  it('should not create a database: without one in DATA_DIR it says to start the app first', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'notes-policy-empty-'));
    try {
      const result = await policyCommand({ DATA_DIR: empty }, 'export', join(empty, 'out'));
      expect(result).toEqual({ code: 1, stdout: '', stderr: `No embedded database in DATA_DIR ${empty} (${join(empty, 'pglite')} does not exist). Start the app once (npm start) to create it, or set DATABASE_URL.\n` });
      expect(existsSync(join(empty, 'pglite'))).toBe(false);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

// With a server, several processes share the store: the command runs beside `npm start`, whose next request
// follows (the change reaches the app's store through LISTEN/NOTIFY).
if (TEST_DATABASE_URL) describe('npm run policy beside a running app on a PostgreSQL server (TEST_DATABASE_URL)', () => {
  let backend: Backend;
  let notes: RunningNotes;
  let work: string;

  beforeAll(async () => {
    backend = await server();
    work = await mkdtemp(join(tmpdir(), 'notes-policy-files-'));
    notes = await startNotes(settingsFromEnv(backend.env, ROOT), { logger: false });
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
    await backend?.remove();
    await rm(work, { recursive: true, force: true });
  });

  it("should apply while the app runs, and the app's next request follows", async () => {
    const token = (await requestDemoUserToken(notes.issuer, notes.localProvider!.clientSecrets[CLI_CLIENT_ID], 'susan')).access_token;
    const listed = async () => ((await (await fetch(`${notes.apiUrl}/notes`, { headers: { authorization: `Bearer ${token}` } })).json()) as { id: string }[]).map((note) => note.id);
    expect(await listed()).toContain(DEMO_NOTES[2].id);

    const note = JSON.parse(await readFile(join(NOTES_POLICY_DIR, 'note.json'), 'utf8'));
    delete note.subjects.susan.permissions;
    await writeFile(join(work, 'note.json'), JSON.stringify(note));
    const heard = new Promise<void>((resolve) => notes.app.get(PolicyStore).onChange((change) => change.policy === 'note' && resolve()));
    const result = await policyCommand(backend.env, 'apply', join(work, 'note.json'));
    expect(result.stdout).toContain('  ~ subject susan: - permission CanReadConfidentialNotes\n');
    expect(result.code).toBe(0);
    await heard;
    expect(await listed()).not.toContain(DEMO_NOTES[2].id);
  });
});
