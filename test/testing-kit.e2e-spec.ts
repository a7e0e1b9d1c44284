import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzConfigurationError, AuthzGuard, AuthzModule, KeySet, PolicyService, type AuthzIdentity } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { NotesController, NotesService, notePolicy } from './fixtures/kit/notes.fixture';

// The two README examples of the testing kit, run as an app's own tests would.

describe('the testing kit (nestjs-authz/testing)', () => {
  const issuer = TestTokenIssuer.create();
  let app: INestApplication;
  const get = (token?: string) => {
    const req = request(app.getHttpServer()).get('/notes');
    return token === undefined ? req : req.auth(token, { type: 'bearer' });
  };

  describe('when an app plugs TestTokenIssuer into AuthzModule', () => {
    // Discovery goes through fetch and would not count as a KeySet download: watch it too.
    let fetchSpy: jest.SpyInstance;

    beforeAll(async () => {
      fetchSpy = jest.spyOn(globalThis, 'fetch');
      const moduleRef = await Test.createTestingModule({
        // requireAccessTokenType shows the kit mints RFC 9068 access tokens.
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note: notePolicy }, requireAccessTokenType: true }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, NotesService],
      }).compile();
      app = await moduleRef.createNestApplication({ logger: false }).init();
    });

    afterAll(async () => {
      fetchSpy.mockRestore();
      await app.close();
    });

    it('should let a kit token through the real guard, with the policy deciding what it sees', async () => {
      const susan = await get(issuer.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(200);
      expect(susan.body.map((note: { title: string }) => note.title)).toEqual(['Roadmap', 'Salaries']);
      const alice = await get(issuer.sign({ sub: 'alice', scopes: ['notes:read'] })).expect(200);
      expect(alice.body.map((note: { title: string }) => note.title)).toEqual(['Roadmap']);
    });

    it('should carry identity roles from the kit token to the policy', async () => {
      const res = await request(app.getHttpServer())
        .post('/notes')
        .send({ title: 'Minutes' })
        .auth(issuer.sign({ sub: 'carol', scopes: ['notes:write'], roles: ['notes-admin'] }), { type: 'bearer' })
        .expect(201);
      expect(res.body).toMatchObject({ title: 'Minutes', ownerId: 'carol' });
    });

    it('should answer 403 naming the permission for a subject without grants', async () => {
      const res = await get(issuer.sign({ sub: 'bob', scopes: ['notes:read'] })).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
    });

    it('should answer 403 insufficient_scope for a kit token without the scope', async () => {
      const res = await get(issuer.sign({ sub: 'susan', scopes: ['notes:write'] })).expect(403);
      expect(res.headers['www-authenticate']).toMatch(/error="insufficient_scope".*, scope="notes:read"$/);
    });

    it('should answer 401 without a token and for an expired kit token', async () => {
      await get().expect(401);
      const res = await get(issuer.sign({ sub: 'susan', scopes: ['notes:read'], expiresIn: -3600 })).expect(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('should refuse a token from a different TestTokenIssuer with 401', async () => {
      // Same issuer URL and audience by default; only the key differs.
      const stranger = TestTokenIssuer.create();
      const res = await get(stranger.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    });

    it('should refuse a token from a different TestTokenIssuer even when it reuses the kid', async () => {
      const impostor = TestTokenIssuer.create({ kid: issuer.kid });
      await get(impostor.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(401);
    });

    it('should make no network request (a fixed key set, never downloaded)', async () => {
      // 'https://issuer.test/' does not resolve: any discovery or JWKS download would have failed the 200s above.
      await get(issuer.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(200);
      expect(app.get(KeySet).downloads).toBe(0);
      expect(fetchSpy).not.toHaveBeenCalled();
    });
  });

  describe('when a test swaps the policy with overrideProvider(PolicyService).useClass', () => {
    class OnlySusanReads extends PolicyService {
      async hasPermission(_policy: string, identity: AuthzIdentity, permission: string) {
        return identity.subject === 'susan' && permission === 'CanRead';
      }
    }

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note: notePolicy } }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, NotesService],
      })
        .overrideProvider(PolicyService)
        .useClass(OnlySusanReads)
        .compile();
      app = await moduleRef.createNestApplication({ logger: false }).init();
    });

    afterAll(async () => {
      await app.close();
    });

    it('should decide with the test double instead of the configured policy', async () => {
      expect(app.get(PolicyService)).toBeInstanceOf(OnlySusanReads);
      // The configured policy lets alice read; the double does not.
      await get(issuer.sign({ sub: 'alice', scopes: ['notes:read'] })).expect(403);
      const res = await get(issuer.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(200);
      // The double grants no CanReadConfidentialNotes, and business code asks the same double.
      expect(res.body.map((note: { title: string }) => note.title)).toEqual(['Roadmap']);
    });
  });

  describe('when a test swaps the policy with overrideProvider(PolicyService).useValue', () => {
    const allowEverything = {
      hasPermission: async () => true,
      permissionsOf: async (_policy: string, _identity: AuthzIdentity, permissions: readonly string[]) => new Set(permissions),
    };

    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note: notePolicy } }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, NotesService],
      })
        .overrideProvider(PolicyService)
        .useValue(allowEverything)
        .compile();
      app = await moduleRef.createNestApplication({ logger: false }).init();
    });

    afterAll(async () => {
      await app.close();
    });

    it('should let the value decide, while the real guard still checks token and scopes', async () => {
      const res = await get(issuer.sign({ sub: 'bob', scopes: ['notes:read'] })).expect(200);
      expect(res.body).toHaveLength(2);
      await get(issuer.sign({ sub: 'bob', scopes: [] })).expect(403);
      await get(TestTokenIssuer.create().sign({ sub: 'bob', scopes: ['notes:read'] })).expect(401);
    });
  });

  describe("when a test makes an app's own AuthzModule trust the kit with override()", () => {
    // The app's module as it ships: a provider that does not exist in tests, its own audience and policies.
    const shipped = (extra: Record<string, unknown> = {}) =>
      Test.createTestingModule({
        imports: [AuthzModule.forRoot({ issuer: 'https://login.example.com/', audience: ['notes-api', 'notes-admin'], defaultPolicy: 'note', policies: { note: notePolicy }, ...extra })],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, NotesService],
      });
    const kit = TestTokenIssuer.create({ audience: 'notes-api' });
    const getWith = (token: string) => request(app.getHttpServer()).get('/notes').auth(token, { type: 'bearer' });

    let opened: INestApplication | undefined;

    afterEach(async () => {
      await opened?.close();
      opened = undefined;
    });

    it('should verify kit tokens with the real guard and the app\'s own policies, downloading nothing', async () => {
      const fetchSpy = jest.spyOn(globalThis, 'fetch');
      try {
        const moduleRef = await kit.override(shipped()).compile();
        app = opened = await moduleRef.createNestApplication({ logger: false }).init();
        const res = await getWith(kit.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(200);
        expect(res.body.map((note: { title: string }) => note.title)).toEqual(['Roadmap', 'Salaries']);
        await getWith(kit.sign({ sub: 'bob', scopes: ['notes:read'] })).expect(403);
        expect(app.get(KeySet).downloads).toBe(0);
        expect(fetchSpy).not.toHaveBeenCalled();
      } finally {
        fetchSpy.mockRestore();
      }
    });

    it("should keep the app's audiences and refuse tokens of the configured provider's issuer", async () => {
      const moduleRef = await kit.override(shipped()).compile();
      app = opened = await moduleRef.createNestApplication({ logger: false }).init();
      await getWith(kit.sign({ sub: 'susan', scopes: ['notes:read'], aud: 'notes-admin' })).expect(200);
      await getWith(kit.sign({ sub: 'susan', scopes: ['notes:read'], aud: 'test-api' })).expect(401);
      await getWith(kit.sign({ sub: 'susan', scopes: ['notes:read'], iss: 'https://login.example.com/' })).expect(401);
    });

    it('should return the builder, so that overrideProvider(PolicyService) chains', async () => {
      class NobodyReads extends PolicyService {
        async hasPermission() {
          return false;
        }
      }
      const moduleRef = await kit.override(shipped()).overrideProvider(PolicyService).useClass(NobodyReads).compile();
      app = opened = await moduleRef.createNestApplication({ logger: false }).init();
      await getWith(kit.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(403);
    });

    it('should refuse to compile, saying how to fix it, when the app does not accept the kit audience', async () => {
      const outcome = await TestTokenIssuer.create().override(shipped()).compile().then(
        () => new Error('compiled'),
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(AuthzConfigurationError);
      expect((outcome as Error).message).toMatch(/`aud` "test-api", which the app's `audience` \("notes-api", "notes-admin"\) does not accept/);
      expect((outcome as Error).message).toContain("TestTokenIssuer.create({ audience: \"notes-api\" })");
    });

    it('should refuse to compile when the app does not allow RS256', async () => {
      const outcome = await kit.override(shipped({ algorithms: ['ES256'] })).compile().then(
        () => new Error('compiled'),
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(AuthzConfigurationError);
      expect((outcome as Error).message).toContain("add 'RS256' to `algorithms`");
    });
  });

  describe('when moduleOptions() is given the module extras', () => {
    class EveryoneReads extends PolicyService {
      async hasPermission(_policy: string, _identity: AuthzIdentity, permission: string) {
        return permission === 'CanRead';
      }
    }

    afterAll(async () => {
      await app.close();
    });

    it('should hand policyService to the module (and type-check: see tsc)', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policyService: EveryoneReads, isGlobal: true }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, NotesService],
      }).compile();
      app = await moduleRef.createNestApplication({ logger: false }).init();
      expect(app.get(PolicyService)).toBeInstanceOf(EveryoneReads);
      await get(issuer.sign({ sub: 'bob', scopes: ['notes:read'] })).expect(200);
    });
  });
});
