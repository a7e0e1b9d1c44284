import type { ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import request from 'supertest';
import { AuthzGuard, PolicyService, UnsupportedContextException, type AuthzIdentity } from 'nestjs-authz';
import { ADAPTERS } from '../support/app';
import { challenge, Refusal } from './support/challenge';
import { SecurityFixtureController } from './support/fixtures';
import { makeKey } from './support/tokens';
import { useSecurityApp } from './support/use-app';

/**
 * The guard denies whenever it cannot decide: a failing or slow PolicyService, a route without requirements,
 * a transport it does not understand. Each denial says why, to the caller or to the operator's log.
 */
const key = makeKey('key-1');
const POLICY_TIMEOUT_MS = 50;

/** Answers by subject: throws, hangs, or returns something that is not `true`. */
class UnreliablePolicy extends PolicyService {
  async hasPermission(_policy: string, identity: AuthzIdentity): Promise<boolean> {
    switch (identity.subject) {
      case 'throws':
        throw new Error('policy database unreachable');
      case 'hangs':
        return new Promise<boolean>(() => undefined);
      case 'truthy':
        return 'yes' as unknown as boolean;
      case 'allowed':
        return true;
      default:
        return false;
    }
  }
}

describe.each(ADAPTERS)('fail closed (%s)', (adapter) => {
  describe('when the PolicyService cannot decide', () => {
    const ctx = useSecurityApp(adapter, [key], { policyTimeoutMs: POLICY_TIMEOUT_MS }, { policyService: UnreliablePolicy });
    const errorLog = () => ctx.sa.logger.at('error').map((entry) => entry.text).join('\n');

    it('should allow when the service says true (control)', async () => {
      await ctx.withToken(ctx.tokens.sign({ sub: 'allowed' }), '/notes').expect(200, { subject: 'allowed' });
    });

    it('should answer 503 when it throws, and log the cause', async () => {
      const res = await ctx.withToken(ctx.tokens.sign({ sub: 'throws' }), '/notes').expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.message).toBe("Policy 'note' could not be evaluated; try again later");
      // The cause is for the operator's log, never for the caller.
      expect(res.text).not.toContain('unreachable');
      expect(errorLog()).toContain("PolicyService failed for policy 'note', subject 'throws'; denying with 503");
      expect(errorLog()).toContain('policy database unreachable');
    });

    it('should answer 503 once policyTimeoutMs has passed, and log the timeout', async () => {
      const started = performance.now();
      const res = await ctx.withToken(ctx.tokens.sign({ sub: 'hangs' }), '/notes');
      expect(res.status).toBe(503);
      expect(performance.now() - started).toBeGreaterThanOrEqual(POLICY_TIMEOUT_MS - 5);
      expect(errorLog()).toContain(`policy 'note' gave no answer within ${POLICY_TIMEOUT_MS} ms`);
    });

    it('should deny (403) an answer that is truthy but not true', async () => {
      const res = await ctx.withToken(ctx.tokens.sign({ sub: 'truthy' }), '/notes').expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanRead'] });
    });
  });

  describe('a route with neither @Public() nor any requirement', () => {
    const ctx = useSecurityApp(adapter, [key]);

    it('should still need credentials', async () => {
      const res = await request(ctx.sa.url).get('/unannotated').expect(401);
      expect(res.headers['www-authenticate']).toBe(challenge.missingCredentials);
    });

    it('should still need a valid token', async () => {
      await ctx.expectInvalidToken(ctx.tokens.sign({ aud: 'other-api' }), Refusal.audience);
      await ctx.expectInvalidToken(ctx.tokens.sign({}, {}, makeKey(key.kid)), Refusal.signature);
    });

    it('should pass with a valid token', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200, { subject: 'susan' });
    });

    it('should be listed by the boot-time route report, and only it', () => {
      const warnings = ctx.sa.logger.at('warn').map((entry) => entry.text);
      const report = warnings.find((text) => text.includes('declare neither @Public() nor @Scopes()/@Permissions()'));
      expect(report).toContain('1 route(s)');
      expect(report).toContain('GET SecurityFixtureController.unannotated');
      for (const annotated of ['open', 'admin', 'notes']) expect(report).not.toContain(`SecurityFixtureController.${annotated}`);
    });
  });

  describe('a context of a transport the library does not know', () => {
    const ctx = useSecurityApp(adapter, [key]);
    const contextOf = (type: string, handler: Function): ExecutionContext => {
      const host = new ExecutionContextHost([{ headers: { authorization: `Bearer ${ctx.tokens.sign()}` } }, {}], SecurityFixtureController, handler);
      host.setType(type);
      return host;
    };

    // GraphQL, WebSockets and RPC have their own tests (test/transports); anything else is denied.
    it.each(['kafka-custom', 'grpc-stream', 'constructor'])('should deny a %s call with a clear error, even with a valid token', async (type) => {
      const guard = ctx.sa.app.get(AuthzGuard);
      const denial = await guard.canActivate(contextOf(type, SecurityFixtureController.prototype.unannotated)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(denial).toBeInstanceOf(UnsupportedContextException);
      expect((denial as UnsupportedContextException).getStatus()).toBe(403);
      expect((denial as UnsupportedContextException).message).toBe(`AuthzGuard does not support '${type}' contexts and denies the call`);
    });

    it('should deny it even on a @Public() handler (it cannot know what public means there)', async () => {
      const guard = ctx.sa.app.get(AuthzGuard);
      await expect(guard.canActivate(contextOf('kafka-custom', SecurityFixtureController.prototype.open))).rejects.toThrow(UnsupportedContextException);
    });
  });
});
