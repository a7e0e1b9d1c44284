import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errors, Provider, type Client, type ResourceServerInfo } from 'oidc-provider';
import {
  CLI_CLIENT_ID,
  CONSOLE_CLIENT_ID,
  CONSOLE_REDIRECT_PATH,
  CONSOLE_SCOPES,
  DEMO_USER_GRANT,
  DEMO_USERS,
  isDemoUser,
  NOTES_SCOPES,
  SERVICE_CLIENT_ID,
  TOKEN_SCOPES,
} from './demo-users';
import { registerDemoUserGrant } from './demo-user-grant';
import { createInteractionHandler, interactionUrl, isInteractionRequest } from './interactions';
import { renderProblemPage } from './login-page';
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
 * Three clients:
 * - `notes-cli`, with the development-only demo-user grant that `npm run token -- <user>` uses;
 * - `notes-service`, with the client-credentials grant (its tokens' subject is the client id), notes scopes only;
 * - `notes-console`, the browser policy console: a public client (no secret) with the authorization code flow and
 *   PKCE S256, signing in at the provider's login page `/interaction/<uid>` (any demo user, no password; see
 *   interactions.ts). Its redirect URI is `http://127.0.0.1:<any port>/authz/console/` (also `localhost`, `[::1]`):
 *   a native-app loopback redirect URI (RFC 8252 §7.3), whose port oidc-provider ignores, so the console works
 *   whatever port the API listens on. CORS on discovery, JWKS and the token endpoint lets those origins call them.
 * Never expose it beyond your machine: anyone holding the `notes-cli` secret, or reaching the login page, can get any
 * demo user's token.
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
    const oidc = provider.callback();
    const login = createInteractionHandler(provider, { oidcScopes: PROVIDER_SCOPES, resource: { indicator: resourceIndicator(options.audience), scopes: TOKEN_SCOPES } });
    // The login page is served next to oidc-provider, on the same origin (its interaction cookie is scoped to it).
    server.on('request', (req, res) => (isInteractionRequest(req.url) ? void login(req, res) : oidc(req, res)));
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
    // Sign the login page's interaction and session cookies; sessions last until the provider restarts (in-memory store).
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      { client_id: CLI_CLIENT_ID, client_secret: secrets[CLI_CLIENT_ID], grant_types: [DEMO_USER_GRANT], redirect_uris: [], response_types: [], scope: TOKEN_SCOPES.join(' ') },
      { client_id: SERVICE_CLIENT_ID, client_secret: secrets[SERVICE_CLIENT_ID], grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: NOTES_SCOPES.join(' ') },
      {
        client_id: CONSOLE_CLIENT_ID,
        // A public client: the console runs in the browser, which cannot keep a secret; PKCE protects its codes.
        token_endpoint_auth_method: 'none',
        // `native` makes the port of a loopback redirect URI free (RFC 8252 §7.3): the API's port is known only later.
        application_type: 'native',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: LOOPBACK_HOSTS.map((host) => `http://${host}${CONSOLE_REDIRECT_PATH}`),
        scope: CONSOLE_SCOPES.join(' '),
      },
    ],
    scopes: PROVIDER_SCOPES,
    // Sign-ins (and the grants they make) last a working day; an unfinished sign-in ten minutes.
    ttl: { AccessToken: ttl, ClientCredentials: ttl, IdToken: ttl, Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600 },
    // Errors shown in the browser (e.g. a redirect URI that is not the client's): a plain page like the login page's.
    renderError: async (ctx: { type: string; body: unknown }, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = renderProblemPage('Sign-in refused', `${out.error}${out.error_description ? `: ${out.error_description}` : ''}`);
    },
    // Our own login page (interactions.ts) instead of oidc-provider's development one.
    interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => interactionUrl(interaction.uid) },
    // Public clients must use PKCE (oidc-provider only supports S256).
    pkce: { required: (_ctx: unknown, client: Client) => client.clientAuthMethod === 'none' },
    // Browsers may call discovery and JWKS from anywhere; the token endpoint only from the console's own origins.
    clientBasedCORS: (_ctx, origin, client) => client.clientId === CONSOLE_CLIENT_ID && isConsoleOrigin(client, origin),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Clients need not send `resource`: the notes API is the only one.
        defaultResource: async () => resource,
        // The code flow's token request also gets a notes API token (RFC 9068 JWT), not an opaque userinfo token for openid.
        useGrantedResource: async () => true,
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

const PROVIDER_SCOPES = ['openid', ...TOKEN_SCOPES];
const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'];

/** Whether `origin` (a browser's Origin header) is where the console page is served from: one of its redirect URIs' origins. */
function isConsoleOrigin(client: Client, origin: string): boolean {
  const url = URL.parse(origin);
  return url !== null && url.origin === origin && client.redirectUriAllowed(`${origin}${CONSOLE_REDIRECT_PATH}`);
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
