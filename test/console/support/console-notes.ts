import { settingsFromEnv } from '../../../apps/notes/src/config/notes-settings';
import { CLI_CLIENT_ID } from '../../../apps/notes/src/local-oidc/demo-users';
import { requestDemoUserToken } from '../../../apps/notes/src/local-oidc/token-request';
import { startNotes, type RunningNotes } from '../../../apps/notes/src/notes-server';
import { freshDataDir } from '../../support/embedded-postgres';

/** The notes app as `npm start` runs it (local provider, demo notes, carol the first administrator), on free ports. */
export interface ConsoleNotes {
  readonly notes: RunningNotes;
  /** The policy console's page: `<apiUrl>/authz/console/`. */
  readonly consoleUrl: string;
  /** A demo user's access token from the local provider (the `notes-cli` client; all notes scopes unless named). */
  tokenFor(user: string, scopes?: readonly string[]): Promise<string>;
  /** A request to the API with `user`'s token. */
  call(user: string, method: string, path: string, options?: { scopes?: readonly string[]; headers?: Record<string, string>; body?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts the notes app in-process exactly as `npm start` does (`startNotes(settingsFromEnv(...))`), in a fresh
 * DATA_DIR with the API and the local OpenID provider on free ports of 127.0.0.1, so a browser can reach both.
 */
export async function startConsoleNotes(): Promise<ConsoleNotes> {
  const data = await freshDataDir();
  let notes: RunningNotes;
  try {
    notes = await startNotes(settingsFromEnv({ DATA_DIR: data.dataDir, PORT: '0', LOCAL_OIDC_PORT: '0' }), { logger: false });
  } catch (error) {
    await data.remove();
    throw error;
  }
  const secret = notes.localProvider!.clientSecrets[CLI_CLIENT_ID];
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (user: string, scopes: readonly string[] = []) => {
    const key = `${user} ${scopes.join(' ')}`;
    if (!tokens.has(key)) tokens.set(key, requestDemoUserToken(notes.issuer, secret, user, scopes).then((answer) => answer.access_token));
    return tokens.get(key)!;
  };
  return {
    notes,
    consoleUrl: `${notes.adminUrl}/console/`,
    tokenFor,
    call: async (user, method, path, options = {}) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${await tokenFor(user, options.scopes)}`, ...options.headers };
      if (options.body !== undefined) headers['Content-Type'] = 'application/json';
      return fetch(`${notes.apiUrl}${path}`, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    },
    close: async () => {
      await notes.close();
      await data.remove();
    },
  };
}
