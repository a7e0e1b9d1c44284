import { AuthzConfigurationError } from '../authz.exceptions';
import { nameProblem } from '../policy/names';

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
}

const OPTION_NAMES = ['path', 'administrators'];
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
    throw new AuthzConfigurationError(`AuthzAdminModule.register() does not know the option(s) ${unknown.map((key) => `\`${key}\``).join(', ')}.`, 'use only `path` and `administrators`.');
  }
  return Object.freeze({ path: resolvePath(options.path), administrators: Object.freeze(resolveAdministrators(options.administrators)) });
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
