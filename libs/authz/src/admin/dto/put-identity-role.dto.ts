import { IsNameListOf } from './name-rules';

/**
 * Body of `PUT /policies/:policy/identity-roles/:identityRole`: the roles of the policy that the identity role
 * (a role claim of the token) gives, replacing the ones it gave. Each role must be defined in the policy.
 *
 * @example
 * { "roles": ["moderator"] }
 */
export class PutIdentityRoleDto {
  @IsNameListOf('role')
  roles!: string[];
}
