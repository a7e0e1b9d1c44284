import { AuthzConfigurationError } from '../authz.exceptions';
import { ClaimPresets, resolveClaimMapping } from './claim-mapping';

describe('resolveClaimMapping', () => {
  describe('when no mapping is given', () => {
    it('should read scopes from scope/scp, roles from roles and the client from client_id, azp, cid, appid', () => {
      expect(resolveClaimMapping(undefined)).toEqual({
        scopes: [['scope'], ['scp']],
        roles: [['roles']],
        clientId: [['client_id'], ['azp'], ['cid'], ['appid']],
      });
    });
  });

  describe('when a preset is named', () => {
    it.each([
      ['default', [['roles']]],
      ['keycloak', [['realm_access', 'roles']]],
      ['auth0', [['permissions']]],
      ['okta', [['groups']]],
      ['entra-id', [['roles']]],
      ['cognito', [['cognito:groups']]],
    ] as const)("should resolve '%s' to its role paths", (preset, roles) => {
      expect(resolveClaimMapping(preset).roles).toEqual(roles);
    });

    it('should refuse an unknown preset, listing the known ones', () => {
      expect(() => resolveClaimMapping('azure' as never)).toThrow(AuthzConfigurationError);
      expect(() => resolveClaimMapping('azure' as never)).toThrow(/'keycloak', 'auth0', 'okta', 'entra-id', 'cognito'/);
    });

    it('should refuse a preset name in the wrong case', () => {
      expect(() => resolveClaimMapping('Keycloak' as never)).toThrow(/unknown preset "Keycloak"/);
    });

    it('should not take inherited object keys for presets', () => {
      expect(() => resolveClaimMapping('toString' as never)).toThrow(AuthzConfigurationError);
    });
  });

  describe('when a preset factory takes options', () => {
    it('should add the Keycloak client roles path for a clientId', () => {
      expect(resolveClaimMapping(ClaimPresets.keycloak({ clientId: 'notes-api' })).roles).toEqual([
        ['realm_access', 'roles'],
        ['resource_access', 'notes-api', 'roles'],
      ]);
    });

    it('should add the Auth0 namespaced roles claim, with or without a trailing slash', () => {
      const expected = [['permissions'], ['https://notes.example.com/roles']];
      expect(resolveClaimMapping(ClaimPresets.auth0({ namespace: 'https://notes.example.com' })).roles).toEqual(expected);
      expect(resolveClaimMapping(ClaimPresets.auth0({ namespace: 'https://notes.example.com/' })).roles).toEqual(expected);
    });
  });

  describe('when a custom mapping is given', () => {
    it('should keep the defaults for the parts it leaves out', () => {
      const resolved = resolveClaimMapping({ roles: [['app', 'authz', 'roles'], 'groups'] });
      expect(resolved.roles).toEqual([['app', 'authz', 'roles'], ['groups']]);
      expect(resolved.scopes).toEqual([['scope'], ['scp']]);
    });

    it('should never split a claim name on dots', () => {
      expect(resolveClaimMapping({ roles: ['https://example.com/roles.v2'] }).roles).toEqual([['https://example.com/roles.v2']]);
    });

    it.each([
      ['an empty path list entry', { roles: [[]] }],
      ['an empty claim name', { scopes: [''] }],
      ['a non-list', { clientId: 'azp' }],
    ])('should refuse %s', (_case, mapping) => {
      expect(() => resolveClaimMapping(mapping as never)).toThrow(AuthzConfigurationError);
    });

    it('should refuse a mapping that is neither a preset name nor an object', () => {
      expect(() => resolveClaimMapping(42 as never)).toThrow(/neither a preset name nor a mapping/);
    });
  });
});
