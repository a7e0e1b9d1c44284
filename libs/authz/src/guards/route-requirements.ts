import type { Reflector } from '@nestjs/core';
import { PERMISSIONS_KEY, POLICY_KEY, PUBLIC_KEY, RESOURCE_KEY, SCOPES_KEY } from '../authz.constants';
import { AuthzConfigurationError } from '../authz.exceptions';
import type { RequirementGroup } from '../decorators/requirement';
import type { ResourceResolver } from '../decorators/resource.decorator';

/** What a route asks of a caller, from its decorators. */
export interface RouteRequirements {
  readonly isPublic: boolean;
  readonly scopes: readonly RequirementGroup[];
  readonly permissions: readonly RequirementGroup[];
  /** `@Policy()` of the handler, else of the class, else the module's default. */
  readonly policy?: string;
  /** `@Resource()` of the handler, else of the class: where the permissions' resource comes from. */
  readonly resource?: ResourceResolver;
}

/**
 * Reads a route's decorators. Rule: `@Public()` on handler or class makes the route public; scope and
 * permission groups of class and handler add up (all must hold); the handler's `@Policy()` and `@Resource()` win over
 * the class's.
 *
 * Inheritance: a controller that extends another keeps the base class's scope and permission groups and adds its
 * own (a subclass can require more, never less); `@Policy()`, `@Resource()` and `@Public()` of the nearest class that
 * has one apply.
 */
export function readRouteRequirements(reflector: Reflector, handler: Function, controller: Function, defaultPolicy: string | undefined): RouteRequirements {
  const targets = [handler, controller];
  const isPublic = reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true;
  const scopes = [...ownGroups(SCOPES_KEY, handler), ...classGroups(SCOPES_KEY, controller)];
  const permissions = [...ownGroups(PERMISSIONS_KEY, handler), ...classGroups(PERMISSIONS_KEY, controller)];
  const policy = reflector.getAllAndOverride<string>(POLICY_KEY, targets) ?? defaultPolicy;
  const resource = reflector.getAllAndOverride<ResourceResolver | undefined>(RESOURCE_KEY, targets);
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
  // On a class it applies to the routes that check permissions; on a handler without any it is a mistake.
  if (Reflect.hasOwnMetadata(RESOURCE_KEY, handler) && permissions.length === 0) {
    throw new AuthzConfigurationError(
      `${route} has @Resource() but no @Permissions() to check on it.`,
      "add @Permissions('<permission>') to the handler or controller, or remove @Resource().",
    );
  }
  return Object.freeze({ isPublic, scopes, permissions, policy, resource: permissions.length > 0 ? resource : undefined });
}

function ownGroups(key: string, target: Function): RequirementGroup[] {
  return (Reflect.getOwnMetadata(key, target) as RequirementGroup[] | undefined) ?? [];
}

/** The groups of a controller and of every class it extends, its own first. */
function classGroups(key: string, controller: Function): RequirementGroup[] {
  const groups: RequirementGroup[] = [];
  for (let type: Function | null = controller; type && type !== Function.prototype; type = Object.getPrototypeOf(type) as Function | null) {
    groups.push(...ownGroups(key, type));
  }
  return groups;
}
