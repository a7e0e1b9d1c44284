import { ClaimPresets } from 'nestjs-authz';
import { NotesConfigurationError, settingsFromEnv } from './notes-settings';

describe('settingsFromEnv', () => {
  describe('when nothing is set', () => {
    it('should use the local provider, port 3000, audience notes-api, .data under the working directory and demo notes', () => {
      expect(settingsFromEnv({}, '/repo')).toEqual({
        host: '127.0.0.1',
        port: 3000,
        oidc: { issuer: undefined, jwksUri: undefined, audience: 'notes-api', audienceClaim: 'aud', claims: 'default' },
        localOidcPort: 3001,
        dataDir: '/repo/.data',
        databaseUrl: undefined,
        seedDemoNotes: true,
        adminSubjects: ['carol'],
        consoleClientId: 'notes-console',
      });
    });
  });

  describe('when the policy console is configured', () => {
    it('should have no console with an external provider unless AUTHZ_CONSOLE_CLIENT_ID names its client', () => {
      expect(settingsFromEnv({ OIDC_ISSUER: 'https://login.example.com/' }, '/repo').consoleClientId).toBeUndefined();
      expect(settingsFromEnv({ OIDC_ISSUER: 'https://login.example.com/', AUTHZ_CONSOLE_CLIENT_ID: 'policy-console' }, '/repo').consoleClientId).toBe('policy-console');
    });

    it('should refuse a client id with spaces, saying how to fix it', () => {
      expect(() => settingsFromEnv({ AUTHZ_CONSOLE_CLIENT_ID: 'my console' }, '/repo')).toThrow(/AUTHZ_CONSOLE_CLIENT_ID is "my console"[\s\S]*How to fix/);
    });
  });

  describe('when an external provider is configured', () => {
    it('should read issuer, JWKS URI, audience and claim preset, and seed no demo notes', () => {
      const settings = settingsFromEnv({
        OIDC_ISSUER: 'https://login.example.com/realms/notes',
        OIDC_JWKS_URI: 'https://login.example.com/realms/notes/protocol/openid-connect/certs',
        OIDC_AUDIENCE: 'notes',
        OIDC_CLAIMS: 'okta',
      });
      expect(settings.oidc).toEqual({
        issuer: 'https://login.example.com/realms/notes',
        jwksUri: 'https://login.example.com/realms/notes/protocol/openid-connect/certs',
        audience: 'notes',
        audienceClaim: 'aud',
        claims: 'okta',
      });
      expect(settings.seedDemoNotes).toBe(false);
      expect(settings.adminSubjects).toEqual([]);
    });

    it('should bind Cognito access tokens by client_id when OIDC_AUDIENCE_CLAIM says so', () => {
      expect(settingsFromEnv({ OIDC_ISSUER: 'https://cognito-idp.eu-west-1.amazonaws.com/pool', OIDC_CLAIMS: 'cognito', OIDC_AUDIENCE: 'app-client', OIDC_AUDIENCE_CLAIM: 'client_id' }).oidc).toMatchObject({
        audience: 'app-client',
        audienceClaim: 'client_id',
        claims: 'cognito',
      });
    });

    it('should give the Keycloak preset its client and the Auth0 preset its namespace', () => {
      expect(settingsFromEnv({ OIDC_CLAIMS: 'keycloak', OIDC_KEYCLOAK_CLIENT_ID: 'notes-api' }).oidc.claims).toEqual(ClaimPresets.keycloak({ clientId: 'notes-api' }));
      expect(settingsFromEnv({ OIDC_CLAIMS: 'auth0', OIDC_AUTH0_NAMESPACE: 'https://notes.example.com' }).oidc.claims).toEqual(
        ClaimPresets.auth0({ namespace: 'https://notes.example.com' }),
      );
    });
  });

  it('should read DATA_DIR relative to the working directory, DATABASE_URL, HOST and SEED_DEMO_NOTES', () => {
    const settings = settingsFromEnv({ DATA_DIR: 'tmp/notes', DATABASE_URL: 'postgres://u:p@db:5432/notes', HOST: '0.0.0.0', SEED_DEMO_NOTES: 'false' }, '/srv');
    expect(settings).toMatchObject({ dataDir: '/srv/tmp/notes', databaseUrl: 'postgres://u:p@db:5432/notes', host: '0.0.0.0', seedDemoNotes: false });
  });

  describe('AUTHZ_ADMIN_SUBJECTS', () => {
    it('should read subjects separated by commas, trimmed and without repeats, with or without the local provider', () => {
      expect(settingsFromEnv({ AUTHZ_ADMIN_SUBJECTS: ' dave, erin ,dave' }).adminSubjects).toEqual(['dave', 'erin']);
      expect(settingsFromEnv({ OIDC_ISSUER: 'https://login.example.com/', AUTHZ_ADMIN_SUBJECTS: 'auth0|5f7c8ec7c33c6c004bbafe82' }).adminSubjects).toEqual(['auth0|5f7c8ec7c33c6c004bbafe82']);
    });

    it('should default to carol with the local provider and to nobody with an external one, also when blank', () => {
      expect(settingsFromEnv({ AUTHZ_ADMIN_SUBJECTS: ' ' }).adminSubjects).toEqual(['carol']);
      expect(settingsFromEnv({ OIDC_ISSUER: 'https://login.example.com/', AUTHZ_ADMIN_SUBJECTS: '' }).adminSubjects).toEqual([]);
    });

    it.each([
      ['carol,,dave', 'subject 2 ("") must not be empty'],
      ['carol,', 'subject 2 ("") must not be empty'],
      ['car*l', 'subject 1 ("car*l") must not contain \'*\''],
      ['carol,\u0007bell', 'subject 2 ("\\u0007bell") must not contain control characters'],
    ])('should refuse %j naming the subject and the rule', (value, problem) => {
      expect(() => settingsFromEnv({ AUTHZ_ADMIN_SUBJECTS: value })).toThrow(NotesConfigurationError);
      expect(() => settingsFromEnv({ AUTHZ_ADMIN_SUBJECTS: value })).toThrow(`AUTHZ_ADMIN_SUBJECTS is ${JSON.stringify(value)}: ${problem}`);
    });
  });

  it('should treat blank variables as unset', () => {
    expect(settingsFromEnv({ OIDC_ISSUER: '  ', PORT: '' }, '/repo')).toMatchObject({ port: 3000, oidc: { issuer: undefined } });
  });

  describe('when a setting cannot work', () => {
    it.each([
      [{ PORT: 'eighty' }, 'PORT is "eighty"'],
      [{ OIDC_AUDIENCE_CLAIM: 'azp' }, 'OIDC_AUDIENCE_CLAIM is "azp"'],
      [{ PORT: '70000' }, 'PORT is "70000"'],
      [{ LOCAL_OIDC_PORT: '-1' }, 'LOCAL_OIDC_PORT is "-1"'],
      [{ PORT: '4000', LOCAL_OIDC_PORT: '4000' }, 'PORT and LOCAL_OIDC_PORT are both 4000'],
      [{ OIDC_JWKS_URI: 'https://idp.example.com/jwks' }, 'OIDC_JWKS_URI is set but OIDC_ISSUER is not'],
      [{ OIDC_ISSUER: 'login.example.com' }, 'OIDC_ISSUER ("login.example.com") is not an http(s) URL'],
      [{ OIDC_ISSUER: 'https://idp.example.com', OIDC_JWKS_URI: 'ftp://idp.example.com/jwks' }, 'OIDC_JWKS_URI ("ftp://idp.example.com/jwks") is not an http(s) URL'],
      [{ OIDC_CLAIMS: 'ldap' }, 'OIDC_CLAIMS is "ldap"'],
      [{ DATABASE_URL: 'mysql://db/notes' }, 'DATABASE_URL is not a PostgreSQL URL'],
      [{ SEED_DEMO_NOTES: 'maybe' }, 'SEED_DEMO_NOTES is "maybe"'],
    ])('should stop with a message naming the variable and the fix for %j', (env, problem) => {
      expect(() => settingsFromEnv(env)).toThrow(NotesConfigurationError);
      expect(() => settingsFromEnv(env)).toThrow(problem);
      expect(() => settingsFromEnv(env)).toThrow('How to fix:');
    });
  });
});
