import type { ResolvedClaimMapping } from './claim-mapping';
import type { AuthzIdentity } from './identity';
import type { VerifiedClaims } from '../jwt/verified-claims';

/** Turns verified claims into an {@link AuthzIdentity} using the configured claim mapping. */
export function toIdentity(claims: VerifiedClaims, mapping: ResolvedClaimMapping): AuthzIdentity {
  return Object.freeze({
    subject: claims.sub,
    issuer: claims.iss,
    // With `audienceClaim: 'client_id'` (Cognito) a token may carry no `aud`; the identity then has an empty list.
    audience: Object.freeze(typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((entry) => typeof entry === 'string') : []),
    clientId: firstString(claims, mapping.clientId),
    scopes: Object.freeze(collectStrings(claims, mapping.scopes, true)),
    roles: Object.freeze(collectStrings(claims, mapping.roles, false)),
    claims,
  });
}

function firstString(claims: VerifiedClaims, paths: ResolvedClaimMapping['clientId']): string | undefined {
  for (const path of paths) {
    const value = readPath(claims, path);
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

// Scopes arrive space-delimited (RFC 6749 §3.3); a role given as one string is one role.
function collectStrings(claims: VerifiedClaims, paths: ResolvedClaimMapping['scopes'], splitOnSpaces: boolean): string[] {
  const found = new Set<string>();
  for (const path of paths) {
    const value = readPath(claims, path);
    const items = typeof value === 'string' ? (splitOnSpaces ? value.split(' ') : [value]) : Array.isArray(value) ? value : [];
    for (const item of items) {
      if (typeof item === 'string' && item !== '') found.add(item);
    }
  }
  return Array.from(found);
}

function readPath(claims: VerifiedClaims, path: readonly string[]): unknown {
  let value: unknown = claims;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
