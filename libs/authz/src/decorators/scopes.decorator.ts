import { SCOPES_KEY } from '../authz.constants';
import { requirementDecorator } from './requirement';

/**
 * Requires OAuth scopes the user delegated to the client: all of them (`@Scopes(...)`) or any one
 * (`@Scopes.anyOf(...)`). A token without them gets 403 `insufficient_scope` with the scopes in the challenge.
 * Class and handler requirements add up.
 *
 * @example
 * \@Scopes('notes:read')
 * \@Controller('notes')
 * export class NotesController {
 *   \@Scopes.anyOf('notes:write', 'notes:admin')
 *   \@Post() create() {}
 * }
 */
export const Scopes = Object.assign((...scopes: string[]) => requirementDecorator(SCOPES_KEY, 'all', scopes, '@Scopes'), {
  /** Requires at least one of the scopes. */
  anyOf: (...scopes: string[]) => requirementDecorator(SCOPES_KEY, 'any', scopes, '@Scopes.anyOf'),
});
