/** The payload of a token that passed every check: the registered claims are present and typed. */
export interface VerifiedClaims {
  readonly iss: string;
  readonly sub: string;
  /** Absent only where `audienceClaim: 'client_id'` binds the token instead. */
  readonly aud?: string | readonly string[];
  readonly exp: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly [claim: string]: unknown;
}
