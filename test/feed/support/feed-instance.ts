import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { AuthzGuard, AuthzModule, DefaultPolicyService, PolicyService, type PolicyDocument, type PostgresPolicyStore } from 'nestjs-authz';
import { ADMIN_SCOPE, AuthzAdminModule } from 'nestjs-authz/admin';
import { TestTokenIssuer } from 'nestjs-authz/testing';
import { FixtureController } from '../../fixtures/notes-fixture.controller';
import { createApp, type Adapter } from '../../support/app';

/** One issuer trusted by every instance of a suite, as one identity provider is trusted by every replica. */
export const issuer = TestTokenIssuer.create();

/** The administrator the admin module creates policy `authz` for on its first start. */
export const ADMINISTRATOR = 'carol';

/** Policy `note` as the suites provision it: susan reads through a direct permission, alice through a role. */
export const notePolicy: PolicyDocument = {
  roles: { reader: ['CanRead'] },
  subjects: { susan: { permissions: ['CanRead'] }, alice: { roles: ['reader'] } },
};

/** GET /notes of the fixture controller: scope `notes:read` and permission `CanRead` in policy `note`. */
export const GUARDED_ROUTE = '/notes';

const tokens = new Map<string, string>();

/** A signed token of `subject` that may read notes (the same bytes every time, as a client reuses its token). */
export function readerToken(subject: string): string {
  let token = tokens.get(subject);
  if (!token) tokens.set(subject, (token = issuer.sign({ sub: subject, scopes: ['notes:read'], expiresIn: 3_600 })));
  return token;
}

export interface InstanceOptions {
  readonly adapter: Adapter;
  /** This instance's own store (its own pool and LISTEN connection); the app closes it. */
  readonly store: PostgresPolicyStore;
  /** Mount the admin API under /authz (administrator {@link ADMINISTRATOR}). */
  readonly admin?: boolean;
  readonly ttlMs: number;
  readonly policyTimeoutMs?: number;
}

/** One app instance: the real AuthzGuard on every route, the default PolicyService and its decision cache. */
export class FeedInstance {
  private constructor(
    readonly name: string,
    readonly app: INestApplication,
    readonly store: PostgresPolicyStore,
  ) {}

  static async start(name: string, options: InstanceOptions): Promise<FeedInstance> {
    const app = await createApp(options.adapter, {
      imports: [
        AuthzModule.forRoot(
          issuer.moduleOptions({ policyStore: options.store, defaultPolicy: 'note', decisionCache: { ttlMs: options.ttlMs }, policyTimeoutMs: options.policyTimeoutMs }),
        ),
        ...(options.admin ? [AuthzAdminModule.register({ administrators: [ADMINISTRATOR] })] : []),
      ],
      controllers: [FixtureController],
      providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
    });
    return new FeedInstance(name, app, options.store);
  }

  /** The instance's decision cache. */
  get policies(): DefaultPolicyService {
    return this.app.get(PolicyService) as DefaultPolicyService;
  }

  /** GET of the guarded route as `subject`. */
  read(subject: string): request.Test {
    return request(this.app.getHttpServer()).get(GUARDED_ROUTE).auth(readerToken(subject), { type: 'bearer' });
  }

  /** GET of a public route: the app itself answers. */
  ping(): request.Test {
    return request(this.app.getHttpServer()).get('/public');
  }

  /** A call of the admin API (mounted on this instance) as the administrator. */
  admin(method: 'put' | 'delete', path: string, body?: object): request.Test {
    const token = issuer.sign({ sub: ADMINISTRATOR, scopes: [ADMIN_SCOPE] });
    const req = request(this.app.getHttpServer())[method](`/authz${path}`).auth(token, { type: 'bearer' });
    return body === undefined ? req : req.send(body);
  }

  /** Stops the app; AuthzModule closes the store (its pool and its listener). */
  close(): Promise<void> {
    return this.app.close();
  }
}

/** When a request was sent and answered (performance.now()), and its status. */
export interface Answer {
  readonly status: number;
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly retryAfter?: string;
}

/** Sends one request and times it. */
export async function timed(send: () => request.Test): Promise<Answer> {
  const sentAt = performance.now();
  const res = await send();
  return { status: res.status, sentAt, answeredAt: performance.now(), retryAfter: res.headers['retry-after'] };
}

/**
 * Sends requests one after another, without pause, until one answers `wanted`; fails once `deadlineMs` has passed,
 * or at once when an answer is none of `wanted` and `meanwhile`. Returns every answer, the wanted one last.
 */
export async function requestUntil(send: () => request.Test, wanted: number, meanwhile: readonly number[], deadlineMs: number, what: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    const answer = await timed(send);
    answers.push(answer);
    if (answer.status === wanted) return answers;
    if (!meanwhile.includes(answer.status)) {
      throw new Error(`${what}: answered ${answer.status} (expected ${wanted}, or meanwhile ${meanwhile.join('/')}) after ${answers.length} requests`);
    }
    if (answer.answeredAt > deadline) {
      throw new Error(`${what}: still ${answer.status} after ${deadlineMs} ms (${answers.length} requests); expected ${wanted}`);
    }
  }
}
