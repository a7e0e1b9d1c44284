import { InsufficientScopeException, PermissionDeniedException, PolicyUnavailableException, type AuthzException } from '../authz.exceptions';

/** The stable code of a refusal outside HTTP, by its HTTP status. */
export type RefusalCode = 'BAD_REQUEST' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'SERVICE_UNAVAILABLE';

/**
 * What a refusal says on a transport without HTTP status lines and headers (WebSockets, microservices, the
 * `extensions` of a GraphQL error): the same facts as the HTTP answer, never token content.
 *
 * @example
 * { code: 'FORBIDDEN', message: "Policy 'note' does not grant: CanEdit", policy: 'note', missingPermissions: ['CanEdit'] }
 */
export interface Refusal {
  readonly code: RefusalCode;
  /** The refusal's fixed description. */
  readonly message: string;
  /** FORBIDDEN for a scope: the scopes that would satisfy the handler. */
  readonly requiredScopes?: readonly string[];
  /** FORBIDDEN by the policy, or SERVICE_UNAVAILABLE when it failed: the policy asked. */
  readonly policy?: string;
  /** FORBIDDEN by the policy: the permissions it did not grant. */
  readonly missingPermissions?: readonly string[];
  /** FORBIDDEN by the policy on a `@Resource()`: the resource asked about. */
  readonly resource?: string;
  /** SERVICE_UNAVAILABLE: seconds after which trying again makes sense. */
  readonly retryAfter?: number;
}

const CODES: Readonly<Record<number, RefusalCode>> = { 400: 'BAD_REQUEST', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 503: 'SERVICE_UNAVAILABLE' };

/** The {@link Refusal} of one of the guard's refusals; an unexpected status counts as FORBIDDEN (fail closed). */
export function refusalOf(refusal: AuthzException): Refusal {
  const facts: { -readonly [K in keyof Refusal]: Refusal[K] } = { code: CODES[refusal.getStatus()] ?? 'FORBIDDEN', message: refusal.description };
  if (refusal instanceof InsufficientScopeException) facts.requiredScopes = [...refusal.requiredScopes];
  if (refusal instanceof PermissionDeniedException) {
    facts.policy = refusal.policy;
    facts.missingPermissions = [...refusal.missingPermissions];
    if (refusal.resource !== undefined) facts.resource = refusal.resource;
  }
  if (refusal instanceof PolicyUnavailableException) facts.policy = refusal.policy;
  if (refusal.retryAfter !== undefined) facts.retryAfter = refusal.retryAfter;
  return facts;
}
