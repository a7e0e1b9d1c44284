import { SUPPORTED_ALGORITHMS, type JwtAlgorithm } from './authz.constants';
import { AuthzConfigurationError } from './authz.exceptions';
import type { AuthzModuleOptions, JsonWebKeySet } from './authz.options';
import { deepFreeze } from './deep-freeze';
import { resolveClaimMapping, type ResolvedClaimMapping } from './identity/claim-mapping';
import { validatePolicyDocuments, type PolicyDocuments } from './policy/policy-document';
import { PolicyStore } from './store/policy-store';

/** The options after validation: complete, frozen, read by every part instead of the raw options. */
export interface AuthzConfig {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly audienceClaim: 'aud' | 'client_id';
  readonly keySource: { readonly jwksUri?: string; readonly jwks?: JsonWebKeySet };
  readonly algorithms: readonly JwtAlgorithm[];
  readonly clockTolerance: number;
  readonly maxTokenAge?: number;
  readonly requiredClaims: readonly string[];
  readonly requireAccessTokenType: boolean;
  readonly claims: ResolvedClaimMapping;
  readonly defaultPolicy?: string;
  readonly policies: PolicyDocuments;
  readonly realm: string;
  readonly allowQueryToken: boolean;
  readonly jwksTimeoutMs: number;
  readonly jwksCooldownMs: number;
  readonly jwksMaxAgeMs: number;
  readonly policyTimeoutMs: number;
  readonly verifiedTokenCache: false | { readonly maxEntries: number; readonly maxAgeMs: number };
  readonly decisionCache: false | { readonly maxEntries: number; readonly ttlMs: number };
}

const MAX_CLOCK_TOLERANCE = 300;

/** Validates raw options once, at start. Throws {@link AuthzConfigurationError} naming the option at fault. */
export function resolveAuthzConfig(options: AuthzModuleOptions | undefined): AuthzConfig {
  if (!options || typeof options !== 'object') {
    throw new AuthzConfigurationError('no options were given.', 'call AuthzModule.forRoot({ issuer, audience }) or forRootAsync({ useFactory }).');
  }
  const issuer = requireNonEmptyString(options.issuer, 'issuer', "set it to your provider's issuer URL exactly as it appears in the tokens' `iss` claim.");
  const audiences = resolveAudiences(options.audience);
  const audienceClaim = resolveAudienceClaim(options.audienceClaim);
  if (audienceClaim === 'client_id') checkClientIdAudiences(audiences);
  if (options.jwks && options.jwksUri) {
    throw new AuthzConfigurationError('`jwks` and `jwksUri` are both set.', 'give a fixed key set (`jwks`) or a URL to fetch it from (`jwksUri`), not both.');
  }
  if (options.jwks && !Array.isArray(options.jwks.keys)) {
    throw new AuthzConfigurationError('`jwks` is not a key set.', 'pass a JWK Set: `{ keys: [ ...public JWKs ] }`.');
  }
  if (options.jwksUri !== undefined) {
    requireUrl(options.jwksUri, 'jwksUri');
  } else if (!options.jwks) {
    requireUrl(issuer, 'issuer', ' (it is used to discover the JWKS; set `jwksUri` or `jwks` if the issuer is not a URL)');
  }
  const algorithms = resolveAlgorithms(options.algorithms);
  const clockTolerance = optionalNumber(options.clockTolerance, 'clockTolerance', 30, 0, MAX_CLOCK_TOLERANCE);
  const maxTokenAge = options.maxTokenAge === undefined ? undefined : optionalNumber(options.maxTokenAge, 'maxTokenAge', 0, 1, Number.MAX_SAFE_INTEGER);
  const requiredClaims = resolveStringList(options.requiredClaims ?? [], 'requiredClaims');
  const defaultPolicy = options.defaultPolicy === undefined ? undefined : requireNonEmptyString(options.defaultPolicy, 'defaultPolicy', "name the policy used by routes without @Policy(), e.g. 'note'.");
  const policies = validatePolicyDocuments(options.policies ?? {});
  checkPolicyStore(options);

  return deepFreeze({
    issuer,
    audiences,
    audienceClaim,
    // Copied, so that freezing the configuration never freezes the caller's objects.
    keySource: { jwksUri: options.jwksUri, jwks: options.jwks && { keys: options.jwks.keys.map((key) => ({ ...key })) } },
    algorithms,
    clockTolerance,
    maxTokenAge,
    requiredClaims,
    requireAccessTokenType: options.requireAccessTokenType === true,
    claims: resolveClaimMapping(options.claims),
    defaultPolicy,
    policies,
    realm: resolveRealm(options.realm ?? audiences[0]),
    allowQueryToken: options.allowQueryToken === true,
    jwksTimeoutMs: optionalNumber(options.jwksTimeoutMs, 'jwksTimeoutMs', 5_000, 1, 60_000),
    jwksCooldownMs: optionalNumber(options.jwksCooldownMs, 'jwksCooldownMs', 30_000, 0, 3_600_000),
    jwksMaxAgeMs: optionalNumber(options.jwksMaxAgeMs, 'jwksMaxAgeMs', 600_000, 1_000, 86_400_000),
    policyTimeoutMs: optionalNumber(options.policyTimeoutMs, 'policyTimeoutMs', 5_000, 1, 60_000),
    verifiedTokenCache:
      options.verifiedTokenCache === false
        ? false
        : {
            maxEntries: optionalNumber(options.verifiedTokenCache?.maxEntries, 'verifiedTokenCache.maxEntries', 10_000, 1, 1_000_000),
            maxAgeMs: optionalNumber(options.verifiedTokenCache?.maxAgeMs, 'verifiedTokenCache.maxAgeMs', 300_000, 1, 3_600_000),
          },
    decisionCache:
      options.decisionCache === false
        ? false
        : {
            maxEntries: optionalNumber(options.decisionCache?.maxEntries, 'decisionCache.maxEntries', 10_000, 1, 1_000_000),
            ttlMs: optionalNumber(options.decisionCache?.ttlMs, 'decisionCache.ttlMs', 5_000, 1, 3_600_000),
          },
  });
}

function checkPolicyStore(options: AuthzModuleOptions): void {
  const store = options.policyStore;
  if (store === undefined) return;
  if (options.policies !== undefined) {
    throw new AuthzConfigurationError('`policies` and `policyStore` are both set.', 'keep grants in one place: put the policies into the store (e.g. `npm run policy -- apply`), or drop `policyStore` to hold them in memory.');
  }
  if (!(store instanceof PolicyStore) && typeof store !== 'function') {
    throw new AuthzConfigurationError('option `policyStore` is not a PolicyStore.', 'give a PolicyStore instance, a class extending PolicyStore, or a factory returning one, e.g. () => PostgresPolicyStore.open({ driver }).');
  }
}

function requireNonEmptyString(value: unknown, option: string, fix: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new AuthzConfigurationError(`option \`${option}\` is ${value === undefined ? 'missing' : 'empty or not a string'}.`, fix);
  }
  return value;
}

function resolveAudiences(value: unknown): string[] {
  const fix = "set `audience` to this API's identifier as your provider puts it in `aud`, e.g. 'notes-api' (or a list of them).";
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new AuthzConfigurationError(`option \`audience\` is ${value === undefined ? 'missing' : 'empty'}; without it any token for any API would pass.`, fix);
  }
  for (const audience of list) {
    if (typeof audience !== 'string' || audience.trim() === '') {
      throw new AuthzConfigurationError('option `audience` contains an empty or non-string entry.', fix);
    }
  }
  return [...list];
}

function resolveAudienceClaim(value: unknown): 'aud' | 'client_id' {
  if (value === undefined) return 'aud';
  if (value === 'aud' || value === 'client_id') return value;
  throw new AuthzConfigurationError(`option \`audienceClaim\` is ${JSON.stringify(value)}.`, "use 'aud' (the default) or 'client_id' (Amazon Cognito access tokens).");
}

/**
 * With `audienceClaim: 'client_id'`, `audience` must list client ids. An API identifier (an absolute URI such as
 * `https://api.example.com` or `urn:example:api`, RFC 8707 resource indicators) in that list means the setting was
 * misunderstood: OAuth client ids are opaque names that providers do not spell as URIs (Cognito: 26 letters and
 * digits; Okta `0oa…`; Entra a GUID; Auth0 32 letters and digits). The rule: no entry may have a URI scheme
 * (`<letters>:`), contain `/`, or contain whitespace.
 */
function checkClientIdAudiences(audiences: readonly string[]): void {
  for (const audience of audiences) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(audience) || audience.includes('/') || /\s/.test(audience)) {
      throw new AuthzConfigurationError(
        `option \`audience\` contains ${JSON.stringify(audience)}, which is not a client id, while \`audienceClaim\` is 'client_id'.`,
        "with audienceClaim: 'client_id' a token passes when its `client_id` is listed in `audience`, so list your app client ids there " +
          "(e.g. Cognito's 26-character app client id), not an API identifier. If your tokens carry this API's identifier in `aud`, " +
          "drop `audienceClaim` (the default 'aud' checks it, and binds each token to this API rather than to a client).",
      );
    }
  }
}

function requireUrl(value: string, option: string, note = ''): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AuthzConfigurationError(`option \`${option}\` (${JSON.stringify(value)}) is not a URL${note}.`, `give an absolute http(s) URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AuthzConfigurationError(`option \`${option}\` must be an http(s) URL${note}.`, 'give an absolute http(s) URL.');
  }
}

function resolveAlgorithms(value: unknown): JwtAlgorithm[] {
  if (value === undefined) return ['RS256'];
  const fix = `list one or more of ${SUPPORTED_ALGORITHMS.join(', ')} (names are case-sensitive; 'none' and HMAC are never accepted).`;
  if (!Array.isArray(value) || value.length === 0) {
    throw new AuthzConfigurationError('option `algorithms` is empty or not a list.', fix);
  }
  for (const alg of value) {
    if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw new AuthzConfigurationError(`option \`algorithms\` contains unsupported algorithm ${JSON.stringify(alg)}.`, fix);
    }
  }
  return [...new Set(value as JwtAlgorithm[])];
}

function optionalNumber(value: unknown, option: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new AuthzConfigurationError(`option \`${option}\` is ${JSON.stringify(value)}.`, `give a number from ${min} to ${max}, or leave it out for the default (${fallback}).`);
  }
  return value;
}

function resolveStringList(value: unknown, option: string): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw new AuthzConfigurationError(`option \`${option}\` must be a list of claim names.`, "e.g. ['jti', 'client_id'].");
  }
  return [...value];
}

function resolveRealm(realm: string): string {
  if (!/^[\x20-\x7e]+$/.test(realm) || /["\\]/.test(realm)) {
    throw new AuthzConfigurationError('option `realm` must be printable ASCII without `"` or `\\`.', "e.g. 'notes-api'.");
  }
  return realm;
}
