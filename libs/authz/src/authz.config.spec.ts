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
});
