import './support/notes-test-setup';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CONSOLE_CLIENT_ID, CONSOLE_SCOPES, consoleRedirectUri, DEMO_USER_NAMES } from '../../apps/notes/src/local-oidc/demo-users';
import { FIRST_DATABASE_TIMEOUT_MS } from '../support/embedded-postgres';
import { startNotesHarness, type NotesHarness } from './support/notes-harness';

type Jwk = { kid: string; kty: string; n: string; e: string };
const decode = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** A browser's cookies for the provider, by name (all sent on every request: the paths do not matter here). */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** PKCE (RFC 7636): a verifier and its S256 challenge. */
function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

// The console's sign-in (authorization code flow with PKCE, public client) against the real local provider and its
// login page, driven over HTTP as a browser would, without a browser; the token then goes to the notes API.
describe('Local OpenID provider: login page and the console client', () => {
  let notes: NotesHarness;
  let issuer: string;
  /** The API's origin (it listens on a random port) and the console's redirect URI there. */
  let apiOrigin: string;
  let redirectUri: string;

  beforeAll(async () => {
    notes = await startNotesHarness();
    issuer = notes.idp.issuer;
    await notes.app.listen(0, '127.0.0.1');
    apiOrigin = `http://127.0.0.1:${(notes.app.getHttpServer().address() as AddressInfo).port}`;
    redirectUri = consoleRedirectUri(apiOrigin);
  }, FIRST_DATABASE_TIMEOUT_MS);

  afterAll(async () => {
    await notes?.close();
  });

  /** A browser tab: its cookies, and requests to the provider that do not follow redirects. */
  const browser = () => {
    const jar = new CookieJar();
    const go = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(new URL(url, issuer), { ...init, redirect: 'manual', headers: { cookie: jar.header(), ...init.headers } });
      jar.take(response);
      return response;
    };
    return { go, submit: (url: string, form: Record<string, string>) => go(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) }) };
  };

  const authorizationUrl = (params: Record<string, string>) =>
    `${issuer}/auth?${new URLSearchParams({ client_id: CONSOLE_CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope: CONSOLE_SCOPES.join(' '), ...params })}`;

  /** Starts a sign-in: the authorization request, answered with a redirect to the login page. */
  async function startSignIn(params: Record<string, string> = {}, tab = browser()) {
    const { verifier, challenge } = pkce();
    const state = randomBytes(16).toString('base64url');
    const authorization = await tab.go(authorizationUrl({ state, code_challenge: challenge, code_challenge_method: 'S256', ...params }));
    expect(authorization.status).toBe(303);
    const loginPage = authorization.headers.get('location')!;
    expect(loginPage).toMatch(/^\/interaction\/[\w-]+$/);
    return { tab, verifier, state, loginPage };
  }

  /** Signs `user` in at the login page and follows the redirects back to the console: the authorization response. */
  async function signIn(user: string, tab = browser()) {
    const flow = await startSignIn({}, tab);
    const posted = await flow.tab.submit(flow.loginPage, { user });
    expect(posted.status).toBe(303);
    let resumed = await flow.tab.go(posted.headers.get('location')!);
    if (resumed.status === 200) {
      // Another user than the session's: oidc-provider first ends the old session with a self-submitting form
      // (a "Continue" button without JavaScript), then resumes the authorization.
      const html = await resumed.text();
      const action = /<form method="post" action="([^"]+)">/.exec(html)![1];
      const inputs = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map(([, name, value]) => [name, value]));
      const loggedOut = await flow.tab.submit(action, inputs);
      expect(loggedOut.status).toBe(303);
      resumed = await flow.tab.go(loggedOut.headers.get('location')!);
    }
    expect(resumed.status).toBe(303);
    const callback = new URL(resumed.headers.get('location')!);
    return { ...flow, callback, code: callback.searchParams.get('code')! };
  }

  const tokenRequest = (params: Record<string, string>, origin = apiOrigin) =>
    fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: CONSOLE_CLIENT_ID, redirect_uri: redirectUri, ...params }),
    });

  async function verified(token: string): Promise<{ header: Record<string, unknown>; payload: Record<string, unknown> }> {
    const [header, payload, signature] = token.split('.');
    const { keys } = (await (await fetch(`${issuer}/jwks`)).json()) as { keys: Jwk[] };
    const jwk = keys.find((key) => key.kid === decode(header).kid);
    if (!jwk) throw new Error('no published key matches the token kid');
    if (!verify('sha256', Buffer.from(`${header}.${payload}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(signature, 'base64url'))) throw new Error('bad signature');
    return { header: decode(header), payload: decode(payload) };
  }

  it('should show an accessible login form that lists the demo users, each with a label', async () => {
    const { tab, loginPage } = await startSignIn();
    const page = await tab.go(loginPage);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain(`<form method="post" action="${loginPage}">`);
    expect(html).toContain('<legend>Demo user</legend>');
    for (const user of DEMO_USER_NAMES) {
      expect(html).toContain(`<input type="radio" id="user-${user}" name="user" value="${user}" required>`);
      expect(html).toMatch(new RegExp(`<label for="user-${user}">${user}[ <]`));
    }
    expect(html.match(/<button/g)).toHaveLength(1);
    expect(html).toContain('<button type="submit">Sign in</button>');
    expect(html).toMatch(/development OpenID provider/);
    expect(html).not.toMatch(/<script/i);
  });

  it("should sign carol in, redirect to the console with code and state, and issue an at+jwt for the notes API on the console's origin", async () => {
    const { callback, state, verifier, code } = await signIn('carol');
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(issuer);
    expect(code).toEqual(expect.any(String));

    const response = await tokenRequest({ code, code_verifier: verifier });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(apiOrigin);
    const body = (await response.json()) as { access_token: string; id_token: string; token_type: string; scope: string; expires_in: number; refresh_token?: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, id_token: expect.any(String) });
    expect(body.refresh_token).toBeUndefined();
    expect(body.scope.split(' ').sort()).toEqual(['authz:admin', 'notes:read', 'notes:write']);

    const { header, payload } = await verified(body.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: issuer, aud: 'notes-api', sub: 'carol', client_id: CONSOLE_CLIENT_ID, roles: ['notes-admin'] });
    expect((payload.scope as string).split(' ').sort()).toEqual(['authz:admin', 'notes:read', 'notes:write']);

    // carol is the first administrator of the notes app: the admin API takes the console's token.
    const policies = await fetch(`${apiOrigin}/authz/policies`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(policies.status).toBe(200);
    expect(((await policies.json()) as { policies: { name: string }[] }).policies.map((policy) => policy.name)).toEqual(['authz', 'note']);
    // A code is good once.
    expect((await tokenRequest({ code, code_verifier: verifier })).status).toBe(400);
  });

  it('should give bob a valid token too, which the admin API refuses (403: bob is no administrator)', async () => {
    const { code, verifier } = await signIn('bob');
    const { access_token } = (await (await tokenRequest({ code, code_verifier: verifier })).json()) as { access_token: string };
    expect((await verified(access_token)).payload).toMatchObject({ sub: 'bob', aud: 'notes-api', client_id: CONSOLE_CLIENT_ID });
    expect((await verified(access_token)).payload.roles).toBeUndefined();
    const policies = (token: string) => fetch(`${apiOrigin}/authz/policies`, { headers: { authorization: `Bearer ${token}` } });
    // Authenticated (not 401), but not an administrator.
    expect((await policies(access_token)).status).toBe(403);
    expect((await policies(`${access_token.slice(0, -4)}AAAA`)).status).toBe(401);
  });

  it('should show the login page on every sign-in of the console, so the same browser can switch to another demo user', async () => {
    const tab = browser();
    // The console exchanges its code at once: a code is bound to the browser's session, which the next user's sign-in ends.
    const signedIn = async (user: string) => {
      const { code, verifier } = await signIn(user, tab);
      const response = await tokenRequest({ code, code_verifier: verifier });
      expect(response.status).toBe(200);
      return (await verified(((await response.json()) as { access_token: string }).access_token)).payload.sub;
    };
    expect(await signedIn('carol')).toBe('carol');
    expect(await signedIn('carol')).toBe('carol');
    expect(await signedIn('bob')).toBe('bob');
  });

  it('should show the form again with an error (400) for a user who is not a demo user, and still accept a demo user after', async () => {
    const { tab, loginPage } = await startSignIn();
    const refused = await tab.submit(loginPage, { user: 'mallory' });
    expect(refused.status).toBe(400);
    const html = await refused.text();
    expect(html).toContain('<p id="error" class="error" role="alert">mallory is not a demo user.');
    expect(html).toContain('<fieldset aria-describedby="error">');
    expect(html).toContain('<label for="user-carol">');
    expect((await tab.submit(loginPage, {})).status).toBe(400);
    expect((await tab.submit(loginPage, { user: '<script>' })).status).toBe(400);
    expect(await (await tab.submit(loginPage, { user: '<b>x</b>' })).text()).toContain('&lt;b&gt;x&lt;/b&gt; is not a demo user');

    const accepted = await tab.submit(loginPage, { user: 'alice' });
    expect(accepted.status).toBe(303);
  });

  it('should not serve or accept a sign-in without its interaction cookie, for another uid, or posted from another origin', async () => {
    const { tab, loginPage } = await startSignIn();
    const stranger = browser();
    expect((await stranger.go(loginPage)).status).toBe(400);
    expect((await stranger.submit(loginPage, { user: 'carol' })).status).toBe(400);
    expect((await tab.go('/interaction/not-this-one')).status).toBe(400);
    expect((await tab.go(`${loginPage}/deeper`)).status).toBe(404);
    const crossSite = await tab.go(loginPage, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://evil.example' }, body: 'user=carol' });
    expect(crossSite.status).toBe(403);
    expect((await tab.go(loginPage, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"carol"}' })).status).toBe(415);
  });

  it('should refuse a token request without the code verifier, or with a wrong one', async () => {
    const { code, verifier } = await signIn('carol');
    const missing = await tokenRequest({ code });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'invalid_grant' });
    const wrong = await tokenRequest({ code, code_verifier: pkce().verifier });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    // The code was not spent by the failed attempts.
    expect((await tokenRequest({ code, code_verifier: verifier })).status).toBe(200);
  });

  it('should require PKCE with S256 for the console', async () => {
    const tab = browser();
    const withoutS256: Record<string, string>[] = [{}, { code_challenge: pkce().challenge, code_challenge_method: 'plain' }];
    for (const params of withoutS256) {
      const response = await tab.go(authorizationUrl({ state: 'x', ...params }));
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
      expect(location.searchParams.get('error')).toBe('invalid_request');
    }
  });

  it.each([
    ['another path on the API', () => `${apiOrigin}/notes`],
    ['another host', () => 'http://evil.example/authz/console/'],
    ['https on a loopback host', () => `https://127.0.0.1:${new URL(apiOrigin).port}/authz/console/`],
  ])('should refuse a redirect URI that is not the console: %s', async (_case, uri) => {
    const response = await browser().go(authorizationUrl({ redirect_uri: uri(), code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('redirect_uri did not match any of the client&#39;s registered redirect_uris');
  });

  it("should accept the console's redirect URI on any loopback port (the API's port is known only at start)", async () => {
    const response = await browser().go(
      authorizationUrl({ redirect_uri: consoleRedirectUri('http://localhost:45678'), state: 's', code_challenge: pkce().challenge, code_challenge_method: 'S256' }),
    );
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/interaction\//);
  });

  it("should allow the console's origin on discovery, JWKS and the token endpoint (CORS), and no other origin on the token endpoint", async () => {
    const discovery = await fetch(`${issuer}/.well-known/openid-configuration`, { headers: { origin: apiOrigin } });
    expect(discovery.headers.get('access-control-allow-origin')).toBe(apiOrigin);
    const document = (await discovery.json()) as Record<string, unknown>;
    expect(document).toMatchObject({ authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, code_challenge_methods_supported: ['S256'] });
    expect((await fetch(`${issuer}/jwks`, { headers: { origin: apiOrigin } })).headers.get('access-control-allow-origin')).toBe(apiOrigin);

    const preflight = await fetch(`${issuer}/token`, { method: 'OPTIONS', headers: { origin: apiOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(apiOrigin);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const { code, verifier } = await signIn('alice');
    const foreign = await tokenRequest({ code, code_verifier: verifier }, 'http://evil.example');
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(await foreign.json()).toMatchObject({ error: 'invalid_request', error_description: `origin http://evil.example not allowed for client: ${CONSOLE_CLIENT_ID}` });
  });
});
