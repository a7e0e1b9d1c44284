import { Body, Delete, HttpCode, Put, Res } from '@nestjs/common';
import { CurrentIdentity } from '../decorators/current-identity.decorator';
import type { AuthzIdentity } from '../identity/identity';
import { AdminController } from './admin-controller.decorator';
import { adminValidationPipe } from './admin-validation.pipe';
import { PutIdentityRoleDto } from './dto/put-identity-role.dto';
import { PutRoleDto } from './dto/put-role.dto';
import { ETagWriter } from './etag-writer';
import { IfMatch } from './if-match';
import { NameParam } from './name-param.pipe';
import { PolicyAdmin, type AdminEdit } from './policy-admin.service';

/**
 * A policy's roles (name → permissions) and identity-role mapping (identity role → roles). Writes answer 204
 * with the policy's `ETag`; deleting a role that subjects hold or identity roles give is a 409.
 *
 * @example
 * PUT /authz/policies/note/roles/reader { "permissions": ["CanRead"] } → 204, ETag: "9"
 */
@AdminController('policies/:policy')
export class RolesController {
  constructor(
    private readonly admin: PolicyAdmin,
    private readonly etags: ETagWriter,
  ) {}

  @Put('roles/:role')
  @HttpCode(204)
  putRole(
    @NameParam('policy') policy: string,
    @NameParam('role') role: string,
    @Body(adminValidationPipe) body: PutRoleDto,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'put-role', policy, role, permissions: body.permissions }, ifRevision, identity, response);
  }

  @Delete('roles/:role')
  @HttpCode(204)
  deleteRole(
    @NameParam('policy') policy: string,
    @NameParam('role') role: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'delete-role', policy, role }, ifRevision, identity, response);
  }

  @Put('identity-roles/:identityRole')
  @HttpCode(204)
  putIdentityRole(
    @NameParam('policy') policy: string,
    @NameParam('identityRole') identityRole: string,
    @Body(adminValidationPipe) body: PutIdentityRoleDto,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'put-identity-role', policy, identityRole, roles: body.roles }, ifRevision, identity, response);
  }

  @Delete('identity-roles/:identityRole')
  @HttpCode(204)
  deleteIdentityRole(
    @NameParam('policy') policy: string,
    @NameParam('identityRole') identityRole: string,
    @IfMatch() ifRevision: number | undefined,
    @CurrentIdentity() identity: AuthzIdentity,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<void> {
    return this.write({ kind: 'delete-identity-role', policy, identityRole }, ifRevision, identity, response);
  }

  private async write(edit: AdminEdit, ifRevision: number | undefined, identity: AuthzIdentity, response: unknown): Promise<void> {
    const { revision } = await this.admin.write(edit, ifRevision, identity.subject);
    this.etags.set(response, revision);
  }
}
