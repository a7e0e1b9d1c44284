/** Metadata keys, namespaced so they never collide with an app's own. */
export const PUBLIC_KEY = 'authz:public';
export const SCOPES_KEY = 'authz:scopes';
export const PERMISSIONS_KEY = 'authz:permissions';
export const POLICY_KEY = 'authz:policy';
export const RESOURCE_KEY = 'authz:resource';

/** Algorithms the library can verify. Symmetric (HS*) algorithms are deliberately absent. */
export const SUPPORTED_ALGORITHMS = [
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA',
] as const;

export type JwtAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];
