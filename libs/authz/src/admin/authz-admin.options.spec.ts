import { AuthzConfigurationError } from '../authz.exceptions';
import { AuthzAdminModule } from './authz-admin.module';
import { resolveAdminConfig, type AuthzAdminOptions } from './authz-admin.options';

describe('resolveAdminConfig', () => {
  describe('when given no options', () => {
    it('should mount under authz with no administrators', () => {
      expect(resolveAdminConfig(undefined)).toEqual({ path: 'authz', administrators: [] });
    });
  });

  describe('when given valid options', () => {
    it('should trim slashes from the path and drop duplicate administrators', () => {
      expect(resolveAdminConfig({ path: '/admin/authz/', administrators: ['carol', 'erin', 'carol'] })).toEqual({ path: 'admin/authz', administrators: ['carol', 'erin'] });
    });

    it('should freeze the result', () => {
      const config = resolveAdminConfig({ administrators: ['carol'] });
      expect(Object.isFrozen(config)).toBe(true);
      expect(Object.isFrozen(config.administrators)).toBe(true);
    });
  });

  describe('when given options that cannot work', () => {
    it.each([
      ['an empty path', { path: '/' }, '`path` is empty'],
      ['a route parameter in the path', { path: 'admin/:tenant' }, '"admin/:tenant" has the segment ":tenant"'],
      ['a wildcard in the path', { path: 'authz/*' }, 'has the segment "*"'],
      ['a dot segment in the path', { path: 'a/../b' }, 'has the segment ".."'],
      ['a path that is no string', { path: 42 }, '`path` must be a string'],
      ['administrators that are no list', { administrators: 'carol' }, '`administrators` must be a list of subjects'],
      ['a * administrator', { administrators: ['carol', '*'] }, "`administrators[1]` must not contain '*'"],
      ['an empty administrator', { administrators: [''] }, '`administrators[0]` must not be empty'],
      ['a NUL in an administrator', { administrators: ['car\u0000ol'] }, '`administrators[0]` must not contain control characters'],
      ['a misspelt option', { admins: ['carol'] }, 'does not know the option(s) `admins`'],
      ['options that are no object', 'authz', 'options that are not an object'],
      ['a console that is no object', { console: 'on' }, '`console` must be an object'],
      ['a console without a client', { console: {} }, '`console.clientId` must be 1 to 255 printable ASCII characters'],
      ['a console client with a space', { console: { clientId: 'my console' } }, '`console.clientId` must be'],
      ['a console issuer that is no URL', { console: { clientId: 'c', issuer: 'login.example.com' } }, '`console.issuer` must be an http(s) URL'],
      ['console scopes with a double space', { console: { clientId: 'c', scopes: 'openid  authz:admin' } }, '`console.scopes` must be scope names separated by single spaces'],
      ['a misspelt console option', { console: { clientID: 'c' } }, '`console` does not know `clientID`'],
    ])('should refuse %s with a message that says how to fix it', (_case, options, problem) => {
      expect(() => resolveAdminConfig(options as AuthzAdminOptions)).toThrow(AuthzConfigurationError);
      expect(() => resolveAdminConfig(options as AuthzAdminOptions)).toThrow(problem);
      expect(() => resolveAdminConfig(options as AuthzAdminOptions)).toThrow('How to fix:');
    });
  });
});

describe('resolveAdminConfig console', () => {
  it('should default the scopes and leave the issuer to AuthzModule', () => {
    expect(resolveAdminConfig({ console: { clientId: 'policy-console' } }).console).toEqual({ clientId: 'policy-console', scopes: 'openid authz:admin' });
  });

  it('should be off unless given', () => {
    expect(resolveAdminConfig({}).console).toBeUndefined();
  });
});

describe('AuthzAdminModule.register', () => {
  describe('when given bad options', () => {
    it('should throw at once, when the app module is defined', () => {
      expect(() => AuthzAdminModule.register({ administrators: ['*'] })).toThrow(AuthzConfigurationError);
    });
  });

  describe('when given good options', () => {
    it('should mount its own module under the path with RouterModule', () => {
      const definition = AuthzAdminModule.register({ path: 'admin/authz' });
      expect(definition.module).toBe(AuthzAdminModule);
      const router = definition.imports?.[0] as { providers: { useValue: unknown }[] };
      expect(router.providers[0].useValue).toEqual([{ path: 'admin/authz', module: AuthzAdminModule }]);
    });
  });
});
