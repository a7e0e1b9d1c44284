import { Body, Controller, Delete, Get, Injectable, Param, Patch, Post, Query, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import {
  AuthzGuard,
  AuthzModule,
  CurrentIdentity,
  DefaultPolicyService,
  InMemoryPolicyStore,
  Permissions,
  Policy,
  PolicyService,
  PolicyStore,
  Resource,
  Scopes,
  type AuthzIdentity,
  type DecisionOptions,
  type PolicyDocument,
} from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { ADAPTERS, createApp, type Adapter } from '../support/app';
import { databaseBackends, openStore } from '../support/postgres';

// Resource-level permissions through the real guard and the built-in PolicyService, on every store: a role held on
// one resource allows there only; type-wide grants allow everywhere; changes reach the next request.

const issuer = TestTokenIssuer.create();
const SCOPES = ['docs:read'];

const DOC: PolicyDocument = {
  roles: { reader: ['CanRead'], owner: ['CanRead', 'CanEdit', 'CanDelete'], moderator: ['CanRead', 'CanEdit', 'CanDelete'] },
  subjects: { mod: { roles: ['moderator'] }, susan: { roles: ['reader'] } },
};

@Policy('doc')
@Scopes('docs:read')
@Controller('docs')
class DocsController {
  constructor(private readonly policies: PolicyService) {}

  /** The batch form: which of `ids` may the caller edit? */
  @Get()
  async editable(@CurrentIdentity() identity: AuthzIdentity, @Query('ids') ids: string) {
    return [...(await this.policies.allowedResources('doc', identity, 'CanEdit', ids.split(',')))].sort();
  }

  @Get('held/:id')
  async held(@CurrentIdentity() identity: AuthzIdentity, @Param('id') id: string) {
    return [...(await this.policies.permissionsOf('doc', identity, ['CanRead', 'CanEdit', 'CanDelete'], { resource: id }))].sort();
  }

  @Get(':id')
  @Permissions('CanRead')
  @Resource('id')
  read(@Param('id') id: string) {
    return { id };
  }

  @Patch(':id')
  @Permissions('CanEdit')
  @Resource('id')
  edit(@Param('id') id: string) {
    return { edited: id };
  }

  @Post('by-body')
  @Permissions('CanEdit')
  @Resource((request: { body?: { docId?: string } }) => request.body?.docId)
  byBody(@Body() body: { docId?: string }) {
    return { edited: body?.docId ?? null };
  }

  @Post('throwing')
  @Permissions('CanEdit')
  @Resource((request: { body: { missing: { id: string } } }) => request.body.missing.id)
  throwing() {
    return { ok: true };
  }
}

/** `@Resource` on the class: every route with permissions asks about its `:id`. */
@Policy('doc')
@Scopes('docs:read')
@Resource('id')
@Controller('class-docs')
class ClassLevelController {
  @Delete(':id')
  @Permissions('CanDelete')
  remove(@Param('id') id: string) {
    return { deleted: id };
  }

  @Get('open/:id')
  open(@Param('id') id: string) {
    return { id };
  }
}

/** A subclass with one more condition: document `locked` may not be edited, whatever the grants. */
@Injectable()
class LockingPolicyService extends DefaultPolicyService {
  override async hasPermission(policy: string, identity: AuthzIdentity, permission: string, options?: DecisionOptions): Promise<boolean> {
    if (permission === 'CanEdit' && options?.resource === 'locked') return false;
    return super.hasPermission(policy, identity, permission, options);
  }
}

type OpenStore = () => Promise<{ store: PolicyStore; dispose(): Promise<void> }>;

const STORES: [string, OpenStore][] = [
  ['in memory', async () => ({ store: new InMemoryPolicyStore(), dispose: async () => {} })],
  ...databaseBackends().map(([name, open]): [string, OpenStore] => [
    name,
    async () => {
      const database = await open();
      return { store: await openStore(database), dispose: () => database.dispose() };
    },
  ]),
];

const bearer = (sub: string, scopes: string[] = SCOPES) => ({ Authorization: `Bearer ${issuer.sign({ sub, scopes })}` });

async function startApp(adapter: Adapter, store: PolicyStore, extra: { policyService?: typeof DefaultPolicyService } = {}): Promise<INestApplication> {
  return createApp(adapter, {
    imports: [AuthzModule.forRoot({ ...issuer.moduleOptions({ policyStore: store }), ...extra })],
    controllers: [DocsController, ClassLevelController],
    providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
  });
}

describe.each(STORES)('resource permissions on the %s store', (_store, openBackend) => {
  describe.each(ADAPTERS)('through the guard (%s)', (adapter) => {
    let app: INestApplication;
    let store: PolicyStore;
    let dispose: () => Promise<void>;
    const http = () => request(app.getHttpServer());

    beforeAll(async () => {
      ({ store, dispose } = await openBackend());
      await store.edit(
        [
          { kind: 'put-policy', policy: 'doc', document: DOC },
          { kind: 'grant-resource-role', policy: 'doc', resource: 'n1', subject: 'ann', role: 'owner' },
          { kind: 'grant-resource-role', policy: 'doc', resource: 'n3', subject: 'ann', role: 'reader' },
        ],
        { actor: 'test' },
      );
      app = await startApp(adapter, store);
    });
    afterAll(async () => {
      await app?.close();
      await dispose?.();
    });
    afterEach(() => jest.restoreAllMocks());

    describe('when a route asks about the resource in its :id parameter', () => {
      it('should allow a role held on that resource, and refuse other resources with 403 naming permission and resource', async () => {
        await http().get('/docs/n1').set(bearer('ann')).expect(200, { id: 'n1' });
        await http().patch('/docs/n1').set(bearer('ann')).expect(200, { edited: 'n1' });
        const refused = await http().get('/docs/n2').set(bearer('ann')).expect(403);
        expect(refused.body).toMatchObject({ policy: 'doc', missingPermissions: ['CanRead'], resource: 'n2', message: "Policy 'doc' does not grant: CanRead on resource 'n2'" });
      });

      it('should give a resource role only its own permissions on that resource', async () => {
        await http().get('/docs/n3').set(bearer('ann')).expect(200);
        const refused = await http().patch('/docs/n3').set(bearer('ann')).expect(403);
        expect(refused.body).toMatchObject({ missingPermissions: ['CanEdit'], resource: 'n3' });
      });

      it('should let type-wide grants apply to every resource', async () => {
        await http().get('/docs/n2').set(bearer('susan')).expect(200);
        await http().patch('/docs/n2').set(bearer('susan')).expect(403);
        await http().patch('/docs/n2').set(bearer('mod')).expect(200);
      });

      it('should still require the scopes', async () => {
        const refused = await http().get('/docs/n1').set(bearer('ann', [])).expect(403);
        expect(refused.headers['www-authenticate']).toContain('error="insufficient_scope"');
      });

      it('should decide on type-wide grants alone when the id is no valid name', async () => {
        const refused = await http().get('/docs/%01').set(bearer('ann')).expect(403);
        expect(refused.body.resource).toBeUndefined();
        await http().get('/docs/%01').set(bearer('susan')).expect(200);
      });
    });

    describe('when a route reads the resource with a function', () => {
      it('should ask about what the function returns', async () => {
        await http().post('/docs/by-body').set(bearer('ann')).send({ docId: 'n1' }).expect(201, { edited: 'n1' });
        await http().post('/docs/by-body').set(bearer('ann')).send({ docId: 'n2' }).expect(403);
      });

      it('should decide on type-wide grants alone when the function finds nothing or throws', async () => {
        await http().post('/docs/by-body').set(bearer('ann')).send({}).expect(403);
        await http().post('/docs/by-body').set(bearer('mod')).send({}).expect(201);
        await http().post('/docs/throwing').set(bearer('ann')).send({}).expect(403);
        await http().post('/docs/throwing').set(bearer('mod')).send({}).expect(201);
      });
    });

    describe('when @Resource is on the controller', () => {
      it('should apply to its routes with permissions, and leave routes without permissions alone', async () => {
        await http().delete('/class-docs/n1').set(bearer('ann')).expect(200, { deleted: 'n1' });
        await http().delete('/class-docs/n2').set(bearer('ann')).expect(403);
        await http().get('/class-docs/open/n2').set(bearer('ann')).expect(200);
      });
    });

    describe('when a resource grant changes', () => {
      it('should refuse on the next request after a revocation, though the allow was remembered', async () => {
        await store.edit([{ kind: 'grant-resource-role', policy: 'doc', resource: 'r-revoke', subject: 'ann', role: 'owner' }], { actor: 'test' });
        await http().get('/docs/r-revoke').set(bearer('ann')).expect(200);
        const reads = jest.spyOn(store, 'grantsFor');
        await http().get('/docs/r-revoke').set(bearer('ann')).expect(200);
        expect(reads).not.toHaveBeenCalled();
        await store.edit([{ kind: 'revoke-resource-role', policy: 'doc', resource: 'r-revoke', subject: 'ann', role: 'owner' }], { actor: 'test' });
        await http().get('/docs/r-revoke').set(bearer('ann')).expect(403);
      });

      it('should refuse everyone on the next request after the resource is deleted, and keep type-wide answers', async () => {
        await store.edit(
          [
            { kind: 'grant-resource-role', policy: 'doc', resource: 'r-delete', subject: 'ann', role: 'owner' },
            { kind: 'grant-resource-role', policy: 'doc', resource: 'r-delete', subject: 'bob', role: 'owner' },
          ],
          { actor: 'test' },
        );
        await http().patch('/docs/r-delete').set(bearer('ann')).expect(200);
        await http().patch('/docs/r-delete').set(bearer('bob')).expect(200);
        await http().patch('/docs/r-delete').set(bearer('mod')).expect(200);
        await store.edit([{ kind: 'delete-resource', policy: 'doc', resource: 'r-delete' }], { actor: 'test' });
        await http().patch('/docs/r-delete').set(bearer('ann')).expect(403);
        await http().patch('/docs/r-delete').set(bearer('bob')).expect(403);
        const reads = jest.spyOn(store, 'grantsFor');
        await http().patch('/docs/r-delete').set(bearer('mod')).expect(200);
        expect(reads).not.toHaveBeenCalled();
      });

      it('should allow on the next request after a grant, though the refusal came just before', async () => {
        await http().get('/docs/r-grant').set(bearer('ann')).expect(403);
        await store.edit([{ kind: 'grant-resource-role', policy: 'doc', resource: 'r-grant', subject: 'ann', role: 'reader' }], { actor: 'test' });
        await http().get('/docs/r-grant').set(bearer('ann')).expect(200);
      });
    });

    describe('when business code asks', () => {
      it('should answer the batch form with the same rules, reading the store once', async () => {
        const reads = jest.spyOn(store, 'grantsFor');
        const editable = await http().get('/docs').query({ ids: 'n1,n2,n3,n1,batch-x' }).set(bearer('ann')).expect(200);
        expect(editable.body).toEqual(['n1']);
        expect(reads).toHaveBeenCalledTimes(1);
        expect(reads.mock.calls[0][3]).toEqual(expect.arrayContaining(['n2', 'n3', 'batch-x']));
        await http().get('/docs').query({ ids: 'n1,n2,batch-y' }).set(bearer('mod')).expect(200, ['batch-y', 'n1', 'n2']);
      });

      it('should remember batch answers like single ones', async () => {
        await http().get('/docs').query({ ids: 'batch-a,batch-b' }).set(bearer('susan')).expect(200, []);
        const reads = jest.spyOn(store, 'grantsFor');
        await http().get('/docs/batch-a').set(bearer('susan')).expect(200);
        await http().get('/docs').query({ ids: 'batch-a,batch-b' }).set(bearer('susan')).expect(200, []);
        expect(reads).not.toHaveBeenCalled();
      });

      it('should answer permissionsOf on a resource', async () => {
        await http().get('/docs/held/n1').set(bearer('ann')).expect(200, ['CanDelete', 'CanEdit', 'CanRead']);
        await http().get('/docs/held/n3').set(bearer('ann')).expect(200, ['CanRead']);
        await http().get('/docs/held/n2').set(bearer('ann')).expect(200, []);
      });
    });

    describe('when the store fails during a resource check', () => {
      it('should answer 503 from the guard, never allow', async () => {
        jest.spyOn(store, 'grantsFor').mockRejectedValue(new Error('connection refused'));
        const refused = await http().get('/docs/r-down').set(bearer('ann')).expect(503);
        expect(refused.headers['retry-after']).toBe('5');
      });

      it('should answer 503 to the batch form in business code, never 500', async () => {
        jest.spyOn(store, 'grantsFor').mockRejectedValue(new Error('connection refused'));
        const refused = await http().get('/docs').query({ ids: 'down-1,down-2' }).set(bearer('susan')).expect(503);
        expect(refused.body).toMatchObject({ statusCode: 503, message: "Policy 'doc' could not be evaluated; try again later" });
      });
    });
  });
});

describe.each(ADAPTERS)('a PolicyService subclass with an extra condition on resources (%s)', (adapter) => {
  let app: INestApplication;
  const http = () => request(app.getHttpServer());
  beforeAll(async () => {
    const store = new InMemoryPolicyStore({ doc: DOC });
    await store.edit([{ kind: 'grant-resource-role', policy: 'doc', resource: 'locked', subject: 'ann', role: 'owner' }], { actor: 'test' });
    app = await startApp(adapter, store, { policyService: LockingPolicyService });
  });
  afterAll(() => app.close());

  it('should apply the condition in the guard, also after the grant was read once', async () => {
    await http().get('/docs/locked').set(bearer('ann')).expect(200);
    await http().patch('/docs/locked').set(bearer('mod')).expect(403);
    await http().patch('/docs/locked').set(bearer('mod')).expect(403);
    await http().patch('/docs/locked').set(bearer('ann')).expect(403);
    await http().patch('/docs/other').set(bearer('mod')).expect(200);
  });

  it('should apply the condition in the batch form', async () => {
    await http().get('/docs').query({ ids: 'locked,other' }).set(bearer('mod')).expect(200, ['other']);
    await http().get('/docs').query({ ids: 'locked,other' }).set(bearer('ann')).expect(200, []);
  });

  it('should apply the condition in permissionsOf on a resource', async () => {
    await http().get('/docs/held/locked').set(bearer('ann')).expect(200, ['CanDelete', 'CanRead']);
  });
});
