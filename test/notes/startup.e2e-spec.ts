import './support/notes-test-setup';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { PolicyStore, type AuditEntry } from 'nestjs-authz';
import { startBanner } from '../../apps/notes/src/banner';
import { settingsFromEnv } from '../../apps/notes/src/config/notes-settings';
import { DataDirInUseError } from '../../apps/notes/src/database/data-dir-lock';
import type { PgliteDatabase } from '../../apps/notes/src/database/pglite-database';
import { SQL_DATABASE } from '../../apps/notes/src/database/sql-database';
import { CLI_CLIENT_ID } from '../../apps/notes/src/local-oidc/demo-users';
import { startLocalOidcProvider } from '../../apps/notes/src/local-oidc/local-oidc-provider';
import { stateFileIn } from '../../apps/notes/src/local-oidc/local-oidc-state';
import { requestDemoUserToken } from '../../apps/notes/src/local-oidc/token-request';
import { DEMO_NOTES } from '../../apps/notes/src/notes/demo-notes';
import { startNotes, type RunningNotes } from '../../apps/notes/src/notes-server';
import { runTokenCli } from '../../apps/notes/src/token-cli';
import { FIRST_DATABASE_TIMEOUT_MS, freshDataDir } from '../support/embedded-postgres';
import { freshServerDatabase, TEST_DATABASE_URL } from './support/server-database';

/** `npm run token -- ...args` in-process: its exit code, stdout and stderr. */
async function tokenCommand(env: NodeJS.ProcessEnv, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runTokenCli(args, env, (text) => (stdout += text), (text) => (stderr += text));
  return { code, stdout, stderr };
}

/** A temp directory for runs that never open the embedded database. */
async function emptyDir(): Promise<{ dataDir: string; remove(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'notes-startup-'));
  return { dataDir, remove: () => rm(dataDir, { recursive: true, force: true }) };
}

/** A logger that keeps what the app warns about and fails with. */
function capturingLogger(): LoggerService & { problems: string[] } {
  const problems: string[] = [];
  const keep = (level: string) => (message: unknown) => problems.push(`${level}: ${String(message)}`);
  return { problems, log: () => undefined, error: keep('error'), warn: keep('warn'), fatal: keep('fatal') };
}

/** Who wrote which policies, oldest first: `notes-app put-policy note`. */
/** What the first start writes to policy `note`: the policy, then (same transaction) the owners of the three demo notes. */
const FIRST_START_WRITES = ['notes-app put-policy note', ...DEMO_NOTES.map(() => 'notes-app grant-resource-role note')];
const writers = (entries: AuditEntry[]) => entries.map((entry) => `${entry.actor} ${entry.action} ${entry.policy}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// What `npm start` and `npm run token` do, in-process: settings from the environment, the local provider, the
// API on a real port, the demo data, and a restart on the same DATA_DIR.
describe('npm start and npm run token', () => {
  let data: Awaited<ReturnType<typeof freshDataDir>>;
  let env: NodeJS.ProcessEnv;
  let notes: RunningNotes | undefined;

  const call = async (path: string, user: string, init: RequestInit = {}, scopes: string[] = []) => {
    const token = await tokenCommand(env, user, ...scopes);
    expect(token).toMatchObject({ code: 0, stderr: '' });
    return fetch(`${notes!.apiUrl}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' } });
  };

  beforeAll(async () => {
    data = await freshDataDir();
    env = { DATA_DIR: data.dataDir, PORT: '0', LOCAL_OIDC_PORT: '0' };
    notes = await startNotes(settingsFromEnv(env), { logger: false });
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
    await data?.remove();
  });

  it('should print where the API and the local provider listen, and the next command', () => {
    const banner = startBanner(notes!, 'notes-api');
    expect(banner).toContain(`Notes API              ${notes!.apiUrl}`);
    expect(banner).toContain(`Admin API              ${notes!.apiUrl}/authz   (grants in the policy store; needs scope authz:admin and CanAdminister in policy 'authz')`);
    expect(banner).toContain(`Local OpenID provider  ${notes!.issuer}`);
    expect(banner).toContain(`embedded PostgreSQL (PGlite) in ${data.dataDir}/pglite   (notes, and the policy store in schema 'authz')`);
    expect(banner).toContain('TOKEN=$(npm run --silent token -- susan)');
    expect(banner).toContain(`curl -H "Authorization: Bearer $TOKEN" ${notes!.apiUrl}/notes`);
    expect(banner).toContain('ADMIN=$(npm run --silent token -- carol authz:admin)');
    expect(banner).toContain(`curl -H "Authorization: Bearer $ADMIN" ${notes!.apiUrl}/authz/policies/note`);
  });

  it('should start the store with the policy files, the demo notes\' owners and carol as administrator, each written once and audited', async () => {
    const res = await call('/authz/audit', 'carol', {}, ['authz:admin']);
    expect(res.status).toBe(200);
    expect(writers(((await res.json()) as { entries: AuditEntry[] }).entries)).toEqual([...FIRST_START_WRITES, 'bootstrap put-policy authz']);
  });

  it('should make each demo note\'s owner its owner in the policy: alice may change hers, carol reads hers, nobody else holds a role on them', async () => {
    const store = notes!.app.get(PolicyStore);
    for (const note of DEMO_NOTES) {
      expect((await store.resourceGrants('note', note.id))?.subjects).toEqual({ [note.ownerId]: ['owner'] });
    }
    const changed = await call(`/notes/${DEMO_NOTES[0].id}`, 'alice', { method: 'PATCH', body: JSON.stringify({ title: 'Welcome, again' }) });
    expect(changed.status).toBe(200);
    expect((await call(`/notes/${DEMO_NOTES[2].id}`, 'carol')).status).toBe(200);
    expect((await call(`/notes/${DEMO_NOTES[2].id}`, 'alice', { method: 'PATCH', body: JSON.stringify({ title: 'x' }) })).status).toBe(403);
  });

  it("should seed the demo notes, and show susan's token the confidential one", async () => {
    const res = await call('/notes', 'susan');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: string }[]).map((note) => note.id)).toEqual(DEMO_NOTES.map((note) => note.id));
  });

  it("should answer bob's token 403 with a body naming the missing permission", async () => {
    const res = await call('/notes', 'bob');
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
  });

  it('should keep notes and grants across a restart on the same DATA_DIR, and apply neither demo notes nor policy files again', async () => {
    const created = await call('/notes', 'alice', { method: 'POST', body: JSON.stringify({ title: 'Survives restarts' }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await call(`/notes/${DEMO_NOTES[1].id}`, 'carol', { method: 'DELETE' })).status).toBe(204);
    // A changed grant: alice may moderate now.
    expect((await call('/authz/policies/note/subjects/alice/roles/moderator', 'carol', { method: 'PUT' }, ['authz:admin'])).status).toBe(204);

    await notes!.close();
    expect(existsSync(join(data.dataDir, 'pglite.pid'))).toBe(false);
    notes = await startNotes(settingsFromEnv(env), { logger: false });

    const res = await call('/notes', 'carol');
    const ids = ((await res.json()) as { id: string }[]).map((note) => note.id);
    expect(ids).toEqual([DEMO_NOTES[0].id, DEMO_NOTES[2].id, id]);
    const alice = await call('/authz/policies/note/subjects/alice', 'carol', {}, ['authz:admin']);
    expect(await alice.json()).toMatchObject({ roles: ['moderator', 'writer'] });
    expect((await call(`/notes/${DEMO_NOTES[2].id}`, 'alice')).status).toBe(200);
    const audit = (await (await call('/authz/audit', 'carol', {}, ['authz:admin'])).json()) as { entries: AuditEntry[] };
    // The owners of the demo notes are not granted again: the deleted demo note has no grant, and no new audit entry.
    expect((await notes!.app.get(PolicyStore).resourceGrants('note', DEMO_NOTES[1].id))?.subjects).toEqual({});
    expect(writers(audit.entries)).toEqual([
      ...FIRST_START_WRITES,
      'bootstrap put-policy authz',
      'alice grant-resource-role note',
      'carol delete-resource note',
      'carol grant-role note',
    ]);
  });

  it('should close cleanly: the notes and the policy store let go of the one PGlite instance, which closes with its lock file, without a warning', async () => {
    const logger = capturingLogger();
    const other = await freshDataDir();
    try {
      const app = await startNotes(settingsFromEnv({ DATA_DIR: other.dataDir, PORT: '0', LOCAL_OIDC_PORT: '0' }), { logger });
      const db = app.app.get<PgliteDatabase>(SQL_DATABASE);
      const store = app.app.get(PolicyStore);
      expect(existsSync(join(other.dataDir, 'pglite.pid'))).toBe(true);
      await app.close();
      expect(db.closed).toBe(true);
      expect(existsSync(join(other.dataDir, 'pglite.pid'))).toBe(false);
      // The store let go of the database: it cannot read any more.
      await expect(store.listPolicies()).rejects.toThrow();
      expect(logger.problems).toEqual([]);
    } finally {
      await other.remove();
    }
  });

  it('should refuse to start a second app on a DATA_DIR that a running app holds', async () => {
    const error = await startNotes(settingsFromEnv({ ...env, LOCAL_OIDC_PORT: '0' }), { logger: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as Error).message).toBe(`The embedded database in ${join(data.dataDir, 'pglite')} is in use by process ${process.pid} (the notes app, since ${(error as DataDirInUseError).holder.since}); PGlite can be opened by one process at a time.`);
    expect((await call('/notes', 'susan')).status).toBe(200);
  });

  describe('npm run token', () => {
    it('should print usage and exit 2 without a user, or with one that is not a demo user', async () => {
      expect(await tokenCommand(env)).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('Usage: npm run --silent token -- <user>') });
      expect(await tokenCommand(env, 'mallory')).toMatchObject({ code: 2, stderr: expect.stringContaining("'mallory' is not a demo user") });
    });

    it('should print a token with just the scopes asked for', async () => {
      const { code, stdout } = await tokenCommand(env, 'alice', 'notes:read');
      expect(code).toBe(0);
      const payload = JSON.parse(Buffer.from(stdout.split('.')[1], 'base64url').toString('utf8'));
      expect(payload).toMatchObject({ sub: 'alice', scope: 'notes:read' });
    });

    it('should print a token with the scope authz:admin only when asked for', async () => {
      const scopeOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).scope;
      expect(scopeOf((await tokenCommand(env, 'carol', 'authz:admin')).stdout)).toBe('authz:admin');
      expect(scopeOf((await tokenCommand(env, 'carol')).stdout)).toBe('notes:read notes:write');
    });

    it('should say so when the provider refuses, e.g. an unknown scope', async () => {
      expect(await tokenCommand(env, 'alice', 'notes:admin')).toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('invalid_scope') });
    });

    it('should print a client-credentials token with --client', async () => {
      const { code, stdout } = await tokenCommand(env, '--client');
      expect(code).toBe(0);
      expect(JSON.parse(Buffer.from(stdout.split('.')[1], 'base64url').toString('utf8'))).toMatchObject({ sub: 'notes-service' });
    });

    it('should tell the user to start the app first when no local provider has run with DATA_DIR', async () => {
      const other = await emptyDir();
      try {
        expect(await tokenCommand({ DATA_DIR: other.dataDir }, 'susan')).toMatchObject({ code: 1, stderr: expect.stringContaining('Start the app first: npm start') });
      } finally {
        await other.remove();
      }
    });

    it('should refuse when OIDC_ISSUER points at an external provider', async () => {
      const result = await tokenCommand({ ...env, OIDC_ISSUER: 'https://login.example.com/' }, 'susan');
      expect(result).toMatchObject({ code: 1, stderr: expect.stringContaining('starts no local provider') });
    });
  });

  describe('with OIDC_ISSUER set', () => {
    it('should start no local provider and trust only that issuer, found by discovery', async () => {
      const external = await freshDataDir();
      const idp = await startLocalOidcProvider({ port: 0, audience: 'notes-api', stateFile: stateFileIn(`${external.dataDir}/idp`) });
      const app = await startNotes(settingsFromEnv({ DATA_DIR: external.dataDir, PORT: '0', OIDC_ISSUER: idp.issuer }), { logger: false });
      try {
        expect(app.localProvider).toBeUndefined();
        expect(startBanner(app, 'notes-api')).toContain(`Trusted issuer         ${idp.issuer}`);
        const token = (await requestDemoUserToken(idp.issuer, idp.clientSecrets[CLI_CLIENT_ID], 'susan')).access_token;
        const res = await fetch(`${app.apiUrl}/notes`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        // No demo notes without the local provider, unless SEED_DEMO_NOTES=true.
        expect(await res.json()).toEqual([]);
        const foreign = (await tokenCommand(env, 'susan')).stdout.trim();
        expect((await fetch(`${app.apiUrl}/notes`, { headers: { authorization: `Bearer ${foreign}` } })).status).toBe(401);
      } finally {
        await app.close();
        await idp.close();
        await external.remove();
      }
    });
  });

  describe('when something it needs is unavailable', () => {
    it('should fail to start with the database error, and free the local provider port again', async () => {
      const [oidcPort, closedPort] = [await freePort(), await freePort()];
      const other = await emptyDir();
      try {
        const settings = settingsFromEnv({ DATA_DIR: other.dataDir, PORT: '0', LOCAL_OIDC_PORT: String(oidcPort), DATABASE_URL: `postgres://nobody@127.0.0.1:${closedPort}/notes` });
        await expect(startNotes(settings, { logger: false })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
        const probe = createServer();
        await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(oidcPort, '127.0.0.1', resolve));
        await new Promise((resolve) => probe.close(resolve));
      } finally {
        await other.remove();
      }
    });

    it('should fail to start when the local provider port is taken', async () => {
      const port = Number(new URL(notes!.issuer).port);
      const other = await emptyDir();
      try {
        await expect(startNotes(settingsFromEnv({ DATA_DIR: other.dataDir, PORT: '0', LOCAL_OIDC_PORT: String(port) }), { logger: false })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      } finally {
        await other.remove();
      }
    });
  });
});

// Several instances need a PostgreSQL server: they share the notes and the store, and start together safely.
if (TEST_DATABASE_URL) {
  describe('npm start with DATABASE_URL (TEST_DATABASE_URL)', () => {
    let database: Awaited<ReturnType<typeof freshServerDatabase>>;
    let dataDir: string;

    beforeAll(async () => {
      database = await freshServerDatabase();
      dataDir = await mkdtemp(join(tmpdir(), 'notes-startup-pg-'));
    });

    afterAll(async () => {
      await database?.remove();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('should start three instances together on one database, create the policies once, serve the same grants, and close cleanly', async () => {
      const logger = capturingLogger();
      // One provider for all three, as instances behind one identity provider.
      const idp = await startLocalOidcProvider({ port: 0, audience: 'notes-api', stateFile: stateFileIn(join(dataDir, 'idp')) });
      const env = { DATABASE_URL: database.url, DATA_DIR: dataDir, PORT: '0', OIDC_ISSUER: idp.issuer, AUTHZ_ADMIN_SUBJECTS: 'carol' };
      const instances = await Promise.all([1, 2, 3].map(() => startNotes(settingsFromEnv(env), { logger })));
      try {
        const token = (await requestDemoUserToken(idp.issuer, idp.clientSecrets[CLI_CLIENT_ID], 'carol', ['authz:admin'])).access_token;
        const susan = (await requestDemoUserToken(idp.issuer, idp.clientSecrets[CLI_CLIENT_ID], 'susan')).access_token;
        for (const instance of instances) {
          const audit = (await (await fetch(`${instance.adminUrl}/audit`, { headers: { authorization: `Bearer ${token}` } })).json()) as { entries: AuditEntry[] };
          expect(writers(audit.entries)).toEqual(['notes-app put-policy note', 'bootstrap put-policy authz']);
          expect((await fetch(`${instance.apiUrl}/notes`, { headers: { authorization: `Bearer ${susan}` } })).status).toBe(200);
        }
        expect(instances[0].database).toBe(`PostgreSQL at ${new URL(database.url).host}${new URL(database.url).pathname}`);
      } finally {
        await Promise.all(instances.map((instance) => instance.close()));
        await idp.close();
      }
      expect(logger.problems).toEqual([]);
    });
  });
}
