import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { AuthzConfig } from '../authz.config';
import { AuthzException } from '../authz.exceptions';
import { AUTHZ_CONFIG } from '../authz.tokens';
import { BoundedCache } from '../cache/bounded-cache';
import { extractBearerToken, type BearerRequest } from '../http/bearer-token';
import type { AuthzIdentity } from '../identity/identity';
import { toIdentity } from '../identity/identity-mapper';
import { TokenVerifier } from '../jwt/token-verifier';
import type { VerifiedClaims } from '../jwt/verified-claims';
import { AUTHZ_JWT } from './passport-identity';

type Done = (error: unknown, user?: unknown, info?: unknown) => void;

/** What passport adds to a strategy for one attempt (it runs `authenticate` on `Object.create(strategy)`). */
interface Attempt {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(error: unknown): void;
}

/**
 * A passport strategy (the `passport-strategy` contract: `name` and `authenticate(req)`) that verifies the bearer
 * token with the library's own {@link TokenVerifier}, so every rule of the built-in guard holds by construction:
 * the RFC 6750 extractor, the algorithm allow-list, `iss`/`aud`/`typ`/`crit`/time rules, and keys only from the
 * module's {@link KeySet} (KeyObjects converted once, cooldown and bounds on downloads). Not passport-jwt: its
 * jsonwebtoken accepts what the verifier refuses (no `exp`/`sub`, a future `iat`, unknown `crit`, `typ: JWT`).
 */
export class AuthzBearerStrategy {
  readonly name = AUTHZ_JWT;
  private readonly identities?: BoundedCache<VerifiedClaims, AuthzIdentity>;

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly config: AuthzConfig,
    private readonly verify: (identity: AuthzIdentity, done: Done) => void,
  ) {
    if (config.verifiedTokenCache) this.identities = new BoundedCache(config.verifiedTokenCache.maxEntries);
  }

  authenticate(this: AuthzBearerStrategy & Attempt, request: BearerRequest): void {
    let claims: VerifiedClaims | undefined;
    let token: string;
    try {
      token = extractBearerToken(request, this.config.allowQueryToken);
      claims = this.verifier.verifyNow(token);
    } catch (error) {
      return this.refuse(error);
    }
    if (claims) return this.accept(claims);
    this.verifier.verify(token).then(
      (verified) => this.accept(verified),
      (error: unknown) => this.refuse(error),
    );
  }

  private accept(this: AuthzBearerStrategy & Attempt, claims: VerifiedClaims): void {
    let identity = this.identities?.get(claims);
    if (!identity) {
      identity = toIdentity(claims, this.config.claims);
      this.identities?.set(claims, identity);
    }
    this.verify(identity, (error, user, info) => {
      if (error) this.error(error);
      else if (!user) this.fail(info, 401);
      else this.success(user, info);
    });
  }

  /**
   * A refusal of the token is passport's `fail()` (the next strategy of a list may still succeed), with the
   * library's exception as the challenge so that {@link AuthzJwtGuard} answers by RFC 6750; a key-set outage (503)
   * is `error()`: it ends the attempt.
   */
  private refuse(this: AuthzBearerStrategy & Attempt, error: unknown): void {
    if (error instanceof AuthzException && error.getStatus() < 500) this.fail(error, error.getStatus());
    else this.error(error);
  }
}

/**
 * The library's hardened bearer-JWT strategy, registered with passport as `'authz-jwt'`: `AuthGuard('authz-jwt')`
 * (or {@link AuthzJwtGuard}, which adds the RFC 6750 headers) on the routes that want it. It uses the
 * TokenVerifier, KeySet and claim mapping of `AuthzModule`, so the module must be imported (it is global by default).
 * `validate(identity)` returns the identity as `req.user`; override it to look the user up or to refuse (return
 * `null`/`false`, or throw an `HttpException`).
 *
 * @example
 * \@Module({ imports: [AuthzModule.forRoot({ issuer, audience: 'notes-api' })], providers: [AuthzJwtStrategy] })
 * // in a controller
 * \@UseGuards(AuthzJwtGuard) \@Get('me') me(@CurrentIdentity() identity: AuthzIdentity) { ... }
 */
@Injectable()
export class AuthzJwtStrategy extends PassportStrategy(AuthzBearerStrategy, AUTHZ_JWT) {
  constructor(verifier: TokenVerifier, @Inject(AUTHZ_CONFIG) config: AuthzConfig) {
    super(verifier, config);
  }

  validate(identity: AuthzIdentity): unknown {
    return identity;
  }
}
