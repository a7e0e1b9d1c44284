// `nestjs-authz/openapi`: writes what the decorators require into an @nestjs/swagger document. An entry point of its
// own, so that apps without @nestjs/swagger (an optional peer) never load it; it uses only swagger's types at run time.
export { applyAuthzToOpenApi } from './apply-authz-to-openapi';
export type { AuthzOpenApiOptions, AuthzPermissionsExtension } from './apply-authz-to-openapi';
export { scopeAlternatives } from './scope-alternatives';
