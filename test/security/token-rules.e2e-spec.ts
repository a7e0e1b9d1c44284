import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { ADAPTERS } from '../support/app';
import { b64 } from '../support/signing';
import { BadRequest, challenge, Refusal } from './support/challenge';
import { getWithHeaders } from './support/raw-http';
import { AUDIENCE } from './support/security-app';
import { makeKey, unsigned, type TestKey } from './support/tokens';
import { useSecurityApp } from './support/use-app';

/**
 * Each validation rule of the hardening issue (RFC 8725, RFC 9068, RFC 6750), over HTTP on both adapters, with the
 * options that tighten or relax it.
 */
const rsaKey = makeKey('rsa-1');
const rsaNoAlg = makeKey('rsa-no-alg', 'RS256', { withAlg: false });
const p256NoAlg = makeKey('p256-no-alg', 'ES256', { withAlg: false });
const p384 = makeKey('p384', 'ES384');

/** A key whose pair is generated here (the shared helper has no P-521, Ed448 or RSA-3072 with an alg of its own). */
function keyOf(kid: string, alg: string, pair: { privateKey: TestKey['privateKey']; publicKey: TestKey['publicKey'] }): TestKey {
  return { kid, alg, ...pair, jwk: { ...pair.publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg } };
}
// Signature lengths 0 mod 4 in base64url (ES384 128, ES512 176, Ed448 152, RSA-3072 512 characters): there one
// appended character used to give a second valid token. RS256-2048 (342) and Ed25519 (86) carry unused low bits.
const spellingKeys = [
  keyOf('es384', 'ES384', generateKeyPairSync('ec', { namedCurve: 'P-384' })),
  keyOf('es512', 'ES512', generateKeyPairSync('ec', { namedCurve: 'P-521' })),
  keyOf('ed448', 'EdDSA', generateKeyPairSync('ed448')),
  keyOf('rsa-3072', 'RS256', generateKeyPairSync('rsa', { modulusLength: 3072 })),
  keyOf('rsa-2048', 'RS256', generateKeyPairSync('rsa', { modulusLength: 2048 })),
  keyOf('ed25519', 'EdDSA', generateKeyPairSync('ed25519')),
];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Another spelling of the same bytes: a dangling character, or an unused low bit of the last character set. */
function respell(segment: string): string {
  const respelled = segment.length % 4 === 0 ? `${segment}A` : segment.slice(0, -1) + ALPHABET[ALPHABET.indexOf(segment.at(-1)!) + 1];
  expect(Buffer.from(respelled, 'base64url').equals(Buffer.from(segment, 'base64url'))).toBe(true);
  return respelled;
}

describe.each(ADAPTERS)('token rules (%s)', (adapter) => {
  describe('with the defaults (RS256 only, typ not required)', () => {
    const ctx = useSecurityApp(adapter, [rsaKey]);

    it('should accept a well-formed token (control)', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200, { subject: 'susan' });
    });

    describe('algorithms', () => {
      it.each(['rs256', 'Rs256', 'RS256 ', 'rS256'])('should compare alg case-sensitively: %j is refused even with a valid RS256 signature', async (alg) => {
        await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg, typ: 'at+jwt', kid: rsaKey.kid }, ctx.tokens.claims(), rsaKey.privateKey, 'RS256'), Refusal.algorithm);
      });

      it.each(['none', 'None', 'NONE', 'nOnE'])('should refuse alg %s', async (alg) => {
        await ctx.expectInvalidToken(unsigned({ alg, kid: rsaKey.kid }, ctx.tokens.claims(), 'c2lnbmF0dXJl'), Refusal.algorithm);
      });

      it('should refuse a header without alg', async () => {
        await ctx.expectInvalidToken(unsigned({ typ: 'at+jwt', kid: rsaKey.kid }, ctx.tokens.claims(), 'c2lnbmF0dXJl'), Refusal.algorithm);
      });

      it('should refuse HS256 keyed with the public key PEM', async () => {
        const pem = rsaKey.publicKey.export({ format: 'pem', type: 'spki' });
        await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg: 'HS256', typ: 'at+jwt', kid: rsaKey.kid }, ctx.tokens.claims(), pem), Refusal.algorithm);
      });

      it('should refuse HS256 keyed with the JWK modulus', async () => {
        await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg: 'HS256', kid: rsaKey.kid }, ctx.tokens.claims(), String(rsaKey.jwk.n)), Refusal.algorithm);
      });

      it('should refuse PS256 made with the real RSA key', async () => {
        await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg: 'PS256', kid: rsaKey.kid }, ctx.tokens.claims(), rsaKey.privateKey), Refusal.algorithm);
      });

      it('should refuse ES384 made with a P-256 key', async () => {
        await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg: 'ES384', kid: p256NoAlg.kid }, ctx.tokens.claims(), p256NoAlg.privateKey), Refusal.algorithm);
      });
    });

    describe('header', () => {
      it.each([
        ['an unknown extension', { crit: ['x-ext'], 'x-ext': 1 }],
        ['b64 (RFC 7797, not implemented)', { crit: ['b64'], b64: false }],
        ['an empty list', { crit: [] }],
        ['a non-list', { crit: 'exp' }],
      ])('should refuse crit naming %s', async (_case, header) => {
        await ctx.expectInvalidToken(ctx.tokens.sign({}, header), Refusal.crit);
      });

      it.each([
        ['a JSON string', JSON.stringify('header')],
        ['a JSON list', JSON.stringify([{ alg: 'RS256' }])],
        ['null', 'null'],
      ])('should refuse a header that is %s', async (_case, header) => {
        await ctx.expectInvalidToken(`${b64(header)}.${b64(ctx.tokens.claims())}.c2ln`, Refusal.headerNotObject);
      });

      it('should refuse a header that is not JSON', async () => {
        await ctx.expectInvalidToken(`${b64('{"alg":"RS256",')}.${b64(ctx.tokens.claims())}.c2ln`, Refusal.headerNotJson);
      });
    });

    describe('payload', () => {
      it.each([
        ['a string', JSON.stringify('sub')],
        ['a list', JSON.stringify([{ sub: 'susan' }])],
        ['a number', '42'],
        ['null', 'null'],
      ])('should refuse a validly signed payload that is %s', async (_case, payload) => {
        await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg: 'RS256', kid: rsaKey.kid }, payload), Refusal.payloadNotObject);
      });

      it('should refuse a validly signed payload that is not JSON', async () => {
        await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg: 'RS256', kid: rsaKey.kid }, '{"sub":'), Refusal.payloadNotJson);
      });
    });

    describe('segments', () => {
      it.each([1, 2, 4, 5])('should refuse %i segment(s)', async (count) => {
        const [h, p, s] = ctx.tokens.sign().split('.');
        const segments = [h, p, s, s, s].slice(0, count);
        await ctx.expectInvalidToken(segments.join('.'), Refusal.notCompact);
      });
    });

    describe('claims', () => {
      it('should accept an iat slightly in the future, within the 30 s tolerance', async () => {
        await ctx.withToken(ctx.tokens.sign({ iat: ctx.tokens.nowSeconds() + 20 })).expect(200);
      });

      it('should refuse an iat in the future beyond the tolerance', async () => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ iat: ctx.tokens.nowSeconds() + 60 }), Refusal.iatFuture);
      });

      it('should refuse an iat that is not a number', async () => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ iat: 'yesterday' }), Refusal.iatNotNumber);
      });

      it('should accept an exp just past, within the tolerance, and refuse one beyond it', async () => {
        await ctx.withToken(ctx.tokens.sign({ exp: ctx.tokens.nowSeconds() - 10 })).expect(200);
        await ctx.expectInvalidToken(ctx.tokens.sign({ exp: ctx.tokens.nowSeconds() - 60 }), Refusal.expired);
      });

      it.each([
        ['missing', undefined],
        ['a string', '4102444800'],
        ['null', null],
      ])('should refuse an exp that is %s', async (_case, exp) => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ exp }), Refusal.expiry);
      });

      it('should refuse an nbf that is not a number', async () => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ nbf: 'now' }), Refusal.nbfNotNumber);
      });

      it.each([
        ['missing', undefined],
        ['empty', ''],
        ['a number', 42],
        ['a list', ['susan']],
      ])('should refuse a sub that is %s', async (_case, sub) => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ sub }), Refusal.subject);
      });

      it.each([
        ['missing', undefined],
        ['empty', ''],
        ['an empty list', []],
        ['a list without ours', ['other-api', 'notes-cli']],
        ['ours in another case', AUDIENCE.toUpperCase()],
      ])('should refuse an aud that is %s', async (_case, aud) => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ aud }), Refusal.audience);
      });

      it.each([
        ['a list holding ours inside a list', [[AUDIENCE]]],
        ['an object', { aud: AUDIENCE }],
        ['a list holding ours and a number', [AUDIENCE, 42]],
        ['a list holding a number and ours', [42, 'other-api', AUDIENCE]],
        ['a list holding ours and null', [AUDIENCE, null]],
        ['a number', 42],
        ['null', null],
        ['true', true],
      ])('should refuse an aud of the wrong type, %s, as invalid_token', async (_case, aud) => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ aud }), Refusal.audType);
      });

      it('should accept an aud list of strings that holds ours among others', async () => {
        await ctx.withToken(ctx.tokens.sign({ aud: ['other-api', AUDIENCE] })).expect(200);
      });

      it.each([
        ['a number', () => 42],
        ['a list holding ours', (issuer: string) => [issuer]],
        ['an object', (issuer: string) => ({ iss: issuer })],
        ['null', () => null],
      ])('should refuse an iss of the wrong type, %s, as invalid_token', async (_case, iss) => {
        await ctx.expectInvalidToken(ctx.tokens.sign({ iss: iss(ctx.tokens.issuer) }), Refusal.issType);
      });

      it.each([
        ['scope a number', { scope: 42 }, Refusal.scopeType],
        ['scope an object', { scope: { read: true } }, Refusal.scopeType],
        ['scope null', { scope: null }, Refusal.scopeType],
        ['scope a list holding a number', { scope: ['notes:read', 7] }, Refusal.scopeType],
        ['scp a string list holding an object', { scp: ['notes:read', {}] }, Refusal.scopeType],
        ['scp a boolean', { scp: true }, Refusal.scopeType],
        ['client_id a number', { client_id: 42 }, Refusal.clientIdType],
        ['client_id a list', { client_id: ['notes-cli'] }, Refusal.clientIdType],
        ['azp an object', { azp: { id: 'notes-cli' } }, Refusal.clientIdType],
        ['roles a number', { roles: 1 }, Refusal.roleType],
        ['roles a list holding an object', { roles: ['reader', { admin: true }] }, Refusal.roleType],
      ])('should refuse %s as invalid_token, never ignore it', async (_case, claims, description) => {
        await ctx.expectInvalidToken(ctx.tokens.sign(claims), description);
      });

      it('should accept scope as a list and scp as a string (both spellings providers use)', async () => {
        await ctx.withToken(ctx.tokens.sign({ scope: ['notes:read'], scp: 'notes:read', roles: 'reader' })).expect(200);
      });
    });

    describe('token type, where requireAccessTokenType is off', () => {
      it('should accept an access token with typ JWT (many providers send it)', async () => {
        await ctx.withToken(ctx.tokens.sign({}, { typ: 'JWT' })).expect(200);
      });

      it('should accept an access token without typ', async () => {
        await ctx.withToken(ctx.tokens.sign({}, { typ: undefined })).expect(200);
      });

      it('should still refuse an ID token, because its aud is the client id', async () => {
        const idToken = ctx.tokens.sign({ aud: 'notes-cli', azp: 'notes-cli', nonce: 'abc', auth_time: ctx.tokens.nowSeconds(), scope: undefined, client_id: undefined }, { typ: 'JWT' });
        await ctx.expectInvalidToken(idToken, Refusal.audience);
      });
    });

    describe('Authorization header syntax (RFC 6750 §2.1)', () => {
      const get = () => request(ctx.sa.url).get('/unannotated');

      it.each(['bearer', 'BEARER', 'BeArEr'])('should accept the scheme written %s', async (scheme) => {
        await get().set('Authorization', `${scheme} ${ctx.tokens.sign()}`).expect(200);
      });

      it('should accept several spaces after the scheme', async () => {
        await get().set('Authorization', `Bearer    ${ctx.tokens.sign()}`).expect(200);
      });

      it.each([
        ['a tab after the scheme', (t: string) => `Bearer\t${t}`],
        ['the scheme alone', () => 'Bearer'],
        ['a comma after the scheme', (t: string) => `Bearer,${t}`],
        ['trailing junk', (t: string) => `Bearer ${t} junk`],
        ['a second credential', (t: string) => `Bearer ${t},Bearer ${t}`],
        ['a quoted token', (t: string) => `Bearer "${t}"`],
        ['an auth-param instead of a token', () => 'Bearer realm="x"'],
      ])('should answer 400 invalid_request for %s', async (_case, header) => {
        const res = await get().set('Authorization', header(ctx.tokens.sign())).expect(400);
        expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.syntax));
      });

      it.each([
        ['another scheme', 'Basic dXNlcjpwYXNz'],
        ['a scheme that only starts like Bearer', 'Bearerx abc'],
        ['a DPoP-bound token (not supported)', 'DPoP abc'],
      ])('should answer 401 with a bare challenge for %s', async (_case, header) => {
        const res = await get().set('Authorization', header).expect(401);
        expect(res.headers['www-authenticate']).toBe(challenge.missingCredentials);
      });

      it('should answer 400 for a valid and an invalid Authorization header together, in either order', async () => {
        const valid = `Bearer ${ctx.tokens.sign()}`;
        for (const headers of [[valid, 'Basic dXNlcjpwYXNz'], ['Basic dXNlcjpwYXNz', valid]]) {
          const res = await getWithHeaders(`${ctx.sa.url}/unannotated`, { authorization: headers });
          expect(res.status).toBe(400);
          expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.twoHeaders));
        }
      });
    });

    describe('query-string tokens, where allowQueryToken is off (the default)', () => {
      it('should refuse ?access_token= with 400 invalid_request', async () => {
        const res = await request(ctx.sa.url).get(`/unannotated?access_token=${ctx.tokens.sign()}`).expect(400);
        expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.queryNotAccepted));
      });

      it('should refuse an empty ?access_token= too', async () => {
        await request(ctx.sa.url).get('/unannotated?access_token=').expect(400);
      });
    });
  });

  describe('key family, curve and JWK alg (algorithms RS256, PS256, ES256, ES384)', () => {
    const ctx = useSecurityApp(adapter, [rsaKey, rsaNoAlg, p256NoAlg, p384], { algorithms: ['RS256', 'PS256', 'ES256', 'ES384'] });
    const sign = (alg: string, kid: string, key: ReturnType<typeof makeKey>) => ctx.tokens.signRaw({ alg, typ: 'at+jwt', kid }, ctx.tokens.claims(), key.privateKey, alg);

    it('should honour the JWK alg: a key published for RS256 does not verify PS256', async () => {
      await ctx.withToken(sign('RS256', rsaKey.kid, rsaKey)).expect(200);
      await ctx.expectInvalidToken(sign('PS256', rsaKey.kid, rsaKey), Refusal.noKey);
    });

    it('should let an RSA key without JWK alg verify PS256 when PS256 is allowed (control)', async () => {
      await ctx.withToken(sign('PS256', rsaNoAlg.kid, rsaNoAlg)).expect(200);
    });

    it('should match the curve: a P-256 key never verifies ES384', async () => {
      await ctx.withToken(sign('ES256', p256NoAlg.kid, p256NoAlg)).expect(200);
      await ctx.expectInvalidToken(sign('ES384', p256NoAlg.kid, p256NoAlg), Refusal.noKey);
    });

    it('should match the family: an RSA kid with an EC alg, or an EC kid with an RSA alg, finds no key', async () => {
      await ctx.expectInvalidToken(sign('ES256', rsaNoAlg.kid, p256NoAlg), Refusal.noKey);
      await ctx.expectInvalidToken(sign('RS256', p256NoAlg.kid, rsaKey), Refusal.noKey);
    });

    it('should refuse a token without kid when several keys could fit', async () => {
      await ctx.expectInvalidToken(ctx.tokens.signRaw({ alg: 'RS256' }, ctx.tokens.claims(), rsaKey.privateKey), Refusal.noKeyWithoutKid);
    });

    it('should use the one key that fits a token without kid', async () => {
      await ctx.withToken(ctx.tokens.signRaw({ alg: 'ES384' }, ctx.tokens.claims(), p384.privateKey, 'ES384')).expect(200);
    });
  });

  describe('with requireAccessTokenType (RFC 9068 typ at+jwt)', () => {
    const ctx = useSecurityApp(adapter, [rsaKey], { requireAccessTokenType: true });

    it.each(['at+jwt', 'AT+JWT', 'At+Jwt', 'application/at+jwt', 'Application/AT+JWT'])('should accept typ %s', async (typ) => {
      await ctx.withToken(ctx.tokens.sign({}, { typ })).expect(200);
    });

    it.each([
      ['JWT', 'JWT'],
      ['missing', undefined],
      ['application/jwt', 'application/jwt'],
      ['at+jwt with a parameter', 'at+jwt; charset=utf-8'],
      ['at+jwt with a space', ' at+jwt'],
      ['a list', ['at+jwt']],
      ['another media type', 'application/at+jwt+xml'],
    ])('should refuse typ %s', async (_case, typ) => {
      await ctx.expectInvalidToken(ctx.tokens.sign({}, { typ }), Refusal.notAccessToken);
    });

    it('should refuse an ID token by its type before its audience is read', async () => {
      await ctx.expectInvalidToken(ctx.tokens.sign({ aud: AUDIENCE, nonce: 'abc' }, { typ: 'JWT' }), Refusal.notAccessToken);
    });
  });

  describe('with maxTokenAge 60 s and no clock tolerance', () => {
    const ctx = useSecurityApp(adapter, [rsaKey], { maxTokenAge: 60, clockTolerance: 0 });

    it('should accept a token issued 10 s ago', async () => {
      await ctx.withToken(ctx.tokens.sign({ iat: ctx.tokens.nowSeconds() - 10 })).expect(200);
    });

    it('should refuse a token issued 120 s ago, though not expired', async () => {
      await ctx.expectInvalidToken(ctx.tokens.sign({ iat: ctx.tokens.nowSeconds() - 120, exp: ctx.tokens.nowSeconds() + 3600 }), Refusal.tooOld);
    });

    it('should require iat', async () => {
      await ctx.expectInvalidToken(ctx.tokens.sign({ iat: undefined }), Refusal.noIat);
    });

    it('should have no leeway on exp without clockTolerance', async () => {
      await ctx.expectInvalidToken(ctx.tokens.sign({ exp: ctx.tokens.nowSeconds() - 2 }), Refusal.expired);
    });
  });

  describe('with requiredClaims jti and client_id', () => {
    const ctx = useSecurityApp(adapter, [rsaKey], { requiredClaims: ['jti', 'client_id'] });

    it('should accept a token carrying both', async () => {
      await ctx.withToken(ctx.tokens.sign()).expect(200);
    });

    it.each([
      ['jti missing', { jti: undefined }],
      ['client_id missing', { client_id: undefined }],
      ['jti null', { jti: null }],
    ])('should refuse a token with %s', async (_case, claims) => {
      await ctx.expectInvalidToken(ctx.tokens.sign(claims), Refusal.requiredClaim);
    });
  });

  describe('one accepted spelling per token (canonical base64url)', () => {
    const ctx = useSecurityApp(adapter, spellingKeys, { algorithms: ['RS256', 'ES384', 'ES512', 'EdDSA'] });

    describe.each(spellingKeys.map((key) => [key.kid, key] as const))('signed with %s', (_kid, key) => {
      it('should accept the token as issued (control)', async () => {
        await ctx.withToken(ctx.tokens.sign({}, {}, key)).expect(200);
      });

      it('should refuse the same bytes spelled another way in the signature (appended character or unused bits)', async () => {
        const [h, p, sig] = ctx.tokens.sign({}, {}, key).split('.');
        await ctx.expectInvalidToken(`${h}.${p}.${respell(sig)}`, Refusal.notCanonical);
      });

      it('should refuse the token with one character appended', async () => {
        const token = ctx.tokens.sign({}, {}, key);
        // Length 0 mod 4 becomes 1 mod 4 (the decoder would drop the character); 2 mod 4 becomes other bytes.
        const expected = token.split('.')[2].length % 4 === 2 ? Refusal.signature : Refusal.notCanonical;
        await ctx.expectInvalidToken(`${token}A`, expected);
      });

      it('should refuse another spelling of the header or the payload', async () => {
        const [h, p, sig] = ctx.tokens.sign({}, {}, key).split('.');
        await ctx.expectInvalidToken(`${respell(h)}.${p}.${sig}`, Refusal.notCanonical);
        await ctx.expectInvalidToken(`${h}.${respell(p)}.${sig}`, Refusal.notCanonical);
      });
    });
  });

  describe('with allowQueryToken', () => {
    const ctx = useSecurityApp(adapter, [rsaKey], { allowQueryToken: true });
    const get = (query: string) => request(ctx.sa.url).get(`/unannotated?${query}`);

    it('should accept a valid ?access_token=', async () => {
      await get(`access_token=${ctx.tokens.sign()}`).expect(200, { subject: 'susan' });
    });

    it('should verify a query token like any other', async () => {
      const res = await get(`access_token=${ctx.tokens.sign({ aud: 'other-api' })}`).expect(401);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.audience));
    });

    it('should answer 400 for a token in the header and the query', async () => {
      const t = ctx.tokens.sign();
      const res = await get(`access_token=${t}`).set('Authorization', `Bearer ${t}`).expect(400);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.twoPlaces));
    });

    it('should answer 400 for two query tokens', async () => {
      const res = await get(`access_token=${ctx.tokens.sign()}&access_token=${ctx.tokens.sign()}`).expect(400);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.twoQueryTokens));
    });

    it('should answer 401 with a bare challenge for an empty query token', async () => {
      const res = await get('access_token=').expect(401);
      expect(res.headers['www-authenticate']).toBe(challenge.missingCredentials);
    });

    describe('Cache-Control: no-store on every answer to a request with ?access_token= (RFC 6750 §2.3)', () => {
      it('should send it with a 200', async () => {
        const res = await get(`access_token=${ctx.tokens.sign()}`).expect(200);
        expect(res.headers['cache-control']).toBe('no-store');
      });

      it('should send it with a 200 answered from a remembered verification', async () => {
        const token = ctx.tokens.sign();
        await get(`access_token=${token}`).expect(200);
        const res = await get(`access_token=${token}`).expect(200);
        expect(res.headers['cache-control']).toBe('no-store');
      });

      it.each([
        ['an invalid token (401)', () => `access_token=${ctx.tokens.sign({ aud: 'other-api' })}`, 401, undefined],
        ['a token in the header too (400)', () => `access_token=${ctx.tokens.sign()}`, 400, () => `Bearer ${ctx.tokens.sign()}`],
        ['two query tokens (400)', () => `access_token=a&access_token=b`, 400, undefined],
        ['an empty query token (401)', () => 'access_token=', 401, undefined],
        ['a missing scope (403)', () => `access_token=${ctx.tokens.sign()}`, 403, undefined],
      ])('should send it with the refusal of %s', async (_case, query, status, authorization) => {
        let call = request(ctx.sa.url).get(`${status === 403 ? '/admin' : '/unannotated'}?${query()}`);
        if (authorization) call = call.set('Authorization', authorization());
        const res = await call.expect(status);
        expect(res.headers['cache-control']).toBe('no-store');
      });

      it('should not add it to a request authenticated by its Authorization header', async () => {
        const res = await request(ctx.sa.url).get('/unannotated?x=1').set('Authorization', `Bearer ${ctx.tokens.sign()}`).expect(200);
        expect(res.headers['cache-control']).not.toBe('no-store');
      });
    });
  });
});
