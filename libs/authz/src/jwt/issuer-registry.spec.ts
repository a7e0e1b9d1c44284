import { resolveAuthzConfig } from '../authz.config';
import { InvalidTokenException, KeySetUnavailableException } from '../authz.exceptions';
import type { AuthzModuleOptions, IssuerOptions } from '../authz.options';
import { toIdentity } from '../identity/identity-mapper';
import { makeKey, signJws } from '../../../../test/support/signing';
import { expectRefusal } from '../../../../test/support/refusal';
import { KeySet } from './key-set';
import { TokenVerifier } from './token-verifier';

const ACME = 'https://login.acme.example/';
const GLOBEX = 'https://idp.globex.example/realms/notes';
const AUDIENCE = 'notes-api';
const acmeKey = makeKey('acme-1');
const globexKey = makeKey('globex-1', 'ES256');

function verifierFor(options: Partial<AuthzModuleOptions>) {
  const config = resolveAuthzConfig({ audience: AUDIENCE, ...options } as AuthzModuleOptions);
  return { config, verifier: new TokenVerifier(config, new KeySet(config)) };
}

const listed: IssuerOptions[] = [
  { issuer: ACME, jwks: { keys: [acmeKey.jwk as never] } },
  { issuer: GLOBEX, jwks: { keys: [globexKey.jwk as never] }, algorithms: ['ES256'], claims: 'keycloak', subjectNamespace: 'globex' },
];

function token(iss: unknown, key = acmeKey, overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return signJws({ alg: key.alg, kid: key.kid }, { iss, aud: AUDIENCE, sub: 'susan', exp: now + 300, ...overrides }, key.privateKey);
}

describe('TokenVerifier with several issuers', () => {
  describe('when the issuers are listed', () => {
    it("should verify each issuer's token with that issuer's rules and key set", async () => {
      const { verifier } = verifierFor({ issuers: listed });
      expect(verifier.verifyNow(token(ACME))).toMatchObject({ iss: ACME, sub: 'susan' });
      expect(await verifier.verify(token(GLOBEX, globexKey))).toMatchObject({ iss: GLOBEX });
    });

    it("should name the subject in the issuer's namespace and map claims by the issuer's mapping", async () => {
      const { verifier, config } = verifierFor({ issuers: listed });
      const acme = toIdentity(await verifier.verify(token(ACME, acmeKey, { roles: ['admin'] })), config.claims);
      expect(acme).toMatchObject({ subject: `${ACME}#susan`, issuer: ACME, roles: ['admin'] });
      const globex = toIdentity(await verifier.verify(token(GLOBEX, globexKey, { realm_access: { roles: ['editor'] }, roles: ['ignored'] })), config.claims);
      expect(globex).toMatchObject({ subject: 'globex#susan', issuer: GLOBEX, roles: ['editor'] });
      expect(globex.claims.sub).toBe('susan');
      expect(JSON.parse(JSON.stringify(globex.claims))).toEqual({ ...globex.claims });
    });

    it('should keep the bare sub for an issuer with subjectNamespace: false', async () => {
      const { verifier, config } = verifierFor({ issuers: [{ ...listed[0], subjectNamespace: false }] });
      expect(toIdentity(await verifier.verify(token(ACME)), config.claims).subject).toBe('susan');
    });

    it('should refuse an unlisted, missing or malformed iss before looking for a key', async () => {
      const { verifier } = verifierFor({ issuers: listed });
      for (const iss of ['https://evil.example/', `${ACME.slice(0, -1)}`, 42, ['x'], 'x'.repeat(1025), 'a\u0000b', '']) {
        expect(() => verifier.verifyNow(token(iss))).toThrow(InvalidTokenException);
        await expectRefusal(verifier.verify(token(iss)), 'The token issuer is not trusted');
      }
      await expectRefusal(verifier.verify(token(undefined)), 'The token has no issuer (iss)');
    });

    it("should refuse a token naming one issuer but signed with another's key", async () => {
      const { verifier } = verifierFor({ issuers: listed });
      // The acme key set has no key globex-1 (nor an ES256 key), whatever the token's header says.
      await expectRefusal(verifier.verify(token(ACME, globexKey)), 'The token algorithm is not allowed');
      const impostor = makeKey('acme-1');
      await expectRefusal(verifier.verify(token(ACME, impostor)), 'The token signature is invalid');
      await expectRefusal(verifier.verify(token(GLOBEX, { ...acmeKey, alg: 'ES256' } as never)), 'No key of the issuer matches the token kid and alg');
    });

    it("should apply the picked issuer's audience", async () => {
      const { verifier } = verifierFor({ issuers: [{ ...listed[0], audience: 'acme-api' }, listed[1]] });
      await expectRefusal(verifier.verify(token(ACME)), 'The token audience is not this API');
      expect(await verifier.verify(token(ACME, acmeKey, { aud: 'acme-api' }))).toMatchObject({ iss: ACME });
    });
  });

  describe('when a resolver finds the issuers', () => {
    function resolving(answer: (iss: string) => IssuerOptions | undefined | Promise<IssuerOptions | undefined>, bounds: object = {}) {
      const calls: string[] = [];
      const { verifier, config } = verifierFor({ issuers: { resolve: (iss) => (calls.push(iss), answer(iss)), ...bounds } });
      return { verifier, config, calls, registry: verifier.issuers! };
    }
    const tenants: Record<string, IssuerOptions> = { [ACME]: listed[0] };

    it('should ask once, then answer from its cache without waiting', async () => {
      const { verifier, calls } = resolving((iss) => tenants[iss]);
      expect(verifier.verifyNow(token(ACME))).toBeUndefined();
      expect(await verifier.verify(token(ACME))).toMatchObject({ iss: ACME });
      expect(verifier.verifyNow(token(ACME))).toMatchObject({ iss: ACME });
      expect(calls).toEqual([ACME]);
    });

    it('should share one call between concurrent tokens of the same issuer', async () => {
      const { verifier, calls } = resolving(async (iss) => tenants[iss]);
      await Promise.all([verifier.verify(token(ACME)), verifier.verify(token(ACME)), verifier.verify(token(ACME))]);
      expect(calls).toHaveLength(1);
    });

    it('should remember unknown issuers, within bounds, and never ask twice', async () => {
      const { verifier, calls, registry } = resolving(() => undefined, { maxUnknownIssuers: 100 });
      for (let i = 0; i < 300; i++) await expectRefusal(verifier.verify(token(`https://made-up-${i}.example/`)), 'The token issuer is not trusted');
      expect(registry.unknownCount).toBeLessThanOrEqual(100);
      expect(registry.size).toBe(0);
      calls.length = 0;
      expect(() => verifier.verifyNow(token('https://made-up-299.example/'))).toThrow(InvalidTokenException);
      expect(calls).toEqual([]);
    });

    it('should not pass a malformed iss to the resolver', async () => {
      const { verifier, calls } = resolving((iss) => tenants[iss]);
      for (const iss of [42, 'x'.repeat(1025), 'a\nb']) await expectRefusal(verifier.verify(token(iss)), 'The token issuer is not trusted');
      expect(calls).toEqual([]);
    });

    it('should treat an invalid answer, or one for another issuer, as unknown', async () => {
      // For GLOBEX it answers with ACME's options; for ACME with an empty audience.
      const { verifier } = resolving(() => ({ ...listed[0] }));
      const bad = resolving(() => ({ issuer: ACME, audience: [] as string[], jwks: listed[0].jwks }));
      await expectRefusal(bad.verifier.verify(token(ACME)), 'The token issuer is not trusted');
      await expectRefusal(verifier.verify(token(GLOBEX, globexKey)), 'The token issuer is not trusted');
    });

    it('should answer 503 when the resolver fails, and ask again next time', async () => {
      let fail = true;
      const { verifier, calls } = resolving((iss) => {
        if (fail) throw new Error('tenant database down');
        return tenants[iss];
      });
      await expect(verifier.verify(token(ACME))).rejects.toBeInstanceOf(KeySetUnavailableException);
      fail = false;
      expect(await verifier.verify(token(ACME))).toMatchObject({ iss: ACME });
      expect(calls).toHaveLength(2);
    });

    it('should hold at most maxIssuers resolved issuers', async () => {
      const keys = Array.from({ length: 5 }, (_, i) => makeKey(`k${i}`));
      const { verifier, registry } = resolving((iss) => ({ issuer: iss, jwks: { keys: [keys[Number(iss.slice(-1))].jwk as never] } }), { maxIssuers: 2 });
      for (let i = 0; i < 5; i++) await verifier.verify(token(`https://tenant.example/t${i}`, keys[i]));
      expect(registry.size).toBeLessThanOrEqual(2);
    });
  });
});
