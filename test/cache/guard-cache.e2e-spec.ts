import type { INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import request from 'supertest';
import { AUTHZ_CONFIG, AuthzGuard, AuthzModule, KeySet, TokenVerifier, type AuthzConfig, type AuthzModuleOptions } from 'nestjs-authz';
import { FixtureController, fixturePolicies } from '../fixtures/notes-fixture.controller';
import { ADAPTERS, createApp } from '../support/app';
import { JwksServer } from '../support/jwks-server';
import { claims, makeKey, signJws } from '../support/signing';
import { corruptSignature, CountingKeySet, ManualClock, reformatPayload } from './support/cache-fixture';

/**
 * The verified-token cache seen from outside: real guard, real HTTP, keys from a JWKS on 127.0.0.1. The key set
 * and verifier are the module's own classes, built with a hand-moved clock (and the key set counting how often
 * a signature is checked).
 */
const AUDIENCE = 'notes-api';
const key = makeKey('key-1');

describe.each(ADAPTERS)('verified-token cache behind the guard (%s)', (adapter) => {
  let jwks: JwksServer;
  let app: INestApplication | undefined;
  let clock: ManualClock;

  beforeAll(async () => {
    jwks = await new JwksServer().start();
  });

  afterAll(async () => {
    await jwks.stop();
  });

  beforeEach(() => {
    jwks.keys = [key.jwk];
    clock = new ManualClock();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const seconds = () => Math.floor(clock.now() / 1000);
  const sign = (overrides: Record<string, unknown> = {}) =>
    signJws({ alg: 'RS256', typ: 'at+jwt', kid: key.kid }, claims(jwks.issuer, AUDIENCE, { iat: seconds(), exp: seconds() + 300, ...overrides }), key.privateKey);
  const getNotes = (token: string) => request(app!.getHttpServer()).get('/notes').auth(token, { type: 'bearer' });

  async function start(options: Partial<AuthzModuleOptions> = {}) {
    app = await createApp(
      adapter,
      {
        imports: [AuthzModule.forRoot({ issuer: jwks.issuer, audience: AUDIENCE, jwksUri: jwks.jwksUri, defaultPolicy: 'note', policies: fixturePolicies, ...options })],
        controllers: [FixtureController],
        providers: [{ provide: APP_GUARD, useClass: AuthzGuard }],
      },
      (builder) => {
        builder.overrideProvider(KeySet).useFactory({ factory: (config: AuthzConfig) => new CountingKeySet(config, clock.now), inject: [AUTHZ_CONFIG] });
        builder.overrideProvider(TokenVerifier).useFactory({ factory: (config: AuthzConfig, keys: KeySet) => new TokenVerifier(config, keys, clock.now), inject: [AUTHZ_CONFIG, KeySet] });
      },
    );
    return { keys: app.get(KeySet) as CountingKeySet, verifier: app.get(TokenVerifier) };
  }

  const expectInvalidToken = (res: request.Response, description: string) => {
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="${AUDIENCE}", error="invalid_token", error_description="${description}"`);
  };

  it('should answer a remembered token without checking its signature again', async () => {
    const { keys } = await start();
    const token = sign();
    await getNotes(token).expect(200);
    await getNotes(token).expect(200);
    expect(keys.keyRequests).toBe(1);
  });

  it('should refuse the remembered token re-serialized with the same claims, and still accept the original', async () => {
    await start();
    const token = sign();
    await getNotes(token).expect(200);
    expectInvalidToken(await getNotes(reformatPayload(token)), 'The token signature is invalid');
    await getNotes(token).expect(200);
  });

  it('should refuse a remembered token once it has expired', async () => {
    await start({ clockTolerance: 0, verifiedTokenCache: { maxAgeMs: 3_600_000 } });
    const token = sign({ exp: seconds() + 60 });
    await getNotes(token).expect(200);
    clock.advance(60_000);
    expectInvalidToken(await getNotes(token), 'The token has expired');
  });

  it('should refuse a remembered token once its key has left the JWKS', async () => {
    const { keys, verifier } = await start();
    const token = sign();
    await getNotes(token).expect(200);
    expect(verifier.rememberedCount).toBe(1);
    jwks.keys = [makeKey('key-2').jwk];
    await keys.refresh();
    expectInvalidToken(await getNotes(token), 'No key of the issuer matches the token kid and alg');
  });

  it('should refuse a badly signed token on every request and remember nothing', async () => {
    const { keys, verifier } = await start();
    const forged = corruptSignature(sign());
    expectInvalidToken(await getNotes(forged), 'The token signature is invalid');
    expectInvalidToken(await getNotes(forged), 'The token signature is invalid');
    expect(keys.keyRequests).toBe(2);
    expect(verifier.rememberedCount).toBe(0);
  });

  it('should check the signature on every request with verifiedTokenCache: false', async () => {
    const { keys, verifier } = await start({ verifiedTokenCache: false });
    const token = sign();
    for (let i = 0; i < 3; i++) await getNotes(token).expect(200);
    expect(keys.keyRequests).toBe(3);
    expect(verifier.rememberedCount).toBe(0);
  });
});
