import { CLI_CLIENT_ID, DEMO_USER_GRANT, NOTES_SCOPES, SERVICE_CLIENT_ID } from './demo-users';

/** An OAuth token endpoint's answer (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** The provider refused the request (RFC 6749 §5.2), or could not be reached. */
export class TokenRequestError extends Error {
  override readonly name = this.constructor.name;
  constructor(message: string, readonly error?: string) {
    super(message);
  }
}

/**
 * A demo user's access token from the local provider, through the `notes-cli` client and the demo-user grant.
 * No scopes means all scopes of the notes API.
 *
 * @example
 * const { access_token } = await requestDemoUserToken(issuer, secrets['notes-cli'], 'susan', ['notes:read']);
 */
export function requestDemoUserToken(issuer: string, clientSecret: string, username: string, scopes: readonly string[] = []): Promise<TokenResponse> {
  return requestToken(issuer, CLI_CLIENT_ID, clientSecret, { grant_type: DEMO_USER_GRANT, username, ...scopeParam(scopes) });
}

/** A client-credentials token for the `notes-service` client (subject = `notes-service`); all notes scopes unless others are named. */
export function requestClientCredentialsToken(issuer: string, clientSecret: string, scopes: readonly string[] = NOTES_SCOPES): Promise<TokenResponse> {
  return requestToken(issuer, SERVICE_CLIENT_ID, clientSecret, { grant_type: 'client_credentials', ...scopeParam(scopes) });
}

const scopeParam = (scopes: readonly string[]): Record<string, string> => (scopes.length > 0 ? { scope: scopes.join(' ') } : {});

async function requestToken(issuer: string, clientId: string, clientSecret: string, params: Record<string, string>): Promise<TokenResponse> {
  const tokenEndpoint = await discoverTokenEndpoint(issuer);
  const response = await reach(tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined.
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams(params),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new TokenRequestError(`the provider refused the token request: ${body.error ?? response.status}${body.error_description ? ` (${body.error_description})` : ''}`, body.error);
  }
  return body as TokenResponse;
}

async function discoverTokenEndpoint(issuer: string): Promise<string> {
  const response = await reach(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  const document = (await response.json().catch(() => ({}))) as { token_endpoint?: unknown };
  if (!response.ok || typeof document.token_endpoint !== 'string') {
    throw new TokenRequestError(`${issuer} does not look like an OpenID provider (no token_endpoint in its discovery document)`);
  }
  return document.token_endpoint;
}

async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  } catch (error) {
    throw new TokenRequestError(`cannot reach ${url} (${(error as Error).cause ?? (error as Error).message}). Is \`npm start\` running?`);
  }
}
