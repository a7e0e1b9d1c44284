import { ADMIN_SCOPE } from 'nestjs-authz/admin';

/**
 * The local provider's users. Their grants in the `note` policy live in the policy store (a new store starts with
 * apps/notes/policies/note.json), not here: the provider only vouches for who they are, plus the identity roles
 * an enterprise directory would assert.
 */
export const DEMO_USERS: Readonly<Record<string, { readonly roles?: readonly string[] }>> = {
  susan: {},
  alice: {},
  bob: {},
  carol: { roles: ['notes-admin'] },
};

export const DEMO_USER_NAMES = Object.keys(DEMO_USERS);

export function isDemoUser(name: string): boolean {
  return Object.hasOwn(DEMO_USERS, name);
}

/** Scopes of the notes API, granted when a token request names none. */
export const NOTES_SCOPES = ['notes:read', 'notes:write'] as const;

/**
 * Every scope the local provider issues for the API: the notes scopes, plus `authz:admin` (the admin API under
 * `/authz`), which a demo user's token carries only when asked for: `npm run token -- carol authz:admin`.
 */
export const TOKEN_SCOPES: readonly string[] = [...NOTES_SCOPES, ADMIN_SCOPE];

/** The command-line client `npm run token` uses (grant type {@link DEMO_USER_GRANT}). */
export const CLI_CLIENT_ID = 'notes-cli';
/** A machine client for the client-credentials grant; its tokens' subject is this id. */
export const SERVICE_CLIENT_ID = 'notes-service';

/**
 * A development-only grant: the authenticated `notes-cli` client names a demo user and gets that user's access
 * token without a browser login. It exists so `npm run token -- susan` can print a token; a real provider
 * would run the authorization code flow with a login page instead.
 */
export const DEMO_USER_GRANT = 'urn:nestjs-authz:notes:grant-type:demo-user';

/**
 * The browser policy console (`<apiUrl>/authz/console/`): a public client (no secret; the browser cannot keep one)
 * that signs in with the authorization code flow and PKCE S256 at the local provider's login page.
 */
export const CONSOLE_CLIENT_ID = 'notes-console';

/** What the console asks for: an ID token, the admin API, and the notes scopes. */
export const CONSOLE_SCOPES: readonly string[] = ['openid', ADMIN_SCOPE, ...NOTES_SCOPES];

/** Path of the console page on the notes API, which is also its redirect URI (the trailing slash counts). */
export const CONSOLE_REDIRECT_PATH = '/authz/console/';

/**
 * The console's redirect URI for an API at `apiUrl` (e.g. `http://127.0.0.1:3000` → `http://127.0.0.1:3000/authz/console/`).
 * The local provider accepts it on any port of 127.0.0.1, localhost or [::1] (a loopback redirect URI, RFC 8252 §7.3).
 */
export const consoleRedirectUri = (apiUrl: string): string => new URL(CONSOLE_REDIRECT_PATH, apiUrl).href;
