import { resolveAuthzConfig } from './authz.config';
import { AuthzConfigurationError } from './authz.exceptions';
import type { AuthzModuleOptions } from './authz.options';

const valid: AuthzModuleOptions = { issuer: 'https://login.example.com/', audience: 'notes-api' };

/** Resolves `options` and returns the configuration error it must raise. */
function configErrorOf(options: unknown): AuthzConfigurationError {
  try {
    resolveAuthzConfig(options as AuthzModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthzConfigurationError);
    return error as AuthzConfigurationError;
  }
  throw new Error(`expected ${JSON.stringify(options)} to be refused`);
}

describe('resolveAuthzConfig', () => {
  describe('when the options are complete', () => {
    it('should fill in the documented defaults', () => {
      const config = resolveAuthzConfig(valid);
      expect(config).toMatchObject({
        issuer: 'https://login.example.com/',
        audiences: ['notes-api'],
        audienceClaim: 'aud',
        algorithms: ['RS256'],
        clockTolerance: 30,
        realm: 'notes-api',
        allowQueryToken: false,
        requireAccessTokenType: false,
        requiredClaims: [],
        policies: {},
        decisionCache: { maxEntries: 10_000, ttlMs: 5_000 },
        verifiedTokenCache: { maxEntries: 10_000, maxAgeMs: 300_000 },
      });
      expect(config.claims.roles).toEqual([['roles']]);
    });

    it('should freeze the whole configuration', () => {
      const config = resolveAuthzConfig({ ...valid, audience: ['a', 'b'], policies: { note: { roles: { reader: ['CanRead'] } } } });
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.audiences)).toBe(true);
      expect(Object.isFrozen(config.policies.note.roles!.reader)).toBe(true);
      expect(() => (config.audiences as string[]).push('evil')).toThrow(TypeError);
    });

    it('should not be changed by later edits of the options object', () => {
      const options = { ...valid, audience: ['notes-api'], policies: { note: { roles: { reader: ['CanRead'] } } } };
      const config = resolveAuthzConfig(options);
      options.audience.push('other-api');
      options.policies.note.roles.reader.push('CanDelete');
      expect(config.audiences).toEqual(['notes-api']);
      expect(config.policies.note.roles!.reader).toEqual(['CanRead']);
    });

    it("should not freeze the caller's key set", () => {
      const jwks = { keys: [{ kty: 'RSA', n: 'abc', e: 'AQAB' }] };
      const config = resolveAuthzConfig({ ...valid, jwks });
      expect(Object.isFrozen(jwks)).toBe(false);
      expect(Object.isFrozen(jwks.keys[0])).toBe(false);
      expect(Object.isFrozen(config.keySource.jwks!.keys[0])).toBe(true);
    });

    it('should accept a non-URL issuer when the keys come from jwksUri or jwks', () => {
      expect(resolveAuthzConfig({ ...valid, issuer: 'notes-idp', jwksUri: 'https://login.example.com/jwks' }).issuer).toBe('notes-idp');
      expect(resolveAuthzConfig({ ...valid, issuer: 'notes-idp', jwks: { keys: [] } }).issuer).toBe('notes-idp');
    });

    it('should accept clockTolerance at both ends of its range', () => {
      expect(resolveAuthzConfig({ ...valid, clockTolerance: 0 }).clockTolerance).toBe(0);
      expect(resolveAuthzConfig({ ...valid, clockTolerance: 300 }).clockTolerance).toBe(300);
    });

    it.each([
      ['a Cognito app client id', '1h57kf5cpq17m0eml12EXAMPLE'],
      ['an Okta client id', '0oa1a2b3c4d5e6f7g8h9'],
      ['an Entra application id', '6731de76-14a6-49ae-97bc-6eba6914391e'],
      ['a readable client name', 'notes-cli'],
    ])("should accept audienceClaim 'client_id' with %s as audience", (_case, audience) => {
      expect(resolveAuthzConfig({ ...valid, audience, audienceClaim: 'client_id' }).audiences).toEqual([audience]);
    });

    it("should still accept URL audiences with audienceClaim 'aud'", () => {
      expect(resolveAuthzConfig({ ...valid, audience: 'https://api.example.com', audienceClaim: 'aud' }).audiences).toEqual(['https://api.example.com']);
    });

    it("should tell how to fix a URL audience with audienceClaim 'client_id'", () => {
      const error = configErrorOf({ ...valid, audience: 'https://api.example.com', audienceClaim: 'client_id' });
      expect(error.message).toContain('list your app client ids');
      expect(error.message).toContain('drop `audienceClaim`');
    });

    it('should turn the caches off with false', () => {
      const config = resolveAuthzConfig({ ...valid, decisionCache: false, verifiedTokenCache: false });
      expect(config.decisionCache).toBe(false);
      expect(config.verifiedTokenCache).toBe(false);
    });
  });

  describe.each<[string, unknown, RegExp]>([
    ['no options at all', undefined, /no options/],
    ['a missing issuer', { audience: 'notes-api' }, /`issuer` is missing/],
    ['an empty issuer', { ...valid, issuer: '  ' }, /`issuer` is empty/],
    ['a missing audience', { issuer: valid.issuer }, /`audience` is missing/],
    ["an empty audience string ''", { ...valid, audience: '' }, /`audience`/],
    ['an empty audience list []', { ...valid, audience: [] }, /`audience` is empty/],
    ["an audience list with an empty entry ['']", { ...valid, audience: [''] }, /`audience` contains an empty/],
    ['a non-string audience entry', { ...valid, audience: ['notes-api', 42] }, /`audience`/],
    ['both jwks and jwksUri', { ...valid, jwks: { keys: [] }, jwksUri: 'https://login.example.com/jwks' }, /`jwks` and `jwksUri` are both set/],
    ['a jwks that is not a key set', { ...valid, jwks: {} }, /`jwks` is not a key set/],
    ['a non-URL issuer without jwks or jwksUri', { ...valid, issuer: 'notes-idp' }, /`issuer` .*is not a URL.*set `jwksUri` or `jwks`/],
    ['an issuer URL that is not http(s)', { ...valid, issuer: 'ftp://login.example.com/' }, /`issuer` must be an http\(s\) URL/],
    ['a jwksUri that is not a URL', { ...valid, jwksUri: 'keys.json' }, /`jwksUri`/],
    ["the lowercase algorithm 'rs256'", { ...valid, algorithms: ['rs256'] }, /`algorithms` contains unsupported algorithm "rs256"/],
    ["the algorithm 'none'", { ...valid, algorithms: ['RS256', 'none'] }, /`algorithms` contains unsupported algorithm "none"/],
    ["the HMAC algorithm 'HS256'", { ...valid, algorithms: ['HS256'] }, /`algorithms` contains unsupported algorithm "HS256"/],
    ['an empty algorithm list', { ...valid, algorithms: [] }, /`algorithms` is empty/],
    ['a negative clockTolerance', { ...valid, clockTolerance: -1 }, /`clockTolerance` is -1/],
    ['a clockTolerance above 300 s', { ...valid, clockTolerance: 301 }, /`clockTolerance` is 301/],
    ['a clockTolerance that is not a number', { ...valid, clockTolerance: '30' }, /`clockTolerance`/],
    ['a clockTolerance of NaN', { ...valid, clockTolerance: Number.NaN }, /`clockTolerance`/],
    ['an unknown audienceClaim', { ...valid, audienceClaim: 'azp' }, /`audienceClaim` is "azp"/],
    ["audienceClaim 'client_id' with a URL audience", { ...valid, audience: 'https://api.example.com', audienceClaim: 'client_id' }, /`audience` contains "https:\/\/api.example.com", which is not a client id, while `audienceClaim` is 'client_id'/],
    ["audienceClaim 'client_id' with a URN audience", { ...valid, audience: ['app-client', 'urn:example:notes'], audienceClaim: 'client_id' }, /contains "urn:example:notes", which is not a client id/],
    ["audienceClaim 'client_id' with a path-like audience", { ...valid, audience: 'api.example.com/notes', audienceClaim: 'client_id' }, /which is not a client id/],
    ["audienceClaim 'client_id' with whitespace in an audience", { ...valid, audience: 'notes api', audienceClaim: 'client_id' }, /which is not a client id/],
    ['an unknown claim preset', { ...valid, claims: 'keycloack' }, /`claims` names unknown preset "keycloack"/],
    ['a claim mapping with an empty path', { ...valid, claims: { roles: [[]] } }, /`claims.roles` has an empty claim path/],
    ['a claim mapping that is not a list', { ...valid, claims: { scopes: 'scope' } }, /`claims.scopes` must be a list/],
    ['an empty defaultPolicy', { ...valid, defaultPolicy: '' }, /`defaultPolicy` is empty/],
    ['an empty required claim name', { ...valid, requiredClaims: [''] }, /`requiredClaims`/],
    ['a realm with a quote', { ...valid, realm: 'notes"api' }, /`realm`/],
    ['a decision cache TTL of 0', { ...valid, decisionCache: { ttlMs: 0 } }, /`decisionCache.ttlMs` is 0/],
    ['a policy that is not an object', { ...valid, policies: { note: ['CanRead'] } }, /`policies.note` must be an object/],
    [
      'a subject holding a role the policy does not define',
      { ...valid, policies: { note: { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['writer'] } } } } },
      /`policies.note.subjects.susan.roles\[0\]` refers to role 'writer', which `policies.note.roles` does not define/,
    ],
    [
      'an identity role mapped to an undefined role',
      { ...valid, policies: { note: { roles: {}, identityRoles: { 'notes-admin': ['moderator'] } } } },
      /`policies.note.identityRoles.notes-admin\[0\]` refers to role 'moderator'/,
    ],
    ['non-string permissions of a role', { ...valid, policies: { note: { roles: { reader: ['CanRead', 7] } } } }, /`policies.note.roles.reader\[1\]` must be a string/],
    ['a permission list that is one string', { ...valid, policies: { note: { roles: { reader: 'CanRead' } } } }, /`policies.note.roles.reader` must be a list/],
    [
      'an empty direct permission of a subject',
      { ...valid, policies: { note: { subjects: { susan: { permissions: [' '] } } } } },
      /`policies.note.subjects.susan.permissions\[0\]` must not be empty/,
    ],
  ])('when the options have %s', (_case, options, problem) => {
    it('should throw an AuthzConfigurationError that names the option and says how to fix it', () => {
      const error = configErrorOf(options);
      expect(error.message).toMatch(problem);
      expect(error.message).toMatch(/^nestjs-authz: /);
      expect(error.message).toContain('How to fix');
    });
  });

  describe('when several issuers are given', () => {
    const acme = { issuer: 'https://login.acme.example/', audience: 'notes-api' };
    const globex = { issuer: 'https://idp.globex.example/realms/notes', jwksUri: 'https://idp.globex.example/certs', claims: 'keycloak' as const };

    it("should validate each entry, filling in what it leaves out from the module's options", () => {
      const config = resolveAuthzConfig({ issuers: [acme, globex], audience: 'default-api', algorithms: ['ES256'] });
      expect(config.issuer).toBe('');
      expect(config.realm).toBe('default-api');
      expect(config.issuers!.list).toMatchObject([
        { issuer: acme.issuer, audiences: ['notes-api'], algorithms: ['ES256'], subjectNamespace: acme.issuer, keySource: {} },
        { issuer: globex.issuer, audiences: ['default-api'], keySource: { jwksUri: globex.jwksUri }, subjectNamespace: globex.issuer },
      ]);
      expect(config.issuers!.list[1].claims.roles).toEqual([['realm_access', 'roles']]);
      expect(Object.isFrozen(config.issuers!.list[0])).toBe(true);
    });

    it("should take the realm from the first issuer's audience when the module has none", () => {
      expect(resolveAuthzConfig({ issuers: [acme] }).realm).toBe('notes-api');
    });

    it('should keep a custom subject namespace, and none for subjectNamespace: false', () => {
      const list = resolveAuthzConfig({ issuers: [{ ...acme, subjectNamespace: 'acme' }, { ...globex, audience: 'x', subjectNamespace: false }] }).issuers!.list;
      expect(list.map((entry) => entry.subjectNamespace)).toEqual(['acme', undefined]);
    });

    it('should accept a resolver, as a function or with bounds', () => {
      const resolve = () => undefined;
      expect(resolveAuthzConfig({ issuers: resolve, audience: 'notes-api' }).issuers).toMatchObject({ list: [], maxIssuers: 1000, maxUnknownIssuers: 10_000, cacheMs: 600_000, unknownCacheMs: 60_000 });
      expect(resolveAuthzConfig({ issuers: { resolve, maxIssuers: 5, maxUnknownIssuers: 50 }, realm: 'notes' }).issuers).toMatchObject({ maxIssuers: 5, maxUnknownIssuers: 50 });
    });

    it.each([
      ['issuer and issuers', { issuer: acme.issuer, audience: 'notes-api', issuers: [acme] }, /`issuers` and `issuer` are both set/],
      ['a module-level jwksUri', { issuers: [acme], jwksUri: 'https://x.example/jwks' }, /`issuers` and `jwksUri` are both set/],
      ['a module-level jwks', { issuers: [acme], jwks: { keys: [] } }, /`issuers` and `jwks` are both set/],
      ['an empty list', { issuers: [] }, /`issuers` is an empty list/],
      ['neither a list nor a resolver', { issuers: 'https://login.acme.example/' }, /neither a list nor a resolver/],
      ['an object without resolve', { issuers: { maxIssuers: 3 } }, /without a `resolve` function/],
      ['a duplicate issuer', { issuers: [acme, { ...acme }] }, /`issuers\[1\].issuer` .* is listed twice/],
      ['an entry that is not an object', { issuers: [acme, 'x'] }, /`issuers\[1\]` is not an object/],
      ['an entry without issuer', { issuers: [{ audience: 'notes-api' }] }, /`issuers\[0\].issuer` is missing/],
      ['an entry without audience, nor one at the module', { issuers: [{ issuer: acme.issuer }] }, /`issuers\[0\].audience` is missing/],
      ['an entry with an empty audience', { issuers: [{ ...acme, audience: [] }] }, /`issuers\[0\].audience` is empty/],
      ['an entry whose issuer is not a URL and has no keys', { issuers: [{ ...acme, issuer: 'acme' }] }, /`issuers\[0\].issuer` \("acme"\) is not a URL/],
      ['an entry with both jwks and jwksUri', { issuers: [{ ...acme, jwks: { keys: [] }, jwksUri: 'https://x.example/jwks' }] }, /`issuers\[0\].jwks` and `issuers\[0\].jwksUri` are both set/],
      ['an entry with an unsupported algorithm', { issuers: [{ ...acme, algorithms: ['HS256'] }] }, /`issuers\[0\].algorithms` contains unsupported/],
      ['an entry with an unknown claims preset', { issuers: [{ ...acme, claims: 'azure' }] }, /`issuers\[0\].claims` names unknown preset/],
      ['an issuer with a fragment', { issuers: [{ ...acme, issuer: 'https://login.acme.example/#x' }] }, /contains '#'/],
      ['an API identifier as client id', { issuers: [{ ...acme, audience: 'https://api.example', audienceClaim: 'client_id' }] }, /`issuers\[0\].audience` contains "https:\/\/api.example", which is not a client id/],
      ['a subject namespace with #', { issuers: [{ ...acme, subjectNamespace: 'a#b' }] }, /`issuers\[0\].subjectNamespace` is "a#b"/],
      ['two issuers sharing a subject namespace', { issuers: [{ ...acme, subjectNamespace: 'acme' }, { ...globex, audience: 'x', subjectNamespace: 'acme' }] }, /`issuers\[1\].subjectNamespace` \("acme"\) is another issuer's namespace too/],
      ["a namespace equal to another issuer's default one", { issuers: [acme, { ...globex, audience: 'x', subjectNamespace: acme.issuer }] }, /another issuer's namespace too/],
      ['a resolver without realm nor audience', { issuers: () => undefined }, /`realm` is missing/],
      ['a resolver with a bad bound', { issuers: { resolve: () => undefined, maxIssuers: 0 }, realm: 'r' }, /`issuers.maxIssuers` is 0/],
    ])('should refuse %s, saying how to fix it', (_case, options, message) => {
      const error = configErrorOf(options);
      expect(error.message).toMatch(message);
      expect(error.message).toContain('How to fix');
    });
  });
});
