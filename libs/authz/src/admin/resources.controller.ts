import { Delete, Get, HttpCode, Put, Query, Res } from '@nestjs/common';
import { CurrentIdentity } from '../decorators/current-identity.decorator';
import type { AuthzIdentity } from '../identity/identity';
import type { ResourceGrantsAnswer, SubjectResourcesAnswer } from './admin-answers';
import { AdminController } from './admin-controller.decorator';
import { adminValidationPipe } from './admin-validation.pipe';
import { SubjectResourcesQueryDto } from './dto/subject-resources-query.dto';
import { ETagWriter } from './etag-writer';
import { IfMatch } from './if-match';
import { NameParam } from './name-param.pipe';
import { PolicyAdmin, type AdminEdit } from './policy-admin.service';

/**
 * A policy's resource grants: roles a subject holds on one resource (e.g. the owner of note 42), giving their
 * permissions on that resource only. Read who holds what on a resource (with the policy's `ETag`), grant and revoke
 * a role on it, drop every grant on it (when the record is deleted), and page through the resources a subject holds
 * roles on. Writes are idempotent (granting what is held changes nothing), honour `If-Match` and answer 204 with
 * the policy's `ETag`; the role must be defined in the policy (404 otherwise).
 *
 * @example
 * PUT /authz/policies/note/resources/42/subjects/susan/roles/owner → 204, ETag: "9"
 * GET /authz/policies/note/resources/42 → 200 { policy: "note", resource: "42", revision: 9, subjects: { susan: ["owner"] } }
 * GET /authz/policies/note/subjects/susan/resources?limit=50 → 200 { policy, subject, resources: [{ resource: "42", roles: ["owner"] }] }
 */
@AdminController('policies/:policy')
export class ResourcesController {
  constructor(
    private readonly admin: PolicyAdmin,
    private readonly etags: ETagWriter,
  ) {}

  @Get('resources/:resource')
  async get(@NameParam('policy') policy: string, @NameParam('resource') resource: string, @Res({ passthrough: true }) response: unknown): Promise<ResourceGrantsAnswer> {
    const answer = await this.admin.resource(policy, resource);
    this.etags.set(response, answer.revision);
    return answer;
  }

  @Put('resources/:resource/subjects/:subject/roles/:role')
  @HttpCode(204)
  grantRole(
    @NameParam('policy') policy: string,
    @NameParam('resource') resource: string,
    @NameParam('subject') subject: string,
    @NameParam('role') role: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'grant-resource-role', policy, resource, subject, role }, ifRevision, identity, response);
  }

  @Delete('resources/:resource/subjects/:subject/roles/:role')
  @HttpCode(204)
  revokeRole(
    @NameParam('policy') policy: string,
    @NameParam('resource') resource: string,
    @NameParam('subject') subject: string,
    @NameParam('role') role: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'revoke-resource-role', policy, resource, subject, role }, ifRevision, identity, response);
  }

  @Delete('resources/:resource')
  @HttpCode(204)
  deleteResource(
    @NameParam('policy') policy: string,
    @NameParam('resource') resource: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'delete-resource', policy, resource }, ifRevision, identity, response);
  }

  @Get('subjects/:subject/resources')
  subjectResources(@NameParam('policy') policy: string, @NameParam('subject') subject: string, @Query(adminValidationPipe) query: SubjectResourcesQueryDto): Promise<SubjectResourcesAnswer> {
    return this.admin.subjectResources(policy, subject, query);
  }

  private async write(edit: AdminEdit, ifRevision: number | undefined, identity: AuthzIdentity, response: unknown): Promise<void> {
    const { revision } = await this.admin.write(edit, ifRevision, identity.subject);
    this.etags.set(response, revision);
  }
}
