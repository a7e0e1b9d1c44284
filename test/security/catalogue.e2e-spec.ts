import { Test } from '@nestjs/testing';
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { AuthzConfigurationError, AuthzModule, PolicyService } from 'nestjs-authz';
import { ADAPTERS } from '../support/app';
import { b64 } from '../support/signing';
import { BadRequest, challenge, KEYS_UNAVAILABLE, Refusal } from './support/challenge';
import { JwksServer } from '../support/jwks-server';
import { TestClock } from './support/clock';
import { getWithHeaders } from './support/raw-http';
import { AUDIENCE, startSecurityApp, type SecurityApp } from './support/security-app';
import { makeKey, TokenFactory, unsigned } from './support/tokens';

/**
 * Every row of the attack catalogue in ../shared/reference/security-rules.md, over HTTP, on both adapters:
 * each ends in its exact status and `WWW-Authenticate` challenge, and none in a 5xx but the documented 503s.
 */
const rsaKey = makeKey('rsa-1');
const ecKey = makeKey('ec-1', 'ES256');
const attackerKey = makeKey('attacker-1');

describe.each(ADAPTERS)('attack catalogue (%s)', (adapter) => {
  let provider: JwksServer;
  let attacker: JwksServer;
  let sa: SecurityApp;
  let tokens: TokenFactory;

  const get = (path = '/unannotated') => request(sa.url).get(path);
  const withToken = (token: string, path = '/unannotated') => get(path).set('Authorization', `Bearer ${token}`);
  async function expectInvalidToken(token: string, description: string) {
    const res = await withToken(token);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(description));
    return res;
  }

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [rsaKey.jwk];
    attacker = await new JwksServer().start();
    attacker.keys = [attackerKey.jwk];
    // Keys found by discovery from the issuer, as in production.
    sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer } });
    tokens = new TokenFactory(provider.issuer, rsaKey);
    // Control: a well-formed token passes, so every refusal below is caused by the attack alone.
    await withToken(tokens.sign()).expect(200, { subject: 'susan' });
  });

  afterAll(async () => {
    await sa.close();
    await provider.stop();
    await attacker.stop();
  });

  describe('alg none, None, NONE', () => {
    it.each(['none', 'None', 'NONE'])('should refuse alg %s with an empty or junk signature', async (alg) => {
      await expectInvalidToken(unsigned({ alg, typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims()), Refusal.notCompact);
      await expectInvalidToken(unsigned({ alg, typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims(), 'AAAA'), Refusal.algorithm);
    });
  });

  it('should refuse RS256 → HS256 confusion (HMAC keyed with the public key PEM)', async () => {
    const pem = rsaKey.publicKey.export({ format: 'pem', type: 'spki' });
    await expectInvalidToken(tokens.signRaw({ alg: 'HS256', typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims(), pem), Refusal.algorithm);
  });

  it.each([['HS256'], ['none'], ['rs256']])('should refuse to start when algorithms name %s', async (alg) => {
    const compiling = Test.createTestingModule({ imports: [AuthzModule.forRoot({ issuer: provider.issuer, audience: AUDIENCE, algorithms: [alg as never] })] }).compile();
    await expect(compiling).rejects.toThrow(/option `algorithms` contains unsupported algorithm/);
  });

  describe('algorithm switch in a key family, when only RS256 is configured', () => {
    it('should refuse PS256 signed with the real RSA key', async () => {
      await expectInvalidToken(tokens.signRaw({ alg: 'PS256', typ: 'at+jwt', kid: rsaKey.kid }, tokens.claims(), rsaKey.privateKey), Refusal.algorithm);
    });

    it('should refuse ES384 signed with a P-256 key', async () => {
      await expectInvalidToken(tokens.signRaw({ alg: 'ES384', typ: 'at+jwt', kid: ecKey.kid }, tokens.claims(), ecKey.privateKey), Refusal.algorithm);
    });
  });

  it('should refuse an unknown kid', async () => {
    await expectInvalidToken(tokens.sign({}, { kid: 'no-such-key' }), Refusal.noKey);
  });

  it('should answer a flood of random kids with 401s and at most one JWKS download', async () => {
    const before = provider.jwksRequests;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => withToken(tokens.sign({}, { kid: `random-${i}-${Math.random()}` }))));
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.noKey));
    }
    // The default cooldown (30 s) admits one download per 30 s for all unknown kids together.
    expect(provider.jwksRequests - before).toBeLessThanOrEqual(1);
  });

  describe('hostile kid', () => {
    it.each([
      ['a path', '../../etc/passwd', Refusal.noKey],
      ['an SQL fragment', "' OR '1'='1'; DROP TABLE keys; --", Refusal.noKey],
      ['a URL-encoded path', '%2e%2e%2fadmin?x=1', Refusal.noKey],
      ['8 KB', 'k'.repeat(8 * 1024), Refusal.kidMalformed],
    ])('should refuse %s as kid without echoing it or using it in a request', async (_case, kid, description) => {
      const res = await expectInvalidToken(tokens.sign({}, { kid }), description);
      expect(JSON.stringify(res.headers)).not.toContain(kid.slice(0, 12));
      expect(res.text).not.toContain(kid.slice(0, 12));
      // The kid never became part of a URL: the provider only ever saw its two fixed paths.
      expect(new Set(provider.requests)).toEqual(new Set(['/.well-known/openid-configuration', '/jwks']));
    });

    it.each([
      ['an object', { $ne: null, path: 'hostile-object-kid' }],
      ['a number', 12345678],
      ['an empty string', ''],
    ])('should refuse %s as kid', async (_case, kid) => {
      const res = await expectInvalidToken(tokens.sign({}, { kid }), Refusal.kidMalformed);
      expect(res.text).not.toContain('hostile-object-kid');
    });
  });

  describe('embedded jwk / jku / x5u / x5c', () => {
    const spki = attackerKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    it.each([
      ['jwk under its own kid', { kid: attackerKey.kid, jwk: attackerKey.jwk }, Refusal.noKey],
      ['jwk under the real kid', { kid: rsaKey.kid, jwk: attackerKey.jwk }, Refusal.signature],
      ['jku', { kid: attackerKey.kid, jku: '<attacker>/jwks' }, Refusal.noKey],
      ['jku under the real kid', { kid: rsaKey.kid, jku: '<attacker>/jwks' }, Refusal.signature],
      ['x5u', { kid: attackerKey.kid, x5u: '<attacker>/cert.pem' }, Refusal.noKey],
      ['x5c', { kid: rsaKey.kid, x5c: [spki] }, Refusal.signature],
    ])('should refuse a token signed by the attacker with %s, making no outbound request', async (_case, extra, description) => {
      const header = Object.fromEntries(Object.entries(extra).map(([name, value]) => [name, typeof value === 'string' ? value.replace('<attacker>', attacker.url) : value]));
      await expectInvalidToken(tokens.sign({}, header, attackerKey), description);
      expect(attacker.requests).toEqual([]);
    });
  });

  it('should refuse a token signed by another key under the real kid', async () => {
    await expectInvalidToken(tokens.sign({}, { kid: rsaKey.kid }, makeKey(rsaKey.kid)), Refusal.signature);
  });

  describe('garbled tokens', () => {
    it.each([
      ['truncated', (t: string) => t.slice(0, -10), Refusal.signature],
      ['=-padded', (t: string) => `${t}==`, Refusal.notCompact],
      ['two segments', (t: string) => t.split('.').slice(0, 2).join('.'), Refusal.notCompact],
      ['four segments', (t: string) => `${t}.${t.split('.')[2]}`, Refusal.notCompact],
      ['five segments', (t: string) => `${t}.a.b`, Refusal.notCompact],
      ['base64 (not base64url) bytes', (t: string) => t.replace('.', '+.'), Refusal.notCompact],
      ['an empty segment', (t: string) => t.replace(/\.[^.]+\./, '..'), Refusal.notCompact],
    ])('should answer 401 invalid_token for a garbled token: %s', async (_case, garble, description) => {
      await expectInvalidToken(garble(tokens.sign()), description);
    });

    it.each([
      ['whitespace inside', (t: string) => `${t.slice(0, 30)} ${t.slice(30)}`],
      ['bytes outside b64token', (t: string) => t.replace('.', '*.')],
      ['inner = padding', (t: string) => t.replace('.', '=.')],
    ])('should answer 400 invalid_request for a token with %s (Authorization syntax)', async (_case, garble) => {
      const res = await withToken(garble(tokens.sign())).expect(400);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.syntax));
    });
  });

  describe('time claims', () => {
    it('should refuse an expired token', async () => {
      await expectInvalidToken(tokens.sign({ exp: tokens.nowSeconds() - 120 }), Refusal.expired);
    });

    it('should refuse a token whose nbf is in the future', async () => {
      await expectInvalidToken(tokens.sign({ nbf: tokens.nowSeconds() + 3600 }), Refusal.notYetValid);
    });

    it('should refuse an exp that is not a number', async () => {
      await expectInvalidToken(tokens.sign({ exp: String(tokens.nowSeconds() + 300) }), Refusal.expiry);
    });

    it('should refuse an iat in the future (now + 1 h)', async () => {
      await expectInvalidToken(tokens.sign({ iat: tokens.nowSeconds() + 3600 }), Refusal.iatFuture);
    });
  });

  it('should refuse a token without exp', async () => {
    await expectInvalidToken(tokens.sign({ exp: undefined }), Refusal.expiry);
  });

  it('should refuse a token without sub', async () => {
    await expectInvalidToken(tokens.sign({ sub: undefined }), Refusal.subject);
  });

  it.each([
    ['a wrong iss', () => ({ iss: 'https://evil.example/' })],
    ['a missing iss', () => ({ iss: undefined })],
    ['the iss without its trailing slash', () => ({ iss: provider.issuer.replace(/\/$/, '') })],
  ])('should refuse %s', async (_case, claims) => {
    await expectInvalidToken(tokens.sign(claims()), Refusal.issuer);
  });

  it.each([
    ['a wrong aud', 'other-api'],
    ['a missing aud', undefined],
    ['an empty aud', ''],
    ['an empty aud list', []],
  ])('should refuse %s', async (_case, aud) => {
    await expectInvalidToken(tokens.sign({ aud }), Refusal.audience);
  });

  it('should accept an aud list that contains ours', async () => {
    await withToken(tokens.sign({ aud: ['other-api', AUDIENCE] })).expect(200);
  });

  it.each([
    ['an aud list holding ours and a number', { aud: [AUDIENCE, 42] }, Refusal.audType],
    ['an aud that is a number', { aud: 42 }, Refusal.audType],
    ['an iss that is a list holding ours', { iss: ['<issuer>'] }, Refusal.issType],
    ['a sub that is a number', { sub: 42 }, Refusal.subject],
    ['a scope that is a number', { scope: 42 }, Refusal.scopeType],
    ['an scp list holding an object', { scp: ['notes:read', { admin: true }] }, Refusal.scopeType],
    ['a client_id that is a list', { client_id: ['notes-cli'] }, Refusal.clientIdType],
    ['roles that are an object', { roles: { admin: true } }, Refusal.roleType],
  ])('should refuse %s as invalid_token (wrong claim type, never ignored, never 500)', async (_case, claims, description) => {
    const bent = JSON.parse(JSON.stringify(claims).replace('<issuer>', provider.issuer));
    await expectInvalidToken(tokens.sign(bent), description);
  });

  it("should refuse to start with audienceClaim 'client_id' and an audience that is a URL, not a client id", async () => {
    const error = await Test.createTestingModule({ imports: [AuthzModule.forRoot({ issuer: provider.issuer, audience: 'https://notes.example.com/api', audienceClaim: 'client_id' })] })
      .compile()
      .then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(AuthzConfigurationError);
    expect((error as Error).message).toContain('which is not a client id');
  });

  it.each([
    ['an empty string', ''],
    ['an empty list', []],
  ])('should refuse to start when audience is configured as %s', async (_case, audience) => {
    const error = await Test.createTestingModule({ imports: [AuthzModule.forRoot({ issuer: provider.issuer, audience })] })
      .compile()
      .then(() => undefined, (reason: unknown) => reason);
    expect(error).toBeInstanceOf(AuthzConfigurationError);
    expect((error as Error).message).toContain('option `audience`');
  });

  it('should refuse an ID token presented as an access token (typ JWT, aud = a client id)', async () => {
    const idToken = tokens.sign({ aud: 'notes-cli', azp: 'notes-cli', nonce: 'n-0S6_WzA2Mj', at_hash: 'HK6E_P6Dh8Y93mRNtsDB1Q', scope: undefined }, { typ: 'JWT' });
    await expectInvalidToken(idToken, Refusal.audience);
  });

  it('should refuse an unknown crit header', async () => {
    await expectInvalidToken(tokens.sign({}, { crit: ['x-ext'], 'x-ext': true }), Refusal.crit);
  });

  it('should refuse a validly signed payload that is not an object', async () => {
    await expectInvalidToken(tokens.signRaw({ alg: 'RS256', typ: 'at+jwt', kid: rsaKey.kid }, JSON.stringify('string')), Refusal.payloadNotObject);
  });

  it('should let Node refuse a 100 KB Authorization header with 431', async () => {
    const res = await getWithHeaders(`${sa.url}/unannotated`, { authorization: `Bearer ${'a'.repeat(100 * 1024)}` });
    expect(res.status).toBe(431);
  });

  describe('deeply nested JSON', () => {
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const nestedHeader = (levels: number) => `${b64(`{"alg":"RS256","kid":"${rsaKey.kid}","x":${nested(levels)}}`)}.${b64(tokens.claims())}.AAAA`;

    it('should answer 401 for nesting that fits in a header', async () => {
      await expectInvalidToken(nestedHeader(4_000), Refusal.signature);
    });

    it('should never reach the app with 100 000 levels (Node answers 431)', async () => {
      const res = await getWithHeaders(`${sa.url}/unannotated`, { authorization: `Bearer ${nestedHeader(100_000)}` });
      expect(res.status).toBe(431);
    });
  });

  it('should answer 400 invalid_request for trailing junk', async () => {
    const res = await get().set('Authorization', `Bearer ${tokens.sign()} junk`).expect(400);
    expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.syntax));
  });

  describe('two credentials', () => {
    it('should answer 400 for two bearer credentials in one header', async () => {
      const t = tokens.sign();
      const res = await get().set('Authorization', `Bearer ${t}, Bearer ${t}`).expect(400);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.syntax));
    });

    it('should answer 400 for two Authorization headers (Node would keep only the first)', async () => {
      const res = await getWithHeaders(`${sa.url}/unannotated`, { authorization: [`Bearer ${tokens.sign()}`, `Bearer ${tokens.sign()}`] });
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.twoHeaders));
    });

    it('should answer 400 for a header plus ?access_token=', async () => {
      const t = tokens.sign();
      const res = await get(`/unannotated?access_token=${t}`).set('Authorization', `Bearer ${t}`).expect(400);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidRequest(BadRequest.queryNotAccepted));
    });
  });

  describe('no credentials', () => {
    it('should answer 401 with a bare challenge when nothing is sent', async () => {
      const res = await get().expect(401);
      expect(res.headers['www-authenticate']).toBe(challenge.missingCredentials);
    });

    it('should answer 401 with a bare challenge for Basic credentials', async () => {
      const res = await get().set('Authorization', 'Basic dXNlcjpwYXNz').expect(401);
      expect(res.headers['www-authenticate']).toBe(challenge.missingCredentials);
    });
  });

  describe('missing scope', () => {
    it.each([
      ['no scope claim', undefined],
      ['a longer name (adminx)', 'adminx'],
      ['another case (ADMIN)', 'ADMIN'],
      ['a prefix (admi)', 'admi'],
    ])('should answer 403 insufficient_scope for %s', async (_case, scope) => {
      const res = await withToken(tokens.sign({ scope }), '/admin').expect(403);
      expect(res.headers['www-authenticate']).toBe(challenge.insufficientScope('The token lacks the scope(s): admin', 'admin'));
    });

    it('should pass with the exact scope', async () => {
      await withToken(tokens.sign({ scope: 'notes:read admin' }), '/admin').expect(200);
    });
  });
});

describe.each(ADAPTERS)('attack catalogue: ES256 psychic signature (%s)', (adapter) => {
  let provider: JwksServer;
  let sa: SecurityApp;
  let tokens: TokenFactory;

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [ecKey.jwk];
    sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri, algorithms: ['ES256'] } });
    tokens = new TokenFactory(provider.issuer, ecKey);
  });

  afterAll(async () => {
    await sa.close();
    await provider.stop();
  });

  it('should accept a real ES256 signature (control)', async () => {
    await request(sa.url).get('/unannotated').set('Authorization', `Bearer ${tokens.sign()}`).expect(200);
  });

  it('should refuse r = s = 0', async () => {
    const forged = unsigned({ alg: 'ES256', typ: 'at+jwt', kid: ecKey.kid }, tokens.claims(), Buffer.alloc(64).toString('base64url'));
    const res = await request(sa.url).get('/unannotated').set('Authorization', `Bearer ${forged}`).expect(401);
    expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.signature));
  });

  it('should refuse the public key point itself as signature', async () => {
    const point = Buffer.concat([Buffer.from(String(ecKey.jwk.x), 'base64url'), Buffer.from(String(ecKey.jwk.y), 'base64url')]);
    const forged = unsigned({ alg: 'ES256', typ: 'at+jwt', kid: ecKey.kid }, tokens.claims(), point.toString('base64url'));
    const res = await request(sa.url).get('/unannotated').set('Authorization', `Bearer ${forged}`).expect(401);
    expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.signature));
  });
});

describe.each(ADAPTERS)('attack catalogue: JWKS outage and hang (%s)', (adapter) => {
  let provider: JwksServer;

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [rsaKey.jwk];
  });

  afterAll(() => provider.stop());

  it('should answer 503 with Retry-After when the JWKS endpoint returns 503 and the key is not cached', async () => {
    provider.jwksMode = 'unavailable';
    const sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri } });
    try {
      const tokens = new TokenFactory(provider.issuer, rsaKey);
      const res = await request(sa.url).get('/unannotated').set('Authorization', `Bearer ${tokens.sign()}`).expect(503);
      // Retry-After is the first backoff step after a failed download (1 s), not the 30 s cooldown.
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.body).toMatchObject({ statusCode: 503, message: KEYS_UNAVAILABLE });
    } finally {
      await sa.close();
    }
  });

  it('should give up on a hanging JWKS endpoint after jwksTimeoutMs and answer 503', async () => {
    provider.jwksMode = 'hang';
    const jwksTimeoutMs = 200;
    const sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri, jwksTimeoutMs } });
    try {
      const tokens = new TokenFactory(provider.issuer, rsaKey);
      const started = performance.now();
      const res = await request(sa.url).get('/unannotated').set('Authorization', `Bearer ${tokens.sign()}`);
      const elapsed = performance.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      // One attempt is bounded by jwksTimeoutMs; the rest is request handling on loopback (generous for CI).
      expect(elapsed).toBeGreaterThanOrEqual(jwksTimeoutMs - 5);
      expect(elapsed).toBeLessThan(jwksTimeoutMs + 1_500);
    } finally {
      await sa.close();
    }
  });
});

describe.each(ADAPTERS)('attack catalogue: PolicyService throws (%s)', (adapter) => {
  class ThrowingPolicy extends PolicyService {
    async hasPermission(): Promise<boolean> {
      throw new Error('policy database unreachable');
    }
  }
  let provider: JwksServer;
  let sa: SecurityApp;

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [rsaKey.jwk];
    sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri }, policyService: ThrowingPolicy });
  });

  afterAll(async () => {
    await sa.close();
    await provider.stop();
  });

  it('should answer 503 and deny', async () => {
    const token = new TokenFactory(provider.issuer, rsaKey).sign();
    const res = await request(sa.url).get('/notes').set('Authorization', `Bearer ${token}`).expect(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body).toMatchObject({ statusCode: 503, message: "Policy 'note' could not be evaluated; try again later" });
  });
});

describe.each(ADAPTERS)('attack catalogue: a second spelling of a token (%s)', (adapter) => {
  // 96-byte ES384 signatures and 384-byte RSA-3072 ones are 0 mod 4 in base64url: one appended character used to be
  // dropped by the decoder, giving a second valid token. A 2048-bit RSA signature carries 4 unused low bits instead.
  const es384 = makeKey('es384-1', 'ES384');
  const rsa3072 = makeKey('rsa3072-1', 'RS256', { modulusLength: 3072 });
  let provider: JwksServer;
  let sa: SecurityApp;
  let tokens: TokenFactory;

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [es384.jwk, rsa3072.jwk, rsaKey.jwk];
    sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri, algorithms: ['RS256', 'ES384'] } });
    tokens = new TokenFactory(provider.issuer, es384);
  });

  afterAll(async () => {
    await sa.close();
    await provider.stop();
  });

  const send = (token: string) => request(sa.url).get('/unannotated').set('Authorization', `Bearer ${token}`);

  it.each([
    ['ES384', () => es384],
    ['RS256 with a 3072-bit key', () => rsa3072],
  ])('should refuse a %s token with one character appended (401 invalid_token)', async (_case, key) => {
    const token = tokens.sign({}, {}, key());
    await send(token).expect(200);
    const res = await send(`${token}A`).expect(401);
    expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.notCanonical));
  });

  it('should refuse an RS256 signature whose unused trailing bits are set', async () => {
    const token = tokens.sign({}, {}, rsaKey);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = token.slice(0, -1) + alphabet[alphabet.indexOf(token.at(-1)!) + 1];
    expect(Buffer.from(respelled.split('.')[2], 'base64url').equals(Buffer.from(token.split('.')[2], 'base64url'))).toBe(true);
    const res = await send(respelled).expect(401);
    expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.notCanonical));
  });
});

describe.each(ADAPTERS)('attack catalogue: JWKS recovery and bounds (%s)', (adapter) => {
  const newKey = makeKey('rsa-new');
  let provider: JwksServer;

  beforeEach(async () => {
    provider = await new JwksServer().start();
    provider.keys = [rsaKey.jwk];
  });

  afterEach(() => provider.stop());

  it('should serve a real new kid within 2 s of the provider coming back after an outage and a kid flood, and 401 a random one', async () => {
    const clock = new TestClock();
    const sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri }, clock });
    try {
      const tokens = new TokenFactory(provider.issuer, rsaKey, clock.now);
      const send = (token: string) => request(sa.url).get('/unannotated').set('Authorization', `Bearer ${token}`);
      await send(tokens.sign()).expect(200);
      provider.jwksMode = 'unavailable';
      clock.advance(30_000);
      const before = provider.jwksRequests;
      const flood = await Promise.all(Array.from({ length: 30 }, (_, i) => send(tokens.sign({}, { kid: `random-${i}` }))));
      expect(flood.map((res) => res.status)).toEqual(Array(30).fill(503));
      expect(flood[0].headers['retry-after']).toBe('1');
      await send(tokens.sign()).expect(200);
      expect(provider.jwksRequests - before).toBe(1);

      provider.jwksMode = 'ok';
      provider.keys = [rsaKey.jwk, newKey.jwk];
      clock.advance(1_000);
      await send(tokens.sign({}, {}, newKey)).expect(200);
      const res = await send(tokens.sign({}, { kid: 'random-after' })).expect(401);
      expect(res.headers['www-authenticate']).toBe(challenge.invalidToken(Refusal.noKey));
      expect(provider.jwksRequests - before).toBe(2);
    } finally {
      await sa.close();
    }
  });

  it.each([
    ['over 512 KiB', 'huge'],
    ['that drips forever', 'drip'],
  ] as const)('should answer 503 within jwksTimeoutMs for a JWKS %s', async (_case, mode) => {
    provider.jwksMode = mode;
    const jwksTimeoutMs = 300;
    const sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri, jwksTimeoutMs } });
    try {
      const started = performance.now();
      const res = await request(sa.url).get('/unannotated').set('Authorization', `Bearer ${new TokenFactory(provider.issuer, rsaKey).sign()}`);
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(performance.now() - started).toBeLessThan(jwksTimeoutMs + 1_500);
    } finally {
      await sa.close();
    }
  });
});

describe.each(ADAPTERS)('attack catalogue: query-string token caching (%s)', (adapter) => {
  let provider: JwksServer;
  let sa: SecurityApp;
  let tokens: TokenFactory;

  beforeAll(async () => {
    provider = await new JwksServer().start();
    provider.keys = [rsaKey.jwk];
    sa = await startSecurityApp(adapter, { authz: { issuer: provider.issuer, jwksUri: provider.jwksUri, allowQueryToken: true } });
    tokens = new TokenFactory(provider.issuer, rsaKey);
  });

  afterAll(async () => {
    await sa.close();
    await provider.stop();
  });

  it('should send Cache-Control: no-store with answers to ?access_token= requests, accepted or refused', async () => {
    const ok = await request(sa.url).get(`/unannotated?access_token=${tokens.sign()}`).expect(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    const refused = await request(sa.url).get(`/unannotated?access_token=${tokens.sign({ aud: 'other-api' })}`).expect(401);
    expect(refused.headers['cache-control']).toBe('no-store');
  });
});
