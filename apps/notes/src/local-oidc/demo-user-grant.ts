import { errors, type KoaContextWithOIDC, type Provider, type ResourceServerInfo } from 'oidc-provider';
import { DEMO_USER_GRANT, DEMO_USER_NAMES, isDemoUser, NOTES_SCOPES } from './demo-users';

/**
 * Registers the development-only {@link DEMO_USER_GRANT}: `username` (a demo user) and optional `scope` in,
 * an access token for the notes API out. oidc-provider authenticates the client, checks that the client may
 * use this grant type, and mints and signs the token (its AccessToken model with the notes API as resource
 * server); this handler only picks the account and the scopes.
 */
export function registerDemoUserGrant(provider: Provider, resource: string, resourceServer: ResourceServerInfo): void {
  provider.registerGrantType(
    DEMO_USER_GRANT,
    async (ctx: KoaContextWithOIDC) => {
      const { username, scope } = ctx.oidc.params;
      if (typeof username !== 'string' || !isDemoUser(username)) {
        throw new errors.CustomOIDCProviderError('invalid_grant', `username must be one of the demo users: ${DEMO_USER_NAMES.join(', ')}`);
      }
      const client = ctx.oidc.client!;
      const scopes = grantedScopes(typeof scope === 'string' ? scope : undefined, client.scope, resourceServer.scope);
      const token = new ctx.oidc.provider.AccessToken({ accountId: username, client, scope: scopes.join(' '), gty: DEMO_USER_GRANT });
      token.resourceServer = new ctx.oidc.provider.ResourceServer(resource, resourceServer);
      const accessToken = await token.save();
      ctx.body = { access_token: accessToken, token_type: 'Bearer', expires_in: token.expiration, scope: scopes.join(' ') };
    },
    ['username', 'scope'],
  );
}

/**
 * The requested scopes, or the notes scopes when none are requested (never `authz:admin` unasked); scopes the client
 * or the API does not allow are refused.
 */
function grantedScopes(requested: string | undefined, clientScope: string | undefined, apiScope: string): string[] {
  const allowed = new Set(apiScope.split(' ').filter((scope) => !clientScope || clientScope.split(' ').includes(scope)));
  const asked = requested?.split(' ').filter(Boolean) ?? [];
  if (asked.length === 0) return NOTES_SCOPES.filter((scope) => allowed.has(scope));
  const refused = asked.find((scope) => !allowed.has(scope));
  if (refused) throw new errors.InvalidScope(`requested scope is not allowed; the notes API has: ${[...allowed].join(' ')}`, refused);
  return [...new Set(asked)];
}
