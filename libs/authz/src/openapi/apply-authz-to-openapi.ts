import type { INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { OAuthFlowObject, OAuthFlowsObject, OpenAPIObject, OperationObject, ResponseObject, SecuritySchemeObject } from '@nestjs/swagger';
import type { AuthzConfig } from '../authz.config';
import { AuthzConfigurationError } from '../authz.exceptions';
import { AUTHZ_CONFIG } from '../authz.tokens';
import type { RequirementGroup } from '../decorators/requirement';
import { readRouteRequirements, type RouteRequirements } from '../guards/route-requirements';
import { appRoutes, type AppRoute } from './app-routes';
import { scopeAlternatives } from './scope-alternatives';

/**
 * Options of {@link applyAuthzToOpenApi}.
 *
 * @example
 * const options: AuthzOpenApiOptions = { scheme: 'bearer', schemeName: 'jwt', ignoreGlobalPrefix: false };
 * applyAuthzToOpenApi(app, document, options);
 */
export interface AuthzOpenApiOptions {
  /**
   * How the document names the token: `'bearer'` (an HTTP bearer scheme, the default) or `'oauth2'` (an OAuth 2.0
   * scheme, whose scopes Swagger UI can request).
   */
  scheme?: 'bearer' | 'oauth2';
  /** Key of the scheme in `components.securitySchemes` and in every `security` requirement. Default: the `scheme`. */
  schemeName?: string;
  /**
   * The OAuth 2.0 flows, when `scheme` is `'oauth2'` and the document has no scheme of that name yet (e.g. from
   * `DocumentBuilder.addOAuth2()`). Scopes the routes use are added to every flow's `scopes` if missing.
   */
  flows?: OAuthFlowsObject;
  /** The policy of routes with `@Permissions()` but no `@Policy()`. Default: `defaultPolicy` of the app's AuthzModule. */
  defaultPolicy?: string;
  /** Pass the same value as to `SwaggerModule.createDocument()`. Default: `false`. */
  ignoreGlobalPrefix?: boolean;
  /** Append a sentence on the route's requirements to each operation's `description`. Default: `true`. */
  describe?: boolean;
  /**
   * What to do with an operation of the document that matches no controller route (so its requirements are
   * unknown): `'throw'` (the default) or `'ignore'` (leave it as it is).
   */
  unmatched?: 'throw' | 'ignore';
}

/**
 * `x-authz-permissions` of an operation whose route has `@Permissions()`.
 *
 * @example
 * // @Policy('note') @Permissions('CanEdit') @Resource('id') @Patch(':id') gives:
 * const extension: AuthzPermissionsExtension = {
 *   policy: 'note',
 *   groups: [{ mode: 'all', names: ['CanEdit'] }],
 *   resource: { from: 'param', name: 'id' },
 * };
 */
export interface AuthzPermissionsExtension {
  /** The policy the permissions are checked in. */
  policy: string;
  /** Every group must hold: `all` of its names, or `any` one of them. */
  groups: Array<{ mode: 'all' | 'any'; names: string[] }>;
  /** Where the resource comes from (`@Resource()`): a path parameter, or a function of the request. */
  resource?: { from: 'param'; name: string } | { from: 'request' };
}

// Operations carry extensions besides the fields OperationObject declares.
type Operation = OperationObject & Record<`x-${string}`, unknown>;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'search', 'query'];

/**
 * Writes what the nestjs-authz decorators require into an OpenAPI document made by `SwaggerModule.createDocument()`,
 * following the guard's own rules (class and handler requirements add up, inheritance, `@Public()`):
 *
 * - `security` of every operation: `[]` for `@Public()` routes; otherwise one requirement object per alternative set
 *   of scopes (`@Scopes('a')` with `@Scopes.anyOf('b', 'c')` gives `[{ bearer: ['a', 'b'] }, { bearer: ['a', 'c'] }]`),
 *   and `[{ bearer: [] }]` for routes that need a valid token only. With `'bearer'` on OpenAPI 3.0, where only
 *   OAuth 2.0 schemes may list scopes, the arrays stay empty and `x-authz-scopes` lists the alternatives.
 * - `x-authz-scopes` (the alternative scope sets) and `x-authz-permissions` (policy, permission groups, resource).
 * - responses `401` (with `WWW-Authenticate`), `403` when the route requires scopes or permissions, and `503`
 *   (with `Retry-After`), unless the operation documents that status itself.
 * - the security scheme in `components.securitySchemes`, if absent.
 *
 * Changes `document` in place and returns it. Throws an AuthzConfigurationError for the mistakes that stop the app at
 * start (`@Public()` with requirements, `@Permissions()` without a policy), and, unless `unmatched: 'ignore'`, when an
 * operation matches no route.
 *
 * @example
 * const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('Notes').build());
 * applyAuthzToOpenApi(app, document, {
 *   scheme: 'oauth2',
 *   flows: { authorizationCode: { authorizationUrl: 'https://id.example.com/authorize', tokenUrl: 'https://id.example.com/token', scopes: {} } },
 * });
 * SwaggerModule.setup('docs', app, document);
 */
export function applyAuthzToOpenApi(app: INestApplication, document: OpenAPIObject, options: AuthzOpenApiOptions = {}): OpenAPIObject {
  const scheme = options.scheme ?? 'bearer';
  if (scheme !== 'bearer' && scheme !== 'oauth2') {
    throw new AuthzConfigurationError(`applyAuthzToOpenApi() was given scheme ${JSON.stringify(scheme)}.`, "use 'bearer' or 'oauth2'.");
  }
  const schemeName = options.schemeName ?? scheme;
  const scopesInRequirements = scheme === 'oauth2' || isOpenApi31OrLater(document.openapi);
  const defaultPolicy = options.defaultPolicy ?? moduleDefaultPolicy(app);
  const reflector = new Reflector();

  const routes = new Map<string, AppRoute>();
  for (const route of appRoutes(app, options.ignoreGlobalPrefix ?? false)) routes.set(`${route.method} ${route.path}`, route);

  const usedScopes = new Set<string>();
  const unmatched: string[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (!operation || typeof operation !== 'object') continue;
      const route = routes.get(`${method} ${path}`);
      if (!route) {
        unmatched.push(`${method.toUpperCase()} ${path}`);
        continue;
      }
      const requirements = readRouteRequirements(reflector, route.handler, route.controller, defaultPolicy);
      const alternatives = describeOperation(operation, requirements, { schemeName, scopesInRequirements, describe: options.describe ?? true });
      alternatives.flat().forEach((name) => usedScopes.add(name));
    }
  }
  if (unmatched.length > 0 && (options.unmatched ?? 'throw') === 'throw') {
    throw new AuthzConfigurationError(
      `applyAuthzToOpenApi() found no controller route for ${unmatched.join(', ')}, so it cannot tell what they require.`,
      'pass the app the document was created from, and the same ignoreGlobalPrefix as to SwaggerModule.createDocument(); or pass unmatched: \'ignore\' to leave such operations as they are.',
    );
  }
  addSecurityScheme(document, scheme, schemeName, options.flows, usedScopes);
  return document;
}

interface DescribeOptions {
  schemeName: string;
  scopesInRequirements: boolean;
  describe: boolean;
}

/** Sets one operation's security, extensions, responses and description; returns its alternative scope sets. */
function describeOperation(operation: Operation, route: RouteRequirements, options: DescribeOptions): string[][] {
  if (route.isPublic) {
    operation.security = [];
    return [];
  }
  const { schemeName } = options;
  // Source order, outermost first: base class, class, then the handler's decorators top to bottom.
  const scopeGroups = [...route.scopes].reverse();
  const permissionGroups = [...route.permissions].reverse();
  const alternatives = scopeAlternatives(scopeGroups);
  operation.security = options.scopesInRequirements ? alternatives.map((scopes) => ({ [schemeName]: scopes })) : [{ [schemeName]: [] }];
  if (scopeGroups.length > 0) operation['x-authz-scopes'] = alternatives;
  if (permissionGroups.length > 0) {
    const extension: AuthzPermissionsExtension = { policy: route.policy!, groups: permissionGroups.map((group) => ({ mode: group.mode, names: [...group.names] })) };
    const resource = resourceOf(route);
    if (resource) extension.resource = resource;
    operation['x-authz-permissions'] = extension;
  }

  const responses = (operation.responses ??= {});
  responses['401'] ??= {
    description: 'Unauthorized: the bearer token is missing, expired, badly signed or not meant for this API.',
    headers: { 'WWW-Authenticate': { description: 'The RFC 6750 bearer challenge, e.g. `Bearer realm="api", error="invalid_token"`.', schema: { type: 'string' } } },
  } satisfies ResponseObject;
  if (scopeGroups.length > 0 || permissionGroups.length > 0) {
    const reasons: string[] = [];
    if (scopeGroups.length > 0) reasons.push(`the token lacks the required scopes (\`insufficient_scope\`, the scopes named in \`WWW-Authenticate\`)`);
    if (permissionGroups.length > 0) reasons.push(`policy '${route.policy}' does not grant the required permissions (named in the body)`);
    responses['403'] ??= {
      description: `Forbidden: ${reasons.join(', or ')}.`,
      ...(scopeGroups.length > 0
        ? { headers: { 'WWW-Authenticate': { description: 'On missing scopes: `Bearer realm="api", error="insufficient_scope", scope="..."`.', schema: { type: 'string' } } } }
        : {}),
    } satisfies ResponseObject;
  }
  responses['503'] ??= {
    description:
      permissionGroups.length > 0
        ? `Service Unavailable: the identity provider's signing keys could not be fetched, or policy '${route.policy}' could not be evaluated; try again later.`
        : "Service Unavailable: the identity provider's signing keys could not be fetched; try again later.",
    headers: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } },
  } satisfies ResponseObject;

  if (options.describe) {
    const sentence = requirementSentence(scopeGroups, permissionGroups, route);
    operation.description = operation.description ? `${operation.description}\n\n${sentence}` : sentence;
  }
  return alternatives;
}

function resourceOf(route: RouteRequirements): AuthzPermissionsExtension['resource'] {
  if (!route.resource) return undefined;
  const name = route.resource.name;
  return name.startsWith('param:') ? { from: 'param', name: name.slice('param:'.length) } : { from: 'request' };
}

/** E.g. "Authorization: a bearer token with scope `a` and one of `b`, `c`; policy 'note' must grant `CanEdit` on the resource in path parameter `id`." */
function requirementSentence(scopes: readonly RequirementGroup[], permissions: readonly RequirementGroup[], route: RouteRequirements): string {
  let sentence = '**Authorization:** a valid bearer token';
  if (scopes.length > 0) sentence += ` with ${listGroups(scopes, 'scope')}`;
  if (permissions.length > 0) {
    const resource = resourceOf(route);
    const on = !resource ? '' : resource.from === 'param' ? ` on the resource in path parameter \`${resource.name}\`` : ' on the resource the request names';
    sentence += `; policy '${route.policy}' must grant ${listGroups(permissions, 'permission')}${on}`;
  }
  return `${sentence}.`;
}

function listGroups(groups: readonly RequirementGroup[], noun: string): string {
  const code = (names: readonly string[]) => names.map((name) => `\`${name}\``).join(', ');
  return groups
    .map((group) => {
      if (group.names.length === 1) return `${noun} ${code(group.names)}`;
      return group.mode === 'all' ? `${noun}s ${code(group.names)}` : `one of ${code(group.names)}`;
    })
    .join(' and ');
}

function addSecurityScheme(document: OpenAPIObject, scheme: 'bearer' | 'oauth2', schemeName: string, flows: OAuthFlowsObject | undefined, usedScopes: ReadonlySet<string>): void {
  const components = (document.components ??= {});
  const schemes = (components.securitySchemes ??= {});
  if (!schemes[schemeName]) {
    if (scheme === 'bearer') {
      schemes[schemeName] = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' };
    } else {
      if (!flows) {
        throw new AuthzConfigurationError(
          `the document has no security scheme '${schemeName}', and applyAuthzToOpenApi() was given no OAuth 2.0 flows to create it.`,
          "pass flows, e.g. { authorizationCode: { authorizationUrl, tokenUrl, scopes: {} } }, or add the scheme with new DocumentBuilder().addOAuth2({ type: 'oauth2', flows }, name).",
        );
      }
      schemes[schemeName] = { type: 'oauth2', flows };
    }
  }
  const declared = schemes[schemeName] as SecuritySchemeObject;
  if (declared.type !== 'oauth2' || !declared.flows) return;
  // Every scope a requirement names must be one of the flows' scopes. Copies, never changes, the objects given to
  // DocumentBuilder (they may be shared with other documents).
  const withScopes = (flow: OAuthFlowObject): OAuthFlowObject => {
    const scopes = { ...flow.scopes };
    for (const name of usedScopes) if (!(name in scopes)) scopes[name] = '';
    return { ...flow, scopes };
  };
  const flowsWithScopes = Object.fromEntries(Object.entries(declared.flows).map(([kind, flow]) => [kind, flow ? withScopes(flow as OAuthFlowObject) : flow]));
  schemes[schemeName] = { ...declared, flows: flowsWithScopes };
}

function moduleDefaultPolicy(app: INestApplication): string | undefined {
  try {
    return app.get<AuthzConfig>(AUTHZ_CONFIG, { strict: false }).defaultPolicy;
  } catch {
    // No AuthzModule in the app: only routes with @Policy() can then name their policy.
    return undefined;
  }
}

function isOpenApi31OrLater(version: string | undefined): boolean {
  const [major, minor] = (version ?? '3.0.0').split('.').map(Number);
  return major > 3 || (major === 3 && minor >= 1);
}
