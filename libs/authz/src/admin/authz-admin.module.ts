import { Module, type DynamicModule } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { AUTHZ_ADMIN_CONFIG } from './admin.constants';
import { AdminBootstrap } from './admin-bootstrap';
import { AdminExceptionFilter } from './admin-exception.filter';
import { AdminPlatformCheck } from './admin-platform-check';
import { AuditController } from './audit.controller';
import { ConsoleController } from './console/console.controller';
import { ConsoleFiles } from './console/console-files';
import { resolveAdminConfig, type AuthzAdminOptions } from './authz-admin.options';
import { ETagWriter } from './etag-writer';
import { PoliciesController } from './policies.controller';
import { PolicyAdmin } from './policy-admin.service';
import { ResourcesController } from './resources.controller';
import { RolesController } from './roles.controller';
import { SubjectsController } from './subjects.controller';

/**
 * The admin API of the policy store, mounted under `path` (default `authz`): policies, roles, identity roles,
 * subject grants, resource grants (roles held on one resource), explanations and the audit trail, as JSON:
 *
 * | Route (under `/<path>`) | Answer |
 * | --- | --- |
 * | `GET /policies` | `{ policies: [{ name, revision }] }` |
 * | `GET /policies/:policy` | `{ name, revision, document }`, `ETag` |
 * | `PUT /policies/:policy` (body: a policy document) | `{ name, revision, changed }`, `ETag` |
 * | `PUT`/`DELETE /policies/:policy/subjects/:subject/roles/:role` | 204, `ETag` |
 * | `PUT`/`DELETE /policies/:policy/subjects/:subject/permissions/:permission` | 204, `ETag` |
 * | `GET /policies/:policy/subjects/:subject` | `{ policy, subject, revision, roles, permissions }`, `ETag` |
 * | `PUT /policies/:policy/roles/:role` (body `{ permissions }`), `DELETE` | 204, `ETag` (409 while in use) |
 * | `PUT /policies/:policy/identity-roles/:identityRole` (body `{ roles }`), `DELETE` | 204, `ETag` |
 * | `GET /policies/:policy/resources/:resource` | `{ policy, resource, revision, subjects: { [subject]: roles } }`, `ETag` |
 * | `PUT`/`DELETE /policies/:policy/resources/:resource/subjects/:subject/roles/:role` | 204, `ETag` |
 * | `DELETE /policies/:policy/resources/:resource` (drops every grant on it) | 204, `ETag` |
 * | `GET /policies/:policy/subjects/:subject/resources?after=&limit=` | `{ policy, subject, resources: [{ resource, roles }], next? }` |
 * | `GET /policies/:policy/explain?subject=&permission=&roles=&resource=` | `{ allowed, resource?, because: GrantPath[] }` |
 * | `GET /policies/:policy/roles` | `{ policy, revision, roles, identityRoles }` (no subjects), `ETag` |
 * | `GET /policies/:policy/subjects?prefix=&after=&limit=` | `{ policy, revision, subjects: [{ subject, roles, permissions }], next? }` |
 * | `GET /audit?policy=&subject=&resource=&order=&after=&before=&limit=` | `{ entries, next? }` |
 * | `GET /console/` (with the `console` option) | the policy console, public; it calls this API with the signed-in user's token |
 *
 * Errors: 400 `{ statusCode, error, message, field }` naming the field, 404 unknown policy or role, 409 revision
 * conflict or role in use, 503 with `Retry-After` when the store fails; never a 500.
 *
 * Guarded by this library whether or not the app has an `APP_GUARD`: every route needs a token with the scope
 * `authz:admin` whose subject holds `CanAdminister` in policy `authz`. `administrators` creates that policy on the
 * first start (see {@link AdminBootstrap}); without it, policy `authz` must come from the store or `policies`.
 *
 * Needs `AuthzModule.forRoot()` (global, the default) for the PolicyStore, the guard and the PolicyService. Every
 * write is one audited store edit whose actor is the caller's subject; `If-Match: "<revision>"` makes it
 * conditional (409 on a change in between). On Fastify, raise `maxParamLength` (see {@link AdminPlatformCheck}).
 * Bodies are limited by the platform's JSON parser (Express: 100 kB, Fastify: 1 MiB by default; 413 above).
 *
 * `register()` is synchronous on purpose: the path must be known when routes are mounted.
 *
 * @example
 * \@Module({
 *   imports: [
 *     AuthzModule.forRoot({ issuer, audience: 'notes-api', policyStore }),
 *     AuthzAdminModule.register({ path: 'admin/authz', administrators: ['carol'] }),
 *   ],
 * })
 * export class AppModule {}
 * // PUT /admin/authz/policies/note/subjects/susan/roles/reader → 204
 * // PUT /admin/authz/policies/note/resources/42/subjects/susan/roles/owner → 204
 */
@Module({})
export class AuthzAdminModule {
  /**
   * The admin API under `options.path`; validates the options at once (AuthzConfigurationError naming the option).
   *
   * @example
   * AuthzAdminModule.register({ administrators: ['carol'] }) // GET /authz/policies, ...
   */
  static register(options: AuthzAdminOptions = {}): DynamicModule {
    const config = resolveAdminConfig(options);
    return {
      module: AuthzAdminModule,
      imports: [RouterModule.register([{ path: config.path, module: AuthzAdminModule }])],
      controllers: [PoliciesController, SubjectsController, RolesController, ResourcesController, AuditController, ...(config.console ? [ConsoleController] : [])],
      providers: [{ provide: AUTHZ_ADMIN_CONFIG, useValue: config }, PolicyAdmin, ETagWriter, AdminExceptionFilter, AdminBootstrap, AdminPlatformCheck, ConsoleFiles],
    };
  }
}
