import type { JsonWebKey } from 'node:crypto';
import type { JwtAlgorithm } from './authz.constants';
import type { ClaimMapping, ClaimPresetName } from './identity/claim-mapping';
import type { Type } from '@nestjs/common';
import type { PolicyDocuments } from './policy/policy-document';
import type { PolicyStore } from './store/policy-store';

/** A JSON Web Key Set, as served by an identity provider's `jwks_uri`. */
export interface JsonWebKeySet {
  keys: JsonWebKey[];
}

/**
 * One trusted issuer of `issuers`. Options left out take the module-level value (`audience`, `audienceClaim`,
 * `algorithms`, `maxTokenAge`, `requiredClaims`, `requireAccessTokenType`, `claims`), then the usual default.
 */
export interface IssuerOptions {
  /** Expected `iss`, compared exactly. Must not contain `#` (issuer identifiers have no fragment). */
  issuer: string;
  /** This API's identifier(s) as this issuer puts them in `aud` (or `client_id`, see `audienceClaim`). */
  audience?: string | string[];
  audienceClaim?: 'aud' | 'client_id';
  /** Where this issuer's keys are. Default: discovered from `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** A fixed key set for this issuer. Excludes `jwksUri`. */
  jwks?: JsonWebKeySet;
  algorithms?: JwtAlgorithm[];
  maxTokenAge?: number;
  requiredClaims?: string[];
  requireAccessTokenType?: boolean;
  claims?: ClaimPresetName | ClaimMapping;
  /**
   * How policies name this issuer's subjects: the identity's `subject` is `<subjectNamespace>#<sub>`. Default: the
   * issuer, so two issuers' equal `sub`s never meet the same grants. A short tenant name (`'acme'`) keeps policy
   * subjects short; it must differ from every other issuer's and may not contain `#` or `*`. `false`: the bare
   * `sub`, shared with every other issuer that says `false`; only for issuers that draw `sub`s from one user
   * directory (relaxes a rule, see docs/issuers.md).
   */
  subjectNamespace?: string | false;
}

/**
 * Finds the issuer options for an `iss` the module has not seen: `undefined` (or `null`) for an unknown issuer.
 * It receives the token's *unverified* `iss` (a string of at most 1024 characters, no control characters): treat it
 * as attacker input. Do not fetch anything it names; look it up among your tenants. May be async.
 */
export type IssuerResolver = (iss: string) => IssuerOptions | undefined | null | Promise<IssuerOptions | undefined | null>;

/** A resolver with the bounds of its caches. */
export interface IssuerResolverOptions {
  resolve: IssuerResolver;
  /** Most resolved issuers (each with its own key set) held at once; least recently used go first. Default 1000. */
  maxIssuers?: number;
  /** A resolved issuer is asked about again after this many ms (its key set is kept if the answer is unchanged). Default 600000. */
  cacheMs?: number;
  /** Most unknown `iss` values remembered, so a flood of made-up issuers asks the resolver once each. Default 10000. */
  maxUnknownIssuers?: number;
  /** How long an unknown `iss` is remembered, in ms. Default 60000. */
  unknownCacheMs?: number;
}

/**
 * Options of {@link AuthzModule}. Validated once at start; a wrong value stops the app with a message
 * that names the option.
 *
 * @example
 * AuthzModule.forRoot({
 *   issuer: 'https://login.example.com/',
 *   audience: 'notes-api',
 *   defaultPolicy: 'note',
 *   policies: { note: { roles: { reader: ['CanRead'] }, subjects: { susan: { roles: ['reader'] } } } },
 * })
 */
export interface AuthzModuleOptions {
  /** Expected `iss`, compared exactly (no trailing-slash leniency). Required, unless `issuers` is given instead. */
  issuer?: string;
  /**
   * This API's identifier(s); a token's `aud` must contain one of them. Required, never empty. With `issuers`, the
   * default for the entries that give no `audience` of their own.
   */
  audience?: string | string[];
  /**
   * Several trusted issuers instead of `issuer` (multi-tenant apps): a list, or a resolver for tenants known only at
   * run time. The token's unverified `iss` only picks the configuration; the token is then verified against that
   * issuer's keys, audience and rules alone. An unknown `iss` is refused (401) with no outbound request. Excludes
   * `issuer`, `jwksUri` and `jwks` (give those per issuer). The identity's `subject` is then `<issuer>#<sub>` unless
   * an entry says otherwise (`subjectNamespace`). See docs/issuers.md.
   *
   * @example
   * issuers: [
   *   { issuer: 'https://login.acme.example/', audience: 'notes-api' },
   *   { issuer: 'https://idp.globex.example/realms/notes', audience: 'notes-api', claims: 'keycloak' },
   * ]
   */
  issuers?: IssuerOptions[] | IssuerResolver | IssuerResolverOptions;
  /**
   * The claim that must name this API: `'aud'` (default), or `'client_id'` for providers whose access tokens carry
   * no `aud` (Amazon Cognito), where `audience` then lists your app client ids. `'client_id'` relaxes a rule: it
   * binds tokens to a client, not to this API, so any token issued to a listed client passes, whatever API it was
   * meant for. With it, an `audience` entry with a URI scheme (`https://…`, `urn:…`), a `/` or whitespace stops
   * the app at start (that is an API identifier, not a client id). See docs/security.md.
   */
  audienceClaim?: 'aud' | 'client_id';
  /** Where the provider's keys are. Default: `jwks_uri` from `${issuer}/.well-known/openid-configuration`. */
  jwksUri?: string;
  /** A fixed key set instead of fetching one (air-gapped deployments, the testing kit). Excludes `jwksUri`. */
  jwks?: JsonWebKeySet;
  /** Allowed `alg` values, compared case-sensitively. Default `['RS256']`. */
  algorithms?: JwtAlgorithm[];
  /** Leeway in seconds for `exp`, `nbf` and `iat`. Default 30, at most 300. */
  clockTolerance?: number;
  /** Refuse tokens older than this many seconds (by `iat`, which then becomes required). Default: no limit. */
  maxTokenAge?: number;
  /** Claims every token must carry besides `iss`, `aud`, `exp`, `sub` (e.g. `['jti', 'client_id']`). */
  requiredClaims?: string[];
  /**
   * Require the RFC 9068 token type `at+jwt` in the header (case-insensitive, `application/` prefix allowed).
   * Default `false`, because many providers still send `JWT`; the audience check refuses ID tokens either way.
   */
  requireAccessTokenType?: boolean;
  /** Where scopes, identity roles and the client id live in the claims: a preset name or a mapping. Default `'default'`. */
  claims?: ClaimPresetName | ClaimMapping;
  /** Policy for routes with `@Permissions()` but no `@Policy()`. */
  defaultPolicy?: string;
  /** Data of the default `PolicyService`: per policy, roles, subject grants and identity-role mapping (held in memory). */
  policies?: PolicyDocuments;
  /**
   * Where grants live instead of `policies`: a {@link PolicyStore} instance, a class the module instantiates (with
   * dependency injection: global providers, and with `forRootAsync` those of its `imports`), or a factory (may be
   * async) the module calls once at start. The module closes the store
   * at shutdown. Excludes `policies`.
   *
   * @example
   * policyStore: async () => PostgresPolicyStore.open({ driver: await PgDriver.connect(process.env.DATABASE_URL!) })
   */
  policyStore?: PolicyStore | Type<PolicyStore> | (() => PolicyStore | Promise<PolicyStore>);
  /** `realm` of the `WWW-Authenticate` challenge. Default: the first audience. */
  realm?: string;
  /**
   * Accept `?access_token=` (RFC 6750 §2.3). Default `false`: query tokens end up in logs and browser history.
   * When on, every answer to a request carrying `?access_token=`, refusals included, gets `Cache-Control: no-store`.
   * Relaxes a rule; see docs/security.md.
   */
  allowQueryToken?: boolean;
  /**
   * How long one download attempt (discovery and JWKS, each body read to its end) may take, in ms. Default 5000.
   * Bodies are also capped at 512 KiB and 100 keys, and redirects are refused.
   */
  jwksTimeoutMs?: number;
  /**
   * Least time between two downloads caused by unknown `kid`s after a successful one, in ms. Default 30000. After a
   * failed download the next may come after a backoff of 1 s, doubling with each failure up to this value.
   */
  jwksCooldownMs?: number;
  /** After this many ms the key set is downloaded again, so a key removed at the provider stops being trusted. Default 600000. */
  jwksMaxAgeMs?: number;
  /** A PolicyService decision that takes longer than this many ms fails closed with 503. Default 5000. */
  policyTimeoutMs?: number;
  /**
   * Remember verified tokens (keyed by the exact token bytes) so a repeated token skips the signature check.
   * `exp`/`nbf` are rechecked on every use. Default `{ maxEntries: 10000, maxAgeMs: 300000 }`; `false` turns it off.
   */
  verifiedTokenCache?: false | { maxEntries?: number; maxAgeMs?: number };
  /**
   * How the built-in PolicyService remembers an identity's resolved permissions per (policy, issuer, subject,
   * identity roles), and the policy documents it read: both for at most `ttlMs` after the store was read; a change
   * reported by the policy store drops them at once. A custom `policyService` does its own caching.
   * Default `{ maxEntries: 10000, ttlMs: 5000 }`; `false` turns it off.
   */
  decisionCache?: false | { maxEntries?: number; ttlMs?: number };
}

