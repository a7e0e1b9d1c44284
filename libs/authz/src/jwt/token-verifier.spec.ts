import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { resolveAuthzConfig } from '../authz.config';
import { InvalidTokenException } from '../authz.exceptions';
import type { AuthzModuleOptions } from '../authz.options';
import { Prng } from '../../../../test/security/support/prng';
import { b64, makeKey, signJws } from '../../../../test/support/signing';
import { expectRefusal } from '../../../../test/support/refusal';
import { KeySet } from './key-set';
import { isCanonical, MAX_TOKEN_LENGTH, TokenVerifier } from './token-verifier';

const ISSUER = 'https://idp.example.com/';
const AUDIENCE = 'notes-api';
const key = makeKey('key-1');

/** A clock the test moves by hand. */
class Clock {
  time = Date.now();
  readonly now = () => this.time;
  seconds = () => Math.floor(this.time / 1000);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Another spelling of the same bytes: a dangling character, or an unused low bit of the last character set. */
function respell(segment: string): string {
  const respelled = segment.length % 4 === 0 ? `${segment}A` : segment.slice(0, -1) + ALPHABET[ALPHABET.indexOf(segment.at(-1)!) + 1];
  expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(segment, 'base64url'))).toBe(true);
  return respelled;
}

describe('TokenVerifier', () => {
  let clock: Clock;

  beforeEach(() => {
    clock = new Clock();
  });

  function setup(options: Partial<AuthzModuleOptions> = {}) {
    const config = resolveAuthzConfig({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [key.jwk] }, ...options });
    const keys = new KeySet(config, clock.now);
    return { keys, verifier: new TokenVerifier(config, keys, clock.now) };
  }

  const claims = (overrides: Record<string, unknown> = {}) => {
    const merged: Record<string, unknown> = { iss: ISSUER, aud: AUDIENCE, sub: 'susan', iat: clock.seconds(), exp: clock.seconds() + 300, jti: `${Math.random()}`, ...overrides };
    for (const name of Object.keys(merged)) if (merged[name] === undefined) delete merged[name];
    return merged;
  };
  const sign = (overrides: Record<string, unknown> = {}, header: Record<string, unknown> = {}, signingKey: KeyObject = key.privateKey) =>
    signJws({ alg: 'RS256', typ: 'at+jwt', kid: key.kid, ...header }, claims(overrides), signingKey, 'RS256');

  describe('when the token is valid', () => {
    it('should return the claims, frozen', async () => {
      const { verifier } = setup();
      const verified = await verifier.verify(sign({ roles: ['a'] }));
      expect(verified).toMatchObject({ iss: ISSUER, sub: 'susan', roles: ['a'] });
      expect(Object.isFrozen(verified)).toBe(true);
      expect(Object.isFrozen(verified.roles)).toBe(true);
    });
  });

  describe('when the token is malformed', () => {
    it('should refuse a token longer than MAX_TOKEN_LENGTH before parsing anything', async () => {
      const { verifier } = setup();
      const nested = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      await expectRefusal(verifier.verify(`${b64(`{"alg":"RS256","x":${nested}}`)}.${b64(claims())}.AAAA`), 'The token is too long');
      await expectRefusal(verifier.verify('a'.repeat(MAX_TOKEN_LENGTH + 1)), 'The token is too long');
    });

    it('should refuse nesting that fits in the length limit on the signature, not crash', async () => {
      const { verifier } = setup();
      const nested = `${'['.repeat(3_000)}${']'.repeat(3_000)}`;
      await expectRefusal(verifier.verify(`${b64(`{"alg":"RS256","kid":"key-1","x":${nested}}`)}.${b64(claims())}.AAAA`), 'The token signature is invalid');
    });

    it.each([
      ['one segment', 'abc'],
      ['two segments', 'abc.def'],
      ['four segments', 'a.b.c.d'],
      ['an empty segment', 'abc..def'],
      ['padding', 'abc=.def.ghi'],
      ['base64 characters', 'ab+c.def.ghi'],
      ['whitespace', 'abc. def.ghi'],
    ])('should refuse %s', async (_case, token) => {
      await expectRefusal(setup().verifier.verify(token), 'The token is not a compact JWS (three base64url parts)');
    });

    it('should refuse a header that is not a JSON object', async () => {
      const { verifier } = setup();
      await expectRefusal(verifier.verify(`${b64('nope')}.${b64(claims())}.AAAA`), 'The token header is not JSON');
      await expectRefusal(verifier.verify(`${b64('[1]')}.${b64(claims())}.AAAA`), 'The token header is not a JSON object');
    });

    it('should check the signature before it parses the payload', async () => {
      const { verifier } = setup();
      // A payload that is not JSON, under a bad signature: the signature is what fails.
      await expectRefusal(verifier.verify(`${b64({ alg: 'RS256', kid: key.kid })}.${b64('{not json')}.AAAA`), 'The token signature is invalid');
    });
  });

  describe('when the header is hostile', () => {
    it.each(['none', 'None', 'NONE', 'HS256', 'rs256', 'PS256', 'ES256', ''])('should refuse alg %j (only RS256 is configured)', async (alg) => {
      await expectRefusal(setup().verifier.verify(sign({}, { alg })), 'The token algorithm is not allowed');
    });

    it('should refuse any crit header', async () => {
      await expectRefusal(setup().verifier.verify(sign({}, { crit: ['exp'] })), 'The token names critical header extensions that are not supported');
    });

    it('should compare a kid of up to 256 characters and refuse a longer one as malformed', async () => {
      const { verifier } = setup();
      await expectRefusal(verifier.verify(sign({}, { kid: 'k'.repeat(256) })), 'No key of the issuer matches the token kid and alg');
      await expectRefusal(verifier.verify(sign({}, { kid: 'k'.repeat(257) })), 'The token kid is malformed');
    });

    it('should ignore jwk, jku, x5u and x5c: keys come from the key set only', async () => {
      const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = attacker.publicKey.export({ format: 'jwk' });
      await expectRefusal(setup().verifier.verify(sign({}, { jwk, jku: 'http://127.0.0.1:9/', x5u: 'http://127.0.0.1:9/', x5c: ['AAAA'] }, attacker.privateKey)), 'The token signature is invalid');
    });
  });

  describe('when requireAccessTokenType is on', () => {
    it.each(['at+jwt', 'AT+JWT', 'application/at+jwt', 'APPLICATION/At+Jwt'])('should accept typ %s', async (typ) => {
      await expect(setup({ requireAccessTokenType: true }).verifier.verify(sign({}, { typ }))).resolves.toMatchObject({ sub: 'susan' });
    });

    it.each([['JWT'], [undefined], ['application/jwt'], ['xat+jwt'], [42]])('should refuse typ %j', async (typ) => {
      await expectRefusal(setup({ requireAccessTokenType: true }).verifier.verify(sign({}, { typ })), 'The token is not an access token (typ must be at+jwt)');
    });
  });

  describe('claims', () => {
    it.each([
      ['iss', { iss: 'https://idp.example.com' }, 'The token issuer is not trusted'],
      ['aud', { aud: ['other'] }, 'The token audience is not this API'],
      ['sub', { sub: '' }, 'The token has no subject (sub)'],
      ['exp', { exp: Number.POSITIVE_INFINITY }, 'The token has no valid expiry (exp)'],
      ['nbf', { nbf: '0' }, 'The token nbf is not a number'],
      ['iat', { iat: null }, 'The token iat is not a number'],
    ])('should refuse a bad %s', async (_claim, overrides, description) => {
      await expectRefusal(setup().verifier.verify(sign(overrides)), description);
    });

    it('should apply clockTolerance to exp, nbf and iat, and no further', async () => {
      const { verifier } = setup({ clockTolerance: 30 });
      await expect(verifier.verify(sign({ exp: clock.seconds() - 29 }))).resolves.toBeDefined();
      await expectRefusal(verifier.verify(sign({ exp: clock.seconds() - 30 })), 'The token has expired');
      await expect(verifier.verify(sign({ nbf: clock.seconds() + 30 }))).resolves.toBeDefined();
      await expectRefusal(verifier.verify(sign({ nbf: clock.seconds() + 31 })), 'The token is not valid yet (nbf)');
      await expect(verifier.verify(sign({ iat: clock.seconds() + 30 }))).resolves.toBeDefined();
      await expectRefusal(verifier.verify(sign({ iat: clock.seconds() + 31 })), 'The token was issued in the future (iat)');
    });

    it('should require requiredClaims as own claims (an Object.prototype name is no claim)', async () => {
      const { verifier } = setup({ requiredClaims: ['toString', 'jti'] });
      await expectRefusal(verifier.verify(sign()), 'The token lacks a required claim');
      await expect(verifier.verify(sign({ toString: 'present' }))).resolves.toBeDefined();
    });

    it('should refuse a token older than maxTokenAge and require iat for it', async () => {
      const { verifier } = setup({ maxTokenAge: 60, clockTolerance: 0 });
      await expectRefusal(verifier.verify(sign({ iat: clock.seconds() - 61 })), 'The token is too old (iat)');
      await expectRefusal(verifier.verify(sign({ iat: undefined })), 'The token has no issue time (iat)');
    });
  });

  describe('when audienceClaim is client_id (Amazon Cognito access tokens)', () => {
    it('should accept a token without aud whose client_id is one of the audiences', async () => {
      const { verifier } = setup({ audience: ['app-client-1', 'app-client-2'], audienceClaim: 'client_id' });
      await expect(verifier.verify(sign({ aud: undefined, client_id: 'app-client-2' }))).resolves.toMatchObject({ client_id: 'app-client-2' });
    });

    it('should refuse another client_id, a missing one, and ignore a matching aud', async () => {
      const { verifier } = setup({ audience: 'app-client-1', audienceClaim: 'client_id' });
      await expectRefusal(verifier.verify(sign({ aud: undefined, client_id: 'other-client' })), 'The token audience is not this API');
      await expectRefusal(verifier.verify(sign({ aud: undefined })), 'The token audience is not this API');
      await expectRefusal(verifier.verify(sign({ aud: 'app-client-1', client_id: 'other-client' })), 'The token audience is not this API');
    });

    it('should refuse a token whose only match is client_id when audienceClaim is the default', async () => {
      const { verifier } = setup({ audience: 'app-client-1' });
      await expectRefusal(verifier.verify(sign({ aud: undefined, client_id: 'app-client-1' })), 'The token audience is not this API');
    });
  });

  describe('one spelling per token (canonical base64url, RFC 4648 §3.5)', () => {
    it('should tell canonical segments from other spellings of the same bytes', () => {
      for (let length = 0; length < 40; length++) {
        const bytes = Buffer.alloc(length, 0xa5);
        const canonical = bytes.toString('base64url');
        expect(isCanonical(canonical)).toBe(true);
        // A dangling character (length 1 mod 4) is dropped by the decoder: same bytes, another string.
        expect(isCanonical(`${canonical}A`)).toBe(canonical.length % 4 !== 0);
        if (canonical.length % 4 !== 0) {
          // Setting an unused low bit of the last character: same bytes, another string.
          expect(isCanonical(respell(canonical))).toBe(false);
        }
      }
    });

    it('should refuse a second spelling of the signature, header or payload before checking anything else', async () => {
      const { verifier } = setup();
      const token = sign();
      await expect(verifier.verify(token)).resolves.toMatchObject({ sub: 'susan' });
      const [h, p, sig] = token.split('.');
      for (const respelled of [`${respell(h)}.${p}.${sig}`, `${h}.${respell(p)}.${sig}`, `${h}.${p}.${respell(sig)}`]) {
        await expectRefusal(verifier.verify(respelled), 'The token is not canonical base64url');
      }
    });
  });

  describe('claim types', () => {
    it.each([
      ['aud ours and a number', { aud: [AUDIENCE, 42] }, 'The token aud is not a string or a list of strings'],
      ['aud a number', { aud: 42 }, 'The token aud is not a string or a list of strings'],
      ['iss a list', { iss: [ISSUER] }, 'The token iss is not a string'],
      ['sub a number', { sub: 7 }, 'The token has no subject (sub)'],
      ['scope an object', { scope: {} }, 'The token scope claim is not a string or a list of strings'],
      ['scp a list holding a number', { scp: ['a', 1] }, 'The token scope claim is not a string or a list of strings'],
      ['client_id a number', { client_id: 1 }, 'The token client id claim is not a string'],
      ['roles an object', { roles: { admin: true } }, 'The token role claim is not a string or a list of strings'],
    ])('should refuse %s as invalid_token', async (_case, overrides, description) => {
      const { verifier } = setup();
      await expectRefusal(verifier.verify(sign(overrides)), description);
    });

    it.each([
      ['keycloak', { realm_access: { roles: 'admin' } }, true],
      ['keycloak', { realm_access: { roles: [1] } }, false],
      ['keycloak', { realm_access: 'admin' }, false],
      ['keycloak', { realm_access: ['admin'] }, false],
      ['keycloak', { realm_access: {} }, true],
      ['auth0', { permissions: ['read:notes'] }, true],
      ['auth0', { permissions: 5 }, false],
      ['okta', { groups: ['Everyone'], cid: '0oa1' }, true],
      ['okta', { groups: [null] }, false],
      ['okta', { cid: 5 }, false],
      ['entra-id', { roles: ['Notes.Read'], appid: 'a-b' }, true],
      ['entra-id', { azp: ['x'] }, false],
      ['cognito', { 'cognito:groups': ['editors'] }, true],
      ['cognito', { 'cognito:groups': { editors: 1 } }, false],
    ] as const)('should check the role and client claims the %s preset reads: %j', async (preset, overrides, passes) => {
      const { verifier } = setup({ claims: preset });
      const verifying = verifier.verify(sign(overrides as Record<string, unknown>));
      if (passes) await expect(verifying).resolves.toMatchObject({ sub: 'susan' });
      else await expect(verifying).rejects.toBeInstanceOf(InvalidTokenException);
    });

    it('should remember no token refused for a claim type', async () => {
      const { verifier } = setup();
      const token = sign({ scope: 42 });
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidTokenException);
      expect(verifier.rememberedCount).toBe(0);
    });
  });

  describe('acceptedUntil (when a long-lived connection must close)', () => {
    it('should be exp plus the clock tolerance, or iat plus maxTokenAge if sooner, as verify() decides', async () => {
      const { verifier } = setup({ clockTolerance: 10 });
      const verified = await verifier.verify(sign({ exp: clock.seconds() + 300 }));
      expect(verifier.acceptedUntil(verified)).toBe((verified.exp + 10) * 1000);
      const aged = setup({ clockTolerance: 10, maxTokenAge: 60 }).verifier;
      const young = await aged.verify(sign({ exp: clock.seconds() + 300 }));
      expect(aged.acceptedUntil(young)).toBe((young.iat! + 60 + 10) * 1000);
      // Just before: still accepted; at that moment: refused.
      const token = sign({ exp: clock.seconds() + 300 });
      const until = aged.acceptedUntil(await aged.verify(token));
      clock.time = until - 1_000;
      await expect(setup({ clockTolerance: 10, maxTokenAge: 60 }).verifier.verify(token)).resolves.toBeDefined();
      clock.time = until + 1_000;
      await expectRefusal(setup({ clockTolerance: 10, maxTokenAge: 60 }).verifier.verify(token), 'The token is too old (iat)');
    });
  });

  describe('verifyNow (without waiting)', () => {
    it('should return the claims at once when the key set holds the key', () => {
      const { verifier } = setup();
      expect(verifier.verifyNow(sign())).toMatchObject({ sub: 'susan' });
    });

    it('should throw the same refusal as verify(), synchronously', () => {
      const { verifier } = setup();
      const forged = sign({}, {}, makeKey('key-1').privateKey);
      expect(() => verifier.verifyNow(forged)).toThrow(InvalidTokenException);
    });

    it('should return undefined, without any download, while the key set still has to be fetched', () => {
      const config = resolveAuthzConfig({ issuer: ISSUER, audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks.json' });
      const keys = new KeySet(config, clock.now);
      const refresh = jest.spyOn(keys, 'refresh');
      expect(new TokenVerifier(config, keys, clock.now).verifyNow(sign())).toBeUndefined();
      expect(refresh).not.toHaveBeenCalled();
    });
  });

  describe('remembered verifications', () => {
    it('should answer a repeated token without asking the key set again', async () => {
      const { keys, verifier } = setup();
      const lookups = [jest.spyOn(keys, 'keyFor'), jest.spyOn(keys, 'knownKeyFor')];
      const token = sign();
      await verifier.verify(token);
      await verifier.verify(token);
      expect(lookups[0].mock.calls.length + lookups[1].mock.calls.length).toBe(1);
      expect(verifier.rememberedCount).toBe(1);
    });

    it('should recheck exp on every use', async () => {
      const { verifier } = setup({ clockTolerance: 0, verifiedTokenCache: { maxAgeMs: 3_600_000 } });
      const token = sign({ exp: clock.seconds() + 60 });
      await verifier.verify(token);
      clock.time += 61_000;
      await expectRefusal(verifier.verify(token), 'The token has expired');
    });

    it('should not outlive maxTokenAge, though exp and the cache age would allow it', async () => {
      const { verifier } = setup({ maxTokenAge: 60, clockTolerance: 0, verifiedTokenCache: { maxAgeMs: 3_600_000 } });
      const token = sign({ exp: clock.seconds() + 3_600 });
      await verifier.verify(token);
      clock.time += 61_000;
      await expectRefusal(verifier.verify(token), 'The token is too old (iat)');
    });

    it('should never remember a refusal', async () => {
      const { verifier } = setup();
      const forged = sign({}, {}, makeKey('key-1').privateKey);
      await expectRefusal(verifier.verify(forged), 'The token signature is invalid');
      await expectRefusal(verifier.verify(forged), 'The token signature is invalid');
      expect(verifier.rememberedCount).toBe(0);
    });

    it('should remember nothing with verifiedTokenCache: false', async () => {
      const { verifier } = setup({ verifiedTokenCache: false });
      await verifier.verify(sign());
      expect(verifier.rememberedCount).toBe(0);
    });
  });

  describe('when fed random input (seeded fuzz)', () => {
    it('should only ever refuse with InvalidTokenException', async () => {
      const { verifier } = setup({ algorithms: ['RS256', 'ES256', 'EdDSA'] });
      const prng = new Prng(0xf00d);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ';
      const headers = [{ alg: 'RS256' }, { alg: 'RS256', kid: key.kid }, { alg: 'ES256', kid: key.kid }, { alg: 'EdDSA' }, { alg: 'RS256', crit: [] }, { alg: 'none' }];
      for (let i = 0; i < 3_000; i++) {
        const token = prng.chance(0.5)
          ? prng.string(alphabet, prng.int(0, 300))
          : `${b64(prng.pick(headers))}.${prng.string(alphabet, prng.int(0, 80))}.${prng.string(alphabet, prng.int(0, 400))}`;
        const error = await verifier.verify(token).then(() => new Error(`case ${i} verified: ${token}`), (reason: unknown) => reason);
        if (!(error instanceof InvalidTokenException)) throw new Error(`case ${i} (seed 0xf00d) failed with ${String(error)}: ${JSON.stringify(token)}`);
      }
      expect(verifier.rememberedCount).toBe(0);
    });
  });
});
