import { Controller, Get, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { AuthzGuard, AuthzModule, CurrentIdentity, Permissions, TokenVerifier, type AuthzIdentity, type AuthzModuleOptions, type IssuerOptions } from 'nestjs-authz';
import { ADAPTERS, createApp, type Adapter } from '../support/app';
import { JwksServer } from '../support/jwks-server';
import { claims, makeKey, signJws, type TestKey } from '../support/signing';

const AUDIENCE = 'notes-api';
const acmeKey = makeKey('acme-1');
const globexKey = makeKey('globex-1', 'ES256');

@Controller()
class IssuersController {
  @Get('me')
  me(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject, issuer: identity.issuer, sub: identity.claims.sub, roles: identity.roles };
  }

  @Permissions('CanRead')
  @Get('notes')
  notes(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject };
  }
}

interface Ctx {
  acme: JwksServer;
  globex: JwksServer;
  /** Serves discovery and keys for an issuer nobody configured: it must never be asked. */
  attacker: JwksServer;
  app: INestApplication;
  verifier: TokenVerifier;
}

function useApp(adapter: Adapter, options: (ctx: Ctx) => AuthzModuleOptions) {
  const ctx = {} as Ctx;
  beforeAll(async () => {
    [ctx.acme, ctx.globex, ctx.attacker] = await Promise.all([new JwksServer().start(), new JwksServer().start(), new JwksServer().start()]);
    ctx.acme.keys = [acmeKey.jwk];
    ctx.globex.keys = [globexKey.jwk];
    ctx.attacker.keys = [acmeKey.jwk, globexKey.jwk];
    ctx.app = await createApp(adapter, {
      imports: [AuthzModule.forRoot(options(ctx))],
      controllers: [IssuersController],
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
    });
    ctx.verifier = ctx.app.get(TokenVerifier);
  });
  afterAll(async () => {
    await ctx.app?.close();
    await Promise.all([ctx.acme?.stop(), ctx.globex?.stop(), ctx.attacker?.stop()]);
  });
  return ctx;
}

const sign = (issuer: string, key: TestKey, overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  signJws({ alg: key.alg, kid: key.kid, ...header }, claims(issuer, AUDIENCE, overrides), key.privateKey);

const requests = (ctx: Ctx) => ({ acme: ctx.acme.requests.length, globex: ctx.globex.requests.length, attacker: ctx.attacker.requests.length });

/** Expects a 401 invalid_token whose challenge says `description`. */
function expectInvalidToken(res: request.Response, description: string): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}", error="invalid_token", error_description="${description}"`);
}

describe.each(ADAPTERS)('several issuers (%s)', (adapter) => {
  describe('when the issuers are listed', () => {
    const ctx = useApp(adapter, ({ acme, globex }) => ({
      issuers: [
        // Discovered from the issuer, like a real provider.
        { issuer: acme.issuer, audience: AUDIENCE },
        { issuer: globex.issuer, audience: AUDIENCE, jwksUri: globex.jwksUri, algorithms: ['ES256'], claims: 'keycloak', subjectNamespace: 'globex' },
      ],
      jwksCooldownMs: 60_000,
      defaultPolicy: 'note',
      policies: {
        note: {
          roles: { reader: ['CanRead'] },
          // Only acme's susan may read; globex's susan is another person with the same `sub`.
          subjects: { [`${acme.issuer}#susan`]: { roles: ['reader'] } },
        },
      },
    }));
    const get = (path: string, token?: string) => {
      const call = request(ctx.app.getHttpServer()).get(path);
      return token === undefined ? call : call.auth(token, { type: 'bearer' });
    };

    it("should verify each issuer's tokens and name the subject in its issuer's namespace", async () => {
      const acme = await get('/me', sign(ctx.acme.issuer, acmeKey, { roles: ['notes-admin'] })).expect(200);
      expect(acme.body).toEqual({ subject: `${ctx.acme.issuer}#susan`, issuer: ctx.acme.issuer, sub: 'susan', roles: ['notes-admin'] });
      const globex = await get('/me', sign(ctx.globex.issuer, globexKey, { realm_access: { roles: ['editor'] }, roles: ['ignored'] })).expect(200);
      expect(globex.body).toEqual({ subject: 'globex#susan', issuer: ctx.globex.issuer, sub: 'susan', roles: ['editor'] });
    });

    it('should key policy subjects per issuer, so an equal sub from another issuer gets no grant', async () => {
      await get('/notes', sign(ctx.acme.issuer, acmeKey)).expect(200, { subject: `${ctx.acme.issuer}#susan` });
      const res = await get('/notes', sign(ctx.globex.issuer, globexKey)).expect(403);
      expect(JSON.stringify(res.body)).toContain('CanRead');
    });

    it('should refuse an unknown issuer with 401 and make no outbound request', async () => {
      const before = requests(ctx);
      // The made-up issuer has a discovery document and serves the very keys the token is signed with.
      const res = await get('/me', sign(ctx.attacker.issuer, acmeKey));
      expectInvalidToken(res, 'The token issuer is not trusted');
      expect(requests(ctx)).toEqual(before);
      expect(ctx.attacker.requests).toEqual([]);
    });

    it('should refuse a token without iss', async () => {
      expectInvalidToken(await get('/me', sign(ctx.acme.issuer, acmeKey, { iss: undefined })), 'The token has no issuer (iss)');
    });

    it("should refuse a token naming one issuer but signed with another's key", async () => {
      // globex's ES256 key under acme's name: acme allows RS256 only, and its key set has no globex-1.
      expectInvalidToken(await get('/me', sign(ctx.acme.issuer, globexKey)), 'The token algorithm is not allowed');
      // An RSA key of another issuer, with acme's kid: acme's key does not verify it.
      const globexRsa = makeKey('acme-1');
      expectInvalidToken(await get('/me', sign(ctx.acme.issuer, globexRsa)), 'The token signature is invalid');
      // acme's key with globex's algorithm rules: globex's key set alone is asked, and has no acme-1.
      expectInvalidToken(await get('/me', sign(ctx.globex.issuer, { ...globexKey, kid: 'acme-1' })), 'No key of the issuer matches the token kid and alg');
    });
  });

  describe("when one issuer's key set is cooling down", () => {
    const ctx = useApp(adapter, ({ acme, globex }) => ({
      issuers: [
        { issuer: acme.issuer, audience: AUDIENCE },
        { issuer: globex.issuer, audience: AUDIENCE, jwksUri: globex.jwksUri, algorithms: ['ES256'] },
      ],
      jwksCooldownMs: 60_000,
      defaultPolicy: 'note',
      policies: { note: { roles: { reader: ['CanRead'] } } },
    }));
    const get = (token: string) => request(ctx.app.getHttpServer()).get('/me').auth(token, { type: 'bearer' });

    it('should still let another issuer download its keys: each key set has its own cooldown', async () => {
      // Unknown kids at acme: the first costs one discovery and one download, the second nothing (cooling down).
      expectInvalidToken(await get(sign(ctx.acme.issuer, acmeKey, {}, { kid: 'rotated-1' })), 'No key of the issuer matches the token kid and alg');
      expectInvalidToken(await get(sign(ctx.acme.issuer, acmeKey, {}, { kid: 'rotated-2' })), 'No key of the issuer matches the token kid and alg');
      expect([ctx.acme.discoveryRequests, ctx.acme.jwksRequests, ctx.globex.requests.length]).toEqual([1, 1, 0]);
      // globex is not held back by acme's cooldown, and asks its own jwksUri (no discovery).
      expectInvalidToken(await get(sign(ctx.globex.issuer, globexKey, {}, { kid: 'rotated-3' })), 'No key of the issuer matches the token kid and alg');
      expect(ctx.globex.requests).toEqual(['/jwks']);
      // Both key sets are loaded: valid tokens of either issuer pass with no further request.
      await get(sign(ctx.acme.issuer, acmeKey)).expect(200);
      await get(sign(ctx.globex.issuer, globexKey)).expect(200);
      expect([ctx.acme.requests.length, ctx.globex.requests.length, ctx.attacker.requests.length]).toEqual([2, 1, 0]);
    });
  });

  describe('when a resolver finds tenants at run time', () => {
    const tenants = new Map<string, IssuerOptions>();
    const asked: string[] = [];
    const ctx = useApp(adapter, ({ acme }) => {
      tenants.set(acme.issuer, { issuer: acme.issuer, jwksUri: acme.jwksUri });
      return {
        audience: AUDIENCE,
        defaultPolicy: 'note',
        policies: { note: { roles: { reader: ['CanRead'] } } },
        issuers: { resolve: async (iss) => (asked.push(iss), tenants.get(iss)), maxIssuers: 10, maxUnknownIssuers: 1_000 },
      };
    });
    const get = (token: string) => request(ctx.app.getHttpServer()).get('/me').auth(token, { type: 'bearer' });

    it('should verify a tenant the resolver knows', async () => {
      const res = await get(sign(ctx.acme.issuer, acmeKey)).expect(200);
      expect(res.body.subject).toBe(`${ctx.acme.issuer}#susan`);
    });

    it('should refuse an issuer the resolver does not know, with no outbound request', async () => {
      const before = requests(ctx);
      expectInvalidToken(await get(sign(ctx.attacker.issuer, acmeKey)), 'The token issuer is not trusted');
      expect(requests(ctx)).toEqual(before);
    });

    it('should refuse a flood of 10,000 made-up issuers at no cost: no key request, bounded memory, each name asked once', async () => {
      const before = requests(ctx);
      asked.length = 0;
      const statuses: number[] = [];
      for (let batch = 0; batch < 50; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 200 }, (_, i) => get(sign(`https://tenant-${batch * 200 + i}.attacker.example/`, acmeKey))),
        );
        statuses.push(...answers.map((res) => res.status));
      }
      expect(statuses).toHaveLength(10_000);
      expect(statuses.every((status) => status === 401)).toBe(true);
      expect(requests(ctx)).toEqual(before);
      expect(new Set(asked).size).toBe(asked.length);
      expect(ctx.verifier.issuers!.unknownCount).toBeLessThanOrEqual(1_000);
      expect(ctx.verifier.issuers!.size).toBeLessThanOrEqual(10);
      // The real tenant was not pushed out by the flood: it answers without asking the resolver again.
      asked.length = 0;
      await get(sign(ctx.acme.issuer, acmeKey)).expect(200);
      expect(asked).toEqual([]);
    }, 120_000);
  });
});
