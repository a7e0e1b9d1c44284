import { AuthzConfigurationError } from '../authz.exceptions';
import { nameProblem } from '../policy/names';
import { ADMIN_SCOPE } from './admin.constants';

/**
 * Options of {@link AuthzAdminModule.register}. Validated when the module is registered; a wrong value stops the
 * app with a message that names the option and says how to fix it.
 *
 * @example
 * AuthzAdminModule.register({ path: 'admin/authz', administrators: ['carol'] })
 */
export interface AuthzAdminOptions {
  /** Where the admin routes are mounted, e.g. `'authz'` (default) serves `GET /authz/policies`. */
  path?: string;
  /**
   * Subjects (`sub`) made administrators of policy `authz` on the very first start, when that policy does not
   * exist yet. Ignored once it exists: from then on administrators are managed through the API itself.
   */
  administrators?: string[];
  /**
   * Serves the policy console, a web page that talks only to this API, at `/<path>/console/`. Off unless given.
   * The page signs in at the identity provider with the authorization code flow and PKCE, as the public client
   * `clientId` whose redirect URI is the console's URL.
   */
  console?: AuthzConsoleOptions;
}

/**
 * The policy console's sign-in.
 *
 * @example
 * AuthzAdminModule.register({ administrators: ['carol'], console: { clientId: 'policy-console' } })
 */
export interface AuthzConsoleOptions {
  /** The console's client at the identity provider: public (no secret), authorization code with PKCE. */
  clientId: string;
  /** Where to sign in. Default: the `issuer` of `AuthzModule`. */
  issuer?: string;
  /** Scopes to ask for, space-separated. Default `'openid authz:admin'`. */
  scopes?: string;
}

/**
 * The options after validation, frozen.
 *
 * @example
 * resolveAdminConfig({ path: '/admin/authz/' }); // { path: 'admin/authz', administrators: [] }
 */
export interface AuthzAdminConfig {
  /** Without leading or trailing slashes, e.g. `authz` or `admin/authz`. */
  readonly path: string;
  readonly administrators: readonly string[];
  readonly console?: Readonly<AuthzConsoleOptions>;
}

const OPTION_NAMES = ['path', 'administrators', 'console'];
const CONSOLE_OPTION_NAMES = ['clientId', 'issuer', 'scopes'];
// Unreserved URL characters only: no `:` or `*` (route parameters and wildcards), no `%`, no spaces.
const SEGMENT = /^[A-Za-z0-9_~-][A-Za-z0-9._~-]*$/;

/**
 * Validates the options of {@link AuthzAdminModule.register}.
 *
 * @example
 * resolveAdminConfig({ path: '/admin/authz/' }); // { path: 'admin/authz', administrators: [] }
 */
export function resolveAdminConfig(options: AuthzAdminOptions | undefined): AuthzAdminConfig {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new AuthzConfigurationError('AuthzAdminModule.register() was given options that are not an object.', "pass { path?, administrators? }, e.g. AuthzAdminModule.register({ administrators: ['carol'] }).");
  }
  const unknown = Object.keys(options).filter((key) => !OPTION_NAMES.includes(key));
  if (unknown.length > 0) {
    throw new AuthzConfigurationError(`AuthzAdminModule.register() does not know the option(s) ${unknown.map((key) => `\`${key}\``).join(', ')}.`, 'use only `path`, `administrators` and `console`.');
  }
  const config: AuthzAdminConfig = { path: resolvePath(options.path), administrators: Object.freeze(resolveAdministrators(options.administrators)) };
  return Object.freeze(options.console === undefined ? config : { ...config, console: resolveConsole(options.console) });
}

function resolveConsole(console: unknown): Readonly<AuthzConsoleOptions> {
  const fix = "give the console's public client at your identity provider, e.g. console: { clientId: 'policy-console' } (optional: issuer, scopes).";
  if (typeof console !== 'object' || console === null || Array.isArray(console)) throw new AuthzConfigurationError('AuthzAdminModule.register(): `console` must be an object.', fix);
  const unknown = Object.keys(console).filter((key) => !CONSOLE_OPTION_NAMES.includes(key));
  if (unknown.length > 0) throw new AuthzConfigurationError(`AuthzAdminModule.register(): \`console\` does not know ${unknown.map((key) => `\`${key}\``).join(', ')}.`, fix);
  const { clientId, issuer, scopes } = console as Record<string, unknown>;
  if (!(typeof clientId === 'string' && /^[\x21-\x7e]{1,255}$/.test(clientId))) {
    throw new AuthzConfigurationError('AuthzAdminModule.register(): `console.clientId` must be 1 to 255 printable ASCII characters without spaces.', fix);
  }
  if (issuer !== undefined && !(typeof issuer === 'string' && /^https?:\/\/\S+$/.test(issuer))) {
    throw new AuthzConfigurationError('AuthzAdminModule.register(): `console.issuer` must be an http(s) URL.', "leave it out to sign in at AuthzModule's issuer, or give the issuer URL, e.g. 'https://login.example.com/'.");
  }
  // RFC 6749 §3.3: scope tokens of printable ASCII except space, '"' and '\\', separated by single spaces.
  if (scopes !== undefined && !(typeof scopes === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/.test(scopes))) {
    throw new AuthzConfigurationError('AuthzAdminModule.register(): `console.scopes` must be scope names separated by single spaces.', "leave it out for 'openid authz:admin'.");
  }
  return Object.freeze({ clientId, ...(issuer === undefined ? {} : { issuer: issuer as string }), scopes: (scopes as string | undefined) ?? `openid ${ADMIN_SCOPE}` });
}

function resolvePath(path: unknown): string {
  if (path === undefined) return 'authz';
  const fix = "give URL path segments of letters, digits, '.', '_', '~' or '-' separated by '/', e.g. path: 'authz' or path: 'admin/authz'; leave it out for the default 'authz'.";
  if (typeof path !== 'string') throw new AuthzConfigurationError('AuthzAdminModule.register(): `path` must be a string.', fix);
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') {
    throw new AuthzConfigurationError('AuthzAdminModule.register(): `path` is empty, which would mount the admin routes at the root of the app.', fix);
  }
  const bad = trimmed.split('/').find((segment) => !SEGMENT.test(segment));
  if (bad !== undefined) {
    throw new AuthzConfigurationError(`AuthzAdminModule.register(): \`path\` ${JSON.stringify(path)} has the segment ${JSON.stringify(bad)}, which is not a plain URL segment.`, fix);
  }
  return trimmed;
}

function resolveAdministrators(administrators: unknown): string[] {
  if (administrators === undefined) return [];
  const fix = "list the subjects (`sub` claims) of the first administrators, e.g. administrators: ['carol'].";
  if (!Array.isArray(administrators)) throw new AuthzConfigurationError('AuthzAdminModule.register(): `administrators` must be a list of subjects.', fix);
  administrators.forEach((subject, index) => {
    const problem = nameProblem(subject, 'subject');
    if (problem) throw new AuthzConfigurationError(`AuthzAdminModule.register(): \`administrators[${index}]\` ${problem}.`, fix);
  });
  return [...new Set(administrators as string[])];
}
