import { TestTokenIssuer } from 'nestjs-authz/testing';
import { Controller, Get, Inject, Injectable, Module, Post, type DynamicModule, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AUTHZ_CONFIG,
  AuthzConfigurationError,
  AuthzGuard,
  AuthzModule,
  CurrentIdentity,
  DefaultPolicyService,
  Permissions,
  Policy,
  PolicyService,
  Public,
  Scopes,
  type AuthzConfig,
  type AuthzIdentity,
  type AuthzModuleOptions,
} from 'nestjs-authz';
import { ADAPTERS, createApp } from './support/app';
import { JwksServer } from './support/jwks-server';
import { claims, makeKey, signJws } from './support/signing';

const AUDIENCE = 'notes-api';
const key = makeKey('module-key');
const policies = {
  note: {
    roles: { reader: ['CanRead'], writer: ['CanRead', 'CanWrite'] },
    subjects: { susan: { roles: ['reader'] }, alice: { roles: ['writer'] } },
  },
};

@Policy('note')
@Controller('notes')
class NotesController {
  @Public()
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Scopes('notes:read')
  @Permissions('CanRead')
  @Get()
  list(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject };
  }

  @Scopes('notes:write')
  @Permissions('CanWrite')
  @Post()
  create() {
    return { created: true };
  }
}

/** What a config module of an app would hold (values from the environment, a vault, ...). */
class AuthSettings {
  constructor(
    readonly issuer: string,
    readonly jwksUri: string,
  ) {}
}

@Module({})
class SettingsModule {
  static register(settings: AuthSettings): DynamicModule {
    return { module: SettingsModule, providers: [{ provide: AuthSettings, useValue: settings }], exports: [AuthSettings] };
  }
}

/** Compiles and initialises an Express app; closes what was made if start fails, and passes the failure on. */
async function boot(metadata: ModuleMetadata, logger: LoggerService | false = false): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger });
  try {
    await app.init();
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

/** The configuration error a failed start must raise, with the option named and a fix given. */
async function startFailure(start: Promise<unknown>): Promise<string> {
  const outcome = await start.then(
    async (app) => {
      await (app as INestApplication).close();
      return new Error('the app started');
    },
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(AuthzConfigurationError);
  const message = (outcome as Error).message;
  expect(message).toContain('How to fix');
  return message;
}

const guarded = (imports: ModuleMetadata['imports'], controllers: ModuleMetadata['controllers'] = [NotesController]): ModuleMetadata => ({
  imports,
  controllers,
  providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
});

describe('AuthzModule', () => {
  describe.each<[string, Partial<AuthzModuleOptions> & Record<string, unknown>, RegExp]>([
    ['the issuer is missing', { issuer: undefined }, /`issuer` is missing/],
    ["the audience is ''", { audience: '' }, /`audience`/],
    ['the audience is []', { audience: [] }, /`audience` is empty/],
    ["the audience is ['']", { audience: [''] }, /`audience` contains an empty/],
    ['both jwks and jwksUri are set', { jwks: { keys: [] }, jwksUri: 'https://idp.example.com/jwks' }, /`jwks` and `jwksUri`/],
    ['the fixed key set has no usable key', { jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }, { kty: 'RSA', n: 'AQAB', e: 'AQAB', use: 'enc' }] } }, /`jwks` holds no usable verification key/],
    ['the issuer is not a URL and no keys are given', { issuer: 'notes-idp' }, /`issuer` .*is not a URL/],
    ["the algorithms hold 'rs256'", { algorithms: ['rs256' as never] }, /`algorithms` .*"rs256"/],
    ["the algorithms hold 'none'", { algorithms: ['none' as never] }, /`algorithms` .*"none"/],
    ["the algorithms hold 'HS256'", { algorithms: ['HS256' as never] }, /`algorithms` .*"HS256"/],
    ['clockTolerance is out of range', { clockTolerance: 3600 }, /`clockTolerance` is 3600/],
    ['the claim preset is unknown', { claims: 'ping-federate' as never }, /`claims` names unknown preset "ping-federate"/],
    [
      'a subject holds a role the policy does not define',
      { policies: { note: { roles: {}, subjects: { susan: { roles: ['reader'] } } } } },
      /`policies.note.subjects.susan.roles\[0\]` refers to role 'reader'/,
    ],
    ['a role lists non-string permissions', { policies: { note: { roles: { reader: [{ name: 'CanRead' }] as never } } } }, /`policies.note.roles.reader\[0\]` must be a string/],
  ])('when %s', (_case, overrides, problem) => {
    const options = () => ({ issuer: 'https://idp.example.com/', audience: AUDIENCE, ...overrides }) as AuthzModuleOptions;

    it('should refuse to start with forRoot, naming the option and how to fix it', async () => {
      expect(await startFailure(boot(guarded([AuthzModule.forRoot(options())])))).toMatch(problem);
    });

    it('should refuse to start with forRootAsync, naming the option and how to fix it', async () => {
      expect(await startFailure(boot(guarded([AuthzModule.forRootAsync({ useFactory: async () => options() })])))).toMatch(problem);
    });
  });

  describe('when a route is misconfigured', () => {
    const base = { issuer: 'https://idp.example.com/', audience: AUDIENCE, jwks: TestTokenIssuer.create().jwks };

    it('should refuse to start when a route is @Public and has @Scopes', async () => {
      @Controller()
      class MixedController {
        @Public()
        @Scopes('notes:read')
        @Get('mixed')
        mixed() {}
      }
      expect(await startFailure(boot(guarded([AuthzModule.forRoot(base)], [MixedController])))).toMatch(/MixedController\.mixed is @Public\(\) and also has @Scopes\(\)/);
    });

    it('should refuse to start when @Permissions has no @Policy and there is no defaultPolicy', async () => {
      @Controller()
      class NoPolicyController {
        @Permissions('CanRead')
        @Get('no-policy')
        read() {}
      }
      expect(await startFailure(boot(guarded([AuthzModule.forRoot({ ...base, policies })], [NoPolicyController])))).toMatch(
        /NoPolicyController\.read has @Permissions\(\) but no policy/,
      );
    });

    it('should refuse to start when @Policy names a policy the policies option lacks', async () => {
      @Policy('audit')
      @Controller()
      class AuditController {
        @Permissions('ViewAudit')
        @Get('audit')
        audit() {}
      }
      expect(await startFailure(boot(guarded([AuthzModule.forRoot({ ...base, policies })], [AuditController])))).toMatch(
        /AuditController\.audit checks permissions in policy 'audit', which `policies` does not define/,
      );
    });

    it('should refuse to start with forRootAsync when defaultPolicy names a policy the policies option lacks', async () => {
      @Controller()
      class DefaultPolicyController {
        @Permissions('CanRead')
        @Get('default')
        read() {}
      }
      const module = AuthzModule.forRootAsync({ useFactory: () => ({ ...base, policies, defaultPolicy: 'notes' }) });
      expect(await startFailure(boot(guarded([module], [DefaultPolicyController])))).toMatch(/policy 'notes', which `policies` does not define/);
    });

    it('should log the routes that declare neither @Public nor requirements', async () => {
      @Controller()
      class BareController {
        @Get('bare')
        bare() {}
      }
      const warnings: string[] = [];
      const logger: LoggerService = { log: () => undefined, error: () => undefined, warn: (message: unknown) => void warnings.push(String(message)) };
      const app = await boot(guarded([AuthzModule.forRoot(base)], [BareController]), logger);
      await app.close();
      expect(warnings.some((warning) => warning.includes('GET BareController.bare'))).toBe(true);
    });
  });
});

describe.each(ADAPTERS)('AuthzModule.forRoot and forRootAsync through the real guard (%s)', (adapter) => {
  let jwks: JwksServer;
  let syncApp: INestApplication;
  let asyncApp: INestApplication;
  const now = () => Math.floor(Date.now() / 1000);
  const token = (overrides: Record<string, unknown>) => signJws({ alg: 'RS256', kid: key.kid }, claims(jwks.issuer, AUDIENCE, overrides), key.privateKey);

  beforeAll(async () => {
    jwks = await new JwksServer().start();
    jwks.keys = [key.jwk];
    // clockTolerance differs from its default so that the test sees the options arrive through both forms.
    const options = (settings: AuthSettings): AuthzModuleOptions => ({
      issuer: settings.issuer,
      audience: AUDIENCE,
      jwksUri: settings.jwksUri,
      clockTolerance: 120,
      defaultPolicy: 'note',
      policies,
    });
    const settings = new AuthSettings(jwks.issuer, jwks.jwksUri);
    syncApp = await createApp(adapter, guarded([AuthzModule.forRoot(options(settings))]));
    asyncApp = await createApp(
      adapter,
      guarded([
        AuthzModule.forRootAsync({
          imports: [SettingsModule.register(settings)],
          inject: [AuthSettings],
          useFactory: async (injected: AuthSettings) => options(injected),
        }),
      ]),
    );
  });

  afterAll(async () => {
    await syncApp?.close();
    await asyncApp?.close();
    await jwks.stop();
  });

  describe.each<[string, 'get' | 'post', string, () => string | undefined, number]>([
    ['a public route without a token', 'get', '/notes/health', () => undefined, 200],
    ['no token', 'get', '/notes', () => undefined, 401],
    ['a reader', 'get', '/notes', () => token({ sub: 'susan', scope: 'notes:read' }), 200],
    ['a token expired within clockTolerance 120 s', 'get', '/notes', () => token({ sub: 'susan', scope: 'notes:read', exp: now() - 90 }), 200],
    ['a token expired beyond clockTolerance', 'get', '/notes', () => token({ sub: 'susan', scope: 'notes:read', exp: now() - 150 }), 401],
    ['a wrong audience', 'get', '/notes', () => token({ sub: 'susan', aud: 'other-api' }), 401],
    ['a missing scope', 'get', '/notes', () => token({ sub: 'susan', scope: 'notes:write' }), 403],
    ['a subject without the permission', 'get', '/notes', () => token({ sub: 'bob', scope: 'notes:read' }), 403],
    ['a writer creating', 'post', '/notes', () => token({ sub: 'alice', scope: 'notes:write' }), 201],
    ['a reader creating', 'post', '/notes', () => token({ sub: 'susan', scope: 'notes:write' }), 403],
  ])('when the request has %s', (_case, method, path, makeToken, status) => {
    it(`should answer ${status} with the same headers and body in both forms`, async () => {
      const send = (app: INestApplication) => {
        const t = makeToken();
        const req = request(app.getHttpServer())[method](path);
        return t === undefined ? req : req.auth(t, { type: 'bearer' });
      };
      const [fromSync, fromAsync] = [await send(syncApp), await send(asyncApp)];
      expect(fromSync.status).toBe(status);
      expect(fromAsync.status).toBe(status);
      expect(fromAsync.headers['www-authenticate']).toEqual(fromSync.headers['www-authenticate']);
      expect(fromAsync.body).toEqual(fromSync.body);
    });
  });

  describe('when the apps are up', () => {
    it('should provide the default PolicyService in both forms', () => {
      expect(syncApp.get(PolicyService)).toBeInstanceOf(DefaultPolicyService);
      expect(asyncApp.get(PolicyService)).toBeInstanceOf(DefaultPolicyService);
    });

    it('should resolve the same configuration in both forms', () => {
      expect(asyncApp.get<AuthzConfig>(AUTHZ_CONFIG)).toEqual(syncApp.get<AuthzConfig>(AUTHZ_CONFIG));
    });
  });
});

/** A custom policy: grants every permission to subject 'trusted', in any policy, and records every question. */
@Injectable()
class TrustedSubjectPolicy extends PolicyService {
  readonly questions: string[] = [];

  constructor(@Inject(AUTHZ_CONFIG) readonly config: AuthzConfig) {
    super();
  }

  async hasPermission(policy: string, identity: AuthzIdentity, permission: string): Promise<boolean> {
    this.questions.push(`${policy}:${identity.subject}:${permission}`);
    return identity.subject === 'trusted';
  }
}

/** A policy the module's `policies` option does not define: only a custom PolicyService knows it. */
@Policy('remote')
@Controller('remote')
class RemotePolicyController {
  @Permissions('CanRead')
  @Get()
  read() {
    return { ok: true };
  }
}

describe('AuthzModule with the policyService extra', () => {
  const kitKey = makeKey('custom-policy-key');
  const issuer = 'https://idp.example.com/';
  const bearer = (sub: string) => signJws({ alg: 'RS256', kid: kitKey.kid }, claims(issuer, AUDIENCE, { sub }), kitKey.privateKey);
  const options: AuthzModuleOptions = { issuer, audience: AUDIENCE, jwks: { keys: [kitKey.jwk] } };

  describe.each([
    ['forRoot', () => AuthzModule.forRoot({ ...options, policyService: TrustedSubjectPolicy })],
    ['forRootAsync', () => AuthzModule.forRootAsync({ useFactory: () => options, policyService: TrustedSubjectPolicy })],
  ])('when given to %s', (_form, module) => {
    let app: INestApplication;

    beforeAll(async () => {
      // Starting at all shows the boot check leaves policies a custom service knows alone.
      app = await boot(guarded([module()], [RemotePolicyController]));
    });

    afterAll(async () => {
      await app?.close();
    });

    it('should provide the custom class as PolicyService, with its own dependencies injected', () => {
      const policy = app.get(PolicyService);
      expect(policy).toBeInstanceOf(TrustedSubjectPolicy);
      expect((policy as TrustedSubjectPolicy).config.audiences).toEqual([AUDIENCE]);
    });

    it('should have the guard ask the custom class', async () => {
      await request(app.getHttpServer()).get('/remote').auth(bearer('trusted'), { type: 'bearer' }).expect(200);
      const res = await request(app.getHttpServer()).get('/remote').auth(bearer('susan'), { type: 'bearer' }).expect(403);
      expect(res.body).toMatchObject({ policy: 'remote', missingPermissions: ['CanRead'] });
      expect((app.get(PolicyService) as TrustedSubjectPolicy).questions).toEqual(['remote:trusted:CanRead', 'remote:susan:CanRead']);
    });
  });
});

/** A feature module's service that needs PolicyService without importing AuthzModule. */
@Injectable()
class NoteFilter {
  constructor(readonly policies: PolicyService) {}
}

@Module({ providers: [NoteFilter] })
class FeatureModule {}

@Controller('feature')
class FeatureController {
  @Get()
  feature() {
    return { ok: true };
  }
}

@Module({ controllers: [FeatureController] })
class FeatureControllerModule {}

describe('AuthzModule isGlobal', () => {
  const options: AuthzModuleOptions = { issuer: 'https://idp.example.com/', audience: AUDIENCE, jwks: { keys: [key.jwk] } };

  describe('when left at its default (true)', () => {
    it('should let a feature module that does not import AuthzModule inject PolicyService', async () => {
      const app = await boot({ imports: [AuthzModule.forRoot(options), FeatureModule] });
      expect(app.get(NoteFilter).policies).toBeInstanceOf(DefaultPolicyService);
      await app.close();
    });
  });

  describe('when set to false', () => {
    it('should refuse to start when a feature module without the import injects PolicyService', async () => {
      const outcome = await boot({ imports: [AuthzModule.forRoot({ ...options, isGlobal: false }), FeatureModule] }).catch((error: Error) => error);
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toMatch(/NoteFilter \(\?\)[\s\S]*PolicyService/);
    });

    it('should refuse the same with forRootAsync', async () => {
      const outcome = await boot({ imports: [AuthzModule.forRootAsync({ useFactory: () => options, isGlobal: false }), FeatureModule] }).catch((error: Error) => error);
      expect((outcome as Error).message).toMatch(/NoteFilter \(\?\)[\s\S]*PolicyService/);
    });

    it('should still let the importing module register AuthzGuard as APP_GUARD over every module', async () => {
      const app = await boot({
        imports: [AuthzModule.forRoot({ ...options, isGlobal: false }), FeatureControllerModule],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
      try {
        await request(app.getHttpServer()).get('/feature').expect(401);
        const t = signJws({ alg: 'RS256', kid: key.kid }, claims(options.issuer!, AUDIENCE), key.privateKey);
        await request(app.getHttpServer()).get('/feature').auth(t, { type: 'bearer' }).expect(200);
      } finally {
        await app.close();
      }
    });
  });
});
