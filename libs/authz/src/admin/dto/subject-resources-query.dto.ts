import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from '../admin.constants';
import { IfPresent, IsNameOf } from './name-rules';
import { DigitsToNumber, IsIntegerBetween } from './query-values';

/**
 * Query of `GET /policies/:policy/subjects/:subject/resources`: the subject's resources by id in code-point order,
 * after the resource `after` (the last one seen, the previous page's `next`), at most `limit` (default 100, at
 * most 1000).
 *
 * @example
 * GET /authz/policies/note/subjects/susan/resources?after=42&limit=50
 */
export class SubjectResourcesQueryDto {
  @IfPresent()
  @IsNameOf('resource')
  after?: string;

  @IfPresent()
  @DigitsToNumber()
  @IsIntegerBetween(1, MAX_PAGE_LIMIT)
  limit: number = DEFAULT_PAGE_LIMIT;
}
