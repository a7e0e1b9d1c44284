import { AuthzConfigurationError } from '../authz.exceptions';

/**
 * A claim path: a top-level claim name (`'roles'`, `'cognito:groups'`, `'https://example.com/roles'`),
 * or a list of keys for nested claims (`['realm_access', 'roles']`). Names are never split on dots,
 * because namespaced claims contain them.
 */
export type ClaimPath = string | readonly string[];

/**
 * Where a provider puts scopes, identity roles and the client id.
 *
 * @example
 * AuthzModule.forRoot({ ..., claims: { roles: [['realm_access', 'roles'], 'groups'] } })
 */
export interface ClaimMapping {
  /** Claims holding scopes, as a space-delimited string or a list. Default `['scope', 'scp']`. */
  scopes?: readonly ClaimPath[];
  /** Claims holding identity roles (lists of strings, or one string). Default `['roles']`. */
  roles?: readonly ClaimPath[];
  /** Claims naming the client, first present wins. Default `['client_id', 'azp', 'cid', 'appid']`. */
  clientId?: readonly ClaimPath[];
}

/** Names accepted by `claims: '<name>'`, e.g. from an environment variable. */
export type ClaimPresetName = 'default' | 'keycloak' | 'auth0' | 'okta' | 'entra-id' | 'cognito';

export interface ResolvedClaimMapping {
  readonly scopes: readonly (readonly string[])[];
  readonly roles: readonly (readonly string[])[];
  readonly clientId: readonly (readonly string[])[];
}

const DEFAULT_MAPPING: Required<ClaimMapping> = {
  scopes: ['scope', 'scp'],
  roles: ['roles'],
  clientId: ['client_id', 'azp', 'cid', 'appid'],
};

/**
 * Claim layouts of common identity providers.
 *
 * @example
 * AuthzModule.forRoot({ issuer, audience: 'notes-api', claims: ClaimPresets.keycloak({ clientId: 'notes-api' }) })
 */
export const ClaimPresets = {
  /** Top-level `roles` list; `scope` string or `scp` list. */
  default: (): ClaimMapping => ({ ...DEFAULT_MAPPING }),
  /** Keycloak: realm roles from `realm_access.roles`, and client roles from `resource_access.<clientId>.roles` when a client is named. */
  keycloak: (options: { clientId?: string } = {}): ClaimMapping => ({
    ...DEFAULT_MAPPING,
    roles: [['realm_access', 'roles'], ...(options.clientId ? [['resource_access', options.clientId, 'roles']] : [])],
  }),
  /** Auth0: RBAC `permissions` list, plus roles a rule or action adds under a namespace (`https://example.com/roles`). */
  auth0: (options: { namespace?: string } = {}): ClaimMapping => ({
    ...DEFAULT_MAPPING,
    roles: ['permissions', ...(options.namespace ? [`${options.namespace.replace(/\/$/, '')}/roles`] : [])],
  }),
  /** Okta: `groups` (add a groups claim to the authorization server), `scp` list, `cid` client. */
  okta: (): ClaimMapping => ({ ...DEFAULT_MAPPING, roles: ['groups'] }),
  /** Microsoft Entra ID: app roles in `roles`, delegated scopes in `scp`, client in `azp` or `appid`. */
  'entra-id': (): ClaimMapping => ({ ...DEFAULT_MAPPING, roles: ['roles'] }),
  /** Amazon Cognito: user pool groups in `cognito:groups`. Cognito access tokens have no `aud`: also set `audienceClaim: 'client_id'`. */
  cognito: (): ClaimMapping => ({ ...DEFAULT_MAPPING, roles: ['cognito:groups'] }),
} satisfies Record<ClaimPresetName, (...args: never[]) => ClaimMapping>;

/** Turns a preset name or a mapping into lists of key paths. Unknown presets stop the app at start. */
export function resolveClaimMapping(claims: ClaimPresetName | ClaimMapping | undefined, option = 'claims'): ResolvedClaimMapping {
  let mapping: ClaimMapping;
  if (claims === undefined) {
    mapping = DEFAULT_MAPPING;
  } else if (typeof claims === 'string') {
    if (!Object.hasOwn(ClaimPresets, claims)) {
      throw new AuthzConfigurationError(
        `option \`${option}\` names unknown preset ${JSON.stringify(claims)}.`,
        `use one of ${Object.keys(ClaimPresets).map((name) => `'${name}'`).join(', ')}, or pass a mapping such as { roles: ['groups'] }.`,
      );
    }
    mapping = ClaimPresets[claims]();
  } else if (typeof claims === 'object' && claims !== null) {
    mapping = { ...DEFAULT_MAPPING, ...claims };
  } else {
    throw new AuthzConfigurationError(`option \`${option}\` is neither a preset name nor a mapping.`, "e.g. claims: 'keycloak' or claims: { roles: ['groups'] }.");
  }
  return {
    scopes: toPaths(mapping.scopes, `${option}.scopes`),
    roles: toPaths(mapping.roles, `${option}.roles`),
    clientId: toPaths(mapping.clientId, `${option}.clientId`),
  };
}

function toPaths(paths: readonly ClaimPath[] | undefined, option: string): string[][] {
  if (!Array.isArray(paths)) {
    throw new AuthzConfigurationError(`option \`${option}\` must be a list of claim paths.`, "e.g. ['roles'] or [['realm_access', 'roles']].");
  }
  return paths.map((path) => {
    const keys = typeof path === 'string' ? [path] : [...path];
    if (keys.length === 0 || keys.some((key) => typeof key !== 'string' || key === '')) {
      throw new AuthzConfigurationError(`option \`${option}\` has an empty claim path.`, "each path is a claim name or a non-empty list of keys, e.g. ['realm_access', 'roles'].");
    }
    return keys;
  });
}
