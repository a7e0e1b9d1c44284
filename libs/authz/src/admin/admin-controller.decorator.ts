import { applyDecorators, Controller, UseFilters, UseGuards } from '@nestjs/common';
import { Permissions } from '../decorators/permissions.decorator';
import { Policy } from '../decorators/policy.decorator';
import { Scopes } from '../decorators/scopes.decorator';
import { AuthzGuard } from '../guards/authz.guard';
import { ADMIN_PERMISSION, ADMIN_POLICY, ADMIN_SCOPE } from './admin.constants';
import { AdminExceptionFilter } from './admin-exception.filter';

/**
 * An admin API controller: guarded by {@link AuthzGuard} itself (even when the app has no `APP_GUARD`; with one,
 * the guard simply runs twice), requiring the scope `authz:admin` and the permission `CanAdminister` of policy
 * `authz`, with the admin API's exception filter.
 *
 * @example
 * \@AdminController('policies')
 * export class PoliciesController {}
 */
export const AdminController = (path: string): ClassDecorator =>
  applyDecorators(
    Controller(path),
    UseGuards(AuthzGuard),
    Scopes(ADMIN_SCOPE),
    Policy(ADMIN_POLICY),
    Permissions(ADMIN_PERMISSION),
    UseFilters(AdminExceptionFilter),
  );
