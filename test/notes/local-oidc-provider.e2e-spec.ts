import './support/notes-test-setup';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_CLIENT_ID, DEMO_USER_GRANT, SERVICE_CLIENT_ID } from '../../apps/notes/src/local-oidc/demo-users';
import { startLocalOidcProvider, type LocalOidcProvider } from '../../apps/notes/src/local-oidc/local-oidc-provider';
import { stateFileIn } from '../../apps/notes/src/local-oidc/local-oidc-state';
import { requestClientCredentialsToken, requestDemoUserToken } from '../../apps/notes/src/local-oidc/token-request';

type Jwk = { kid: string; kty: string; n: string; e: string };
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Header and payload of a token, after checking its RS256 signature against the provider's published JWKS. */
async function verified(idp: LocalOidcProvider, token: string): Promise<{ header: Record<string, unknown>; payload: Record<string, unknown> }> {
  const [header, payload, signature] = token.split('.');
  const { keys } = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: Jwk[] };
  const jwk = keys.find((key) => key.kid === decode(header).kid);
  if (!jwk) throw new Error('no published key matches the token kid');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  if (!verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'))) throw new Error('bad signature');
  return { header: decode(header), payload: decode(payload) };
}

// The local development provider is real oidc-provider: these tests talk to it over HTTP on 127.0.0.1.
describe('Local OpenID provider (oidc-provider)', () => {
  let dataDir: string;
  let idp: LocalOidcProvider;
  const userToken = (user: string, scopes?: string[], secret = idp.clientSecrets[CLI_CLIENT_ID]) => requestDemoUserToken(idp.issuer, secret, user, scopes);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'notes-oidc-'));
    idp = await startLocalOidcProvider({ port: 0, audience: 'notes-api', stateFile: stateFileIn(dataDir) });
  });

  afterAll(async () => {
    await idp?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('should publish a discovery document for its issuer with both grants', async () => {
    const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { grant_types_supported: string[] };
    expect(discovery).toMatchObject({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/jwks` });
    expect(discovery.grant_types_supported).toEqual(expect.arrayContaining([DEMO_USER_GRANT, 'client_credentials']));
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('should issue susan an RS256 at+jwt access token for notes-api with both scopes and no permission or role claims', async () => {
    const response = await userToken('susan');
    expect(response).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'notes:read notes:write' });
    const { header, payload } = await verified(idp, response.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toEqual({
      iss: idp.issuer,
      aud: 'notes-api',
      sub: 'susan',
      client_id: CLI_CLIENT_ID,
      scope: 'notes:read notes:write',
      jti: expect.any(String),
      iat: expect.any(Number),
      exp: (payload.iat as number) + 3600,
    });
  });

  it("should put carol's identity role in a top-level roles claim", async () => {
    const { payload } = await verified(idp, (await userToken('carol')).access_token);
    expect(payload).toMatchObject({ sub: 'carol', roles: ['notes-admin'] });
  });

  it('should grant only the scopes asked for', async () => {
    const response = await userToken('alice', ['notes:read']);
    expect(response.scope).toBe('notes:read');
    expect((await verified(idp, response.access_token)).payload.scope).toBe('notes:read');
  });

  it('should grant the admin API scope authz:admin only when asked for, with or without the notes scopes', async () => {
    const admin = await userToken('carol', ['authz:admin']);
    expect(admin.scope).toBe('authz:admin');
    expect((await verified(idp, admin.access_token)).payload).toMatchObject({ sub: 'carol', scope: 'authz:admin', roles: ['notes-admin'] });
    expect((await userToken('carol', ['notes:read', 'authz:admin'])).scope).toBe('notes:read authz:admin');
    expect((await userToken('carol')).scope).toBe('notes:read notes:write');
  });

  it('should not give the notes-service client the scope authz:admin', async () => {
    await expect(requestClientCredentialsToken(idp.issuer, idp.clientSecrets[SERVICE_CLIENT_ID], ['authz:admin'])).rejects.toMatchObject({ name: 'TokenRequestError', error: 'invalid_scope' });
  });

  it.each([
    ['a scope the notes API does not have', () => userToken('alice', ['notes:admin']), 'invalid_scope'],
    ['a user who is not a demo user', () => userToken('mallory'), 'invalid_grant'],
    ['a wrong client secret', () => userToken('alice', [], 'not-the-secret'), 'invalid_client'],
  ])('should refuse %s', async (_case, request, error) => {
    await expect(request()).rejects.toMatchObject({ name: 'TokenRequestError', error });
  });

  it('should not let the service client use the demo-user grant', async () => {
    const res = await fetch(`${idp.issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT_ID}:${idp.clientSecrets[SERVICE_CLIENT_ID]}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: DEMO_USER_GRANT, username: 'susan' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
  });

  it('should issue the notes-service client a client-credentials token whose subject is the client', async () => {
    const { payload } = await verified(idp, (await requestClientCredentialsToken(idp.issuer, idp.clientSecrets[SERVICE_CLIENT_ID])).access_token);
    expect(payload).toMatchObject({ iss: idp.issuer, aud: 'notes-api', sub: SERVICE_CLIENT_ID, client_id: SERVICE_CLIENT_ID, scope: 'notes:read notes:write' });
    expect(payload.roles).toBeUndefined();
  });

  it('should keep its signing key and secrets in DATA_DIR, readable by the owner only, so tokens outlive a restart', async () => {
    const token = (await userToken('alice')).access_token;
    expect((await stat(stateFileIn(dataDir))).mode & 0o777).toBe(0o600);
    const port = Number(new URL(idp.issuer).port);
    await idp.close();
    idp = await startLocalOidcProvider({ port, audience: 'notes-api', stateFile: stateFileIn(dataDir) });
    await expect(verified(idp, token)).resolves.toMatchObject({ payload: { sub: 'alice' } });
    expect((await userToken('alice')).access_token).not.toBe(token);
  });
});
