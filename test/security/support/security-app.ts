import type { INestApplication, ModuleMetadata, Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { AUTHZ_CONFIG, AuthzGuard, AuthzModule, KeySet, TokenVerifier, type AuthzConfig, type AuthzModuleOptions, type PolicyService } from 'nestjs-authz';
import type { Adapter } from '../../support/app';
import { CaptureLogger } from './capture-logger';
import type { TestClock } from './clock';
import { SecurityFixtureController, securityPolicies } from './fixtures';

export const AUDIENCE = 'notes-api';

export interface SecurityAppOptions {
  /** AuthzModule options; `audience`, `defaultPolicy` and `policies` default to the security fixtures'. */
  authz: Partial<AuthzModuleOptions> & { issuer: string };
  policyService?: Type<PolicyService>;
  controllers?: Type[];
  /** Moves KeySet's and TokenVerifier's time (cooldowns, key-set age, exp) without sleeping. */
  clock?: TestClock;
}

/** A running app: the real module and guard on 127.0.0.1, with its key set, verifier and captured log. */
export interface SecurityApp {
  readonly app: INestApplication;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly keySet: KeySet;
  readonly verifier: TokenVerifier;
  readonly logger: CaptureLogger;
  close(): Promise<void>;
}

/**
 * Builds the guarded fixture app on Express or Fastify and listens on 127.0.0.1, so tests can use supertest or a
 * keep-alive `fetch`. Only the clock of KeySet/TokenVerifier is swapped (when asked); everything else is the real path.
 */
export async function startSecurityApp(adapter: Adapter, options: SecurityAppOptions): Promise<SecurityApp> {
  const metadata: ModuleMetadata = {
    imports: [
      AuthzModule.forRoot({
        audience: AUDIENCE,
        defaultPolicy: 'note',
        policies: securityPolicies,
        ...options.authz,
        ...(options.policyService ? { policyService: options.policyService } : {}),
      }),
    ],
    controllers: options.controllers ?? [SecurityFixtureController],
    providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
  };
  const builder = Test.createTestingModule(metadata);
  const clock = options.clock;
  if (clock) {
    builder.overrideProvider(KeySet).useFactory({ factory: (config: AuthzConfig) => new KeySet(config, clock.now), inject: [AUTHZ_CONFIG] });
    builder
      .overrideProvider(TokenVerifier)
      .useFactory({ factory: (config: AuthzConfig, keys: KeySet) => new TokenVerifier(config, keys, clock.now), inject: [AUTHZ_CONFIG, KeySet] });
  }
  const moduleRef = await builder.compile();
  const logger = new CaptureLogger();
  const app =
    adapter === 'fastify'
      ? moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    keySet: app.get(KeySet),
    verifier: app.get(TokenVerifier),
    logger,
    close: () => app.close(),
  };
}
