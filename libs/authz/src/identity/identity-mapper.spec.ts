import { resolveAuthzConfig } from '../authz.config';
import type { AuthzModuleOptions } from '../authz.options';
import { KeySet } from '../jwt/key-set';
import { TokenVerifier } from '../jwt/token-verifier';
import type { VerifiedClaims } from '../jwt/verified-claims';
import { TestTokenIssuer } from '../testing';
import { ClaimPresets, resolveClaimMapping, type ClaimMapping, type ClaimPresetName } from './claim-mapping';
import { toIdentity } from './identity-mapper';

const now = Math.floor(Date.now() / 1000);
const base = { iss: 'https://idp.example.com/', sub: 'susan', aud: 'notes-api', exp: now + 300 };

function identityOf(claims: Record<string, unknown>, mapping?: ClaimPresetName | ClaimMapping) {
  return toIdentity({ ...base, ...claims } as VerifiedClaims, resolveClaimMapping(mapping));
}

describe('toIdentity', () => {
  describe('when the token uses the default layout', () => {
    it('should map subject, issuer, audience list, client id, scopes and roles', () => {
      const identity = identityOf({ aud: ['notes-api', 'other'], client_id: 'notes-cli', scope: 'notes:read notes:write', roles: ['notes-admin'] });
      expect(identity).toMatchObject({
        subject: 'susan',
        issuer: 'https://idp.example.com/',
        audience: ['notes-api', 'other'],
        clientId: 'notes-cli',
        scopes: ['notes:read', 'notes:write'],
        roles: ['notes-admin'],
      });
    });

    it('should make a single audience string a list', () => {
      expect(identityOf({}).audience).toEqual(['notes-api']);
    });

    it('should have no scopes, roles or client when the token carries none', () => {
      const identity = identityOf({});
      expect(identity.scopes).toEqual([]);
      expect(identity.roles).toEqual([]);
      expect(identity.clientId).toBeUndefined();
    });
  });

  describe('when scopes arrive in different shapes', () => {
    it('should split a space-delimited scope string and drop empty parts', () => {
      expect(identityOf({ scope: ' notes:read  notes:write ' }).scopes).toEqual(['notes:read', 'notes:write']);
    });

    it('should read an scp array', () => {
      expect(identityOf({ scp: ['notes:read', 'notes:write'] }).scopes).toEqual(['notes:read', 'notes:write']);
    });

    it('should split an scp string (Entra ID)', () => {
      expect(identityOf({ scp: 'notes:read notes:write' }).scopes).toEqual(['notes:read', 'notes:write']);
    });

    it('should merge scope and scp without duplicates', () => {
      expect(identityOf({ scope: 'a b', scp: ['b', 'c'] }).scopes).toEqual(['a', 'b', 'c']);
    });

    it('should ignore non-string entries and non-list values', () => {
      expect(identityOf({ scp: ['a', 7, null, { b: 1 }] }).scopes).toEqual(['a']);
      expect(identityOf({ scope: 42 }).scopes).toEqual([]);
    });
  });

  describe('when roles arrive in different shapes', () => {
    it('should take a single role string as one role, without splitting it', () => {
      expect(identityOf({ roles: 'notes admin' }).roles).toEqual(['notes admin']);
    });

    it('should ignore a roles object', () => {
      expect(identityOf({ roles: { admin: true } }).roles).toEqual([]);
    });
  });

  describe('when a claim preset is used', () => {
    it('should read Keycloak realm roles and the named client roles', () => {
      const identity = identityOf(
        {
          azp: 'notes-web',
          realm_access: { roles: ['offline_access', 'notes-admin'] },
          resource_access: { 'notes-api': { roles: ['editor'] }, account: { roles: ['manage-account'] } },
        },
        ClaimPresets.keycloak({ clientId: 'notes-api' }),
      );
      expect(identity.roles).toEqual(['offline_access', 'notes-admin', 'editor']);
      expect(identity.clientId).toBe('notes-web');
    });

    it("should read only realm roles with the 'keycloak' preset name", () => {
      const identity = identityOf({ realm_access: { roles: ['notes-admin'] }, resource_access: { 'notes-api': { roles: ['editor'] } } }, 'keycloak');
      expect(identity.roles).toEqual(['notes-admin']);
    });

    it('should read Auth0 permissions and namespaced roles', () => {
      const identity = identityOf(
        { permissions: ['read:notes'], 'https://notes.example.com/roles': ['notes-admin'], roles: ['ignored'] },
        ClaimPresets.auth0({ namespace: 'https://notes.example.com' }),
      );
      expect(identity.roles).toEqual(['read:notes', 'notes-admin']);
    });

    it('should read Okta groups, the scp list and the cid client', () => {
      const identity = identityOf({ groups: ['Everyone', 'notes-admin'], scp: ['notes:read'], cid: '0oa1okta' }, 'okta');
      expect(identity).toMatchObject({ roles: ['Everyone', 'notes-admin'], scopes: ['notes:read'], clientId: '0oa1okta' });
    });

    it('should read Entra ID roles, the scp string and azp', () => {
      const identity = identityOf({ roles: ['Notes.Admin'], scp: 'Notes.Read Notes.Write', azp: 'entra-client' }, 'entra-id');
      expect(identity).toMatchObject({ roles: ['Notes.Admin'], scopes: ['Notes.Read', 'Notes.Write'], clientId: 'entra-client' });
    });

    it('should read the Entra ID v1 appid when there is no azp', () => {
      expect(identityOf({ appid: 'entra-v1-client' }, 'entra-id').clientId).toBe('entra-v1-client');
    });

    it('should read Cognito groups', () => {
      const identity = identityOf({ 'cognito:groups': ['notes-admin'], roles: ['ignored'], client_id: 'cognito-client' }, 'cognito');
      expect(identity).toMatchObject({ roles: ['notes-admin'], clientId: 'cognito-client' });
    });
  });

  describe('when a custom mapping with nested paths is used', () => {
    const mapping: ClaimMapping = {
      scopes: [['authz', 'scopes']],
      roles: [['app', 'authz', 'roles'], 'https://example.com/roles'],
      clientId: [['client', 'id']],
    };

    it('should follow every path and merge what it finds', () => {
      const identity = identityOf(
        { authz: { scopes: 'notes:read' }, app: { authz: { roles: ['a'] } }, 'https://example.com/roles': 'b', client: { id: 'c1' }, scope: 'ignored' },
        mapping,
      );
      expect(identity).toMatchObject({ scopes: ['notes:read'], roles: ['a', 'b'], clientId: 'c1' });
    });

    it('should find nothing where a path runs through a non-object or a list', () => {
      expect(identityOf({ app: 'x' }, mapping).roles).toEqual([]);
      expect(identityOf({ app: [{ authz: { roles: ['a'] } }] }, mapping).roles).toEqual([]);
    });

    it('should not read inherited properties along a path', () => {
      expect(identityOf({ app: {} }, { roles: [['app', 'constructor']] }).roles).toEqual([]);
    });
  });

  describe('when the identity is made', () => {
    it('should be frozen, with frozen lists', () => {
      const identity = identityOf({ scope: 'a', roles: ['r'] });
      expect(Object.isFrozen(identity)).toBe(true);
      expect(Object.isFrozen(identity.scopes)).toBe(true);
      expect(Object.isFrozen(identity.roles)).toBe(true);
      expect(Object.isFrozen(identity.audience)).toBe(true);
      expect(() => ((identity as { subject: string }).subject = 'mallory')).toThrow(TypeError);
      expect(() => (identity.roles as string[]).push('admin')).toThrow(TypeError);
    });
  });
});

describe('identity from a verified token', () => {
  const issuer = TestTokenIssuer.create();

  async function verifiedIdentity(claims: Record<string, unknown>, options: Partial<AuthzModuleOptions> = {}) {
    const config = resolveAuthzConfig(issuer.moduleOptions(options));
    const verifier = new TokenVerifier(config, new KeySet(config));
    return toIdentity(await verifier.verify(issuer.sign(claims)), config.claims);
  }

  describe('when the token verifies', () => {
    it('should hand out claims that are deeply read-only', async () => {
      const identity = await verifiedIdentity({ sub: 'susan', realm_access: { roles: ['notes-admin'] } }, { claims: 'keycloak' });
      expect(identity.roles).toEqual(['notes-admin']);
      expect(Object.isFrozen(identity.claims)).toBe(true);
      expect(() => ((identity.claims as Record<string, unknown>).sub = 'mallory')).toThrow(TypeError);
      const realmAccess = identity.claims.realm_access as { roles: string[] };
      expect(() => realmAccess.roles.push('superuser')).toThrow(TypeError);
      expect(identity.claims.sub).toBe('susan');
    });
  });
});
