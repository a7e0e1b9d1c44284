import { InvalidTokenException, withoutStack } from '../authz.exceptions';
import type { ResolvedClaimMapping } from './claim-mapping';
import type { AuthzIdentity } from './identity';
import type { VerifiedClaims } from '../jwt/verified-claims';

/** What an issuer of several says about its identities: its claim mapping and how its subjects are named. */
export interface IssuerIdentityRules {
  readonly claims: ResolvedClaimMapping;
  readonly subjectNamespace?: string;
}

// Set by the token verifier, with several issuers, on the claims it verified: a symbol, so no token can carry it.
const ISSUER_RULES = Symbol('nestjs-authz.issuerRules');

/**
 * Binds the rules of the issuer that verified `claims` to them (before they are frozen), so that {@link toIdentity}
 * maps them by that issuer's claim mapping and names the subject in its namespace. Hidden: not enumerable, not in JSON.
 */
export function bindIssuerRules(claims: object, rules: IssuerIdentityRules): void {
  Object.defineProperty(claims, ISSUER_RULES, { value: rules, enumerable: false, writable: false, configurable: false });
}

/** The rules {@link bindIssuerRules} bound to `claims`, if any. */
export function issuerRulesOf(claims: object): IssuerIdentityRules | undefined {
  return (claims as { [ISSUER_RULES]?: IssuerIdentityRules })[ISSUER_RULES];
}

/**
 * Turns verified claims into an {@link AuthzIdentity} using the configured claim mapping. Claims verified for one of
 * several issuers use that issuer's mapping instead, and their subject is `<subjectNamespace>#<sub>` (see
 * docs/issuers.md).
 */
export function toIdentity(claims: VerifiedClaims, mapping: ResolvedClaimMapping): AuthzIdentity {
  const rules = issuerRulesOf(claims);
  if (rules) mapping = rules.claims;
  return Object.freeze({
    subject: rules?.subjectNamespace === undefined ? claims.sub : `${rules.subjectNamespace}#${claims.sub}`,
    issuer: claims.iss,
    // With `audienceClaim: 'client_id'` (Cognito) a token may carry no `aud`; the identity then has an empty list.
    audience: Object.freeze(typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.filter((entry) => typeof entry === 'string') : []),
    clientId: firstString(claims, mapping.clientId),
    scopes: Object.freeze(collectStrings(claims, mapping.scopes, true)),
    roles: Object.freeze(collectStrings(claims, mapping.roles, false)),
    claims,
  });
}

/**
 * Refuses (401 `invalid_token`) a token whose scope, role or client-id claims, as the mapping reads them, have the
 * wrong type: scopes and roles are a string or a list of strings, a client id is a string, and a nested path runs
 * through JSON objects only. Called by the verifier once the signature holds, so a token that fails is never
 * remembered; {@link toIdentity} then only ever sees well-typed claims.
 */
export function checkIdentityClaimTypes(claims: Readonly<Record<string, unknown>>, mapping: ResolvedClaimMapping): void {
  checkPaths(claims, mapping.scopes, isStringOrStringList, 'The token scope claim is not a string or a list of strings');
  checkPaths(claims, mapping.roles, isStringOrStringList, 'The token role claim is not a string or a list of strings');
  checkPaths(claims, mapping.clientId, (value) => typeof value === 'string', 'The token client id claim is not a string');
}

function checkPaths(claims: Readonly<Record<string, unknown>>, paths: readonly (readonly string[])[], valid: (value: unknown) => boolean, description: string): void {
  for (const path of paths) {
    const value = readTypedPath(claims, path, description);
    if (value !== undefined && !valid(value)) wrongType(description);
  }
}

function isStringOrStringList(value: unknown): boolean {
  if (typeof value === 'string') return true;
  if (!Array.isArray(value)) return false;
  for (const entry of value) if (typeof entry !== 'string') return false;
  return true;
}

/** Like {@link readPath}, but a step through something that is not a JSON object is a wrong type, not an absence. */
function readTypedPath(claims: Readonly<Record<string, unknown>>, path: readonly string[], description: string): unknown {
  let value: unknown = claims;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) wrongType(description);
    if (!Object.hasOwn(value as object, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function wrongType(description: string): never {
  throw withoutStack(() => new InvalidTokenException(description));
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
