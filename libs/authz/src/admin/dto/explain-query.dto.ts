import { IfPresent, IsNameListOf, IsNameOf } from './name-rules';
import { CommaSeparated } from './query-values';

/**
 * Query of `GET /policies/:policy/explain`: which subject, which permission (`'*'` asks about grants of every
 * permission), optionally the identity roles its token would carry, comma-separated, and optionally the resource
 * the permission is asked on (then the roles the subject holds on it count too).
 *
 * @example
 * GET /authz/policies/note/explain?subject=susan&permission=CanRead&roles=notes-admin,staff
 * GET /authz/policies/note/explain?subject=susan&permission=CanEdit&resource=42
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

  @IfPresent()
  @IsNameOf('resource')
  resource?: string;
}
