import { Delete, Get, HttpCode, Put, Res } from '@nestjs/common';
import { CurrentIdentity } from '../decorators/current-identity.decorator';
import type { AuthzIdentity } from '../identity/identity';
import type { SubjectGrantsAnswer } from './admin-answers';
import { AdminController } from './admin-controller.decorator';
import { ETagWriter } from './etag-writer';
import { IfMatch } from './if-match';
import { NameParam } from './name-param.pipe';
import { PolicyAdmin, type AdminEdit } from './policy-admin.service';

/**
 * One subject's grants in a policy: read them, grant and revoke roles and direct permissions. Writes are
 * idempotent (granting what is held changes nothing) and answer 204 with the policy's `ETag`.
 *
 * @example
 * PUT /authz/policies/note/subjects/susan/roles/reader → 204, ETag: "8"
 */
@AdminController('policies/:policy/subjects/:subject')
export class SubjectsController {
  constructor(
    private readonly admin: PolicyAdmin,
    private readonly etags: ETagWriter,
  ) {}

  @Get()
  async get(@NameParam('policy') policy: string, @NameParam('subject') subject: string, @Res({ passthrough: true }) response: unknown): Promise<SubjectGrantsAnswer> {
    const answer = await this.admin.subject(policy, subject);
    this.etags.set(response, answer.revision);
    return answer;
  }

  @Put('roles/:role')
  @HttpCode(204)
  grantRole(
    @NameParam('policy') policy: string,
    @NameParam('subject') subject: string,
    @NameParam('role') role: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'grant-role', policy, subject, role }, ifRevision, identity, response);
  }

  @Delete('roles/:role')
  @HttpCode(204)
  revokeRole(
    @NameParam('policy') policy: string,
    @NameParam('subject') subject: string,
    @NameParam('role') role: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'revoke-role', policy, subject, role }, ifRevision, identity, response);
  }

  @Put('permissions/:permission')
  @HttpCode(204)
  grantPermission(
    @NameParam('policy') policy: string,
    @NameParam('subject') subject: string,
    @NameParam('permission') permission: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'grant-permission', policy, subject, permission }, ifRevision, identity, response);
  }

  @Delete('permissions/:permission')
  @HttpCode(204)
  revokePermission(
    @NameParam('policy') policy: string,
    @NameParam('subject') subject: string,
    @NameParam('permission') permission: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'revoke-permission', policy, subject, permission }, ifRevision, identity, response);
  }

  private async write(edit: AdminEdit, ifRevision: number | undefined, identity: AuthzIdentity, response: unknown): Promise<void> {
    const { revision } = await this.admin.write(edit, ifRevision, identity.subject);
    this.etags.set(response, revision);
  }
}
