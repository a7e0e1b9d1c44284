import { HttpException, HttpStatus } from '@nestjs/common';

/**
 * Thrown at start when the module's options cannot work. The message names the option and says how to fix it.
 */
export class AuthzConfigurationError extends Error {
  override readonly name = this.constructor.name;

  constructor(problem: string, fix: string) {
    super(`nestjs-authz: ${problem}\n  How to fix: ${fix}`);
  }
}

/**
 * Creates a refusal without capturing a stack trace. Refusals answer bad requests; they are not faults, and Nest
 * never logs their stack. Capturing one cost about 5 µs per refusal, a good part of answering a flood of bad tokens.
 * The limit is restored before anything else can run.
 *
 * @example
 * throw withoutStack(() => new InvalidTokenException('The token has expired'));
 */
export function withoutStack<T extends HttpException>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return create();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** RFC 6750 §3.1 error codes. */
export type BearerErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * Every refusal of the guard. Subclasses carry the status, the bearer error code and a description that is
 * safe to send (fixed text, never attacker input); `http/challenge.ts` turns them into `WWW-Authenticate`.
 */
export abstract class AuthzException extends HttpException {
  /** Whether the answer carries a `WWW-Authenticate: Bearer` challenge. */
  abstract readonly challenge: boolean;
  readonly bearerError?: BearerErrorCode;
  /** Seconds for `Retry-After`, on 503s. */
  readonly retryAfter?: number;

  protected constructor(status: HttpStatus, readonly description: string, extra: Record<string, unknown> = {}) {
    super({ statusCode: status, error: reasonPhrase(status), message: description, ...extra }, status);
    this.name = this.constructor.name;
  }
}

/** 401 without an error code: the request carries no bearer credentials (RFC 6750 §3.1). */
export class MissingCredentialsException extends AuthzException {
  readonly challenge = true;
  constructor() {
    super(HttpStatus.UNAUTHORIZED, 'Bearer access token required');
  }
}

/** 400 `invalid_request`: broken `Authorization` syntax, or a token in more than one place. */
export class InvalidRequestException extends AuthzException {
  readonly challenge = true;
  override readonly bearerError = 'invalid_request';
  constructor(description: string) {
    super(HttpStatus.BAD_REQUEST, description);
  }
}

/** 401 `invalid_token`: the token is malformed, badly signed, expired, or not meant for this API. */
export class InvalidTokenException extends AuthzException {
  readonly challenge = true;
  override readonly bearerError = 'invalid_token';
  constructor(description: string) {
    super(HttpStatus.UNAUTHORIZED, description);
  }
}

/** 403 `insufficient_scope`: the user did not delegate the scopes the route needs. */
export class InsufficientScopeException extends AuthzException {
  readonly challenge = true;
  override readonly bearerError = 'insufficient_scope';
  constructor(
    /** The scopes that would satisfy the route, for the challenge's `scope` attribute. */
    readonly requiredScopes: readonly string[],
    description: string,
  ) {
    super(HttpStatus.FORBIDDEN, description, { requiredScopes });
  }
}

/** 403 from the policy: the identity lacks permissions. Not a token problem, so no bearer challenge. */
export class PermissionDeniedException extends AuthzException {
  readonly challenge = false;
  constructor(
    readonly policy: string,
    readonly missingPermissions: readonly string[],
    mode: 'all' | 'any',
    /** The resource the permissions were asked on (`@Resource()`), if any. */
    readonly resource?: string,
  ) {
    const on = resource === undefined ? '' : ` on resource '${resource}'`;
    super(
      HttpStatus.FORBIDDEN,
      mode === 'any'
        ? `Policy '${policy}' grants none of: ${missingPermissions.join(', ')}${on}`
        : `Policy '${policy}' does not grant: ${missingPermissions.join(', ')}${on}`,
      resource === undefined ? { policy, missingPermissions } : { policy, missingPermissions, resource },
    );
  }
}

/** 503: the PolicyService failed or timed out. The request is denied, never allowed. */
export class PolicyUnavailableException extends AuthzException {
  readonly challenge = false;
  override readonly retryAfter = 5;
  constructor(readonly policy: string) {
    super(HttpStatus.SERVICE_UNAVAILABLE, `Policy '${policy}' could not be evaluated; try again later`);
  }
}

/** 503: the token's key could not be fetched from the provider (outage, timeout). Not the caller's fault. */
export class KeySetUnavailableException extends AuthzException {
  readonly challenge = false;
  override readonly retryAfter: number;
  constructor(retryAfterSeconds: number) {
    super(HttpStatus.SERVICE_UNAVAILABLE, "The identity provider's signing keys are unavailable; try again later");
    this.retryAfter = retryAfterSeconds;
  }
}

/** The guard ran in a context it cannot protect (WebSocket, RPC, GraphQL): it denies. */
export class UnsupportedContextException extends AuthzException {
  readonly challenge = false;
  constructor(contextType: string) {
    super(HttpStatus.FORBIDDEN, `AuthzGuard does not support '${contextType}' contexts and denies the call`);
  }
}

function reasonPhrase(status: HttpStatus): string {
  switch (status) {
    case HttpStatus.BAD_REQUEST: return 'Bad Request';
    case HttpStatus.UNAUTHORIZED: return 'Unauthorized';
    case HttpStatus.FORBIDDEN: return 'Forbidden';
    default: return 'Service Unavailable';
  }
}
