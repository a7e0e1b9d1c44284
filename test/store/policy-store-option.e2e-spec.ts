import { Controller, Get, Global, Injectable, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzGuard, AuthzModule, InMemoryPolicyStore, Permissions, PolicyStore, type AuthzModuleOptions } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';

// The module's `policyStore` option: an instance, a class built with dependency injection, or a factory (sync or
// async), with forRoot and forRootAsync; the module closes the store at shutdown.

const issuer = TestTokenIssuer.create();
const note = { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } };

@Controller('notes')
class NotesController {
  @Permissions('CanRead')
  @Get()
  list() {
    return { ok: true };
  }
}

/** Something of the app's that a store class injects. */
@Injectable()
class Seed {
  readonly policies = { note };
}

/** A store class sees global providers, and with forRootAsync those of its `imports`, as a custom PolicyService does. */
@Global()
@Module({ providers: [Seed], exports: [Seed] })
class SeedModule {}

/** A store that counts its closes and is built through dependency injection. */
@Injectable()
class SeededStore extends InMemoryPolicyStore {
  static closed = 0;
  constructor(seed: Seed) {
    super(seed.policies);
  }
  override async close(): Promise<void> {
    SeededStore.closed++;
  }
}

async function start(options: AuthzModuleOptions, async = false): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [SeedModule, async ? AuthzModule.forRootAsync({ useFactory: async () => options }) : AuthzModule.forRoot(options)],
    controllers: [NotesController],
    providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
  }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

const susanReads = async (app: INestApplication) =>
  request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan', scopes: [] }), { type: 'bearer' }).expect(200);
const bobIsRefused = async (app: INestApplication) =>
  request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'bob', scopes: [] }), { type: 'bearer' }).expect(403);

describe('the policyStore option', () => {
  beforeEach(() => {
    SeededStore.closed = 0;
  });

  describe.each([
    ['forRoot', false],
    ['forRootAsync', true],
  ])('with %s', (_name, async) => {
    it('should decide with a store instance, and close it at shutdown', async () => {
      const store = new SeededStore(new Seed());
      const app = await start(issuer.moduleOptions({ defaultPolicy: 'note', policyStore: store }), async as boolean);
      await susanReads(app);
      await bobIsRefused(app);
      expect(app.get(PolicyStore)).toBe(store);
      await app.close();
      expect(SeededStore.closed).toBe(1);
    });

    it('should build a store class with dependency injection', async () => {
      const app = await start(issuer.moduleOptions({ defaultPolicy: 'note', policyStore: SeededStore }), async as boolean);
      await susanReads(app);
      expect(app.get(PolicyStore)).toBeInstanceOf(SeededStore);
      await app.close();
      expect(SeededStore.closed).toBe(1);
    });

    it('should call a factory once, sync or async', async () => {
      let calls = 0;
      const app = await start(
        issuer.moduleOptions({
          defaultPolicy: 'note',
          policyStore: async () => {
            calls++;
            return new InMemoryPolicyStore({ note });
          },
        }),
        async as boolean,
      );
      await susanReads(app);
      await susanReads(app);
      expect(calls).toBe(1);
      await app.close();
    });
  });

  describe('when it is misconfigured', () => {
    const failure = (options: AuthzModuleOptions) => start(options).then(
      () => 'started',
      (error: Error) => error.message,
    );

    it('should refuse to start when policies and policyStore are both set', async () => {
      expect(await failure(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note }, policyStore: new InMemoryPolicyStore({ note }) }))).toMatch(/`policies` and `policyStore` are both set/);
    });

    it('should refuse to start when policyStore is not a store', async () => {
      expect(await failure(issuer.moduleOptions({ defaultPolicy: 'note', policyStore: { grantsFor: () => undefined } as never }))).toMatch(/option `policyStore` is not a PolicyStore/);
    });

    it('should refuse to start when the factory returns something else', async () => {
      expect(await failure(issuer.moduleOptions({ defaultPolicy: 'note', policyStore: (() => ({})) as never }))).toMatch(/the `policyStore` factory did not return a PolicyStore/);
    });

    it('should refuse to start when the factory fails, with its error', async () => {
      expect(
        await failure(
          issuer.moduleOptions({
            defaultPolicy: 'note',
            policyStore: async () => {
              throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
            },
          }),
        ),
      ).toMatch(/ECONNREFUSED/);
    });
  });
});
