import { Controller, Get, Injectable, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import {
  AuthzGuard,
  AuthzModule,
  CurrentIdentity,
  InMemoryPolicyStore,
  InsufficientScopeException,
  Permissions,
  PolicyService,
  Scopes,
  type AuthzIdentity,
  type DecisionOptions,
  type RouteRequirements,
} from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { ADAPTERS, createApp } from './support/app';

// Extension points of the guard and the PolicyService that must not turn into holes (issue: contract safe to extend).

const issuer = TestTokenIssuer.create();
const note = { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } };

@Scopes('notes:read')
@Controller('notes')
class NotesController {
  constructor(private readonly policies: PolicyService) {}

  @Permissions('CanRead')
  @Get()
  list() {
    return { ok: true };
  }

  /** Business code filtering with the PolicyService, as the notes app does. */
  @Get('filtered')
  async filtered(@CurrentIdentity() identity: AuthzIdentity) {
    return [...(await this.policies.permissionsOf('note', identity, ['CanRead']))];
  }
}

/** A subclass that checks one more thing, asynchronously, and refuses by rejecting. */
@Injectable()
class AsyncScopeGuard extends AuthzGuard {
  protected override async checkScopes(route: RouteRequirements, identity: AuthzIdentity): Promise<void> {
    await Promise.resolve();
    if (identity.clientId !== 'trusted-client') throw new InsufficientScopeException(['notes:read'], 'Only the trusted client may call this API');
    return super.checkScopes(route, identity);
  }
}

/** A PolicyService that only answers when its caller gives up: it records what the abort signal did. */
class HangingPolicyService extends PolicyService {
  static aborted: unknown[] = [];
  async hasPermission(_policy: string, _identity: AuthzIdentity, _permission: string, options?: DecisionOptions): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      options?.signal?.addEventListener('abort', () => {
        HangingPolicyService.aborted.push(options.signal!.reason);
        resolve(true);
      });
    });
  }
}

/** A store whose reads fail, as a database that is down. */
class DownStore extends InMemoryPolicyStore {
  override async grantsFor(): Promise<never> {
    throw new Error('connection refused');
  }
}

describe.each(ADAPTERS)('extending the guard and the PolicyService (%s)', (adapter) => {
  describe('when a guard subclass overrides checkScopes with an async method that rejects', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createApp(adapter, {
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note } }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AsyncScopeGuard }],
      });
    });
    afterAll(() => app.close());

    it('should refuse the request with the rejection, not let it through', async () => {
      const res = await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'], client_id: 'other' }), { type: 'bearer' }).expect(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.body.message).toBe('Only the trusted client may call this API');
    });

    it('should still allow when the async check passes', async () => {
      await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'], client_id: 'trusted-client' }), { type: 'bearer' }).expect(200);
    });
  });

  describe('when the PolicyService is slower than policyTimeoutMs', () => {
    let app: INestApplication;
    beforeAll(async () => {
      HangingPolicyService.aborted = [];
      app = await createApp(adapter, {
        imports: [AuthzModule.forRoot({ ...issuer.moduleOptions({ defaultPolicy: 'note', policyTimeoutMs: 50 }), policyService: HangingPolicyService })],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
    });
    afterAll(() => app.close());

    it('should answer 503 and abort the signal it gave the service, so the work behind it can stop', async () => {
      const res = await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'] }), { type: 'bearer' }).expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(HangingPolicyService.aborted).toHaveLength(1);
      expect(String(HangingPolicyService.aborted[0])).toContain('no answer within 50 ms');
    });
  });

  describe('when business code asks the built-in PolicyService and the store is down', () => {
    let app: INestApplication;
    beforeAll(async () => {
      app = await createApp(adapter, {
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policyStore: new DownStore({ note }) }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
    });
    afterAll(() => app.close());

    it('should answer 503, never 500', async () => {
      const res = await request(app.getHttpServer()).get('/notes/filtered').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'] }), { type: 'bearer' }).expect(503);
      expect(res.body).toMatchObject({ statusCode: 503, message: "Policy 'note' could not be evaluated; try again later" });
    });

    it('should answer 503 with Retry-After from the guard too', async () => {
      const res = await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: ['notes:read'] }), { type: 'bearer' }).expect(503);
      expect(res.headers['retry-after']).toBe('5');
    });
  });
});
