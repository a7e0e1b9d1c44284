import { IsNameListOf } from './name-rules';

/**
 * Body of `PUT /policies/:policy/roles/:role`: the role's permissions, replacing the ones it had (`'*'` grants
 * every permission of the policy).
 *
 * @example
 * { "permissions": ["CanRead", "CanComment"] }
 */
export class PutRoleDto {
  @IsNameListOf('permission')
  permissions!: string[];
}
