import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, Provider, type ResourceServerInfo } from 'oidc-provider';
import { CLI_CLIENT_ID, DEMO_USER_GRANT, DEMO_USERS, isDemoUser, NOTES_SCOPES, SERVICE_CLIENT_ID, TOKEN_SCOPES } from './demo-users';
import { registerDemoUserGrant } from './demo-user-grant';
import { prepareState } from './local-oidc-state';

export interface LocalOidcOptions {
  /** Port on 127.0.0.1; 0 picks a free one (tests). */
  readonly port: number;
  /** `aud` of the access tokens: the notes API. */
  readonly audience: string;
  /** Where the signing key and client secrets are kept (see local-oidc-state.ts). */
  readonly stateFile: string;
  /** Access token lifetime in seconds. Default one hour. */
  readonly accessTokenTtl?: number;
}

/** A running local provider. */
export interface LocalOidcProvider {
  readonly issuer: string;
  readonly clientSecrets: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * A development OpenID provider built on oidc-provider, listening on 127.0.0.1 only. It issues RS256 JWT
 * access tokens (`typ: at+jwt`, RFC 9068) for the notes API, with the requested scopes (default `notes:read
 * notes:write`; `authz:admin` only when asked for) and, for demo users that have one, a top-level `roles` claim.
 * Two clients:
 * - `notes-cli`, with the development-only demo-user grant that `npm run token -- <user>` uses;
 * - `notes-service`, with the client-credentials grant (its tokens' subject is the client id), notes scopes only.
 * Never expose it beyond your machine: anyone holding the `notes-cli` secret can get any demo user's token.
 *
 * @example
 * const idp = await startLocalOidcProvider({ port: 3001, audience: 'notes-api', stateFile: '.data/local-oidc.json' });
 */
export async function startLocalOidcProvider(options: LocalOidcOptions): Promise<LocalOidcProvider> {
  const server = createServer();
  await listen(server, options.port);
  try {
    // The issuer contains the port, which is known only once the server listens.
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const state = await prepareState(options.stateFile, issuer);
    const provider = createProvider(issuer, options, state.signingKey, state.clientSecrets);
    server.on('request', provider.callback());
    return { issuer, clientSecrets: state.clientSecrets, close: () => close(server) };
  } catch (error) {
    await close(server);
    throw error;
  }
}

// RFC 8707 resource indicators are URIs; the audience the API checks is the plain name.
const resourceIndicator = (audience: string) => `urn:nestjs-authz:resource:${encodeURIComponent(audience)}`;

function createProvider(issuer: string, options: LocalOidcOptions, signingKey: object, secrets: Record<string, string>): Provider {
  const ttl = options.accessTokenTtl ?? 3600;
  const resource = resourceIndicator(options.audience);
  const notesApi: ResourceServerInfo = {
    scope: TOKEN_SCOPES.join(' '),
    audience: options.audience,
    accessTokenFormat: 'jwt',
    accessTokenTTL: ttl,
    jwt: { sign: { alg: 'RS256' } },
  };
  const provider = new Provider(issuer, {
    jwks: { keys: [signingKey as Record<string, unknown>] },
    // No browser sessions are used; the cookie keys only have to exist.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      { client_id: CLI_CLIENT_ID, client_secret: secrets[CLI_CLIENT_ID], grant_types: [DEMO_USER_GRANT], redirect_uris: [], response_types: [], scope: TOKEN_SCOPES.join(' ') },
      { client_id: SERVICE_CLIENT_ID, client_secret: secrets[SERVICE_CLIENT_ID], grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: NOTES_SCOPES.join(' ') },
    ],
    scopes: ['openid', ...TOKEN_SCOPES],
    ttl: { AccessToken: ttl, ClientCredentials: ttl },
    features: {
      // No login pages: tokens come only from the two grants above.
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Clients need not send `resource`: the notes API is the only one.
        defaultResource: async () => resource,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`this provider only issues tokens for ${resource}`);
          return notesApi;
        },
      },
    },
    findAccount: async (_ctx, id) => (isDemoUser(id) ? { accountId: id, claims: async () => ({ sub: id }) } : undefined),
    // Identity roles an enterprise directory would assert, as a top-level `roles` claim (the library's default mapping).
    extraTokenClaims: async (_ctx, token) => {
      const roles = token.accountId && isDemoUser(token.accountId) ? DEMO_USERS[token.accountId].roles : undefined;
      return roles ? { roles: [...roles] } : undefined;
    },
  });
  registerDemoUserGrant(provider, resource, notesApi);
  return provider;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
