import type { INestApplication, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { AuthzGuard, AuthzModule, PolicyService, type AuthzIdentity, type AuthzModuleOptions } from 'nestjs-authz';
import { ADAPTERS, createApp, type Adapter } from './support/app';
import { JwksServer } from './support/jwks-server';
import { claims, makeKey, signJws } from './support/signing';
import { AdminFixtureController, FixtureController, fixturePolicies } from './fixtures/notes-fixture.controller';

const AUDIENCE = 'notes-api';
const key = makeKey('key-1');
const otherKey = makeKey('key-1');

/**
 * Starts a JWKS server on 127.0.0.1 and an app guarded by AuthzGuard for one suite (beforeAll/afterAll), with
 * module options built from the server's issuer and JWKS URL.
 */
function useGuardedApp(adapter: Adapter, options: (jwks: JwksServer) => AuthzModuleOptions, controllers: Type[] = [FixtureController]) {
  const ctx = {} as { jwks: JwksServer; app: INestApplication; signed(overrides?: Record<string, unknown>): string };
  ctx.signed = (overrides = {}) => signJws({ alg: 'RS256', kid: key.kid }, claims(ctx.jwks.issuer, AUDIENCE, overrides), key.privateKey);
  beforeAll(async () => {
    ctx.jwks = await new JwksServer().start();
    ctx.jwks.keys = [key.jwk];
    ctx.app = await createApp(adapter, {
      imports: [AuthzModule.forRoot(options(ctx.jwks))],
      controllers,
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
    });
  });
  afterAll(async () => {
    await ctx.app?.close();
    await ctx.jwks.stop();
  });
  return ctx;
}

describe.each(ADAPTERS)('AuthzGuard over HTTP (%s)', (adapter) => {
  const ctx = useGuardedApp(adapter, (jwks) => ({ issuer: jwks.issuer, audience: AUDIENCE, defaultPolicy: 'note', policies: fixturePolicies }), [
    FixtureController,
    AdminFixtureController,
  ]);
  const token = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
    signJws({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...header }, claims(ctx.jwks.issuer, AUDIENCE, overrides), key.privateKey);
  const get = (path: string) => request(ctx.app.getHttpServer()).get(path);

  describe('when the route is public', () => {
    it('should answer without a token', async () => {
      await get('/public').expect(200, { ok: true });
    });

    it('should not look at a broken token', async () => {
      await get('/public').set('Authorization', 'Bearer not-a-token').expect(200);
    });
  });

  describe('when no credentials are sent', () => {
    it('should answer 401 with a challenge and no error code', async () => {
      const res = await get('/authenticated').expect(401);
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}"`);
    });

    it('should treat another scheme (Basic) as no bearer credentials', async () => {
      const res = await get('/authenticated').set('Authorization', 'Basic dXNlcjpwYXNz').expect(401);
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}"`);
    });
  });

  describe('when the token is valid', () => {
    it('should hand the handler the identity (discovering the JWKS from the issuer)', async () => {
      const res = await get('/authenticated').auth(token({ roles: ['notes-admin'] }), { type: 'bearer' }).expect(200);
      expect(res.body).toEqual({ subject: 'susan', scopes: ['notes:read', 'notes:write'], roles: ['notes-admin'], clientId: 'notes-cli' });
      expect(ctx.jwks.discoveryRequests).toBe(1);
    });

    it('should accept the Bearer scheme in any case', async () => {
      await get('/authenticated').set('Authorization', `bEaReR ${token()}`).expect(200);
    });

    it('should accept an audience list that contains ours', async () => {
      await get('/authenticated').auth(token({ aud: ['other-api', AUDIENCE] }), { type: 'bearer' }).expect(200);
    });
  });

  describe.each([
    ['a bad signature', () => signJws({ alg: 'RS256', kid: key.kid }, claims(ctx.jwks.issuer, AUDIENCE), otherKey.privateKey)],
    ['an expired token', () => token({ exp: Math.floor(Date.now() / 1000) - 120 })],
    ['a token not yet valid', () => token({ nbf: Math.floor(Date.now() / 1000) + 3600 })],
    ['a wrong issuer', () => token({ iss: 'https://evil.example/' })],
    ['an issuer without its trailing slash', () => token({ iss: ctx.jwks.issuer.replace(/\/$/, '') })],
    ['a wrong audience', () => token({ aud: 'other-api' })],
    ['a malformed token', () => 'abc.def'],
    ['a disallowed algorithm', () => signJws({ alg: 'PS256', kid: key.kid }, claims(ctx.jwks.issuer, AUDIENCE), key.privateKey)],
    ['alg none', () => signJws({ alg: 'none', kid: key.kid }, claims(ctx.jwks.issuer, AUDIENCE), Buffer.alloc(0))],
  ])('when the token has %s', (_case, make) => {
    it('should answer 401 invalid_token with a safe description', async () => {
      const res = await get('/authenticated').auth(make(), { type: 'bearer' }).expect(401);
      expect(res.headers['www-authenticate']).toMatch(new RegExp(`^Bearer realm="${AUDIENCE}", error="invalid_token", error_description="[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]+"$`));
      expect(res.body.statusCode).toBe(401);
    });
  });

  describe('when the request is malformed', () => {
    it.each([
      ['trailing junk', (t: string) => `Bearer ${t} junk`],
      ['two credentials', (t: string) => `Bearer ${t}, Bearer ${t}`],
      ['a scheme without a token', () => 'Bearer'],
      ['a token with spaces inside', (t: string) => `Bearer ${t.slice(0, 20)} ${t.slice(20)}`],
    ])('should answer 400 invalid_request for %s', async (_case, header) => {
      const res = await get('/authenticated').set('Authorization', header(token())).expect(400);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="notes-api", error="invalid_request", error_description="[^"]+"$/);
    });

    it('should answer 400 invalid_request for a token in header and query', async () => {
      const t = token();
      const res = await get(`/authenticated?access_token=${t}`).auth(t, { type: 'bearer' }).expect(400);
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    });

    it('should refuse a query-string token when query tokens are not enabled', async () => {
      const res = await get(`/authenticated?access_token=${token()}`).expect(400);
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    });
  });

  describe('when scopes are required', () => {
    it('should answer 403 insufficient_scope naming the required scope', async () => {
      const res = await get('/notes').auth(token({ scope: 'notes:write' }), { type: 'bearer' }).expect(403);
      expect(res.headers['www-authenticate']).toBe(
        `Bearer realm="${AUDIENCE}", error="insufficient_scope", error_description="The token lacks the scope(s): notes:read", scope="notes:read"`,
      );
    });

    it('should compare scopes exactly (no prefix, no case folding)', async () => {
      await get('/notes').auth(token({ scope: 'notes:readx NOTES:READ' }), { type: 'bearer' }).expect(403);
    });

    it('should require every scope of @Scopes(a, b)', async () => {
      await get('/both-scopes').auth(token({ scope: 'notes:read' }), { type: 'bearer' }).expect(403);
      await get('/both-scopes').auth(token({ scope: 'notes:read notes:write' }), { type: 'bearer' }).expect(200);
    });

    it('should accept any scope of @Scopes.anyOf(a, b) and list them all when none is held', async () => {
      await request(ctx.app.getHttpServer()).post('/any-scope').auth(token({ sub: 'bob', scope: 'notes:admin' }), { type: 'bearer' }).expect(201);
      const res = await request(ctx.app.getHttpServer()).post('/any-scope').auth(token({ scope: 'notes:read' }), { type: 'bearer' }).expect(403);
      expect(res.headers['www-authenticate']).toContain('scope="notes:write notes:admin"');
    });

    it('should read scopes from an scp list too', async () => {
      await get('/notes').auth(token({ scope: undefined, scp: ['notes:read'] }), { type: 'bearer' }).expect(200);
    });
  });

  describe('when permissions are required', () => {
    it('should allow a subject the policy grants', async () => {
      await get('/notes').auth(token({ sub: 'susan' }), { type: 'bearer' }).expect(200, { subject: 'susan' });
    });

    it('should answer 403 naming the policy and missing permission, without a bearer error code', async () => {
      const res = await get('/notes').auth(token({ sub: 'bob' }), { type: 'bearer' }).expect(403);
      expect(res.body).toMatchObject({ statusCode: 403, policy: 'note', missingPermissions: ['CanRead'] });
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('should map identity roles from the token to policy roles', async () => {
      await get('/notes').auth(token({ sub: 'carol', roles: ['notes-admin'] }), { type: 'bearer' }).expect(200);
    });

    it('should require every permission of @Permissions(a, b)', async () => {
      const res = await request(ctx.app.getHttpServer()).delete('/all-permissions').auth(token({ sub: 'susan' }), { type: 'bearer' }).expect(403);
      expect(res.body.missingPermissions).toEqual(['CanDelete']);
      await request(ctx.app.getHttpServer()).delete('/all-permissions').auth(token({ sub: 'carol', roles: ['notes-admin'] }), { type: 'bearer' }).expect(200);
    });

    it('should accept any permission of @Permissions.anyOf(a, b)', async () => {
      await get('/any-permission').auth(token({ sub: 'dave' }), { type: 'bearer' }).expect(200);
      const res = await get('/any-permission').auth(token({ sub: 'alice' }), { type: 'bearer' }).expect(403);
      expect(res.body.missingPermissions).toEqual(['CanDelete', 'CanModerate']);
    });
  });

  describe('when class and handler both declare requirements', () => {
    it('should require the class scope on every handler', async () => {
      await get('/admin/stats').auth(token({ scope: 'reports' }), { type: 'bearer' }).expect(403);
      await get('/admin/stats').auth(token({ scope: 'admin' }), { type: 'bearer' }).expect(200);
    });

    it('should require class and handler scopes together', async () => {
      await get('/admin/reports').auth(token({ scope: 'admin' }), { type: 'bearer' }).expect(403);
      await get('/admin/reports').auth(token({ scope: 'reports' }), { type: 'bearer' }).expect(403);
      await get('/admin/reports').auth(token({ scope: 'admin audit' }), { type: 'bearer' }).expect(200);
    });

    it('should check permissions in the class policy, and let a handler @Policy win', async () => {
      await get('/admin/reports').auth(token({ sub: 'alice', scope: 'admin audit' }), { type: 'bearer' }).expect(403);
      await get('/admin/note-policy').auth(token({ sub: 'alice', scope: 'admin' }), { type: 'bearer' }).expect(200);
    });
  });
});

describe.each(ADAPTERS)('AuthzGuard when the PolicyService fails (%s)', (adapter) => {
  class BrokenPolicy extends PolicyService {
    async hasPermission(_policy: string, identity: AuthzIdentity): Promise<boolean> {
      if (identity.subject === 'slow') return new Promise<boolean>(() => undefined);
      throw new Error('policy database unreachable');
    }

    override cachedDecision(_policy: string, identity: AuthzIdentity): boolean | undefined {
      if (identity.subject === 'broken-cache') throw new Error('cache corrupted');
      return undefined;
    }
  }
  const ctx = useGuardedApp(adapter, (jwks) => ({ issuer: jwks.issuer, audience: AUDIENCE, jwksUri: jwks.jwksUri, defaultPolicy: 'note', policyService: BrokenPolicy, policyTimeoutMs: 50 }));
  const get = (sub?: string) => request(ctx.app.getHttpServer()).get('/notes').auth(ctx.signed(sub ? { sub } : {}), { type: 'bearer' });

  it('should answer 503 and deny when the service throws', async () => {
    const res = await get().expect(503);
    expect(res.body.message).toContain("Policy 'note'");
    expect(ctx.jwks.discoveryRequests).toBe(0);
  });

  it('should answer 503 when the service fails while giving a cached decision', async () => {
    await get('broken-cache').expect(503);
  });

  it('should answer 503 when the service exceeds policyTimeoutMs', async () => {
    await get('slow').expect(503);
  });
});

describe('AuthzGuard with a PolicyService that has cached decisions', () => {
  class CountingPolicy extends PolicyService {
    asked = 0;
    async hasPermission(_policy: string, identity: AuthzIdentity): Promise<boolean> {
      this.asked++;
      return identity.subject === 'susan';
    }

    override cachedDecision(_policy: string, identity: AuthzIdentity): boolean | undefined {
      if (identity.subject === 'cached-susan') return true;
      if (identity.subject === 'cached-bob') return false;
      return undefined;
    }
  }
  const ctx = useGuardedApp('express', (jwks) => ({ issuer: jwks.issuer, audience: AUDIENCE, jwksUri: jwks.jwksUri, defaultPolicy: 'note', policyService: CountingPolicy }));
  const call = (sub: string) => request(ctx.app.getHttpServer()).get('/notes').auth(ctx.signed({ sub }), { type: 'bearer' });

  it('should allow on a cached grant without asking hasPermission', async () => {
    const policy = ctx.app.get(PolicyService) as CountingPolicy;
    const before = policy.asked;
    await call('cached-susan').expect(200);
    expect(policy.asked).toBe(before);
  });

  it('should ask hasPermission when the cache denies or does not know, and follow its answer', async () => {
    const policy = ctx.app.get(PolicyService) as CountingPolicy;
    const before = policy.asked;
    await call('cached-bob').expect(403);
    await call('susan').expect(200);
    expect(policy.asked).toBe(before + 2);
  });
});

describe.each(ADAPTERS)('AuthzGuard with audienceClaim client_id (Amazon Cognito access tokens) (%s)', (adapter) => {
  const ctx = useGuardedApp(adapter, (jwks) => ({
    issuer: jwks.issuer,
    audience: 'app-client',
    audienceClaim: 'client_id',
    jwksUri: jwks.jwksUri,
    claims: 'cognito',
    defaultPolicy: 'note',
    policies: fixturePolicies,
  }));
  const tokenFor = (overrides: Record<string, unknown>) => ctx.signed({ aud: undefined, client_id: 'app-client', 'cognito:groups': ['admins'], ...overrides });

  it('should accept a token without aud whose client_id is ours, and map its groups', async () => {
    const res = await request(ctx.app.getHttpServer()).get('/authenticated').auth(tokenFor({}), { type: 'bearer' }).expect(200);
    expect(res.body).toMatchObject({ subject: 'susan', clientId: 'app-client', roles: ['admins'] });
  });

  it('should refuse another client_id with 401 invalid_token', async () => {
    const res = await request(ctx.app.getHttpServer()).get('/authenticated').auth(tokenFor({ client_id: 'other-client' }), { type: 'bearer' }).expect(401);
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
  });
});
