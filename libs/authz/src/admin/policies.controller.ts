import { Body, Get, HttpCode, Put, Query, Res } from '@nestjs/common';
import { CurrentIdentity } from '../decorators/current-identity.decorator';
import type { AuthzIdentity } from '../identity/identity';
import type { PolicyDocument } from '../policy/policy-document';
import type { ExplainAnswer, PolicyAnswer, PolicyListAnswer, PolicyWriteAnswer, RolesAnswer, SubjectPageAnswer } from './admin-answers';
import { AdminController } from './admin-controller.decorator';
import { adminValidationPipe } from './admin-validation.pipe';
import { ExplainQueryDto } from './dto/explain-query.dto';
import { PolicyDocumentPipe } from './dto/policy-document.pipe';
import { SubjectsQueryDto } from './dto/subjects-query.dto';
import { ETagWriter } from './etag-writer';
import { IfMatch } from './if-match';
import { NameParam } from './name-param.pipe';
import { PolicyAdmin } from './policy-admin.service';

/**
 * Whole policies: list, read (with `ETag`), provision (create or replace), and explain a decision (type-wide, or
 * on one resource with `?resource=`, where the roles the subject holds on it count too). A policy's resource
 * grants are not part of its document: see `ResourcesController`.
 *
 * @example
 * GET /authz/policies/note → 200 { name, revision, document }, ETag: "7"
 * GET /authz/policies/note/roles → 200 { policy, revision, roles, identityRoles } (no subjects, for large policies)
 * GET /authz/policies/note/subjects?prefix=su&limit=50 → 200 { policy, revision, subjects: [...], next? }
 * GET /authz/policies/note/explain?subject=susan&permission=CanEdit&resource=42 → 200 { allowed: true, resource: "42", because: [...] }
 */
@AdminController('policies')
export class PoliciesController {
  constructor(
    private readonly admin: PolicyAdmin,
    private readonly etags: ETagWriter,
  ) {}

  @Get()
  list(): Promise<PolicyListAnswer> {
    return this.admin.list();
  }

  @Get(':policy')
  async get(@NameParam('policy') policy: string, @Res({ passthrough: true }) response: unknown): Promise<PolicyAnswer> {
    const answer = await this.admin.get(policy);
    this.etags.set(response, answer.revision);
    return answer;
  }

  @Put(':policy')
  @HttpCode(200)
  async put(
    @NameParam('policy') policy: string,
    @Body(PolicyDocumentPipe) document: PolicyDocument,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<PolicyWriteAnswer> {
    const outcome = await this.admin.putPolicy(policy, document, ifRevision, identity.subject);
    this.etags.set(response, outcome.revision);
    return { name: policy, ...outcome };
  }

  @Get(':policy/roles')
  async roles(@NameParam('policy') policy: string, @Res({ passthrough: true }) response: unknown): Promise<RolesAnswer> {
    const answer = await this.admin.roles(policy);
    this.etags.set(response, answer.revision);
    return answer;
  }

  @Get(':policy/subjects')
  subjects(@NameParam('policy') policy: string, @Query(adminValidationPipe) query: SubjectsQueryDto): Promise<SubjectPageAnswer> {
    return this.admin.subjects(policy, query);
  }

  @Get(':policy/explain')
  explain(@NameParam('policy') policy: string, @Query(adminValidationPipe) query: ExplainQueryDto): Promise<ExplainAnswer> {
    return this.admin.explain(policy, query.subject, query.permission, query.roles ?? [], query.resource);
  }
}
