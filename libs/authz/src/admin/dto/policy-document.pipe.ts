import type { PipeTransform } from '@nestjs/common';
import { checkPolicyDocument, InvalidPolicyError, type PolicyDocument } from '../../policy/policy-document';
import { MAX_LIST_ITEMS } from '../admin.constants';

/**
 * Checks the body of `PUT /policies/:policy` with the library's own rules ({@link checkPolicyDocument}) plus a
 * bound on list sizes, and hands on the normalised document. A problem is an {@link InvalidPolicyError} naming
 * the field, which the admin API answers with 400.
 *
 * @example
 * \@Put(':policy') put(@Body(PolicyDocumentPipe) document: Required<PolicyDocument>) {}
 */
export class PolicyDocumentPipe implements PipeTransform<unknown, Required<PolicyDocument>> {
  transform(body: unknown): Required<PolicyDocument> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new InvalidPolicyError('body', 'must be a JSON object with roles, subjects and identityRoles');
    }
    const document = checkPolicyDocument(body);
    // The shape is known to be right now; the lists are bounded before anything is written.
    const raw = body as PolicyDocument;
    for (const [role, permissions] of Object.entries(raw.roles ?? {})) checkSize(permissions, `roles.${role}`);
    for (const [subject, grants] of Object.entries(raw.subjects ?? {})) {
      checkSize(grants.roles, `subjects.${subject}.roles`);
      checkSize(grants.permissions, `subjects.${subject}.permissions`);
    }
    for (const [identityRole, roles] of Object.entries(raw.identityRoles ?? {})) checkSize(roles, `identityRoles.${identityRole}`);
    return document;
  }
}

function checkSize(list: readonly unknown[] | undefined, field: string): void {
  if (list && list.length > MAX_LIST_ITEMS) throw new InvalidPolicyError(field, `must hold at most ${MAX_LIST_ITEMS} items, not ${list.length}`);
}
