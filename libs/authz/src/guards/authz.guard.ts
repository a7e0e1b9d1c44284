import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import type { AuthzConfig } from '../authz.config';
import { AuthzException, InsufficientScopeException, PermissionDeniedException, PolicyUnavailableException, withoutStack } from '../authz.exceptions';
import { AUTHZ_CONFIG } from '../authz.tokens';
import { BoundedCache } from '../cache/bounded-cache';
import type { CallMapperTools } from '../context/authz-call';
import { callOf } from '../context/transports';
import { extractBearerToken, hasQueryAccessToken, type BearerRequest } from '../http/bearer-token';
import type { AuthzIdentity } from '../identity/identity';
import { toIdentity } from '../identity/identity-mapper';
import { TokenVerifier } from '../jwt/token-verifier';
import type { VerifiedClaims } from '../jwt/verified-claims';
import { nameProblem } from '../policy/names';
import { PolicyService } from '../policy/policy.service';
import { DecisionDeadline } from './decision-deadline';
import { readRouteRequirements, type RouteRequirements } from './route-requirements';

/**
 * Deny-by-default guard: a route passes only if it is `@Public()`, or if its bearer token verifies, carries the
 * required scopes, and the PolicyService grants the required permissions. The identity is then on
 * `request.user` (see `@CurrentIdentity()`). Refusals follow RFC 6750 (see docs/security.md).
 *
 * Subclass it to change a step: override `authenticate`, `checkScopes` or `checkPermissions`.
 *
 * @example
 * // app.module.ts: protect every route of the app
 * providers: [{ provide: APP_GUARD, useClass: AuthzGuard }]
 */
@Injectable()
export class AuthzGuard implements CanActivate {
  protected readonly logger = new Logger('AuthzGuard');
  // Decorators are read once per route (handler and controller: an inherited handler can serve two controllers).
  private readonly routes = new WeakMap<Function, WeakMap<Function, RouteRequirements>>();
  // A remembered token yields the same frozen claims object each time, so it maps to the same identity. A bounded
  // map, not a WeakMap: a WeakMap insert cost about 1 µs per new token (ephemeron bookkeeping in the GC).
  private readonly identities?: BoundedCache<VerifiedClaims, AuthzIdentity>;
  // The distinct permissions of a route, computed once per route instead of once per request.
  private readonly neededByRoute = new WeakMap<RouteRequirements, string[]>();
  private readonly deadline: DecisionDeadline;
  // What the transport mappers need, made once rather than per call.
  private readonly tools: CallMapperTools;

  constructor(
    protected readonly reflector: Reflector,
    @Inject(AUTHZ_CONFIG) protected readonly config: AuthzConfig,
    protected readonly verifier: TokenVerifier,
    protected readonly policies: PolicyService,
    protected readonly adapterHost: HttpAdapterHost,
  ) {
    this.deadline = new DecisionDeadline(config.policyTimeoutMs);
    this.tools = { config, adapterHost, verifier };
    if (config.verifiedTokenCache) this.identities = new BoundedCache(config.verifiedTokenCache.maxEntries);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // A transport the library does not know is denied rather than let through unchecked.
    const call = callOf(context, this.tools);
    const route = this.requirementsOf(context);
    if (route.isPublic) return true;
    const { request } = call;
    // RFC 6750 §2.3: an answer to a request with the token in its URL must not be cached, whatever the outcome.
    if (call.queryTokens && hasQueryAccessToken(request)) call.setHeader('Cache-Control', 'no-store');
    try {
      const identity = await this.authenticate(request, call.queryTokens);
      // Each step may be overridden with an async one: a returned promise is always awaited, so a subclass's
      // rejection refuses the request instead of being dropped. The built-in steps answer synchronously when they can.
      const scoped = this.checkScopes(route, identity);
      if (scoped) await scoped;
      const decision = this.checkPermissions(route, identity, route.resource && this.resourceOf(route, request, context));
      if (decision) await decision;
      request.user = identity;
      return true;
    } catch (error) {
      if (error instanceof AuthzException) throw call.refuse(error);
      throw error;
    }
  }

  /**
   * Finds and verifies the bearer token and maps its claims to an identity. `queryTokens`: whether `?access_token=`
   * may be read (HTTP with `allowQueryToken`).
   */
  protected async authenticate(request: BearerRequest, queryTokens = this.config.allowQueryToken): Promise<AuthzIdentity> {
    const token = extractBearerToken(request, queryTokens);
    // Only a key download costs a turn of the event loop; remembered tokens and known keys are answered at once.
    const claims = this.verifier.verifyNow(token) ?? (await this.verifier.verify(token));
    let identity = this.identities?.get(claims);
    if (!identity) {
      identity = toIdentity(claims, this.config.claims);
      this.identities?.set(claims, identity);
    }
    return identity;
  }

  /** Throws 403 `insufficient_scope` for the first scope group the identity does not satisfy (an override may be async). */
  protected checkScopes(route: RouteRequirements, identity: AuthzIdentity): void | Promise<void> {
    for (const group of route.scopes) {
      const missing = group.names.filter((scope) => !identity.scopes.includes(scope));
      if (group.mode === 'all' && missing.length > 0) {
        throw withoutStack(() => new InsufficientScopeException(group.names, `The token lacks the scope(s): ${missing.join(' ')}`));
      }
      if (group.mode === 'any' && missing.length === group.names.length) {
        throw withoutStack(() => new InsufficientScopeException(group.names, `The token has none of the scopes: ${group.names.join(' ')}`));
      }
    }
  }

  /**
   * Asks the PolicyService (about `resource`, from the route's `@Resource()`); 403 naming the missing permissions,
   * 503 if it fails or exceeds `policyTimeoutMs`. Returns nothing when the route needs no permission or the service's
   * cached decisions grant them all.
   */
  protected checkPermissions(route: RouteRequirements, identity: AuthzIdentity, resource?: string): Promise<void> | void {
    if (route.permissions.length === 0) return;
    const policy = route.policy!;
    let needed = this.neededByRoute.get(route);
    if (!needed) this.neededByRoute.set(route, (needed = [...new Set(route.permissions.flatMap((group) => group.names))]));
    try {
      if (needed.every((permission) => this.policies.cachedDecision?.(policy, identity, permission, resource) === true)) return;
    } catch (error) {
      this.policyFailed(policy, identity, error);
    }
    return this.askPolicy(route, policy, needed, identity, resource);
  }

  /**
   * The resource the request is about. A value that is no valid name, or a resolver that throws, counts as none:
   * the decision then rests on type-wide grants, which never allow more.
   */
  private resourceOf(route: RouteRequirements, request: unknown, context: ExecutionContext): string | undefined {
    let resource: string | undefined;
    try {
      resource = route.resource!(request, context);
    } catch (error) {
      this.logger.error(`@Resource() of ${context.getClass().name}.${context.getHandler().name} threw; deciding on type-wide grants only`, (error as Error)?.stack ?? String(error));
      return undefined;
    }
    return nameProblem(resource, 'resource') === undefined ? resource : undefined;
  }

  private policyFailed(policy: string, identity: AuthzIdentity, error: unknown): never {
    // The built-in service reports its store's failures itself (business code gets the same exception).
    if (error instanceof PolicyUnavailableException) throw error;
    this.logger.error(`PolicyService failed for policy '${policy}', subject '${identity.subject}'; denying with 503`, (error as Error)?.stack ?? String(error));
    throw withoutStack(() => new PolicyUnavailableException(policy));
  }

  private async askPolicy(route: RouteRequirements, policy: string, needed: readonly string[], identity: AuthzIdentity, resource: string | undefined): Promise<void> {
    let granted: boolean[];
    try {
      // Aborted at the deadline, so that a slow backend is not left working for an answer nobody waits for.
      const controller = new AbortController();
      const options = resource === undefined ? { signal: controller.signal } : { signal: controller.signal, resource };
      const decision = Promise.all(needed.map((permission) => this.policies.hasPermission(policy, identity, permission, options)));
      granted = await this.deadline.race(decision, () => new Error(`policy '${policy}' gave no answer within ${this.config.policyTimeoutMs} ms`), controller);
    } catch (error) {
      this.policyFailed(policy, identity, error);
    }
    if (granted.every((answer) => answer === true)) return;
    const held = new Set(needed.filter((_, index) => granted[index] === true));
    for (const group of route.permissions) {
      const missing = group.names.filter((permission) => !held.has(permission));
      if (group.mode === 'all' ? missing.length > 0 : missing.length === group.names.length) {
        throw withoutStack(() => new PermissionDeniedException(policy, missing, group.mode, resource));
      }
    }
  }

  private requirementsOf(context: ExecutionContext): RouteRequirements {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.routes.get(handler);
    if (!byController) this.routes.set(handler, (byController = new WeakMap()));
    let route = byController.get(controller);
    if (!route) {
      route = readRouteRequirements(this.reflector, handler, controller, this.config.defaultPolicy);
      byController.set(controller, route);
    }
    return route;
  }
}
