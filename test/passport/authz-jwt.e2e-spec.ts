import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import request from 'supertest';
import { AuthzModule, CurrentIdentity, type AuthzIdentity } from 'nestjs-authz';
// The `nestjs-authz/passport` entry, by path: tsconfig.json and jest.config.js map only the other entries so far.
import { AuthzJwtGuard, AuthzJwtStrategy, PassportAuthzGuard } from 'nestjs-authz/passport';
import { ADAPTERS, createApp } from '../support/app';
import { JwksServer } from '../support/jwks-server';
import { b64 } from '../support/signing';
import { BadRequest, KEYS_UNAVAILABLE, Refusal } from '../security/support/challenge';
import { makeKey, TokenFactory, unsigned } from '../security/support/tokens';
import { AUDIENCE, invalidToken, PassportFixtureController, passportPolicies, REALM_CHALLENGE } from './fixtures';

/** A classic passport app: no global guard, AuthGuard('authz-jwt') or AuthzJwtGuard on some routes. */
@Controller('b')
class StrategyRoutesController {
  @Get('open')
  open() {
    return { ok: true };
  }

  @UseGuards(AuthGuard('authz-jwt'))
  @Get('bare')
  bare(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject, scopes: identity.scopes };
  }

  @UseGuards(AuthzJwtGuard)
  @Get('guarded')
  guarded(@CurrentIdentity() identity: AuthzIdentity) {
    return { subject: identity.subject, scopes: identity.scopes };
  }
}

const rsaKey = makeKey('rsa-1');
const ecKey = makeKey('ec-1', 'ES256');
const attackerKey = makeKey('attacker-1');

describe.each(ADAPTERS)('AuthzJwtStrategy (%s)', (adapter) => {
  let provider: JwksServer;
  let attacker: JwksServer;
  let app: INestApplication;
  let tokens: TokenFactory;

  const get = (path: string) => request(app.getHttpServer()).get(path);
  const withToken = (path: string, token: string) => get(path).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [rsaKey.jwk, ecKey.jwk];
    attacker = await new JwksServer().start();
    attacker.keys = [attackerKey.jwk];
    // Keys by discovery from the issuer, as in production; KeySet, TokenVerifier and config are the module's.
    app = await createApp(adapter, {
      imports: [AuthzModule.forRoot({ issuer: provider.issuer, audience: AUDIENCE, defaultPolicy: 'note', policies: passportPolicies })],
      controllers: [StrategyRoutesController],
      providers: [AuthzJwtStrategy],
    });
    tokens = new TokenFactory(provider.issuer, rsaKey);
  });

  afterAll(async () => {
    await app.close();
    await provider.stop();
    await attacker.stop();
  });

  it('should let a valid token through both guards, and leave unguarded routes alone', async () => {
    for (const path of ['/b/bare', '/b/guarded']) await withToken(path, tokens.sign()).expect(200, { subject: 'susan', scopes: ['notes:read'] });
    await get('/b/open').expect(200, { ok: true });
  });

  it('should refuse an ES256 token signed by a JWKS key when only RS256 is configured', async () => {
    const res = await withToken('/b/guarded', tokens.sign({}, { alg: 'ES256', kid: ecKey.kid }, ecKey)).expect(401);
    expect(res.headers['www-authenticate']).toBe(invalidToken(Refusal.algorithm));
  });

  const pem = () => rsaKey.publicKey.export({ format: 'pem', type: 'spki' });
  const cases: Array<[string, () => string, string]> = [
    ['alg none, empty signature', () => unsigned({ alg: 'none', typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims()), Refusal.notCompact],
    ['alg none, junk signature', () => unsigned({ alg: 'none', typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims(), 'AAAA'), Refusal.algorithm],
    ['alg None', () => unsigned({ alg: 'None', kid: rsaKey.kid }, tokens.claims(), 'AAAA'), Refusal.algorithm],
    ['alg NONE', () => unsigned({ alg: 'NONE', kid: rsaKey.kid }, tokens.claims(), 'AAAA'), Refusal.algorithm],
    ['HS256 keyed with the public key PEM', () => tokens.signRaw({ alg: 'HS256', typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims(), pem()), Refusal.algorithm],
    ['PS256 with the real RSA key (RS256 only)', () => tokens.signRaw({ alg: 'PS256', typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims(), rsaKey.privateKey), Refusal.algorithm],
    ['a wrong iss', () => tokens.sign({ iss: 'https://evil.example/' }), Refusal.issuer],
    ['a missing iss', () => tokens.sign({ iss: undefined }), Refusal.issuer],
    ['the iss without its trailing slash', () => tokens.sign({ iss: provider.issuer.replace(/\/$/, '') }), Refusal.issuer],
    ['a wrong aud', () => tokens.sign({ aud: 'other-api' }), Refusal.audience],
    ['a missing aud', () => tokens.sign({ aud: undefined }), Refusal.audience],
    ['an expired token', () => tokens.sign({ exp: tokens.nowSeconds() - 120 }), Refusal.expired],
    ['a future nbf', () => tokens.sign({ nbf: tokens.nowSeconds() + 3600 }), Refusal.notYetValid],
    ['a future iat (jsonwebtoken accepts it)', () => tokens.sign({ iat: tokens.nowSeconds() + 3600 }), Refusal.iatFuture],
    ['no exp (jsonwebtoken accepts it)', () => tokens.sign({ exp: undefined }), Refusal.expiry],
    ['no sub (jsonwebtoken accepts it)', () => tokens.sign({ sub: undefined }), Refusal.subject],
    ['an unknown crit (jsonwebtoken accepts it)', () => tokens.sign({}, { crit: ['x-ext'], 'x-ext': 1 }), Refusal.crit],
    ['an unknown kid', () => tokens.sign({}, { kid: 'no-such-key' }), Refusal.noKey],
    ['an 8 KB kid', () => tokens.sign({}, { kid: 'k'.repeat(8 * 1024) }), Refusal.kidMalformed],
    ['another key under the real kid', () => tokens.sign({}, { kid: rsaKey.kid }, makeKey(rsaKey.kid)), Refusal.signature],
    ['an embedded jwk under the real kid', () => tokens.sign({}, { kid: rsaKey.kid, jwk: attackerKey.jwk }, attackerKey), Refusal.signature],
    ['a tampered payload', () => {
      const [header, , signature] = tokens.sign({ scope: 'notes:read' }).split('.');
      return `${header}.${b64(tokens.claims({ scope: 'notes:read admin' }))}.${signature}`;
    }, Refusal.signature],
    ['a truncated signature', () => tokens.sign().slice(0, -10), Refusal.signature],
    ['a payload that is not an object', () => tokens.signRaw({ alg: 'RS256', typ: 'at+jwt', kid: rsaKey.kid }, JSON.stringify('string')), Refusal.payloadNotObject],
  ];

  it.each(cases)('should refuse %s with 401 and the exact RFC 6750 challenge (AuthzJwtGuard)', async (_case, token, description) => {
    const res = await withToken('/b/guarded', token()).expect(401);
    expect(res.headers['www-authenticate']).toBe(invalidToken(description));
    expect(res.body.message).toBe(description);
  });

  it.each(cases)('should refuse %s with 401 (bare AuthGuard(\'authz-jwt\'))', async (_case, token) => {
    await withToken('/b/bare', token()).expect(401);
  });

  it('should not contact anything a token header names', async () => {
    await withToken('/b/guarded', tokens.sign({}, { kid: attackerKey.kid, jku: `${attacker.url}/jwks` }, attackerKey)).expect(401);
    expect(attacker.requests).toEqual([]);
  });

  it('should answer a flood of random kids with 401s and at most one JWKS download (the module\'s KeySet)', async () => {
    const before = provider.jwksRequests;
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => withToken('/b/guarded', tokens.sign({}, { kid: `random-${i}-${Math.random()}` }))));
    for (const res of answers) expect(res.status).toBe(401);
    expect(provider.jwksRequests - before).toBeLessThanOrEqual(1);
  });

  it('should answer no credentials, or another scheme, with 401 and a bare challenge', async () => {
    for (const req of [get('/b/guarded'), get('/b/guarded').set('Authorization', 'Basic dXNlcjpwYXNz')]) {
      const res = await req.expect(401);
      expect(res.headers['www-authenticate']).toBe(REALM_CHALLENGE);
    }
    await get('/b/bare').expect(401);
  });

  it('should answer broken Authorization syntax with 400 invalid_request', async () => {
    const res = await get('/b/guarded').set('Authorization', `Bearer ${tokens.sign()} junk`).expect(400);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}", error="invalid_request", error_description="${BadRequest.syntax}"`);
  });
});

describe.each(ADAPTERS)('AuthzJwtStrategy when the keys cannot be had (%s)', (adapter) => {
  it('should answer 503 with Retry-After, not 401', async () => {
    const provider = await new JwksServer().start();
    provider.jwksMode = 'unavailable';
    const app = await createApp(adapter, {
      imports: [AuthzModule.forRoot({ issuer: provider.issuer, audience: AUDIENCE })],
      controllers: [StrategyRoutesController],
      providers: [AuthzJwtStrategy],
    });
    try {
      const tokens = new TokenFactory(provider.issuer, rsaKey);
      const res = await request(app.getHttpServer()).get('/b/guarded').set('Authorization', `Bearer ${tokens.sign()}`).expect(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.body.message).toBe(KEYS_UNAVAILABLE);
      const bare = await request(app.getHttpServer()).get('/b/bare').set('Authorization', `Bearer ${tokens.sign()}`).expect(503);
      expect(bare.body.message).toBe(KEYS_UNAVAILABLE);
    } finally {
      await app.close();
      await provider.stop();
    }
  });
});

describe.each(ADAPTERS)('PassportAuthzGuard over authz-jwt (%s)', (adapter) => {
  let provider: JwksServer;
  let app: INestApplication;
  let tokens: TokenFactory;

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [rsaKey.jwk];
    app = await createApp(adapter, {
      imports: [AuthzModule.forRoot({ issuer: provider.issuer, audience: AUDIENCE, defaultPolicy: 'note', policies: passportPolicies })],
      controllers: [PassportFixtureController],
      providers: [AuthzJwtStrategy, { provide: APP_GUARD, useClass: PassportAuthzGuard.using({ strategy: 'authz-jwt', toIdentity: (identity) => identity as AuthzIdentity }) }],
    });
    tokens = new TokenFactory(provider.issuer, rsaKey);
  });

  afterAll(async () => {
    await app.close();
    await provider.stop();
  });

  it('should enforce scopes and permissions on the strategy\'s identity, keeping the verifier\'s exact refusals', async () => {
    const get = (path: string, token?: string) => (token ? request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`) : request(app.getHttpServer()).get(path));
    await get('/notes', tokens.sign()).expect(200, { subject: 'susan' });
    expect((await get('/notes').expect(401)).headers['www-authenticate']).toBe(REALM_CHALLENGE);
    expect((await get('/notes', tokens.sign({ exp: undefined })).expect(401)).headers['www-authenticate']).toBe(invalidToken(Refusal.expiry));
    expect((await get('/admin', tokens.sign()).expect(403)).headers['www-authenticate']).toContain('scope="admin"');
    expect((await get('/delete', tokens.sign()).expect(403)).body.missingPermissions).toEqual(['CanDelete']);
  });
});
