/**
 * Who the caller is, as proven by a verified access token. Plain, frozen data: the same shape reaches
 * every transport and every PolicyService.
 *
 * @example
 * \@Get('me')
 * me(@CurrentIdentity() identity: AuthzIdentity) {
 *   return { subject: identity.subject, scopes: identity.scopes };
 * }
 */
export interface AuthzIdentity {
  /**
   * `sub`: the user (or, for client-credentials tokens, the client: RFC 9068 §5). With several `issuers`, the subject
   * in its issuer's namespace, `<issuer>#<sub>` by default (the bare `sub` stays in `claims.sub`); see docs/issuers.md.
   */
  readonly subject: string;
  /** `iss`: who vouches for the subject. */
  readonly issuer: string;
  /** `aud`, always as a list. */
  readonly audience: readonly string[];
  /** The OAuth client the token was issued to (`client_id`, `azp`, `cid` or `appid`), if the token says. */
  readonly clientId?: string;
  /** What the user delegated to the client (`scope` string or `scp` list). */
  readonly scopes: readonly string[];
  /** Role names the identity provider asserts (`roles`, `groups`, ...); the policy maps them to its own roles. */
  readonly roles: readonly string[];
  /** Every claim of the token, read-only. */
  readonly claims: Readonly<Record<string, unknown>>;
}
