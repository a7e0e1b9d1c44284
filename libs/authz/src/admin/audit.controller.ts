import { Get, Query } from '@nestjs/common';
import type { AuditPageAnswer } from './admin-answers';
import { AdminController } from './admin-controller.decorator';
import { adminValidationPipe } from './admin-validation.pipe';
import { AuditQueryDto } from './dto/audit-query.dto';
import { PolicyAdmin } from './policy-admin.service';

/**
 * The audit trail: who changed what, when, before → after; oldest first, paged with `after` and `next`.
 *
 * @example
 * GET /authz/audit?policy=note&after=40&limit=2 → 200 { entries: [{ id: 41, ... }, { id: 42, ... }], next: 42 }
 */
@AdminController('audit')
export class AuditController {
  constructor(private readonly admin: PolicyAdmin) {}

  @Get()
  audit(@Query(adminValidationPipe) query: AuditQueryDto): Promise<AuditPageAnswer> {
    return this.admin.audit(query);
  }
}
