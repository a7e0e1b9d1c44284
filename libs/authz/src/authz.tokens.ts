/** Injection token of the validated, frozen {@link AuthzConfig}. */
export const AUTHZ_CONFIG = Symbol('AUTHZ_CONFIG');
