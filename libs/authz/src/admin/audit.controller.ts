import { Get, Query } from '@nestjs/common';
import type { AuditPageAnswer } from './admin-answers';
import { AdminController } from './admin-controller.decorator';
import { adminValidationPipe } from './admin-validation.pipe';
import { AuditQueryDto } from './dto/audit-query.dto';
import { PolicyAdmin } from './policy-admin.service';

/**
 * The audit trail: who changed what, when, before → after; oldest first, paged with `after` and `next`, filtered
 * by `policy`, `subject` and/or `resource` (a resource's grants: target `{ resource, subject }` for a grant or
 * revoke, `{ resource }` when every grant on it was dropped).
 *
 * @example
 * GET /authz/audit?policy=note&after=40&limit=2 → 200 { entries: [{ id: 41, ... }, { id: 42, ... }], next: 42 }
 * GET /authz/audit?policy=note&resource=42 → 200 { entries: [{ action: "grant-resource-role", target: { resource: "42", subject: "susan" }, ... }] }
 */
@AdminController('audit')
export class AuditController {
  constructor(private readonly admin: PolicyAdmin) {}

  @Get()
  audit(@Query(adminValidationPipe) query: AuditQueryDto): Promise<AuditPageAnswer> {
    return this.admin.audit(query);
  }
}
