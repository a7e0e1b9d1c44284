import { Inject, Injectable, Optional, type ExecutionContext, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import { AuthGuard, AuthModuleOptions, type IAuthGuard } from '@nestjs/passport';
import passport from 'passport';
import { AuthzConfigurationError, withoutStack } from '../authz.exceptions';
import { requestOf } from '../context/transports';
import { AuthzGuard } from '../guards/authz.guard';
import type { BearerRequest } from '../http/bearer-token';
import type { AuthzIdentity } from '../identity/identity';
import {
  AuthenticationUnavailableException,
  freezeIdentity,
  identityProblem,
  PASSPORT_IDENTITY,
  refusalOf,
  resolvePassportIdentity,
  StrategyFailure,
  type PassportIdentity,
  type PassportIdentityOptions,
  type ResolvedPassportIdentity,
} from './passport-identity';

/**
 * {@link AuthzGuard} with the identity taken from the app's own passport strategy instead of the built-in bearer
 * verifier: the strategy runs (as `AuthGuard(strategy)` would run it), its `req.user` is mapped by `toIdentity`,
 * then `@Scopes`, `@Permissions` and the PolicyService apply exactly as with the built-in verifier. `@Public()`
 * routes never run the strategy.
 *
 * Refusals: strategy failure → 401 with the RFC 6750 challenge (`invalid_token` when the request had credentials);
 * a strategy or mapping fault → logged, 503. Never a 500.
 *
 * @example
 * providers: [
 *   JwtStrategy, // the app's passport-jwt strategy, registered as 'jwt'
 *   { provide: APP_GUARD, useClass: PassportAuthzGuard.using({ strategy: 'jwt', toIdentity: (user: any) => ({ subject: user.sub, scopes: user.scope }) }) },
 * ]
 */
@Injectable()
export class PassportAuthzGuard extends AuthzGuard implements OnApplicationBootstrap {
  @Optional() @Inject(PASSPORT_IDENTITY) private readonly injectedOptions?: PassportIdentityOptions;
  /** `PassportModule.register(...)` options, if the app has them (`property`, ...), handed to the composed AuthGuard. */
  @Optional() @Inject(AuthModuleOptions) private readonly passportModuleOptions?: AuthModuleOptions;
  private resolved?: ResolvedPassportIdentity;
  private runner?: IAuthGuard;
  // The execution context of the request being authenticated: `authenticate()` gets only the request.
  private readonly contexts = new WeakMap<object, ExecutionContext>();

  /**
   * A guard class with `options` built in (validated now: bad options throw {@link AuthzConfigurationError}).
   *
   * @example
   * { provide: APP_GUARD, useClass: PassportAuthzGuard.using({ strategy: ['jwt', 'api-key'], toIdentity }) }
   */
  static using(options: PassportIdentityOptions): Type<PassportAuthzGuard> {
    const resolved = resolvePassportIdentity(options);
    @Injectable()
    class PassportAuthzGuardWithOptions extends PassportAuthzGuard {
      protected override passportOptions(): ResolvedPassportIdentity | undefined {
        return resolved;
      }
    }
    Object.defineProperty(PassportAuthzGuardWithOptions, 'name', { value: `PassportAuthzGuard(${resolved.strategies.join(', ')})` });
    return PassportAuthzGuardWithOptions;
  }

  /** Checks at start that options exist and every strategy is registered with passport. */
  onApplicationBootstrap(): void {
    const options = this.passportOptions();
    if (!options) throw missingOptions();
    const unknown = options.strategies.filter((name) => !isRegistered(name));
    if (unknown.length > 0) {
      throw new AuthzConfigurationError(
        `PassportAuthzGuard names passport strategies that are not registered: ${unknown.join(', ')}.`,
        'add the strategy classes to the providers of a module (a PassportStrategy registers itself when Nest creates it), or fix the names.',
      );
    }
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = requestOf(context);
    if (request) this.contexts.set(request, context);
    try {
      return await super.canActivate(context);
    } finally {
      if (request) this.contexts.delete(request);
    }
  }

  /** The options: from {@link using}, else from the {@link PASSPORT_IDENTITY} provider (validated once). */
  protected passportOptions(): ResolvedPassportIdentity | undefined {
    if (!this.resolved && this.injectedOptions) this.resolved = resolvePassportIdentity(this.injectedOptions);
    return this.resolved;
  }

  /** Runs the passport strategies and maps their user; replaces the bearer verification of {@link AuthzGuard}. */
  protected override async authenticate(request: BearerRequest): Promise<AuthzIdentity> {
    let options: ResolvedPassportIdentity | undefined;
    try {
      options = this.passportOptions();
    } catch (error) {
      return this.unavailable('the passport options are invalid', error);
    }
    if (!options) return this.unavailable('no passport options', missingOptions());
    const context = this.contexts.get(request);
    if (!context) return this.unavailable('authenticate() was called outside canActivate()');
    const user = await this.runStrategies(options, context, request);
    let mapped: PassportIdentity;
    try {
      mapped = await options.toIdentity(user, request);
    } catch (error) {
      const refusal = refusalOf(error, true);
      if (refusal && !(error instanceof StrategyFailure)) throw refusal;
      return this.unavailable('toIdentity threw', error);
    }
    const problem = identityProblem(mapped);
    if (problem) return this.unavailable(`toIdentity returned a malformed identity: ${problem}`);
    return freezeIdentity(mapped);
  }

  private async runStrategies(options: ResolvedPassportIdentity, context: ExecutionContext, request: BearerRequest): Promise<unknown> {
    const runner = (this.runner ??= composeAuthGuard(options.strategies, this.passportModuleOptions));
    try {
      await runner.canActivate(context);
    } catch (error) {
      const refusal = refusalOf(error, safely(() => options.hasCredentials(request)));
      if (refusal) throw refusal;
      return this.unavailable(`passport strategy ${options.strategies.join(', ')} failed`, error);
    }
    return (request as unknown as Record<string, unknown>)[this.passportModuleOptions?.property ?? 'user'];
  }

  private unavailable(what: string, error?: unknown): never {
    const detail = error === undefined ? '' : `: ${(error as Error)?.message ?? String(error)}`;
    this.logger.error(`${what}${detail}; denying with 503`, (error as Error)?.stack);
    throw withoutStack(() => new AuthenticationUnavailableException());
  }
}

/** `AuthGuard(strategies)` from @nestjs/passport, whose failures come out as errors the guard can classify. */
function composeAuthGuard(strategies: readonly string[], moduleOptions: AuthModuleOptions | undefined): IAuthGuard {
  const Base = AuthGuard(strategies.length === 1 ? strategies[0] : [...strategies]);
  class StrategyRunner extends Base {
    override handleRequest<TUser>(error: unknown, user: unknown, info: unknown): TUser {
      if (error) throw error;
      if (!user) throw new StrategyFailure(info);
      return user as TUser;
    }
  }
  return new StrategyRunner(moduleOptions);
}

function isRegistered(name: string): boolean {
  return (passport as unknown as { _strategy(name: string): unknown })._strategy(name) !== undefined;
}

function safely(check: () => boolean): boolean {
  try {
    return check() === true;
  } catch {
    return true;
  }
}

function missingOptions(): AuthzConfigurationError {
  return new AuthzConfigurationError(
    'PassportAuthzGuard has no options.',
    "use PassportAuthzGuard.using({ strategy, toIdentity }), or provide PASSPORT_IDENTITY ({ provide: PASSPORT_IDENTITY, useFactory: () => ({ strategy: 'jwt', toIdentity }) }).",
  );
}
