import type { INestApplication, LoggerService } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthzGuard, AuthzModule, type PolicyDocuments, type PolicyStore } from 'nestjs-authz';
import { ADMIN_SCOPE, AuthzAdminModule, type AuthzAdminOptions } from 'nestjs-authz/admin';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import type { Adapter } from '../../support/app';

/** One issuer for every admin suite: key generation is the slow part of a token issuer. */
export const issuer = TestTokenIssuer.create();

/** Fastify routes parameters of at most 100 characters unless told; the admin API documents raising it. */
export const FASTIFY_MAX_PARAM_LENGTH = 20_000;

export interface AdminAppOptions {
  /** The store behind AuthzModule (`policyStore`); else `policies` in memory. */
  store?: PolicyStore;
  policies?: PolicyDocuments;
  admin?: AuthzAdminOptions;
  /** Also guard every route with APP_GUARD (the admin guard then runs twice). */
  appGuard?: boolean;
  logger?: LoggerService;
  /** Fastify's own `maxParamLength`; default {@link FASTIFY_MAX_PARAM_LENGTH}. */
  maxParamLength?: number;
}

/** An initialised app with AuthzModule (trusting {@link issuer}) and AuthzAdminModule, on the chosen adapter. */
export async function createAdminApp(adapter: Adapter, options: AdminAppOptions = {}): Promise<INestApplication> {
  const storeOptions = options.store ? { policyStore: options.store } : { policies: options.policies ?? {} };
  const moduleRef = await Test.createTestingModule({
    imports: [AuthzModule.forRoot(issuer.moduleOptions(storeOptions)), AuthzAdminModule.register(options.admin)],
    providers: options.appGuard ? [{ provide: APP_GUARD, useClass: AuthzGuard }] : [],
  }).compile();
  const logger = options.logger ?? false;
  if (adapter === 'fastify') {
    const fastify = new FastifyAdapter({ routerOptions: { maxParamLength: options.maxParamLength ?? FASTIFY_MAX_PARAM_LENGTH } });
    const app = moduleRef.createNestApplication<NestFastifyApplication>(fastify, { logger });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  }
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return app;
}

/** A token of `sub` with the admin scope (or the given scopes). */
export function tokenOf(sub: string, scopes: string[] = [ADMIN_SCOPE], roles?: string[]): string {
  return issuer.sign({ sub, scopes, ...(roles ? { roles } : {}) });
}

/** supertest calls against one app, authenticated as `sub` (an administrator unless told otherwise). */
export class AdminClient {
  constructor(
    private readonly app: INestApplication,
    /** `null`: no Authorization header. */
    private readonly token: string | null = tokenOf('carol'),
    private readonly base = '/authz',
  ) {}

  as(sub: string, scopes?: string[]): AdminClient {
    return new AdminClient(this.app, tokenOf(sub, scopes), this.base);
  }

  anonymous(): AdminClient {
    return new AdminClient(this.app, null, this.base);
  }

  at(base: string): AdminClient {
    return new AdminClient(this.app, this.token, base);
  }

  get(path: string): request.Test {
    return this.auth(request(this.app.getHttpServer()).get(this.base + path));
  }

  put(path: string, body?: unknown): request.Test {
    const req = this.auth(request(this.app.getHttpServer()).put(this.base + path));
    return body === undefined ? req : req.send(body as object);
  }

  delete(path: string): request.Test {
    return this.auth(request(this.app.getHttpServer()).delete(this.base + path));
  }

  private auth(req: request.Test): request.Test {
    return this.token === null ? req : req.auth(this.token, { type: 'bearer' });
  }
}
