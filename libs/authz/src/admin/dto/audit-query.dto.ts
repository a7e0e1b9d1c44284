import { DEFAULT_AUDIT_LIMIT, MAX_AUDIT_LIMIT } from '../admin.constants';
import { IsIn } from 'class-validator';
import { IfPresent, IsNameOf } from './name-rules';
import { DigitsToNumber, IsIntegerBetween } from './query-values';

/**
 * Query of `GET /audit`: entries oldest first, after the id `after` (the last one seen), or with
 * `order=newest-first` newest first, before the id `before`; at most `limit` (default 100, at most 1000),
 * optionally of one policy, one subject and/or one resource (its grants: granted, revoked, deleted).
 *
 * @example
 * GET /authz/audit?policy=note&subject=susan&after=120&limit=50
 * GET /authz/audit?policy=note&resource=42
 * GET /authz/audit?order=newest-first&before=120
 */
export class AuditQueryDto {
  @IfPresent()
  @IsNameOf('policy')
  policy?: string;

  @IfPresent()
  @IsNameOf('subject')
  subject?: string;

  @IfPresent()
  @IsNameOf('resource')
  resource?: string;

  @IfPresent()
  @IsIn(['oldest-first', 'newest-first'], { message: 'order must be oldest-first or newest-first' })
  order?: 'oldest-first' | 'newest-first';

  @IfPresent()
  @DigitsToNumber()
  @IsIntegerBetween(0, Number.MAX_SAFE_INTEGER)
  after?: number;

  @IfPresent()
  @DigitsToNumber()
  @IsIntegerBetween(1, Number.MAX_SAFE_INTEGER)
  before?: number;

  @IfPresent()
  @DigitsToNumber()
  @IsIntegerBetween(1, MAX_AUDIT_LIMIT)
  limit: number = DEFAULT_AUDIT_LIMIT;
}
