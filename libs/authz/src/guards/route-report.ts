import { Inject, Injectable, Logger, RequestMethod, type OnApplicationBootstrap } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { APP_GUARD, DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import type { AuthzConfig } from '../authz.config';
import { AuthzConfigurationError } from '../authz.exceptions';
import { AUTHZ_CONFIG } from '../authz.tokens';
import { DefaultPolicyService } from '../policy/default-policy.service';
import { InMemoryPolicyStore } from '../store/in-memory-policy-store';
import { PolicyStore } from '../store/policy-store';
import { PolicyService } from '../policy/policy.service';
import { AuthzGuard } from './authz.guard';
import { readRouteRequirements } from './route-requirements';

// Nest's own metadata keys for @Get()/@Post()/... (stable across Nest versions).
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';
/**
 * Handlers of the other transports the guard maps: @MessagePattern/@EventPattern, @SubscribeMessage, and GraphQL's
 * @Query/@Mutation/@Subscription/@ResolveField. Read by key, so that no transport package is loaded.
 */
const TRANSPORT_HANDLER_METADATA = ['microservices:pattern', 'message', 'graphql:resolver_type', 'graphql:resolve_property'];

/**
 * At start, reads every route's requirements once so that mistakes stop the app instead of failing requests (HTTP
 * routes, and the message, gateway and GraphQL handlers of controllers and providers):
 * `@Public()` mixed with requirements, `@Permissions()` without a policy, a policy the PolicyService does not know
 * (the built-in service on in-memory `policies`, or any service with `policyNames()`). Logs as warnings:
 * - the routes that declare nothing, which need only a valid token;
 * - routes with `@Scopes()`/`@Permissions()` that no AuthzGuard protects (no `APP_GUARD`, no
 *   `app.useGlobalGuards()`, no `@UseGuards(AuthzGuard)` on controller or handler): their requirements are never
 *   checked. A warning, not an error, because a guard of the app's own may call AuthzGuard in ways this cannot see;
 * - a PolicyService provided outside AuthzModule, so that two implementations answer.
 */
@Injectable()
export class RouteReport implements OnApplicationBootstrap {
  private readonly logger = new Logger('AuthzRoutes');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly store: PolicyStore,
    private readonly policies: PolicyService,
    @Inject(AUTHZ_CONFIG) private readonly config: AuthzConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const unannotated: string[] = [];
    const unguarded: string[] = [];
    const policyChecks: Array<{ policy: string; route: string }> = [];
    const globallyGuarded = this.hasGlobalAuthzGuard();
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Function | undefined;
      const prototype = controller?.prototype;
      if (!controller || !prototype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as Function;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const route = readRouteRequirements(this.reflector, handler, controller, this.config.defaultPolicy);
        if (route.permissions.length > 0) policyChecks.push({ policy: route.policy!, route: `${controller.name}.${name}` });
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number] ?? 'ALL';
        const requires = route.scopes.length > 0 || route.permissions.length > 0;
        if (!route.isPublic && !requires) unannotated.push(`${method} ${controller.name}.${name}`);
        if (requires && !globallyGuarded && !usesAuthzGuard(handler) && !usesAuthzGuard(controller)) unguarded.push(`${method} ${controller.name}.${name}`);
      }
    }
    policyChecks.push(...this.checkTransportHandlers());
    await this.checkPoliciesExist(policyChecks);
    if (unannotated.length > 0) {
      this.logger.warn(
        `${unannotated.length} route(s) declare neither @Public() nor @Scopes()/@Permissions(); AuthzGuard lets any valid token through them: ${unannotated.join(', ')}`,
      );
    }
    if (unguarded.length > 0) {
      this.logger.warn(
        `${unguarded.length} route(s) declare @Scopes()/@Permissions() but no AuthzGuard protects them, so anyone gets through, without a token: ${unguarded.join(', ')}. ` +
          'How to fix: add `{ provide: APP_GUARD, useClass: AuthzGuard }` to the providers of your AppModule (or @UseGuards(AuthzGuard) on those controllers).',
      );
    }
    this.warnOfOtherPolicyServices();
  }

  /**
   * Reads the requirements of every non-HTTP handler (controllers hold message handlers; gateways and resolvers are
   * providers), so that a mistake there also stops the app; returns the policies they check.
   */
  private checkTransportHandlers(): Array<{ policy: string; route: string }> {
    const checks: Array<{ policy: string; route: string }> = [];
    for (const wrapper of [...this.discovery.getControllers(), ...this.discovery.getProviders()]) {
      const type = wrapper.metatype as Function | undefined;
      const prototype = type?.prototype as Record<string, unknown> | undefined;
      if (!type || !prototype || wrapper.isNotMetatype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as Function;
        if (Reflect.getMetadata(PATH_METADATA, handler) !== undefined) continue;
        if (!TRANSPORT_HANDLER_METADATA.some((key) => Reflect.getMetadata(key, handler) !== undefined)) continue;
        const route = readRouteRequirements(this.reflector, handler, type, this.config.defaultPolicy);
        if (route.permissions.length > 0) checks.push({ policy: route.policy!, route: `${type.name}.${name}` });
      }
    }
    return checks;
  }

  private async checkPoliciesExist(checks: ReadonlyArray<{ policy: string; route: string }>): Promise<void> {
    if (checks.length === 0) return;
    const known = await this.knownPolicyNames();
    if (!known) return;
    for (const { policy, route } of checks) {
      if (known.names.includes(policy)) continue;
      throw new AuthzConfigurationError(
        `${route} checks permissions in policy '${policy}', which ${known.from} does not define.`,
        `add '${policy}' to ${known.addTo}, or fix the name in @Policy()/defaultPolicy.`,
      );
    }
  }

  /** The policies the PolicyService knows, if it can say: its `policyNames()`, or the in-memory `policies` of the built-in one. */
  private async knownPolicyNames(): Promise<{ names: readonly string[]; from: string; addTo: string } | undefined> {
    if (typeof this.policies.policyNames === 'function') {
      const service = this.policies.constructor.name;
      try {
        return { names: await this.policies.policyNames(), from: `${service}.policyNames()`, addTo: `the policies ${service} knows` };
      } catch (error) {
        // A remote service may be down at start; that must not keep the app from starting.
        this.logger.warn(`${service}.policyNames() failed (${(error as Error)?.message ?? String(error)}); @Policy() names are not checked at start.`);
        return undefined;
      }
    }
    // Only the default service itself is known to read this store; a custom one (or a subclass) may know other policies.
    if (this.policies.constructor === DefaultPolicyService && this.store instanceof InMemoryPolicyStore) {
      return { names: this.store.policyNames(), from: '`policies`', addTo: 'the `policies` option of AuthzModule' };
    }
    return undefined;
  }

  /** An AuthzGuard (or subclass) registered with APP_GUARD or `app.useGlobalGuards()`. */
  private hasGlobalAuthzGuard(): boolean {
    const providers = this.discovery.getProviders();
    if (providers.some((wrapper) => typeof wrapper.token === 'string' && wrapper.token.startsWith(APP_GUARD) && isAuthzGuardProvider(wrapper))) return true;
    // app.useGlobalGuards() leaves no provider; its guards are in the container's application config.
    const host = providers.find((wrapper) => wrapper.host)?.host as { container?: { applicationConfig?: GlobalGuards } } | undefined;
    const config = host?.container?.applicationConfig;
    return [...(config?.getGlobalGuards?.() ?? []), ...(config?.getGlobalRequestGuards?.() ?? []).map((wrapper) => wrapper.instance)].some(isAuthzGuard);
  }

  /** A PolicyService provided besides AuthzModule's own: the modules that see it get another implementation. */
  private warnOfOtherPolicyServices(): void {
    const others = this.discovery.getProviders().filter((wrapper) => wrapper.token === PolicyService && wrapper.instance !== this.policies);
    if (others.length === 0) return;
    const where = others.map((wrapper) => `${wrapper.host?.metatype?.name ?? 'a module'} (${describeProvider(wrapper)})`).join(', ');
    this.logger.warn(
      `PolicyService is provided in ${where} besides AuthzModule (${this.policies.constructor.name}): the guards and services of ${others.length === 1 ? 'that module' : 'those modules'} get another implementation than the rest of the app. ` +
        'How to fix: remove that provider and give your class to the module, `AuthzModule.forRoot({ ..., policyService: MyPolicyService })` ' +
        '(or forRootAsync({ ..., policyService })); in tests, `overrideProvider(PolicyService)` replaces it everywhere.',
    );
  }
}

interface GlobalGuards {
  getGlobalGuards?(): unknown[];
  getGlobalRequestGuards?(): Array<{ instance?: unknown }>;
}

function isAuthzGuard(guard: unknown): boolean {
  return guard instanceof AuthzGuard || guard === AuthzGuard || (typeof guard === 'function' && guard.prototype instanceof AuthzGuard);
}

function isAuthzGuardProvider(wrapper: InstanceWrapper): boolean {
  // A class provider may be request-scoped (no instance yet): its metatype tells.
  return isAuthzGuard(wrapper.instance) || (wrapper.inject === undefined && isAuthzGuard(wrapper.metatype));
}

/** `@UseGuards(AuthzGuard)` (or a subclass, or an instance of one) on a controller or handler. */
function usesAuthzGuard(target: Function): boolean {
  const guards = Reflect.getMetadata(GUARDS_METADATA, target) as unknown[] | undefined;
  return guards?.some(isAuthzGuard) ?? false;
}

function describeProvider(wrapper: InstanceWrapper): string {
  const instance = wrapper.instance as object | undefined;
  const name = instance?.constructor?.name ?? (wrapper.metatype as Function | undefined)?.name;
  return name && name !== 'Object' ? name : 'a value';
}
