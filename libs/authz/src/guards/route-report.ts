import { Inject, Injectable, Logger, RequestMethod, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { AuthzConfig } from '../authz.config';
import { AuthzConfigurationError } from '../authz.exceptions';
import { AUTHZ_CONFIG } from '../authz.tokens';
import { DefaultPolicyService } from '../policy/default-policy.service';
import { InMemoryPolicyStore } from '../store/in-memory-policy-store';
import { PolicyStore } from '../store/policy-store';
import { PolicyService } from '../policy/policy.service';
import { readRouteRequirements } from './route-requirements';

// Nest's own metadata keys for @Get()/@Post()/... (stable across Nest versions).
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';

/**
 * At start, reads every route's requirements once so that mistakes stop the app instead of failing requests:
 * `@Public()` mixed with requirements, `@Permissions()` without a policy, a policy the in-memory store does not
 * define. Logs the routes that declare nothing, which need only a valid token.
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

  onApplicationBootstrap(): void {
    const unannotated: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Function | undefined;
      const prototype = controller?.prototype;
      if (!controller || !prototype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as Function;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const route = readRouteRequirements(this.reflector, handler, controller, this.config.defaultPolicy);
        if (route.permissions.length > 0) this.checkPolicyExists(route.policy!, `${controller.name}.${name}`);
        if (!route.isPublic && route.scopes.length === 0 && route.permissions.length === 0) {
          const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number] ?? 'ALL';
          unannotated.push(`${method} ${controller.name}.${name}`);
        }
      }
    }
    if (unannotated.length > 0) {
      this.logger.warn(
        `${unannotated.length} route(s) declare neither @Public() nor @Scopes()/@Permissions(); AuthzGuard lets any valid token through them: ${unannotated.join(', ')}`,
      );
    }
  }

  private checkPolicyExists(policy: string, route: string): void {
    // Only the default service itself is known to read this store; a custom one (or a subclass) may know other policies.
    const readsStore = this.policies.constructor === DefaultPolicyService && this.store instanceof InMemoryPolicyStore;
    if (readsStore && !(this.store as InMemoryPolicyStore).policyNames().includes(policy)) {
      throw new AuthzConfigurationError(
        `${route} checks permissions in policy '${policy}', which \`policies\` does not define.`,
        `add '${policy}' to the \`policies\` option of AuthzModule, or fix the name in @Policy()/defaultPolicy.`,
      );
    }
  }
}
