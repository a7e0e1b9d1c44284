import { SUPPORTED_ALGORITHMS, type JwtAlgorithm } from './authz.constants';
import { AuthzConfigurationError } from './authz.exceptions';
import type { AuthzModuleOptions, IssuerOptions, IssuerResolver, JsonWebKeySet } from './authz.options';
import { deepFreeze } from './deep-freeze';
import { resolveClaimMapping, type ResolvedClaimMapping } from './identity/claim-mapping';
import { validatePolicyDocuments, type PolicyDocuments } from './policy/policy-document';
import { PolicyStore } from './store/policy-store';

/** What verifies one issuer's tokens: the rules of the token verifier and the source of the key set. */
export interface IssuerConfig {
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
  readonly jwksTimeoutMs: number;
  readonly jwksCooldownMs: number;
  readonly jwksMaxAgeMs: number;
  /**
   * With several issuers: the identity's `subject` is `${subjectNamespace}#${sub}` (default: the issuer). `undefined`:
   * the bare `sub` (the single-issuer form, or `subjectNamespace: false`).
   */
  readonly subjectNamespace?: string;
}

/** `issuers` after validation: a fixed list, or a resolver with the bounds of its caches. */
export interface IssuersConfig {
  readonly list: readonly IssuerConfig[];
  readonly resolve?: IssuerResolver;
  readonly maxIssuers: number;
  readonly cacheMs: number;
  readonly maxUnknownIssuers: number;
  readonly unknownCacheMs: number;
}

/**
 * The options after validation: complete, frozen, read by every part instead of the raw options.
 *
 * With `issuers`, the issuer fields at the top (`issuer` is `''`, `keySource` is empty) verify nothing: each issuer's
 * own {@link IssuerConfig} in `issuers` does; `audiences`, `algorithms`, `claims`, ... there are the defaults the
 * entries started from.
 */
export interface AuthzConfig extends IssuerConfig {
  /** Several issuers (the `issuers` option); absent in the single-issuer form. */
  readonly issuers?: IssuersConfig;
  readonly defaultPolicy?: string;
  readonly policies: PolicyDocuments;
  readonly realm: string;
  readonly allowQueryToken: boolean;
  readonly policyTimeoutMs: number;
  readonly verifiedTokenCache: false | { readonly maxEntries: number; readonly maxAgeMs: number };
  readonly decisionCache: false | { readonly maxEntries: number; readonly ttlMs: number };
}

const MAX_CLOCK_TOLERANCE = 300;
/** Longest `iss` looked up among several issuers; a longer one is refused before any lookup. */
export const MAX_ISSUER_LENGTH = 1024;
/** Most entries of an `issuers` list. */
export const MAX_LISTED_ISSUERS = 1000;
const MAX_NAMESPACE_LENGTH = 128;

/** Validates raw options once, at start. Throws {@link AuthzConfigurationError} naming the option at fault. */
export function resolveAuthzConfig(options: AuthzModuleOptions | undefined): AuthzConfig {
  if (!options || typeof options !== 'object') {
    throw new AuthzConfigurationError('no options were given.', 'call AuthzModule.forRoot({ issuer, audience }) or forRootAsync({ useFactory }).');
  }
  const several = options.issuers !== undefined;
  if (several) checkSeveralIssuersOptions(options);
  const issuer = several ? '' : requireNonEmptyString(options.issuer, 'issuer', "set it to your provider's issuer URL exactly as it appears in the tokens' `iss` claim (or list several in `issuers`).");
  const audiences = several && options.audience === undefined ? [] : resolveAudiences(options.audience, 'audience');
  const audienceClaim = resolveAudienceClaim(options.audienceClaim, 'audienceClaim');
  if (audienceClaim === 'client_id') checkClientIdAudiences(audiences, 'audience');
  if (!several) checkKeySource(options, issuer, '');
  const algorithms = resolveAlgorithms(options.algorithms, 'algorithms');
  const clockTolerance = optionalNumber(options.clockTolerance, 'clockTolerance', 30, 0, MAX_CLOCK_TOLERANCE);
  const maxTokenAge = options.maxTokenAge === undefined ? undefined : optionalNumber(options.maxTokenAge, 'maxTokenAge', 0, 1, Number.MAX_SAFE_INTEGER);
  const requiredClaims = resolveStringList(options.requiredClaims ?? [], 'requiredClaims');
  const defaultPolicy = options.defaultPolicy === undefined ? undefined : requireNonEmptyString(options.defaultPolicy, 'defaultPolicy', "name the policy used by routes without @Policy(), e.g. 'note'.");
  const policies = validatePolicyDocuments(options.policies ?? {});
  checkPolicyStore(options);

  const base: IssuerConfig = {
    issuer,
    audiences,
    audienceClaim,
    // Copied, so that freezing the configuration never freezes the caller's objects.
    keySource: several ? {} : { jwksUri: options.jwksUri, jwks: options.jwks && { keys: options.jwks.keys.map((key) => ({ ...key })) } },
    algorithms,
    clockTolerance,
    maxTokenAge,
    requiredClaims,
    requireAccessTokenType: options.requireAccessTokenType === true,
    claims: resolveClaimMapping(options.claims),
    jwksTimeoutMs: optionalNumber(options.jwksTimeoutMs, 'jwksTimeoutMs', 5_000, 1, 60_000),
    jwksCooldownMs: optionalNumber(options.jwksCooldownMs, 'jwksCooldownMs', 30_000, 0, 3_600_000),
    jwksMaxAgeMs: optionalNumber(options.jwksMaxAgeMs, 'jwksMaxAgeMs', 600_000, 1_000, 86_400_000),
  };
  const issuers = several ? resolveIssuers(options.issuers, base) : undefined;
  const realm = options.realm ?? audiences[0] ?? issuers?.list[0]?.audiences[0];
  if (realm === undefined) {
    throw new AuthzConfigurationError(
      'option `realm` is missing, and no `audience` names a default for it.',
      "with an `issuers` resolver, set `realm` (the `realm` of the WWW-Authenticate challenge, e.g. 'notes-api') or a module-level `audience`.",
    );
  }

  return deepFreeze({
    ...base,
    issuers,
    defaultPolicy,
    policies,
    realm: resolveRealm(realm),
    allowQueryToken: options.allowQueryToken === true,
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

function checkSeveralIssuersOptions(options: AuthzModuleOptions): void {
  for (const option of ['issuer', 'jwksUri', 'jwks'] as const) {
    if (options[option] !== undefined) {
      throw new AuthzConfigurationError(
        `\`issuers\` and \`${option}\` are both set.`,
        option === 'issuer'
          ? 'trust one issuer with `issuer`, or several with `issuers: [{ issuer, audience }, ...]`, not both: move this issuer into the `issuers` list.'
          : `give \`${option}\` in the entry of \`issuers\` it belongs to: each issuer has its own keys.`,
      );
    }
  }
}

/** Validates `jwks` / `jwksUri` of one issuer (`prefix` is `''` or `issuers[2].`). */
function checkKeySource(options: { jwks?: JsonWebKeySet; jwksUri?: string }, issuer: string, prefix: string): void {
  if (options.jwks && options.jwksUri) {
    throw new AuthzConfigurationError(`\`${prefix}jwks\` and \`${prefix}jwksUri\` are both set.`, 'give a fixed key set (`jwks`) or a URL to fetch it from (`jwksUri`), not both.');
  }
  if (options.jwks && (typeof options.jwks !== 'object' || !Array.isArray(options.jwks.keys))) {
    throw new AuthzConfigurationError(`\`${prefix}jwks\` is not a key set.`, 'pass a JWK Set: `{ keys: [ ...public JWKs ] }`.');
  }
  if (options.jwksUri !== undefined) {
    if (typeof options.jwksUri !== 'string') throw new AuthzConfigurationError(`option \`${prefix}jwksUri\` is not a string.`, 'give an absolute http(s) URL.');
    requireUrl(options.jwksUri, `${prefix}jwksUri`);
  } else if (!options.jwks) {
    requireUrl(issuer, `${prefix}issuer`, ' (it is used to discover the JWKS; set `jwksUri` or `jwks` if the issuer is not a URL)');
  }
}

function resolveIssuers(value: unknown, base: IssuerConfig): IssuersConfig {
  if (typeof value === 'function' || (typeof value === 'object' && value !== null && !Array.isArray(value))) {
    const options = (typeof value === 'function' ? { resolve: value } : value) as Record<string, unknown>;
    if (typeof options.resolve !== 'function') {
      throw new AuthzConfigurationError('option `issuers` is an object without a `resolve` function.', 'give a list `[{ issuer, audience }, ...]`, a resolver `(iss) => IssuerOptions | undefined`, or `{ resolve, maxIssuers }`.');
    }
    return {
      list: [],
      resolve: options.resolve as IssuerResolver,
      maxIssuers: optionalNumber(options.maxIssuers, 'issuers.maxIssuers', 1_000, 1, 100_000),
      cacheMs: optionalNumber(options.cacheMs, 'issuers.cacheMs', 600_000, 1_000, 86_400_000),
      maxUnknownIssuers: optionalNumber(options.maxUnknownIssuers, 'issuers.maxUnknownIssuers', 10_000, 1, 1_000_000),
      unknownCacheMs: optionalNumber(options.unknownCacheMs, 'issuers.unknownCacheMs', 60_000, 1_000, 86_400_000),
    };
  }
  const fix = "list the trusted issuers: issuers: [{ issuer: 'https://login.acme.example/', audience: 'notes-api' }, ...].";
  if (!Array.isArray(value) || value.length === 0) {
    throw new AuthzConfigurationError(`option \`issuers\` is ${Array.isArray(value) ? 'an empty list; no token could pass' : 'neither a list nor a resolver'}.`, fix);
  }
  if (value.length > MAX_LISTED_ISSUERS) {
    throw new AuthzConfigurationError(`option \`issuers\` lists ${value.length} issuers, more than ${MAX_LISTED_ISSUERS}.`, 'use a resolver for that many tenants: issuers: { resolve: (iss) => lookUpTenant(iss) }.');
  }
  const list = value.map((entry, index) => resolveIssuerOptions(entry, base, `issuers[${index}].`));
  const byIssuer = new Set<string>();
  const byNamespace = new Set<string>();
  list.forEach((entry, index) => {
    if (byIssuer.has(entry.issuer)) {
      throw new AuthzConfigurationError(`option \`issuers[${index}].issuer\` (${JSON.stringify(entry.issuer)}) is listed twice.`, 'list each issuer once; give it several audiences with `audience: [...]` if it needs them.');
    }
    byIssuer.add(entry.issuer);
    if (entry.subjectNamespace === undefined) return;
    if (byNamespace.has(entry.subjectNamespace)) {
      throw new AuthzConfigurationError(
        `option \`issuers[${index}].subjectNamespace\` (${JSON.stringify(entry.subjectNamespace)}) is another issuer's namespace too.`,
        "give each issuer its own `subjectNamespace` (e.g. its tenant name), so that policies never grant one issuer's subject to another's; leave it out to use the issuer itself.",
      );
    }
    byNamespace.add(entry.subjectNamespace);
  });
  return { list, maxIssuers: list.length, cacheMs: 0, maxUnknownIssuers: 0, unknownCacheMs: 0 };
}

/**
 * Validates one issuer's options (an entry of `issuers`, or a resolver's answer) like the single-issuer options,
 * filling what it leaves out from `base` (the module-level options). Throws {@link AuthzConfigurationError} naming
 * the option as `${prefix}audience` etc.
 */
export function resolveIssuerOptions(entry: unknown, base: IssuerConfig, prefix: string): IssuerConfig {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new AuthzConfigurationError(`option \`${prefix.slice(0, -1)}\` is not an object.`, 'give { issuer, audience } and, if needed, jwksUri, claims, algorithms.');
  }
  const options = entry as IssuerOptions;
  const issuer = requireNonEmptyString(options.issuer, `${prefix}issuer`, "set it to the provider's issuer URL exactly as it appears in the tokens' `iss` claim.");
  if (issuer.length > MAX_ISSUER_LENGTH || /[\u0000-\u001f\u007f]/.test(issuer)) {
    throw new AuthzConfigurationError(`option \`${prefix}issuer\` is longer than ${MAX_ISSUER_LENGTH} characters or holds control characters.`, "give the issuer exactly as it appears in the tokens' `iss` claim.");
  }
  if (issuer.includes('#')) {
    throw new AuthzConfigurationError(`option \`${prefix}issuer\` (${JSON.stringify(issuer)}) contains '#'.`, 'an issuer identifier has no fragment (RFC 8414 §2, OpenID Connect Discovery §3): give it without the `#...` part.');
  }
  const audiences = options.audience === undefined && base.audiences.length > 0 ? base.audiences : resolveAudiences(options.audience, `${prefix}audience`);
  const audienceClaim = options.audienceClaim === undefined ? base.audienceClaim : resolveAudienceClaim(options.audienceClaim, `${prefix}audienceClaim`);
  if (audienceClaim === 'client_id') checkClientIdAudiences(audiences, options.audience === undefined ? 'audience' : `${prefix}audience`);
  checkKeySource(options, issuer, prefix);
  const namespace = options.subjectNamespace;
  if (namespace !== undefined && namespace !== false) {
    if (typeof namespace !== 'string' || namespace.trim() !== namespace || namespace === '' || namespace.length > MAX_NAMESPACE_LENGTH || /[#*\u0000-\u001f\u007f]/.test(namespace)) {
      throw new AuthzConfigurationError(
        `option \`${prefix}subjectNamespace\` is ${JSON.stringify(namespace)}.`,
        `give a name of 1 to ${MAX_NAMESPACE_LENGTH} characters without '#', '*', control characters or surrounding spaces (e.g. the tenant name 'acme'), false for the bare \`sub\`, or leave it out to use the issuer.`,
      );
    }
  }
  return {
    issuer,
    audiences,
    audienceClaim,
    keySource: { jwksUri: options.jwksUri, jwks: options.jwks && { keys: options.jwks.keys.map((key) => ({ ...key })) } },
    algorithms: options.algorithms === undefined ? base.algorithms : resolveAlgorithms(options.algorithms, `${prefix}algorithms`),
    clockTolerance: base.clockTolerance,
    maxTokenAge: options.maxTokenAge === undefined ? base.maxTokenAge : optionalNumber(options.maxTokenAge, `${prefix}maxTokenAge`, 0, 1, Number.MAX_SAFE_INTEGER),
    requiredClaims: options.requiredClaims === undefined ? base.requiredClaims : resolveStringList(options.requiredClaims, `${prefix}requiredClaims`),
    requireAccessTokenType: options.requireAccessTokenType === undefined ? base.requireAccessTokenType : options.requireAccessTokenType === true,
    claims: options.claims === undefined ? base.claims : resolveClaimMapping(options.claims, `${prefix}claims`),
    jwksTimeoutMs: base.jwksTimeoutMs,
    jwksCooldownMs: base.jwksCooldownMs,
    jwksMaxAgeMs: base.jwksMaxAgeMs,
    subjectNamespace: namespace === false ? undefined : (namespace ?? issuer),
  };
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

function resolveAudiences(value: unknown, option: string): string[] {
  const fix = "set `audience` to this API's identifier as your provider puts it in `aud`, e.g. 'notes-api' (or a list of them).";
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new AuthzConfigurationError(`option \`${option}\` is ${value === undefined ? 'missing' : 'empty'}; without it any token for any API would pass.`, fix);
  }
  for (const audience of list) {
    if (typeof audience !== 'string' || audience.trim() === '') {
      throw new AuthzConfigurationError(`option \`${option}\` contains an empty or non-string entry.`, fix);
    }
  }
  return [...list];
}

function resolveAudienceClaim(value: unknown, option: string): 'aud' | 'client_id' {
  if (value === undefined) return 'aud';
  if (value === 'aud' || value === 'client_id') return value;
  throw new AuthzConfigurationError(`option \`${option}\` is ${JSON.stringify(value)}.`, "use 'aud' (the default) or 'client_id' (Amazon Cognito access tokens).");
}

/**
 * With `audienceClaim: 'client_id'`, `audience` must list client ids. An API identifier (an absolute URI such as
 * `https://api.example.com` or `urn:example:api`, RFC 8707 resource indicators) in that list means the setting was
 * misunderstood: OAuth client ids are opaque names that providers do not spell as URIs (Cognito: 26 letters and
 * digits; Okta `0oa…`; Entra a GUID; Auth0 32 letters and digits). The rule: no entry may have a URI scheme
 * (`<letters>:`), contain `/`, or contain whitespace.
 */
function checkClientIdAudiences(audiences: readonly string[], option: string): void {
  for (const audience of audiences) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(audience) || audience.includes('/') || /\s/.test(audience)) {
      throw new AuthzConfigurationError(
        `option \`${option}\` contains ${JSON.stringify(audience)}, which is not a client id, while \`audienceClaim\` is 'client_id'.`,
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

function resolveAlgorithms(value: unknown, option: string): JwtAlgorithm[] {
  if (value === undefined) return ['RS256'];
  const fix = `list one or more of ${SUPPORTED_ALGORITHMS.join(', ')} (names are case-sensitive; 'none' and HMAC are never accepted).`;
  if (!Array.isArray(value) || value.length === 0) {
    throw new AuthzConfigurationError(`option \`${option}\` is empty or not a list.`, fix);
  }
  for (const alg of value) {
    if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw new AuthzConfigurationError(`option \`${option}\` contains unsupported algorithm ${JSON.stringify(alg)}.`, fix);
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
