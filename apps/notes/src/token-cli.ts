import { settingsFromEnv } from './config/notes-settings';
import { CLI_CLIENT_ID, DEMO_USER_NAMES, isDemoUser, SERVICE_CLIENT_ID } from './local-oidc/demo-users';
import { readState, stateFileIn } from './local-oidc/local-oidc-state';
import { requestClientCredentialsToken, requestDemoUserToken } from './local-oidc/token-request';

export const TOKEN_USAGE = `Usage: npm run --silent token -- <user> [scope ...]
       npm run --silent token -- --client [scope ...]
Prints an access token from the local OpenID provider that \`npm start\` runs.
  <user>    one of ${DEMO_USER_NAMES.join(', ')}
  --client  a client-credentials token for the '${SERVICE_CLIENT_ID}' client instead
  scope     notes:read, notes:write (default: both), or authz:admin for the admin API under /authz
            (never granted unless asked for; a user's token only, not --client)
Examples: curl -H "Authorization: Bearer $(npm run --silent token -- susan)" http://127.0.0.1:3000/notes
          curl -H "Authorization: Bearer $(npm run --silent token -- carol authz:admin)" http://127.0.0.1:3000/authz/policies`;

export type TokenRequestArgs = { kind: 'user'; user: string; scopes: string[] } | { kind: 'client'; scopes: string[] };

/** Reads `token` command arguments; throws a message for the user when they make no sense. */
export function parseTokenArgs(argv: readonly string[]): TokenRequestArgs {
  const [first, ...scopes] = argv;
  if (first === undefined || first === '--help' || first === '-h') throw new Error(TOKEN_USAGE);
  if (first === '--client') return { kind: 'client', scopes };
  if (!isDemoUser(first)) throw new Error(`'${first}' is not a demo user.\n${TOKEN_USAGE}`);
  return { kind: 'user', user: first, scopes };
}

/** `npm run token`: prints the token alone on stdout, so `$(...)` can capture it. Returns the exit code. */
export async function runTokenCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, out: (text: string) => void = (text) => process.stdout.write(text), err: (text: string) => void = (text) => process.stderr.write(text)): Promise<number> {
  let args: TokenRequestArgs;
  try {
    args = parseTokenArgs(argv);
  } catch (error) {
    err(`${(error as Error).message}\n`);
    return 2;
  }
  try {
    const settings = settingsFromEnv(env);
    if (settings.oidc.issuer) {
      throw new Error(`OIDC_ISSUER is set, so the app trusts ${settings.oidc.issuer} and starts no local provider. Get a token from that provider instead.`);
    }
    const state = await readState(stateFileIn(settings.dataDir));
    if (!state) throw new Error(`No local provider has run with DATA_DIR ${settings.dataDir}. Start the app first: npm start`);
    const response =
      args.kind === 'client'
        ? await requestClientCredentialsToken(state.issuer, state.clientSecrets[SERVICE_CLIENT_ID], ...(args.scopes.length > 0 ? [args.scopes] : []))
        : await requestDemoUserToken(state.issuer, state.clientSecrets[CLI_CLIENT_ID], args.user, args.scopes);
    out(`${response.access_token}\n`);
    return 0;
  } catch (error) {
    err(`${(error as Error).message}\n`);
    return 1;
  }
}
