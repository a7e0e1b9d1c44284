import { Controller, Get, type INestApplication, type LoggerService } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzConfigurationError, AuthzGuard, AuthzModule, CurrentIdentity, DefaultPolicyService, Permissions, Policy, PolicyService, Public, type AuthzIdentity } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';

// Business code on a route the guard never saw asks the built-in PolicyService without an identity: the rule is a
// 500 with an AuthzConfigurationError that says what to fix (logged), never a TypeError, never an answer.

const issuer = TestTokenIssuer.create();
const policies = { note: { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } } };

@Policy('note')
@Controller('notes')
class NotesController {
  constructor(private readonly policies: PolicyService) {}

  @Permissions('CanRead')
  @Get()
  async list(@CurrentIdentity() identity: AuthzIdentity) {
    return [...(await this.policies.permissionsOf('note', identity, ['CanRead']))];
  }

  @Public()
  @Get('public')
  async open(@CurrentIdentity() identity: AuthzIdentity) {
    return { allowed: await this.policies.hasPermission('note', identity, 'CanRead') };
  }
}

describe('the built-in PolicyService without an identity', () => {
  let errors: string[];
  let app: INestApplication;

  const boot = async (guarded: boolean) => {
    errors = [];
    const logger: LoggerService = { log: () => undefined, warn: () => undefined, error: (...parts: unknown[]) => void errors.push(parts.map(String).join(' ')) };
    const moduleRef = await Test.createTestingModule({
      imports: [AuthzModule.forRoot(issuer.moduleOptions({ policies }))],
      controllers: [NotesController],
      providers: guarded ? [{ provide: APP_GUARD, useClass: AuthzGuard }] : [],
    }).compile();
    app = await moduleRef.createNestApplication({ logger }).init();
  };

  afterEach(async () => {
    await app.close();
  });

  describe('when the app forgot APP_GUARD', () => {
    it('should answer 500 and log an AuthzConfigurationError saying how to fix it', async () => {
      await boot(false);
      const res = await request(app.getHttpServer()).get('/notes').expect(500);
      expect(JSON.stringify(res.body)).not.toContain('TypeError');
      const logged = errors.join('\n');
      expect(logged).toContain('PolicyService.permissionsOf() was called without an identity (got undefined)');
      expect(logged).toContain('{ provide: APP_GUARD, useClass: AuthzGuard }');
      expect(logged).not.toContain('TypeError');
    });
  });

  describe('when a @Public() route asks with its (absent) identity', () => {
    it('should answer 500 from hasPermission too, while guarded routes work', async () => {
      await boot(true);
      await request(app.getHttpServer()).get('/notes/public').expect(500);
      expect(errors.join('\n')).toContain('PolicyService.hasPermission() was called without an identity');
      const res = await request(app.getHttpServer()).get('/notes').auth(issuer.sign({ sub: 'susan' }), { type: 'bearer' }).expect(200);
      expect(res.body).toEqual(['CanRead']);
    });
  });

  describe('when business code calls the service directly', () => {
    it.each([
      ['undefined', undefined],
      ['null', null],
      ['an object without subject', {}],
    ])('should throw AuthzConfigurationError for %s, from every method', async (_name, identity) => {
      await boot(true);
      const service = app.get(PolicyService) as DefaultPolicyService;
      const none = identity as unknown as AuthzIdentity;
      await expect(service.permissionsOf('note', none, ['CanRead'])).rejects.toThrow(AuthzConfigurationError);
      await expect(service.hasPermission('note', none, 'CanRead')).rejects.toThrow(AuthzConfigurationError);
      await expect(service.grantedPermissions('note', none)).rejects.toThrow(AuthzConfigurationError);
      expect(() => service.cachedDecision('note', none, 'CanRead')).toThrow(AuthzConfigurationError);
    });
  });
});
