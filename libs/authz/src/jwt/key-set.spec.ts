import { Logger } from '@nestjs/common';
import { generateKeyPairSync } from 'node:crypto';
import { resolveAuthzConfig } from '../authz.config';
import { AuthzConfigurationError, InvalidTokenException, KeySetUnavailableException } from '../authz.exceptions';
import type { AuthzModuleOptions } from '../authz.options';
import { CaptureLogger } from '../../../../test/security/support/capture-logger';
import { JwksServer } from '../../../../test/support/jwks-server';
import { makeKey } from '../../../../test/support/signing';
import { KeySet } from './key-set';

const AUDIENCE = 'notes-api';
const rsa = makeKey('rsa');
const rsaNoAlg = makeKey('rsa-no-alg', 'RS256', { withAlg: false });
const p256 = makeKey('p256', 'ES256', { withAlg: false });
const ed = makeKey('ed', 'EdDSA');

class Clock {
  time = Date.now();
  readonly now = () => this.time;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (reason: unknown) => reason);
}

describe('KeySet', () => {
  const logger = new CaptureLogger();
  beforeAll(() => Logger.overrideLogger(logger));
  afterAll(() => Logger.overrideLogger(new Logger()));
  const errors = () => logger.at('error').map((entry) => entry.text).join('\n');
  describe('with a fixed key set', () => {
    const fixed = (keys: unknown[], options: Partial<AuthzModuleOptions> = {}) =>
      new KeySet(resolveAuthzConfig({ issuer: 'https://idp.example.com/', audience: AUDIENCE, jwks: { keys: keys as never[] }, algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'], ...options }));

    it('should find a key by kid and alg, and never download', async () => {
      const keys = fixed([rsa.jwk, p256.jwk]);
      await expect(keys.keyFor('rsa', 'RS256')).resolves.toBeDefined();
      expect(keys.downloads).toBe(0);
    });

    it('should refuse an unknown kid with 401 and a text that does not echo it', async () => {
      const error = await failure(fixed([rsa.jwk]).keyFor('../../etc/passwd', 'RS256'));
      expect(error).toBeInstanceOf(InvalidTokenException);
      expect((error as InvalidTokenException).message).not.toContain('passwd');
    });

    it('should honour the JWK alg', async () => {
      const keys = fixed([rsa.jwk, rsaNoAlg.jwk]);
      await expect(failure(keys.keyFor('rsa', 'PS256'))).resolves.toBeInstanceOf(InvalidTokenException);
      await expect(keys.keyFor('rsa-no-alg', 'PS256')).resolves.toBeDefined();
    });

    it('should match the key family and the curve', async () => {
      const keys = fixed([rsaNoAlg.jwk, p256.jwk, ed.jwk]);
      await expect(keys.keyFor('p256', 'ES256')).resolves.toBeDefined();
      await expect(failure(keys.keyFor('p256', 'ES384'))).resolves.toBeInstanceOf(InvalidTokenException);
      await expect(failure(keys.keyFor('rsa-no-alg', 'ES256'))).resolves.toBeInstanceOf(InvalidTokenException);
      await expect(failure(keys.keyFor('p256', 'RS256'))).resolves.toBeInstanceOf(InvalidTokenException);
      await expect(failure(keys.keyFor('ed', 'RS256'))).resolves.toBeInstanceOf(InvalidTokenException);
      await expect(keys.keyFor('ed', 'EdDSA')).resolves.toBeDefined();
    });

    it('should use a token without kid only when exactly one key fits', async () => {
      await expect(fixed([rsa.jwk, p256.jwk]).keyFor(undefined, 'ES256')).resolves.toBeDefined();
      const error = await failure(fixed([rsa.jwk, rsaNoAlg.jwk]).keyFor(undefined, 'RS256'));
      expect((error as InvalidTokenException).description).toBe('No single key fits the token; it names no kid');
    });

    it.each([
      ['an encryption key (use: enc)', { ...rsa.jwk, use: 'enc' }],
      ['key_ops without verify', { ...rsa.jwk, key_ops: ['encrypt'] }],
      ['key_ops that is not a list', { ...rsa.jwk, key_ops: 'verify' }],
      ['a symmetric key (kty: oct)', { kty: 'oct', kid: 'rsa', k: 'c2VjcmV0' }],
      ['a private key (d present)', { ...(rsa.privateKey.export({ format: 'jwk' }) as object), kid: 'rsa', alg: 'RS256' }],
      ['an RSA key under 2048 bits', { ...generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }), kid: 'rsa' }],
      ['an HMAC alg', { ...rsa.jwk, alg: 'HS256' }],
      ['a non-string kid', { ...rsa.jwk, kid: 7 }],
      ['a broken key', { kty: 'RSA', kid: 'rsa', n: 'AA' }],
      ['not an object', 'rsa'],
    ])('should skip %s', async (_case, jwk) => {
      // A usable key of another kid keeps the set valid; the skipped one must not answer for 'rsa'.
      await expect(failure(fixed([jwk, p256.jwk]).keyFor('rsa', 'RS256'))).resolves.toBeInstanceOf(InvalidTokenException);
    });

    it('should refuse to start when no key of the fixed set is usable', () => {
      expect(() => fixed([{ ...rsa.jwk, use: 'enc' }, { kty: 'oct', k: 'c2VjcmV0' }])).toThrow(AuthzConfigurationError);
      expect(() => fixed([])).toThrow(/`jwks` holds no usable verification key/);
    });

    it('should accept key_ops that lists verify', async () => {
      await expect(fixed([{ ...rsa.jwk, key_ops: ['verify'] }]).keyFor('rsa', 'RS256')).resolves.toBeDefined();
    });
  });

  describe('with a JWKS served on 127.0.0.1', () => {
    let provider: JwksServer;
    let clock: Clock;

    beforeEach(async () => {
      provider = await new JwksServer().start();
      provider.keys = [rsa.jwk];
      clock = new Clock();
    });

    afterEach(() => provider.stop());

    const keySet = (options: Partial<AuthzModuleOptions> = {}) =>
      new KeySet(resolveAuthzConfig({ issuer: provider.issuer, audience: AUDIENCE, jwksUri: provider.jwksUri, ...options }), clock.now);

    it('should share one download among concurrent first requests', async () => {
      const keys = keySet();
      const found = await Promise.all(Array.from({ length: 5 }, () => keys.keyFor('rsa', 'RS256')));
      expect(new Set(found).size).toBe(1);
      expect(provider.jwksRequests).toBe(1);
      expect(keys.downloads).toBe(1);
    });

    it('should discover the JWKS from the issuer, once', async () => {
      const keys = new KeySet(resolveAuthzConfig({ issuer: provider.issuer, audience: AUDIENCE }), clock.now);
      await keys.keyFor('rsa', 'RS256');
      clock.time += 60_000;
      await expect(failure(keys.keyFor('other', 'RS256'))).resolves.toBeInstanceOf(InvalidTokenException);
      expect(provider.requests).toEqual(['/.well-known/openid-configuration', '/jwks', '/jwks']);
    });

    it('should refuse a discovery document that names another issuer (503, nothing trusted)', async () => {
      const keys = new KeySet(resolveAuthzConfig({ issuer: provider.url, audience: AUDIENCE }), clock.now);
      await expect(failure(keys.keyFor('rsa', 'RS256'))).resolves.toBeInstanceOf(KeySetUnavailableException);
      expect(provider.jwksRequests).toBe(0);
    });

    it('should download for unknown kids at most once per cooldown', async () => {
      const keys = keySet({ jwksCooldownMs: 10_000 });
      await keys.keyFor('rsa', 'RS256');
      for (let i = 0; i < 20; i++) await failure(keys.keyFor(`random-${i}`, 'RS256'));
      expect(provider.jwksRequests).toBe(1);
      clock.time += 10_000;
      for (let i = 0; i < 20; i++) await failure(keys.keyFor(`random-${i}`, 'RS256'));
      expect(provider.jwksRequests).toBe(2);
    });

    it('should keep the KeyObject of an unchanged key across downloads, and drop a replaced one', async () => {
      const keys = keySet();
      const removals: number[] = [];
      keys.onKeysRemoved(() => removals.push(provider.jwksRequests));
      const before = await keys.keyFor('rsa', 'RS256');
      await keys.refresh();
      expect(await keys.keyFor('rsa', 'RS256')).toBe(before);
      expect(keys.isCurrent(before)).toBe(true);
      expect(removals).toEqual([]);

      provider.keys = [makeKey('rsa').jwk];
      await keys.refresh();
      expect(keys.isCurrent(before)).toBe(false);
      expect(await keys.keyFor('rsa', 'RS256')).not.toBe(before);
      expect(removals).toEqual([3]);
    });

    it('should start a background download from isCurrent once the set is jwksMaxAgeMs old, even with a longer cooldown', async () => {
      const keys = keySet({ jwksMaxAgeMs: 5_000, jwksCooldownMs: 60_000 });
      const key = await keys.keyFor('rsa', 'RS256');
      clock.time += 4_999;
      expect(keys.isCurrent(key)).toBe(true);
      await keys.whenIdle();
      expect(provider.jwksRequests).toBe(1);

      provider.keys = [makeKey('rsa-2').jwk];
      clock.time += 1;
      // Answered from the set it has while the download runs; the download then removes the key.
      expect(keys.isCurrent(key)).toBe(true);
      await keys.whenIdle();
      expect(provider.jwksRequests).toBe(2);
      expect(keys.isCurrent(key)).toBe(false);
    });

    it('should keep known keys through an outage and answer 503 with the rest of the backoff for unknown ones', async () => {
      const keys = keySet({ jwksCooldownMs: 5_000 });
      const key = await keys.keyFor('rsa', 'RS256');
      provider.jwksMode = 'unavailable';
      clock.time += 5_000;
      await keys.refresh();
      await expect(keys.keyFor('rsa', 'RS256')).resolves.toBe(key);
      // 1 s after the first failure the next attempt may come; it fails too, and the backoff doubles to 2 s.
      clock.time += 1_000;
      const error = await failure(keys.keyFor('new', 'RS256'));
      expect(error).toBeInstanceOf(KeySetUnavailableException);
      expect((error as KeySetUnavailableException).retryAfter).toBe(2);
      expect(provider.jwksRequests).toBe(3);
      clock.time += 500;
      expect(((await failure(keys.keyFor('new', 'RS256'))) as KeySetUnavailableException).retryAfter).toBe(2);
      expect(provider.jwksRequests).toBe(3);
      expect(errors()).toContain(`Could not download the signing keys of ${provider.issuer}: ${provider.jwksUri} answered 503. Known keys stay in use.`);
    });

    it('should back off 1 s, 2 s, 4 s … up to jwksCooldownMs after failed downloads, then use the cooldown again', async () => {
      const keys = keySet({ jwksCooldownMs: 10_000 });
      await keys.keyFor('rsa', 'RS256');
      provider.jwksMode = 'unavailable';
      clock.time += 10_000;
      const attempts: number[] = [];
      // Every 100 ms of simulated time, five unknown kids, for 40 s.
      for (let step = 0; step < 400; step++) {
        const before = provider.jwksRequests;
        await Promise.all(Array.from({ length: 5 }, (_, i) => failure(keys.keyFor(`random-${step}-${i}`, 'RS256'))));
        if (provider.jwksRequests > before) attempts.push(step * 100);
        clock.time += 100;
      }
      // One download per backoff step: 0, 1, 3, 7, 15 s, then every 10 s (the cooldown).
      expect(attempts).toEqual([0, 1_000, 3_000, 7_000, 15_000, 25_000, 35_000]);

      provider.jwksMode = 'ok';
      provider.keys = [rsa.jwk, rsaNoAlg.jwk];
      clock.time += 10_000;
      await expect(keys.keyFor('rsa-no-alg', 'RS256')).resolves.toBeDefined();
      // After a success an unknown kid waits for the full cooldown again.
      const downloads = provider.jwksRequests;
      clock.time += 1_000;
      await expect(failure(keys.keyFor('random', 'RS256'))).resolves.toBeInstanceOf(InvalidTokenException);
      expect(provider.jwksRequests).toBe(downloads);
    });

    it.each([
      ['a declared body over 512 KiB', true],
      ['a chunked body over 512 KiB', false],
    ])('should fail a download that sends %s, keeping known keys', async (_case, declared) => {
      const keys = keySet({ jwksCooldownMs: 0 });
      const key = await keys.keyFor('rsa', 'RS256');
      provider.jwksMode = 'huge';
      provider.hugeDeclared = declared;
      await keys.refresh();
      expect(errors()).toContain(`${provider.jwksUri} sent more than 524288 bytes`);
      await expect(keys.keyFor('rsa', 'RS256')).resolves.toBe(key);
      // Just under the limit is fine.
      provider.hugeBytes = 500 * 1024;
      await keys.refresh();
      await expect(keys.keyFor('rsa-2', 'RS256')).rejects.toBeInstanceOf(InvalidTokenException);
    });

    it('should refuse a discovery document over 512 KiB (503)', async () => {
      provider.discoveryMode = 'huge';
      const keys = new KeySet(resolveAuthzConfig({ issuer: provider.issuer, audience: AUDIENCE }), clock.now);
      await expect(failure(keys.keyFor('rsa', 'RS256'))).resolves.toBeInstanceOf(KeySetUnavailableException);
      expect(errors()).toContain('/.well-known/openid-configuration sent more than 524288 bytes');
      expect(provider.jwksRequests).toBe(0);
    });

    it('should fail a download that lists more than 100 keys, and accept 100', async () => {
      const many = Array.from({ length: 101 }, (_, i) => ({ ...rsa.jwk, kid: `k-${i}` }));
      provider.keys = many;
      const keys = keySet({ jwksCooldownMs: 0 });
      await expect(failure(keys.keyFor('k-0', 'RS256'))).resolves.toBeInstanceOf(KeySetUnavailableException);
      expect(errors()).toContain('lists 101 keys, more than 100');
      provider.keys = many.slice(0, 100);
      await expect(keys.keyFor('k-99', 'RS256')).resolves.toBeDefined();
    });

    it('should end a slow-drip body at jwksTimeoutMs', async () => {
      provider.jwksMode = 'drip';
      const jwksTimeoutMs = 300;
      const keys = keySet({ jwksTimeoutMs });
      const started = performance.now();
      await expect(failure(keys.keyFor('rsa', 'RS256'))).resolves.toBeInstanceOf(KeySetUnavailableException);
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(jwksTimeoutMs - 5);
      expect(elapsed).toBeLessThan(jwksTimeoutMs + 1_000);
      expect(errors()).toContain(`fetching the key set took longer than ${jwksTimeoutMs} ms`);
    });

    it('should not follow a redirect of the discovery document', async () => {
      const elsewhere = await new JwksServer().start();
      try {
        provider.redirectDiscoveryTo = `${elsewhere.url}/.well-known/openid-configuration`;
        const keys = new KeySet(resolveAuthzConfig({ issuer: provider.issuer, audience: AUDIENCE }), clock.now);
        await expect(failure(keys.keyFor('rsa', 'RS256'))).resolves.toBeInstanceOf(KeySetUnavailableException);
        expect(elsewhere.requests).toEqual([]);
      } finally {
        await elsewhere.stop();
      }
    });

    it('should discover the jwks_uri again after a failed download, and find the keys where it moved', async () => {
      const moved = await new JwksServer().start();
      try {
        moved.keys = [rsa.jwk, rsaNoAlg.jwk];
        const keys = new KeySet(resolveAuthzConfig({ issuer: provider.issuer, audience: AUDIENCE, jwksCooldownMs: 30_000 }), clock.now);
        await keys.keyFor('rsa', 'RS256');
        expect(provider.discoveryRequests).toBe(1);
        // The provider moves its keys: the old jwks_uri fails, discovery names the new one.
        provider.jwksMode = 'unavailable';
        provider.discoveredJwksUri = moved.jwksUri;
        clock.time += 30_000;
        await expect(failure(keys.keyFor('rsa-no-alg', 'RS256'))).resolves.toBeInstanceOf(KeySetUnavailableException);
        clock.time += 1_000;
        await expect(keys.keyFor('rsa-no-alg', 'RS256')).resolves.toBeDefined();
        expect(provider.discoveryRequests).toBe(2);
        expect(moved.jwksRequests).toBe(1);
      } finally {
        await moved.stop();
      }
    });

    it('should never rediscover a configured jwksUri', async () => {
      const keys = keySet({ jwksCooldownMs: 0 });
      provider.jwksMode = 'unavailable';
      await keys.refresh();
      await keys.refresh();
      expect(provider.discoveryRequests).toBe(0);
    });

    it.each([
      ['the JWKS', 'jwksMode'],
      ['discovery', 'discoveryMode'],
    ] as const)('should end an attempt at jwksTimeoutMs when %s hangs', async (_case, endpoint) => {
      provider[endpoint] = 'hang';
      const jwksTimeoutMs = 100;
      const keys = new KeySet(resolveAuthzConfig({ issuer: provider.issuer, audience: AUDIENCE, jwksTimeoutMs }), clock.now);
      const started = performance.now();
      const error = await failure(keys.keyFor('rsa', 'RS256'));
      const elapsed = performance.now() - started;
      expect(error).toBeInstanceOf(KeySetUnavailableException);
      expect(elapsed).toBeGreaterThanOrEqual(jwksTimeoutMs - 5);
      expect(elapsed).toBeLessThan(jwksTimeoutMs + 1_000);
      expect(errors()).toContain(`fetching the key set took longer than ${jwksTimeoutMs} ms`);
    });

    it('should never reject from refresh()', async () => {
      provider.jwksMode = 'unavailable';
      await expect(keySet().refresh()).resolves.toBeUndefined();
    });
  });
});
