import { SetMetadata } from '@nestjs/common';
import { POLICY_KEY } from '../authz.constants';
import { AuthzConfigurationError } from '../authz.exceptions';

/**
 * Names the policy that `@Permissions()` are checked in. On a handler it wins over the class; without either,
 * the module's `defaultPolicy` applies.
 *
 * @example
 * \@Policy('note')
 * \@Controller('notes')
 * export class NotesController {}
 */
export function Policy(policy: string): ClassDecorator & MethodDecorator {
  if (typeof policy !== 'string' || policy.trim() === '') {
    throw new AuthzConfigurationError('@Policy() was given an empty name.', "name the policy, e.g. @Policy('note').");
  }
  return SetMetadata(POLICY_KEY, policy);
}
