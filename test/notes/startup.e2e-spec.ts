import './support/notes-test-setup';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBanner } from '../../apps/notes/src/banner';
import { settingsFromEnv } from '../../apps/notes/src/config/notes-settings';
import { CLI_CLIENT_ID } from '../../apps/notes/src/local-oidc/demo-users';
import { startLocalOidcProvider } from '../../apps/notes/src/local-oidc/local-oidc-provider';
import { stateFileIn } from '../../apps/notes/src/local-oidc/local-oidc-state';
import { requestDemoUserToken } from '../../apps/notes/src/local-oidc/token-request';
import { DEMO_NOTES } from '../../apps/notes/src/notes/demo-notes';
import { startNotes, type RunningNotes } from '../../apps/notes/src/notes-server';
import { runTokenCli } from '../../apps/notes/src/token-cli';
import { FIRST_DATABASE_TIMEOUT_MS, freshDataDir } from '../support/embedded-postgres';

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

  const call = async (path: string, user: string, init: RequestInit = {}) => {
    const token = await tokenCommand(env, user);
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
    expect(banner).toContain(`Local OpenID provider  ${notes!.issuer}`);
    expect(banner).toContain(`embedded PostgreSQL (PGlite) in ${data.dataDir}/pglite`);
    expect(banner).toContain('TOKEN=$(npm run --silent token -- susan)');
    expect(banner).toContain(`curl -H "Authorization: Bearer $TOKEN" ${notes!.apiUrl}/notes`);
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

  it('should keep notes across a restart on the same DATA_DIR, and not seed deleted demo notes again', async () => {
    const created = await call('/notes', 'alice', { method: 'POST', body: JSON.stringify({ title: 'Survives restarts' }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect((await call(`/notes/${DEMO_NOTES[1].id}`, 'carol', { method: 'DELETE' })).status).toBe(204);

    await notes!.close();
    notes = await startNotes(settingsFromEnv(env), { logger: false });

    const res = await call('/notes', 'carol');
    const ids = ((await res.json()) as { id: string }[]).map((note) => note.id);
    expect(ids).toEqual([DEMO_NOTES[0].id, DEMO_NOTES[2].id, id]);
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
