import request from 'supertest';
import type { AuthzModuleOptions } from 'nestjs-authz';
import type { Adapter } from '../../support/app';
import type { TestKey } from '../../support/signing';
import { challenge } from './challenge';
import { JwksServer } from '../../support/jwks-server';
import { startSecurityApp, type SecurityApp, type SecurityAppOptions } from './security-app';
import { TokenFactory } from './tokens';

/** What {@link useSecurityApp} hands a describe block once `beforeAll` has run. */
export interface AppContext {
  sa: SecurityApp;
  provider: JwksServer;
  tokens: TokenFactory;
  /** GET `path` (default the unannotated route) with `Authorization: Bearer <token>`. */
  withToken(token: string, path?: string): request.Test;
  /** Expects 401 invalid_token with exactly this description. */
  expectInvalidToken(token: string, description: string, path?: string): Promise<request.Response>;
}

/**
 * Starts a provider serving `keys` and the guarded fixture app trusting it (keys fetched from `jwksUri`) for the
 * enclosing describe block, and stops both afterwards. The first key signs {@link AppContext.tokens}' tokens.
 */
export function useSecurityApp(adapter: Adapter, keys: TestKey[], authz: Partial<AuthzModuleOptions> = {}, extra: Omit<SecurityAppOptions, 'authz'> = {}): AppContext {
  const context = {} as AppContext;
  beforeAll(async () => {
    context.provider = await new JwksServer().start();
    context.provider.keys = keys.map((key) => key.jwk);
    context.sa = await startSecurityApp(adapter, { authz: { issuer: context.provider.issuer, jwksUri: context.provider.jwksUri, ...authz }, ...extra });
    context.tokens = new TokenFactory(context.provider.issuer, keys[0], extra.clock?.now);
    context.withToken = (token, path = '/unannotated') => request(context.sa.url).get(path).set('Authorization', `Bearer ${token}`);
    context.expectInvalidToken = async (token, description, path) => {
      const res = await context.withToken(token, path);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(description));
      return res;
    };
  });
  afterAll(async () => {
    await context.sa?.close();
    await context.provider?.stop();
  });
  return context;
}
