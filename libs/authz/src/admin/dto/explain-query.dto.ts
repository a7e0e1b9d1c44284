import { IfPresent, IsNameListOf, IsNameOf } from './name-rules';
import { CommaSeparated } from './query-values';

/**
 * Query of `GET /policies/:policy/explain`: which subject, which permission (`'*'` asks about grants of every
 * permission), and optionally the identity roles its token would carry, comma-separated.
 *
 * @example
 * GET /authz/policies/note/explain?subject=susan&permission=CanRead&roles=notes-admin,staff
 */
export class ExplainQueryDto {
  @IsNameOf('subject')
  subject!: string;

  @IsNameOf('permission')
  permission!: string;

  @IfPresent()
  @CommaSeparated()
  @IsNameListOf('identity role')
  roles?: string[];
}
