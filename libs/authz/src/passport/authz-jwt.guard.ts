import { Inject, Injectable, Logger, Optional, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AuthGuard, AuthModuleOptions } from '@nestjs/passport';
import type { AuthzConfig } from '../authz.config';
import { AuthzException, withoutStack } from '../authz.exceptions';
import { AUTHZ_CONFIG } from '../authz.tokens';
import type { CallMapperTools } from '../context/authz-call';
import { callOf } from '../context/transports';
import { TokenVerifier } from '../jwt/token-verifier';
import { hasQueryAccessToken } from '../http/bearer-token';
import { AUTHZ_JWT, AuthenticationUnavailableException, refusalOf, StrategyFailure } from './passport-identity';

/**
 * `AuthGuard('authz-jwt')` with the library's answers: 401 with the RFC 6750 `WWW-Authenticate` challenge and the
 * verifier's exact `error_description`, 400 `invalid_request` for a broken `Authorization` header, 503 with
 * `Retry-After` when the signing keys cannot be had. A bare `AuthGuard('authz-jwt')` refuses the same tokens, but
 * with @nestjs/passport's bare `UnauthorizedException` (no challenge header).
 *
 * @example
 * \@UseGuards(AuthzJwtGuard)
 * \@Get('me')
 * me(@CurrentIdentity() identity: AuthzIdentity) { return identity.subject; }
 */
@Injectable()
export class AuthzJwtGuard extends AuthGuard(AUTHZ_JWT) {
  private readonly logger = new Logger('AuthzJwtGuard');
  private readonly tools: CallMapperTools;

  constructor(
    @Inject(AUTHZ_CONFIG) config: AuthzConfig,
    adapterHost: HttpAdapterHost,
    verifier: TokenVerifier,
    @Optional() options?: AuthModuleOptions,
  ) {
    super(options);
    this.tools = { config, adapterHost, verifier };
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const call = callOf(context, this.tools);
    if (call.queryTokens && hasQueryAccessToken(call.request)) call.setHeader('Cache-Control', 'no-store');
    try {
      return (await super.canActivate(context)) as boolean;
    } catch (error) {
      let refusal = refusalOf(error, true);
      if (!refusal) {
        this.logger.error(`The authz-jwt strategy failed: ${(error as Error)?.message ?? String(error)}; denying with 503`, (error as Error)?.stack);
        refusal = withoutStack(() => new AuthenticationUnavailableException());
      }
      throw refusal instanceof AuthzException ? call.refuse(refusal) : refusal;
    }
  }

  override handleRequest<TUser>(error: unknown, user: unknown, info: unknown): TUser {
    if (error) throw error;
    if (!user) throw new StrategyFailure(info);
    return user as TUser;
  }
}
