import type { Reflector } from '@nestjs/core';
import { PERMISSIONS_KEY, POLICY_KEY, PUBLIC_KEY, SCOPES_KEY } from '../authz.constants';
import { AuthzConfigurationError } from '../authz.exceptions';
import type { RequirementGroup } from '../decorators/requirement';

/** What a route asks of a caller, from its decorators. */
export interface RouteRequirements {
  readonly isPublic: boolean;
  readonly scopes: readonly RequirementGroup[];
  readonly permissions: readonly RequirementGroup[];
  /** `@Policy()` of the handler, else of the class, else the module's default. */
  readonly policy?: string;
}

/**
 * Reads a route's decorators. Rule: `@Public()` on handler or class makes the route public; scope and
 * permission groups of class and handler add up (all must hold); the handler's `@Policy()` wins over the class's.
 */
export function readRouteRequirements(reflector: Reflector, handler: Function, controller: Function, defaultPolicy: string | undefined): RouteRequirements {
  const targets = [handler, controller];
  const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true;
  const scopes = reflector.getAllAndMerge<RequirementGroup[]>(SCOPES_KEY, targets) ?? [];
  const permissions = reflector.getAllAndMerge<RequirementGroup[]>(PERMISSIONS_KEY, targets) ?? [];
  const policy = reflector.getAllAndOverride<string>(POLICY_KEY, targets) ?? defaultPolicy;
  const route = `${controller.name}.${handler.name}`;
  if (isPublic && (scopes.length > 0 || permissions.length > 0)) {
    throw new AuthzConfigurationError(
      `${route} is @Public() and also has @Scopes() or @Permissions().`,
      'remove @Public() to protect the route, or remove the requirements (a public route checks no token).',
    );
  }
  if (permissions.length > 0 && policy === undefined) {
    throw new AuthzConfigurationError(
      `${route} has @Permissions() but no policy to check them in.`,
      "add @Policy('<name>') to the handler or controller, or set `defaultPolicy` in AuthzModule.forRoot().",
    );
  }
  return Object.freeze({ isPublic, scopes, permissions, policy });
}
