import { PERMISSIONS_KEY } from '../authz.constants';
import { requirementDecorator } from './requirement';

/**
 * Requires permissions in the route's policy (`@Policy()`, else the module's `defaultPolicy`), asked of the
 * `PolicyService`: all of them (`@Permissions(...)`) or any one (`@Permissions.anyOf(...)`). A denial is 403
 * with a body naming the policy and the missing permissions. Class and handler requirements add up.
 *
 * @example
 * \@Policy('note')
 * \@Controller('notes')
 * export class NotesController {
 *   \@Permissions('CanRead') \@Get() list() {}
 *   \@Permissions.anyOf('CanDelete', 'CanModerate') \@Delete(':id') remove() {}
 * }
 */
export const Permissions = Object.assign((...permissions: string[]) => requirementDecorator(PERMISSIONS_KEY, 'all', permissions, '@Permissions'), {
  /** Requires at least one of the permissions. */
  anyOf: (...permissions: string[]) => requirementDecorator(PERMISSIONS_KEY, 'any', permissions, '@Permissions.anyOf'),
});
