import { generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CLI_CLIENT_ID, SERVICE_CLIENT_ID } from './demo-users';

/**
 * What the local provider keeps in DATA_DIR between runs: its signing key (so tokens stay valid across a
 * restart), its clients' secrets, and where it listens (so `npm run token` finds it). The file is readable by
 * its owner only; it holds a private key.
 */
export interface LocalOidcState {
  issuer: string;
  signingKey: JsonWebKey & { kid: string };
  clientSecrets: Record<string, string>;
}

/** The state file in a data directory. */
export const stateFileIn = (dataDir: string): string => join(dataDir, 'local-oidc.json');

/** Reads the state, or makes a new key and secrets if there is none; records `issuer` and saves it. */
export async function prepareState(file: string, issuer: string): Promise<LocalOidcState> {
  const state = (await readState(file)) ?? newState(issuer);
  state.issuer = issuer;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  return state;
}

/** The saved state, or `undefined` when the local provider never ran with this data directory. */
export async function readState(file: string): Promise<LocalOidcState | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as Partial<LocalOidcState>;
  if (typeof state.issuer !== 'string' || typeof state.signingKey?.kid !== 'string' || typeof state.clientSecrets !== 'object') {
    throw new Error(`${file} is not a local provider state file; delete it and start the app again.`);
  }
  return state as LocalOidcState;
}

function newState(issuer: string): LocalOidcState {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const secret = () => randomBytes(32).toString('base64url');
  return {
    issuer,
    signingKey: { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' },
    clientSecrets: { [CLI_CLIENT_ID]: secret(), [SERVICE_CLIENT_ID]: secret() },
  };
}
