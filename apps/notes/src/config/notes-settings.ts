import { resolve } from 'node:path';
import { ClaimPresets, nameProblem, type ClaimMapping, type ClaimPresetName } from 'nestjs-authz';
import { CONSOLE_CLIENT_ID } from '../local-oidc/demo-users';

/** Everything the notes app reads from its environment, checked once at start. */
export interface NotesSettings {
  /** Where the API listens. */
  readonly host: string;
  readonly port: number;
  /** The external identity provider; without an issuer the app starts its local development provider. */
  readonly oidc: {
    readonly issuer?: string;
    readonly jwksUri?: string;
    readonly audience: string;
    /** The claim that must name the audience: `aud`, or `client_id` for Amazon Cognito access tokens. */
    readonly audienceClaim: 'aud' | 'client_id';
    readonly claims: ClaimPresetName | ClaimMapping;
  };
  /** Port of the local development OpenID provider (127.0.0.1 only). */
  readonly localOidcPort: number;
  /** Where the embedded database and the local provider's keys live. */
  readonly dataDir: string;
  /** A PostgreSQL server to use instead of the embedded database. */
  readonly databaseUrl?: string;
  /** Insert a few demo notes into a new database. */
  readonly seedDemoNotes: boolean;
  /** Subjects made administrators of policy `authz` (the admin API) on the very first start. */
  readonly adminSubjects: readonly string[];
  /** The policy console's public client at the identity provider (AUTHZ_CONSOLE_CLIENT_ID); no console without one. */
  readonly consoleClientId?: string;
}

/** The demo administrator when the local provider runs (AUTHZ_ADMIN_SUBJECTS unset). */
export const DEMO_ADMIN_SUBJECTS: readonly string[] = ['carol'];

/** A setting the app cannot start with. The message names the variable and how to fix it. */
export class NotesConfigurationError extends Error {
  override readonly name = this.constructor.name;
  constructor(problem: string, fix: string) {
    super(`notes app: ${problem}\n  How to fix: ${fix}`);
  }
}

const PRESETS = Object.keys(ClaimPresets) as ClaimPresetName[];

/**
 * Reads the app's settings from environment variables (see docs/notes-app.md for the list).
 *
 * @example
 * const settings = settingsFromEnv({ PORT: '8080', OIDC_ISSUER: 'https://login.example.com/realms/notes', OIDC_CLAIMS: 'keycloak' });
 */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): NotesSettings {
  const issuer = optional(env.OIDC_ISSUER);
  const jwksUri = optional(env.OIDC_JWKS_URI);
  if (jwksUri && !issuer) {
    throw new NotesConfigurationError('OIDC_JWKS_URI is set but OIDC_ISSUER is not.', 'set OIDC_ISSUER to the `iss` of your tokens too, or unset OIDC_JWKS_URI to use the local development provider.');
  }
  if (issuer) requireUrl(issuer, 'OIDC_ISSUER');
  if (jwksUri) requireUrl(jwksUri, 'OIDC_JWKS_URI');
  const databaseUrl = optional(env.DATABASE_URL);
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new NotesConfigurationError('DATABASE_URL is not a PostgreSQL URL.', 'use postgres://user:password@host:5432/database, or unset it to use the embedded database.');
  }
  const port = portNumber(env.PORT, 'PORT', 3000);
  const localOidcPort = portNumber(env.LOCAL_OIDC_PORT, 'LOCAL_OIDC_PORT', 3001);
  if (!issuer && port !== 0 && port === localOidcPort) {
    throw new NotesConfigurationError(`PORT and LOCAL_OIDC_PORT are both ${port}.`, 'give the API and the local OpenID provider different ports.');
  }
  return {
    host: optional(env.HOST) ?? '127.0.0.1',
    port,
    oidc: { issuer, jwksUri, audience: optional(env.OIDC_AUDIENCE) ?? 'notes-api', audienceClaim: audienceClaim(env.OIDC_AUDIENCE_CLAIM), claims: claimMapping(env) },
    localOidcPort,
    dataDir: resolve(cwd, optional(env.DATA_DIR) ?? '.data'),
    databaseUrl,
    seedDemoNotes: flag(env.SEED_DEMO_NOTES, 'SEED_DEMO_NOTES', !issuer),
    adminSubjects: subjectList(env.AUTHZ_ADMIN_SUBJECTS, 'AUTHZ_ADMIN_SUBJECTS', issuer ? [] : DEMO_ADMIN_SUBJECTS),
    consoleClientId: consoleClient(env.AUTHZ_CONSOLE_CLIENT_ID, issuer),
  };
}

/** The local provider has the console's client (`notes-console`); an external provider needs one registered. */
function consoleClient(value: string | undefined, issuer: string | undefined): string | undefined {
  const text = optional(value);
  if (text === undefined) return issuer ? undefined : CONSOLE_CLIENT_ID;
  if (!/^[\x21-\x7e]{1,255}$/.test(text)) {
    throw new NotesConfigurationError(`AUTHZ_CONSOLE_CLIENT_ID is ${JSON.stringify(value)}.`, "give the client id of a public client (authorization code with PKCE) whose redirect URI is <API URL>/authz/console/, or leave it unset for no console.");
  }
  return text;
}

function subjectList(value: string | undefined, name: string, fallback: readonly string[]): readonly string[] {
  const text = optional(value);
  if (text === undefined) return fallback;
  const subjects = text.split(',').map((subject) => subject.trim());
  subjects.forEach((subject, index) => {
    const problem = nameProblem(subject, 'subject');
    if (problem) {
      throw new NotesConfigurationError(`${name} is ${JSON.stringify(value)}: subject ${index + 1} (${JSON.stringify(subject)}) ${problem}.`, 'give subjects (`sub` claims) separated by commas, e.g. carol,dave.');
    }
  });
  return [...new Set(subjects)];
}

function claimMapping(env: NodeJS.ProcessEnv): ClaimPresetName | ClaimMapping {
  const preset = optional(env.OIDC_CLAIMS) ?? 'default';
  if (!(PRESETS as string[]).includes(preset)) {
    throw new NotesConfigurationError(`OIDC_CLAIMS is ${JSON.stringify(preset)}.`, `use one of ${PRESETS.join(', ')}.`);
  }
  // The two presets that take a parameter get it from their own variable.
  if (preset === 'keycloak' && optional(env.OIDC_KEYCLOAK_CLIENT_ID)) return ClaimPresets.keycloak({ clientId: env.OIDC_KEYCLOAK_CLIENT_ID!.trim() });
  if (preset === 'auth0' && optional(env.OIDC_AUTH0_NAMESPACE)) return ClaimPresets.auth0({ namespace: env.OIDC_AUTH0_NAMESPACE!.trim() });
  return preset as ClaimPresetName;
}

function audienceClaim(value: string | undefined): 'aud' | 'client_id' {
  const claim = optional(value) ?? 'aud';
  if (claim === 'aud' || claim === 'client_id') return claim;
  throw new NotesConfigurationError(`OIDC_AUDIENCE_CLAIM is ${JSON.stringify(value)}.`, 'use aud (the default) or client_id (Amazon Cognito access tokens).');
}

function optional(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function portNumber(value: string | undefined, name: string, fallback: number): number {
  const text = optional(value);
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new NotesConfigurationError(`${name} is ${JSON.stringify(value)}.`, `give a port number from 0 to 65535, or unset it for ${fallback}.`);
  }
  return port;
}

function flag(value: string | undefined, name: string, fallback: boolean): boolean {
  const text = optional(value)?.toLowerCase();
  if (text === undefined) return fallback;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new NotesConfigurationError(`${name} is ${JSON.stringify(value)}.`, 'use true or false.');
}

function requireUrl(value: string, name: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new NotesConfigurationError(`${name} (${JSON.stringify(value)}) is not an http(s) URL.`, 'give the absolute URL, e.g. https://login.example.com/realms/notes');
  }
}
