import type { INestApplication } from '@nestjs/common';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import request from 'supertest';
import { AuthzModule } from 'nestjs-authz';
import { TestTokenIssuer } from 'nestjs-authz/testing';
// The `nestjs-authz/passport` entry, by path: tsconfig.json and jest.config.js map only the other entries so far.
import { PASSPORT_IDENTITY, PassportAuthzGuard } from 'nestjs-authz/passport';
import { ADAPTERS, createApp } from '../support/app';
import { JwksServer } from '../support/jwks-server';
import { makeKey, signJws } from '../support/signing';
import {
  ApiKeyStrategy,
  AUDIENCE,
  hasCredentials,
  invalidToken,
  jwtStrategyFor,
  PassportFixtureController,
  passportPolicies,
  REALM_CHALLENGE,
  toIdentity,
} from './fixtures';

const REFUSED = 'The credentials were not accepted';

/**
 * Mode (a): the app authenticates with its own passport strategies (passport-jwt with keys from a JWKS, and an
 * API-key strategy); PassportAuthzGuard maps their user and enforces @Scopes / @Permissions / the PolicyService.
 */
describe.each(ADAPTERS)('PassportAuthzGuard over the app\'s own strategies (%s)', (adapter) => {
  const issuer = TestTokenIssuer.create({ audience: AUDIENCE });
  let jwks: JwksServer;
  let app: INestApplication;

  const get = (path: string) => request(app.getHttpServer()).get(path);
  const bearer = (path: string, token: string) => get(path).set('Authorization', `Bearer ${token}`);
  const apiKey = (path: string, key: string) => get(path).set('X-API-Key', key);

  beforeAll(async () => {
    jwks = await new JwksServer().start();
    jwks.keys = issuer.jwks.keys as Record<string, unknown>[];
    app = await createApp(adapter, {
      imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: passportPolicies }))],
      controllers: [PassportFixtureController],
      providers: [
        jwtStrategyFor(jwks.jwksUri, issuer.issuer),
        ApiKeyStrategy,
        { provide: APP_GUARD, useClass: PassportAuthzGuard.using({ strategy: ['jwt', 'api-key'], toIdentity, hasCredentials }) },
      ],
    });
  });

  afterAll(async () => {
    await app.close();
    await jwks.stop();
  });

  describe('when the credentials are good', () => {
    it('should let a passport-jwt bearer token through, scopes and permission granted', async () => {
      await bearer('/notes', issuer.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(200, { subject: 'susan' });
    });

    it('should let an API key through, scopes and permission granted', async () => {
      await apiKey('/notes', 'key-reader').expect(200, { subject: 'svc-reader' });
    });

    it('should hand @CurrentIdentity() the mapped, frozen identity', async () => {
      const res = await apiKey('/me', 'key-admin').expect(200);
      expect(res.body).toEqual({ subject: 'svc-admin', issuer: 'api-key', scopes: ['notes:read', 'admin'], frozen: true });
      const jwt = await bearer('/me', issuer.sign({ sub: 'susan', scopes: ['notes:read', 'notes:write'] })).expect(200);
      expect(jwt.body).toEqual({ subject: 'susan', issuer: issuer.issuer, scopes: ['notes:read', 'notes:write'], frozen: true });
    });

    it('should not run any strategy on a @Public() route', async () => {
      await apiKey('/public', 'key-broken').expect(200, { ok: true });
      await get('/public').expect(200, { ok: true });
    });
  });

  describe('when credentials are missing or refused', () => {
    it('should answer 401 with a bare Bearer challenge when there are no credentials', async () => {
      const res = await get('/notes').expect(401);
      expect(res.headers['www-authenticate']).toBe(REALM_CHALLENGE);
    });

    it.each([
      ['signed by another key', () => signJws({ alg: 'RS256', typ: 'at+jwt', kid: issuer.kid }, { iss: issuer.issuer, aud: AUDIENCE, sub: 'susan', exp: Math.floor(Date.now() / 1000) + 300 }, makeKey('x').privateKey)],
      ['expired', () => issuer.sign({ sub: 'susan', scopes: ['notes:read'], expiresIn: -120 })],
      ['for another audience', () => issuer.sign({ sub: 'susan', aud: 'other-api' })],
      ['from another issuer', () => issuer.sign({ sub: 'susan', iss: 'https://evil.example/' })],
      ['alg none', () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'susan', iss: issuer.issuer, aud: AUDIENCE })).toString('base64url')}.`],
      ['not a JWT', () => 'garbage'],
    ])('should answer 401 invalid_token to a bearer token %s', async (_case, token) => {
      const res = await bearer('/notes', token()).expect(401);
      expect(res.headers['www-authenticate']).toBe(invalidToken(REFUSED));
    });

    it('should answer 401 invalid_token to an unknown API key', async () => {
      const res = await apiKey('/notes', 'key-unknown').expect(401);
      expect(res.headers['www-authenticate']).toBe(invalidToken(REFUSED));
    });

    it('should answer an HS256 token keyed with the public key with 401 (passport-jwt is pinned to RS256)', async () => {
      const pem = createPublicKey({ key: issuer.jwks.keys[0] as JsonWebKey, format: 'jwk' }).export({ format: 'pem', type: 'spki' });
      const res = await bearer('/notes', signJws({ alg: 'HS256', kid: issuer.kid }, { sub: 'susan', iss: issuer.issuer, aud: AUDIENCE }, pem as string)).expect(401);
      expect(res.headers['www-authenticate']).toBe(invalidToken(REFUSED));
    });
  });

  describe('when the identity lacks what the route needs', () => {
    it('should answer 403 insufficient_scope naming the scope', async () => {
      const res = await apiKey('/admin', 'key-reader').expect(403);
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}", error="insufficient_scope", error_description="The token lacks the scope(s): admin", scope="admin"`);
    });

    it('should answer a policy denial with 403 naming the permission, without a bearer challenge', async () => {
      const res = await bearer('/delete', issuer.sign({ sub: 'susan', scopes: ['notes:read'] })).expect(403);
      expect(res.body).toMatchObject({ policy: 'note', missingPermissions: ['CanDelete'] });
      expect(res.body.message).toContain('CanDelete');
      expect(res.headers['www-authenticate']).toBeUndefined();
    });

    it('should deny a subject the policy does not know', async () => {
      const res = await bearer('/notes', issuer.sign({ sub: 'mallory', scopes: ['notes:read'] })).expect(403);
      expect(res.body.missingPermissions).toEqual(['CanRead']);
    });
  });

  describe('when the strategy or the mapping fails (server faults)', () => {
    it('should answer 503 with Retry-After, never 500, when a strategy errors', async () => {
      const res = await apiKey('/notes', 'key-broken').expect(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.text).not.toContain('key store');
    });

    it('should answer 503 when toIdentity returns a malformed identity', async () => {
      await apiKey('/me', 'key-nameless').expect(503);
    });
  });
});

describe.each(ADAPTERS)('PassportAuthzGuard configured by DI (%s)', (adapter) => {
  const issuer = TestTokenIssuer.create({ audience: AUDIENCE });
  let jwks: JwksServer;

  beforeAll(async () => {
    jwks = await new JwksServer().start();
    jwks.keys = issuer.jwks.keys as Record<string, unknown>[];
  });
  afterAll(() => jwks.stop());

  it('should read PASSPORT_IDENTITY, keep the strategy\'s user under PassportModule\'s property, and map toIdentity errors', async () => {
    const seen: unknown[] = [];
    const app = await createApp(adapter, {
      imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: passportPolicies })), PassportModule.register({ property: 'passportUser' })],
      controllers: [PassportFixtureController],
      providers: [
        jwtStrategyFor(jwks.jwksUri, issuer.issuer),
        {
          provide: PASSPORT_IDENTITY,
          useFactory: () => ({
            strategy: 'jwt',
            toIdentity: (user: Record<string, unknown>, req: Record<string, unknown>) => {
              seen.push(req.passportUser === user);
              if (user.sub === 'throws') throw new Error('lookup failed');
              if (user.sub === 'disabled') throw new (require('@nestjs/common').UnauthorizedException)('account disabled');
              return toIdentity(user);
            },
          }),
        },
        { provide: APP_GUARD, useClass: PassportAuthzGuard },
      ],
    });
    try {
      await request(app.getHttpServer()).get('/notes').set('Authorization', `Bearer ${issuer.sign({ sub: 'susan', scopes: ['notes:read'] })}`).expect(200, { subject: 'susan' });
      expect(seen).toEqual([true]);
      await request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${issuer.sign({ sub: 'throws' })}`).expect(503);
      const disabled = await request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${issuer.sign({ sub: 'disabled' })}`).expect(401);
      expect(disabled.headers['www-authenticate']).toBe(invalidToken(REFUSED));
      expect(disabled.text).not.toContain('account disabled');
    } finally {
      await app.close();
    }
  });
});

describe('PassportAuthzGuard at start', () => {
  const issuer = TestTokenIssuer.create({ audience: AUDIENCE });

  it('should refuse to start when a strategy is not registered', async () => {
    const starting = createApp('express', {
      imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: passportPolicies }))],
      controllers: [PassportFixtureController],
      providers: [{ provide: APP_GUARD, useClass: PassportAuthzGuard.using({ strategy: 'no-such-strategy', toIdentity }) }],
    });
    await expect(starting).rejects.toThrow(/not registered: no-such-strategy[\s\S]*How to fix/);
  });

  it('should refuse to start without options', async () => {
    const starting = createApp('express', {
      imports: [AuthzModule.forRoot(issuer.moduleOptions({ defaultPolicy: 'note', policies: passportPolicies }))],
      controllers: [PassportFixtureController],
      providers: [{ provide: APP_GUARD, useClass: PassportAuthzGuard }],
    });
    await expect(starting).rejects.toThrow(/PassportAuthzGuard has no options/);
  });
});
