import { Controller, Get, Injectable, Module, UseGuards, type INestApplication, type LoggerService, type ModuleMetadata } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzConfigurationError, AuthzGuard, AuthzModule, Permissions, Policy, PolicyService, Public, Scopes, type AuthzIdentity } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';

// The two easy mistakes of a first hour, and the @Policy() typo check for custom services: what the app says at start.

const issuer = TestTokenIssuer.create();

@Policy('note')
@Controller('notes')
class NotesController {
  @Scopes('notes:read')
  @Get()
  list() {
    return [];
  }

  @Public()
  @Get('health')
  health() {
    return { status: 'ok' };
  }
}

@UseGuards(AuthzGuard)
@Controller('guarded')
class GuardedController {
  @Permissions('CanRead')
  @Get()
  read() {
    return [];
  }
}

@Controller('handler-guarded')
class HandlerGuardedController {
  @UseGuards(AuthzGuard)
  @Scopes('notes:read')
  @Get()
  read() {
    return [];
  }
}

class EveryoneReads extends PolicyService {
  async hasPermission(_policy: string, _identity: AuthzIdentity, permission: string) {
    return permission === 'CanRead';
  }
}

interface Started {
  app?: INestApplication;
  error?: unknown;
  warnings: string[];
}

async function start(metadata: ModuleMetadata, configure?: (app: INestApplication) => void): Promise<Started> {
  const warnings: string[] = [];
  const logger: LoggerService = { log: () => undefined, error: () => undefined, warn: (message: unknown) => void warnings.push(String(message)) };
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({ logger });
  configure?.(app);
  try {
    await app.init();
    return { app, warnings };
  } catch (error) {
    await app.close().catch(() => undefined);
    return { error, warnings };
  }
}

const unguardedWarning = (warnings: string[]) => warnings.find((text) => text.includes('no AuthzGuard protects them'));
const duplicateWarning = (warnings: string[]) => warnings.find((text) => text.includes('PolicyService is provided in'));

describe('start-time warnings', () => {
  const opened: INestApplication[] = [];
  const started = async (metadata: ModuleMetadata, configure?: (app: INestApplication) => void) => {
    const result = await start(metadata, configure);
    if (result.app) opened.push(result.app);
    return result;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((app) => app.close()));
  });

  describe('when routes declare requirements but no AuthzGuard protects them', () => {
    it('should warn naming those routes and how to fix it', async () => {
      const { app, warnings } = await started({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note: {} } }))],
        controllers: [NotesController, GuardedController],
      });
      const warning = unguardedWarning(warnings);
      expect(warning).toContain('1 route(s) declare @Scopes()/@Permissions() but no AuthzGuard protects them');
      expect(warning).toContain('GET NotesController.list');
      expect(warning).not.toContain('GuardedController');
      expect(warning).not.toContain('NotesController.health');
      expect(warning).toContain('{ provide: APP_GUARD, useClass: AuthzGuard }');
      // What the warning is about: the route is open.
      await request(app!.getHttpServer()).get('/notes').expect(200);
    });

    it('should not warn when APP_GUARD turns AuthzGuard on', async () => {
      const { warnings } = await started({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ policies: { note: {} } }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
      expect(unguardedWarning(warnings)).toBeUndefined();
    });

    it('should not warn when a subclass of AuthzGuard is the APP_GUARD', async () => {
      @Injectable()
      class AppGuard extends AuthzGuard {}
      const { warnings } = await started({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ policies: { note: {} } }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AppGuard }],
      });
      expect(unguardedWarning(warnings)).toBeUndefined();
    });

    it('should not warn when app.useGlobalGuards() turns AuthzGuard on', async () => {
      const { warnings } = await started({ imports: [AuthzModule.forRoot(issuer.moduleOptions({ policies: { note: {} } }))], controllers: [NotesController] }, (app) =>
        app.useGlobalGuards(app.get(AuthzGuard)),
      );
      expect(unguardedWarning(warnings)).toBeUndefined();
    });

    it('should not warn for @UseGuards(AuthzGuard) on the controller or the handler', async () => {
      const { warnings } = await started({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: { note: {} } }))],
        controllers: [GuardedController, HandlerGuardedController],
      });
      expect(unguardedWarning(warnings)).toBeUndefined();
    });
  });

  describe('when a PolicyService is provided outside AuthzModule', () => {
    it('should warn naming the module, the class, and the `policyService` option', async () => {
      @Module({
        imports: [AuthzModule.forRoot(issuer.moduleOptions({ policies: { note: {} } }))],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }, { provide: PolicyService, useClass: EveryoneReads }],
      })
      class AppModule {}
      const { warnings } = await started({ imports: [AppModule] });
      const warning = duplicateWarning(warnings);
      expect(warning).toContain('PolicyService is provided in AppModule (EveryoneReads) besides AuthzModule (DefaultPolicyService)');
      expect(warning).toContain('policyService: MyPolicyService');
    });

    it('should not warn when the class is given to the module with `policyService`', async () => {
      const { warnings } = await started({
        imports: [AuthzModule.forRoot({ ...issuer.moduleOptions({ policies: { note: {} } }), policyService: EveryoneReads })],
        controllers: [NotesController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
      expect(duplicateWarning(warnings)).toBeUndefined();
    });
  });

  describe('when a custom PolicyService implements policyNames()', () => {
    const withNames = (policyNames: () => readonly string[] | Promise<readonly string[]>) =>
      class NamedPolicies extends EveryoneReads {
        override policyNames = policyNames;
      };

    it('should start when every route names a policy it knows', async () => {
      const { error } = await started({
        imports: [AuthzModule.forRoot({ ...issuer.moduleOptions({ defaultPolicy: 'notes' }), policyService: withNames(() => ['notes']) })],
        controllers: [NotesController, GuardedController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
      expect(error).toBeUndefined();
    });

    it('should refuse to start for a policy name it does not know, from an async policyNames()', async () => {
      const typo = await started({
        imports: [AuthzModule.forRoot({ ...issuer.moduleOptions({ defaultPolicy: 'note' }), policyService: withNames(async () => ['notes']) })],
        controllers: [GuardedController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
      expect(typo.error).toBeInstanceOf(AuthzConfigurationError);
      expect((typo.error as Error).message).toContain("GuardedController.read checks permissions in policy 'note', which NamedPolicies.policyNames() does not define");
    });

    it('should start with a warning when policyNames() fails', async () => {
      const { app, warnings } = await started({
        imports: [AuthzModule.forRoot({ ...issuer.moduleOptions({ defaultPolicy: 'note' }), policyService: withNames(() => Promise.reject(new Error('policy server down'))) })],
        controllers: [GuardedController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      });
      expect(app).toBeDefined();
      expect(warnings.join('\n')).toContain('NamedPolicies.policyNames() failed (policy server down); @Policy() names are not checked at start.');
    });
  });
});
