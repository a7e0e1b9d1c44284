import type { PolicyDocument } from 'nestjs-authz';

export const notePolicy: PolicyDocument = {
  roles: { reader: ['CanRead'], writer: ['CanRead', 'CanWrite'], moderator: ['CanRead', 'CanReadConfidentialNotes', 'CanWrite', 'CanDelete', 'CanModerate'] },
  subjects: { susan: { roles: ['reader'], permissions: ['CanReadConfidentialNotes'] }, alice: { roles: ['writer'] } },
  identityRoles: { 'notes-admin': ['moderator'] },
};
