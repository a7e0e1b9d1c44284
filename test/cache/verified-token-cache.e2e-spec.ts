import { TokenVerifier, type AuthzModuleOptions } from 'nestjs-authz';
import { JwksServer } from '../support/jwks-server';
import { claims, makeKey, signJws } from '../support/signing';
import { expectRefusal } from '../support/refusal';
import { configFor, corruptSignature, CountingKeySet, ManualClock, reencodeSignature, reformatPayload } from './support/cache-fixture';

/**
 * The verified-token cache of TokenVerifier, against a real KeySet that downloads a JWKS served on 127.0.0.1.
 * Time comes from a hand-moved clock given to both. `keys.keyRequests` counts fresh signature checks.
 */
const AUDIENCE = 'notes-api';
const key = makeKey('key-1');
const nextKey = makeKey('key-2');

describe('verified-token cache (TokenVerifier + KeySet over a JWKS on 127.0.0.1)', () => {
  let jwks: JwksServer;
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

  const seconds = () => Math.floor(clock.now() / 1000);
  const sign = (overrides: Record<string, unknown> = {}, signingKey = key) =>
    signJws({ alg: 'RS256', typ: 'at+jwt', kid: signingKey.kid }, claims(jwks.issuer, AUDIENCE, { iat: seconds(), exp: seconds() + 300, ...overrides }), signingKey.privateKey);

  async function setup(options: Partial<AuthzModuleOptions> = {}) {
    const config = await configFor({ issuer: jwks.issuer, audience: AUDIENCE, jwksUri: jwks.jwksUri, ...options });
    const keys = new CountingKeySet(config, clock.now);
    return { keys, verifier: new TokenVerifier(config, keys, clock.now) };
  }

  describe('is keyed by the exact token bytes', () => {
    it('should answer a repeated token from memory without checking its signature again', async () => {
      const { keys, verifier } = await setup();
      const token = sign();
      await verifier.verify(token);
      await verifier.verify(token);
      expect(keys.keyRequests).toBe(1);
      expect(verifier.rememberedCount).toBe(1);
    });

    it('should refuse, not remember, a token whose signature is encoded differently, though it decodes to the same bytes', async () => {
      const { keys, verifier } = await setup();
      const token = sign();
      const twin = reencodeSignature(token);
      expect(twin).not.toBe(token);
      expect(Buffer.from(twin.split('.')[2], 'base64url')).toEqual(Buffer.from(token.split('.')[2], 'base64url'));
      await verifier.verify(token);
      // One spelling per token: a second one would defeat anything keyed on the token string.
      await expectRefusal(verifier.verify(twin), 'The token is not canonical base64url');
      expect(keys.keyRequests).toBe(1);
      expect(verifier.rememberedCount).toBe(1);
    });

    it('should refuse the remembered token re-serialized with the same claims, and keep accepting the original', async () => {
      const { keys, verifier } = await setup();
      const token = sign();
      const reformatted = reformatPayload(token);
      expect(JSON.parse(Buffer.from(reformatted.split('.')[1], 'base64url').toString())).toEqual(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()));
      await verifier.verify(token);
      await expectRefusal(verifier.verify(reformatted), 'The token signature is invalid');
      await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'susan' });
      expect(keys.keyRequests).toBe(2);
      expect(verifier.rememberedCount).toBe(1);
    });

    it('should refuse the remembered token with one signature byte changed', async () => {
      const { verifier } = await setup();
      const token = sign();
      await verifier.verify(token);
      await expectRefusal(verifier.verify(corruptSignature(token)), 'The token signature is invalid');
    });
  });

  describe('rechecks the token times on every use', () => {
    it('should refuse a remembered token once the clock passes exp plus the tolerance', async () => {
      const { verifier } = await setup({ clockTolerance: 30, verifiedTokenCache: { maxAgeMs: 3_600_000 } });
      const token = sign({ exp: seconds() + 60 });
      await verifier.verify(token);
      expect(verifier.rememberedCount).toBe(1);
      clock.advance(60_000 + 20_000);
      await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'susan' });
      clock.advance(11_000);
      await expectRefusal(verifier.verify(token), 'The token has expired');
    });

    it('should refuse a remembered token from memory when the clock steps back before nbf', async () => {
      const { keys, verifier } = await setup({ clockTolerance: 30 });
      const token = sign({ nbf: seconds() + 20 });
      await verifier.verify(token);
      clock.advance(-20_000);
      await expectRefusal(verifier.verify(token), 'The token is not valid yet (nbf)');
      // Refused by the recheck of the remembered entry, not by a fresh verification.
      expect(keys.keyRequests).toBe(1);
    });
  });

  describe('forgets a verification when its key leaves the JWKS', () => {
    it('should refuse the remembered token after the provider drops its key and the key set is downloaded again', async () => {
      const { keys, verifier } = await setup();
      const token = sign();
      await verifier.verify(token);
      jwks.keys = [nextKey.jwk];
      await keys.refresh();
      await expectRefusal(verifier.verify(token), 'No key of the issuer matches the token kid and alg');
      expect(verifier.rememberedCount).toBe(0);
    });

    it('should refuse it once a token signed with the new key has made the key set download again', async () => {
      const { verifier } = await setup({ jwksCooldownMs: 30_000 });
      const oldToken = sign();
      await verifier.verify(oldToken);
      jwks.keys = [nextKey.jwk];
      clock.advance(30_000);
      await expect(verifier.verify(sign({}, nextKey))).resolves.toMatchObject({ sub: 'susan' });
      await expectRefusal(verifier.verify(oldToken), 'No key of the issuer matches the token kid and alg');
    });

    it('should refuse it when the provider keeps the kid but replaces the key material', async () => {
      const { keys, verifier } = await setup();
      const token = sign();
      await verifier.verify(token);
      jwks.keys = [makeKey(key.kid).jwk];
      await keys.refresh();
      await expectRefusal(verifier.verify(token), 'The token signature is invalid');
    });
  });

  describe('has a bounded size and age', () => {
    it('should hold at most maxEntries verifications, making room by dropping older ones', async () => {
      const { keys, verifier } = await setup({ verifiedTokenCache: { maxEntries: 3 } });
      const tokens = Array.from({ length: 5 }, (_, i) => sign({ jti: `jti-${i}` }));
      for (const token of tokens) await verifier.verify(token);
      expect(verifier.rememberedCount).toBeLessThanOrEqual(3);
      expect(keys.keyRequests).toBe(5);
      // The latest is still remembered; the first had to make room and is checked afresh.
      await verifier.verify(tokens[4]);
      expect(keys.keyRequests).toBe(5);
      await verifier.verify(tokens[0]);
      expect(keys.keyRequests).toBe(6);
      expect(verifier.rememberedCount).toBeLessThanOrEqual(3);
    });

    it('should verify afresh once maxAgeMs has passed, however long the token still lives', async () => {
      const { keys, verifier } = await setup({ verifiedTokenCache: { maxAgeMs: 1_000 } });
      const token = sign({ exp: seconds() + 3_600 });
      await verifier.verify(token);
      clock.advance(999);
      await verifier.verify(token);
      expect(keys.keyRequests).toBe(1);
      clock.advance(1);
      await verifier.verify(token);
      expect(keys.keyRequests).toBe(2);
    });
  });

  describe('never stores a failure as a success', () => {
    it.each([
      ['a bad signature', () => signJws({ alg: 'RS256', kid: key.kid }, claims(jwks.issuer, AUDIENCE), makeKey(key.kid).privateKey), 'The token signature is invalid'],
      ['a wrong audience', () => sign({ aud: 'other-api' }), 'The token audience is not this API'],
      ['a wrong issuer', () => sign({ iss: 'https://evil.example/' }), 'The token issuer is not trusted'],
      ['an expired token', () => sign({ exp: seconds() - 120 }), 'The token has expired'],
    ])('should refuse %s every time, checking it afresh, and remember nothing', async (_, makeToken, description) => {
      const { keys, verifier } = await setup();
      const token = makeToken();
      await expectRefusal(verifier.verify(token), description);
      await expectRefusal(verifier.verify(token), description);
      expect(keys.keyRequests).toBe(2);
      expect(verifier.rememberedCount).toBe(0);
    });

    it('should accept a token refused as not yet valid once its time has come, after checking it afresh', async () => {
      const { keys, verifier } = await setup({ clockTolerance: 0 });
      const token = sign({ nbf: seconds() + 60 });
      await expectRefusal(verifier.verify(token), 'The token is not valid yet (nbf)');
      expect(verifier.rememberedCount).toBe(0);
      clock.advance(60_000);
      await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'susan' });
      expect(keys.keyRequests).toBe(2);
    });
  });

  describe('can be turned off', () => {
    it('should check the signature of every token on every use with verifiedTokenCache: false', async () => {
      const { keys, verifier } = await setup({ verifiedTokenCache: false });
      const token = sign();
      for (let i = 0; i < 3; i++) await verifier.verify(token);
      expect(keys.keyRequests).toBe(3);
      expect(verifier.rememberedCount).toBe(0);
    });
  });
});
