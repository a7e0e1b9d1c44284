import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../admin.constants';
import { IfPresent, IsNameOf } from './name-rules';
import { DigitsToNumber, IsIntegerBetween } from './query-values';

/**
 * Query of `GET /policies/:policy/subjects`: the subjects holding type-wide grants, in code-unit order, whose name
 * starts with `prefix` (a search), after the subject `after` (the previous page's `next`), at most `limit`
 * (default 100, at most 1000).
 *
 * @example
 * GET /authz/policies/note/subjects?prefix=su&limit=50
 * GET /authz/policies/note/subjects?after=susan
 */
export class SubjectsQueryDto {
  @IfPresent()
  @IsNameOf('subject')
  prefix?: string;

  @IfPresent()
  @IsNameOf('subject')
  after?: string;

  @IfPresent()
  @DigitsToNumber()
  @IsIntegerBetween(1, MAX_PAGE_LIMIT)
  limit: number = DEFAULT_PAGE_LIMIT;
}
