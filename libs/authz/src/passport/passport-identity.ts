import { HttpException, HttpStatus } from '@nestjs/common';
import { AuthzConfigurationError, AuthzException, InvalidTokenException, MissingCredentialsException, withoutStack } from '../authz.exceptions';
import type { AuthzIdentity } from '../identity/identity';

/** Name under which {@link AuthzJwtStrategy} registers with passport: `AuthGuard('authz-jwt')`. */
export const AUTHZ_JWT = 'authz-jwt';

/**
 * Injection token of the {@link PassportIdentityOptions} that a plain `PassportAuthzGuard` reads, for options that
 * need DI (`useFactory`). `PassportAuthzGuard.using(options)` needs no provider.
 */
export const PASSPORT_IDENTITY = Symbol('PASSPORT_IDENTITY');

/**
 * What `toIdentity` returns: only `subject` is required. Lists are checked (strings only, none empty), then frozen.
 * `claims` is copied and the copy frozen (one level deep: the strategy's nested objects are not frozen in place).
 */
export interface PassportIdentity {
  readonly subject: string;
  /** A list, or one space-delimited string (RFC 6749 §3.3). Default: none. */
  readonly scopes?: readonly string[] | string;
  /** Default: none. */
  readonly roles?: readonly string[];
  /** Who vouches for the subject. Default `'passport'`: set it when policies must tell sources apart. */
  readonly issuer?: string;
  /** A string or a list. Default: none. */
  readonly audience?: readonly string[] | string;
  readonly clientId?: string;
  /** Default: `{}`. */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** Options of the passport mode: which strategy authenticates, and how its `req.user` becomes an identity. */
export interface PassportIdentityOptions {
  /** The passport strategy name(s), as for `AuthGuard(...)`; with several, the first that succeeds wins. */
  readonly strategy: string | readonly string[];
  /**
   * Maps the strategy's user (what its `validate()` returned) to an identity. May be async. Throwing an
   * `HttpException` with a 4xx status refuses with it (a 401 becomes `invalid_token`); anything else thrown, or a
   * malformed result, is a server fault: logged, and answered 503.
   */
  readonly toIdentity: (user: unknown, request: unknown) => PassportIdentity | Promise<PassportIdentity>;
  /**
   * Whether the request carried credentials at all, to tell "no credentials" (401 `Bearer realm=...` without an
   * error code) from "refused credentials" (401 `invalid_token`) when the strategies fail.
   * Default: an `Authorization` header is present. Extend it for API keys in other headers.
   */
  readonly hasCredentials?: (request: { headers: Record<string, string | string[] | undefined> }) => boolean;
}

export interface ResolvedPassportIdentity {
  readonly strategies: readonly string[];
  readonly toIdentity: PassportIdentityOptions['toIdentity'];
  readonly hasCredentials: NonNullable<PassportIdentityOptions['hasCredentials']>;
}

/** The description sent when a strategy refuses credentials: fixed text, never the strategy's own message. */
export const CREDENTIALS_REFUSED = 'The credentials were not accepted';

/** 503: the passport strategy or the identity mapping failed (a server fault). The request is denied. */
export class AuthenticationUnavailableException extends AuthzException {
  readonly challenge = false;
  override readonly retryAfter = 5;
  constructor() {
    super(HttpStatus.SERVICE_UNAVAILABLE, 'Authentication is unavailable; try again later');
  }
}

const defaultHasCredentials: ResolvedPassportIdentity['hasCredentials'] = (request) => {
  const header = request.headers?.authorization;
  return header !== undefined && header !== '';
};

/** Validates the passport mode's options at start; throws {@link AuthzConfigurationError} saying how to fix them. */
export function resolvePassportIdentity(options: unknown): ResolvedPassportIdentity {
  if (typeof options !== 'object' || options === null) {
    throw new AuthzConfigurationError('the passport options are missing.', "give PassportAuthzGuard.using({ strategy: 'jwt', toIdentity: (user) => ({ subject: user.sub }) }).");
  }
  const { strategy, toIdentity, hasCredentials } = options as Record<string, unknown>;
  const strategies = typeof strategy === 'string' ? [strategy] : Array.isArray(strategy) ? [...strategy] : undefined;
  if (!strategies || strategies.length === 0 || strategies.some((name) => typeof name !== 'string' || name.trim() === '')) {
    throw new AuthzConfigurationError(
      'option `passport.strategy` must be a strategy name or a non-empty list of names.',
      "name the passport strategy that sets req.user, as for AuthGuard(): e.g. strategy: 'jwt' or strategy: ['jwt', 'api-key'].",
    );
  }
  if (new Set(strategies).size !== strategies.length) {
    throw new AuthzConfigurationError('option `passport.strategy` names a strategy twice.', 'list each strategy once.');
  }
  if (typeof toIdentity !== 'function') {
    throw new AuthzConfigurationError(
      'option `passport.toIdentity` must be a function.',
      "map the strategy's user to an identity, e.g. toIdentity: (user) => ({ subject: user.id, scopes: user.scopes, roles: user.roles }).",
    );
  }
  if (hasCredentials !== undefined && typeof hasCredentials !== 'function') {
    throw new AuthzConfigurationError(
      'option `passport.hasCredentials` must be a function (or be left out).',
      "e.g. hasCredentials: (req) => req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined.",
    );
  }
  return Object.freeze({
    strategies: Object.freeze(strategies as string[]),
    toIdentity: toIdentity as ResolvedPassportIdentity['toIdentity'],
    hasCredentials: (hasCredentials as ResolvedPassportIdentity['hasCredentials'] | undefined) ?? defaultHasCredentials,
  });
}

/** What is wrong with a `toIdentity` result, or `undefined` if nothing is. Never names user data. */
export function identityProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not an object';
  const identity = value as Record<string, unknown>;
  if (typeof identity.subject !== 'string' || identity.subject === '') return '`subject` is not a non-empty string';
  if (identity.scopes !== undefined && typeof identity.scopes !== 'string' && !isNameList(identity.scopes)) return '`scopes` is not a string or a list of non-empty strings';
  if (identity.roles !== undefined && !isNameList(identity.roles)) return '`roles` is not a list of non-empty strings';
  if (identity.issuer !== undefined && (typeof identity.issuer !== 'string' || identity.issuer === '')) return '`issuer` is not a non-empty string';
  if (identity.audience !== undefined && typeof identity.audience !== 'string' && !isNameList(identity.audience)) return '`audience` is not a string or a list of non-empty strings';
  if (identity.clientId !== undefined && (typeof identity.clientId !== 'string' || identity.clientId === '')) return '`clientId` is not a non-empty string';
  if (identity.claims !== undefined && (typeof identity.claims !== 'object' || identity.claims === null || Array.isArray(identity.claims))) return '`claims` is not an object';
  return undefined;
}

/** A checked `toIdentity` result (see {@link identityProblem}) as a frozen {@link AuthzIdentity}. */
export function freezeIdentity(identity: PassportIdentity): AuthzIdentity {
  const scopes = typeof identity.scopes === 'string' ? identity.scopes.split(' ').filter((scope) => scope !== '') : (identity.scopes ?? []);
  const audience = typeof identity.audience === 'string' ? [identity.audience] : (identity.audience ?? []);
  return Object.freeze({
    subject: identity.subject,
    issuer: identity.issuer ?? 'passport',
    audience: Object.freeze([...audience]),
    ...(identity.clientId === undefined ? {} : { clientId: identity.clientId }),
    scopes: Object.freeze([...new Set(scopes)]),
    roles: Object.freeze([...new Set(identity.roles ?? [])]),
    claims: Object.freeze({ ...(identity.claims ?? {}) }),
  });
}

function isNameList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string' && entry !== '');
}

/** Thrown by the composed AuthGuard's `handleRequest` when every strategy failed (passport's `fail()`). */
export class StrategyFailure extends Error {
  constructor(readonly info: unknown) {
    super('every passport strategy failed');
  }
}

/**
 * Turns what passport reported into a refusal the guard answers by RFC 6750, never a 500:
 * - the library's own refusals (from `authz-jwt`) stay as they are;
 * - every strategy failed → 401: `invalid_token` if the request had credentials, else a bare challenge;
 * - an `HttpException` 401 from a strategy's `validate()` → 401 `invalid_token` (fixed text); other 4xx stay;
 * - anything else (a strategy's `error()`, an unknown strategy, a 5xx) → `undefined`: the caller logs it and answers 503.
 */
export function refusalOf(error: unknown, hasCredentials: boolean): HttpException | undefined {
  if (error instanceof AuthzException) return error;
  if (error instanceof StrategyFailure) {
    const infos = Array.isArray(error.info) ? error.info : [error.info];
    // The library's strategy says exactly why; prefer a token problem over "no token" when several strategies ran.
    const own = infos.filter((info): info is AuthzException => info instanceof AuthzException && info.getStatus() < 500);
    const specific = own.find((info) => !(info instanceof MissingCredentialsException)) ?? own[0];
    if (specific && (hasCredentials || !(specific instanceof MissingCredentialsException))) return specific;
    return hasCredentials ? withoutStack(() => new InvalidTokenException(CREDENTIALS_REFUSED)) : withoutStack(() => new MissingCredentialsException());
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    if (status === HttpStatus.UNAUTHORIZED) return withoutStack(() => new InvalidTokenException(CREDENTIALS_REFUSED));
    if (status >= 400 && status < 500) return error;
  }
  return undefined;
}
