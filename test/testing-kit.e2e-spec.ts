import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzGuard, AuthzModule, KeySet, PolicyService, type AuthzIdentity } from 'nestjs-authz';
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
});
